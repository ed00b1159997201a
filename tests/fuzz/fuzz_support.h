// SPDX-License-Identifier: GPL-2.0-or-later
// What every fuzz target checks the same way: an invariant that aborts with a message libFuzzer keeps
// next to the crash input, spans that must stay inside their buffer, strings meant for the tree that
// must be UTF-8, and the two sets of XML limits (defaults, and small ones so the caps are hit often).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "sipsleuth/core/text.h"
#include "sipsleuth/core/xml_body.h"

namespace fuzz {

inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

/// The bytes of s inside a buffer of `size` bytes starting at data; aborts when s leaves it.
inline std::string_view inside(std::string_view buffer, sipsleuth::core::Span s, const char* what) {
    require(s.offset <= buffer.size() && s.length <= buffer.size() - s.offset, what);
    return buffer.substr(s.offset, s.length);
}

inline void require_utf8(std::string_view s, const char* what) { require(!sipsleuth::core::first_invalid_utf8(s), what); }

/// Calls exercise(input, limits) with the default limits and with small ones (depth 4, 64 nodes,
/// 16-byte values).
template <class Exercise>
void with_default_and_small_limits(std::string_view input, Exercise exercise) {
    exercise(input, sipsleuth::core::XmlLimits{});
    sipsleuth::core::XmlLimits small;
    small.max_depth = 4;
    small.max_nodes = 64;
    small.max_value_bytes = 16;
    exercise(input, small);
}

}  // namespace fuzz
