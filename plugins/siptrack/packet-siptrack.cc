// SPDX-License-Identifier: GPL-2.0-or-later
// siptrack: the SIP subscription and keepalive tracking post-dissector. This file owns the protocol and
// the post-dissector, and the subscription analysis (field case 000: a Polycom BLF subscription whose
// NOTIFY the sipX RLS sends down the connection the rebooted phone abandoned; the RST that kills it; the
// 481 and the recovery half an hour later). It reads Wireshark's SIP fields message by message (TCP
// segments carrying several messages, messages reassembled over several segments, compact header
// forms: all decoded by the SIP dissector into the same fields), the TCP stream index and flags, and
// feeds the core tracker (core/subscription.h) on the first pass. Verdicts are stored per frame;
// findings learnt later (a reset, an unanswered NOTIFY, a response link) are written back onto the
// message they concern, so `tshark -2` and the GUI show them there too. The keepalive analysis
// (keepalive.cc) runs on every packet from the same post-dissector.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <epan/address_types.h>
#include <epan/to_str.h>

#include "siptrack.h"
#include "sipsleuth/core/subscription.h"
#include "sipsleuth/wsglue/stat_table.h"
#include "sipsleuth/wsglue/store.h"
#include "sipsleuth/wsglue/tvb.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;

namespace sipsleuth::siptrack {

ws::Protocol& protocol() {
    static ws::Protocol proto{"SIP subscription and keepalive tracking", "SIPTrack", "siptrack"};
    return proto;
}

namespace {

ws::Protocol& proto = protocol();

ws::Field hf_message{proto, "siptrack.message", "Subscription message", FT_NONE, BASE_NONE, nullptr,
                     "A SIP message of a tracked subscription (SUBSCRIBE, REFER, NOTIFY or a response to one)."};
ws::Field hf_subscription{proto, "siptrack.subscription", "Subscription", FT_UINT32, BASE_DEC, nullptr,
                          "Number of the subscription, stable over the capture (1 for the first seen)."};
ws::Field hf_kind{proto, "siptrack.kind", "Message kind", FT_STRING, BASE_NONE, nullptr,
                  "initial, refresh, unsubscribe, REFER, NOTIFY, retransmission or response."};
ws::Field hf_event{proto, "siptrack.event", "Event package", FT_STRING, BASE_NONE, nullptr,
                   "The Event header's package (dialog, presence, message-summary, refer...), lower case."};
ws::Field hf_event_id{proto, "siptrack.event.id", "Event id", FT_STRING, BASE_NONE, nullptr,
                      "The Event header's id parameter (for refer: the REFER's CSeq number)."};
ws::Field hf_state{proto, "siptrack.state", "Subscription state", FT_STRING, BASE_NONE, nullptr,
                   "pending, active or terminated, from the latest Subscription-State (empty before any NOTIFY)."};
ws::Field hf_reason{proto, "siptrack.state.reason", "Termination reason", FT_STRING, BASE_NONE, nullptr,
                    "The reason parameter of Subscription-State, or what ended the subscription (481, a rejection)."};
ws::Field hf_subscriber{proto, "siptrack.subscriber", "Subscriber", FT_STRING, BASE_NONE, nullptr,
                        "The subscriber's URI (From of the SUBSCRIBE, To of the NOTIFY)."};
ws::Field hf_subscriber_addr{proto, "siptrack.subscriber.address", "Subscriber address", FT_STRING, BASE_NONE, nullptr,
                             "The IP address the subscriber's messages came from."};
ws::Field hf_notifier{proto, "siptrack.notifier", "Notifier", FT_STRING, BASE_NONE, nullptr,
                      "The subscribed resource's URI (To of the SUBSCRIBE, From of the NOTIFY)."};
ws::Field hf_notifier_addr{proto, "siptrack.notifier.address", "Notifier address", FT_STRING, BASE_NONE, nullptr,
                           "The IP address the notifier's messages came from."};
ws::Field hf_flow{proto, "siptrack.flow", "Flow", FT_STRING, BASE_NONE, nullptr,
                  "The flow this message travels on: tcp.stream or udp.stream index, source -> destination."};
ws::Field hf_sub_flow{proto, "siptrack.subscription_flow", "Subscription flow", FT_STRING, BASE_NONE, nullptr,
                      "The flow the subscription's latest SUBSCRIBE (or REFER) came in on."};
ws::Field hf_expires{proto, "siptrack.expires", "Expires at", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, nullptr,
                     "When the subscription expires, from the latest 2xx Expires or Subscription-State expires."};
ws::Field hf_time_left{proto, "siptrack.time_left", "Time left", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                       "Seconds from this message to the subscription's expiry (negative when past)."};
ws::Field hf_notify_count{proto, "siptrack.notify_count", "NOTIFY count", FT_UINT32, BASE_DEC, nullptr,
                          "On a NOTIFY: its ordinal in the subscription; elsewhere: NOTIFYs seen so far."};
ws::Field hf_first_notify_delay{proto, "siptrack.first_notify_delay", "Delay to first NOTIFY", FT_RELATIVE_TIME,
                                BASE_NONE, nullptr, "Time from the SUBSCRIBE (or REFER) that created the subscription to its first NOTIFY."};
ws::Field hf_response_in{proto, "siptrack.response_in", "Response in", FT_FRAMENUM, BASE_NONE,
                         FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), "The frame of this request's final response."};
ws::Field hf_request_in{proto, "siptrack.request_in", "Request in", FT_FRAMENUM, BASE_NONE,
                        FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), "The frame of the request this response answers."};
