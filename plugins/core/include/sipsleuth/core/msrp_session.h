// SPDX-License-Identifier: GPL-2.0-or-later
// MSRP session analysis (RFC 4975, RFC 6135): one MSRP message parsed from the bytes of a TCP
// segment, and a tracker that follows SIP offer/answer pairs (core::sip::Message with the transaction
// layer's verdict: an answer belongs to its offer's transaction), the TCP connections that carry their
// MSRP, transactions (SEND/response by transaction id), TCP retransmissions and acknowledgements of
// the segments holding SENDs, chunked messages and session binding. Field case 001: both ends
// a=setup:active through a splicing SBC; SENDs retransmitted, never answered, and the callee fails
// with MSRPBindSessionTimeout after 10 s. The tracker sees each frame once, in capture order, and
// returns notes: facts and findings for the current frame, and findings learnt later written back
// onto the frame they are about. Times are integer nanoseconds (core/time.h). State is bounded (Limits)
// and says so when a bound is reached.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/sdp_msrp.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"
#include "sipsleuth/core/text.h"
#include "sipsleuth/core/time.h"

namespace sipsleuth::core {

/// Byte-Range: start-end/total; end or total nullopt for `*` (RFC 4975 section 7.1.1).
struct MsrpByteRange {
    std::uint64_t start = 0;
    std::optional<std::uint64_t> end, total;
};

enum class MsrpProblemKind : std::uint8_t {
    bad_start_line,
    bad_header,
    bad_path,
    bad_byte_range,
    no_end_line,
    too_many_headers,
    missing_header
};

struct MsrpProblem {
    MsrpProblemKind kind;
    Span where;
    std::string message;  ///< sentence case, no period
};

/// One MSRP request or response; spans relative to the bytes parsed.
struct MsrpMessage {
    bool valid = false;  ///< the start line is an MSRP start line
    std::string transaction_id;
    Span transaction_id_span;
    bool is_response = false;
    std::string method;        ///< requests
    std::uint16_t status = 0;  ///< responses
    std::string reason;
    Span start_line;
    std::vector<MsrpUri> to_path, from_path;
    Span to_path_span, from_path_span;
    std::string message_id;
    Span message_id_span;
    std::optional<MsrpByteRange> byte_range;
    Span byte_range_span;
    std::string content_type;
    Span content_type_span;
    std::string failure_report;  ///< "yes", "no", "partial"; empty when absent
    Span body;
    char flag = 0;  ///< '$' complete, '+' more chunks, '#' aborted; 0 without an end-line
    Span end_line;
    std::size_t length = 0;  ///< bytes up to the end of the end-line (or all of them without one)
    std::vector<MsrpProblem> problems;
    /// Session id of the last To-Path URI (the receiving session); empty when none.
    std::string to_session_id() const { return to_path.empty() ? std::string() : to_path.back().session_id; }
    /// Session id of the last From-Path URI (the sending session: each relay puts its own URI in front,
    /// RFC 4976); empty when none.
    std::string from_session_id() const { return from_path.empty() ? std::string() : from_path.back().session_id; }
};

/// Limits on one message: header lines examined, bytes searched for the end-line.
struct MsrpLimits {
    std::size_t max_headers = 64;
    std::size_t max_bytes = 1024 * 1024;
};

/// Parses the first MSRP message of bytes; never throws. valid == false when bytes do not start with
/// an MSRP start line; a message without its end-line (truncated, or continued in a later segment)
/// has flag 0 and a no_end_line problem.
MsrpMessage parse_msrp_message(std::string_view bytes, const MsrpLimits& limits = {});

/// What a note says; the plugin maps each to a field or expert info.
enum class NoteKind : std::uint8_t {
    // SDP (frame of the SIP message carrying it)
    sdp_setup,         ///< text: role as written, or "absent"
    sdp_path,          ///< text: the a=path value
    sdp_session_id,    ///< text
    sdp_endpoint,      ///< text: host:port
    sdp_accept_types,  ///< text
    offer_in,          ///< number: frame of the offer (on the answer)
    answer_in,         ///< number: frame of the answer (written back onto the offer)
    connection_model,  ///< number: ConnectionModel
    both_active,       ///< expert (on the answer): a cause
    both_active_relayed,  ///< expert (on the answer): both active on another leg of a session already reported
    nobody_connects,   ///< expert (on the answer)
    // connection (each MSRP message)
    conn_sdp_answer,    ///< number: frame of the SDP answer of this connection's session
    conn_call_id,       ///< text: SIP Call-ID of that session
    conn_opened_by,     ///< text: "offerer 10.0.0.1:5000" / "answerer ..."
    unexpected_opener,  ///< expert
    path_mismatch,      ///< expert (first SEND of a connection)
    // transactions
    response_in,           ///< number: frame (on the request)
    request_in,            ///< number: frame (on the response)
    response_time,         ///< duration (on the response)
    duplicate_tid,         ///< expert
    report_of,             ///< number: frame of the SEND a REPORT reports on
    report_in,             ///< number: frame of the REPORT (written back onto the SEND)
    send_unanswered,       ///< expert (on the frame where it became known, and on the SEND)
    retransmission_of,     ///< number: frame of the SEND whose segment this frame retransmits
    send_retransmissions,  ///< number: count so far (upserted onto the SEND)
    send_retransmitted,    ///< expert (on the retransmission, and upserted onto the SEND)
    // binding
    bind_timeout,           ///< expert (where known, and on the SDP answer)
    bind_elapsed,           ///< duration from the answer to the frame where the timeout became known
    session_ended_unbound,  ///< expert (on the BYE)
    // chunks
    chunk_number,          ///< number: 1 for the first chunk of a Message-ID
    message_complete,      ///< number: 1 complete ($ and all bytes), 0 aborted (#)
    message_chunks,        ///< number: chunks of the message (on its last chunk)
    message_bytes,         ///< number: bytes of the message (on its last chunk)
    message_content_type,  ///< text: Content-Type of the message's first chunk (on its last chunk)
    message_incomplete,    ///< expert: the session or connection ended before the last chunk
    // bounds
    tracking_full,  ///< expert
};

/// What a frame a finding names is to it; the plugin shows each as an FT_FRAMENUM field after the finding.
enum class LinkKind : std::uint8_t {
    sdp_offer,            ///< the SDP offer of the session the finding is about
    sdp_answer,           ///< the SDP answer of that session
    send,                 ///< a SEND the finding is about (unanswered; sent to an unbound session)
    last_retransmission,  ///< the last TCP retransmission of the SEND
    first_use,            ///< the request that used the transaction id first
    last_chunk,           ///< the last chunk of an incomplete message
};
struct Link {
    LinkKind kind;
    std::uint32_t frame = 0;
};

/// A fact or finding for `frame`. upsert: replaces an earlier note of the same kind on that frame.
/// cause: for a finding that is a consequence of a root cause reported elsewhere (both ends
/// a=setup:active), the frame where that cause is reported; 0 when the finding stands on its own.
struct Note {
    NoteKind kind;
    std::uint32_t frame = 0;
    std::uint64_t number = 0;
    Nanos duration = 0;  ///< response_time, bind_elapsed
    std::string text;
    bool upsert = false;
    std::uint32_t cause = 0;
    std::vector<Link> links{};
};


/// Follows SDP sessions, their MSRP connections and transactions (see file comment).
class MsrpTracker {
public:
    struct Limits {
        std::size_t max_sessions = 10000;
        std::size_t max_transactions = 100000;
        Nanos send_timeout = 30 * kSecond;  ///< before an unanswered SEND is reported
        Nanos bind_timeout = 10 * kSecond;  ///< after the answer, for a session to receive a SEND
    };
    explicit MsrpTracker(const Limits& limits) : limits_(limits) {}

