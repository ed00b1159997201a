// SPDX-License-Identifier: GPL-2.0-or-later
// Follows SIP subscriptions (RFC 6665 section 4.4.1: a subscription is a dialog, identified by Call-ID
// and both tags, plus the Event package and its id parameter; RFC 3515 section 2.4.4: the implicit
// subscription of a REFER, whose NOTIFYs carry Event: refer;id=<REFER CSeq>) across TCP connections and
// UDP flows, and names why NOTIFYs are lost (field case 000: a sipX RLS writing a NOTIFY down the
// connection a rebooted Polycom abandoned, the RST that kills it, the 481 half an hour later). The
// tracker is fed the suite's one SIP model (sip::Frame, sip::Message) with the verdicts of the
// transaction and dialog layer (which request a response answers, which request is a retransmission,
// whether a NOTIFY's tags name a dialog at all), in capture order, once (Wireshark's first pass), and
// returns what to show on each message plus findings about earlier messages learnt now (write-backs).
// Times are integer nanoseconds. Pure C++: no Wireshark type; bounded by Limits.
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sipsleuth/core/flow.h"
#include "sipsleuth/core/sip/dialog.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"
#include "sipsleuth/core/sip_header.h"
#include "sipsleuth/core/time.h"

namespace sipsleuth::core {

/// Each finding siptrack can name; the plugin maps each onto its own expert field. An incident is one
/// root cause and its consequences: a consequence (SubNote::consequence) is shown as a note carrying a
/// link to its cause's frame, so that the Expert Information dialog counts one warning or error per
/// incident. "cause" below is the severity a finding has as a root cause.
enum class SubFinding : std::uint8_t {
    created,                   ///< chat: a new subscription (initial SUBSCRIBE or REFER)
    refreshed,                 ///< chat: SUBSCRIBE refresh
    terminated,                ///< note: NOTIFY with Subscription-State terminated (reason given)
    notify_on_stale_flow,      ///< cause, error: NOTIFY on a connection the subscriber abandoned
    notify_orphaned,           ///< cause, warning: stale-flow NOTIFY of a subscription a newer one replaced
    notify_off_subscription_flow,  ///< note: NOTIFY on another live connection than the SUBSCRIBE's
    notify_reset,              ///< cause, error: the subscriber answered the NOTIFY's segment with RST
    notify_unanswered,         ///< cause, error: no final response within Timer F or before the end
    notify_rejected,           ///< cause, warning: NOTIFY answered with a final non-2xx other than 481
    subscription_481,          ///< cause, warning: 481 to a refresh or a NOTIFY
    subscription_recovered,    ///< consequence, note: first NOTIFY accepted after a failure, with the outage
    unsubscribe_without_close, ///< note: un-SUBSCRIBE, connection left open, new connection
    unsubscribe_unconfirmed,   ///< cause, warning: no terminating NOTIFY within Timer F of an un-SUBSCRIBE's 2xx
    subscription_expired,      ///< cause, warning: refresh or non-final NOTIFY after the expiry
    notify_after_termination,  ///< cause, warning: NOTIFY after the subscription was terminated
    bad_event,                 ///< error: Event header that is not `package *(;param)`
    bad_subscription_state,    ///< error: Subscription-State that cannot be parsed
    notify_without_state,      ///< warning: NOTIFY without Subscription-State (RFC 6665 8.2.3)
    missing_event,             ///< warning: SUBSCRIBE or NOTIFY without Event (RFC 6665 8.2.1)
    notify_unknown_dialog,     ///< warning: NOTIFY whose tags name no subscription dialog of a known notifier
    table_full,                ///< note: subscription table full, this one is not tracked
    flow_table_full,           ///< note: flow table full, this flow is not tracked
};

/// The finding's name as in its expert field, without the `siptrack.` prefix.
const char* finding_name(SubFinding f);

/// Frames a finding names, shown as link fields (0: none) instead of words in its message.
struct SubLinks {
    std::uint32_t subscribe_frame = 0;     ///< the subscription's latest SUBSCRIBE (or REFER)
    std::uint32_t rst_frame = 0;           ///< the subscriber's RST
    std::uint32_t fin_frame = 0;           ///< the subscriber's FIN
    std::uint32_t last_traffic_frame = 0;  ///< the subscriber's last packet on the abandoned flow
    std::uint32_t new_flow_frame = 0;      ///< the subscriber's first request on its newer connection
    std::uint32_t recovered_in = 0;        ///< the NOTIFY whose acceptance ended an outage
    std::uint32_t replaced_by = 0;         ///< the SUBSCRIBE of the subscription that replaced this one
    std::uint32_t notify_frame = 0;        ///< the NOTIFY a finding about its transaction concerns
};

/// A finding with its message (at most 200 bytes: the GUI cuts an expert label at 240), its role in
/// its incident and its links.
struct SubNote {
    SubNote() = default;
    SubNote(SubFinding k, std::string m) : kind(k), message(std::move(m)) {}
    SubFinding kind = SubFinding::created;
    std::string message;
    /// A consequence of an earlier finding (a note in the plugin, with caused_by when nonzero).
    bool consequence = false;
    /// The frame of the cause (0: this is a cause, or the cause is this very frame).
    std::uint32_t caused_by = 0;
    /// Reported here on the first pass because only here it became known (an RST, a timer): revisits
    /// show the cause on the message it concerns (a write-back) and this copy as its consequence.
    bool moved_on_revisit = false;
    SubLinks links;
};

/// What siptrack shows on one message that belongs to a subscription (or the problems of one that
/// could not be matched: notes only, subscription 0).
struct MessageReport {
    std::uint32_t subscription = 0;  ///< 1, 2, ... in order of appearance; 0: none
    std::string event, event_id;
    std::string kind;                ///< initial, refresh, unsubscribe, REFER, NOTIFY, retransmission, copy, response
    std::string state, reason;       ///< the subscription's state after this message
    FlowRef flow;                    ///< the flow this message travels on (describe() for its name)
    std::optional<FlowRef> subscription_flow;  ///< the flow of the latest SUBSCRIBE (or REFER)
    std::optional<Nanos> expiry;     ///< absolute (capture clock)
    std::optional<Nanos> time_left;  ///< expiry - message time
    std::uint32_t notify_count = 0;  ///< on a NOTIFY: its ordinal; elsewhere: NOTIFYs so far
    std::optional<Nanos> first_notify_delay;
    std::optional<std::uint32_t> request_in, response_in, retransmission_of;
    std::optional<Nanos> response_time;
    std::vector<SubNote> notes;
};

/// A finding or link about an earlier message (frame, index), learnt now: the plugin writes it back so
/// later passes (tshark -2, the GUI) show it on that message too.
struct WriteBack {
    std::uint32_t frame = 0, index = 0;
    std::optional<SubNote> note;
    std::optional<std::uint32_t> response_in;
    std::optional<Nanos> response_time;
};

/// Findings of the current frame that belong to no SIP message of it (an RST, a timer that ran out)
/// and write-backs; filled by every call.
struct TrackerOutput {
    std::vector<SubNote> frame_notes;
    std::vector<std::uint32_t> frame_subscriptions;  ///< subscriptions the frame_notes are about
    std::vector<WriteBack> write_backs;
};

/// What does not change over a subscription's life (URIs and addresses); reports leave these out, the
/// plugin reads them here when it renders (one copy per subscription, not per message).
struct SubscriptionFacts {
    std::string subscriber, notifier;  ///< URIs
    std::string subscriber_address, notifier_address;
};

/// One subscription's summary (a row of `tshark -z siptrack,subscriptions`).
struct SubscriptionSummary {
    std::uint32_t id = 0;
    std::string call_id;  ///< of the subscription's dialog
    std::string subscriber, notifier, event, state;
    std::vector<std::string> flows;  ///< every flow its messages used, in order (at most 8)
    std::uint32_t notifies = 0, answered = 0;
    std::vector<std::string> findings;  ///< names of warnings and errors, once each
    Nanos outage = 0;                   ///< time between failures and recoveries
};

class SubscriptionTracker {
public:
    struct Limits {
        std::size_t max_subscriptions = 100000;
        std::size_t max_flows = 100000;
        Nanos timer_f = 32 * kSecond;  ///< RFC 3261 Timer F: 64 * T1
        Nanos expiry_grace = 0;        ///< past the expiry before a refresh counts as late
    };
    explicit SubscriptionTracker(Limits limits) : limits_(limits), flows_(limits.max_flows) {}
    /// Not copyable: subscriptions point into the tracker's own tables.
    SubscriptionTracker(const SubscriptionTracker&) = delete;
    SubscriptionTracker& operator=(const SubscriptionTracker&) = delete;

