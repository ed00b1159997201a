// SPDX-License-Identifier: GPL-2.0-or-later
// siptrack: the SIP subscription and keepalive tracking post-dissector. This file owns the protocol and
// the post-dissector, and the subscription analysis (field case 000: a Polycom BLF subscription whose
// NOTIFY the sipX RLS sends down the connection the rebooted phone abandoned; the RST that kills it; the
// 481 and the recovery half an hour later). It reads nothing of SIP or TCP itself: the suite's one SIP
// reader (wsglue::SipObserver) gives each frame once, on the first pass, as core values (the frame's
// flow, TCP flags and integer-nanosecond time; each SIP message parsed from its own bytes, so TCP
// segments carrying several messages, reassembled messages and compact header forms all come out
// right) with the transaction and dialog layer's verdicts, and this file feeds them to the core tracker
// (core/subscription.h). siptrack owns the layer's preferences (siptrack.max_transactions,
// siptrack.max_dialogs). Verdicts are stored per frame, in a store bounded by
// siptrack.max_stored_frames; findings learnt later (a reset, an unanswered NOTIFY, a response link)
// are written back onto the message they concern, so `tshark -2` and the GUI show them there too. The
// keepalive analysis (keepalive.cc) runs on every packet from the same post-dissector.
#include <array>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "siptrack.h"
#include "sipsleuth/core/subscription.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/stat_table.h"
#include "sipsleuth/wsglue/store.h"

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
                  "initial, refresh, unsubscribe, REFER, NOTIFY, retransmission (the same request again in the same "
                  "direction), copy (the same request seen in the other direction) or response."};
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

ws::Field hf_caused_by{proto, "siptrack.caused_by", "Caused by", FT_FRAMENUM, BASE_NONE, nullptr,
                       "On a consequence: the frame of the finding that caused it (its root cause)."};

// Links a finding carries instead of naming frames in its message (the GUI makes them clickable).
ws::Field hf_subscribe_frame{proto, "siptrack.subscribe_frame", "SUBSCRIBE in", FT_FRAMENUM, BASE_NONE, nullptr,
                             "The subscription's latest SUBSCRIBE (or REFER), which the finding concerns."};
ws::Field hf_notify_frame{proto, "siptrack.notify_frame", "NOTIFY in", FT_FRAMENUM, BASE_NONE, nullptr,
                          "The NOTIFY whose transaction the finding concerns (reset, unanswered, rejected)."};
ws::Field hf_rst_frame{proto, "siptrack.rst_frame", "RST in", FT_FRAMENUM, BASE_NONE, nullptr,
                       "The subscriber's RST on the NOTIFY's connection."};
ws::Field hf_fin_frame{proto, "siptrack.fin_frame", "FIN in", FT_FRAMENUM, BASE_NONE, nullptr,
                       "The subscriber's FIN on the NOTIFY's connection."};
ws::Field hf_last_traffic_frame{proto, "siptrack.last_traffic_frame", "Subscriber's last traffic in", FT_FRAMENUM,
                                BASE_NONE, nullptr,
                                "The subscriber's last packet on the connection it abandoned before this NOTIFY."};
ws::Field hf_new_flow_frame{proto, "siptrack.new_flow_frame", "First request on the new connection in", FT_FRAMENUM,
                            BASE_NONE, nullptr,
                            "The subscriber's first REGISTER or SUBSCRIBE on the newer connection it moved to."};
ws::Field hf_recovered_in{proto, "siptrack.recovered_in", "Recovered in", FT_FRAMENUM, BASE_NONE, nullptr,
                          "The NOTIFY whose acceptance ended the subscription's outage."};
ws::Field hf_replaced_by{proto, "siptrack.replaced_by", "Replaced by SUBSCRIBE in", FT_FRAMENUM, BASE_NONE, nullptr,
                         "The SUBSCRIBE of the newer subscription (same subscriber, resource and event package) that "
                         "orphaned this one."};

ws::Subtree ett_siptrack{proto};
ws::Subtree ett_message{proto};

ws::Expert ei_created{proto, "siptrack.subscription_created", PI_SEQUENCE, PI_CHAT, "Subscription created"};
ws::Expert ei_refreshed{proto, "siptrack.subscription_refreshed", PI_SEQUENCE, PI_CHAT, "Subscription refreshed"};
ws::Expert ei_terminated{proto, "siptrack.subscription_terminated", PI_SEQUENCE, PI_NOTE, "Subscription terminated"};
// Root causes keep the highest severity of their incident; their consequences are notes with
// siptrack.caused_by (the *_consequence variants), so an incident counts once in the Expert dialog. A
// NOTIFY on a connection the subscriber closed, reset or left for a newer one is lost in the cases we
// know (field case 000: RST, then 30 minutes without presence): an error.
ws::Expert ei_stale{proto, "siptrack.notify_on_stale_flow", PI_SEQUENCE, PI_ERROR,
                    "NOTIFY sent on a connection the subscriber abandoned"};
