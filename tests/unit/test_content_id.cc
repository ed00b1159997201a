// SPDX-License-Identifier: GPL-2.0-or-later
// Unit tests for sipsleuth/core/content_id.h: the Content-ID header value ("<addr-spec>") and the
// RFC 2392 cid: URL that names it, as field case 003's REFERs carry them (Refer-To:
// cid:082f1702@192.168.15.20 with Content-Id: <082f1702@192.168.15.20>). Covers angle brackets, header
// parameters, the case-insensitive scheme, percent-decoding, percent signs that do not start a valid
// escape (kept as they are), non-cid URLs and empty values.
#include "sipsleuth/core/content_id.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace sipsleuth::core {
namespace {

using namespace std::string_literals;

struct Case {
    std::string_view in;
    std::optional<std::string> out;
};

TEST(ContentIdValue, Table) {
    const Case cases[] = {
        {"<a@b>", "a@b"},
        {"<082f1702@192.168.15.20>", "082f1702@192.168.15.20"},
        {"  <65877be3@192.168.15.20>\r\n", "65877be3@192.168.15.20"},
        {"a@b", "a@b"},
        {" a@b ", "a@b"},
        {"< a@b >", "a@b"},
        {"<a@b>;x=1", "a@b"},
        {"<a@b>>", "a@b"},
        // An unterminated bracket takes the rest of the value.
        {"<a@b", "a@b"},
        // The header form is not percent-decoded.
        {"<x%40y>", "x%40y"},
        {"<>", std::nullopt},
        {"< >", std::nullopt},
        {"<", std::nullopt},
        {"", std::nullopt},
        {" \t ", std::nullopt},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.in));
        EXPECT_EQ(content_id_value(c.in), c.out);
    }
}

TEST(CidUrlTarget, Table) {
    const Case cases[] = {
        {"cid:082f1702@192.168.15.20", "082f1702@192.168.15.20"},
        {"<cid:x%40y>;p=1", "x@y"},
        {"<cid:x%40y>", "x@y"},
        {"CID:abc", "abc"},
        {"cId:abc", "abc"},
        {"  cid:abc \r\n", "abc"},
        {"< cid:abc >", "abc"},
        // Header parameters are cut outside brackets only.
        {"cid:x;p=1", "x"},
        {"<cid:a;b>;p=1", "a;b"},
        // Percent-decoding (RFC 2392 section 2: the URL form is %hh-escaped), either hex case.
        {"cid:a%40b", "a@b"},
        {"cid:%41%62", "Ab"},
        {"cid:%4a%4A", "JJ"},
        {"cid:%25", "%"},
        {"cid:%2541", "%41"},
        {"cid:%00", "\0"s},
        // Percent signs that do not start a valid escape are kept as they are.
        {"cid:%zz", "%zz"},
        {"cid:%4g1", "%4g1"},
        {"cid:a%4", "a%4"},
        {"cid:a%", "a%"},
        {"cid:%", "%"},
        {"cid:%%41", "%A"},
        // Not a cid: URL.
        {"sip:x", std::nullopt},
        {"<sip:x@y>", std::nullopt},
        {"mid:x", std::nullopt},
        {"cid", std::nullopt},
        {"cid-x", std::nullopt},
        {"x cid:y", std::nullopt},
        // Unterminated angle bracket.
        {"<cid:x", std::nullopt},
        // Empty.
        {"cid:", std::nullopt},
        {"<cid:>", std::nullopt},
        {"cid:;p=1", std::nullopt},
        {"", std::nullopt},
        {"<>", std::nullopt},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.in));
        EXPECT_EQ(cid_url_target(c.in), c.out);
    }
}

// Field case 003: each REFER's Refer-To names its own body part through Content-Id.
TEST(CidUrlTarget, MatchesTheContentIdOfTheSeedRefers) {
    EXPECT_EQ(cid_url_target("cid:082f1702@192.168.15.20"), content_id_value("<082f1702@192.168.15.20>"));
    EXPECT_EQ(cid_url_target("cid:65877be3@192.168.15.20"), content_id_value("<65877be3@192.168.15.20>"));
    EXPECT_NE(cid_url_target("cid:082f1702@192.168.15.20"), content_id_value("<65877be3@192.168.15.20>"));
    EXPECT_EQ(cid_url_target("cid:082f1702%40192.168.15.20"), content_id_value("<082f1702@192.168.15.20>"));
}

}  // namespace
}  // namespace sipsleuth::core

namespace sipsleuth::core {
namespace {

struct CidCase {
    const char* refer_to;
    const char* content_id;
    CidVerdict verdict;
    const char* refer_cid;
    const char* body_cid;
    const char* message;
};

// The checks of the REFERs in captures/ciscoalarm_cp7821_boot.pcap and ciscoalarm_cid_mismatch.pcap.
const CidCase kCidCases[] = {
    {"cid:082f1702@192.168.15.20", "<082f1702@192.168.15.20>", CidVerdict::match, "082f1702@192.168.15.20",
     "082f1702@192.168.15.20", ""},
    {"<cid:082f1702%40192.168.15.20>", " <082f1702@192.168.15.20> ", CidVerdict::match, "082f1702@192.168.15.20",
     "082f1702@192.168.15.20", ""},
    {"cid:deadbeef@192.168.15.20", "<082f1702@192.168.15.20>", CidVerdict::mismatch, "deadbeef@192.168.15.20",
     "082f1702@192.168.15.20",
     "Refer-To names cid:deadbeef@192.168.15.20 but this body's Content-ID is <082f1702@192.168.15.20>"},
    {"cid:082f1702@192.168.15.20", "", CidVerdict::no_content_id, "082f1702@192.168.15.20", "",
     "Refer-To names cid:082f1702@192.168.15.20 but this body has no Content-ID"},
    {"sip:192.168.110.100", "<082f1702@192.168.15.20>", CidVerdict::no_refer_cid, "", "082f1702@192.168.15.20",
     "This body's Content-ID is <082f1702@192.168.15.20> but Refer-To is not a cid: URL naming it"},
    {"", "", CidVerdict::neither, "", "", "Neither a Refer-To cid: URL nor a Content-ID names this body"},
};

TEST(CheckReferToCid, Table) {
    for (const CidCase& c : kCidCases) {
        SCOPED_TRACE(std::string(c.refer_to) + " / " + c.content_id);
        const CidCheck got = check_refer_to_cid(c.refer_to, c.content_id);
        EXPECT_EQ(got.verdict, c.verdict);
        EXPECT_EQ(got.refer_cid, c.refer_cid);
        EXPECT_EQ(got.body_cid, c.body_cid);
        EXPECT_EQ(got.message, c.message);
    }
}

TEST(CheckReferToCid, HostileIdsAreCutAndRepaired) {
    const std::string long_id = "cid:" + std::string(5000, 'a') + "\xff";
    const CidCheck got = check_refer_to_cid(long_id, "");
    EXPECT_EQ(got.verdict, CidVerdict::no_content_id);
    EXPECT_EQ(got.refer_cid, std::string(512, 'a'));
    // The message names the id cut to 64 bytes and fits the GUI's label (200 characters).
    EXPECT_EQ(got.message, "Refer-To names cid:" + std::string(61, 'a') + "... but this body has no Content-ID");
    const CidCheck both = check_refer_to_cid(long_id, "<" + std::string(3000, 'b') + ">");
    EXPECT_EQ(both.verdict, CidVerdict::mismatch);
    EXPECT_LE(both.message.size(), 200u);
}

}  // namespace
}  // namespace sipsleuth::core