ws::Field hf_response_time{proto, "siptrack.response_time", "Response time", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                           "Time from the request (first transmission) to its final response."};
ws::Field hf_retransmission_of{proto, "siptrack.retransmission_of", "Retransmission of", FT_FRAMENUM, BASE_NONE,
                               FRAMENUM_TYPE(FT_FRAMENUM_DUP_ACK), "The frame of the first transmission of this request."};

ws::Subtree ett_siptrack{proto};
ws::Subtree ett_message{proto};

ws::Expert ei_created{proto, "siptrack.subscription_created", PI_SEQUENCE, PI_CHAT, "Subscription created"};
ws::Expert ei_refreshed{proto, "siptrack.subscription_refreshed", PI_SEQUENCE, PI_CHAT, "Subscription refreshed"};
ws::Expert ei_terminated{proto, "siptrack.subscription_terminated", PI_SEQUENCE, PI_NOTE, "Subscription terminated"};
ws::Expert ei_stale{proto, "siptrack.notify_on_stale_flow", PI_SEQUENCE, PI_WARN,
                    "NOTIFY sent on a connection the subscriber abandoned"};
ws::Expert ei_off_flow{proto, "siptrack.notify_off_subscription_flow", PI_SEQUENCE, PI_NOTE,
                       "NOTIFY on another live connection than its SUBSCRIBE's"};
ws::Expert ei_reset{proto, "siptrack.notify_reset", PI_SEQUENCE, PI_ERROR, "Subscriber reset the NOTIFY's connection"};
ws::Expert ei_unanswered{proto, "siptrack.notify_unanswered", PI_SEQUENCE, PI_WARN, "NOTIFY never answered"};
ws::Expert ei_481{proto, "siptrack.subscription_481", PI_RESPONSE_CODE, PI_WARN,
                  "Subscription no longer exists (481)"};
ws::Expert ei_recovered{proto, "siptrack.subscription_recovered", PI_SEQUENCE, PI_NOTE,
                        "Subscription recovered after a failure"};
ws::Expert ei_unsub_open{proto, "siptrack.unsubscribe_without_close", PI_SEQUENCE, PI_NOTE,
                         "Un-SUBSCRIBE on a connection the subscriber never closed"};
ws::Expert ei_expired{proto, "siptrack.subscription_expired", PI_SEQUENCE, PI_WARN, "Subscription expired without refresh"};
ws::Expert ei_after_end{proto, "siptrack.notify_after_termination", PI_PROTOCOL, PI_WARN,
                        "NOTIFY after the subscription was terminated"};