    /// Timers: every packet, first, with its time: NOTIFYs whose Timer F ran out become unanswered.
    /// Cheap when nothing is due.
    void advance(Nanos time, std::uint32_t frame, TrackerOutput& out);
    /// Whether advance() has anything to do at `time`.
    bool due(Nanos time) const {
        return (!pending_.empty() && pending_.front().deadline <= time) ||
               (!unsub_waits_.empty() && unsub_waits_.front().deadline <= time);
    }
    /// A TCP segment or UDP datagram (before its SIP messages, if any): updates a tracked flow (last
    /// traffic, FIN, RST) and names the NOTIFYs an RST kills. Returns false when the flow is not tracked.
    bool packet(const sip::Frame& f, TrackerOutput& out);
    /// One SIP message (frame, index, time and flow filled) with the transaction and dialog layers'
    /// verdicts on it. Messages that are not SUBSCRIBE, NOTIFY, REFER or their responses only update
    /// flows (a REGISTER on a new connection matters to the stale-flow finding).
    MessageReport message(const sip::Message& m, const sip::TxnVerdict& txn, const sip::DialogVerdict& dialog,
                          TrackerOutput& out);
    /// The capture ended: NOTIFYs still waiting become unanswered (write-backs only).
    void finish(TrackerOutput& out);