// A warning only: the newer subscription that replaced this one keeps working; no outage follows.
ws::Expert ei_orphaned{proto, "siptrack.notify_orphaned", PI_SEQUENCE, PI_WARN,
                       "NOTIFY of an orphaned subscription sent on a connection the subscriber abandoned"};
ws::Expert ei_rejected{proto, "siptrack.notify_rejected", PI_RESPONSE_CODE, PI_WARN,
                       "NOTIFY rejected with a final non-2xx response"};
ws::Expert ei_rejected_c{proto, "siptrack.notify_rejected_consequence", PI_RESPONSE_CODE, PI_NOTE,
                         "NOTIFY rejected, a consequence of an earlier finding"};
ws::Expert ei_unsub_unconfirmed{proto, "siptrack.unsubscribe_unconfirmed", PI_SEQUENCE, PI_WARN,
                                "Un-SUBSCRIBE never confirmed by a terminating NOTIFY"};
ws::Expert ei_unsub_unconfirmed_c{proto, "siptrack.unsubscribe_unconfirmed_consequence", PI_SEQUENCE, PI_NOTE,
                                  "Un-SUBSCRIBE unconfirmed, as its un-SUBSCRIBE shows"};
ws::Expert ei_off_flow{proto, "siptrack.notify_off_subscription_flow", PI_SEQUENCE, PI_NOTE,
                       "NOTIFY on another live connection than its SUBSCRIBE's"};
ws::Expert ei_reset{proto, "siptrack.notify_reset", PI_SEQUENCE, PI_ERROR, "Subscriber reset the NOTIFY's connection"};
ws::Expert ei_reset_c{proto, "siptrack.notify_reset_consequence", PI_SEQUENCE, PI_NOTE,
                      "Subscriber reset the NOTIFY's connection, a consequence of an earlier finding"};
// An error: the NOTIFY is lost and RFC 6665 section 4.2.2 has the notifier remove the subscription.
ws::Expert ei_unanswered{proto, "siptrack.notify_unanswered", PI_SEQUENCE, PI_ERROR, "NOTIFY never answered"};
ws::Expert ei_unanswered_c{proto, "siptrack.notify_unanswered_consequence", PI_SEQUENCE, PI_NOTE,
                           "NOTIFY never answered, a consequence of an earlier finding"};
ws::Expert ei_481{proto, "siptrack.subscription_481", PI_RESPONSE_CODE, PI_WARN,
                  "Subscription no longer exists (481)"};
ws::Expert ei_481_c{proto, "siptrack.subscription_481_consequence", PI_RESPONSE_CODE, PI_NOTE,
                    "Subscription no longer exists (481), a consequence of an earlier finding"};
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
// Protocol: RFC 6665 section 4.4.1 names a subscription by its dialog, and no dialog has these tags;
// a warning, not an error: the notifier's other NOTIFYs still reach the subscriber.
ws::Expert ei_unknown_dialog{proto, "siptrack.notify_unknown_dialog", PI_PROTOCOL, PI_WARN,
                             "NOTIFY matches no subscription dialog"};
ws::Expert ei_table_full{proto, "siptrack.subscription_table_full", PI_UNDECODED, PI_NOTE, "Subscription table full"};
ws::Expert ei_flows_full{proto, "siptrack.flow_table_full", PI_UNDECODED, PI_NOTE, "Flow table full"};
ws::Expert ei_store_full{proto, "siptrack.subscription_store_full", PI_UNDECODED, PI_NOTE,
                         "Subscription verdict store full"};
ws::Expert ei_layer_full{proto, "siptrack.sip_layer_full", PI_UNDECODED, PI_NOTE,
                         "SIP transaction or dialog table full"};

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
ws::UintPref pref_max_frames{proto, "max_stored_frames", "Most frames with subscription verdicts kept",
                             "Frames whose subscription verdicts are kept for revisits (tshark -2, the GUI); past this, "
                             "a frame's subscription findings are shown on the first pass only (an expert note says when).",
                             1000000};