// Group Protocol, not Malformed: SIP parsed these headers; only their value breaks RFC 6665's grammar,
// and _ws.malformed (which the Malformed group adds) is for bytes that cannot be parsed at all. Errors
// still: the message cannot be followed, and its receiver will reject it.
ws::Expert ei_bad_event{proto, "siptrack.bad_event", PI_PROTOCOL, PI_ERROR, "Malformed Event header"};
ws::Expert ei_bad_state{proto, "siptrack.bad_subscription_state", PI_PROTOCOL, PI_ERROR,
                        "Malformed Subscription-State header"};
ws::Expert ei_no_state{proto, "siptrack.notify_without_state", PI_PROTOCOL, PI_WARN, "NOTIFY without Subscription-State"};
ws::Expert ei_no_event{proto, "siptrack.missing_event", PI_PROTOCOL, PI_WARN, "SUBSCRIBE or NOTIFY without Event"};
ws::Expert ei_table_full{proto, "siptrack.subscription_table_full", PI_UNDECODED, PI_NOTE, "Subscription table full"};
ws::Expert ei_flows_full{proto, "siptrack.flow_table_full", PI_UNDECODED, PI_NOTE, "Flow table full"};

ws::UintPref pref_max_subscriptions{proto, "max_subscriptions", "Most subscriptions tracked",
                                    "Subscriptions beyond this number are not followed (an expert note says when).",
                                    100000};
ws::UintPref pref_max_flows{proto, "max_flows", "Most TCP/UDP flows tracked",
                            "Flows beyond this number are not followed (an expert note says when).", 100000};
ws::UintPref pref_timer_f{proto, "notify_timeout", "NOTIFY transaction timeout (s)",
                          "A NOTIFY without final response after this many seconds is unanswered (RFC 3261 Timer F, "
                          "64*T1 = 32 s).",
                          32};
ws::UintPref pref_expiry_grace{proto, "expiry_grace", "Expiry grace (s)",
                               "A refresh or NOTIFY this many seconds after the subscription's expiry is still on time.",
                               0};

// Foreign fields read on the first pass (primed by the post-dissector).
ws::ForeignField ff_sip{"sip"};
ws::ForeignField ff_method{"sip.Method"};
ws::ForeignField ff_status{"sip.Status-Code"};
ws::ForeignField ff_call_id{"sip.Call-ID"};
ws::ForeignField ff_from_tag{"sip.from.tag"};
ws::ForeignField ff_to_tag{"sip.to.tag"};
ws::ForeignField ff_from_addr{"sip.from.addr"};
ws::ForeignField ff_to_addr{"sip.to.addr"};
ws::ForeignField ff_cseq{"sip.CSeq.seq"};
ws::ForeignField ff_cseq_method{"sip.CSeq.method"};
ws::ForeignField ff_event{"sip.Event"};
ws::ForeignField ff_state{"sip.Subscription-State"};
ws::ForeignField ff_expires{"sip.Expires"};
ws::ForeignField ff_tcp_stream{"tcp.stream"};
ws::ForeignField ff_tcp_seq{"tcp.seq"};
ws::ForeignField ff_udp_stream{"udp.stream"};

