// SPDX-License-Identifier: GPL-2.0-or-later
// See sdp_msrp.h. RFC 4566 lines are `<type>=<value>`; a session-level c= or a=setup applies to every
// media description without its own (RFC 4566 section 5.7, RFC 4145 section 4).
#include "sipsleuth/core/sdp_msrp.h"

#include <cctype>

namespace sipsleuth::core {

namespace {

constexpr std::size_t kMaxProblems = 16;

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

void add_problem(SdpMsrp& out, SdpProblemKind kind, Span where, std::string message) {
    if (out.problems.size() < kMaxProblems) out.problems.push_back({kind, where, std::move(message)});
}

// A printable, bounded copy of untrusted text for a message.
std::string quote(std::string_view s) { return sanitize_utf8(s.substr(0, 64)) + (s.size() > 64 ? "..." : ""); }

}  // namespace

std::optional<MsrpUri> parse_msrp_uri(std::string_view text) {
    MsrpUri uri;
    std::string_view rest = text;
    if (starts_with_ci(rest, "msrps://")) {
        uri.secure = true;
        rest.remove_prefix(8);
    } else if (starts_with_ci(rest, "msrp://")) {
        rest.remove_prefix(7);
    } else {
        return std::nullopt;
    }
    // Authority ends at '/' (session id follows) or ';' (transport follows).
    const std::size_t auth_end = rest.find_first_of("/;");
    if (auth_end == std::string_view::npos || auth_end == 0) return std::nullopt;
    std::string_view authority = rest.substr(0, auth_end);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    std::string_view host = authority, port;
    if (!authority.empty() && authority[0] == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return std::nullopt;
            port = after.substr(1);
        }
    } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return std::nullopt;
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_'))
            return std::nullopt;
    if (!port.empty() || authority.find(':') != std::string_view::npos) {
        if (authority.back() == ':') return std::nullopt;
        if (!port.empty()) {
            const auto p = parse_decimal(port, 65535);
            if (!p) return std::nullopt;
            uri.port = static_cast<std::uint16_t>(*p);
        }
    }
    uri.host = std::string(host);
    rest.remove_prefix(auth_end);
    if (!rest.empty() && rest[0] == '/') {
        const std::size_t semi = rest.find(';');
        if (semi == std::string_view::npos) return std::nullopt;  // the transport is mandatory
        uri.session_id = std::string(rest.substr(1, semi - 1));
        rest.remove_prefix(semi);
    }
    // rest starts with ';': transport, then URI parameters.
    rest.remove_prefix(1);
    const std::string_view transport = rest.substr(0, rest.find(';'));
    if (transport.empty()) return std::nullopt;
    for (char c : transport)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return std::nullopt;
    for (char c : uri.session_id)
        if (c <= ' ' || c == 0x7f || static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    uri.transport = std::string(transport);
    uri.span = {0, text.size()};
    return uri;
}

std::vector<MsrpUri> parse_msrp_path(std::string_view text, std::optional<Span>* bad) {
    std::vector<MsrpUri> out;
    if (bad) bad->reset();
    std::size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
        if (pos >= text.size()) break;
        std::size_t end = pos;
        while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
        auto uri = parse_msrp_uri(text.substr(pos, end - pos));
        if (!uri) {
            if (bad) *bad = Span{pos, end - pos};
            break;
        }
        uri->span = {pos, end - pos};
        out.push_back(std::move(*uri));
        pos = end;
    }
    return out;
}

const char* setup_role_name(SetupRole role) {
    switch (role) {
        case SetupRole::absent:
            return "absent";
        case SetupRole::active:
            return "active";
        case SetupRole::passive:
            return "passive";
        case SetupRole::actpass:
            return "actpass";
        case SetupRole::holdconn:
            return "holdconn";
        case SetupRole::unknown:
            return "unknown";
    }
    return "unknown";
}

std::string SdpMsrpMedia::endpoint_host() const { return path.empty() ? address : path.back().host; }

std::uint16_t SdpMsrpMedia::endpoint_port() const {
    return path.empty() || path.back().port == 0 ? port : path.back().port;
}

