// SPDX-License-Identifier: GPL-2.0-or-later
// Unit tests for core/rlmi.h: RFC 4662 RLMI documents as sipXrls writes them (field case 000) and the
// link from each instance's cid to a multipart part's Content-ID.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sipsleuth/core/rlmi.h"

namespace {

using namespace sipsleuth::core;

// sipXrls ResourceList::generateRlmiBody for ~~rl~C~207 (consolidated list of one resource).
const char* const kSipx =
    "<?xml version=\"1.0\"?>\r\n"
    "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:~~rl~C~207@victoria.pingtel.com\" version=\"3\" "
    "fullState=\"true\">\r\n"
    "  <resource uri=\"sip:208@victoria.pingtel.com\">\r\n    <name>208</name>\r\n"
    "    <instance id=\"consolidated\" state=\"active\" cid=\"1@victoria.pingtel.com\"/>\r\n"
    "  </resource>\r\n</list>\r\n";

std::vector<DocProblemKind> kinds(const Rlmi& r) {
    std::vector<DocProblemKind> out;
    for (const DocProblem& p : r.problems) out.push_back(p.kind);
    return out;
}

TEST(Rlmi, SipxDocument) {
    const std::string body = kSipx;
    const Rlmi r = parse_rlmi(body);
    ASSERT_TRUE(r.decoded);
    EXPECT_TRUE(r.problems.empty());
    EXPECT_EQ(r.uri.value, "sip:~~rl~C~207@victoria.pingtel.com");
    EXPECT_EQ(r.version_value, 3u);
    EXPECT_EQ(r.full, true);
    ASSERT_EQ(r.resources.size(), 1u);
    const RlmiResource& res = r.resources[0];
    EXPECT_EQ(res.uri.value, "sip:208@victoria.pingtel.com");
    ASSERT_EQ(res.names.size(), 1u);
    EXPECT_EQ(res.names[0].text.value, "208");
    ASSERT_EQ(res.instances.size(), 1u);
    EXPECT_EQ(res.instances[0].id.value, "consolidated");
    EXPECT_EQ(res.instances[0].state.value, "active");
    EXPECT_EQ(res.instances[0].cid.value, "1@victoria.pingtel.com");
    EXPECT_EQ(body.substr(res.instances[0].cid.span.offset, res.instances[0].cid.span.length), "1@victoria.pingtel.com");
    EXPECT_EQ(rlmi_summary(r), "RLMI v3 full sip:~~rl~C~207@victoria.pingtel.com: 1 resource, 1 instance");
}

TEST(Rlmi, NamesWithLanguageAndTerminatedInstance) {
    const Rlmi r = parse_rlmi(
        "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:l@h\" version=\"0\" fullState=\"false\">"
        "<name xml:lang=\"en\">Buddies</name><resource uri=\"sip:a@h\"><instance id=\"i\" state=\"terminated\" "
        "reason=\"rejected\"/></resource></list>");
    EXPECT_TRUE(r.problems.empty());
    EXPECT_EQ(r.full, false);
    ASSERT_EQ(r.names.size(), 1u);
    EXPECT_EQ(r.names[0].lang.value, "en");
    EXPECT_EQ(r.resources[0].instances[0].reason.value, "rejected");
    EXPECT_EQ(rlmi_summary(r), "RLMI v0 partial sip:l@h: 1 resource, 1 instance");
}

TEST(Rlmi, MissingAttributesAndUnknownState) {
    const Rlmi r = parse_rlmi(
        "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"u\"><resource><instance state=\"open\"/></resource></list>");
    EXPECT_EQ(kinds(r), (std::vector<DocProblemKind>{DocProblemKind::missing_attribute, DocProblemKind::missing_attribute,
                                                     DocProblemKind::missing_attribute, DocProblemKind::missing_attribute,
                                                     DocProblemKind::unknown_value}));
    EXPECT_EQ(r.problems[0].message, "<list> has no version attribute");
    EXPECT_EQ(r.problems[2].message, "<resource> has no uri attribute");
    EXPECT_EQ(r.problems[4].message, "Instance state \"open\" is not active, pending or terminated");
}

TEST(Rlmi, WrongRoot) {
    const Rlmi r = parse_rlmi("<list uri=\"u\" version=\"1\" fullState=\"true\"/>");
    EXPECT_FALSE(r.decoded);
    EXPECT_EQ(kinds(r), std::vector<DocProblemKind>{DocProblemKind::wrong_root});
}

std::vector<RlmiPart> parts(std::vector<std::string> ids) {
    std::vector<RlmiPart> out;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        RlmiPart p;
        p.content_id = ids[i];
        p.content_type = i == 0 ? "application/rlmi+xml" : "application/dialog-info+xml";
        p.is_root = i == 0;
        out.push_back(p);
    }
    return out;
}