    /// Checks time-outs; call first for every frame the plugin sees, with its time.
    void tick(std::uint32_t frame, Nanos time, std::vector<Note>& out);
    /// One SIP message (frame and time filled) with the transaction layer's verdict on it; sdp is the
    /// MSRP media of its SDP body, nullptr when it carries none. An offer is answered by a response of
    /// its own transaction (txn.id; without one, by Call-ID, From tag and CSeq); a request copy that is
    /// a retransmission or a reflection starts no second session.
    void on_sip(const sip::Message& m, const sip::TxnVerdict& txn, const SdpMsrp* sdp, std::vector<Note>& out);
    /// Every TCP segment (frame.tcp set) that wants_segment() accepted; with msg when it starts an MSRP
    /// message.
    void on_tcp(const sip::Frame& frame, const MsrpMessage* msg, std::vector<Note>& out);
    /// The same for a segment carrying several MSRP messages back to back from the start of its payload
    /// (a SEND and the 200 for the peer's SEND often share one): each one's length places the next.
    void on_tcp(const sip::Frame& frame, const std::vector<MsrpMessage>& msgs, std::vector<Note>& out);
    /// True when the TCP segment belongs to a tracked connection or opens one (SYN) to a known MSRP
    /// endpoint.
    bool wants_segment(const sip::Frame& frame) const;
    bool empty() const { return sessions_.empty(); }
    /// Items the close and BYE steps looked at so far (open SENDs, unfinished chunked messages): for
    /// tests proving a connection's close looks at its own open items only, not at every connection's.
    std::uint64_t work_done() const { return work_; }

private:
    struct Txn;
    struct Chunks;
    /// Open items of one connection or session, oldest first, each with the order it was opened in.
    /// Items that are no longer open stay until the list is next read or doubles (then it is compacted),
    /// so it holds at most about twice the open items.
    template <class T>
    struct OpenList {
        std::vector<std::pair<T*, std::uint64_t>> items;
        std::size_t mark = 16;
    };
    enum Party : std::uint8_t { offerer = 0, answerer = 1 };
    struct Side {
        std::string host, sid;
        std::uint16_t port = 0;
        SetupRole setup = SetupRole::absent;
        bool via_relay = false;  ///< its a=path has relays before the endpoint (RFC 4976)
    };
    struct Session {
        std::string call_id, dialog;
        std::string offer_id;  ///< Call-ID, From tag and CSeq of the offer: the same on a proxy's two legs
        std::uint32_t offer_frame = 0, answer_frame = 0;
        /// Where this session's both-active is reported as the cause of its incident: its own answer, or
        /// the answer of another leg of the same MSRP session (a B2BUA's, same a=path session ids) that
        /// was reported first; 0 when both ends are not active.
        std::uint32_t cause_frame = 0;
        Nanos answer_time = 0;
        Side side[2];
        bool answered = false, any_200 = false, ended = false, watched = false;
        bool relayed = false;  ///< cause_frame is another leg's answer
        ConnectionVerdict verdict{};
        OpenList<Txn> open_sends;     ///< SENDs awaiting a response
        OpenList<Chunks> open_chunks; ///< chunked messages without their last chunk
        std::vector<std::string> watch_sids;  ///< its entries of watches_
        std::vector<std::string> endpoints;   ///< its keys in by_endpoint_ (both sides at the first answer)
    };
    struct Conn {
        Endpoint client, server;
        bool syn_seen = false, first_send_checked = false;
        std::uint8_t closes = 0;  ///< 1: the client's FIN seen, 2: the server's, 4: a RST
        std::optional<std::size_t> session;
        Party client_party = offerer;
        std::vector<std::string> undelivered[2];  ///< [0] requests from the server, [1] from the client
        OpenList<Txn> open_sends;
        OpenList<Chunks> open_chunks;
    };
    struct Txn {
        std::uint32_t frame = 0, stream = 0, response_frame = 0;
        Nanos time = 0;
        std::string tid, method, to_sid, message_id;
        bool from_client = false, delivered = false, answered = false, reported = false, expects_response = true;
        std::uint32_t seq = 0, seq_end = 0, retransmissions = 0;
        std::optional<std::size_t> session;
        std::uint64_t order = 0;  ///< when it joined open_txns_
        bool open() const { return !answered && !reported; }
    };
    struct Watch {
        std::string sid, host;
        std::uint16_t port = 0;
        std::uint32_t answer_frame = 0;
        Nanos answer_time = 0;
        std::size_t session = 0;
        bool bound = false, closed = false;
        std::vector<std::uint32_t> send_frames;
    };
    struct Chunks {
        std::uint32_t count = 0, last_frame = 0, stream = 0;
        std::uint64_t bytes = 0;
        std::optional<std::uint64_t> total;
        std::optional<std::size_t> session;
        std::string message_id, content_type;
        bool ended = false;
        std::uint64_t order = 0;  ///< when its first chunk came (a reused Message-ID starts again)
        bool open() const { return !ended && count > 0; }
    };

