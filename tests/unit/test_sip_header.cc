// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for sip_header.h: name-addr and addr-spec values with URI and header parameters, and
// token;param values, on the exact header values of field cases 002 (OCS 2007 R2: epid, GRUU,
// ms-diagnostics) and 003 (Cisco REFER), plus the malformed shapes that must be refused.
#include "sipsleuth/core/sip_header.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>
#include <cstdint>

namespace sipsleuth::core {
namespace {

std::string_view at(std::string_view s, Span span) { return s.substr(span.offset, span.length); }

TEST(ParseNameAddr, MicrosoftFromWithEpid) {
    constexpr std::string_view v = "\"Marino Filipovic\"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028";
    const auto a = parse_name_addr(v);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->display_name, "Marino Filipovic");
    EXPECT_EQ(a->uri, "sip:marinof@uclab.org");
    EXPECT_EQ(at(v, a->uri_span), "sip:marinof@uclab.org");
    ASSERT_EQ(a->params.size(), 2u);
    EXPECT_EQ(a->params[0].name, "tag");
    EXPECT_EQ(a->params[0].value, "0fae8454e3");
    EXPECT_EQ(at(v, a->params[1].name_span), "epid");
    EXPECT_EQ(at(v, a->params[1].value_span), "1488039028");
    ASSERT_NE(find_param(a->params, "EPID"), nullptr);
    EXPECT_EQ(find_param(a->params, "epid")->value, "1488039028");
    EXPECT_TRUE(a->uri_params.empty());
}

TEST(ParseNameAddr, ToOfEachForkedEndpoint) {
    // Field case 002: the two 183s tell the endpoints apart only by epid and tag in To.
    const auto one = parse_name_addr("<sip:izabelaf@uclab.org>;epid=aad34505db;tag=c34587eaa8");
    const auto two = parse_name_addr("<sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d");
    ASSERT_TRUE(one && two);
    EXPECT_EQ(one->display_name, "");
    EXPECT_EQ(find_param(one->params, "epid")->value, "aad34505db");
    EXPECT_EQ(find_param(two->params, "tag")->value, "97a7d6045d");
    EXPECT_EQ(find_param(one->params, "expires"), nullptr);
}

TEST(ParseNameAddr, ContactGruuEpid) {
    constexpr std::string_view v = "<sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>";
    const auto a = parse_name_addr(v);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->uri_params.size(), 2u);
    EXPECT_EQ(a->uri_params[0].name, "opaque");
    EXPECT_EQ(at(v, a->uri_params[0].value_span), "user:epid:uozeqPgOuFOVd0DaRpeFCgAA");
    EXPECT_EQ(a->uri_params[1].name, "gruu");
    EXPECT_FALSE(a->uri_params[1].value);
    EXPECT_EQ(gruu_epid(*a), "uozeqPgOuFOVd0DaRpeFCgAA");
    EXPECT_EQ(gruu_epid(*parse_name_addr("<sip:a@b;opaque=state:F:T:Eu;lr>")), std::nullopt);
    EXPECT_EQ(gruu_epid(*parse_name_addr("<sip:a@b;opaque=user:epid:>")), std::nullopt);
}

TEST(ParseNameAddr, UnquotedDisplayNameAndUriHeaders) {
    const auto a = parse_name_addr("Laurent Robert <sip:7821@192.168.15.20;transport=tcp?Subject=x>;tag=1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->display_name, "Laurent Robert");
    EXPECT_EQ(a->uri, "sip:7821@192.168.15.20;transport=tcp?Subject=x");
    ASSERT_EQ(a->uri_params.size(), 1u);
    EXPECT_EQ(a->uri_params[0].value, "tcp");
    EXPECT_EQ(find_param(a->params, "tag")->value, "1");
}

TEST(ParseNameAddr, AddrSpecParamsAreHeaderParams) {
    // RFC 3261 section 20.10: without angle brackets every ';' belongs to the header.
    const auto a = parse_name_addr("sip:marinof@uclab.org;tag=0fae8454e3");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->uri, "sip:marinof@uclab.org");
    EXPECT_TRUE(a->uri_params.empty());
    EXPECT_EQ(find_param(a->params, "tag")->value, "0fae8454e3");
}

TEST(ParseNameAddr, QuotedDisplayNameWithEscapesAndBrackets) {
    const auto a = parse_name_addr(R"("A \"B\" <C>" <sips:x@y>;p="v;w")");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->display_name, "A \"B\" <C>");
    EXPECT_EQ(a->uri, "sips:x@y");
    ASSERT_EQ(a->params.size(), 1u);
    EXPECT_TRUE(a->params[0].quoted);
    EXPECT_EQ(a->params[0].value, "v;w");
}

