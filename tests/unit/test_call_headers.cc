// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for call_headers.h: field case 002's 183 from the phone, compact forms, folded values, the top
// Via's branch, and what the scanner must not do (read the body, take a second occurrence).
#include "sipsleuth/core/call_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace sipsleuth::core {
namespace {

TEST(ScanCallHeaders, FieldCase002SessionProgress) {
    const std::string m =
        "SIP/2.0 183 Session Progress\r\n"
        "ms-user-logon-data: RemoteUser\r\n"
        "Via: SIP/2.0/TLS 200.1.1.201:2604;ms-received-port=2604;ms-received-cid=500\r\n"
        "From: \"Marino Filipovic\"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028\r\n"
        "To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d\r\n"
        "Call-ID: e34305289c3b4c368c583f531fddeff3\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>\r\n"
        "User-Agent: CPE/3.5.6907.0 OCPhone/3.5.6907.0 (Office Communicator Phone 2007 R2)\r\n"
        "\r\n"
        "Server: not-a-header-of-the-body\r\n";
    const CallHeaders h = scan_call_headers(m);
    EXPECT_EQ(h.start_line, "SIP/2.0 183 Session Progress");
    EXPECT_EQ(h.reason_phrase, "Session Progress");
    EXPECT_EQ(h.from, "\"Marino Filipovic\"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028");
    EXPECT_EQ(h.to, "<sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d");
    EXPECT_EQ(h.contact, "<sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>");
    EXPECT_EQ(h.user_agent, "CPE/3.5.6907.0 OCPhone/3.5.6907.0 (Office Communicator Phone 2007 R2)");
    EXPECT_EQ(h.server, "");
    EXPECT_EQ(h.via_branch, "");  // the seed's response Via has no branch
}

TEST(ScanCallHeaders, CompactFormsFoldingAndFirstOccurrence) {
    const std::string m =
        "INVITE sip:bob@example.net SIP/2.0\n"
        "v: SIP/2.0/UDP 10.20.0.1:5060 ; Branch = z9hG4bK-1 ;rport, SIP/2.0/UDP 10.20.0.11;branch=z9hG4bK-2\n"
        "V: SIP/2.0/UDP 10.20.0.9;branch=z9hG4bK-3\n"
        "f: \"Alice\" <sip:alice@example.net>\n"
        " ;tag=8812f0a3\n"
        "t: <sip:bob@example.net>\n"
        "m: <sip:alice@10.20.0.11>\n"
        "Server: Kamailio\n"
        "no colon here\n";
    const CallHeaders h = scan_call_headers(m);
    EXPECT_EQ(h.start_line, "INVITE sip:bob@example.net SIP/2.0");
    EXPECT_EQ(h.reason_phrase, "");
    EXPECT_EQ(h.via_branch, "z9hG4bK-1");
    EXPECT_EQ(h.from, "\"Alice\" <sip:alice@example.net> ;tag=8812f0a3");
    EXPECT_EQ(h.to, "<sip:bob@example.net>");
    EXPECT_EQ(h.contact, "<sip:alice@10.20.0.11>");
    EXPECT_EQ(h.server, "Kamailio");
}

TEST(ScanCallHeaders, TruncatedAndEmptyInput) {
    EXPECT_EQ(scan_call_headers("").start_line, "");
    const CallHeaders h = scan_call_headers("SIP/2.0 487 Request Terminated\r\nTo: <sip:b@c>;tag=x\r\nFro");
    EXPECT_EQ(h.reason_phrase, "Request Terminated");
    EXPECT_EQ(h.to, "<sip:b@c>;tag=x");
    EXPECT_EQ(h.from, "");
    std::string many = "OPTIONS sip:a SIP/2.0\r\n";
    for (int i = 0; i < 300; ++i) many += "X-Filler: 1\r\n";
    many += "From: <sip:late@x>\r\n";
    EXPECT_EQ(scan_call_headers(many).from, "");  // past max_headers
    EXPECT_EQ(scan_call_headers(many, 400).from, "<sip:late@x>");
}

}  // namespace
}  // namespace sipsleuth::core