int dissect_siptrack(tvbuff_t*, packet_info*, proto_tree*, void*);
// No foreign field of its own: the SipObserver's (and the keepalive analysis's, added in handoff).
ws::PostDissector post{proto, dissect_siptrack, {}};
// siptrack owns the SIP layer's preferences and resets it with its own init and cleanup routines.
[[maybe_unused]] const bool observer_attached = [] {
    ws::SipObserver::instance().attach(proto);
    post.want(ws::SipObserver::instance().fields());
    return true;
}();

// The Info-column tags of the frame being dissected (info_tag). Keyed by frame number and pass: an
// exception that skipped the previous frame's flush leaves tags that the next frame drops.
struct InfoTags {
    std::uint32_t frame = 0;
    bool visited = false;
    std::array<const char*, 8> labels{};
    std::size_t count = 0;
} info_tags;

void reset_tags(packet_info* pinfo) {
    if (info_tags.frame == pinfo->num && info_tags.visited == PINFO_FD_VISITED(pinfo)) return;
    info_tags.frame = pinfo->num;
    info_tags.visited = PINFO_FD_VISITED(pinfo);
    info_tags.count = 0;
}

// Writes the frame's tags: " [SIPTrack: a, b]". SIP ends each message's text with " | " behind a fence,
// and a later dissector's col_add_* would erase unfenced text: the tag is fenced the same way.
void flush_tags(packet_info* pinfo) {
    reset_tags(pinfo);
    const std::size_t count = info_tags.count;
    info_tags.count = 0;
    if (count == 0) return;
    for (std::size_t i = 0; i < count; ++i) {
        col_append_str(pinfo->cinfo, COL_INFO, i == 0 ? " [SIPTrack: " : ", ");
        col_append_str(pinfo->cinfo, COL_INFO, info_tags.labels[i]);
    }
    col_append_str(pinfo->cinfo, COL_INFO, "]");
    col_set_fence(pinfo->cinfo, COL_INFO);
}

// The few distinct strings (events, kinds, states, reasons) and flows that stored reports name, each
// kept once per capture: a stored report holds their numbers. A stored report is kept for every
// subscription message of the capture, and a MessageReport with its strings and two FlowRefs is 472
// bytes (100,000 SIP-heavy packets: the verdict store was 47 MB, half the suite's memory).
class Interned {
public:
    /// 0 stands for the empty string.
    std::uint32_t string_id(const std::string& s) {
        if (s.empty()) return 0;
        // Five strings per stored report, nearly always ones seen just before ("dialog", "NOTIFY",
        // "active"): a small direct-mapped cache by length and end bytes answers before the hash look-up.
        std::uint32_t& cached = recent_[(s.size() * 7u + static_cast<unsigned char>(s.front()) * 3u +
                                         static_cast<unsigned char>(s.back())) % recent_.size()];
        if (cached != 0 && strings_[cached] == s) return cached;
        auto it = string_index_.find(s);
        if (it != string_index_.end()) return cached = it->second;
        strings_.push_back(s);
        const auto id = static_cast<std::uint32_t>(strings_.size() - 1);
        string_index_.emplace(strings_.back(), id);
        return cached = id;
    }
    const std::string& string(std::uint32_t id) const { return strings_[id]; }
    /// 0 stands for no flow.
    std::uint32_t flow_id(const core::FlowRef& f) {
        // Most reports name a flow named just before: a direct-mapped cache by stream answers first.
        std::uint32_t& cached = recent_flows_[(f.stream * 2u + static_cast<std::uint32_t>(f.transport)) % recent_flows_.size()];
        if (cached != 0) {
            const core::FlowRef& c = flows_[cached].flow;
            if (c.transport == f.transport && c.stream == f.stream && c.src == f.src && c.dst == f.dst) return cached;
        }
        std::vector<std::uint32_t>& ids = flow_index_[(static_cast<std::uint64_t>(f.transport) << 32) | f.stream];
        for (std::uint32_t id : ids)
            if (flows_[id].flow.src == f.src && flows_[id].flow.dst == f.dst) return cached = id;
        flows_.push_back({f, {}});
        ids.push_back(static_cast<std::uint32_t>(flows_.size() - 1));
        return cached = ids.back();
    }
    /// The flow's name (core::describe), made the first time it is asked for.
    const char* flow_name(std::uint32_t id) {
        Flow& f = flows_[id];
        if (f.name.empty()) f.name = core::describe(f.flow);
        return f.name.c_str();
    }
    void clear() {
        strings_.assign(1, std::string());
        string_index_ = {};
        recent_.fill(0);
        flows_.assign(1, Flow{});
        flow_index_ = {};
        recent_flows_.fill(0);
    }

private:
    struct Flow {
        core::FlowRef flow;
        std::string name;
    };
    std::deque<std::string> strings_{std::string()};  // a deque: the index's views stay valid
    std::unordered_map<std::string_view, std::uint32_t> string_index_;
    std::array<std::uint32_t, 64> recent_{};  // ids of strings recently asked for (0: none)
    std::array<std::uint32_t, 64> recent_flows_{};  // ids of flows recently asked for, by stream (0: none)
    std::deque<Flow> flows_{Flow{}};
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> flow_index_;
} interned;

