// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for ms_diagnostics.h: field case 002's 101 Progress Report header, the ErrorId.SubCode form,
// every parameter kept in order with its span, documented names from [MS-OCER], and the broken values
// of captures/mssip_bad_diagnostics.pcap.
#include "sipsleuth/core/ms_diagnostics.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sipsleuth::core {
namespace {

std::string_view at(std::string_view s, Span span) { return s.substr(span.offset, span.length); }

TEST(ParseMsDiagnostics, ProgressReportOfFieldCase002) {
    constexpr std::string_view v = "13004;reason=\"Request was proxied to one or more registered endpoints\";"
                                   "source=\"R2EE01.uclab.org\";appName=\"InboundRouting\"";
    const MsDiagnostics d = parse_ms_diagnostics(v);
    EXPECT_TRUE(d.problems.empty());
    ASSERT_TRUE(d.has_code);
    EXPECT_EQ(d.code, 13004u);
    EXPECT_FALSE(d.sub_code);
    EXPECT_EQ(at(v, d.code_span), "13004");
    ASSERT_EQ(d.params.size(), 3u);
    EXPECT_EQ(d.params[0].name, "reason");
    EXPECT_EQ(d.params[0].value, "Request was proxied to one or more registered endpoints");
    EXPECT_EQ(at(v, d.params[0].value_span), "\"Request was proxied to one or more registered endpoints\"");
    EXPECT_EQ(d.params[1].name, "source");
    EXPECT_EQ(d.params[1].value, "R2EE01.uclab.org");
    EXPECT_EQ(at(v, d.params[2].name_span), "appName");
    ASSERT_NE(d.param("APPNAME"), nullptr);
    EXPECT_EQ(d.param("appname")->value, "InboundRouting");
    EXPECT_EQ(d.param("missing"), nullptr);
    EXPECT_EQ(ms_diagnostics_label(d.code), "13004 (Request was proxied to one or more registered endpoints)");
}

TEST(ParseMsDiagnostics, SubCodeLeadingSpaceAndBareParams) {
    constexpr std::string_view v = "  1003.2;source=edge.example.com;foo;reason=\"User does not exist\"";
    const MsDiagnostics d = parse_ms_diagnostics(v);
    EXPECT_TRUE(d.problems.empty());
    EXPECT_EQ(d.code, 1003u);
    EXPECT_EQ(d.sub_code, 2u);
    EXPECT_EQ(at(v, d.code_span), "1003.2");
    ASSERT_EQ(d.params.size(), 3u);
    EXPECT_EQ(d.params[0].value, "edge.example.com");
    EXPECT_EQ(at(v, d.params[0].value_span), "edge.example.com");
    EXPECT_EQ(d.params[1].name, "foo");
    EXPECT_FALSE(d.params[1].has_value);
    EXPECT_EQ(d.params[2].value, "User does not exist");
}

TEST(ParseMsDiagnostics, BrokenValues) {
    struct Case {
        std::string_view value;
        bool has_code;
        std::uint32_t code;
        MsDiagProblemKind kind;
        std::string message;
    };
    const Case cases[] = {
        {"", false, 0, MsDiagProblemKind::empty, "Empty ms-diagnostics value"},
        {"   ", false, 0, MsDiagProblemKind::empty, "Empty ms-diagnostics value"},
        {"abc;reason=\"x\"", false, 0, MsDiagProblemKind::bad_code, "ErrorId \"abc\" is not a 32-bit number"},
        {"99999999999;reason=\"x\"", false, 0, MsDiagProblemKind::bad_code,
         "ErrorId \"99999999999\" is not a 32-bit number"},
        {"13004.x;source=a", true, 13004, MsDiagProblemKind::bad_sub_code, "Sub-code \"x\" is not a 32-bit number"},
        {"13004;reason=\"unclosed", true, 13004, MsDiagProblemKind::bad_shape,
         "Not an ErrorId followed by ;name=value parameters (unclosed quote or stray text?)"},
        {"13004 junk", true, 13004, MsDiagProblemKind::bad_shape,
         "Not an ErrorId followed by ;name=value parameters (unclosed quote or stray text?)"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.value));
        const MsDiagnostics d = parse_ms_diagnostics(c.value);
        EXPECT_EQ(d.has_code, c.has_code);
        EXPECT_EQ(d.code, c.code);
        ASSERT_EQ(d.problems.size(), 1u);
        EXPECT_EQ(d.problems[0].kind, c.kind);
        EXPECT_EQ(d.problems[0].message, c.message);
        EXPECT_LE(d.problems[0].where.end(), c.value.size());
    }
}

TEST(ParseMsDiagnostics, LongValueIsCut) {
    const std::string reason(5000, 'r');
    const std::string v = "13004;reason=\"" + reason + "\"";
    const MsDiagnostics d = parse_ms_diagnostics(v, 1024);
    ASSERT_EQ(d.params.size(), 1u);
    EXPECT_EQ(d.params[0].value.size(), 1024u);
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].kind, MsDiagProblemKind::value_cut);
    EXPECT_EQ(d.problems[0].message, "Value of reason of 5000 bytes shown cut to 1024 bytes");
    EXPECT_EQ(at(v, d.problems[0].where), "\"" + reason + "\"");
}

TEST(ParseMsDiagnostics, InvalidUtf8IsReplaced) {
    const MsDiagnostics d = parse_ms_diagnostics("13004;reason=\"a\xff" "b\"");
    ASSERT_EQ(d.params.size(), 1u);
    EXPECT_EQ(d.params[0].value, "a\xEF\xBF\xBD" "b");
}

TEST(MsDiagnosticsCodes, DocumentedNamesAndUnknownCodes) {
    const CodeTable t = ms_diagnostics_codes();
    EXPECT_EQ(t.size, 47u);
    EXPECT_STREQ(t.name(13004), "Request was proxied to one or more registered endpoints");
    EXPECT_STREQ(t.name(13006), "Request forwarded, any previous branches cancelled");
    EXPECT_STREQ(t.name(1003), "User does not exist");
    EXPECT_STREQ(t.name(4005), "Destination URI either not enabled for SIP or does not exist");
    EXPECT_STREQ(t.name(5001), "Request timed out");
    EXPECT_EQ(t.name(13009), nullptr);
    EXPECT_EQ(ms_diagnostics_label(51004), "51004");
    for (std::size_t i = 1; i < t.size; ++i) EXPECT_LT(t.data[i - 1].code, t.data[i].code);
}

// Bug: a header of many thousand bare parameters became as many tree items (past Wireshark's item limit).
TEST(ParseMsDiagnostics, ParametersAreBounded) {
    std::string value = "13004";
    for (int i = 0; i < 1000; ++i) value += ";p" + std::to_string(i) + "=1";
    const MsDiagnostics d = parse_ms_diagnostics(value);
    EXPECT_TRUE(d.has_code);
    ASSERT_EQ(d.params.size(), kMsDiagMaxParams);
    EXPECT_EQ(d.params.back().name, "p127");
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].kind, MsDiagProblemKind::value_cut);
    EXPECT_EQ(d.problems[0].message, "1000 parameters, the first 128 shown");
    EXPECT_EQ(value.substr(d.problems[0].where.offset, 6), "p128=1");
    EXPECT_EQ(d.problems[0].where.end(), value.size());
}

}  // namespace
}  // namespace sipsleuth::core