    /// Facts of subscription id (1-based), or nullptr; valid until the next message() or packet().
    const SubscriptionFacts* facts(std::uint32_t id) const {
        return id == 0 || id > subs_.size() ? nullptr : &subs_[id - 1].facts;
    }
    /// Summary of subscription id (1-based), or nullopt.
    std::optional<SubscriptionSummary> summary(std::uint32_t id) const;
    std::size_t size() const { return subs_.size(); }
    const FlowTable& flows() const { return flows_; }
    /// Items the per-packet steps looked at so far (open NOTIFYs an RST checked, un-SUBSCRIBEs a request
    /// checked, ...): for tests that prove each step costs O(1) amortised, not a scan of all open items.
    std::uint64_t work_done() const { return work_ + flows_.work_done(); }

private:
    enum class State : std::uint8_t { init, pending, active, terminated };
    enum class Method : std::uint8_t { subscribe, refer, notify };
    /// The subscriptions of one subscriber (URI and address), resource and package: a failure of one is
    /// ended by a NOTIFY accepted for it or for a later one (field case 000: a new SUBSCRIBE after 481).
    struct Family {
        bool broken = false;
        std::uint32_t since_frame = 0;  ///< the frame of the failure's root cause
        std::uint32_t broken_sub = 0;   ///< the subscription that failed
        Nanos since_time = 0;
        std::string why;  ///< "NOTIFY frame 27 went unanswered"
        std::uint32_t latest = 0;  ///< the newest subscription of the family
    };
    struct Subscription {
        std::uint32_t id = 0;
        /// RFC 6665 section 4.4.1: the dialog (Call-ID, subscriber's and notifier's tags) and the Event.
        /// The notifier's tag is empty until a 2xx or a NOTIFY names it.
        std::string call_id, subscriber_tag, notifier_tag, event, event_id;
        bool refer = false;
        SubscriptionFacts facts;
        Family* family = nullptr;  ///< node of families_ (stable: unordered_multimap nodes never move)
        std::optional<FlowRef> subscribe_flow;
        std::uint32_t subscribe_frame = 0;
        Nanos created_time = 0;
        std::optional<Nanos> expiry;
        bool expiry_reported = false;
        State state = State::init;
        std::string reason;
        std::uint32_t terminated_frame = 0;
        Nanos terminated_time = 0;
        std::uint32_t notifies = 0, answered = 0;
        bool first_notify_seen = false;
        std::uint32_t last_accepted_frame = 0;
        std::vector<std::string> findings;
        /// flow_key() of the first flows it used, in order, inline (no heap block per subscription);
        /// summary() names them.
        std::array<std::uint64_t, 8> flow_keys_used{};
        std::uint8_t flows_used = 0;
        Nanos outage = 0;
        std::uint32_t last_terminating_notify_frame = 0;  ///< latest NOTIFY with Subscription-State terminated
        std::uint32_t rejected_status = 0;               ///< the latest NOTIFY's non-2xx final (not 481)
        std::uint32_t highest_accepted_cseq = 0;         ///< of the NOTIFYs answered 2xx
    };
    /// What the tracker keeps of one SUBSCRIBE, REFER or NOTIFY transaction of a subscription (the
    /// transaction layer says which messages belong to it).
    struct Transaction {
        std::uint32_t frame = 0, index = 0;  ///< the request's first copy
        Nanos time = 0, deadline = 0;
        std::uint32_t sub = 0;
        Method method = Method::subscribe;
        FlowRef flow;
        bool answered = false, reset = false, notify_terminated = false, refresh = false, unsubscribe = false;
        /// A NOTIFY that carried a root cause (stale flow, after termination): the frame of it; what
        /// befalls the transaction (RST, no answer, 481, rejection) is its consequence.
        std::uint32_t cause = 0;
        std::uint32_t cseq = 0;  ///< the request's CSeq number
        std::optional<std::uint32_t> expires;  ///< a SUBSCRIBE's Expires, for a 2xx without one
    };
    /// A transaction's entry: its live record (if any) and its place in the deadline queue.
    struct Slot {
        Transaction txn;
        bool live = false;
        bool indexed = false;          ///< in notify_index_ (a NOTIFY an RST may still reset)
        std::uint32_t queued = 0;      ///< entries of pending_ naming this transaction
        std::uint64_t first = 0, last = 0;  ///< sequence numbers of the oldest and newest of them
        std::size_t index_pos = 0;     ///< position in its flow's notify_index_ vector
    };
    using Slots = std::unordered_map<sip::TxnId, Slot>;
    struct Pending {
        Nanos deadline;
        Slots::value_type* slot;  ///< node of txns_ (stable: nodes never move)
        std::uint64_t next = 0;   ///< sequence number of the next entry naming the same transaction
    };
    struct Unsubscribe {
        std::uint32_t frame, index;
        Nanos time;
        FlowRef flow;
    };
    /// An accepted un-SUBSCRIBE waiting for its terminating NOTIFY (RFC 6665 section 4.2.2), or a NOTIFY
    /// challenged with 401/407 waiting to be sent again with credentials (challenge: the status).
    struct UnsubWait {
        Nanos deadline;
        std::uint32_t sub, frame, index, ok_frame;
        std::uint32_t challenge = 0, notifies = 0;  ///< the status, and the subscription's NOTIFY count then
        std::uint32_t response_index = 0;
        std::uint32_t cause = 0;
    };
    std::deque<UnsubWait> unsub_waits_;