// A MessageReport as a frame keeps it: the same values, strings and flows by their Interned number,
// absent optionals as kNone or frame 0 (104 bytes instead of 472).
constexpr core::Nanos kNone = std::numeric_limits<core::Nanos>::min();
struct StoredReport {
    std::uint32_t subscription = 0, notify_count = 0;
    std::uint32_t event = 0, event_id = 0, kind = 0, state = 0, reason = 0;
    std::uint32_t flow = 0, subscription_flow = 0;
    std::uint32_t request_in = 0, response_in = 0, retransmission_of = 0;
    core::Nanos expiry = kNone, time_left = kNone, first_notify_delay = kNone, response_time = kNone;
    std::vector<core::SubNote> notes;
};

StoredReport stored(core::MessageReport&& r) {
    StoredReport s;
    s.subscription = r.subscription;
    s.notify_count = r.notify_count;
    s.event = interned.string_id(r.event);
    s.event_id = interned.string_id(r.event_id);
    s.kind = interned.string_id(r.kind);
    s.state = interned.string_id(r.state);
    s.reason = interned.string_id(r.reason);
    s.flow = interned.flow_id(r.flow);
    if (r.subscription_flow) s.subscription_flow = interned.flow_id(*r.subscription_flow);
    s.request_in = r.request_in.value_or(0);
    s.response_in = r.response_in.value_or(0);
    s.retransmission_of = r.retransmission_of.value_or(0);
    s.expiry = r.expiry.value_or(kNone);
    s.time_left = r.time_left.value_or(kNone);
    s.first_notify_delay = r.first_notify_delay.value_or(kNone);
    s.response_time = r.response_time.value_or(kNone);
    s.notes = std::move(r.notes);
    return s;
}

// What one frame shows: a report per SIP message (in frame order) and findings of the frame itself.
// Most frames kept hold one SIP message and no finding of their own: the first report is inline, the
// frame's own findings (an RST, a timer) behind a pointer, so such a frame costs no heap block.
struct FrameFindings {
    std::vector<core::SubNote> notes;
    std::vector<std::uint32_t> subscriptions;  ///< the subscriptions the notes are about
};
class Verdict {
public:
    /// Slots for a frame's n SIP messages (all empty).
    void resize(std::size_t n) {
        count_ = static_cast<std::uint32_t>(n);
        more_.resize(n > 1 ? n - 1 : 0);
    }
    std::size_t size() const { return count_; }
    StoredReport& operator[](std::size_t i) { return i == 0 ? first_ : more_[i - 1]; }
    const StoredReport& operator[](std::size_t i) const { return i == 0 ? first_ : more_[i - 1]; }
    const FrameFindings* frame() const { return frame_.get(); }
    void set_frame(std::vector<core::SubNote>&& notes, std::vector<std::uint32_t>&& subscriptions) {
        if (notes.empty() && subscriptions.empty()) return;
        frame_ = std::make_unique<FrameFindings>(FrameFindings{std::move(notes), std::move(subscriptions)});
    }

private:
    std::uint32_t count_ = 0;
    StoredReport first_;
    std::vector<StoredReport> more_;
    std::unique_ptr<FrameFindings> frame_;
};
ws::FrameStore<Verdict> verdicts{proto, pref_max_frames};
// Which frames have a verdict: most frames have none, and a bit test is far cheaper than a hash look-up
// that misses (measured: the miss was the plugin's largest cost on the benchmark capture). Frames whose
// verdict the full store refused get the note on every pass.
std::vector<bool> has_verdict, refused;

void mark(std::vector<bool>& bits, std::uint32_t frame) {
    if (bits.size() <= frame) bits.resize(frame + 1 + frame / 2);
    bits[frame] = true;
}
bool marked(const std::vector<bool>& bits, std::uint32_t frame) { return frame < bits.size() && bits[frame]; }

std::unique_ptr<core::SubscriptionTracker> tracker;

