// SPDX-License-Identifier: GPL-2.0-or-later
// See dialog.h. A dialog's key is its Call-ID and its two tags in sorted order, so one look-up finds it
// from either side; the key is hashed once per message into a 128-bit fingerprint (flat_index.h) and
// dialogs and origins are pooled, so a steady state allocates nothing per message. The creating
// requests ("origins") are kept per transaction with the dialogs they created (their forks), and, for
// SUBSCRIBE and REFER, by Call-ID and From tag so that a NOTIFY can create the subscription's dialog
// when its To tag is that From tag (RFC 6665 section 4.4.1) and never merely because the Call-ID matches.
#include "sipsleuth/core/sip/dialog.h"

#include <algorithm>
#include <cstring>

#include "sipsleuth/core/text.h"

namespace sipsleuth::core::sip {
namespace {

// A method or CSeq method equal to a literal: a length check and an inline compare (operator== with a
// C string calls strlen and compare() out of line, several times per message).
template <std::size_t N>
inline bool is(std::string_view s, const char (&lit)[N]) {
    return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

bool creating_method(std::string_view method, DialogUsage& usage) {
    if (is(method, "INVITE")) {
        usage = DialogUsage::invite;
    } else if (is(method, "SUBSCRIBE")) {
        usage = DialogUsage::subscribe;
    } else if (is(method, "REFER")) {
        usage = DialogUsage::refer;  // RFC 3515 section 2.4.4: an implicit subscription
    } else {
        return false;
    }
    return true;
}

// "type;id" of an Event header, the type lower case (RFC 6665 section 8.2.1: event types are
// case-insensitive tokens, the id compared as sent); "" without the header.
void event_key(const std::optional<std::string>& event, std::string& out) {
    out.clear();
    if (!event) return;
    const std::string_view v = *event;
    std::size_t semi = v.find(';');
    const std::string_view type = trim(v.substr(0, semi));
    out.assign(type.data(), type.size());
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    while (semi != std::string_view::npos) {
        const std::size_t next = v.find(';', semi + 1);
        const std::string_view p = trim(v.substr(semi + 1, next == std::string_view::npos ? next : next - semi - 1));
        if (p.size() > 3 && iequals(p.substr(0, 3), "id=")) {
            out.push_back(';');
            out.append(trim(p.substr(3)));
            break;
        }
        semi = next;
    }
}

bool notify_matches(const std::string& origin_event, DialogUsage usage, const Message& notify, std::string& got) {
    event_key(notify.event, got);
    if (usage == DialogUsage::refer) return got.compare(0, 5, "refer") == 0;  // id is the REFER's CSeq
    return got == origin_event;
}

// The dialog key: Call-ID and the two tags in a fixed order, shorter first, then by bytes (found from
// either side; the length decides most pairs without comparing bytes).
detail::Fingerprint dialog_key(std::string_view call_id, std::string_view a, std::string_view b) {
    if (b.size() < a.size() || (b.size() == a.size() && std::memcmp(b.data(), a.data(), a.size()) < 0)) std::swap(a, b);
    return detail::Hasher().add(call_id).add(a).add(b).done();
}

detail::Fingerprint tag_key(std::string_view call_id, std::string_view tag) {
    return detail::Hasher().add(std::uint64_t{1}).add(call_id).add(tag).done();
}

template <class T>
void assign(std::string& dst, const T& src) {
    dst.assign(src.data(), src.size());
}

bool terminated_state(const std::optional<std::string>& state) {
    return state && state->size() >= 10 && iequals(std::string_view(*state).substr(0, 10), "terminated");
}

// Into a reused DialogEvidence, keeping its strings' capacity.
void evidence_of(const Message& m, DialogEvidence& e) {
    e.message = {m.frame, m.index, m.time};
    e.status = m.request ? 0 : m.status;
    if (!m.contacts.empty())
        assign(e.contact, m.contacts.front().uri);
    else
        e.contact.clear();
    e.record_route.resize(m.record_route.size());
    for (std::size_t i = 0; i < m.record_route.size(); ++i) assign(e.record_route[i], m.record_route[i]);
    e.via_count = m.via_count;
    assign(e.via_host, m.via.host);
    e.via_port = m.via.port;
}

}  // namespace

bool distinct_endpoints(const Dialog& a, const Dialog& b) {
    const DialogEvidence& x = a.created;
    const DialogEvidence& y = b.created;
    if (!x.contact.empty() && !y.contact.empty() && !iequals(x.contact, y.contact)) return true;
    if (x.record_route.size() != y.record_route.size()) return true;
    for (std::size_t i = 0; i < x.record_route.size(); ++i)
        if (!iequals(x.record_route[i], y.record_route[i])) return true;
    return false;
}

DialogLayer::DialogLayer(DialogLimits limits) : limits_(limits) {}

DialogLayer::Entry* DialogLayer::entry(DialogId id) const {
    const std::uint32_t slot = dialog_by_id_.find(detail::id_key(id));
    return slot == 0 ? nullptr : &dialog_pool_[slot - 1];
}

DialogLayer::Origin* DialogLayer::origin(TxnId txn) const {
    const std::uint32_t slot = origin_by_txn_.find(detail::id_key(txn));
    return slot == 0 ? nullptr : &origin_pool_[slot - 1];
}

const Dialog* DialogLayer::find(DialogId id) const {
    const Entry* e = entry(id);
    return e == nullptr ? nullptr : &e->dialog;
}

const Dialog* DialogLayer::find(std::string_view call_id, std::string_view tag_a, std::string_view tag_b) const {
    ++work_;
    const std::uint32_t slot = by_key_.find(dialog_key(call_id, tag_a, tag_b));
    return slot == 0 ? nullptr : &dialog_pool_[slot - 1].dialog;
}

std::vector<Dialog> DialogLayer::forks(TxnId origin_txn) const {
    std::vector<Dialog> out;
    const Origin* o = origin(origin_txn);
    if (o == nullptr) return out;
    for (DialogId id : o->dialogs)
        if (const Dialog* d = find(id)) out.push_back(*d);
    return out;
}

DialogLayer::Entry* DialogLayer::lookup(const detail::Fingerprint& key) {
    ++work_;
    const std::uint32_t slot = by_key_.find(key);
    return slot == 0 ? nullptr : &dialog_pool_[slot - 1];
}

void DialogLayer::schedule(Entry& e, Nanos t) {
    Dialog& d = e.dialog;
    d.last_activity = std::max(d.last_activity, t);
    Nanos at = 0;
    switch (d.state) {
    case DialogState::early: at = d.last_activity + limits_.early_linger; break;
    case DialogState::confirmed: at = d.last_activity + limits_.idle; break;
    case DialogState::terminated: at = d.terminated.time + limits_.linger; break;
    }
    if (at == e.forget_at) return;
    e.forget_at = at;
    expiry_.push(static_cast<std::size_t>(d.state), at, d.id);
    expiry_.compact(
        dialogs_live_,
        [&](DialogId id, Nanos when) {
            const Entry* x = entry(id);
            return x != nullptr && x->forget_at == when;
        },
        work_);
}

void DialogLayer::schedule(Origin& o, Nanos at, bool final) {
    if (at == o.forget_at) return;
    o.forget_at = at;
    origin_expiry_.push(final ? 1 : 0, at, o.txn);
    origin_expiry_.compact(
        origins_live_,
        [&](TxnId id, Nanos when) {
            const Origin* x = origin(id);
            return x != nullptr && x->forget_at == when;
        },
        work_);
}

void DialogLayer::expire(Nanos now) {
    expiry_.expire(
        now,
        [&](DialogId id, Nanos at) {
            const std::uint32_t found = dialog_by_id_.find(detail::id_key(id));  // slot + 1
            if (found == 0 || dialog_pool_[found - 1].forget_at != at) return;
            const std::uint32_t slot = found - 1;
            Entry* e = &dialog_pool_[slot];
            by_key_.erase(e->key, slot + 1);
            dialog_by_id_.erase(detail::id_key(id), slot + 1);
            e->dialog.id = 0;
            dialog_free_.push_back(slot);
            --dialogs_live_;
        },
        work_);
    origin_expiry_.expire(
        now,
        [&](TxnId id, Nanos at) {
            const std::uint32_t found = origin_by_txn_.find(detail::id_key(id));  // slot + 1
            if (found == 0 || origin_pool_[found - 1].forget_at != at) return;
            const std::uint32_t slot = found - 1;
            Origin* o = &origin_pool_[slot];
            if (o->by_tag) by_tag_.erase(o->tag_key, id);
            origin_by_txn_.erase(detail::id_key(id), slot + 1);
            o->txn = 0;
            origin_free_.push_back(slot);
            --origins_live_;
        },
        work_);
}

DialogLayer::Entry* DialogLayer::create(const Message& m, Origin* origin, DialogUsage usage, std::string_view uac_tag,
                                        std::string_view uas_tag, const detail::Fingerprint& key, DialogVerdict& v) {
    if (dialogs_live_ >= limits_.max_dialogs || (origin && origin->dialogs.size() >= limits_.max_forks)) {
        overflowed_ = true;
        v.full = true;
        return nullptr;
    }
    std::uint32_t slot;
    if (!dialog_free_.empty()) {
        slot = dialog_free_.back();
        dialog_free_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(dialog_pool_.size());
        dialog_pool_.emplace_back();  // moves no entry (nor any origin: `origin` stays valid)
    }
    Entry& e = dialog_pool_[slot];
    const DialogId id = next_id_++;
    Dialog& d = e.dialog;
    d.id = id;
    d.usage = usage;
    d.state = DialogState::early;
    assign(d.call_id, m.call_id);
    assign(d.uac_tag, uac_tag);
    assign(d.uas_tag, uas_tag);
    d.origin = 0;
    d.request = MessageRef();
    evidence_of(m, d.created);
    d.confirmed = MessageRef();
    d.terminated = MessageRef();
    d.last_activity = 0;
    e.forget_at = 0;
    if (origin) {
        d.origin = origin->txn;
        d.request = origin->request;
        origin->dialogs.push_back(id);
        v.fork = static_cast<std::uint32_t>(origin->dialogs.size());
        v.forks = v.fork;
    }
    e.key = key;
    ++dialogs_live_;
    ++work_;
    dialog_by_id_.put(detail::id_key(id), slot + 1);
    by_key_.put(key, slot + 1);
    schedule(e, m.time);
    v.id = id;
    v.created = true;
    v.origin = d.origin;
    return &e;
}

DialogVerdict DialogLayer::on_message(const Message& m, const TxnVerdict& txn) {
    expire(m.time);
    DialogVerdict v;
    if (m.call_id.empty() || m.from.tag.empty()) return v;
    const MessageRef ref{m.frame, m.index, m.time};
    DialogUsage usage = DialogUsage::invite;
    const bool creating = creating_method(m.txn_method(), usage);
    Origin* origin = txn.id != 0 ? this->origin(txn.id) : nullptr;

    if (origin != nullptr && !m.request) {
        // Kept while its transaction may still bring forks: until 64*T1 after a final response.
        const bool final = m.status >= 200;
        const Nanos keep = m.time + (final ? limits_.linger : limits_.early_linger);
        schedule(*origin, final ? keep : std::max(origin->forget_at, keep), final);
    }

    if (m.request && m.to.tag.empty()) {
        // An out-of-dialog request: a dialog-creating one is remembered as the origin of its forks.
        if (!creating || txn.id == 0 || origin != nullptr) return v;
        if (origins_live_ >= limits_.max_origins) {
            overflowed_ = true;
            v.full = true;
            return v;
        }
        std::uint32_t slot;
        if (!origin_free_.empty()) {
            slot = origin_free_.back();
            origin_free_.pop_back();
        } else {
            slot = static_cast<std::uint32_t>(origin_pool_.size());
            origin_pool_.emplace_back();
        }
        Origin& o = origin_pool_[slot];
        o.txn = txn.id;
        o.usage = usage;
        o.request = txn.first.known() ? txn.first : ref;
        o.dialogs.clear();
        o.forget_at = 0;
        o.by_tag = usage != DialogUsage::invite;
        if (o.by_tag) {
            event_key(m.event, o.event);
            o.tag_key = tag_key(m.call_id, m.from.tag);
            by_tag_.put(o.tag_key, txn.id);
        } else {
            o.event.clear();
        }
        ++origins_live_;
        origin_by_txn_.put(detail::id_key(txn.id), slot + 1);
        schedule(o, m.time + limits_.early_linger, false);
        return v;
    }
    if (m.to.tag.empty()) return v;  // a response without To tag (100 Trying) is in no dialog

    const detail::Fingerprint key = dialog_key(m.call_id, m.from.tag, m.to.tag);
    if (Entry* e = lookup(key)) {
        Dialog& d = e->dialog;
        v.id = d.id;
        v.origin = d.origin;
        if (const Origin* o = d.origin != 0 ? this->origin(d.origin) : nullptr)
            v.forks = static_cast<std::uint32_t>(o->dialogs.size());
        const bool from_origin = txn.id != 0 && txn.id == d.origin;
        if (m.request) {
            if (is(m.method, "NOTIFY") && d.state == DialogState::early) {
                d.state = DialogState::confirmed;
                d.confirmed = ref;
                v.confirmed = true;
            }
            if (is(m.method, "NOTIFY") && terminated_state(m.subscription_state) && d.state != DialogState::terminated) {
                d.state = DialogState::terminated;
                d.terminated = ref;
                v.terminated = true;
            }
        } else if (from_origin && m.status >= 200 && m.status < 300 && d.state == DialogState::early) {
            d.state = DialogState::confirmed;
            d.confirmed = ref;
            v.confirmed = true;
        } else if (!from_origin && d.state != DialogState::terminated && !is(m.cseq_method, "CANCEL") &&
                   !is(m.cseq_method, "ACK") &&
                   ((is(m.cseq_method, "BYE") && m.status >= 200 && m.status < 300) || m.status == 481 || m.status == 408)) {
            // RFC 3261 section 15.1.2 (BYE) and 12.2.1.2 (481 or 408 to a request within the dialog).
            d.state = DialogState::terminated;
            d.terminated = ref;
            v.terminated = true;
        }
        if (origin && from_origin) {
            for (std::size_t i = 0; i < origin->dialogs.size(); ++i)
                if (origin->dialogs[i] == d.id) v.fork = static_cast<std::uint32_t>(i + 1);
        }
        schedule(*e, m.time);
        if (!m.request && from_origin && m.status >= 300) {
            // fall through to the non-2xx rule below: the early dialogs of the request end
        } else {
            return v;
        }
    }

    if (m.request) {
        if (!is(m.method, "NOTIFY")) {
            v.unmatched = true;
            return v;
        }
        // RFC 6665 section 4.4.1: a NOTIFY whose To tag is a pending SUBSCRIBE's From tag, with the same
        // Call-ID and Event, creates the subscription's dialog (the 2xx may come later, or never).
        ++work_;
        Origin* sub = nullptr;
        if (const TxnId k = by_tag_.find(tag_key(m.call_id, m.to.tag)); k != 0) {
            Origin* o = this->origin(k);
            if (o != nullptr && notify_matches(o->event, o->usage, m, event_)) sub = o;
        }
        if (sub == nullptr) {
            v.unmatched = true;
            return v;
        }
        Entry* e = create(m, sub, sub->usage, m.to.tag, m.from.tag, key, v);
        if (e == nullptr) return v;
        e->dialog.state = DialogState::confirmed;
        e->dialog.confirmed = ref;
        v.confirmed = true;
        if (terminated_state(m.subscription_state)) {
            e->dialog.state = DialogState::terminated;
            e->dialog.terminated = ref;
            v.terminated = true;
        }
        schedule(*e, m.time);
        return v;
    }

    // A response with a To tag matching no dialog (or a non-2xx final of the creating transaction).
    if (is(m.cseq_method, "CANCEL")) return v;  // RFC 3261 section 16.10: the proxy's own To tag, no dialog
    if (!creating || (txn.request_seen && txn.request_in_dialog && origin == nullptr)) {
        if (v.id == 0) v.unmatched = true;
        return v;
    }
    if (m.status >= 300) {
        // A non-2xx final to the initial request ends its early dialogs (RFC 3261 section 12.3).
        if (origin == nullptr) return v;
        for (DialogId id : origin->dialogs) {
            Entry* x = entry(id);
            if (x == nullptr || x->dialog.state != DialogState::early) continue;
            x->dialog.state = DialogState::terminated;
            x->dialog.terminated = ref;
            schedule(*x, m.time);
            v.terminated = true;
        }
        return v;
    }
    if (m.status <= 100) return v;
    Entry* e = create(m, origin, usage, m.from.tag, m.to.tag, key, v);
    if (e == nullptr) return v;
    if (m.status >= 200) {
        e->dialog.state = DialogState::confirmed;
        e->dialog.confirmed = ref;
        v.confirmed = true;
        schedule(*e, m.time);
    }
    return v;
}

}  // namespace sipsleuth::core::sip