    /// The subscription of the dialog (call_id, subscriber tag, notifier tag) and event, or nullptr.
    Subscription* find_dialog(std::string_view call_id, std::string_view subscriber_tag, std::string_view notifier_tag,
                              std::string_view event, std::string_view id);
    /// The latest subscription of a subscriber's tag and event, whatever its notifier's tag, or nullptr.
    Subscription* find_subscriber(std::string_view call_id, std::string_view subscriber_tag, std::string_view event,
                                  std::string_view id);
    Subscription* find_for_notify(const sip::Message& m, const std::string& event, const std::string& id);
    Subscription* create_sub(const sip::Message& m, const std::string& event, const std::string& id, bool from_notify,
                             MessageReport& r);
    /// Names the notifier's tag of a subscription that had none (a 2xx or the first NOTIFY).
    void bind_notifier(Subscription& s, std::string_view tag);
    /// A NOTIFY matching no subscription: true (and a note) when its Call-ID and From tag are a known
    /// notifier's while no dialog has its tags: a corrupt or foreign To tag, not a new subscription.
    bool unknown_dialog(const sip::Message& m, const sip::DialogVerdict& dialog, MessageReport& r);
    /// Subscription ids by the hash of their key's parts (hash_parts): an entry counts only when its
    /// subscription's own fields are the key (`same`, a test of a Subscription), so two keys with one
    /// hash never mix subscriptions up; no key is copied or allocated per look-up.
    using IdIndex = std::unordered_multimap<std::uint64_t, std::uint32_t>;
    static std::uint64_t hash_parts(std::initializer_list<std::string_view> parts);
    /// The entry of `index` under hash whose subscription passes same, or index.end().
    template <typename Same>
    IdIndex::iterator find_id(IdIndex& index, std::uint64_t hash, const Same& same) const;
    /// Points the entry whose subscription passes same at id (a new entry when there is none).
    template <typename Same>
    void put_id(IdIndex& index, std::uint64_t hash, std::uint32_t id, const Same& same);
    /// The family of s's subscriber (URI and address), notifier and package; a new one when none.
    Family& family_of(const Subscription& s);
    void fill(const Subscription& s, const sip::Message& m, MessageReport& r) const;
    void add_finding(Subscription& s, SubFinding kind);
    /// Marks s's family broken by s's failure whose root cause is `frame`; not when s is orphaned.
    void break_family(Subscription& s, std::uint32_t frame, Nanos time, std::string why);
    /// The newer live subscription of s's family that replaced s, or nullptr.
    const Subscription* replaced_by(const Subscription& s) const;
    /// The root cause behind a failure of transaction t of s: a cause on the NOTIFY itself, else the
    /// earlier failure of s that still breaks its family; 0 when t's failure is a cause of its own.
    std::uint32_t cause_of(const Transaction& t, const Subscription& s) const;
    void check_unsub_waits(Nanos time, std::uint32_t frame, TrackerOutput& out);
    /// A 401/407 to a NOTIFY whose Timer F ran out: rejected unless another NOTIFY of s followed.
    void challenge_unanswered(const UnsubWait& w, Subscription& s, TrackerOutput& out);
    void on_subscribe(const sip::Message& m, const sip::TxnVerdict& txn, MessageReport& r);
    void on_notify(const sip::Message& m, const sip::TxnVerdict& txn, const sip::DialogVerdict& dialog,
                   MessageReport& r);
    void on_response(const sip::Message& m, const sip::TxnVerdict& txn, MessageReport& r, TrackerOutput& out);
    /// A 481 to a SUBSCRIBE, REFER or NOTIFY transaction t of s: a consequence of s's own failure or of
    /// a cause on the NOTIFY, else a cause.
    void on_481(const sip::Message& m, const Transaction& t, Subscription& s, MessageReport& r);
    /// A request the transaction layer saw before: a retransmission (same direction) or a copy seen in
    /// the other direction. Fills r and returns true; false for a request seen the first time.
    bool seen_before(const sip::Message& m, const sip::TxnVerdict& txn, const char* retransmission_kind,
                     MessageReport& r);
    void record_flow_use(Subscription& s, const FlowRef& flow);
    /// The stale-flow checks of a NOTIFY; true when they found a root cause on it.
    bool check_flow(const sip::Message& m, Subscription& s, MessageReport& r);
    void check_unsubscribes(const sip::Message& m, MessageReport& r, TrackerOutput& out);
    /// Whether the NOTIFY's destination sent anything on its flow (else the capture shows one direction).
    bool subscriber_heard(const FlowRef& notify_flow) const;
    /// The live transaction of id, or nullptr.
    Transaction* find_txn(sip::TxnId id);
    /// Starts transaction t under id and queues its deadline.
    void add_txn(sip::TxnId id, const Transaction& t);
    /// Removes the oldest deadline entry; returns its slot (erased already when nothing names it).
    void pop_pending(Pending& popped);
    void end_txn(Slots::value_type* node);
    void index_notify(Slot& slot);
    void unindex_notify(Slot& slot);
    static std::uint64_t flow_key(Transport t, std::uint32_t stream) {
        return (static_cast<std::uint64_t>(t) << 32) | stream;
    }