bool finished = false;
// The first frame on which the suite's SIP layer (owned by siptrack's preferences) refused a new
// transaction or dialog: it carries the note, once per capture, on every pass.
std::uint32_t layer_full_frame = 0;
[[maybe_unused]] const bool tracker_hooks = [] {
    proto.on_init([] {
        core::SubscriptionTracker::Limits limits;
        limits.max_subscriptions = pref_max_subscriptions.value();
        limits.max_flows = pref_max_flows.value();
        limits.timer_f = static_cast<core::Nanos>(pref_timer_f.value()) * core::kSecond;
        limits.expiry_grace = static_cast<core::Nanos>(pref_expiry_grace.value()) * core::kSecond;
        tracker = std::make_unique<core::SubscriptionTracker>(limits);
        finished = false;
        layer_full_frame = 0;
        has_verdict.clear();
        refused.clear();
        interned.clear();
    });
    proto.on_cleanup([] {
        tracker.reset();
        interned.clear();
        has_verdict = {};
        refused = {};
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
    cells.emplace_back(s->call_id);
    cells.emplace_back(s->state);
    cells.emplace_back(join(s->flows, ", "));
    cells.emplace_back(guint{s->notifies});
    cells.emplace_back(guint{s->answered});
    cells.emplace_back(join(s->findings, ", "));
    // Seconds for the table's float column (display only; the tracker keeps integer nanoseconds).
    cells.emplace_back(static_cast<double>(s->outage) / static_cast<double>(core::kSecond));
    return true;
}

ws::StatTable table{proto,
                    "siptrack,subscriptions",
                    "SIP subscriptions",
                    {{"Subscription", ws::StatTable::Kind::Uint},
                     {"Subscriber", ws::StatTable::Kind::String},
                     {"Notifier", ws::StatTable::Kind::String},
                     {"Event", ws::StatTable::Kind::String},
                     {"Call-ID", ws::StatTable::Kind::String},
                     {"State", ws::StatTable::Kind::String},
                     {"Flows", ws::StatTable::Kind::String},
                     {"NOTIFYs", ws::StatTable::Kind::Uint},
                     {"Answered", ws::StatTable::Kind::Uint},
                     {"Findings", ws::StatTable::Kind::String},
                     {"Outage (s)", ws::StatTable::Kind::Float}},
                    fetch_row,
                    ws::StatTable::FrameRange::shown};

expert_field* expert_for(core::SubFinding f) {
    using F = core::SubFinding;
    switch (f) {
    case F::created: return ei_created.get();
    case F::refreshed: return ei_refreshed.get();
    case F::terminated: return ei_terminated.get();
    case F::notify_on_stale_flow: return ei_stale.get();
    case F::notify_orphaned: return ei_orphaned.get();
    case F::notify_rejected: return ei_rejected.get();
    case F::unsubscribe_unconfirmed: return ei_unsub_unconfirmed.get();
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
    case F::notify_unknown_dialog: return ei_unknown_dialog.get();
    case F::table_full: return ei_table_full.get();
    case F::flow_table_full: return ei_flows_full.get();
    }
    return ei_created.get();
}

// The note a finding is as a consequence; nullptr where the finding is a note anyway.
expert_field* consequence_expert_for(core::SubFinding f) {
    using F = core::SubFinding;
    switch (f) {
    case F::notify_reset: return ei_reset_c.get();
    case F::notify_unanswered: return ei_unanswered_c.get();
    case F::subscription_481: return ei_481_c.get();
    case F::notify_rejected: return ei_rejected_c.get();
    case F::unsubscribe_unconfirmed: return ei_unsub_unconfirmed_c.get();
    default: return nullptr;
    }
}

// A few words for the Info column (" [SIPTrack: ...]") on frames with a failure or its consequence.
const char* info_label(core::SubFinding f) {
    using F = core::SubFinding;
    switch (f) {
    case F::notify_on_stale_flow: return "NOTIFY on stale flow";
    case F::notify_orphaned: return "NOTIFY of orphaned subscription";
    case F::notify_rejected: return "NOTIFY rejected";
    case F::unsubscribe_unconfirmed: return "un-SUBSCRIBE unconfirmed";
    case F::notify_reset: return "NOTIFY reset";
    case F::notify_unanswered: return "NOTIFY unanswered";
    case F::subscription_481: return "481 subscription gone";
    case F::subscription_recovered: return "subscription recovered";
    case F::subscription_expired: return "subscription expired";
    case F::notify_after_termination: return "NOTIFY after termination";
    case F::notify_unknown_dialog: return "NOTIFY of no dialog";
    default: return nullptr;
    }
}

// Integer nanoseconds as epan's time: both parts carry the sign (-1.5 s is {-1, -500000000}).
nstime_t to_nstime(core::Nanos n) {
    nstime_t t;
    t.secs = static_cast<time_t>(n / core::kSecond);
    t.nsecs = static_cast<int>(n % core::kSecond);
    return t;
}

// Applies write-backs to the frames they concern (already rendered on this pass; shown on revisits).
void apply(const core::TrackerOutput& out) {
    for (const core::WriteBack& w : out.write_backs) {
        Verdict* v = verdicts.find_mutable(w.frame);
        if (!v || w.index >= v->size()) continue;
        StoredReport& r = (*v)[w.index];
        if (w.response_in) r.response_in = *w.response_in;
        if (w.response_time) r.response_time = *w.response_time;
        if (w.note) r.notes.push_back(*w.note);
    }
}

// The first pass: feed the tracker with the frame's observation and keep this frame's verdict. Returns
// false when the verdict has findings but the full store refused it (`v` then holds it for this pass).
bool analyse(const ws::Observation& o, Verdict& v) {
    const core::sip::Frame& frame = o.frame;
    core::TrackerOutput out;
    if (tracker->due(frame.time)) tracker->advance(frame.time, frame.number, out);
    // A TCP segment matters on a tracked connection (its FIN, RST, last traffic) or with SIP; a UDP
    // datagram only with SIP.
    if (o.has_flow && (!o.messages.empty() || (frame.flow.transport == core::Transport::tcp &&
                                               tracker->flows().contains(core::Transport::tcp, frame.flow.stream))))
        tracker->packet(frame, out);
    bool keep = !out.frame_notes.empty();
    v.set_frame(std::move(out.frame_notes), std::move(out.frame_subscriptions));
    out.frame_notes.clear();
    out.frame_subscriptions.clear();
    // Reports are kept (one slot per message of the frame) only when one of them shows something: most
    // SIP messages (REGISTER, INVITE, ...) belong to no subscription.
    if (keep) v.resize(o.messages.size());
    for (const ws::ObservedMessage& om : o.messages) {
        const core::sip::Message& m = om.message;
        if (m.index >= o.messages.size() || (!m.request && !m.status)) continue;
        core::TrackerOutput late;
        core::MessageReport r = tracker->message(m, om.transaction, om.dialog, late);
        if (r.subscription || !r.notes.empty()) {
            keep = true;
            if (v.size() == 0) v.resize(o.messages.size());
            v[m.index] = stored(std::move(r));
        }
        out.write_backs.insert(out.write_backs.end(), late.write_backs.begin(), late.write_backs.end());
    }
    bool kept = true;
    if (keep) {
        // put() takes the verdict even when it refuses it: ask first.
        if (!verdicts.full() && verdicts.put(frame.number, 0, std::move(v))) {
            mark(has_verdict, frame.number);
        } else {
            mark(refused, frame.number);
            kept = false;
        }
    }
    apply(out);
    return kept;
}

proto_item* add_generated(proto_item* item) {
    proto_item_set_generated(item);
    return item;
}

void add_string(proto_tree* t, int hf, tvbuff_t* tvb, const std::string& value) {
    if (!value.empty()) add_generated(proto_tree_add_string(t, hf, tvb, 0, 0, value.c_str()));
}

void add_time(proto_tree* t, int hf, tvbuff_t* tvb, core::Nanos d) {
    const nstime_t ns = to_nstime(d);
    add_generated(proto_tree_add_time(t, hf, tvb, 0, 0, &ns));
}

// At most kMaxMessage bytes, cut at a UTF-8 boundary: the GUI cuts "Expert Info (Warning/Sequence): " plus
// the message at 240 characters. The tracker's messages fit; this guards quoted header values.
constexpr std::size_t kMaxMessage = 200;
const char* fitted(packet_info* pinfo, const std::string& message) {
    if (message.size() <= kMaxMessage) return wmem_strdup(pinfo->pool, message.c_str());
    std::size_t cut = kMaxMessage - 3;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
    return wmem_strdup_printf(pinfo->pool, "%s...", message.substr(0, cut).c_str());
}

void add_link(proto_tree* t, int hf, tvbuff_t* tvb, std::uint32_t frame) {
    if (frame) add_generated(proto_tree_add_uint(t, hf, tvb, 0, 0, frame));
}

// The findings of one message (or of the frame), with their links (`tree` null: nobody looks at
// siptrack's fields, the expert infos and Info-column tags only). A finding moved on revisit (an RST,
// a timer: the cause is shown on the message it concerns) is its consequence on revisits.
void add_notes(packet_info* pinfo, proto_tree* tree, tvbuff_t* tvb, proto_item* item,
               const std::vector<core::SubNote>& notes) {
    for (const core::SubNote& n : notes) {
        info_tag(pinfo, info_label(n.kind));
        const bool consequence = n.consequence || (n.moved_on_revisit && PINFO_FD_VISITED(pinfo));
        expert_field* ei = consequence ? consequence_expert_for(n.kind) : nullptr;
        // Formatted in packet memory: no C++ temporary may be alive if epan throws.
        expert_add_info_format(pinfo, item, ei ? ei : expert_for(n.kind), "%s", fitted(pinfo, n.message));
        if (!tree) continue;
        if (consequence) add_caused_by(tree, tvb, n.caused_by);
        const core::SubLinks& l = n.links;
        add_link(tree, hf_subscribe_frame, tvb, l.subscribe_frame);
        add_link(tree, hf_notify_frame, tvb, l.notify_frame);
        add_link(tree, hf_rst_frame, tvb, l.rst_frame);
        add_link(tree, hf_fin_frame, tvb, l.fin_frame);
        add_link(tree, hf_last_traffic_frame, tvb, l.last_traffic_frame);
        add_link(tree, hf_new_flow_frame, tvb, l.new_flow_frame);
        add_link(tree, hf_recovered_in, tvb, l.recovered_in);
        add_link(tree, hf_replaced_by, tvb, l.replaced_by);
    }
}

// The note on a frame whose verdict the full store refused: its findings show on the first pass only.
void note_refused(packet_info* pinfo, proto_item* top) {
    expert_add_info_format(pinfo, top, ei_store_full.get(),
                           "Subscription verdict store full (%u frames, preference siptrack.max_stored_frames): this "
                           "frame's subscription findings are not kept for revisits",
                           pref_max_frames.value());
}

// The fields of one subscription message (r.subscription nonzero) under mt.
void add_message_fields(proto_tree* mt, tvbuff_t* tvb, const StoredReport& r) {
    add_generated(proto_tree_add_uint(mt, hf_subscription, tvb, 0, 0, r.subscription));
    add_string(mt, hf_kind, tvb, interned.string(r.kind));
    add_string(mt, hf_event, tvb, interned.string(r.event));
    add_string(mt, hf_event_id, tvb, interned.string(r.event_id));
    add_string(mt, hf_state, tvb, interned.string(r.state));
    add_string(mt, hf_reason, tvb, interned.string(r.reason));
    if (const core::SubscriptionFacts* f = tracker->facts(r.subscription)) {
        add_string(mt, hf_subscriber, tvb, f->subscriber);
        add_string(mt, hf_subscriber_addr, tvb, f->subscriber_address);
        add_string(mt, hf_notifier, tvb, f->notifier);
        add_string(mt, hf_notifier_addr, tvb, f->notifier_address);
    }
    // The names stay put while epan copies them (no temporary is alive if it throws).
    add_generated(proto_tree_add_string(mt, hf_flow, tvb, 0, 0, interned.flow_name(r.flow)));
    if (r.subscription_flow)
        add_generated(proto_tree_add_string(mt, hf_sub_flow, tvb, 0, 0, interned.flow_name(r.subscription_flow)));
    if (r.expiry != kNone) {
        const nstime_t at = to_nstime(r.expiry);
        add_generated(proto_tree_add_time(mt, hf_expires, tvb, 0, 0, &at));
    }
    if (r.time_left != kNone) add_time(mt, hf_time_left, tvb, r.time_left);
    add_generated(proto_tree_add_uint(mt, hf_notify_count, tvb, 0, 0, r.notify_count));
    if (r.first_notify_delay != kNone) add_time(mt, hf_first_notify_delay, tvb, r.first_notify_delay);
    if (r.request_in) add_generated(proto_tree_add_uint(mt, hf_request_in, tvb, 0, 0, r.request_in));
    if (r.response_in) add_generated(proto_tree_add_uint(mt, hf_response_in, tvb, 0, 0, r.response_in));
    if (r.response_time != kNone) add_time(mt, hf_response_time, tvb, r.response_time);
    if (r.retransmission_of)
        add_generated(proto_tree_add_uint(mt, hf_retransmission_of, tvb, 0, 0, r.retransmission_of));
}

// Renders v (nullptr: the refused frame of a revisit, its note only). When nothing references siptrack's
// fields (Protocol::referenced), epan would fake every item under the top one: only the top item (which
// the expert infos attach to, as a faked item would have), the expert infos, the table rows and the
// Info-column tags are made.
void render(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, const Verdict* verdict, bool was_refused) {
    proto_item* top = add_generated(proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA));
    if (was_refused) note_refused(pinfo, top);
    if (!verdict) return;
    const Verdict& v = *verdict;
    const bool shown = proto.referenced(tree);
    proto_tree* st = shown ? proto_item_add_subtree(top, ett_siptrack) : nullptr;
    if (const FrameFindings* f = v.frame()) {
        for (std::uint32_t id : f->subscriptions) {
            if (shown) add_generated(proto_tree_add_uint(st, hf_subscription, tvb, 0, 0, id));
            table.changed(pinfo, id);
        }
        add_notes(pinfo, st, tvb, top, f->notes);
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        const StoredReport& r = v[i];
        if (!r.subscription && r.notes.empty()) continue;
        if (r.subscription) table.changed(pinfo, r.subscription);
        if (!shown) {
            add_notes(pinfo, nullptr, tvb, top, r.notes);
            continue;
        }
        // The label is formatted by epan, and only when the tree is visible; r outlives the call.
        proto_item* mi =
            r.subscription
                ? proto_tree_add_none_format(st, hf_message, tvb, 0, 0, "Subscription %u (%s): %s%s%s", r.subscription,
                                             interned.string(r.event).c_str(), interned.string(r.kind).c_str(),
                                             r.state ? ", " : "", interned.string(r.state).c_str())
                : proto_tree_add_none_format(st, hf_message, tvb, 0, 0, "SIP message (no subscription)");
        add_generated(mi);
        proto_tree* mt = proto_item_add_subtree(mi, ett_message);
        if (r.subscription) add_message_fields(mt, tvb, r);
        add_notes(pinfo, mt, tvb, mi, r.notes);
    }
}

// The subscription analysis of one frame (o: its observation, first pass only).
void dissect_subscriptions(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const ws::Observation* o) {
    if (!tracker) return;
    Verdict fresh;  // a verdict the full store refused: rendered on this pass only
    bool fresh_refused = false;
    if (!PINFO_FD_VISITED(pinfo)) {
        if (o && layer_full_frame == 0)
            for (const ws::ObservedMessage& om : o->messages)
                if (om.transaction.full || om.dialog.full) layer_full_frame = pinfo->num;
        if (o) ws::guard(proto, pinfo, nullptr, [&] { fresh_refused = !analyse(*o, fresh); });
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
    if (layer_full_frame != 0 && pinfo->num == layer_full_frame)
        expert_add_info_format(pinfo, add_generated(proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA)),
                               ei_layer_full.get(),
                               "SIP transaction or dialog table full (preferences siptrack.max_transactions, "
                               "siptrack.max_dialogs): new transactions or dialogs from here on are not matched");
    if (fresh_refused) {
        ws::guard(proto, pinfo, nullptr, [&] { render(tree, tvb, pinfo, &fresh, true); });
        return;
    }
    if (marked(refused, pinfo->num)) {
        ws::guard(proto, pinfo, nullptr, [&] { render(tree, tvb, pinfo, nullptr, true); });
        return;
    }
    if (!marked(has_verdict, pinfo->num)) return;
    const Verdict* v = verdicts.find(pinfo->num);
    if (v) ws::guard(proto, pinfo, nullptr, [&] { render(tree, tvb, pinfo, v, false); });
}

int dissect_siptrack(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    // The frame's observation: non-null on the first pass only (with a tree: the wanted fields primed).
    const ws::Observation* o = ws::SipObserver::instance().observe(tvb, pinfo, tree);
    info_tags.count = 0;  // whatever an exception left behind on an earlier dissection
    reset_tags(pinfo);
    ws::guard(proto, pinfo, nullptr, [&] { keepalive::dissect(tvb, pinfo, tree, o); });
    dissect_subscriptions(tvb, pinfo, tree, o);
    flush_tags(pinfo);
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

const ws::Field& caused_by_field() { return hf_caused_by; }

proto_item* add_caused_by(proto_tree* tree, tvbuff_t* tvb, std::uint32_t cause_frame) {
    if (cause_frame == 0) return nullptr;
    return add_generated(proto_tree_add_uint(tree, hf_caused_by, tvb, 0, 0, cause_frame));
}

void info_tag(packet_info* pinfo, const char* label) {
    reset_tags(pinfo);
    if (!label) return;
    auto& t = info_tags;
    for (std::size_t i = 0; i < t.count; ++i)
        if (std::strcmp(t.labels[i], label) == 0) return;
    if (t.count < t.labels.size()) t.labels[t.count++] = label;
}

}  // namespace sipsleuth::siptrack

SIPSLEUTH_PROTOCOL(sipsleuth::siptrack::proto_register_siptrack, sipsleuth::siptrack::proto_reg_handoff_siptrack)
