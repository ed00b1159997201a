// SPDX-License-Identifier: GPL-2.0-or-later
// Plain text helpers shared by every core parser: byte spans into a message, UTF-8 validation and
// repair (tree items must hold valid UTF-8 even when a phone sends garbage), and the small string
// operations SIP grammars need (RFC 3261 header names and tokens are case-insensitive ASCII).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipsleuth::core {

/// A byte range inside the buffer a parser was given; offsets never exceed that buffer's size.
struct Span {
    std::size_t offset = 0;
    std::size_t length = 0;
    std::size_t end() const { return offset + length; }
    bool operator==(const Span& o) const { return offset == o.offset && length == o.length; }
};

/// Offset of the first byte that breaks UTF-8 (overlong forms and surrogates included), or nullopt.
std::optional<std::size_t> first_invalid_utf8(std::string_view bytes);

/// Copy of bytes with every invalid UTF-8 sequence replaced by U+FFFD, cut to at most max_bytes
/// (never inside a character); sets *cut when it had to cut.
std::string sanitize_utf8(std::string_view bytes, std::size_t max_bytes = SIZE_MAX, bool* cut = nullptr);

/// An expert message that fits the GUI's label (240 bytes, "Expert Info (Warning/Sequence): " first):
/// text cut to at most max bytes, never inside a UTF-8 character, "..." ending a cut one.
std::string fit_message(std::string_view text, std::size_t max = 200);

/// bytes without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view bytes);

/// ASCII case-insensitive equality, as RFC 3261 asks for header names and methods.
bool iequals(std::string_view a, std::string_view b);

/// Position of needle in hay, ASCII case-insensitively, from pos; npos when absent.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t pos = 0);

/// Decimal digits only (no sign, no spaces), at most max; nullopt otherwise.
std::optional<std::uint64_t> parse_decimal(std::string_view digits, std::uint64_t max = UINT64_MAX);

}  // namespace sipsleuth::core
