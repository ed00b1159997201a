// SPDX-License-Identifier: GPL-2.0-or-later
// Unit tests for sipsleuth/core/text.h: UTF-8 validation against RFC 3629 section 4 (overlong forms,
// surrogates, bytes above F4, sequences cut short by the end of the buffer), the U+FFFD repair that
// never cuts inside a character, and the ASCII helpers the SIP grammars use (trim, case-insensitive
// compare and search, strict decimal parsing with a maximum). Cases named "Bug..." pin a defect of the
// core found while writing these tests; they fail until the core is fixed.
#include "sipsleuth/core/text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipsleuth::core {
namespace {

using namespace std::string_view_literals;

constexpr std::size_t npos = std::string_view::npos;

struct Utf8Case {
    const char* label;
    std::string_view bytes;
    std::optional<std::size_t> first_invalid;
};

const Utf8Case kUtf8Cases[] = {
    {"empty", ""sv, std::nullopt},
    {"ascii", "REFER sip:192.168.110.100 SIP/2.0"sv, std::nullopt},
    {"embedded NUL is ASCII", "a\0b"sv, std::nullopt},
    {"two-byte e-acute", "caf\xC3\xA9"sv, std::nullopt},
    {"three-byte euro", "\xE2\x82\xAC"sv, std::nullopt},
    {"four-byte emoji", "\xF0\x9F\x98\x80"sv, std::nullopt},
    {"last scalar U+10FFFF", "\xF4\x8F\xBF\xBF"sv, std::nullopt},
    {"U+D7FF just below the surrogates", "\xED\x9F\xBF"sv, std::nullopt},
    {"U+E000 just above the surrogates", "\xEE\x80\x80"sv, std::nullopt},
    {"overlong NUL C0 80", "a\xC0\x80"sv, 1},
    {"overlong C1 BF", "\xC1\xBF"sv, 0},
    {"overlong three-byte E0 80 AF", "xy\xE0\x80\xAF"sv, 2},
    {"overlong four-byte F0 80 80 AF", "\xF0\x80\x80\xAF"sv, 0},
    {"surrogate ED A0 80", "ab\xED\xA0\x80"sv, 2},
    {"surrogate ED BF BF", "\xED\xBF\xBF"sv, 0},
    {"F4 90 is above U+10FFFF", "\xF4\x90\x80\x80"sv, 0},
    {"F5 lead byte", "ok\xF5\x80\x80\x80"sv, 2},
    {"FF byte", "\xFF"sv, 0},
    {"lone continuation byte", "a\x80"sv, 1},
    {"bad continuation", "\xC3\x28"sv, 0},
    {"second continuation bad", "\xE2\x82\x28"sv, 0},
    {"two-byte truncated at end", "ok\xC3"sv, 2},
    {"three-byte truncated at end", "ok\xE2\x82"sv, 2},
    {"four-byte truncated at end", "\xC3\xA9\xF0\x9F\x98"sv, 2},
    {"valid then invalid later", "\xC3\xA9\xE2\x82\xAC!\xC0"sv, 6},
};

TEST(FirstInvalidUtf8, Table) {
    for (const Utf8Case& c : kUtf8Cases) {
        SCOPED_TRACE(c.label);
        EXPECT_EQ(first_invalid_utf8(c.bytes), c.first_invalid);
    }
}

struct SanitizeCase {
    const char* label;
    std::string_view bytes;
    std::size_t max_bytes;
    std::string_view expected;
    bool cut;
};

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

const SanitizeCase kSanitizeCases[] = {
    {"valid untouched", "abc", SIZE_MAX, "abc", false},
    {"empty", "", SIZE_MAX, "", false},
    {"empty with zero room", "", 0, "", false},
    {"multi-byte untouched", "caf\xC3\xA9 \xE2\x82\xAC", SIZE_MAX, "caf\xC3\xA9 \xE2\x82\xAC", false},
    // Each byte of an invalid sequence becomes its own U+FFFD.
    {"overlong C0 80 gives two replacements", "a\xC0\x80", SIZE_MAX, "a\xEF\xBF\xBD\xEF\xBF\xBD", false},
    {"surrogate gives three replacements", "\xED\xA0\x80", SIZE_MAX, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", false},
    {"truncated tail", "ok\xE2\x82", SIZE_MAX, "ok\xEF\xBF\xBD\xEF\xBF\xBD", false},
    {"F5 replaced, rest kept", "\xF5z", SIZE_MAX, "\xEF\xBF\xBDz", false},
    {"exact fit is not a cut", "abc", 3, "abc", false},
    {"ascii cut", "abc", 2, "ab", true},
    {"zero room cuts", "abc", 0, "", true},
    {"never inside the euro sign", "a\xE2\x82\xAC", 3, "a", true},
    {"euro sign fits in 4", "a\xE2\x82\xAC", 4, "a\xE2\x82\xAC", false},
    {"never inside a replacement", "a\xFF", 3, "a", true},
    {"replacement fits in 4", "a\xFF", 4, "a\xEF\xBF\xBD", false},
    {"four-byte char needs four", "\xF0\x9F\x98\x80x", 3, "", true},
};

TEST(SanitizeUtf8, Table) {
    for (const SanitizeCase& c : kSanitizeCases) {
        SCOPED_TRACE(c.label);
        bool cut = !c.cut;  // the function must set it either way
        const std::string out = sanitize_utf8(c.bytes, c.max_bytes, &cut);
        EXPECT_EQ(out, c.expected);
        EXPECT_EQ(cut, c.cut);
        EXPECT_LE(out.size(), c.max_bytes);
        EXPECT_EQ(first_invalid_utf8(out), std::nullopt);
    }
}

TEST(SanitizeUtf8, CutFlagIsOptional) {
    EXPECT_EQ(sanitize_utf8("abc\xC3"), "abc" + std::string(kFffd));
    EXPECT_EQ(sanitize_utf8("abcdef", 4), "abcd");
}

struct TrimCase {
    std::string_view in, out;
};

TEST(Trim, Table) {
    const TrimCase cases[] = {
        {"", ""},
        {" \t\r\n", ""},
        {"x", "x"},
        {"  a b \r\n", "a b"},
        {"\tCseq:336 REGISTER ", "Cseq:336 REGISTER"},
        // Only SP, HTAB, CR and LF are whitespace here; VT and FF are kept.
        {"\va\f", "\va\f"},
        {" \xC2\xA0x", "\xC2\xA0x"},
    };
    for (const TrimCase& c : cases) {
        SCOPED_TRACE(std::string(c.in));
        EXPECT_EQ(trim(c.in), c.out);
    }
}

TEST(Trim, ReturnsAViewIntoTheInput) {
    const std::string_view in = "  3E 91 ";
    const std::string_view out = trim(in);
    EXPECT_EQ(out.data(), in.data() + 2);
    EXPECT_EQ(out.size(), 5u);
}

struct IequalsCase {
    std::string_view a, b;
    bool equal;
};

TEST(Iequals, Table) {
    const IequalsCase cases[] = {
        {"", "", true},
        {"REGISTER", "register", true},
        {"Call-ID", "call-id", true},
        {"CSeq", "cseq", true},
        {"a", "ab", false},
        {"ab", "a", false},
        {"REFER", "REFEr ", false},
        // ASCII only: '@' and '`', '[' and '{' differ by 0x20 but are not letters.
        {"@", "`", false},
        {"[", "{", false},
        // Non-ASCII letters are not folded (e-acute, E-acute).
        {"\xC3\xA9", "\xC3\x89", false},
    };
    for (const IequalsCase& c : cases) {
        SCOPED_TRACE(std::string(c.a) + " vs " + std::string(c.b));
        EXPECT_EQ(iequals(c.a, c.b), c.equal);
    }
}

struct IfindCase {
    std::string_view hay, needle;
    std::size_t pos, found;
};

TEST(Ifind, Table) {
    const IfindCase cases[] = {
        {"Sent:X Cseq:1 R", "cseq:", 0, 7},
        {"Sent:X cSEQ:1 R", "Cseq:", 0, 7},
        {"Sent:X Cseq:1 R", "Cseq:", 7, 7},
        {"Sent:X Cseq:1 R", "Cseq:", 8, npos},
        {"Sent:X Cseq:1 R", "CallId:", 0, npos},
        {"aaa", "a", 2, 2},
        {"aaa", "aa", 2, npos},
        {"ab", "abc", 0, npos},
        {"abc", "", 0, 0},
        {"abc", "", 3, 3},
        {"abc", "", 4, npos},
        {"abc", "c", 10, npos},
        {"", "", 0, 0},
        {"", "x", 0, npos},
    };
    for (const IfindCase& c : cases) {
        SCOPED_TRACE(std::string(c.hay) + " / " + std::string(c.needle) + " from " + std::to_string(c.pos));
        EXPECT_EQ(ifind(c.hay, c.needle, c.pos), c.found);
    }
}

// ifind's loop computes pos + needle.size(), which wraps around for pos == npos and then reads with
// substr(npos), which throws std::out_of_range. std::string_view::find returns npos for that pos.
TEST(Ifind, BugPosNposWrapsAroundAndThrows) {
    EXPECT_EQ(ifind("abc", "b", npos), npos);
    EXPECT_EQ(ifind("abc", "bc", npos - 1), npos);
}

struct DecimalCase {
    std::string_view digits;
    std::uint64_t max;
    std::optional<std::uint64_t> value;
};

TEST(ParseDecimal, Table) {
    const DecimalCase cases[] = {
        {"0", UINT64_MAX, 0},
        {"42", UINT64_MAX, 42},
        {"007", UINT64_MAX, 7},
        {"18446744073709551615", UINT64_MAX, UINT64_MAX},
        {"18446744073709551616", UINT64_MAX, std::nullopt},
        {"99999999999999999999", UINT64_MAX, std::nullopt},
        {"184467440737095516150", UINT64_MAX, std::nullopt},
        {"255", 255, 255},
        {"256", 255, std::nullopt},
        {"65535", 65535, 65535},
        {"65536", 65535, std::nullopt},
        {"70000", 65535, std::nullopt},
        {"4095", 4095, 4095},
        {"4096", 4095, std::nullopt},
        {"4294967295", UINT32_MAX, UINT32_MAX},
        {"4294967296", UINT32_MAX, std::nullopt},
        {"0", 0, 0},
        {"10", 9, std::nullopt},
        {"", UINT64_MAX, std::nullopt},
        {"-1", UINT64_MAX, std::nullopt},
        {"+1", UINT64_MAX, std::nullopt},
        {" 1", UINT64_MAX, std::nullopt},
        {"1 ", UINT64_MAX, std::nullopt},
        {"1a", UINT64_MAX, std::nullopt},
        {"0x1", UINT64_MAX, std::nullopt},
        {"1.5", UINT64_MAX, std::nullopt},
        {"x", 4095, std::nullopt},
        {"\xD9\xA1", UINT64_MAX, std::nullopt},  // ARABIC-INDIC DIGIT ONE is not a digit here
    };
    for (const DecimalCase& c : cases) {
        SCOPED_TRACE(std::string(c.digits) + " max " + std::to_string(c.max));
        EXPECT_EQ(parse_decimal(c.digits, c.max), c.value);
    }
}

// The overflow guard `v > (max - d) / 10` wraps when the digit d is larger than max, so a first
// digit above a max below 9 is accepted: parse_decimal("7", 5) returns 7.
TEST(ParseDecimal, BugFirstDigitAboveSmallMaxIsAccepted) {
    EXPECT_EQ(parse_decimal("7", 5), std::nullopt);
    EXPECT_EQ(parse_decimal("1", 0), std::nullopt);
    EXPECT_EQ(parse_decimal("0009", 8), std::nullopt);
    EXPECT_EQ(parse_decimal("5", 5), std::optional<std::uint64_t>(5));
}

}  // namespace
}  // namespace sipsleuth::core