std::string SdpMsrpMedia::session_id() const { return path.empty() ? std::string() : path.back().session_id; }

SdpMsrp parse_sdp_msrp(std::string_view body, const SdpLimits& limits) {
    SdpMsrp out;
    if (body.size() > limits.max_bytes) {
        add_problem(out, SdpProblemKind::too_large, {0, body.size()},
                    "SDP body of " + std::to_string(body.size()) + " bytes is over the " +
                        std::to_string(limits.max_bytes) + "-byte limit: not parsed");
        return out;
    }
    std::string session_address;
    SetupRole session_setup = SetupRole::absent;
    Span session_setup_span;
    bool in_msrp = false;   // inside an MSRP media description
    bool in_media = false;  // inside any media description
    bool media_address = false;
    std::size_t pos = 0, lines = 0;
    while (pos < body.size()) {
        if (++lines > limits.max_lines) {
            add_problem(out, SdpProblemKind::too_large, {pos, body.size() - pos},
                        "More than " + std::to_string(limits.max_lines) + " SDP lines: the rest is not parsed");
            break;
        }
        std::size_t end = body.find('\n', pos);
        if (end == std::string_view::npos) end = body.size();
        std::size_t len = end - pos;
        if (len && body[pos + len - 1] == '\r') --len;
        const std::string_view line = body.substr(pos, len);
        const Span line_span{pos, len};
        const std::size_t value_at = pos + 2;
        pos = end + 1;
        if (line.empty()) continue;
        if (line.size() < 2 || line[1] != '=' || !std::isalpha(static_cast<unsigned char>(line[0]))) {
            add_problem(out, SdpProblemKind::malformed_line, line_span,
                        "SDP line is not <type>=<value>: \"" + quote(line) + "\"");
            continue;
        }
        const char type = line[0];
        const std::string_view value = line.substr(2);
        if (type == 'm') {
            in_media = true;
            in_msrp = false;
            media_address = false;
            // m=<media> <port>[/<count>] <proto> <fmt> ...
            const std::size_t s1 = value.find(' ');
            const std::size_t s2 = s1 == std::string_view::npos ? s1 : value.find(' ', s1 + 1);
            if (s1 == std::string_view::npos || s2 == std::string_view::npos) {
                if (starts_with_ci(value, "message"))
                    add_problem(out, SdpProblemKind::malformed_line, line_span,
                                "m=message line without port and transport: \"" + quote(line) + "\"");
                continue;
            }
            const std::string_view media = value.substr(0, s1);
            std::string_view port = value.substr(s1 + 1, s2 - s1 - 1);
            const std::size_t s3 = value.find(' ', s2 + 1);
            const std::string_view proto = value.substr(s2 + 1, s3 == std::string_view::npos ? s3 : s3 - s2 - 1);
            if (!iequals(media, "message") || ifind(proto, "MSRP") == std::string_view::npos) continue;
            if (const std::size_t slash = port.find('/'); slash != std::string_view::npos) port = port.substr(0, slash);
            const auto p = parse_decimal(port, 65535);
            if (!p) {
                add_problem(out, SdpProblemKind::malformed_line, line_span,
                            "m=message port \"" + quote(port) + "\" is not a port number");
                continue;
            }
            SdpMsrpMedia m;
            m.m_line = line_span;
            m.port = static_cast<std::uint16_t>(*p);
            m.proto = sanitize_utf8(proto, 32);
            m.address = session_address;
            out.media.push_back(std::move(m));
            in_msrp = true;
            continue;
        }
        if (type == 'c') {
            // c=IN IP4 <address>[/ttl]
            std::string_view addr = value;
            const std::size_t last = addr.rfind(' ');
            addr = last == std::string_view::npos ? std::string_view() : addr.substr(last + 1);
            addr = addr.substr(0, addr.find('/'));
            if (addr.empty() || addr.size() > 255) {
                add_problem(out, SdpProblemKind::malformed_line, line_span,
                            "c= line without an address: \"" + quote(line) + "\"");
                continue;
            }
            if (!in_media) {
                session_address = sanitize_utf8(addr);
            } else if (in_msrp && !media_address) {
                out.media.back().address = sanitize_utf8(addr);
                media_address = true;
            }
            continue;
        }
        if (type != 'a') continue;
        const bool is_setup = starts_with_ci(value, "setup:");
        if (!in_msrp && !(is_setup && !in_media)) continue;
        if (is_setup) {
            const std::string_view role_text = trim(value.substr(6));
            SetupRole role = SetupRole::unknown;
            if (iequals(role_text, "active"))
                role = SetupRole::active;
            else if (iequals(role_text, "passive"))
                role = SetupRole::passive;
            else if (iequals(role_text, "actpass"))
                role = SetupRole::actpass;
            else if (iequals(role_text, "holdconn"))
                role = SetupRole::holdconn;
            const Span at{value_at + 6, value.size() - 6};
            if (role == SetupRole::unknown)
                add_problem(out, SdpProblemKind::bad_setup, at,
                            "a=setup value \"" + quote(role_text) + "\" is none of active, passive, actpass, holdconn");
            if (!in_media) {
                session_setup = role;
                session_setup_span = at;
            } else {
                out.media.back().setup = role;
                out.media.back().setup_span = at;
            }
        } else if (starts_with_ci(value, "path:")) {
            SdpMsrpMedia& m = out.media.back();
            const std::string_view text = value.substr(5);
            std::optional<Span> bad;
            m.path = parse_msrp_path(text, &bad);
            m.path_span = {value_at + 5, text.size()};
            for (MsrpUri& u : m.path) u.span.offset += value_at + 5;
            if (bad)
                add_problem(out, SdpProblemKind::bad_path, {value_at + 5 + bad->offset, bad->length},
                            "a=path holds \"" + quote(text.substr(bad->offset, bad->length)) + "\", not an MSRP URI");
        } else if (starts_with_ci(value, "accept-types:")) {
            SdpMsrpMedia& m = out.media.back();
            m.accept_types = sanitize_utf8(trim(value.substr(13)), 1024);
            m.accept_types_span = {value_at + 13, value.size() - 13};
        }
    }
    for (SdpMsrpMedia& m : out.media) {
        if (m.setup == SetupRole::absent && session_setup != SetupRole::absent) {
            m.setup = session_setup;
            m.setup_span = session_setup_span;
        }
        if (m.path.empty() && m.path_span.length == 0)
            add_problem(out, SdpProblemKind::missing_path, m.m_line,
                        "m=message media without a=path (RFC 4975 section 8.1)");
    }
    return out;
}

