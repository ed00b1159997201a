// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for sip::parse() (sip/message.h): start lines, every header Message keeps in full and compact
// form, folded lines, several values per line, the top Via with an IPv6 sent-by, Contacts with expires,
// +sip.instance and Microsoft GRUU epids, body spans, and what happens on missing headers, truncated
// input and garbage. Exact values throughout.
#include "sipsleuth/core/sip/message.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sipsleuth::core::sip {
namespace {

std::string crlf(std::string_view lines) {
    // Test messages are written with '\n'; SIP puts CRLF at each line end.
    std::string out;
    for (char c : lines) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

bool has_problem(const Message& m, std::string_view header, std::string_view what) {
    for (const HeaderProblem& p : m.problems)
        if (p.header == header && p.what == what) return true;
    return false;
}

TEST(SipParse, RegisterFullForm) {
    const std::string bytes = crlf(
        "REGISTER sip:example.com SIP/2.0\n"
        "Via: SIP/2.0/TCP 10.1.1.5:5060;branch=z9hG4bK776asdhds;rport;received=192.0.2.7\n"
        "Max-Forwards: 70\n"
        "To: \"Bob \\\"B\\\"\" <sip:bob@example.com>\n"
        "From: Bob <sip:bob@example.com>;tag=456248;epid=ab12cd\n"
        "Call-ID: 843817637684230@998sdasdh09\n"
        "CSeq: 1826 REGISTER\n"
        "Contact: <sip:bob@10.1.1.5:5060;transport=tcp;ob>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"\n"
        "Expires: 7200\n"
        "Flow-Timer: 120\n"
        "User-Agent: Polycom/5.9  VVX\n"
        "Content-Length: 0\n"
        "\n");
    Message m;
    ASSERT_EQ(parse(bytes, m), ParseStatus::ok);
    EXPECT_TRUE(m.request);
    EXPECT_EQ(m.method, "REGISTER");
    EXPECT_EQ(m.request_uri, "sip:example.com");
    EXPECT_EQ(m.status, 0u);
    EXPECT_EQ(m.call_id, "843817637684230@998sdasdh09");
    EXPECT_EQ(m.to.display, "Bob \"B\"");
    EXPECT_EQ(m.to.uri, "sip:bob@example.com");
    EXPECT_EQ(m.to.tag, "");
    EXPECT_EQ(m.from.display, "Bob");
    EXPECT_EQ(m.from.tag, "456248");
    EXPECT_EQ(m.from.epid, "ab12cd");
    EXPECT_TRUE(m.has_cseq);
    EXPECT_EQ(m.cseq, 1826u);
    EXPECT_EQ(m.cseq_method, "REGISTER");
    EXPECT_TRUE(m.via.present);
    EXPECT_EQ(m.via.transport, "TCP");
    EXPECT_EQ(m.via.host, "10.1.1.5");
    EXPECT_EQ(m.via.port, 5060);
    EXPECT_EQ(m.via.branch, "z9hG4bK776asdhds");
    EXPECT_EQ(m.via.received, "192.0.2.7");
    EXPECT_TRUE(m.via.rfc3261_branch());
    EXPECT_EQ(m.via_count, 1u);
    ASSERT_EQ(m.contacts.size(), 1u);
    EXPECT_EQ(m.contacts[0].uri, "sip:bob@10.1.1.5:5060;transport=tcp;ob");
    EXPECT_EQ(m.contacts[0].expires, 3600u);
    EXPECT_EQ(m.contacts[0].instance, "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>");
    EXPECT_FALSE(m.contacts[0].star);
    EXPECT_EQ(m.contacts[0].gruu_epid, "");
    EXPECT_EQ(m.expires, 7200u);
    EXPECT_EQ(m.flow_timer, 120u);
    EXPECT_EQ(m.user_agent, "Polycom/5.9  VVX");
    EXPECT_EQ(m.content_length, 0u);
    EXPECT_EQ(m.body_offset, bytes.size());
    EXPECT_EQ(m.body_length, 0u);
    EXPECT_FALSE(m.event);
    EXPECT_TRUE(m.problems.empty());
}

TEST(SipParse, CompactFormsAndCaseInsensitiveNames) {
    const std::string bytes = crlf(
        "NOTIFY sip:alice@10.0.0.9:5060 SIP/2.0\n"
        "v: SIP/2.0/UDP [2001:DB8::9]:5070;BRANCH=z9hG4bKnotify1\n"
        "f: <sip:pres@example.com>;tag=srv1\n"
        "t: <sip:alice@example.com>;tag=ua1\n"
        "i: notify-call-id\n"
        "CSEQ: 7 NOTIFY\n"
        "m: <sip:pres@192.0.2.1>\n"
        "o: presence;id=7\n"
        "u: presence, dialog\n"
        "k: eventlist\n"
        "SUBSCRIPTION-state: active;expires=599\n"
        "c: Application/PIDF+XML ; charset=utf-8\n"
        "l: 5\n"
        "e: gzip\n"
        "s: hello\n"
        "x: 1800\n"
        "\n"
        "<x/>\n");
    Message m;
    ASSERT_EQ(parse(bytes, m), ParseStatus::ok);
    EXPECT_EQ(m.method, "NOTIFY");
    EXPECT_EQ(m.via.transport, "UDP");
    EXPECT_EQ(m.via.host, "2001:db8::9");
    EXPECT_EQ(m.via.port, 5070);
    EXPECT_EQ(m.via.branch, "z9hG4bKnotify1");
    EXPECT_EQ(m.from.uri, "sip:pres@example.com");
    EXPECT_EQ(m.from.tag, "srv1");
    EXPECT_EQ(m.to.tag, "ua1");
    EXPECT_EQ(m.call_id, "notify-call-id");
    EXPECT_EQ(m.cseq, 7u);
    EXPECT_EQ(m.cseq_method, "NOTIFY");
    ASSERT_EQ(m.contacts.size(), 1u);
    EXPECT_EQ(m.contacts[0].uri, "sip:pres@192.0.2.1");
    EXPECT_EQ(m.event, std::optional<std::string>("presence;id=7"));
    EXPECT_EQ(m.subscription_state, std::optional<std::string>("active;expires=599"));
    EXPECT_EQ(m.content_type, "application/pidf+xml");
    EXPECT_EQ(m.content_length, 5u);
    EXPECT_EQ(m.body_offset, bytes.size() - 6);
    EXPECT_EQ(m.body_length, 5u);
    EXPECT_EQ(std::string_view(bytes).substr(m.body_offset, m.body_length), "<x/>\r");
    EXPECT_TRUE(m.problems.empty());
}

TEST(SipParse, ResponseWithSeveralViasContactsAndRoutes) {
    const std::string bytes = crlf(
        "SIP/2.0 200 OK Fine\n"
        "Via: SIP/2.0/UDP Proxy.Example.COM;branch=z9hG4bKp1, SIP/2.0/TCP 10.0.0.1:5061;branch=z9hG4bKua\n"
        "Via: SIP/2.0/TLS 10.0.0.2;branch=z9hG4bKx\n"
        "Record-Route: <sip:p1.example.com;lr>, \"a, b\" <sip:p2.example.com;lr>\n"
        "Record-Route: <sip:p3.example.com;lr;x=\"1,2\">\n"
        "From: \"Doe, Jane\" <sip:jane@example.com>;tag=a\n"
        "To: sip:bob@example.com;tag=b\n"
        "Call-ID: c1\n"
        "CSeq: 2 INVITE\n"
        "Contact: \"One, Two\" <sip:bob@10.0.0.3>;expires=60, <sip:bob@10.0.0.4;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>\n"
        "m: sip:bob@10.0.0.5;expires=30\n"
        "Server: Asterisk PBX 18\n"
        "Content-Length: 0\n"
        "\n");
    Message m;
    ASSERT_EQ(parse(bytes, m), ParseStatus::ok);
    EXPECT_FALSE(m.request);
    EXPECT_EQ(m.status, 200u);
    EXPECT_EQ(m.reason, "OK Fine");
    EXPECT_EQ(m.via_count, 3u);
    EXPECT_EQ(m.via.transport, "UDP");
    EXPECT_EQ(m.via.host, "proxy.example.com");
    EXPECT_EQ(m.via.port, 0);
    EXPECT_EQ(m.via.branch, "z9hG4bKp1");
    ASSERT_EQ(m.record_route.size(), 3u);
    EXPECT_EQ(m.record_route[0], "sip:p1.example.com;lr");
    EXPECT_EQ(m.record_route[1], "sip:p2.example.com;lr");
    EXPECT_EQ(m.record_route[2], "sip:p3.example.com;lr;x=\"1,2\"");
    EXPECT_EQ(m.from.display, "Doe, Jane");
    EXPECT_EQ(m.to.uri, "sip:bob@example.com");
    EXPECT_EQ(m.to.tag, "b");
    ASSERT_EQ(m.contacts.size(), 3u);
    EXPECT_EQ(m.contacts[0].raw, "\"One, Two\" <sip:bob@10.0.0.3>;expires=60");
    EXPECT_EQ(m.contacts[0].uri, "sip:bob@10.0.0.3");
    EXPECT_EQ(m.contacts[0].expires, 60u);
    EXPECT_EQ(m.contacts[1].uri, "sip:bob@10.0.0.4;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu");
    EXPECT_EQ(m.contacts[1].gruu_epid, "uozeqPgOuFOVd0DaRpeFCgAA");
    EXPECT_EQ(m.contacts[1].expires, std::nullopt);
    EXPECT_EQ(m.contacts[2].uri, "sip:bob@10.0.0.5");  // addr-spec: ;expires is a header parameter
    EXPECT_EQ(m.contacts[2].expires, 30u);
    EXPECT_EQ(m.server, "Asterisk PBX 18");
    EXPECT_EQ(m.cseq_method, "INVITE");
    EXPECT_TRUE(m.final_response());
    EXPECT_EQ(m.txn_method(), "INVITE");
    EXPECT_TRUE(m.problems.empty());
}

TEST(SipParse, FoldedLinesAndBareLineFeeds) {
    const std::string bytes =
        "SUBSCRIBE sip:b@x SIP/2.0\n"
        "Via: SIP/2.0/UDP\n"
        "  10.9.9.9:5062\n"
        "\t;branch=z9hG4bKfold\n"
        "From: <sip:a@x>\n"
        " ;tag=f1\n"
        "To: <sip:b@x>\n"
        "Call-ID: fold\n"
        "CSeq: 1\n"
        "   SUBSCRIBE\n"
        "Event: dialog\n"
        "User-Agent: Some\n"
        "  Agent/1.0\n"
        "\n";
    Message m;
    ASSERT_EQ(parse(bytes, m), ParseStatus::ok);
    EXPECT_EQ(m.via.host, "10.9.9.9");
    EXPECT_EQ(m.via.port, 5062);
    EXPECT_EQ(m.via.branch, "z9hG4bKfold");
    EXPECT_EQ(m.from.tag, "f1");
    EXPECT_EQ(m.cseq, 1u);
    EXPECT_EQ(m.cseq_method, "SUBSCRIBE");
    EXPECT_EQ(m.user_agent, "Some Agent/1.0");
    EXPECT_EQ(m.event, std::optional<std::string>("dialog"));
    EXPECT_EQ(m.body_length, 0u);
    EXPECT_TRUE(m.problems.empty());
}

TEST(SipParse, ContactStarAndLeadingCrlf) {
    const std::string bytes = crlf(
        "\n\nREGISTER sip:r SIP/2.0\n"
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
        "From: <sip:a@r>;tag=1\nTo: <sip:a@r>\nCall-ID: s\nCSeq: 3 REGISTER\n"
        "Contact: *\nExpires: 0\n\n");
    Message m;
    ASSERT_EQ(parse(bytes, m), ParseStatus::ok);
    ASSERT_EQ(m.contacts.size(), 1u);
    EXPECT_TRUE(m.contacts[0].star);
    EXPECT_EQ(m.contacts[0].uri, "");
    EXPECT_EQ(m.expires, 0u);
}

TEST(SipParse, MissingHeadersAreProblems) {
    Message m;
    ASSERT_EQ(parse(crlf("OPTIONS sip:x SIP/2.0\nMax-Forwards: 70\n\n"), m), ParseStatus::ok);
    EXPECT_EQ(m.method, "OPTIONS");
    EXPECT_FALSE(m.has_cseq);
    EXPECT_FALSE(m.via.present);
    EXPECT_EQ(m.via_count, 0u);
    EXPECT_EQ(m.call_id, "");
    ASSERT_EQ(m.problems.size(), 5u);
    EXPECT_TRUE(has_problem(m, "Call-ID", "missing"));
    EXPECT_TRUE(has_problem(m, "From", "missing"));
    EXPECT_TRUE(has_problem(m, "To", "missing"));
    EXPECT_TRUE(has_problem(m, "CSeq", "missing"));
    EXPECT_TRUE(has_problem(m, "Via", "missing"));
}

TEST(SipParse, BadValuesAreProblems) {
    const std::string bytes = crlf(
        "INVITE sip:x SIP/2.0\n"
        "Via: SIP/2.0/UDP h:99999;branch=1\n"
        "From: <sip:a@x;tag=1\n"
        "To: <sip:b@x>\n"
        "Call-ID: c\n"
        "CSeq: 12a INVITE\n"
        "Contact: <sip:c@x>;expires=soon\n"
        "Expires: Thu, 01 Dec 1994 16:00:00 GMT\n"
        "Content-Length: lots\n"
        "garbage line\n"
        "\n");
    Message m;
    ASSERT_EQ(parse(bytes, m), ParseStatus::ok);
    EXPECT_TRUE(has_problem(m, "Via", "bad port"));
    EXPECT_EQ(m.via.port, 0);
    EXPECT_EQ(m.via.host, "h");
    EXPECT_EQ(m.via.branch, "1");
    EXPECT_FALSE(m.via.rfc3261_branch());
    EXPECT_TRUE(has_problem(m, "From", "not a name-addr"));
    EXPECT_TRUE(has_problem(m, "CSeq", "not a number"));
    EXPECT_FALSE(m.has_cseq);
    EXPECT_TRUE(has_problem(m, "Contact", "expires not a number"));
    EXPECT_EQ(m.contacts.at(0).expires, std::nullopt);
    EXPECT_TRUE(has_problem(m, "Expires", "not a number"));
    EXPECT_EQ(m.expires, std::nullopt);
    EXPECT_TRUE(has_problem(m, "Content-Length", "not a number"));
    EXPECT_TRUE(has_problem(m, "", "header line without a colon"));
    EXPECT_EQ(m.problems.size(), 7u);
}

TEST(SipParse, CseqRulesAndRepeats) {
    Message m;
    ASSERT_EQ(parse(crlf("BYE sip:x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\nFrom: <sip:a@x>;tag=1\n"
                         "To: <sip:b@x>;tag=2\nCall-ID: c\nCall-ID: d\nCSeq: 2147483648 INVITE\n\n"),
                    m),
              ParseStatus::ok);
    EXPECT_EQ(m.call_id, "c");
    EXPECT_TRUE(has_problem(m, "Call-ID", "repeated"));
    EXPECT_TRUE(has_problem(m, "CSeq", "number out of range"));
    EXPECT_TRUE(has_problem(m, "CSeq", "method differs from the request's"));
    EXPECT_TRUE(m.has_cseq);
    EXPECT_EQ(m.cseq, 2147483648u);
    EXPECT_EQ(m.problems.size(), 3u);

    ASSERT_EQ(parse(crlf("SIP/2.0 100 Trying\nCSeq: 5\n\n"), m), ParseStatus::ok);
    EXPECT_TRUE(has_problem(m, "CSeq", "no method"));
    EXPECT_FALSE(m.has_cseq);
    ASSERT_EQ(parse(crlf("SIP/2.0 100 Trying\nCSeq: 99999999999 INVITE\n\n"), m), ParseStatus::ok);
    EXPECT_FALSE(m.has_cseq);
}

TEST(SipParse, BodyAndTruncation) {
    const std::string head = crlf("MESSAGE sip:x SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bKm\nFrom: <sip:a@x>;tag=1\n"
                                  "To: <sip:b@x>\nCall-ID: c\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n");
    Message m;
    // Content-Length longer than the bytes: truncated, the body is what there is.
    ASSERT_EQ(parse(head + "Content-Length: 10\r\n\r\nhello", m), ParseStatus::truncated);
    EXPECT_EQ(m.content_type, "text/plain");
    EXPECT_EQ(m.content_length, 10u);
    EXPECT_EQ(m.body_offset, head.size() + 22);
    EXPECT_EQ(m.body_length, 5u);
    // Shorter: the body is Content-Length bytes.
    ASSERT_EQ(parse(head + "Content-Length: 3\r\n\r\nhello", m), ParseStatus::ok);
    EXPECT_EQ(m.body_length, 3u);
    // No Content-Length: the rest.
    ASSERT_EQ(parse(head + "\r\nhello", m), ParseStatus::ok);
    EXPECT_EQ(m.body_offset, head.size() + 2);
    EXPECT_EQ(m.body_length, 5u);
    // The header block never ends: what was found is kept.
    ASSERT_EQ(parse(head + "User-Agent: x", m), ParseStatus::truncated);
    EXPECT_EQ(m.user_agent, "x");
    EXPECT_EQ(m.call_id, "c");
    EXPECT_EQ(m.body_offset, 0u);
    EXPECT_EQ(m.body_length, 0u);
    // Cut inside the top Via.
    ASSERT_EQ(parse("INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UD", m), ParseStatus::truncated);
    EXPECT_TRUE(m.via.present);
    EXPECT_EQ(m.via.transport, "UD");
    EXPECT_TRUE(has_problem(m, "Via", "no sent-by"));
}

TEST(SipParse, NotSip) {
    Message m;
    for (std::string_view bad : {"", "\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "SIP/2.0 OK\r\n\r\n", "SIP/2.0 099 x\r\n",
                                 "INVITE sip:x\r\n", "INVITE  SIP/2.0\r\n", "INV<ITE sip:x SIP/2.0\r\n",
                                 "MSRP a786hjs2 SEND\r\n", "GET / HTTP/1.1\r\n", "\x16\x03\x01\x02\x00"}) {
        EXPECT_EQ(parse(bad, m), ParseStatus::not_sip) << bad;
        EXPECT_TRUE(m.problems.empty());
    }
    // A reused Message is emptied: nothing of the previous message survives.
    ASSERT_EQ(parse(crlf("SIP/2.0 180 Ringing\nCall-ID: x\nContact: <sip:a@b>\n\n"), m), ParseStatus::ok);
    ASSERT_EQ(parse("garbage", m), ParseStatus::not_sip);
    EXPECT_EQ(m.call_id, "");
    EXPECT_TRUE(m.contacts.empty());
    EXPECT_EQ(m.status, 0u);
}

TEST(SipParse, ReusedMessageKeepsNothingStale) {
    Message m;
    ASSERT_EQ(parse(crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP a;branch=z9hG4bK1;received=1.2.3.4\nContact: <sip:a@b>, <sip:c@d>\n"
                         "Record-Route: <sip:r>\nExpires: 5\nEvent: x\n\n"),
                    m),
              ParseStatus::ok);
    ASSERT_EQ(parse(crlf("SIP/2.0 100 Trying\nContact: <sip:e@f>;expires=1\n\n"), m), ParseStatus::ok);
    ASSERT_EQ(m.contacts.size(), 1u);
    EXPECT_EQ(m.contacts[0].uri, "sip:e@f");
    EXPECT_EQ(m.contacts[0].expires, 1u);
    EXPECT_TRUE(m.record_route.empty());
    EXPECT_EQ(m.expires, std::nullopt);
    EXPECT_FALSE(m.event);
    EXPECT_FALSE(m.via.present);
    EXPECT_EQ(m.via.received, "");
    EXPECT_EQ(m.status, 100u);
}

// mssip reports an epid parameter without a value (captures/mssip_bad_epid.pcap, frame 6): it must be
// told apart from no epid parameter at all, and a reused Message must not keep the flag.
TEST(SipParse, EpidParameterWithoutValueIsSeen) {
    Message m;
    ASSERT_EQ(parse(crlf("SIP/2.0 183 Session Progress\nFrom: <sip:a@b>;tag=1;epid=ab12\nTo: <sip:c@d>;epid;tag=2\n\n"), m),
              ParseStatus::ok);
    EXPECT_TRUE(m.from.has_epid);
    EXPECT_EQ(m.from.epid, "ab12");
    EXPECT_TRUE(m.to.has_epid);
    EXPECT_EQ(m.to.epid, "");
    EXPECT_EQ(m.to.tag, "2");
    ASSERT_EQ(parse(crlf("SIP/2.0 183 Session Progress\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;EPID=;tag=2\n\n"), m),
              ParseStatus::ok);
    EXPECT_FALSE(m.from.has_epid);
    EXPECT_EQ(m.from.epid, "");
    EXPECT_TRUE(m.to.has_epid);
    EXPECT_EQ(m.to.epid, "");
}

// ciscoalarm checks a REFER's Refer-To cid: against its body's Content-ID (captures/ciscoalarm_refer*.pcap):
// the first Refer-To, full or compact (RFC 3515: r), as sent; a reused Message keeps none.
TEST(SipParse, ReferToFullAndCompact) {
    const std::string head = "REFER sip:b@x SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=1\n"
                             "To: <sip:b@x>\nCall-ID: r\nCSeq: 1 REFER\n";
    Message m;
    ASSERT_EQ(parse(crlf(head + "Refer-To: <cid:alarm@10.0.0.1>\nrefer-to: <sip:second>\n\n"), m), ParseStatus::ok);
    EXPECT_EQ(m.refer_to, "<cid:alarm@10.0.0.1>");
    ASSERT_EQ(parse(crlf(head + "r: cid:x\n\n"), m), ParseStatus::ok);
    EXPECT_EQ(m.refer_to, "cid:x");
    ASSERT_EQ(parse(crlf(head + "\n"), m), ParseStatus::ok);
    EXPECT_EQ(m.refer_to, "");
}

TEST(SipParse, GarbageNeverThrowsAndProblemsAreBounded) {
    std::string bytes = "INVITE sip:x SIP/2.0\r\n";
    for (int i = 0; i < 100; ++i) bytes += "no colon here\r\nVia: ;;;\r\nContact: <\r\nCSeq: x\r\n";
    Message m;
    EXPECT_EQ(parse(bytes, m), ParseStatus::truncated);
    EXPECT_EQ(m.problems.size(), 16u);
    EXPECT_EQ(m.via_count, 100u);
    // Every single-byte input.
    for (int c = 0; c < 256; ++c) {
        const char b = static_cast<char>(c);
        EXPECT_EQ(parse(std::string_view(&b, 1), m), ParseStatus::not_sip);
    }
}

}  // namespace
}  // namespace sipsleuth::core::sip
