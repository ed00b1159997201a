// SPDX-License-Identifier: GPL-2.0-or-later
// See ms_diagnostics.h. The value is `token *(;generic-param)` (sip_header.h parses that); the token is
// `<ErrorId>[.<SubCode>]`. Code names are [MS-OCER] section 8's tables for the releases before Lync
// ("releases prior to the most current release"), which include OCS 2007 R2 of field case 002:
// 8.2 SipStack (1000-1014), the front-end user services (4000-4013), 8.6 server API and applications
// (5000-5008) and VoIP inbound routing (13000-13008). The trailing period of each reason is dropped.
#include "sipsleuth/core/ms_diagnostics.h"

#include <algorithm>
#include <array>

namespace sipsleuth::core {
namespace {

constexpr std::array<CodeName, 47> kCodes{{
    {1000, "Final handshake failed"},
    {1001, "From URI not authorized to communicate with public IM providers"},
    {1002, "From URI not authorized to communicate with federated partners"},
    {1003, "User does not exist"},
    {1004, "Route set is no longer valid"},
    {1005, "Cannot route to destination domain"},
    {1006, "Error routing on protocol client connection"},
    {1007, "Temporarily cannot route"},
    {1008, "Unable to resolve DNS SRV record"},
    {1009, "Conflicting SRV and host domains in DNS"},
    {1010, "Certificate trust with next-hop server could not be established"},
    {1011, "ms-diagnostics header not provided by previous hop"},
    {1012, "From URI is not authorized to communicate with users outside the enterprise"},
    {1013, "Significant time skew detected during authentication"},
    {1014, "Unable to resolve DNS A record"},
    {4000, "User services default"},
    {4001, "XML parse failure"},
    {4002, "Multiple users associated with the source phone number"},
    {4003, "From URI not enabled for remote access"},
    {4004, "Credentials provided are not authorized to act as specified from URI"},
    {4005, "Destination URI either not enabled for SIP or does not exist"},
    {4006, "User not found in pool"},
    {4007, "Resource is unknown in this deployment"},
    {4008, "Input data too large - One of the parameters to the sproc exceeds limit"},
    {4009, "Multiple users associated with the destination phone number"},
    {4010, "Missing endpoint identifier"},
    {4011, "Epid not present"},
    {4012, "Epid too long"},
    {4013, "content type header does not match the expected content-type"},
    {5000, "One or more critical applications are not running"},
    {5001, "Request timed out"},
    {5002, "Request was cancelled"},
    {5003, "Internal processing failure"},
    {5004, "Failed parsing the incoming request"},
    {5005, "The application specified an invalid request-URI"},
    {5006, "Failed when constructing the outgoing request"},
    {5007, "Failed processing a contact entry"},
    {5008, "The application specified an invalid static forwarding URL"},
    {13000, "Call to self loop"},
    {13001, "The routing rules did not result in a suitable final response"},
    {13002, "The routing rules did not result in a final response"},
    {13003, "The request contains a header that is not formatted as expected"},
    {13004, "Request was proxied to one or more registered endpoints"},
    {13005, "Request was proxied to one or more additional targets"},
    {13006, "Request forwarded, any previous branches cancelled"},
    {13007, "Request was proxied to an application"},
    {13008, "Diagnostic headers removed for privacy"},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Printable copy of a value: valid UTF-8, at most max bytes; records a value_cut problem.
std::string printable(std::string_view raw, std::size_t max, Span where, std::vector<MsDiagProblem>& problems,
                      std::string_view what) {
    bool cut = false;
    std::string out = sanitize_utf8(raw, max, &cut);
    if (cut)
        problems.push_back({MsDiagProblemKind::value_cut, where,
                            "Value of " + sanitize_utf8(what, 64) + " of " + std::to_string(raw.size()) +
                                " bytes shown cut to " + std::to_string(out.size()) + " bytes"});
    return out;
}

// ErrorId[.SubCode] at the start of token; fills code fields or reports the problem.
void parse_code(std::string_view token, Span at, MsDiagnostics& d) {
    const std::size_t dot = token.find('.');
    const std::string_view id = token.substr(0, dot);
    const auto code = parse_decimal(id, UINT32_MAX);
    d.code_span = at;
    if (!code) {
        d.problems.push_back({MsDiagProblemKind::bad_code, at,
                              "ErrorId \"" + sanitize_utf8(id, 64) + "\" is not a 32-bit number"});
        return;
    }
    d.has_code = true;
    d.code = static_cast<std::uint32_t>(*code);
    if (dot == std::string_view::npos) return;
    const auto sub = parse_decimal(token.substr(dot + 1), UINT32_MAX);
    if (sub)
        d.sub_code = static_cast<std::uint32_t>(*sub);
    else
        d.problems.push_back({MsDiagProblemKind::bad_sub_code, at,
                              "Sub-code \"" + sanitize_utf8(token.substr(dot + 1), 64) + "\" is not a 32-bit number"});
}

}  // namespace

const MsDiagParam* MsDiagnostics::param(std::string_view name) const {
    for (const MsDiagParam& p : params)
        if (iequals(p.name, name)) return &p;
    return nullptr;
}

MsDiagnostics parse_ms_diagnostics(std::string_view value, std::size_t max_value_bytes) {
    MsDiagnostics d;
    const std::string_view trimmed = trim(value);
    const std::size_t lead = trimmed.empty() ? 0 : static_cast<std::size_t>(trimmed.data() - value.data());
    if (trimmed.empty()) {
        d.problems.push_back({MsDiagProblemKind::empty, {0, value.size()}, "Empty ms-diagnostics value"});
        return d;
    }
    const auto parsed = parse_token_params(trimmed);
    if (!parsed) {
        // Keep what can be read: the leading digits (and dots) are most likely the ErrorId.
        std::size_t n = 0;
        while (n < trimmed.size() && (is_digit(trimmed[n]) || trimmed[n] == '.')) ++n;
        if (n > 0) parse_code(trimmed.substr(0, n), {lead, n}, d);
        d.problems.push_back({MsDiagProblemKind::bad_shape, {lead, trimmed.size()},
                              "Not an ErrorId followed by ;name=value parameters (unclosed quote or stray text?)"});
        return d;
    }
    parse_code(parsed->token, {lead + parsed->token_span.offset, parsed->token_span.length}, d);
    const std::size_t shown = std::min(parsed->params.size(), kMsDiagMaxParams);
    d.params.reserve(shown);
    if (shown < parsed->params.size()) {
        const std::size_t from = lead + parsed->params[shown].name_span.offset;
        d.problems.push_back({MsDiagProblemKind::value_cut, {from, value.size() - from},
                              std::to_string(parsed->params.size()) + " parameters, the first " +
                                  std::to_string(shown) + " shown"});
    }
    for (std::size_t i = 0; i < shown; ++i) {
        const HeaderParam& hp = parsed->params[i];
        MsDiagParam p;
        p.name_span = {lead + hp.name_span.offset, hp.name_span.length};
        p.value_span = {lead + hp.value_span.offset, hp.value_span.length};
        p.name = printable(hp.name, max_value_bytes, p.name_span, d.problems, "a parameter name");
        if (hp.value) {
            p.has_value = true;
            p.value = printable(*hp.value, max_value_bytes, p.value_span, d.problems, p.name);
        }
        d.params.push_back(std::move(p));
    }
    return d;
}

CodeTable ms_diagnostics_codes() { return {kCodes.data(), kCodes.size()}; }

std::string ms_diagnostics_label(std::uint32_t code) {
    const char* name = ms_diagnostics_codes().name(code);
    return name ? std::to_string(code) + " (" + name + ")" : std::to_string(code);
}

}  // namespace sipsleuth::core