namespace {
constexpr CodeName kModels[] = {
    {1, "RFC 4975 (offerer connects)"},    {2, "COMEDIA (offerer connects)"},
    {3, "COMEDIA (answerer connects)"},    {4, "Both active (RFC 6135 alternative connection model)"},
    {5, "Both passive (nobody connects)"}, {6, "Connection held (holdconn)"},
};
}  // namespace

CodeTable connection_models() { return {kModels, sizeof kModels / sizeof kModels[0]}; }

ConnectionVerdict connection_model(SetupRole offer, SetupRole answer) {
    ConnectionVerdict v{};
    // RFC 4975 section 5.4 / RFC 6135 section 4.1: without a=setup the offerer is active and the
    // answerer passive. An answer may not say actpass (RFC 4145 section 4.1); read it as passive, as
    // an offerer that must connect would. An unknown value counts as absent.
    v.offer_effective = offer == SetupRole::absent || offer == SetupRole::unknown ? SetupRole::active : offer;
    SetupRole a = answer == SetupRole::absent || answer == SetupRole::unknown ? SetupRole::passive : answer;
    if (a == SetupRole::actpass) a = SetupRole::passive;
    // An actpass offer takes the role the answer leaves.
    SetupRole o = v.offer_effective;
    if (o == SetupRole::actpass) o = a == SetupRole::active ? SetupRole::passive : SetupRole::active;
    v.answer_effective = a;
    const bool no_setup = (offer == SetupRole::absent || offer == SetupRole::unknown) &&
                          (answer == SetupRole::absent || answer == SetupRole::unknown);
    if (o == SetupRole::holdconn || a == SetupRole::holdconn) {
        v.model = ConnectionModel::holdconn;
        v.message = std::string("Nobody connects: the ") + (o == SetupRole::holdconn ? "offer" : "answer") +
                    " says a=setup:holdconn, so no MSRP connection is opened for this session";
    } else if (o == SetupRole::active && a == SetupRole::active) {
        v.model = ConnectionModel::both_active;
        v.offerer_connects = v.answerer_connects = true;
        // Only the offer may lack a=setup here (an absent answer is passive).
        // At most 200 characters (the GUI's label): the relay's part goes to the guide.
        v.message = offer == SetupRole::active
                        ? "Offer and answer both say a=setup:active (RFC 6135 ACM): both ends connect and neither "
                          "listens, which works only through a relay that splices the two TCP connections"
                        : "The offer has no a=setup, so the offerer connects (RFC 4975 section 5.4), and the answer "
                          "says a=setup:active: both ends connect and neither listens, which works only through a "
                          "splicing relay";
    } else if (o == SetupRole::passive && a == SetupRole::passive) {
        v.model = ConnectionModel::both_passive;
        v.message = "Offer and answer both end up passive: both ends wait for a connection and nobody connects";
    } else if (o == SetupRole::active) {
        v.model = no_setup ? ConnectionModel::rfc4975 : ConnectionModel::comedia_offerer;
        v.offerer_connects = true;
    } else {
        v.model = ConnectionModel::comedia_answerer;
        v.answerer_connects = true;
    }
    return v;
}

