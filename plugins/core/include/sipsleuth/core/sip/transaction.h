// SPDX-License-Identifier: GPL-2.0-or-later
// SIP transactions as RFC 3261 sections 17.1.3 and 17.2.3 match them, seen from a capture point: the
// top Via branch and sent-by and the method (the CSeq method for responses). An ACK to a non-2xx final
// response belongs to the INVITE transaction; a CANCEL is its own transaction with the INVITE's branch,
// linked to the INVITE it cancels; an ACK to a 2xx is its own end-to-end request. A branch without
// RFC 3261's magic cookie falls back to RFC 2543 matching (Call-ID, From tag, CSeq, top Via; the
// Request-URI tells requests apart).
//
// A retransmission is the same transaction's same message again IN THE SAME DIRECTION (same source and
// destination endpoints): a proxy's forward has its own top Via branch and is a new transaction; a
// message reflected back (source and destination swapped) or a copy on another path is seen again but
// is no retransmission. TCP retransmissions that Wireshark does not hand to SIP again are mapped back to
// the messages of the same direction whose bytes they repeat.
//
// State is O(open transactions): a transaction is forgotten `linger` after its final response (or last
// copy), `pending_linger` after its last message while it has no final response, measured on message
// times and checked lazily from a time-ordered queue. The table is bounded; a full table tracks nothing
// new and says so in each result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/sip/expiry.h"
#include "sipsleuth/core/sip/flat_index.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/time.h"

namespace sipsleuth::core::sip {

/// A transaction's id: from 1 in creation order, never reused; 0 means none.
using TxnId = std::uint32_t;

/// One SIP message of the capture: frame number (0: none), message index in the frame, time.
struct MessageRef {
    std::uint32_t frame = 0;
    std::uint32_t index = 0;
    Nanos time = 0;
    bool known() const { return frame != 0; }
    bool operator==(const MessageRef& o) const { return frame == o.frame && index == o.index && time == o.time; }
};

struct TransactionLimits {
    std::size_t max_transactions = 65536;
    /// Forgotten this long after the final response or the last copy of any message (64*T1, RFC 3261
    /// section 17: the longest a transaction stays in its completed state).
    Nanos linger = 32 * kSecond;
    /// Without a final response: forgotten this long after its last message (Timer C, RFC 3261
    /// section 16.6 step 11: an INVITE may ring for minutes after its last provisional response).
    Nanos pending_linger = 180 * kSecond;
    /// TCP byte ranges of recent messages kept for on_tcp_retransmission: each for `linger`, at most this
    /// many (the oldest dropped first).
    std::size_t max_tcp_ranges = 65536;
};

/// What the layer keeps of one transaction. Callers may write back links (e.g. a later finding onto the
/// request's frame) by reading it through TransactionLayer::find(). (A pooled one is reset field by field
/// in TransactionLayer::create: a new field is reset there too.)
struct Transaction {
    TxnId id = 0;
    std::string method;  ///< INVITE, REGISTER, CANCEL, ACK (an ACK to a 2xx), ...
    bool rfc3261 = true; ///< matched by branch (false: RFC 2543 fallback)
    bool request_seen = false;     ///< false when created by a response whose request was not captured
    bool request_in_dialog = false; ///< the request carried a To tag
    MessageRef first_request;      ///< first copy of the request (unknown when not seen)
    MessageRef last_request;       ///< latest copy in the first copy's direction
    std::uint32_t request_copies = 0;  ///< copies in the first copy's direction
    MessageRef first_response;     ///< first response of any status
    MessageRef final_response;     ///< first final response (>= 200)
    std::uint32_t final_status = 0;
    MessageRef ack;                ///< INVITE with a non-2xx final: the first ACK (same transaction)
    TxnId cancels = 0;             ///< CANCEL: the INVITE transaction it cancels (0: not seen)
    TxnId cancelled_by = 0;        ///< INVITE: the first CANCEL transaction for it
    Nanos last_activity = 0;       ///< time of its latest message
};

/// The layer's verdict on one message: plain values, valid after later calls.
struct TxnVerdict {
    TxnId id = 0;               ///< 0: no transaction (no top Via or CSeq, table full, orphan of a full table)
    bool full = false;          ///< the table was full: the message's new transaction was not tracked
    bool created = false;       ///< this message created the transaction
    /// The same message (request copy, or response with the same status and To tag) seen before in the
    /// same direction: a retransmission (RFC 3261 section 17.1.1.2, 17.1.2.2, 17.2.1).
    bool retransmission = false;
    /// Seen before only in another direction (reflected back, or captured on another path): not a
    /// retransmission, and not counted in `copy`.
    bool reflected = false;
    /// A retransmission carried by the same TCP bytes (same stream, overlapping sequence range) as an
    /// earlier copy: TCP's retransmission, not SIP's.
    bool tcp_duplicate = false;
    std::uint32_t copy = 1;     ///< 1-based copy number in this direction (1 when reflected)
    Nanos previous_time = 0;    ///< copy > 1: time of the previous copy in this direction (back-off)
    MessageRef first;           ///< the first copy of this same message (this message when copy == 1)
    /// Responses and an ACK to a non-2xx: the request's first copy (unknown when not captured);
    /// requests: equal to `first`.
    MessageRef request;
    bool response = false;
    bool first_final = false;   ///< a response: the transaction's first final response
    bool ack_of_non2xx = false; ///< an ACK that joined its INVITE transaction (RFC 3261 section 17.1.1.3)
    MessageRef final_response;  ///< a request: the final response when already seen (a late retransmission)
    std::uint32_t final_status = 0; ///< the transaction's first final status, 0 when none yet
    TxnId cancels = 0;          ///< a CANCEL: the INVITE transaction it cancels (0: not seen)
    bool request_seen = false;  ///< the transaction's request was captured
    bool request_in_dialog = false;  ///< ... and carried a To tag (for the dialog layer)
};

/// One earlier message of a TCP segment that Wireshark marked as retransmission.
struct TcpRetransmissionHit {
    TxnId id = 0;  ///< its transaction (0: it had none)
    std::uint32_t frame = 0;
    std::uint32_t index = 0;
};

class TransactionLayer {
public:
    explicit TransactionLayer(TransactionLimits limits = {});

