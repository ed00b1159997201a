// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for sip_header.h: the input taken as a name-addr and as a token;params value.
// Aborts when a span leaves the input, or a span said to hold an unquoted value or name does not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/sip_header.h"

using namespace sipsleuth::core;
using fuzz::require;

namespace {

void check_params(std::string_view input, const std::vector<HeaderParam>& params) {
    for (const HeaderParam& p : params) {
        require(!p.name.empty(), "parameter without a name");
        require(fuzz::inside(input, p.name_span, "name span outside the input") == p.name, "name span differs");
        if (p.value && !p.quoted)
            require(fuzz::inside(input, p.value_span, "value span outside the input") == *p.value,
                    "unquoted value span differs");
        if (p.quoted) fuzz::inside(input, p.value_span, "quoted value span outside the input");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (const auto a = parse_name_addr(input)) {
        require(fuzz::inside(input, a->uri_span, "URI span outside the input") == a->uri, "URI span differs");
        require(a->uri.find(':') != std::string::npos, "URI without a scheme");
        check_params(input, a->uri_params);
        check_params(input, a->params);
        gruu_epid(*a);
    }
    if (const auto t = parse_token_params(input)) {
        require(fuzz::inside(input, t->token_span, "token span outside the input") == t->token, "token span differs");
        check_params(input, t->params);
    }
    return 0;
}