int dissect_siptrack(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector post{proto,
                       dissect_siptrack,
                       {&ff_sip, &ff_method, &ff_status, &ff_call_id, &ff_from_tag, &ff_to_tag, &ff_from_addr,
                        &ff_to_addr, &ff_cseq, &ff_cseq_method, &ff_event, &ff_state, &ff_expires, &ff_tcp_stream,
                        &ff_tcp_seq, &ff_udp_stream}};

// What one frame shows: a report per SIP message (in frame order) and findings of the frame itself.
struct Verdict {
    std::vector<core::MessageReport> messages;
    std::vector<core::SubNote> frame_notes;
    std::vector<std::uint32_t> frame_subscriptions;
};
ws::FrameStore<Verdict> verdicts{proto};
// Which frames have a verdict: most frames have none, and a bit test is far cheaper than a hash look-up
// that misses (measured: the miss was the plugin's largest cost on the benchmark capture).
std::vector<bool> has_verdict;

std::unique_ptr<core::SubscriptionTracker> tracker;
bool finished = false;
[[maybe_unused]] const bool tracker_hooks = [] {
    proto.on_init([] {
        core::SubscriptionTracker::Limits limits;
        limits.max_subscriptions = pref_max_subscriptions.value();
        limits.max_flows = pref_max_flows.value();
        limits.timer_f = pref_timer_f.value();
        limits.expiry_grace = pref_expiry_grace.value();
        tracker = std::make_unique<core::SubscriptionTracker>(limits);
        finished = false;
        has_verdict.clear();
    });
    proto.on_cleanup([] {
        tracker.reset();
        has_verdict = {};
    });
    return true;
}();

std::string join(const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
    return out;
}

bool fetch_row(guint key, std::vector<ws::StatTable::Cell>& cells) {
    if (!tracker) return false;
    const auto s = tracker->summary(key);
    if (!s) return false;
    cells.emplace_back(guint{s->id});
    cells.emplace_back(s->subscriber);
    cells.emplace_back(s->notifier);
    cells.emplace_back(s->event);
    cells.emplace_back(s->state);
    cells.emplace_back(join(s->flows, ", "));
    cells.emplace_back(guint{s->notifies});
    cells.emplace_back(guint{s->answered});
    cells.emplace_back(join(s->findings, ", "));
    cells.emplace_back(s->outage);
    return true;
}

ws::StatTable table{proto,
                    "siptrack,subscriptions",
                    "SIP subscriptions",
                    {{"Subscription", ws::StatTable::Kind::Uint},
                     {"Subscriber", ws::StatTable::Kind::String},
                     {"Notifier", ws::StatTable::Kind::String},
                     {"Event", ws::StatTable::Kind::String},
                     {"State", ws::StatTable::Kind::String},
                     {"Flows", ws::StatTable::Kind::String},
                     {"NOTIFYs", ws::StatTable::Kind::Uint},
                     {"Answered", ws::StatTable::Kind::Uint},
                     {"Findings", ws::StatTable::Kind::String},
                     {"Outage (s)", ws::StatTable::Kind::Float}},
                    fetch_row};

expert_field* expert_for(core::SubFinding f) {
    using F = core::SubFinding;
    switch (f) {
    case F::created: return ei_created.get();
    case F::refreshed: return ei_refreshed.get();
    case F::terminated: return ei_terminated.get();
    case F::notify_on_stale_flow: return ei_stale.get();
    case F::notify_off_subscription_flow: return ei_off_flow.get();
    case F::notify_reset: return ei_reset.get();
    case F::notify_unanswered: return ei_unanswered.get();
    case F::subscription_481: return ei_481.get();
    case F::subscription_recovered: return ei_recovered.get();
    case F::unsubscribe_without_close: return ei_unsub_open.get();
    case F::subscription_expired: return ei_expired.get();
    case F::notify_after_termination: return ei_after_end.get();
    case F::bad_event: return ei_bad_event.get();
    case F::bad_subscription_state: return ei_bad_state.get();
    case F::notify_without_state: return ei_no_state.get();
    case F::missing_event: return ei_no_event.get();
    case F::table_full: return ei_table_full.get();
    case F::flow_table_full: return ei_flows_full.get();
    }
    return ei_created.get();
}

double seconds(const nstime_t& t) { return static_cast<double>(t.secs) + static_cast<double>(t.nsecs) / 1e9; }

nstime_t to_nstime(double s) {
    nstime_t t;
    const double whole = s < 0 ? -static_cast<double>(static_cast<gint64>(-s)) : static_cast<double>(static_cast<gint64>(s));
    t.secs = static_cast<time_t>(whole);
    t.nsecs = static_cast<int>((s - whole) * 1e9 + (s < 0 ? -0.5 : 0.5));
    return t;
}

std::string str(field_info* fi) { return std::string(ws::string_value(fi)); }

// Applies write-backs to the frames they concern (already rendered on this pass; shown on revisits).
void apply(const core::TrackerOutput& out) {
    for (const core::WriteBack& w : out.write_backs) {
        Verdict* v = verdicts.find_mutable(w.frame);
        if (!v || w.index >= v->messages.size()) continue;
        core::MessageReport& r = v->messages[w.index];
        if (w.response_in) r.response_in = w.response_in;
        if (w.response_time) r.response_time = w.response_time;
        if (w.note) r.notes.push_back(*w.note);
    }
}

// The first pass: feed the tracker and store this frame's verdict.
void analyse(proto_tree* tree, packet_info* pinfo) {
    const double now = seconds(pinfo->abs_ts);
    core::TrackerOutput out;
    if (tracker->due(now)) tracker->advance(now, pinfo->num, out);

    const ws::Occurrences sips(tree, ff_sip);
    const ws::Occurrences tcp_streams(tree, ff_tcp_stream);
    core::FlowPacket flow;
    bool have_flow = false;
    if (tcp_streams.size() > 0) {
        // The innermost TCP header (the last) carries the SIP of this frame.
        flow.transport = core::Transport::tcp;
        flow.stream = static_cast<std::uint32_t>(ws::uint_value(tcp_streams.at(tcp_streams.size() - 1)));
        have_flow = sips.size() > 0 || tracker->flows().contains(core::Transport::tcp, flow.stream);
        if (have_flow) {
            const ws::Occurrences seqs(tree, ff_tcp_seq);
            const TcpHeader h = tcp_header(seqs.size() ? seqs.at(seqs.size() - 1) : nullptr);
            flow.fin = h.flags & 0x01;
            flow.syn = h.flags & 0x02;
            flow.rst = h.flags & 0x04;
        }
    } else if (sips.size() > 0) {
        const ws::Occurrences udp_streams(tree, ff_udp_stream);
        if (udp_streams.size() > 0) {
            flow.transport = core::Transport::udp;
            flow.stream = static_cast<std::uint32_t>(ws::uint_value(udp_streams.at(udp_streams.size() - 1)));
            have_flow = true;
        }
    }
    if (have_flow) {
        flow.src = {address_to_str(pinfo->pool, &pinfo->net_src), static_cast<std::uint16_t>(pinfo->srcport)};
        flow.dst = {address_to_str(pinfo->pool, &pinfo->net_dst), static_cast<std::uint16_t>(pinfo->destport)};
        tracker->packet(flow, pinfo->num, now, out);
    }

    Verdict v;
    v.frame_notes = std::move(out.frame_notes);
    v.frame_subscriptions = std::move(out.frame_subscriptions);
    bool keep = !v.frame_notes.empty();
    if (have_flow && sips.size() > 0) {
        const ws::Occurrences method(tree, ff_method), status(tree, ff_status), call_id(tree, ff_call_id),
            from_tag(tree, ff_from_tag), to_tag(tree, ff_to_tag), from_addr(tree, ff_from_addr),
            to_addr(tree, ff_to_addr), cseq(tree, ff_cseq), cseq_method(tree, ff_cseq_method), event(tree, ff_event),
            state(tree, ff_state), expires(tree, ff_expires);
        // Message scopes. On tshark -2's first pass the SIP dissector leaves the first of several messages
        // of a segment spanning to the segment's end (seen on siptrack_sub_compact.pcap, frame 7): each
        // scope ends where the next message of the same data source starts.
        std::vector<ws::Scope> scopes;
        ws::for_each_message(tree, ff_sip, [&](const ws::Scope& scope, guint) { scopes.push_back(scope); });
        for (std::size_t i = 0; i + 1 < scopes.size(); ++i) {
            const ws::Scope& next = scopes[i + 1];
            if (next.ds == scopes[i].ds && next.begin > scopes[i].begin && next.begin < scopes[i].end)
                scopes[i].end = next.begin;
        }
        for (guint index = 0; index < scopes.size(); ++index) {
            const ws::Scope& scope = scopes[index];
            core::SipMessage m;
            m.frame = pinfo->num;
            m.index = index;
            m.time = now;
            m.flow = flow;
            if (field_info* fi = method.first_in(scope)) {
                m.request = true;
                m.method = str(fi);
            } else if (field_info* st = status.first_in(scope)) {
                m.status = static_cast<std::uint32_t>(ws::uint_value(st));
            }
            m.call_id = str(call_id.first_in(scope));
            m.from_tag = str(from_tag.first_in(scope));
            m.to_tag = str(to_tag.first_in(scope));
            m.from_uri = str(from_addr.first_in(scope));
            m.to_uri = str(to_addr.first_in(scope));
            m.cseq = static_cast<std::uint32_t>(ws::uint_value(cseq.first_in(scope)));
            m.cseq_method = str(cseq_method.first_in(scope));
            if (field_info* fi = event.first_in(scope)) m.event = str(fi);
            if (field_info* fi = state.first_in(scope)) m.subscription_state = str(fi);
            if (field_info* fi = expires.first_in(scope)) m.expires = static_cast<std::uint32_t>(ws::uint_value(fi));
            core::TrackerOutput late;
            core::MessageReport r = (m.request || m.status) ? tracker->message(m, late) : core::MessageReport{};
            if (r.subscription || !r.notes.empty()) keep = true;
            v.messages.push_back(std::move(r));
            out.write_backs.insert(out.write_backs.end(), late.write_backs.begin(), late.write_backs.end());
        }
    }
    if (keep && verdicts.put(pinfo->num, 0, std::move(v))) {
        if (has_verdict.size() <= pinfo->num) has_verdict.resize(pinfo->num + 1 + pinfo->num / 2);
        has_verdict[pinfo->num] = true;
    }
    apply(out);
}

proto_item* add_generated(proto_item* item) {
    proto_item_set_generated(item);
    return item;
}

void add_string(proto_tree* t, int hf, tvbuff_t* tvb, const std::string& value) {
    if (!value.empty()) add_generated(proto_tree_add_string(t, hf, tvb, 0, 0, value.c_str()));
}

void add_time(proto_tree* t, int hf, tvbuff_t* tvb, double s) {
    const nstime_t ns = to_nstime(s);
    add_generated(proto_tree_add_time(t, hf, tvb, 0, 0, &ns));
}

// A flow's name in packet memory: the C++ string is gone before any epan call that might throw.
// (Formatting it with wmem_strdup_printf instead was measured slower: +12 M instructions on the bench.)
const char* flow_name(packet_info* pinfo, const core::FlowRef& flow) {
    return wmem_strdup(pinfo->pool, core::describe(flow).c_str());
}

void add_notes(packet_info* pinfo, proto_item* item, const std::vector<core::SubNote>& notes) {
    for (const core::SubNote& n : notes) expert_add_info_format(pinfo, item, expert_for(n.kind), "%s", n.message.c_str());
}

void render(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, const Verdict& v) {
    proto_item* top = add_generated(proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA));
    proto_tree* st = proto_item_add_subtree(top, ett_siptrack);
    for (std::uint32_t id : v.frame_subscriptions) {
        add_generated(proto_tree_add_uint(st, hf_subscription, tvb, 0, 0, id));
        table.changed(pinfo, id);
    }
    add_notes(pinfo, top, v.frame_notes);
    for (const core::MessageReport& r : v.messages) {
        if (!r.subscription && r.notes.empty()) continue;
        // Labels are formatted in packet memory: no C++ temporary may be alive if epan throws.
        const char* label =
            r.subscription ? wmem_strdup_printf(pinfo->pool, "Subscription %u (%s): %s%s%s", r.subscription,
                                                r.event.c_str(), r.kind.c_str(), r.state.empty() ? "" : ", ",
                                                r.state.c_str())
                           : "SIP message (no subscription)";
        proto_item* mi = add_generated(proto_tree_add_none_format(st, hf_message, tvb, 0, 0, "%s", label));
        proto_tree* mt = proto_item_add_subtree(mi, ett_message);
        if (r.subscription) {
            table.changed(pinfo, r.subscription);
            add_generated(proto_tree_add_uint(mt, hf_subscription, tvb, 0, 0, r.subscription));
            add_string(mt, hf_kind, tvb, r.kind);
            add_string(mt, hf_event, tvb, r.event);
            add_string(mt, hf_event_id, tvb, r.event_id);
            add_string(mt, hf_state, tvb, r.state);
            add_string(mt, hf_reason, tvb, r.reason);
            if (const core::SubscriptionFacts* f = tracker->facts(r.subscription)) {
                add_string(mt, hf_subscriber, tvb, f->subscriber);
                add_string(mt, hf_subscriber_addr, tvb, f->subscriber_address);
                add_string(mt, hf_notifier, tvb, f->notifier);
                add_string(mt, hf_notifier_addr, tvb, f->notifier_address);
            }
            add_generated(proto_tree_add_string(mt, hf_flow, tvb, 0, 0, flow_name(pinfo, r.flow)));
            if (r.subscription_flow)
                add_generated(proto_tree_add_string(mt, hf_sub_flow, tvb, 0, 0, flow_name(pinfo, *r.subscription_flow)));
            if (r.expiry) {
                const nstime_t at = to_nstime(*r.expiry);
                add_generated(proto_tree_add_time(mt, hf_expires, tvb, 0, 0, &at));
            }
            if (r.time_left) add_time(mt, hf_time_left, tvb, *r.time_left);
            add_generated(proto_tree_add_uint(mt, hf_notify_count, tvb, 0, 0, r.notify_count));
            if (r.first_notify_delay) add_time(mt, hf_first_notify_delay, tvb, *r.first_notify_delay);
            if (r.request_in) add_generated(proto_tree_add_uint(mt, hf_request_in, tvb, 0, 0, *r.request_in));
            if (r.response_in) add_generated(proto_tree_add_uint(mt, hf_response_in, tvb, 0, 0, *r.response_in));
            if (r.response_time) add_time(mt, hf_response_time, tvb, *r.response_time);
            if (r.retransmission_of)
                add_generated(proto_tree_add_uint(mt, hf_retransmission_of, tvb, 0, 0, *r.retransmission_of));
        }
        add_notes(pinfo, mi, r.notes);
    }
}

