// SPDX-License-Identifier: GPL-2.0-or-later
// See dialog.h. A dialog's key is its Call-ID and its two tags in sorted order, so one look-up finds it
// from either side; the key is built in a reused string (no allocation per message). The creating
// requests ("origins") are kept per transaction with the dialogs they created (their forks), and, for
// SUBSCRIBE and REFER, by Call-ID and From tag so that a NOTIFY can create the subscription's dialog
// when its To tag is that From tag (RFC 6665 section 4.4.1) and never merely because the Call-ID matches.
#include "sipsleuth/core/sip/dialog.h"

#include <algorithm>

#include "sipsleuth/core/text.h"

namespace sipsleuth::core::sip {
namespace {

constexpr char kSep = '\x1f';

bool creating_method(std::string_view method, DialogUsage& usage) {
    if (method == "INVITE") {
        usage = DialogUsage::invite;
    } else if (method == "SUBSCRIBE") {
        usage = DialogUsage::subscribe;
    } else if (method == "REFER") {
        usage = DialogUsage::refer;  // RFC 3515 section 2.4.4: an implicit subscription
    } else {
        return false;
    }
    return true;
}

// "type;id" of an Event header, the type lower case (RFC 6665 section 8.2.1: event types are
// case-insensitive tokens, the id compared as sent); "" without the header.
std::string event_key(const std::optional<std::string>& event) {
    if (!event) return {};
    const std::string_view v = *event;
    std::size_t semi = v.find(';');
    std::string out(trim(v.substr(0, semi)));
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
    return out;
}

bool notify_matches(const std::string& origin_event, DialogUsage usage, const Message& notify) {
    const std::string got = event_key(notify.event);
    if (usage == DialogUsage::refer) return got.compare(0, 5, "refer") == 0;  // id is the REFER's CSeq
    return got == origin_event;
}

bool terminated_state(const std::optional<std::string>& state) {
    return state && state->size() >= 10 && iequals(std::string_view(*state).substr(0, 10), "terminated");
}

DialogEvidence evidence_of(const Message& m) {
    DialogEvidence e;
    e.message = {m.frame, m.index, m.time};
    e.status = m.request ? 0 : m.status;
    if (!m.contacts.empty()) e.contact = m.contacts.front().uri;
    e.record_route = m.record_route;
    e.via_count = m.via_count;
    e.via_host = m.via.host;
    e.via_port = m.via.port;
    return e;
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

const Dialog* DialogLayer::find(DialogId id) const {
    auto it = dialogs_.find(id);
    return it == dialogs_.end() ? nullptr : &it->second.dialog;
}

const Dialog* DialogLayer::find(std::string_view call_id, std::string_view tag_a, std::string_view tag_b) const {
    // lookup() changes only the scratch key and the work counter.
    const Entry* e = const_cast<DialogLayer*>(this)->lookup(call_id, tag_a, tag_b);
    return e == nullptr ? nullptr : &e->dialog;
}

std::vector<Dialog> DialogLayer::forks(TxnId origin) const {
    std::vector<Dialog> out;
    auto it = origins_.find(origin);
    if (it == origins_.end()) return out;
    for (DialogId id : it->second.dialogs)
        if (const Dialog* d = find(id)) out.push_back(*d);
    return out;
}

DialogLayer::Entry* DialogLayer::lookup(std::string_view call_id, std::string_view a, std::string_view b) {
    ++work_;
    if (b < a) std::swap(a, b);
    key_.assign(call_id).push_back(kSep);
    key_.append(a).push_back(kSep);
    key_.append(b);
    auto k = by_key_.find(key_);
    if (k == by_key_.end()) return nullptr;
    auto it = dialogs_.find(k->second);
    return it == dialogs_.end() ? nullptr : &it->second;
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
        dialogs_.size(),
        [&](DialogId id, Nanos when) {
            auto it = dialogs_.find(id);
            return it != dialogs_.end() && it->second.forget_at == when;
        },
        work_);
}

void DialogLayer::schedule(Origin& o, Nanos at, bool final) {
    if (at == o.forget_at) return;
    o.forget_at = at;
    origin_expiry_.push(final ? 1 : 0, at, o.txn);
    origin_expiry_.compact(
        origins_.size(),
        [&](TxnId id, Nanos when) {
            auto it = origins_.find(id);
            return it != origins_.end() && it->second.forget_at == when;
        },
        work_);
}

void DialogLayer::expire(Nanos now) {
    expiry_.expire(
        now,
        [&](DialogId id, Nanos at) {
            auto it = dialogs_.find(id);
            if (it == dialogs_.end() || it->second.forget_at != at) return;
            auto k = by_key_.find(it->second.key);
            if (k != by_key_.end() && k->second == id) by_key_.erase(k);
            dialogs_.erase(it);
        },
        work_);
    origin_expiry_.expire(
        now,
        [&](TxnId id, Nanos at) {
            auto it = origins_.find(id);
            if (it == origins_.end() || it->second.forget_at != at) return;
            auto k = by_tag_.find(it->second.tag_key);
            if (k != by_tag_.end() && k->second == id) by_tag_.erase(k);
            origins_.erase(it);
        },
        work_);
}

DialogLayer::Entry* DialogLayer::create(const Message& m, Origin* origin, DialogUsage usage, std::string_view uac_tag,
                                        std::string_view uas_tag, DialogVerdict& v) {
    if (dialogs_.size() >= limits_.max_dialogs || (origin && origin->dialogs.size() >= limits_.max_forks)) {
        overflowed_ = true;
        v.full = true;
        return nullptr;
    }
    const DialogId id = next_id_++;
    Entry& e = dialogs_[id];
    Dialog& d = e.dialog;
    d.id = id;
    d.usage = usage;
    d.call_id = m.call_id;
    d.uac_tag = std::string(uac_tag);
    d.uas_tag = std::string(uas_tag);
    d.created = evidence_of(m);
    if (origin) {
        d.origin = origin->txn;
        d.request = origin->request;
        origin->dialogs.push_back(id);
        v.fork = static_cast<std::uint32_t>(origin->dialogs.size());
        v.forks = v.fork;
    }
    lookup(m.call_id, uac_tag, uas_tag);  // builds key_
    e.key = key_;
    by_key_[key_] = id;
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
    Origin* origin = nullptr;
    if (txn.id != 0) {
        auto it = origins_.find(txn.id);
        if (it != origins_.end()) origin = &it->second;
    }

    if (origin != nullptr && !m.request) {
        // Kept while its transaction may still bring forks: until 64*T1 after a final response.
        const bool final = m.status >= 200;
        const Nanos keep = m.time + (final ? limits_.linger : limits_.early_linger);
        schedule(*origin, final ? keep : std::max(origin->forget_at, keep), final);
    }

    if (m.request && m.to.tag.empty()) {
        // An out-of-dialog request: a dialog-creating one is remembered as the origin of its forks.
        if (!creating || txn.id == 0 || origin != nullptr) return v;
        if (origins_.size() >= limits_.max_origins) {
            overflowed_ = true;
            v.full = true;
            return v;
        }
        Origin& o = origins_[txn.id];
        o.txn = txn.id;
        o.usage = usage;
        o.call_id = m.call_id;
        o.uac_tag = m.from.tag;
        o.event = event_key(m.event);
        o.request = txn.first.known() ? txn.first : ref;
        if (usage != DialogUsage::invite) {
            o.tag_key.assign(m.call_id).push_back(kSep);
            o.tag_key.append(m.from.tag);
            by_tag_[o.tag_key] = txn.id;
        }
        schedule(o, m.time + limits_.early_linger, false);
        return v;
    }
    if (m.to.tag.empty()) return v;  // a response without To tag (100 Trying) is in no dialog

    if (Entry* e = lookup(m.call_id, m.from.tag, m.to.tag)) {
        Dialog& d = e->dialog;
        v.id = d.id;
        v.origin = d.origin;
        if (auto o = origins_.find(d.origin); o != origins_.end()) v.forks = static_cast<std::uint32_t>(o->second.dialogs.size());
        const bool from_origin = txn.id != 0 && txn.id == d.origin;
        if (m.request) {
            if (m.method == "NOTIFY" && d.state == DialogState::early) {
                d.state = DialogState::confirmed;
                d.confirmed = ref;
                v.confirmed = true;
            }
            if (m.method == "NOTIFY" && terminated_state(m.subscription_state) && d.state != DialogState::terminated) {
                d.state = DialogState::terminated;
                d.terminated = ref;
                v.terminated = true;
            }
        } else if (from_origin && m.status >= 200 && m.status < 300 && d.state == DialogState::early) {
            d.state = DialogState::confirmed;
            d.confirmed = ref;
            v.confirmed = true;
        } else if (!from_origin && d.state != DialogState::terminated && m.cseq_method != "CANCEL" &&
                   m.cseq_method != "ACK" &&
                   ((m.cseq_method == "BYE" && m.status >= 200 && m.status < 300) || m.status == 481 || m.status == 408)) {
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
        if (m.method != "NOTIFY") {
            v.unmatched = true;
            return v;
        }
        // RFC 6665 section 4.4.1: a NOTIFY whose To tag is a pending SUBSCRIBE's From tag, with the same
        // Call-ID and Event, creates the subscription's dialog (the 2xx may come later, or never).
        key_.assign(m.call_id).push_back(kSep);
        key_.append(m.to.tag);
        ++work_;
        auto k = by_tag_.find(key_);
        Origin* sub = nullptr;
        if (k != by_tag_.end()) {
            auto o = origins_.find(k->second);
            if (o != origins_.end() && notify_matches(o->second.event, o->second.usage, m)) sub = &o->second;
        }
        if (sub == nullptr) {
            v.unmatched = true;
            return v;
        }
        Entry* e = create(m, sub, sub->usage, m.to.tag, m.from.tag, v);
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
    if (m.cseq_method == "CANCEL") return v;  // RFC 3261 section 16.10: the proxy's own To tag, no dialog
    if (!creating || (txn.request_seen && txn.request_in_dialog && origin == nullptr)) {
        if (v.id == 0) v.unmatched = true;
        return v;
    }
    if (m.status >= 300) {
        // A non-2xx final to the initial request ends its early dialogs (RFC 3261 section 12.3).
        if (origin == nullptr) return v;
        for (DialogId id : origin->dialogs) {
            auto it = dialogs_.find(id);
            if (it == dialogs_.end() || it->second.dialog.state != DialogState::early) continue;
            it->second.dialog.state = DialogState::terminated;
            it->second.dialog.terminated = ref;
            schedule(it->second, m.time);
            v.terminated = true;
        }
        return v;
    }
    if (m.status <= 100) return v;
    Entry* e = create(m, origin, usage, m.from.tag, m.to.tag, v);
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