    void sdp_notes(const SdpMsrpMedia& m, std::uint32_t frame, std::vector<Note>& out) const;
    void on_bye(const sip::Message& m, std::vector<Note>& out);
    /// Both ends active on an answer: the cause of its incident, or a note linked to the other leg of the
    /// same MSRP session where that cause was reported first.
    void report_both_active(Session& s, const sip::Message& sip, std::vector<Note>& out) const;
    void answer(Session& s, std::size_t index, const sip::Message& m, const SdpMsrpMedia& media, std::vector<Note>& out);
    Conn* connection(const sip::Frame& f, std::vector<Note>& out);
    std::optional<std::size_t> find_session(const Endpoint& server, const std::string& client,
                                            Party* client_party) const;
    /// Adds (or removes) session index's entries of at_endpoint_ and at_endpoint_from_ for its sides now.
    void index_sides(std::size_t index, bool add);
    /// The session a message belongs to: the connection's when the message's session ids are its,
    /// else the latest answered session with one of those ids (a connection reused by a later session,
    /// RFC 4975 section 5.4), else the connection's.
    std::optional<std::size_t> session_of(const Conn& c, const MsrpMessage& msg) const;
    bool has_sid(std::size_t session, const MsrpMessage& msg) const;
    /// Before a connection's first SEND is checked: moves the connection to the session that SEND names
    /// when that session's SDP has the connection's server endpoint.
    void adopt_session(Conn& c, const MsrpMessage& msg) const;
    void on_request(const sip::Frame& f, std::uint32_t seq, Conn& c, const MsrpMessage& msg, std::vector<Note>& out);
    void on_response(const sip::Frame& f, Conn& c, const MsrpMessage& msg, std::vector<Note>& out);
    void retransmitted(const sip::Frame& f, bool from_client, std::vector<Note>& out);
    void delivered(Txn& t);
    void unanswered(Txn& t, std::uint32_t frame, Nanos time, const std::string& why, std::vector<Note>& out);
    void full(std::uint32_t frame, const char* what, std::vector<Note>& out);
    /// Reports the chunked messages of the lists that never got their last chunk, oldest first, and
    /// empties the lists.
    void incomplete_messages(const std::vector<OpenList<Chunks>*>& lists, std::uint32_t frame, const std::string& why,
                             std::vector<Note>& out);
    /// Reports the SENDs of the lists still unanswered, oldest first, and empties the lists.
    void unanswered_sends(const std::vector<OpenList<Txn>*>& lists, std::uint32_t frame, Nanos time,
                          const std::string& why, std::vector<Note>& out);
    template <class T>
    static void open_item(OpenList<T>& list, T* item);
    static std::string txn_key(std::uint32_t stream, bool from_client, const std::string& tid);
    static std::string endpoint(const std::string& host, std::uint16_t port);
    static std::string endpoint(const Endpoint& e) { return endpoint(e.address, e.port); }
    /// The key of the offer an SDP offer or answer belongs to: its transaction, else its dialog and CSeq.
    static std::string offer_key(const sip::Message& m, const sip::TxnVerdict& txn);

