// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for sdp_msrp.h: the input parsed as an SDP body (default and small limits), as an
// MSRP path and as one MSRP URI. Aborts when a span leaves the input or a string meant for the tree is
// not UTF-8; the connection model of every parsed setup pair is computed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/sdp_msrp.h"

using namespace sipsleuth::core;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    SdpLimits small;
    small.max_bytes = 512;
    small.max_lines = 8;
    for (const SdpLimits& limits : {SdpLimits{}, small}) {
        const SdpMsrp s = parse_sdp_msrp(input, limits);
        for (const SdpProblem& p : s.problems) {
            fuzz::inside(input, p.where, "problem span outside the input");
            fuzz::require_utf8(p.message, "problem message not UTF-8");
        }
        for (const SdpMsrpMedia& m : s.media) {
            fuzz::inside(input, m.m_line, "m= span outside the input");
            fuzz::inside(input, m.path_span, "path span outside the input");
            fuzz::inside(input, m.setup_span, "setup span outside the input");
            fuzz::inside(input, m.accept_types_span, "accept-types span outside the input");
            fuzz::require_utf8(m.address, "address not UTF-8");
            fuzz::require_utf8(m.accept_types, "accept-types not UTF-8");
            for (const MsrpUri& u : m.path) fuzz::inside(input, u.span, "URI span outside the input");
            for (const SdpMsrpMedia& other : s.media) connection_model(m.setup, other.setup);
        }
    }
    std::optional<Span> bad;
    for (const MsrpUri& u : parse_msrp_path(input, &bad))
        require(fuzz::inside(input, u.span, "path URI span outside the input").size() > 7,
                "URI shorter than its scheme");
    if (bad) fuzz::inside(input, *bad, "bad token span outside the input");
    if (const auto u = parse_msrp_uri(input))
        require(!u->host.empty() && !u->transport.empty(), "URI without host or transport");
    return 0;
}
