// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for ms_epid.h on field case 002's exact From, To and Contact values, and on the broken ones of
// captures/mssip_bad_epid.pcap.
#include "sipsleuth/core/ms_epid.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sipsleuth::core {
namespace {

TEST(FromToEpid, FieldCase002) {
    const EpidResult from = from_to_epid("\"Marino Filipovic\"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028", "From");
    EXPECT_EQ(from.epid, "1488039028");
    EXPECT_EQ(from.tag, "0fae8454e3");
    EXPECT_EQ(from.problem, "");
    const EpidResult to = from_to_epid("<sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d", "To");
    EXPECT_EQ(to.epid, "2798f0b3cc");
    EXPECT_EQ(to.tag, "97a7d6045d");
    const EpidResult plain = from_to_epid("<sip:izabelaf@uclab.org>", "To");
    EXPECT_EQ(plain.epid, "");
    EXPECT_EQ(plain.tag, "");
    EXPECT_EQ(plain.problem, "");
}

TEST(FromToEpid, BrokenHeaders) {
    struct Case {
        const char* value;
        std::string epid, problem;
    };
    const Case cases[] = {
        {"<sip:izabelaf@uclab.org>;epid;tag=c34587eaa8", "", "To header has an epid parameter without a value"},
        {"<sip:izabelaf@uclab.org>;epid=;tag=c34587eaa8", "", "To header has an epid parameter without a value"},
        {"<sip:izabelaf@uclab.org;epid=2798f0b3cc;tag=5f00ba11", "", "To header with an epid cannot be parsed as a SIP address"},
        {"<sip:a@b", "", ""},  // broken, but no epid: not ours to report
        {"<sip:a@b; EPID = 7", "", "To header with an epid cannot be parsed as a SIP address"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.value);
        const EpidResult r = from_to_epid(c.value, "To");
        EXPECT_EQ(r.epid, c.epid);
        EXPECT_EQ(r.problem, c.problem);
    }
    const EpidResult big = from_to_epid("<sip:a@b>;epid=" + std::string(300, 'e'), "From");
    EXPECT_EQ(big.epid, std::string(256, 'e'));
    EXPECT_EQ(big.problem, "From epid of 300 bytes shown cut to 256 bytes");
}

// Bug: "epid" inside a display name or user part made any value the strict parser refuses an error.
TEST(FromToEpid, EpidInsideANameIsNoEpidHeader) {
    for (const char* value : {"Sepideh Karimi (HR) <sip:sepideh@example.com>;tag=9f1c",
                              "<sip:sepideh@example.com>;tag=9f1c, junk", "<sip:epid@example.com"}) {
        SCOPED_TRACE(value);
        const EpidResult r = from_to_epid(value, "From");
        EXPECT_EQ(r.epid, "");
        EXPECT_EQ(r.problem, "");
    }
}

TEST(MentionsEpid, AnyCase) {
    EXPECT_TRUE(mentions_epid(";EPID=1"));
    EXPECT_TRUE(mentions_epid("epid"));
    EXPECT_TRUE(mentions_epid("xxEpId"));
    EXPECT_FALSE(mentions_epid("epi"));
    EXPECT_FALSE(mentions_epid("<sip:a@b>;tag=1"));
    EXPECT_FALSE(mentions_epid(""));
}

// mentions_epid looks for the 'd' first (memchr): every place of the 'd', either case, and 'd's that are no
// epid before and after the one that is.
TEST(MentionsEpid, EveryPlaceOfTheD) {
    EXPECT_TRUE(mentions_epid("epiD"));
    EXPECT_TRUE(mentions_epid("d dd epid"));
    EXPECT_TRUE(mentions_epid("D;ePiD;d"));
    EXPECT_TRUE(mentions_epid("<sip:u@h;opaque=user:EPID:x;gruu>"));
    EXPECT_FALSE(mentions_epid("d"));
    EXPECT_FALSE(mentions_epid("pid"));
    EXPECT_FALSE(mentions_epid("e pid"));
    EXPECT_FALSE(mentions_epid("epi d D dEPI"));
    EXPECT_FALSE(mentions_epid("<sip:201@10.30.1.23:5060;transport=tcp>;+sip.instance=\"<urn:uuid:0d0d>\""));
}

TEST(ContactEpid, GruuOfFieldCase002AndBrokenOnes) {
    EXPECT_EQ(contact_epid("<sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>").epid,
              "uozeqPgOuFOVd0DaRpeFCgAA");
    EXPECT_EQ(contact_epid("<sip:a@b;opaque=user:epid:X1;gruu>;expires=60, <sip:c@d>").epid, "X1");
    EXPECT_EQ(contact_epid("<sip:bob@10.20.0.21:5060>").problem, "");
    EXPECT_EQ(contact_epid("<sip:izabelaf@uclab.org;opaque=user:epid:;gruu>").problem,
              "Contact GRUU has opaque=user:epid: without an epid");
    EXPECT_EQ(contact_epid("<sip:izabelaf@uclab.org;opaque=user:epid:abc").problem,
              "Contact header with a GRUU epid cannot be parsed as a SIP address");
}

// Bug: the GRUU a registrar hands out in a gruu="..." parameter (OCS 200 OK to REGISTER) and a GRUU in
// the second entry of a Contact list were reported as "opaque=user:epid: without an epid".
TEST(ContactEpid, GruuAsParameterOrInALaterEntryIsNoProblem) {
    const EpidResult reg = contact_epid(
        "<sip:192.168.0.7:49861;transport=tls;ms-opaque=d3470f2e1d>;expires=7200;"
        "+sip.instance=\"<urn:uuid:0f6c7e41-5d2b-5a6b-9f3e-1a2b3c4d5e6f>\";"
        "gruu=\"sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu\"");
    EXPECT_EQ(reg.epid, "uozeqPgOuFOVd0DaRpeFCgAA");
    EXPECT_EQ(reg.problem, "");
    const EpidResult list = contact_epid("<sip:a@b>, <sip:c@d;opaque=user:epid:X1;gruu>");
    EXPECT_EQ(list.epid, "");
    EXPECT_EQ(list.problem, "");
    EXPECT_EQ(contact_epid("<sip:a@b>;gruu=\"sip:a@b;opaque=user:epid:;gruu\"").problem, "");
}

// Whole messages as sip::parse() reads them (the plugin's input), with the bytes for what parse() could
// not read: captures/mssip_bad_epid.pcap's broken 183s, field case 002's good one, and a cut message.
MessageEpids epids_of(std::string_view text, std::string_view cut_after = {}) {
    std::string bytes;
    for (char c : text) {
        if (c == '\n') bytes += '\r';
        bytes += c;
    }
    if (!cut_after.empty()) bytes.resize(bytes.find(cut_after) + cut_after.size());
    sip::Message m;
    const bool truncated = sip::parse(bytes, m) == sip::ParseStatus::truncated;
    return message_epids(m, truncated, bytes);
}

constexpr std::string_view kFrom = "From: \"Marino Filipovic\"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028\n";

TEST(MessageEpids, FieldCase002) {
    const MessageEpids e = epids_of(std::string("SIP/2.0 183 Session Progress\n") + std::string(kFrom) +
                                    "To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d\n"
                                    "Contact: <sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>\n\n");
    EXPECT_EQ(e.from, "1488039028");
    EXPECT_EQ(e.to, "2798f0b3cc");
    EXPECT_EQ(e.contact, "uozeqPgOuFOVd0DaRpeFCgAA");
    EXPECT_TRUE(e.problems.empty());
}

TEST(MessageEpids, BrokenHeadersOfBadEpidCapture) {
    MessageEpids e = epids_of(std::string("SIP/2.0 183 Session Progress\n") + std::string(kFrom) +
                              "To: <sip:izabelaf@uclab.org>;epid;tag=c34587eaa8\n"
                              "Contact: <sip:izabelaf@uclab.org;opaque=user:epid:ATX04NzZClmCm9_s1BVjeAAA;gruu>\n\n");
    EXPECT_EQ(e.to, "");
    EXPECT_EQ(e.contact, "ATX04NzZClmCm9_s1BVjeAAA");
    EXPECT_EQ(e.problems, std::vector<std::string>{"To header has an epid parameter without a value"});
    e = epids_of(std::string("SIP/2.0 183 Session Progress\n") + std::string(kFrom) +
                 "To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d\n"
                 "Contact: <sip:izabelaf@uclab.org;opaque=user:epid:;gruu>\n\n");
    EXPECT_EQ(e.to, "2798f0b3cc");
    EXPECT_EQ(e.contact, "");
    EXPECT_EQ(e.problems, std::vector<std::string>{"Contact GRUU has opaque=user:epid: without an epid"});
    // parse() cannot read the To (no '>'): its value is read again from the bytes.
    e = epids_of(std::string("SIP/2.0 183 Session Progress\n") + std::string(kFrom) +
                 "To: <sip:izabelaf@uclab.org;epid=2798f0b3cc;tag=5f00ba11\n\n");
    EXPECT_EQ(e.from, "1488039028");
    EXPECT_EQ(e.to, "");
    EXPECT_EQ(e.problems, std::vector<std::string>{"To header with an epid cannot be parsed as a SIP address"});
    // Unreadable without an epid parameter: not ours to report.
    e = epids_of(std::string("SIP/2.0 183 Session Progress\n") + std::string(kFrom) + "To: <sip:sepideh@uclab.org\n\n");
    EXPECT_TRUE(e.problems.empty());
}

TEST(MessageEpids, RegistrarGruuParameter) {
    const MessageEpids e = epids_of(
        "SIP/2.0 200 OK\nFrom: <sip:alice@example.net>;tag=1\nTo: <sip:alice@example.net>;tag=2\n"
        "Contact: <sip:10.20.0.11:5060;transport=udp>;expires=3600;"
        "gruu=\"sip:alice@example.net;opaque=user:epid:Zk9x2Lw7QmSd3VbN1HcE4gAA;gruu\"\n\n");
    EXPECT_EQ(e.contact, "Zk9x2Lw7QmSd3VbN1HcE4gAA");
    EXPECT_TRUE(e.problems.empty());
}

// The snap length cut the message inside its To line ("...;epid"): the cut line is ignored, never
// called malformed; the lines before it count.
TEST(MessageEpids, LineCutByTheSnapLengthIsNoProblem) {
    const std::string text = std::string("SIP/2.0 183 Session Progress\n") + std::string(kFrom) +
                             "To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d\n\n";
    const MessageEpids e = epids_of(text, "uclab.org>;epid");
    EXPECT_EQ(e.from, "1488039028");
    EXPECT_EQ(e.to, "");
    EXPECT_TRUE(e.problems.empty());
}

}  // namespace
}  // namespace sipsleuth::core