TEST(ParseNameAddr, RefusesMalformedValues) {
    for (std::string_view bad : {"", "   ", "\"unclosed <sip:a@b>", "<sip:a@b", "<nocolon>", "<:x>",
                                 "Bad\"Name <sip:a@b>", "<sip:a@b>;", "<sip:a@b>;=x", "<sip:a@b> junk",
                                 "<sip:a@b>;p=\"open", "<sip:a@b;=v>"}) {
        SCOPED_TRACE(std::string(bad));
        EXPECT_FALSE(parse_name_addr(bad));
    }
}

TEST(ParseTokenParams, MsDiagnosticsOfTheProgressReport) {
    constexpr std::string_view v = "13004;reason=\"Request was proxied to one or more registered endpoints\";"
                                   "source=\"R2EE01.uclab.org\";appName=\"InboundRouting\"";
    const auto t = parse_token_params(v);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->token, "13004");
    EXPECT_EQ(at(v, t->token_span), "13004");
    ASSERT_EQ(t->params.size(), 3u);
    EXPECT_EQ(t->params[0].value, "Request was proxied to one or more registered endpoints");
    EXPECT_EQ(at(v, t->params[0].value_span), "\"Request was proxied to one or more registered endpoints\"");
    EXPECT_EQ(find_param(t->params, "source")->value, "R2EE01.uclab.org");
    EXPECT_EQ(find_param(t->params, "appname")->value, "InboundRouting");
}

TEST(ParseTokenParams, SubscriptionStateAndEvent) {
    const auto s = parse_token_params("terminated;reason=timeout ; retry-after=30");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->token, "terminated");
    EXPECT_EQ(find_param(s->params, "reason")->value, "timeout");
    EXPECT_EQ(find_param(s->params, "retry-after")->value, "30");
    const auto e = parse_token_params("dialog;id=7;sla");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->token, "dialog");
    EXPECT_FALSE(find_param(e->params, "sla")->value);
    EXPECT_FALSE(parse_token_params(""));
    EXPECT_FALSE(parse_token_params(";x=1"));
    EXPECT_FALSE(parse_token_params("active junk"));
    EXPECT_FALSE(parse_token_params("active;reason=\"open"));
}

// The in-place reader (Event, Subscription-State on every NOTIFY) must accept exactly what
// parse_token_params accepts and give the same token, names and values, quoted-pairs undone by text().
void expect_same_reading(std::string_view v) {
    SCOPED_TRACE(std::string(v));
    const auto parsed = parse_token_params(v);
    std::string_view token;
    std::vector<ParamView> params;
    const bool read = read_token_params(v, token, params);
    ASSERT_EQ(read, parsed.has_value());
    if (!read) return;
    EXPECT_EQ(token, parsed->token);
    ASSERT_EQ(params.size(), parsed->params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        EXPECT_EQ(params[i].name, parsed->params[i].name);
        EXPECT_EQ(params[i].value.has_value(), parsed->params[i].value.has_value());
        EXPECT_EQ(params[i].quoted, parsed->params[i].quoted);
        if (params[i].value) EXPECT_EQ(params[i].text(), *parsed->params[i].value);
    }
}

TEST(ReadTokenParams, AgreesWithParseTokenParams) {
    for (std::string_view v :
         {"dialog", "dialog;id=7;sla", " presence ; id = \"a b\" ", "active;expires=3600", "terminated;reason=timeout ; retry-after=30",
          "terminated;reason=\"a\\\"b\\\\\"", "pending;x=\"\"", "refer;id=1,x", "a;b=c,d", "a;;b", "a; =1",
          "a;b=\"open", "a;b=\"esc\\", "", ";x=1", "active junk", "x;y=\"v\" ;z", "tok\t;\tp\t=\tv\t"}) {
        expect_same_reading(v);
    }
    // Byte mutations of real values (a seeded walk: the same cases every run).
    const std::string seeds[] = {"dialog;id=\"7\\\"x\";sla", "terminated;reason=deactivated;retry-after=30",
                                 "active;expires=1800;x=\"y z\""};
    const char alphabet[] = ";=\" \\,\tax\r\n";
    std::uint32_t state = 12345;
    for (const std::string& seed : seeds) {
        for (int n = 0; n < 4000; ++n) {
            std::string v = seed;
            for (int k = 0; k < 3; ++k) {
                state = state * 1103515245u + 12345u;
                const std::size_t at = (state >> 8) % (v.size() + 1);
                state = state * 1103515245u + 12345u;
                const char c = alphabet[(state >> 8) % (sizeof alphabet - 1)];
                if ((state >> 20) & 1) v.insert(at, 1, c);
                else if (at < v.size()) v[at] = c;
            }
            expect_same_reading(v);
        }
    }
}

}  // namespace
}  // namespace sipsleuth::core
