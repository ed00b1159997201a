// SPDX-License-Identifier: GPL-2.0-or-later
// See subscription.h. RFC 6665 section 4.4.1 identifies a subscription by dialog (Call-ID, both tags)
// and Event (package and id); the dialog's subscriber tag is the SUBSCRIBE's From tag and the NOTIFY's
// To tag. The notifier's tag is bound by the first 2xx or NOTIFY, so a NOTIFY that overtakes the 2xx
// of its SUBSCRIBE (section 4.1.2.4) still finds it, and a NOTIFY of a second notifier (a forked
// SUBSCRIBE, section 4.4.9) is a subscription of its own. A NOTIFY whose To tag is no subscriber's but
// whose Call-ID and From tag are a known notifier's (a PBX node writing a corrupt To tag) creates
// nothing: the dialog layer knows no dialog of its tags either. Which request a response answers and
// which request is a retransmission come from the transaction layer (RFC 3261 section 17: top Via
// branch and sent-by), so two legs of an SBC with the same Call-ID and CSeq stay apart. Timer F
// (RFC 3261 section 17.1.2.2, 64*T1) bounds each NOTIFY transaction; transactions live in a map plus a
// deadline queue, so a packet costs one comparison when nothing is due. "Families" (subscriber,
// resource, package) carry a failure across Call-IDs: in field case 000 the subscription that recovers
// is a new one, 30 minutes after the one that broke.
#include "sipsleuth/core/subscription.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "sipsleuth/core/sip/flat_index.h"
#include "sipsleuth/core/sip_header.h"
#include "sipsleuth/core/text.h"