int dissect_siptrack(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    ws::guard(proto, pinfo, nullptr,
              [&] { keepalive::dissect(tvb, pinfo, tree, ws::SipObserver::instance().observe(tvb, pinfo, tree)); });
    if (!tracker) return 0;
    if (!PINFO_FD_VISITED(pinfo)) {
        // Foreign fields exist only in a tree (the wanted fields make tshark build one on this pass).
        if (tree) ws::guard(proto, pinfo, nullptr, [&] { analyse(tree, pinfo); });
    } else if (!finished) {
        // The first revisit: the first pass has seen every frame, so NOTIFYs still waiting were never
        // answered before the capture ended.
        finished = true;
        ws::guard(proto, pinfo, nullptr, [&] {
            core::TrackerOutput out;
            tracker->finish(out);
            apply(out);
        });
    }
    // Rendered even without a tree: `tshark -2 -q -z expert` builds none on its second pass, and expert
    // infos and table rows are still tapped from a null item.
    if (pinfo->num >= has_verdict.size() || !has_verdict[pinfo->num]) return 0;
    const Verdict* v = verdicts.find(pinfo->num);
    if (v) ws::guard(proto, pinfo, nullptr, [&] { render(tree, tvb, pinfo, *v); });
    return 0;
}

void proto_register_siptrack() {
    proto.register_all();
    table.register_ui();
    keepalive::register_ui();
}

void proto_reg_handoff_siptrack() {
    post.want(keepalive::wanted());
    post.handoff();
}

}  // namespace
}  // namespace sipsleuth::siptrack

SIPSLEUTH_PROTOCOL(sipsleuth::siptrack::proto_register_siptrack, sipsleuth::siptrack::proto_reg_handoff_siptrack)