    Limits limits_;
    FlowTable flows_;
    std::deque<Subscription> subs_;  ///< by id - 1; a deque: no subscription moves as the table grows
    std::string user_;  ///< scratch normalised user (user_of), reused likewise
    std::vector<ParamView> params_;  ///< scratch: Event and Subscription-State parameters, read in place
    /// call-id, subscriber tag, notifier tag (empty while unknown), event, id -> subscription.
    IdIndex by_dialog_;
    /// call-id, subscriber tag, event, id -> the latest subscription (a SUBSCRIBE sent again after a
    /// 401, a NOTIFY of another notifier of a forked SUBSCRIBE).
    IdIndex by_subscriber_;
    /// call-id, notifier tag -> the latest subscription of that notifier (for unknown_dialog()).
    IdIndex by_notifier_;
    /// call-id, subscriber tag -> the dialog's first refer subscription (a NOTIFY without id).
    IdIndex first_refer_;
    /// hash_parts(subscriber, subscriber address, notifier, event) -> families (checked by family_of).
    std::unordered_multimap<std::uint64_t, Family> families_;
    Slots txns_;
    std::size_t live_txns_ = 0;
    std::deque<Pending> pending_;
    std::uint64_t pending_base_ = 0;  ///< sequence number of pending_.front()
    /// NOTIFYs an RST may still reset (live, unanswered, not reset), by flow (flow_key) and destination
    /// (the side whose RST resets them); each list unordered.
    struct NotifiesTo {
        Endpoint dst;
        std::vector<Slot*> slots;
    };
    std::unordered_map<std::uint64_t, std::vector<NotifiesTo>> notify_index_;
    /// Un-SUBSCRIBEs on TCP waiting to see whether their connection is closed, by "subscriber|notifier"
    /// host pair (a request looks only at its own pair's). Entries before head are done; in capture
    /// order (sorted by frame) a request looks only at the ones older than its connection.
    struct Unsubscribes {
        std::vector<Unsubscribe> items;
        std::size_t head = 0;
        bool sorted = true;
    };
    std::unordered_map<std::string, Unsubscribes> unsubscribes_;
    std::size_t unsubscribe_count_ = 0;
    bool table_full_reported_ = false, flows_full_reported_ = false;
    std::uint64_t work_ = 0;
};

/// "1800.0 s (30.0 min)" for durations of a minute or more, "0.8 s" from a second, "0.8 ms" below;
/// rounded to the digit shown, halves away from zero.
std::string seconds_text(Nanos duration);

}  // namespace sipsleuth::core