    /// Matches one parsed message (with frame, index, time, flow and, for TCP, its sequence range) to its
    /// transaction. Messages are given in capture order; times may step back a little.
    TxnVerdict on_message(const Message& m);
    /// A TCP segment Wireshark marked as retransmission (not dissected as SIP again): the messages seen
    /// earlier on the same stream IN THE SAME DIRECTION whose sequence range overlaps the segment's,
    /// oldest first, at most 16. Never a message of the other direction.
    std::vector<TcpRetransmissionHit> on_tcp_retransmission(const Frame& f);

    /// The transaction with that id while it is remembered, or nullptr. The pointer is valid until the
    /// next on_message call.
    const Transaction* find(TxnId id) const;
    Transaction* find(TxnId id);
    /// Transactions remembered now.
    std::size_t size() const { return live_; }
    /// True once a transaction could not be tracked because the table was full.
    bool overflowed() const { return overflowed_; }
    /// TCP ranges remembered now.
    std::size_t tcp_ranges() const { return tcp_count_; }
    /// Queue and index entries looked at so far (for tests proving the work is O(1) amortised).
    std::uint64_t work_done() const { return work_; }
    const TransactionLimits& limits() const { return limits_; }

private:
    static constexpr std::size_t kInlineResponses = 4;
    struct Response {  // one distinct response (status, To tag) and where it went
        std::uint32_t status = 0;
        std::uint64_t to_tag = 0, direction = 0;
        MessageRef first;
        Nanos last_time = 0;
        std::uint32_t copies = 0;
    };
    // Pooled: a forgotten transaction's entry is reused with its strings' and vector's capacity.
    struct Entry {
        Transaction txn;
        detail::Fingerprint key;
        std::string request_uri;       // RFC 2543 only: tells requests of one key apart
        std::uint64_t request_direction = 0;
        std::uint64_t sent_by = 0;     // the request's top Via sent-by, hashed (RFC 3261 section 17.2.3)
        std::uint32_t tcp_stream = 0, tcp_seq = 0;
        bool tcp_request = false;
        std::uint64_t ack_direction = 0;
        std::uint32_t ack_copies = 0;
        Nanos ack_last = 0;
        // The distinct responses, at most kMaxResponses: the first kInlineResponses in the entry itself
        // (an INVITE's 100, 180, 200), any further ones in `more_responses`. Inline, a transaction costs
        // no heap block of its own: nothing to allocate when the pool grows, nothing to free at the end.
        Response responses[kInlineResponses];
        std::uint32_t response_count = 0;
        std::vector<Response> more_responses;
        Nanos forget_at = 0;
        Response& response(std::size_t i) { return i < kInlineResponses ? responses[i] : more_responses[i - kInlineResponses]; }
    };
    struct TcpRange {
        std::uint64_t key = 0;  // stream and direction
        std::uint32_t seq_begin = 0, seq_end = 0;
        TxnId id = 0;
        std::uint32_t frame = 0, index = 0;
        Nanos time = 0;
    };

    void expire(Nanos now);
    Entry* entry(TxnId id) const;
    Entry* lookup(const detail::Fingerprint& key);
    Entry* create(const detail::Fingerprint& key, const Message& m, TxnVerdict& v);
    void forget(std::uint32_t slot);
    void touch(Entry& e, Nanos t);
    void on_request(const Message& m, TxnVerdict& v);
    void on_response(const Message& m, TxnVerdict& v);
    void record_tcp(const Message& m, TxnId id);

    TransactionLimits limits_;
    TxnId next_id_ = 1;
    bool overflowed_ = false;
    std::uint64_t work_ = 0;
    mutable detail::ChunkedPool<Entry> pool_;  // slots; a live one has txn.id != 0
    std::vector<std::uint32_t> free_;     // free slots
    std::size_t live_ = 0;
    detail::FlatIndex by_id_;   // id -> slot + 1
    detail::FlatIndex by_key_;  // matching key -> slot + 1
    detail::ExpiryQueues<2> expiry_;  // without, with a final response
    std::unordered_map<std::uint64_t, std::deque<TcpRange>> tcp_;  // by stream and direction
    std::deque<std::pair<Nanos, std::uint64_t>> tcp_order_;  // each range's time and key, oldest first
    std::size_t tcp_count_ = 0;
};

}  // namespace sipsleuth::core::sip
