// SPDX-License-Identifier: GPL-2.0-or-later
// The one SIP model of the suite. The wsglue reader turns each frame into a Frame (number, time, flow
// with direction, TCP facts) and each SIP message in it into a Message, once; every analyzer (the
// transaction and dialog layer, subscriptions, registrations and keepalives, forks and epids, MSRP
// sessions, dialog-info tracking) reads these values and nothing else. A Message is parsed from the
// message's own bytes (the span the SIP dissector framed: one message of a TCP segment, or one
// reassembled over several), so the SIP dissector's header items are never needed.
//
// What a plugin needs of SIP is a field here, parsed once: adding a header an analyzer needs means
// adding it to Message and to parse(), nowhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/flow.h"
#include "sipsleuth/core/time.h"

namespace sipsleuth::core::sip {

/// TCP facts of one segment (raw sequence numbers, as on the wire).
struct TcpFacts {
    std::uint32_t seq = 0, ack = 0;
    std::uint32_t len = 0;  ///< payload length
    bool syn = false, fin = false, rst = false, ack_flag = false;
    /// Wireshark's TCP analysis: tcp.analysis.retransmission / spurious_retransmission. A retransmitted
    /// segment is not handed to SIP again, so its messages are known only by sequence numbers.
    bool retransmission = false, spurious = false;
};

/// One frame's transport facts.
struct Frame {
    std::uint32_t number = 0;
    Nanos time = 0;
    /// Transport, tcp.stream or udp.stream index, source and destination (the direction), flags.
    FlowPacket flow;
    std::optional<TcpFacts> tcp;  ///< TCP segments only
    /// The transport payload (TCP segment or UDP datagram data) as far as it was captured, valid only
    /// during the call that receives the Frame: for what SIP does not frame (RFC 5626 CRLF keepalives,
    /// MSRP that Wireshark's MSRP dissector did not reach).
    std::string_view payload;
    /// The capture's snap length cut the TCP payload: `payload` is shorter than `tcp->len`.
    bool payload_cut = false;
};

/// The top Via (RFC 3261 section 20.42): what transactions are matched on (section 17.1.3, 17.2.3).
struct Via {
    std::string transport;  ///< upper case: UDP, TCP, TLS, WS, ...
    std::string host;       ///< sent-by host, lower case, IPv6 without brackets
    std::uint16_t port = 0; ///< sent-by port; 0 when absent
    std::string branch;     ///< as sent (case kept)
    std::string received;
    bool present = false;
    /// RFC 3261's magic cookie: the branch is unique per transaction (section 8.1.1.7).
    bool rfc3261_branch() const { return branch.size() > 7 && branch.compare(0, 7, "z9hG4bK") == 0; }
};

/// A From, To or Contact value as the analyzers use it.
struct Party {
    std::string display;  ///< display name, unquoted
    std::string uri;      ///< without angle brackets, URI parameters included
    std::string tag;      ///< the tag parameter (From, To), empty when absent
    std::string epid;     ///< Microsoft's epid parameter, empty when absent
    bool has_epid = false;  ///< an epid parameter was present, with or without a value (mssip reports an empty one)
};

/// One Contact of a Contact header (several per header or several headers).
struct Contact {
    std::string raw;          ///< the whole contact-param as sent
    std::string uri;          ///< without angle brackets
    std::optional<std::uint32_t> expires;  ///< its expires parameter
    std::string instance;     ///< +sip.instance, unquoted, empty when absent
    std::string gruu_epid;    ///< epid of a Microsoft GRUU (opaque=user:epid:...), empty when absent
    bool star = false;        ///< `Contact: *`
};

/// What went wrong reading a header the analyzers rely on; the message is still usable.
struct HeaderProblem {
    std::string header;  ///< canonical name, e.g. "CSeq"
    std::string what;    ///< short, e.g. "not a number"
};

/// One SIP message of a frame.
struct Message {
    std::uint32_t frame = 0;
    std::uint32_t index = 0;  ///< which SIP message of the frame, from 0
    Nanos time = 0;
    FlowRef flow;             ///< the flow and direction it travelled on
    /// TCP: the raw sequence range [seq_begin, seq_end) of the bytes of this message within the frame's
    /// segment (for mapping a later TCP retransmission of that segment back to the message).
    std::uint32_t seq_begin = 0, seq_end = 0;

    bool request = false;
    std::string method;       ///< request method (case kept)
    std::string request_uri;
    std::uint32_t status = 0; ///< response status code
    std::string reason;       ///< response reason phrase

    std::string call_id;
    Party from, to;
    bool has_cseq = false;
    std::uint32_t cseq = 0;
    std::string cseq_method;

    Via via;                   ///< the top Via
    std::uint32_t via_count = 0;
    std::vector<Contact> contacts;
    std::vector<std::string> record_route;  ///< each route's URI, top first
    std::optional<std::uint32_t> expires;   ///< Expires header
    std::optional<std::uint32_t> flow_timer; ///< Flow-Timer header (RFC 5626)
    std::optional<std::string> event;               ///< Event header value as sent
    std::optional<std::string> subscription_state;  ///< Subscription-State header value as sent
    std::string user_agent, server;
    std::string refer_to;      ///< the first Refer-To value as sent (RFC 3515), empty when absent
    std::string content_type;  ///< media type, lower case, without parameters; empty when absent
    std::uint32_t content_length = 0;
    /// The body's place in the message bytes given to parse(); length 0 when there is none.
    std::uint32_t body_offset = 0, body_length = 0;
    std::vector<HeaderProblem> problems;

    bool is(std::string_view m) const { return request && method == m; }
    /// The method of the transaction: the request's method, or a response's CSeq method.
    const std::string& txn_method() const { return request ? method : cseq_method; }
    bool final_response() const { return !request && status >= 200; }
};

enum class ParseStatus : std::uint8_t {
    ok,
    not_sip,    ///< no SIP start line
    truncated,  ///< the header block does not end (no empty line) or the body is shorter than
                ///< Content-Length: the fields found are filled
};

/// Parses one SIP message from its bytes (start line, headers in full and compact form, folded lines,
/// several values per header line, a body as long as Content-Length or, without it, the rest). Fills
/// the message-level fields of `out` (not frame, index, time, flow, sequence range). Linear in the
/// size; never throws on any input.
ParseStatus parse(std::string_view bytes, Message& out);

}  // namespace sipsleuth::core::sip