TEST(RlmiLinks, SipxInstanceLinked) {
    const RlmiLinks l = link_instances(parse_rlmi(kSipx), parts({"<rlmi@victoria.pingtel.com>", "<1@victoria.pingtel.com>"}), true);
    ASSERT_EQ(l.instance_part.size(), 1u);
    EXPECT_EQ(l.instance_part[0], 1u);
    EXPECT_EQ(l.missing[0], "");
    EXPECT_EQ(l.unreferenced, (std::vector<std::string>{"", ""}));
}

TEST(RlmiLinks, MissingAndUnreferenced) {
    // One mismatch between a cid and a Content-ID: the instance's warning is the cause, the part left
    // over its consequence.
    const RlmiLinks l = link_instances(parse_rlmi(kSipx), parts({"<rlmi@v>", "<2@v>"}), true);
    EXPECT_FALSE(l.instance_part[0]);
    EXPECT_EQ(l.missing[0],
              "Instance \"consolidated\" names cid 1@victoria.pingtel.com, which no part of this multipart body has as "
              "Content-ID");
    EXPECT_EQ(l.unreferenced[1], "Part 2 (application/dialog-info+xml, Content-ID <2@v>) is named by no RLMI instance, "
                                 "and an instance's cid names no part (the same mismatch?)");
    EXPECT_EQ(l.unreferenced_consequence, (std::vector<bool>{false, true}));
}

TEST(RlmiLinks, UnreferencedPartAloneIsACause) {
    const RlmiLinks l =
        link_instances(parse_rlmi(kSipx), parts({"<rlmi@v>", "<1@victoria.pingtel.com>", "<3@v>"}), true);
    EXPECT_EQ(l.missing[0], "");
    EXPECT_EQ(l.unreferenced[2], "Part 3 (application/dialog-info+xml, Content-ID <3@v>) is named by no RLMI instance");
    EXPECT_EQ(l.unreferenced_consequence, (std::vector<bool>{false, false, false}));
}

TEST(RlmiLinks, MessagesFitIn200Bytes) {
    const std::string v(300, 'v');
    std::string body = kSipx;
    body.replace(body.find("cid=\"1@"), 7, "cid=\"" + v + "@");
    body.replace(body.find("id=\"consolidated\""), 17, "id=\"" + v + "\"");
    std::vector<RlmiPart> p = parts({"<rlmi@v>", "<" + v + ">"});
    p[1].content_type = "application/" + v;
    const RlmiLinks l = link_instances(parse_rlmi(body), p, true);
    ASSERT_FALSE(l.missing[0].empty());
    ASSERT_FALSE(l.unreferenced[1].empty());
    EXPECT_LE(l.missing[0].size(), 200u) << l.missing[0];
    EXPECT_LE(l.unreferenced[1].size(), 200u) << l.unreferenced[1];
    const Rlmi wrong = parse_rlmi("<" + v + " xmlns=\"urn:" + v + "\"/>");
    ASSERT_EQ(wrong.problems.size(), 1u);
    EXPECT_LE(wrong.problems[0].message.size(), 200u) << wrong.problems[0].message;
}

TEST(RlmiLinks, CidUrlFormAccepted) {
    std::string body = kSipx;
    body.replace(body.find("cid=\"1@"), 7, "cid=\"cid:1@");
    const RlmiLinks l = link_instances(parse_rlmi(body), parts({"<rlmi@v>", "<1@victoria.pingtel.com>"}), true);
    EXPECT_EQ(l.instance_part[0], 1u);
}

TEST(RlmiLinks, RootPartNeverTheTarget) {
    // An instance naming the RLMI part itself is not linked to it.
    const RlmiLinks l = link_instances(parse_rlmi(kSipx), parts({"<1@victoria.pingtel.com>"}), true);
    EXPECT_FALSE(l.instance_part[0]);
}

TEST(RlmiLinks, NotInMultipart) {
    // One incident for the document, however many instances name a cid.
    std::string body = kSipx;
    const std::string instance = "<instance id=\"consolidated\"";
    body.insert(body.find(instance), "<instance id=\"second\" state=\"active\" cid=\"9@v\"/>");
    const RlmiLinks l = link_instances(parse_rlmi(body), {}, false);
    ASSERT_EQ(l.missing.size(), 2u);
    EXPECT_EQ(l.missing[0], "RLMI document names parts by cid (2 instances) but is not in a multipart/related body");
    EXPECT_EQ(l.missing[1], "");
}

}  // namespace
