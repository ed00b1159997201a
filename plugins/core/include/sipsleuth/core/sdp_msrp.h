// SPDX-License-Identifier: GPL-2.0-or-later
// The MSRP side of an SDP body (RFC 4975 section 8, RFC 4566): each m=message line with an MSRP
// transport, its connection address, a=path URIs, a=setup role (RFC 4145 / RFC 6135) and
// a=accept-types; plus MSRP URIs (RFC 4975 section 9) and the connection model an offer/answer pair
// gives. Field case 001: offer and answer both a=setup:active, which only works through a relay that
// splices the two client-initiated TCP connections (RFC 6135 section 4.2, "alternative connection
// model"). Everything is parsed from the body bytes, with spans, so hostile bodies are reported, not
// trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/codes.h"
#include "sipsleuth/core/text.h"

namespace sipsleuth::core {

/// One MSRP URI: msrp[s]://[user@]host[:port][/session-id];transport[;params].
struct MsrpUri {
    bool secure = false;
    std::string host;        ///< as written, IPv6 without brackets
    std::uint16_t port = 0;  ///< 0 when absent
    std::string session_id;
    std::string transport;
    Span span;  ///< the URI in the text it was parsed from
};

/// Parses one MSRP URI; nullopt when it is not one (scheme, authority, port or transport wrong).
std::optional<MsrpUri> parse_msrp_uri(std::string_view text);

/// Space-separated MSRP URIs (a=path, To-Path, From-Path); spans relative to text. Sets *bad to the
/// first token that is not an MSRP URI (then the list holds the URIs before it).
std::vector<MsrpUri> parse_msrp_path(std::string_view text, std::optional<Span>* bad = nullptr);

/// RFC 4145 a=setup values. absent: no a=setup (RFC 4975 defaults apply).
enum class SetupRole : std::uint8_t { absent = 0, active = 1, passive = 2, actpass = 3, holdconn = 4, unknown = 5 };
const char* setup_role_name(SetupRole role);

/// One m=message media description with an MSRP transport (TCP/MSRP or TCP/TLS/MSRP).
struct SdpMsrpMedia {
    Span m_line;                ///< the whole m= line
    std::uint16_t port = 0;     ///< m= port
    std::string proto;          ///< TCP/MSRP or TCP/TLS/MSRP
    std::string address;        ///< c= address of the media, else of the session; may be empty
    std::vector<MsrpUri> path;  ///< a=path URIs, spans relative to the body
    Span path_span;             ///< a=path value
    SetupRole setup = SetupRole::absent;
    Span setup_span;
    std::string accept_types;
    Span accept_types_span;
    /// The endpoint this side listens on or connects from: last a=path URI, else c= and m= port.
    std::string endpoint_host() const;
    std::uint16_t endpoint_port() const;
    /// Session id of the last a=path URI (the one a peer's To-Path ends with); empty when none.
    std::string session_id() const;
};

enum class SdpProblemKind : std::uint8_t { malformed_line, bad_path, missing_path, bad_setup, too_large };

struct SdpProblem {
    SdpProblemKind kind;
    Span where;
    std::string message;  ///< sentence case, no period
};

/// Limits on hostile bodies: bytes parsed and lines examined.
struct SdpLimits {
    std::size_t max_bytes = 64 * 1024;
    std::size_t max_lines = 2000;
};

/// The MSRP media of an SDP body, with its problems. Only m=message media with an MSRP transport are
/// kept; other media are skipped silently.
struct SdpMsrp {
    std::vector<SdpMsrpMedia> media;
    std::vector<SdpProblem> problems;
};

/// Parses body (LF or CRLF lines); never throws on any input, problems say what was wrong.
SdpMsrp parse_sdp_msrp(std::string_view body, const SdpLimits& limits = {});

/// Where the SDP of a SIP body is: the whole body when content_type (lower case, without parameters, as
/// sip::Message has it) is application/sdp; in a multipart/* body (RFC 2046 section 5.1.1; the delimiter
/// taken from the body's first line starting with "--"), the body of the first part whose Content-Type
/// is application/sdp, at most 64 parts looked at; else nullopt. The span is relative to body.
std::optional<Span> sdp_in_body(std::string_view body, std::string_view content_type);

/// Who opens the TCP connection, from the offer's and the answer's a=setup (RFC 4975 section 5.4,
/// RFC 6135 section 4).
enum class ConnectionModel : std::uint8_t {
    rfc4975 = 1,           ///< no a=setup: the offerer connects
    comedia_offerer = 2,   ///< a=setup negotiated, the offerer is active
    comedia_answerer = 3,  ///< a=setup negotiated, the answerer is active
    both_active = 4,       ///< RFC 6135 alternative connection model: needs a splicing relay
    both_passive = 5,      ///< nobody connects
    holdconn = 6,          ///< a side holds the connection: nobody connects yet
};
CodeTable connection_models();

/// The model and who should connect.
struct ConnectionVerdict {
    ConnectionModel model;
    bool offerer_connects = false;
    bool answerer_connects = false;
    SetupRole offer_effective, answer_effective;  ///< with RFC 4975 defaults applied
    std::string message;  ///< for both_active / both_passive / holdconn: the finding; else empty
};

ConnectionVerdict connection_model(SetupRole offer, SetupRole answer);

}  // namespace sipsleuth::core
