-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of ss_compat.lualib: integer formatting, bit operations, UTF-8 checks and repair, and
-- fit_message, against the values of core text.h (tests/unit/test_text.cc).

local check = require("check")
local C = require("ss_compat")

local eq = check.eq

local T = {}

T.integers = function()
    eq(C.int(3), "3")
    eq(C.int(3.0), "3")
    eq(C.int(2 ^ 40 + 7), "1099511627783")
    eq(C.int(-5), "-5")
    eq(C.idiv(7, 2), 3)
    eq(C.format_ns(12345678901), "12.345678901")
    eq(C.format_ns(5), "0.000000005")
end

T.bits = function()
    eq(C.band(0xff00, 0x0ff0), 0x0f00)
    eq(C.bor(0xf0, 0x0f), 0xff)
    eq(C.bxor(0xff, 0x0f), 0xf0)
    eq(C.band(0xffffffff, 0x80000001), 0x80000001)
    eq(C.lshift(1, 31), 2147483648)
    eq(C.lshift(0x80000000, 1), 0)
    eq(C.rshift(0xf0, 4), 0x0f)
    eq(C.be16("\1\2", 1), 258)
    eq(C.be32("\255\0\0\1", 1), 4278190081)
end

T.utf8_validation = function()
    eq(C.first_invalid_utf8("plain"), nil)
    eq(C.first_invalid_utf8("caf\195\169"), nil)
    eq(C.first_invalid_utf8("ab\255"), 2)
    eq(C.first_invalid_utf8("\192\175"), 0, "overlong /")
    eq(C.first_invalid_utf8("x\237\160\128"), 1, "surrogate")
    eq(C.first_invalid_utf8("\244\144\128\128"), 0, "above U+10FFFF")
    eq(C.first_invalid_utf8("\240\159\152\128"), nil, "U+1F600")
    eq(C.first_invalid_utf8("\226\130"), 0, "cut")
end

T.sanitize_and_cut = function()
    local s, cut = C.sanitize_utf8("ab\255c")
    eq(s, "ab\239\191\189c")
    eq(cut, false)
    s, cut = C.sanitize_utf8("abcdef", 4)
    eq(s, "abcd")
    eq(cut, true)
    -- never inside a character
    s, cut = C.sanitize_utf8("ab\195\169", 3)
    eq(s, "ab")
    eq(cut, true)
    s, cut = C.sanitize_utf8("\195\169x\255yz", 7)
    eq(s, "\195\169x\239\191\189y")
    eq(cut, true)
end

T.fit_message = function()
    eq(C.fit_message("short"), "short")
    local long = string.rep("a", 250)
    eq(C.fit_message(long), string.rep("a", 197) .. "...")
    eq(#C.fit_message(string.rep("\195\169", 150)), 199)  -- 98 two-byte characters and "..."
    eq(C.fit_message("abcdef", 5), "ab...")
end

T.text_helpers = function()
    eq(C.trim(" \t a b \r\n"), "a b")
    eq(C.iequals("Call-ID", "call-id"), true)
    eq(C.iequals("Call-ID", "call-i"), false)
    eq(C.parse_decimal("0042"), 42)
    eq(C.parse_decimal("4x"), nil)
    eq(C.parse_decimal(""), nil)
    eq(C.parse_decimal("300", 255), nil)
    eq(C.escape_controls("a\0b\n\r\t\127"), "a\\x00b\\n\\r\\t\\x7f")
end

return T