std::optional<Span> sdp_in_body(std::string_view body, std::string_view content_type) {
    if (content_type == "application/sdp") return Span{0, body.size()};
    if (content_type.substr(0, 10) != "multipart/") return std::nullopt;
    // Lines of the body: [pos, end) without the line break, next after it.
    const auto line_at = [&](std::size_t pos, std::size_t* next) {
        const std::size_t nl = body.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? body.size() : nl;
        *next = nl == std::string_view::npos ? body.size() : nl + 1;
        if (end > pos && body[end - 1] == '\r') --end;
        return body.substr(pos, end - pos);
    };
    std::size_t pos = 0, next = 0;
    std::string_view delimiter;
    while (pos < body.size()) {  // the preamble, then the first delimiter line
        const std::string_view line = line_at(pos, &next);
        pos = next;
        if (line.size() > 2 && line.substr(0, 2) == "--") {
            delimiter = trim(line);
            break;
        }
    }
    if (delimiter.empty()) return std::nullopt;
    for (int part = 0; part < 64 && pos < body.size(); ++part) {
        bool sdp = false;
        while (pos < body.size()) {  // the part's headers, up to the empty line
            const std::string_view line = line_at(pos, &next);
            pos = next;
            if (line.empty()) break;
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            const std::string_view name = trim(line.substr(0, colon));
            if (!iequals(name, "Content-Type") && !iequals(name, "c")) continue;
            const std::string_view value = trim(line.substr(colon + 1));
            sdp = iequals(trim(value.substr(0, value.find(';'))), "application/sdp");
        }
        // The part's body ends with the line break before the next delimiter line.
        std::size_t at = pos, end = body.size();
        for (;;) {
            const std::size_t hit = body.find(delimiter, at);
            if (hit == std::string_view::npos) break;
            if (hit == 0 || body[hit - 1] == '\n') {
                end = hit;
                break;
            }
            at = hit + 1;
        }
        if (sdp) {
            std::size_t stop = end;
            if (end < body.size() && stop > pos && body[stop - 1] == '\n') --stop;  // RFC 2046: the break
            if (end < body.size() && stop > pos && body[stop - 1] == '\r') --stop;  // belongs to the delimiter
            return Span{pos, stop - pos};
        }
        if (end >= body.size()) break;
        line_at(end, &next);  // the delimiter line (or the close delimiter, "--" behind it)
        if (body.substr(end + delimiter.size(), 2) == "--") break;
        pos = next;
    }
    return std::nullopt;
}

}  // namespace sipsleuth::core