    Limits limits_;
    std::deque<Session> sessions_;
    std::unordered_map<std::string, std::size_t> pending_offers_;    // offer_key -> session
    std::unordered_multimap<std::string, std::size_t> by_endpoint_;  // host:port of either side -> session
    /// find_session's answers without a pass over every session of an endpoint (a relay's one port):
    /// (session, side) pairs whose side is now at the endpoint, by endpoint and by endpoint + the host
    /// of the other side. Kept up to date when a later answer moves the answerer.
    using SideSet = std::set<std::pair<std::size_t, int>>;
    std::unordered_map<std::string, SideSet> at_endpoint_;
    std::unordered_map<std::string, SideSet> at_endpoint_from_;
    std::unordered_map<std::string, std::size_t> by_sid_;            // a=path session id -> latest session
    std::unordered_multimap<std::string, std::size_t> by_call_;      // SIP Call-ID -> its sessions
    std::unordered_map<std::uint32_t, Conn> conns_;
    std::unordered_map<std::string, Txn> txns_;
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::string> by_seq_;  // (stream, side<<32|seq) -> txn key
    std::deque<std::string> open_txns_;               // in time order: SENDs not yet answered or reported
    std::unordered_map<std::string, Watch> watches_;  // by session id
    std::deque<std::string> open_watches_;            // in answer order
    std::unordered_map<std::string, Chunks> chunks_;  // stream/side/Message-ID
    bool full_reported_ = false;
    std::uint64_t next_order_ = 0, work_ = 0;
};

}  // namespace sipsleuth::core
