// SPDX-License-Identifier: GPL-2.0-or-later
// UTF-8 checks follow RFC 3629 section 4 (no overlong forms, no surrogates, nothing above U+10FFFF).
#include "sipsleuth/core/text.h"

#include <cstring>

namespace sipsleuth::core {
namespace {

// Offset of the first byte >= 0x80 in s from i, or s.size(): ASCII is valid UTF-8 as it is, and most
// values (and whole bodies) are ASCII, so eight bytes are checked at a time.
std::size_t skip_ascii(std::string_view s, std::size_t i) {
    const char* p = s.data();
    const std::size_t n = s.size();
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) break;
    }
    while (i < n && static_cast<unsigned char>(p[i]) < 0x80) ++i;
    return i;
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < len; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    return len;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view bytes) {
    for (std::size_t i = skip_ascii(bytes, 0); i < bytes.size(); i = skip_ascii(bytes, i)) {
        const std::size_t n = utf8_sequence(bytes, i);
        if (n == 0) return i;
        i += n;
    }
    return std::nullopt;
}

std::string sanitize_utf8(std::string_view bytes, std::size_t max_bytes, bool* cut) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    if (cut) *cut = false;
    std::string out;
    out.reserve(bytes.size() < max_bytes ? bytes.size() : max_bytes);
    // The ASCII prefix is copied as it is, as far as the limit allows (one byte, one character);
    // a plain ASCII value within the limit ends here.
    std::size_t i = skip_ascii(bytes, 0);
    const std::size_t prefix = i < max_bytes ? i : max_bytes;
    out.append(bytes.data(), prefix);
    if (prefix < i) {
        if (cut) *cut = true;
        return out;
    }
    while (i < bytes.size()) {
        std::size_t n = utf8_sequence(bytes, i);
        const std::string_view piece = n ? bytes.substr(i, n) : kReplacement;
        if (out.size() + piece.size() > max_bytes) {
            if (cut) *cut = true;
            break;
        }
        out.append(piece);
        i += n ? n : 1;
    }
    return out;
}

std::string fit_message(std::string_view text, std::size_t max) {
    if (text.size() <= max) return std::string(text);
    return sanitize_utf8(text, max > 3 ? max - 3 : 0) + "...";
}

std::string_view trim(std::string_view bytes) {
    while (!bytes.empty() && is_space(bytes.front())) bytes.remove_prefix(1);
    while (!bytes.empty() && is_space(bytes.back())) bytes.remove_suffix(1);
    return bytes;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t pos) {
    if (needle.size() > hay.size()) return std::string_view::npos;
    for (std::size_t i = pos; i <= hay.size() - needle.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return i;
    return std::string_view::npos;
}

std::optional<std::uint64_t> parse_decimal(std::string_view digits, std::uint64_t max) {
    if (digits.empty() || digits.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (d > max || v > (max - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

}  // namespace sipsleuth::core