namespace sipsleuth::core {

using namespace std::string_view_literals;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string frame_text(std::uint32_t frame) { return "frame " + std::to_string(frame); }

// Header values quoted in messages: valid UTF-8, at most 80 bytes (or max_bytes), control characters as \xNN (a
// corrupt To tag may hold a form feed, which would break the line of an expert message).
std::string quoted(std::string_view value, std::size_t max_bytes = 80) {
    bool cut = false;
    const std::string s = sanitize_utf8(value, max_bytes, &cut);
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += cut ? "...\"" : "\"";
    return out;
}

const char* state_name(int state) {
    switch (state) {
    case 1: return "pending";
    case 2: return "active";
    case 3: return "terminated";
    default: return "";
    }
}

struct ParsedState {
    int state = 0;  // 0 unknown/extension, 1 pending, 2 active, 3 terminated
    std::string reason;
    std::optional<std::uint32_t> expires;
};

// Subscription-State (RFC 6665 section 8.2.3): substate-value *(;subexp-params). nullopt when the
// value does not parse or a known parameter has a value of the wrong shape. `params`: a buffer reused
// across messages.
std::optional<ParsedState> parse_state(std::string_view value, std::vector<ParamView>& params) {
    std::string_view token;
    if (!read_token_params(value, token, params)) return std::nullopt;
    ParsedState out;
    if (iequals(token, "pending")) out.state = 1;
    else if (iequals(token, "active")) out.state = 2;
    else if (iequals(token, "terminated")) out.state = 3;
    for (const ParamView& p : params) {
        const bool expires = iequals(p.name, "expires");
        if (expires || iequals(p.name, "retry-after")) {
            if (!p.value) return std::nullopt;
            const auto n = parse_decimal(p.quoted ? p.text() : *p.value, 0xFFFFFFFFu);
            if (!n) return std::nullopt;
            if (expires) out.expires = static_cast<std::uint32_t>(*n);
        } else if (iequals(p.name, "reason")) {
            if (!p.value) return std::nullopt;
            out.reason = lower(sanitize_utf8(p.text(), 128));
        }
    }
    return out;
}

// The Event header (RFC 6665 section 8.2.1): its package, lower case, and its id parameter. False when
// the value is not a token with parameters.
bool read_event(std::string_view value, std::vector<ParamView>& params, std::string& event, std::string& id) {
    std::string_view token;
    if (!read_token_params(value, token, params)) return false;
    event.assign(token);
    for (char& c : event)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (const ParamView* p = find_param(params, "id"); p && p->value) id = sanitize_utf8(p->text(), 128);
    return true;
}

bool is_2xx(std::uint32_t status) { return status >= 200 && status < 300; }

// The user a REGISTER or SUBSCRIBE speaks for, comparable across messages: the From URI without angle
// brackets and URI parameters, lower case ("sip:207@victoria.pingtel.com"), written to out (a buffer
// reused per message: no allocation).
const std::string& user_of(std::string_view uri, std::string& out) {
    while (!uri.empty() && (uri.front() == ' ' || uri.front() == '<')) uri.remove_prefix(1);
    std::size_t end = 0;  // the first of ";>? " (a loop: find_first_of looks each character up in the set)
    while (end < uri.size() && uri[end] != ';' && uri[end] != '>' && uri[end] != '?' && uri[end] != ' ') ++end;
    out.assign(uri.substr(0, end));
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

const char* finding_name(SubFinding f) {
    switch (f) {
    case SubFinding::created: return "subscription_created";
    case SubFinding::refreshed: return "subscription_refreshed";
    case SubFinding::terminated: return "subscription_terminated";
    case SubFinding::notify_on_stale_flow: return "notify_on_stale_flow";
    case SubFinding::notify_orphaned: return "notify_orphaned";
    case SubFinding::notify_rejected: return "notify_rejected";
    case SubFinding::unsubscribe_unconfirmed: return "unsubscribe_unconfirmed";
    case SubFinding::notify_off_subscription_flow: return "notify_off_subscription_flow";
    case SubFinding::notify_reset: return "notify_reset";
    case SubFinding::notify_unanswered: return "notify_unanswered";
    case SubFinding::subscription_481: return "subscription_481";
    case SubFinding::subscription_recovered: return "subscription_recovered";
    case SubFinding::unsubscribe_without_close: return "unsubscribe_without_close";
    case SubFinding::subscription_expired: return "subscription_expired";
    case SubFinding::notify_after_termination: return "notify_after_termination";
    case SubFinding::bad_event: return "bad_event";
    case SubFinding::bad_subscription_state: return "bad_subscription_state";
    case SubFinding::notify_without_state: return "notify_without_state";
    case SubFinding::missing_event: return "missing_event";
    case SubFinding::notify_unknown_dialog: return "notify_unknown_dialog";
    case SubFinding::table_full: return "subscription_table_full";
    case SubFinding::flow_table_full: return "flow_table_full";
    }
    return "";
}

namespace {
// "q.d" for a count of tenths, rounded from `n` units of `unit` (halves away from zero).
void append_tenths(std::string& out, Nanos n, Nanos tenth) {
    const bool negative = n < 0;
    const std::uint64_t a = negative ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
    const std::uint64_t t = static_cast<std::uint64_t>(tenth);
    const std::uint64_t q = (a + t / 2) / t;
    if (negative && q) out += '-';
    out += std::to_string(q / 10);
    out += '.';
    out += static_cast<char>('0' + q % 10);
}
// Whole microseconds, rounded from nanoseconds (halves away from zero), with " µs".
void append_micros(std::string& out, Nanos n) {
    const bool negative = n < 0;
    const std::uint64_t a = negative ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
    const std::uint64_t q = (a + 500) / 1000;
    if (negative && q) out += '-';
    out += std::to_string(q);
    out += " \u00b5s";
}
}  // namespace

std::string seconds_text(Nanos d) {
    const Nanos a = d < 0 ? -d : d;
    std::string out;
    if (a < kMilli / 20) {
        // Under 0.05 ms tenths of a millisecond would print "0.0 ms" (an RST 40 us after its NOTIFY on
        // a lab's loopback): whole microseconds, rounded as above.
        append_micros(out, d);
    } else if (a < kSecond) {
        append_tenths(out, d, kMilli / 10);
        out += " ms";
    } else if (a < 60 * kSecond) {
        append_tenths(out, d, kSecond / 10);
        out += " s";
    } else {
        append_tenths(out, d, kSecond / 10);
        out += " s (";
        append_tenths(out, d, 6 * kSecond);
        out += " min)";
    }
    return out;
}

SubscriptionTracker::Transaction* SubscriptionTracker::find_txn(sip::TxnId id) {
    if (id == 0) return nullptr;
    auto it = txns_.find(id);
    return it == txns_.end() || !it->second.live ? nullptr : &it->second.txn;
}

void SubscriptionTracker::index_notify(Slot& slot) {
    const Transaction& t = slot.txn;
    if (slot.indexed || t.method != Method::notify || !t.sub || t.answered || t.reset) return;
    std::vector<NotifiesTo>& flow = notify_index_[flow_key(t.flow.transport, t.flow.stream)];
    auto to = std::find_if(flow.begin(), flow.end(), [&](const NotifiesTo& n) { return n.dst == t.flow.dst; });
    if (to == flow.end()) to = flow.insert(flow.end(), NotifiesTo{t.flow.dst, {}});
    slot.indexed = true;
    slot.index_pos = to->slots.size();
    to->slots.push_back(&slot);
}

void SubscriptionTracker::unindex_notify(Slot& slot) {
    if (!slot.indexed) return;
    slot.indexed = false;
    auto it = notify_index_.find(flow_key(slot.txn.flow.transport, slot.txn.flow.stream));
    std::vector<NotifiesTo>& flow = it->second;
    auto to = std::find_if(flow.begin(), flow.end(), [&](const NotifiesTo& n) { return n.dst == slot.txn.flow.dst; });
    std::vector<Slot*>& list = to->slots;
    Slot* moved = list.back();
    list[slot.index_pos] = moved;
    moved->index_pos = slot.index_pos;
    list.pop_back();
    if (list.empty()) flow.erase(to);
    if (flow.empty()) notify_index_.erase(it);
}

void SubscriptionTracker::add_txn(sip::TxnId id, const Transaction& t) {
    Slots::value_type& node = *txns_.try_emplace(id).first;
    Slot& slot = node.second;
    if (slot.live) unindex_notify(slot);
    else ++live_txns_;
    slot.txn = t;
    slot.live = true;
    const std::uint64_t seq = pending_base_ + pending_.size();
    if (slot.queued) pending_[slot.last - pending_base_].next = seq;
    else slot.first = seq;
    slot.last = seq;
    ++slot.queued;
    pending_.push_back({t.deadline, &node, 0});
    index_notify(slot);
}

void SubscriptionTracker::pop_pending(Pending& popped) {
    popped = pending_.front();
    pending_.pop_front();
    ++pending_base_;
    Slot& slot = popped.slot->second;
    if (--slot.queued) slot.first = popped.next;
    else if (!slot.live) {
        txns_.erase(txns_.find(popped.slot->first));
        popped.slot = nullptr;
    }
}

void SubscriptionTracker::end_txn(Slots::value_type* node) {
    Slot& slot = node->second;
    unindex_notify(slot);
    slot.live = false;
    --live_txns_;
    if (!slot.queued) txns_.erase(txns_.find(node->first));
}

std::uint64_t SubscriptionTracker::hash_parts(std::initializer_list<std::string_view> parts) {
    // The transaction layer's hash (each part's length mixed in first): one pass over the bytes, a word
    // at a time, where std::hash per part cost a call and a set-up each.
    return sip::detail::fingerprint(parts).a;
}

template <typename Same>
SubscriptionTracker::IdIndex::iterator SubscriptionTracker::find_id(IdIndex& index, std::uint64_t hash,
                                                                    const Same& same) const {
    auto [it, end] = index.equal_range(hash);
    for (; it != end; ++it)
        if (same(subs_[it->second - 1])) return it;
    return index.end();
}

template <typename Same>
void SubscriptionTracker::put_id(IdIndex& index, std::uint64_t hash, std::uint32_t id, const Same& same) {
    const auto it = find_id(index, hash, same);
    if (it != index.end()) it->second = id;
    else index.emplace(hash, id);
}

namespace {
// What each index's key is, as a test of a subscription's own fields (see IdIndex).
auto dialog_is(std::string_view call_id, std::string_view subscriber_tag, std::string_view notifier_tag,
               std::string_view event, std::string_view id) {
    return [=](const auto& s) {
        return s.call_id == call_id && s.subscriber_tag == subscriber_tag && s.notifier_tag == notifier_tag &&
               s.event == event && s.event_id == id;
    };
}
auto subscriber_is(std::string_view call_id, std::string_view subscriber_tag, std::string_view event,
                   std::string_view id) {
    return [=](const auto& s) {
        return s.call_id == call_id && s.subscriber_tag == subscriber_tag && s.event == event && s.event_id == id;
    };
}
auto notifier_is(std::string_view call_id, std::string_view notifier_tag) {
    return [=](const auto& s) { return s.call_id == call_id && s.notifier_tag == notifier_tag; };
}
auto dialog_of_subscriber_is(std::string_view call_id, std::string_view subscriber_tag) {
    return [=](const auto& s) { return s.call_id == call_id && s.subscriber_tag == subscriber_tag; };
}
}  // namespace

SubscriptionTracker::Subscription* SubscriptionTracker::find_dialog(std::string_view call_id,
                                                                    std::string_view subscriber_tag,
                                                                    std::string_view notifier_tag,
                                                                    std::string_view event, std::string_view id) {
    auto it = find_id(by_dialog_, hash_parts({call_id, subscriber_tag, notifier_tag, event, id}),
                      dialog_is(call_id, subscriber_tag, notifier_tag, event, id));
    return it == by_dialog_.end() ? nullptr : &subs_[it->second - 1];
}

SubscriptionTracker::Subscription* SubscriptionTracker::find_subscriber(std::string_view call_id,
                                                                        std::string_view subscriber_tag,
                                                                        std::string_view event, std::string_view id) {
    auto it = find_id(by_subscriber_, hash_parts({call_id, subscriber_tag, event, id}),
                      subscriber_is(call_id, subscriber_tag, event, id));
    return it == by_subscriber_.end() ? nullptr : &subs_[it->second - 1];
}

void SubscriptionTracker::bind_notifier(Subscription& s, std::string_view tag) {
    if (!s.notifier_tag.empty() || tag.empty()) return;
    auto it = find_id(by_dialog_, hash_parts({s.call_id, s.subscriber_tag, "", s.event, s.event_id}),
                      dialog_is(s.call_id, s.subscriber_tag, "", s.event, s.event_id));
    if (it != by_dialog_.end() && it->second == s.id) by_dialog_.erase(it);
    s.notifier_tag = std::string(tag);
    put_id(by_dialog_, hash_parts({s.call_id, s.subscriber_tag, s.notifier_tag, s.event, s.event_id}), s.id,
           dialog_is(s.call_id, s.subscriber_tag, s.notifier_tag, s.event, s.event_id));
    put_id(by_notifier_, hash_parts({s.call_id, s.notifier_tag}), s.id, notifier_is(s.call_id, s.notifier_tag));
}

SubscriptionTracker::Subscription* SubscriptionTracker::find_for_notify(const sip::Message& m, const std::string& event,
                                                                        const std::string& id) {
    const std::string& subscriber = m.to.tag;
    if (Subscription* s = find_dialog(m.call_id, subscriber, m.from.tag, event, id)) return s;
    // The notifier's tag not known yet: the NOTIFY overtook the 2xx (RFC 6665 section 4.1.2.4).
    if (Subscription* s = find_dialog(m.call_id, subscriber, "", event, id)) {
        bind_notifier(*s, m.from.tag);
        return s;
    }
    if (event != "refer" || !id.empty()) return nullptr;
    // RFC 3515 section 2.4.6: the NOTIFYs of the first REFER of a dialog may omit id; take the oldest
    // refer subscription of the dialog.
    ++work_;
    auto first = find_id(first_refer_, hash_parts({m.call_id, subscriber}), dialog_of_subscriber_is(m.call_id, subscriber));
    if (first == first_refer_.end()) return nullptr;
    Subscription& s = subs_[first->second - 1];
    bind_notifier(s, m.from.tag);
    return s.notifier_tag == m.from.tag ? &s : nullptr;
}

bool SubscriptionTracker::unknown_dialog(const sip::Message& m, const sip::DialogVerdict& dialog, MessageReport& r) {
    if (dialog.id != 0 || m.from.tag.empty()) return false;  // the dialog layer knows a dialog of these tags
    auto it = find_id(by_notifier_, hash_parts({m.call_id, m.from.tag}), notifier_is(m.call_id, m.from.tag));
    if (it == by_notifier_.end()) return false;
    r.notes.push_back({SubFinding::notify_unknown_dialog,
                       "NOTIFY matches no dialog (RFC 6665 section 4.4.1): To tag " + quoted(m.to.tag, 48) +
                           " is not subscription " + std::to_string(it->second) +
                           "'s, whose Call-ID and From tag it has; not followed"});
    return true;
}

SubscriptionTracker::Subscription* SubscriptionTracker::create_sub(const sip::Message& m, const std::string& event,
                                                                   const std::string& id, bool from_notify,
                                                                   MessageReport& r) {
    if (subs_.size() >= limits_.max_subscriptions) {
        if (!table_full_reported_) {
            table_full_reported_ = true;
            r.notes.push_back({SubFinding::table_full,
                               "Subscription table full (" + std::to_string(limits_.max_subscriptions) +
                                   " tracked, preference siptrack.max_subscriptions): this and later subscriptions are "
                                   "not followed"});
        }
        return nullptr;
    }
    Subscription s;
    s.id = static_cast<std::uint32_t>(subs_.size() + 1);
    s.call_id = m.call_id;
    s.event = event;
    s.event_id = id;
    s.refer = m.is("REFER");
    s.created_time = m.time;
    const sip::Party& subscriber = from_notify ? m.to : m.from;
    const sip::Party& notifier = from_notify ? m.from : m.to;
    s.subscriber_tag = subscriber.tag;
    s.facts.subscriber = subscriber.uri;
    s.facts.notifier = notifier.uri;
    s.facts.subscriber_address = from_notify ? m.flow.dst.address : m.flow.src.address;
    s.facts.notifier_address = from_notify ? m.flow.src.address : m.flow.dst.address;
    // The subscriber's address too: the two legs of a B2BUA carry the same URIs (../shared heplify capture:
    // a 481 on one leg is no failure of the other leg's subscription).
    s.family = &family_of(s);
    s.family->latest = s.id;
    subs_.push_back(std::move(s));
    Subscription& added = subs_.back();
    put_id(by_dialog_, hash_parts({added.call_id, added.subscriber_tag, "", event, id}), added.id,
           dialog_is(added.call_id, added.subscriber_tag, "", event, id));
    put_id(by_subscriber_, hash_parts({added.call_id, added.subscriber_tag, event, id}), added.id,
           subscriber_is(added.call_id, added.subscriber_tag, event, id));
    if (added.refer) {
        const std::uint64_t h = hash_parts({added.call_id, added.subscriber_tag});
        const auto same = dialog_of_subscriber_is(added.call_id, added.subscriber_tag);
        if (find_id(first_refer_, h, same) == first_refer_.end()) first_refer_.emplace(h, added.id);
    }
    // A NOTIFY, or a SUBSCRIBE or REFER inside a dialog, names the notifier's tag at once.
    bind_notifier(added, notifier.tag);
    return &added;
}

SubscriptionTracker::Family& SubscriptionTracker::family_of(const Subscription& s) {
    const std::uint64_t h = hash_parts({s.facts.subscriber, s.facts.subscriber_address, s.facts.notifier, s.event});
    auto [it, end] = families_.equal_range(h);
    for (; it != end; ++it) {
        // Checked on the family's newest subscription, which has its subscriber, notifier and package.
        const Subscription& l = subs_[it->second.latest - 1];
        if (l.facts.subscriber == s.facts.subscriber && l.facts.subscriber_address == s.facts.subscriber_address &&
            l.facts.notifier == s.facts.notifier && l.event == s.event)
            return it->second;
    }
    return families_.emplace(h, Family{})->second;
}

void SubscriptionTracker::add_finding(Subscription& s, SubFinding kind) {
    const std::string name = finding_name(kind);
    if (std::find(s.findings.begin(), s.findings.end(), name) == s.findings.end()) s.findings.push_back(name);
}

const SubscriptionTracker::Subscription* SubscriptionTracker::replaced_by(const Subscription& s) const {
    const Family& f = *s.family;
    if (f.latest <= s.id) return nullptr;
    const Subscription& n = subs_[f.latest - 1];
    return n.state == State::terminated ? nullptr : &n;
}

std::uint32_t SubscriptionTracker::cause_of(const Transaction& t, const Subscription& s) const {
    if (t.cause) return t.cause;
    const Family& f = *s.family;
    return f.broken && f.broken_sub == s.id ? f.since_frame : 0;
}

void SubscriptionTracker::break_family(Subscription& s, std::uint32_t frame, Nanos time, std::string why) {
    Family& f = *s.family;
    // An orphaned subscription (a newer one of the same family replaced it) fails without an outage.
    if (f.broken || replaced_by(s)) return;
    f.broken = true;
    f.broken_sub = s.id;
    f.since_frame = frame;
    f.since_time = time;
    f.why = std::move(why);
}

void SubscriptionTracker::fill(const Subscription& s, const sip::Message& m, MessageReport& r) const {
    r.subscription = s.id;
    r.event = s.event;
    r.event_id = s.event_id;
    r.state = state_name(static_cast<int>(s.state));
    r.reason = s.reason;
    r.flow = m.flow;
    r.subscription_flow = s.subscribe_flow;
    r.expiry = s.expiry;
    if (s.expiry) r.time_left = *s.expiry - m.time;
    if (r.notify_count == 0) r.notify_count = s.notifies;
}

bool SubscriptionTracker::subscriber_heard(const FlowRef& notify_flow) const {
    // A capture of one direction only (a SPAN of the notifier's egress, a capture filter on one host)
    // shows no response to any NOTIFY: without a single packet from the subscriber on the NOTIFY's flow
    // (not even a TCP handshake or ACK) there is no evidence the NOTIFY went unanswered.
    const Flow* f = flows_.find(notify_flow.transport, notify_flow.stream);
    if (!f) return true;
    const int side = f->side_of(notify_flow.dst);
    return side < 0 || f->seen[side];
}

void SubscriptionTracker::advance(Nanos time, std::uint32_t frame, TrackerOutput& out) {
    while (!pending_.empty() && pending_.front().deadline <= time) {
        Pending p;
        pop_pending(p);
        if (!p.slot || !p.slot->second.live || p.slot->second.txn.deadline != p.deadline) continue;
        Transaction& t = p.slot->second.txn;
        if (t.method == Method::notify && !t.answered && !t.reset && t.sub && subscriber_heard(t.flow)) {
            Subscription& s = subs_[t.sub - 1];
            const std::string timer = seconds_text(limits_.timer_f);
            // Without a cause on the NOTIFY, the missing answer is the root cause: reported here on the
            // first pass, on the NOTIFY itself on revisits.
            SubNote here{SubFinding::notify_unanswered,
                         "NOTIFY " + frame_text(t.frame) + " (subscription " + std::to_string(s.id) + ", " +
                             describe(t.flow) + ") got no response within " + timer + " (Timer F)"};
            here.links.notify_frame = t.frame;
            SubNote there{SubFinding::notify_unanswered, "No response to this NOTIFY within " + timer +
                                                             " (Timer F): subscription " + std::to_string(s.id) +
                                                             " is broken"};
            if (const std::uint32_t cause = cause_of(t, s)) {
                here.consequence = there.consequence = true;
                here.caused_by = cause;
                there.caused_by = cause == t.frame ? 0 : cause;
            } else {
                here.moved_on_revisit = true;
                here.caused_by = t.frame;
            }
            out.frame_notes.push_back(std::move(here));
            out.frame_subscriptions.push_back(s.id);
            out.write_backs.push_back({t.frame, t.index, std::move(there), std::nullopt, std::nullopt});
            break_family(s, t.cause ? t.cause : t.frame, t.time, "NOTIFY " + frame_text(t.frame) + " went unanswered");
            add_finding(s, SubFinding::notify_unanswered);
        }
        end_txn(p.slot);
    }
    check_unsub_waits(time, frame, out);
}

void SubscriptionTracker::challenge_unanswered(const UnsubWait& w, Subscription& s, TrackerOutput& out) {
    if (s.notifies != w.notifies || s.state == State::terminated) return;  // sent again, or ended anyway
    const std::string timer = seconds_text(limits_.timer_f);
    SubNote here{SubFinding::notify_rejected,
                 "NOTIFY " + frame_text(w.frame) + " of subscription " + std::to_string(s.id) + " challenged with " +
                     std::to_string(w.challenge) + " and not sent again with credentials within " + timer};
    here.links.notify_frame = w.frame;
    SubNote there = here;
    there.message = "NOTIFY " + frame_text(w.frame) + " challenged with " + std::to_string(w.challenge) +
                    " here and not sent again with credentials within " + timer;
    if (w.cause) {
        here.consequence = there.consequence = true;
        here.caused_by = there.caused_by = w.cause;
    } else {
        here.moved_on_revisit = true;
        here.caused_by = w.ok_frame;
    }
    out.frame_notes.push_back(std::move(here));
    out.frame_subscriptions.push_back(s.id);
    out.write_backs.push_back({w.ok_frame, w.response_index, std::move(there), std::nullopt, std::nullopt});
    s.rejected_status = w.challenge;
    add_finding(s, SubFinding::notify_rejected);
}

void SubscriptionTracker::check_unsub_waits(Nanos time, std::uint32_t frame, TrackerOutput& out) {
    while (!unsub_waits_.empty() && unsub_waits_.front().deadline <= time) {
        const UnsubWait w = unsub_waits_.front();
        unsub_waits_.pop_front();
        ++work_;
        Subscription& s = subs_[w.sub - 1];
        if (w.challenge) {
            challenge_unanswered(w, s, out);
            continue;
        }
        // Confirmed by a terminating NOTIFY sent after the un-SUBSCRIBE (before its 2xx too: RFC 6665
        // section 4.1.2.4 lets the NOTIFY overtake it); a newer SUBSCRIBE in the dialog started it again.
        if (s.last_terminating_notify_frame > w.frame || s.subscribe_frame != w.frame) continue;
        const std::string timer = seconds_text(limits_.timer_f);
        SubNote here{SubFinding::unsubscribe_unconfirmed,
                     "No terminating NOTIFY for subscription " + std::to_string(s.id) + " within " + timer +
                         " of the 2xx to its un-SUBSCRIBE (RFC 6665 section 4.2.2)"};
        here.moved_on_revisit = true;
        here.caused_by = w.frame;
        here.links.subscribe_frame = w.frame;
        out.frame_notes.push_back(std::move(here));
        out.frame_subscriptions.push_back(s.id);
        SubNote there{SubFinding::unsubscribe_unconfirmed,
                      "The notifier accepted this un-SUBSCRIBE but sent no terminating NOTIFY within " + timer +
                          " (RFC 6665 section 4.2.2)"};
        out.write_backs.push_back({w.frame, w.index, std::move(there), std::nullopt, std::nullopt});
        add_finding(s, SubFinding::unsubscribe_unconfirmed);
        (void)frame;
    }
}

void SubscriptionTracker::finish(TrackerOutput& out) {
    for (const Pending& p : pending_) {
        if (!p.slot->second.live || p.slot->second.txn.deadline != p.deadline) continue;
        Transaction& t = p.slot->second.txn;
        if (t.method == Method::notify && !t.answered && !t.reset && t.sub && subscriber_heard(t.flow)) {
            Subscription& s = subs_[t.sub - 1];
            SubNote there{SubFinding::notify_unanswered,
                          "No response to this NOTIFY before the capture ended (subscription " + std::to_string(s.id) +
                              ")"};
            if (const std::uint32_t cause = cause_of(t, s)) {
                there.consequence = true;
                there.caused_by = cause == t.frame ? 0 : cause;
            }
            out.write_backs.push_back({t.frame, t.index, std::move(there), std::nullopt, std::nullopt});
            add_finding(s, SubFinding::notify_unanswered);
            t.answered = true;  // reported once
        }
    }
    pending_base_ += pending_.size();
    pending_.clear();
    txns_.clear();
    live_txns_ = 0;
    notify_index_.clear();
    unsub_waits_.clear();  // the capture ended before Timer F: no evidence either way
}

bool SubscriptionTracker::packet(const sip::Frame& frame_in, TrackerOutput& out) {
    const FlowPacket& p = frame_in.flow;
    const std::uint32_t frame = frame_in.number;
    const Nanos time = frame_in.time;
    if (!flows_.find(p.transport, p.stream)) return false;
    flows_.record(p, frame, time, false, false);
    if (!p.rst) return true;
    // Only the open NOTIFYs this flow carried to the RST's sender, reported in deadline-queue order
    // (their key's oldest queued entry), as a scan of the whole queue would meet them.
    auto open = notify_index_.find(flow_key(p.transport, p.stream));
    if (open == notify_index_.end()) return true;
    auto to = std::find_if(open->second.begin(), open->second.end(),
                           [&](const NotifiesTo& n) { return n.dst == p.src; });
    if (to == open->second.end()) return true;
    std::vector<Slot*> hit;
    for (Slot* slot : to->slots) {
        ++work_;
        if (slot->txn.frame != frame) hit.push_back(slot);
    }
    if (!std::is_sorted(hit.begin(), hit.end(), [](const Slot* a, const Slot* b) { return a->first < b->first; }))
        std::sort(hit.begin(), hit.end(), [](const Slot* a, const Slot* b) { return a->first < b->first; });
    for (Slot* slot : hit) {
        Transaction& t = slot->txn;
        t.reset = true;
        unindex_notify(*slot);
        Subscription& s = subs_[t.sub - 1];
        const std::string after = seconds_text(time - t.time);
        SubNote here{SubFinding::notify_reset,
                     "RST from the subscriber on " + std::string(p.transport == Transport::tcp ? "tcp" : "udp") +
                         ".stream " + std::to_string(p.stream) + ", " + after + " after NOTIFY " + frame_text(t.frame) +
                         " (subscription " + std::to_string(s.id) + "): the NOTIFY is lost"};
        here.links.notify_frame = t.frame;
        SubNote there{SubFinding::notify_reset,
                      "The subscriber reset this NOTIFY's connection " + after + " later: the NOTIFY is lost"};
        there.links.rst_frame = frame;
        if (const std::uint32_t cause = cause_of(t, s)) {
            here.consequence = there.consequence = true;
            here.caused_by = cause;
            there.caused_by = cause == t.frame ? 0 : cause;
        } else {
            here.moved_on_revisit = true;
            here.caused_by = t.frame;
        }
        out.frame_notes.push_back(std::move(here));
        out.frame_subscriptions.push_back(s.id);
        out.write_backs.push_back({t.frame, t.index, std::move(there), std::nullopt, std::nullopt});
        break_family(s, t.cause ? t.cause : t.frame, t.time,
                     "NOTIFY " + frame_text(t.frame) + " was reset by the subscriber (RST in " + frame_text(frame) + ")");
        add_finding(s, SubFinding::notify_reset);
    }
    return true;
}

void SubscriptionTracker::check_unsubscribes(const sip::Message& m, MessageReport& r, TrackerOutput& out) {
    if (m.flow.transport != Transport::tcp || unsubscribe_count_ == 0) return;
    auto pair = unsubscribes_.find(m.flow.src.address + '|' + m.flow.dst.address);
    if (pair == unsubscribes_.end()) return;
    const Flow* g = flows_.find(Transport::tcp, m.flow.stream);
    if (!g) return;  // an untracked connection is new to nothing
    Unsubscribes& list = pair->second;
    std::vector<Unsubscribe>& items = list.items;
    // An un-SUBSCRIBE is settled by the first request on another connection that opened after it. In
    // capture order the list is sorted by frame and those are a prefix of what is left: look no further.
    std::size_t end = items.size();
    if (list.sorted) {
        end = list.head;
        while (end < items.size() && items[end].frame < g->first_frame) ++end;
    }
    std::size_t kept = list.head;  // entries in [list.head, end) that stay are moved down to here
    for (std::size_t i = list.head; i < end; ++i) {
        ++work_;
        const Unsubscribe& u = items[i];
        if (u.flow.stream == m.flow.stream || g->first_frame <= u.frame) {
            if (kept != i) items[kept] = std::move(items[i]);
            ++kept;
            continue;
        }
        const Flow* f = flows_.find(Transport::tcp, u.flow.stream);
        const int side = f ? f->side_of(u.flow.src) : -1;
        if (f && side >= 0 && !f->closed_by(side)) {
            const std::string later = seconds_text(m.time - u.time);
            const std::string now = describe(m.flow);
            r.notes.push_back({SubFinding::unsubscribe_without_close,
                               "New connection tcp.stream " + std::to_string(m.flow.stream) + " from the subscriber " +
                                   later + " after its un-SUBSCRIBE (" + frame_text(u.frame) + ") on " +
                                   describe(u.flow) + ", which it never closed"});
            out.write_backs.push_back({u.frame, u.index,
                                       SubNote{SubFinding::unsubscribe_without_close,
                                               "The subscriber never closed tcp.stream " +
                                                   std::to_string(u.flow.stream) +
                                                   " after this un-SUBSCRIBE and opened " + now + " (" +
                                                   frame_text(m.frame) + ", " + later + " later)"},
                                       std::nullopt, std::nullopt});
        }
        --unsubscribe_count_;
    }
    // Close the gap [kept, end): the kept ones slide up against end (order kept), head moves past the rest.
    if (kept != end) {
        std::size_t to = end;
        for (std::size_t i = kept; i-- > list.head;) items[--to] = std::move(items[i]);
        list.head = to;
    }
    if (list.head == items.size()) {
        unsubscribes_.erase(pair);
    } else if (list.head > 64 && list.head * 2 > items.size()) {
        items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(list.head));
        list.head = 0;
    }
}

MessageReport SubscriptionTracker::message(const sip::Message& m, const sip::TxnVerdict& txn,
                                           const sip::DialogVerdict& dialog, TrackerOutput& out) {
    MessageReport r;
    // Only a REGISTER or SUBSCRIBE names its user as evidence for the stale-flow finding: an INVITE on a
    // new connection, or another line's REGISTER, does not mean the phone abandoned the old one.
    const bool speaks_for_user = m.is("REGISTER") || m.is("SUBSCRIBE");
    if (!speaks_for_user) user_.clear();
    if (!flows_.record(m.flow, m.frame, m.time, true, m.request, speaks_for_user ? user_of(m.from.uri, user_) : user_) &&
        flows_.overflowed() && !flows_full_reported_) {
        flows_full_reported_ = true;
        r.notes.push_back({SubFinding::flow_table_full,
                           "Flow table full (" + std::to_string(limits_.max_flows) +
                               " tracked, preference siptrack.max_flows): connections from here on are not followed"});
    }
    // string_view comparisons: a length that differs ends them at once.
    if (m.request) {
        check_unsubscribes(m, r, out);
        const std::string_view method = m.method;
        if (method == "SUBSCRIBE"sv || method == "REFER"sv) on_subscribe(m, txn, r);
        else if (method == "NOTIFY"sv) on_notify(m, txn, dialog, r);
    } else if (const std::string_view method = m.cseq_method;
               method == "SUBSCRIBE"sv || method == "REFER"sv || method == "NOTIFY"sv) {
        on_response(m, txn, r, out);
    }
    return r;
}

bool SubscriptionTracker::seen_before(const sip::Message& m, const sip::TxnVerdict& txn,
                                      const char* retransmission_kind, MessageReport& r) {
    if (!txn.retransmission && !txn.reflected) return false;
    // RFC 3261 section 17: the same request of the same transaction again. In the same direction it is a
    // retransmission; in the other (reflected back, or captured on another path) only a copy. Neither
    // starts anything new.
    if (txn.retransmission) r.retransmission_of = txn.first.frame;
    if (const Transaction* t = find_txn(txn.id); t && t->sub) fill(subs_[t->sub - 1], m, r);
    r.kind = txn.retransmission ? retransmission_kind : "copy";
    return true;
}

void SubscriptionTracker::record_flow_use(Subscription& s, const FlowRef& flow) {
    // Most messages of a subscription use a flow it used before: compared by key, named in summary().
    const std::uint64_t k = flow_key(flow.transport, flow.stream);
    const auto used = s.flow_keys_used.begin() + s.flows_used;
    if (s.flows_used >= s.flow_keys_used.size() || std::find(s.flow_keys_used.begin(), used, k) != used) return;
    s.flow_keys_used[s.flows_used++] = k;
}

void SubscriptionTracker::on_subscribe(const sip::Message& m, const sip::TxnVerdict& txn, MessageReport& r) {
    const bool refer = m.method == "REFER"sv;
    std::string event, id;
    if (refer) {
        event = "refer";
        id = std::to_string(m.cseq);
    } else {
        if (!m.event) {
            r.notes.push_back({SubFinding::missing_event,
                               "SUBSCRIBE without Event header (RFC 6665 section 8.2.1): not followed"});
            return;
        }
        if (!read_event(*m.event, params_, event, id)) {
            r.notes.push_back({SubFinding::bad_event, "Event header " + quoted(*m.event) +
                                                          " is not an event package with parameters: not followed"});
            return;
        }
    }
    if (seen_before(m, txn, refer ? "REFER" : "retransmission", r)) return;
    // In the dialog (To tag): the subscription of both tags, or of the subscriber's tag while the
    // notifier's is not known. Without a To tag: the same SUBSCRIBE sent again after a 401/407 challenge
    // or a rejection finds the subscription of its From tag.
    Subscription* s = nullptr;
    if (!m.to.tag.empty()) {
        s = find_dialog(m.call_id, m.from.tag, m.to.tag, event, id);
        if (!s && (s = find_dialog(m.call_id, m.from.tag, "", event, id))) bind_notifier(*s, m.to.tag);
    } else {
        s = find_subscriber(m.call_id, m.from.tag, event, id);
    }
    const bool unsubscribe = !refer && m.expires && *m.expires == 0;
    bool refresh = false;
    if (!s) {
        s = create_sub(m, event, id, false, r);
        if (!s) return;
        r.kind = refer ? "REFER" : unsubscribe ? "unsubscribe" : "initial";
        r.notes.push_back({SubFinding::created, "Subscription " + std::to_string(s->id) + " (" + event +
                                                    (id.empty() ? "" : ";id=" + id) + ") created by " + m.method});
    } else {
        refresh = !m.to.tag.empty();
        r.kind = unsubscribe ? "unsubscribe" : refresh ? "refresh" : "initial";
        if (s->expiry && m.time > *s->expiry + limits_.expiry_grace && s->state != State::terminated &&
            !s->expiry_reported) {
            s->expiry_reported = true;
            r.notes.push_back({SubFinding::subscription_expired,
                               "Subscription " + std::to_string(s->id) + " expired " +
                                   seconds_text(m.time - *s->expiry) + " before this " + r.kind +
                                   " (last SUBSCRIBE " + frame_text(s->subscribe_frame) + ")"});
            add_finding(*s, SubFinding::subscription_expired);
        }
        if (refresh && !unsubscribe)
            r.notes.push_back({SubFinding::refreshed, "Subscription " + std::to_string(s->id) + " refreshed"});
        if (s->state == State::terminated) {  // a SUBSCRIBE in the dialog starts it again
            s->state = State::init;
            s->reason.clear();
        }
    }
    s->subscribe_flow = m.flow;
    s->subscribe_frame = m.frame;
    record_flow_use(*s, m.flow);
    Transaction t;
    t.frame = m.frame;
    t.index = m.index;
    t.time = m.time;
    t.deadline = m.time + limits_.timer_f;
    t.sub = s->id;
    t.method = refer ? Method::refer : Method::subscribe;
    t.flow = m.flow;
    t.refresh = refresh;
    t.unsubscribe = unsubscribe;
    t.expires = m.expires;
    // Bounded: beyond, no response link or timer. A request without transaction (no top Via or CSeq, or
    // the transaction layer's table full) has nothing its responses could be matched to.
    if (txn.id != 0 && live_txns_ < limits_.max_subscriptions && pending_.size() < limits_.max_subscriptions)
        add_txn(txn.id, t);
    if (unsubscribe && m.flow.transport == Transport::tcp && unsubscribe_count_ < limits_.max_subscriptions) {
        Unsubscribes& list = unsubscribes_[m.flow.src.address + '|' + m.flow.dst.address];
        if (list.items.size() > list.head && list.items.back().frame > m.frame) list.sorted = false;
        list.items.push_back({m.frame, m.index, m.time, m.flow});
        ++unsubscribe_count_;
    }
    fill(*s, m, r);
}

namespace {
std::string stream_text(const FlowRef& f) {
    return std::string(f.transport == Transport::tcp ? "tcp.stream " : "udp.stream ") + std::to_string(f.stream);
}
}  // namespace

bool SubscriptionTracker::check_flow(const sip::Message& m, Subscription& s, MessageReport& r) {
    if (m.flow.transport != Transport::tcp) return false;
    const Flow* f = flows_.find(Transport::tcp, m.flow.stream);
    if (!f) return false;
    const int side = f->side_of(m.flow.dst);
    if (side < 0) return false;
    const FlowRef& here = m.flow;
    std::string why;
    SubLinks links;
    const Flow* newer = nullptr;
    if (f->rst_frame[side]) {
        why = "NOTIFY on " + stream_text(here) + ", reset by the subscriber " +
              seconds_text(m.time - f->closed_time[side]) + " earlier";
        links.rst_frame = *f->rst_frame[side];
    } else if (f->fin_frame[side]) {
        why = "NOTIFY on " + stream_text(here) + ", closed by the subscriber (FIN) " +
              seconds_text(m.time - f->closed_time[side]) + " earlier";
        links.fin_frame = *f->fin_frame[side];
    } else {
        const Nanos last = f->seen[side] ? f->last_time[side] : f->first_time;
        // Abandoned: the same user (not merely the same host: a phone may keep a connection per line, or
        // one for REGISTER besides this one) sent a REGISTER or SUBSCRIBE on a newer connection after its
        // last traffic here.
        std::uint32_t since = 0;
        newer = flows_.newer_flow_of_user(Transport::tcp, m.flow.dst.address, m.flow.src.address,
                                          user_of(s.facts.subscriber, user_), last, f, &since);
        if (newer) {
            why = "NOTIFY on " + stream_text(here) + ", abandoned by the subscriber for tcp.stream " +
                  std::to_string(newer->stream) + " (its last traffic here " +
                  (f->seen[side] ? seconds_text(m.time - last) + " earlier)" : std::string("never seen)"));
            if (f->seen[side]) links.last_traffic_frame = f->last_frame[side];
            links.new_flow_frame = since;
        }
    }
    if (!why.empty()) {
        if (const Subscription* n = replaced_by(s)) {
            // RFC 6665 section 4.4.1: the newer subscription's dialog is another; this NOTIFY's subscription
            // lives on at the notifier only. Its connection would answer 481, not deliver it.
            links.replaced_by = n->subscribe_frame;
            SubNote note{SubFinding::notify_orphaned,
                         why + "; subscription " + std::to_string(s.id) + " is orphaned: subscription " +
                             std::to_string(n->id) + " replaced it"};
            note.links = links;
            r.notes.push_back(std::move(note));
            add_finding(s, SubFinding::notify_orphaned);
            return true;
        }
        // The connection it should have used: the SUBSCRIBE's if still open, else the newest open one.
        std::string use;
        if (s.subscribe_flow && s.subscribe_flow->transport == Transport::tcp && !s.subscribe_flow->same_flow(here)) {
            const Flow* sf = flows_.find(Transport::tcp, s.subscribe_flow->stream);
            if (sf && !sf->closed())
                use = describe(FlowRef{Transport::tcp, sf->stream, s.subscribe_flow->dst, s.subscribe_flow->src});
        }
        if (use.empty()) {
            const Flow* live = newer && !newer->closed()
                                   ? newer
                                   : flows_.live_flow_between(Transport::tcp, m.flow.src.address, m.flow.dst.address, f);
            if (live) {
                const int nside = live->ends[0].address == m.flow.src.address ? 0 : 1;
                use = describe(live->ref(nside));
            }
        }
        links.subscribe_frame = s.subscribe_frame;
        SubNote note{SubFinding::notify_on_stale_flow,
                     why + "; use " + (use.empty() ? std::string("a new connection to the Contact") : use)};
        note.links = links;
        r.notes.push_back(std::move(note));
        add_finding(s, SubFinding::notify_on_stale_flow);
        return true;
    }
    if (s.subscribe_flow && s.subscribe_flow->transport == Transport::tcp && !s.subscribe_flow->same_flow(here)) {
        const Flow* sf = flows_.find(Transport::tcp, s.subscribe_flow->stream);
        if (sf && !sf->closed()) {
            SubNote note{SubFinding::notify_off_subscription_flow,
                         "NOTIFY on " + describe(here) + ", not on " + describe(*s.subscribe_flow) + " of SUBSCRIBE " +
                             frame_text(s.subscribe_frame) + ", still open"};
            note.links.subscribe_frame = s.subscribe_frame;
            r.notes.push_back(std::move(note));
            add_finding(s, SubFinding::notify_off_subscription_flow);
        }
    }
    return false;
}

void SubscriptionTracker::on_notify(const sip::Message& m, const sip::TxnVerdict& txn,
                                    const sip::DialogVerdict& dialog, MessageReport& r) {
    r.kind = "NOTIFY";
    if (!m.event) {
        r.notes.push_back({SubFinding::missing_event, "NOTIFY without Event header (RFC 6665 section 8.2.1): not followed"});
        return;
    }
    std::string event, id;
    if (!read_event(*m.event, params_, event, id)) {
        r.notes.push_back({SubFinding::bad_event,
                           "Event header " + quoted(*m.event) + " is not an event package with parameters: not followed"});
        return;
    }
    std::optional<ParsedState> st;
    if (!m.subscription_state) {
        r.notes.push_back({SubFinding::notify_without_state,
                           "NOTIFY without Subscription-State header (RFC 6665 section 8.2.3)"});
    } else if (!(st = parse_state(*m.subscription_state, params_))) {
        r.notes.push_back({SubFinding::bad_subscription_state,
                           "Subscription-State header " + quoted(*m.subscription_state) + " cannot be parsed"});
    }
    if (seen_before(m, txn, "retransmission", r)) return;
    Subscription* s = find_for_notify(m, event, id);
    if (!s) {
        // A NOTIFY of a second notifier to a known subscriber's tag is a forked subscription (RFC 6665
        // section 4.4.9). A To tag no subscriber has, from a known notifier, is no subscription at all.
        if (!find_subscriber(m.call_id, m.to.tag, event, id) && unknown_dialog(m, dialog, r)) return;
        s = create_sub(m, event, id, true, r);
    }
    if (!s) return;
    const bool ends = st && st->state == 3;
    // This NOTIFY's frame when it carries a root cause (a Subscription-State missing or unparseable: the
    // subscriber's 400 to it is the consequence).
    std::uint32_t cause = !st ? m.frame : 0;
    if (s->state == State::terminated && !ends) {
        cause = m.frame;
        r.notes.push_back({SubFinding::notify_after_termination,
                           "NOTIFY for subscription " + std::to_string(s->id) + " after it was terminated in " +
                               frame_text(s->terminated_frame) + (s->reason.empty() ? "" : " (" + s->reason + ")") +
                               ", " + seconds_text(m.time - s->terminated_time) + " earlier"});
        add_finding(*s, SubFinding::notify_after_termination);
    } else if (s->expiry && m.time > *s->expiry + limits_.expiry_grace && !ends && !s->expiry_reported &&
               s->state != State::terminated) {
        s->expiry_reported = true;
        cause = m.frame;
        r.notes.push_back({SubFinding::subscription_expired,
                           "Subscription " + std::to_string(s->id) + " expired " +
                               seconds_text(m.time - *s->expiry) + " before this NOTIFY; no refresh since SUBSCRIBE " +
                               frame_text(s->subscribe_frame)});
        r.notes.back().links.subscribe_frame = s->subscribe_frame;
        add_finding(*s, SubFinding::subscription_expired);
    }
    if (check_flow(m, *s, r)) cause = m.frame;
    ++s->notifies;
    r.notify_count = s->notifies;
    if (!s->first_notify_seen) {
        s->first_notify_seen = true;
        if (s->subscribe_frame) r.first_notify_delay = m.time - s->created_time;
    }
    record_flow_use(*s, m.flow);
    if (st) {
        if (st->state) s->state = static_cast<State>(st->state);
        s->reason = st->reason;
        if (st->expires && !ends) {
            s->expiry = m.time + static_cast<Nanos>(*st->expires) * kSecond;
            s->expiry_reported = false;
        }
        if (ends) {
            s->last_terminating_notify_frame = m.frame;
            s->terminated_frame = m.frame;
            s->terminated_time = m.time;
            r.notes.push_back({SubFinding::terminated, "Subscription " + std::to_string(s->id) + " terminated" +
                                                           (st->reason.empty() ? "" : ": reason " + st->reason)});
        }
    }
    Transaction t;
    t.frame = m.frame;
    t.index = m.index;
    t.time = m.time;
    t.deadline = m.time + limits_.timer_f;
    t.sub = s->id;
    t.method = Method::notify;
    t.flow = m.flow;
    t.notify_terminated = ends;
    t.cause = cause;
    t.cseq = m.cseq;
    if (txn.id != 0 && live_txns_ < limits_.max_subscriptions && pending_.size() < limits_.max_subscriptions)
        add_txn(txn.id, t);
    fill(*s, m, r);
    r.notify_count = s->notifies;
}

void SubscriptionTracker::on_response(const sip::Message& m, const sip::TxnVerdict& txn, MessageReport& r,
                                      TrackerOutput& out) {
    // The transaction layer matched the response to its request (top Via branch and sent-by, CSeq
    // method): on an SBC whose two legs share Call-ID and CSeq, each leg's response finds its own.
    Transaction* found = find_txn(txn.id);
    if (!found) return;
    Transaction& t = *found;
    r.kind = "response";
    r.request_in = t.frame;
    Subscription* s = t.sub ? &subs_[t.sub - 1] : nullptr;
    if (m.status < 200 || t.answered) {
        if (s) fill(*s, m, r);
        return;
    }
    t.answered = true;
    unindex_notify(txns_.find(txn.id)->second);
    r.response_time = m.time - t.time;
    out.write_backs.push_back({t.frame, t.index, std::nullopt, m.frame, m.time - t.time});
    if (!s) return;
    Family& fam = *s->family;
    if (m.status == 481) {
        on_481(m, t, *s, r);
    } else if (t.method == Method::notify) {
        if (is_2xx(m.status)) {
            ++s->answered;
            s->last_accepted_frame = t.frame;
            s->rejected_status = 0;
            s->highest_accepted_cseq = std::max(s->highest_accepted_cseq, t.cseq);
            // Credited only to the subscription that failed or one the subscriber made after it: an
            // older one of the family, working all along, had no outage.
            if (fam.broken && !t.notify_terminated && s->id >= fam.broken_sub) {
                const Nanos outage = t.time - fam.since_time;
                s->outage += outage;
                SubNote note{SubFinding::subscription_recovered, "Subscription " + std::to_string(s->id) + " recovered: NOTIFY " +
                                                                     frame_text(t.frame) + " accepted " +
                                                                     seconds_text(outage) + " after " + fam.why};
                note.consequence = true;
                note.caused_by = fam.since_frame;
                note.links.recovered_in = t.frame;
                r.notes.push_back(note);
                out.write_backs.push_back({t.frame, t.index, std::move(note), std::nullopt, std::nullopt});
                add_finding(*s, SubFinding::subscription_recovered);
                fam.broken = false;
            }
        } else if (m.status == 401 || m.status == 407) {
            // A challenge is not a refusal: the notifier sends the NOTIFY again with credentials. Only
            // when no NOTIFY of the subscription follows within Timer F was it in effect rejected.
            if (unsub_waits_.size() < limits_.max_subscriptions)
                unsub_waits_.push_back({m.time + limits_.timer_f, s->id, t.frame, t.index, m.frame, m.status,
                                        s->notifies, m.index, cause_of(t, *s)});
        } else if (m.status == 500 && t.cseq < s->highest_accepted_cseq) {
            // RFC 3261 section 12.2.2: a request whose CSeq is lower than the dialog's last one is answered
            // 500. A NOTIFY retransmitted after a newer one was accepted is superseded: its 500 is correct.
        } else if (m.status >= 300) {
            // RFC 6665 section 4.2.2: a NOTIFY answered with a non-2xx final response (481 aside) has
            // failed; the notifier may remove the subscription. A 401/407 challenge is not a refusal: the
            // notifier sends the NOTIFY again with credentials.
            s->rejected_status = m.status;
            std::string code = quoted(std::to_string(m.status) + (m.reason.empty() ? "" : " " + m.reason), 64);
            code = code.substr(1, code.size() - 2);  // without the quotes
            SubNote note{SubFinding::notify_rejected,
                         "NOTIFY " + frame_text(t.frame) + " of subscription " + std::to_string(s->id) +
                             " rejected with " + code};
            note.links.notify_frame = t.frame;
            if (const std::uint32_t cause = cause_of(t, *s)) {  // the subscription's earlier failure, say
                note.consequence = true;
                note.caused_by = cause;
            }
            r.notes.push_back(std::move(note));
            add_finding(*s, SubFinding::notify_rejected);
            break_family(*s, t.cause ? t.cause : t.frame, t.time,
                         "NOTIFY " + frame_text(t.frame) + " was rejected with " + std::to_string(m.status));
        }
    } else if (is_2xx(m.status)) {
        bind_notifier(*s, m.to.tag);
        if (const auto e = m.expires ? m.expires : t.expires) s->expiry = m.time + static_cast<Nanos>(*e) * kSecond;
        s->expiry_reported = false;
        // RFC 6665 section 4.2.2: an accepted un-SUBSCRIBE is confirmed by a NOTIFY with
        // Subscription-State terminated; wait Timer F for it.
        if (t.unsubscribe && unsub_waits_.size() < limits_.max_subscriptions)
            unsub_waits_.push_back({m.time + limits_.timer_f, s->id, t.frame, t.index, m.frame});
    } else if (m.status >= 300 && !t.refresh && m.status != 401 && m.status != 407) {
        // A challenge is not a refusal: the SUBSCRIBE comes again with credentials.
        s->state = State::terminated;
        s->reason = "rejected with " + std::to_string(m.status);
        s->terminated_frame = m.frame;
        s->terminated_time = m.time;
    }
    fill(*s, m, r);
}

void SubscriptionTracker::on_481(const sip::Message& m, const Transaction& t, Subscription& s, MessageReport& r) {
    Family& fam = *s.family;
    const std::string sid = std::to_string(s.id);
    const std::string what = (t.method == Method::notify  ? "NOTIFY "
                              : t.refresh                 ? "SUBSCRIBE refresh "
                              : t.method == Method::refer ? "REFER "
                                                          : "SUBSCRIBE ") +
                             frame_text(t.frame);
    SubNote note{SubFinding::subscription_481, "481 to " + what + ": "};
    if (fam.broken && fam.broken_sub == s.id) {
        // The subscription's own earlier failure (a lost NOTIFY) is why it is gone.
        note.message += "subscription " + sid + " had been broken for " + seconds_text(m.time - fam.since_time) +
                        ", since " + fam.why;
        note.consequence = true;
        note.caused_by = fam.since_frame;
    } else {
        note.message += (t.method == Method::notify ? "the subscriber" : "the notifier") +
                        std::string(" no longer knows subscription ") + sid +
                        (s.last_accepted_frame ? " (last NOTIFY accepted: " + frame_text(s.last_accepted_frame) + ")"
                                               : std::string(" (no NOTIFY of it was ever accepted)"));
        if (t.cause) {  // a NOTIFY after termination, past the expiry, on a stale flow
            note.consequence = true;
            note.caused_by = t.cause;
        }
    }
    if (const Subscription* n = replaced_by(s); n && !note.consequence) {
        // An orphaned subscription's 481 is its cleanup, not a failure.
        note.consequence = true;
        note.caused_by = n->subscribe_frame;
    }
    // Only a 481 that follows a lost NOTIFY is part of an outage (already broken, or broken here by the
    // cause on the NOTIFY it answers). A 481 alone says the subscription is gone, not since when: the
    // next subscription's NOTIFY recovers nothing (../shared heplify: a phone that subscribes anew every
    // 10 s was said to recover 5-8 s "after the 481" of an older subscription).
    const bool after_loss = note.consequence && note.caused_by != 0 && !replaced_by(s);
    r.notes.push_back(std::move(note));
    add_finding(s, SubFinding::subscription_481);
    if (after_loss && t.cause) break_family(s, t.cause, m.time, "the 481 in " + frame_text(m.frame));
    s.state = State::terminated;
    s.reason = "481";
    s.terminated_frame = m.frame;
    s.terminated_time = m.time;
}

std::optional<SubscriptionSummary> SubscriptionTracker::summary(std::uint32_t id) const {
    if (id == 0 || id > subs_.size()) return std::nullopt;
    const Subscription& s = subs_[id - 1];
    SubscriptionSummary out;
    out.id = s.id;
    out.call_id = s.call_id;
    out.subscriber = s.facts.subscriber;
    out.notifier = s.facts.notifier;
    out.event = s.event + (s.event_id.empty() ? "" : ";id=" + s.event_id);
    out.state = state_name(static_cast<int>(s.state));
    if (!s.reason.empty()) out.state += " (" + s.reason + ")";
    if (s.rejected_status && s.state != State::terminated)
        out.state += ", NOTIFY rejected with " + std::to_string(s.rejected_status);
    for (std::uint8_t i = 0; i < s.flows_used; ++i) {
        const std::uint64_t k = s.flow_keys_used[i];
        out.flows.push_back(std::string(static_cast<Transport>(k >> 32) == Transport::tcp ? "tcp.stream " : "udp.stream ") +
                            std::to_string(static_cast<std::uint32_t>(k)));
    }
    out.notifies = s.notifies;
    out.answered = s.answered;
    out.findings = s.findings;
    out.outage = s.outage;
    return out;
}

}  // namespace sipsleuth::core
