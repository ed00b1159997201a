// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for msrp_session.h: MSRP message parsing (RFC 4975 section 7) on field case 001's binding
// SEND and on hostile messages, and the tracker on field case 001 reduced to one connection
// (both active, SEND unacknowledged and retransmitted, no 200 OK, bind timeout, BYE) and on a healthy
// RFC 4975 chat (every SEND answered, chunks, REPORT, nothing reported).
#include "sipsleuth/core/msrp_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace sipsleuth::core {
namespace {

std::string_view at(std::string_view s, Span span) { return s.substr(span.offset, span.length); }

constexpr std::string_view kBindSend =
    "MSRP 745f0cb1fb640e52 SEND\r\n"
    "To-Path: msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp\r\n"
    "From-Path: msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp\r\n"
    "Message-ID: 647872e5647872e\r\n"
    "Byte-Range: 1-0/0\r\n"
    "-------745f0cb1fb640e52$\r\n";

TEST(ParseMsrpMessage, FieldCaseBindingSend) {
    const MsrpMessage m = parse_msrp_message(kBindSend);
    ASSERT_TRUE(m.valid);
    EXPECT_TRUE(m.problems.empty());
    EXPECT_EQ(m.transaction_id, "745f0cb1fb640e52");
    EXPECT_EQ(at(kBindSend, m.transaction_id_span), "745f0cb1fb640e52");
    EXPECT_FALSE(m.is_response);
    EXPECT_EQ(m.method, "SEND");
    EXPECT_EQ(m.to_session_id(), "8e943e31a8e49a6597f0");
    EXPECT_EQ(m.from_session_id(), "d3b7e1a04c9f2e6b8a15");
    EXPECT_EQ(m.message_id, "647872e5647872e");
    ASSERT_TRUE(m.byte_range);
    EXPECT_EQ(m.byte_range->start, 1u);
    EXPECT_EQ(m.byte_range->end, 0u);
    EXPECT_EQ(m.byte_range->total, 0u);
    EXPECT_EQ(m.flag, '$');
    EXPECT_EQ(m.length, 226u);  // the seed's segment length
    EXPECT_EQ(m.body.length, 0u);
    EXPECT_EQ(at(kBindSend, m.end_line), "-------745f0cb1fb640e52$");
}

TEST(ParseMsrpMessage, ChunkWithBodyAndResponse) {
    constexpr std::string_view chunk =
        "MSRP d93kswow SEND\r\nTo-Path: msrp://198.51.100.20:7394/x9f2ka3nd8rt4;tcp\r\n"
        "From-Path: msrp://192.0.2.10:49152/iau39soe2843z;tcp\r\nMessage-ID: 12339sdqwer\r\n"
        "Failure-Report: no\r\nByte-Range: 1-30/59\r\nContent-Type: text/plain\r\n\r\n"
        "Hello Bob, are you there? This\r\n-------d93kswow+\r\nMSRP next SEND\r\n";
    const MsrpMessage m = parse_msrp_message(chunk);
    EXPECT_TRUE(m.problems.empty());
    EXPECT_EQ(at(chunk, m.body), "Hello Bob, are you there? This");
    EXPECT_EQ(m.flag, '+');
    EXPECT_EQ(m.content_type, "text/plain");
    EXPECT_EQ(m.failure_report, "no");
    EXPECT_EQ(m.byte_range->end, 30u);
    EXPECT_EQ(m.byte_range->total, 59u);
    EXPECT_EQ(chunk.substr(m.length), "MSRP next SEND\r\n");

    const MsrpMessage r = parse_msrp_message(
        "MSRP d93kswow 200 OK\r\nTo-Path: msrp://192.0.2.10:49152/iau39soe2843z;tcp\r\n"
        "From-Path: msrp://198.51.100.20:7394/x9f2ka3nd8rt4;tcp\r\n-------d93kswow$\r\n");
    EXPECT_TRUE(r.problems.empty());
    EXPECT_TRUE(r.is_response);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "OK");
}

struct BadCase {
    std::string text;
    bool valid;
    MsrpProblemKind kind;
    const char* message;
};

TEST(ParseMsrpMessage, HostileInput) {
    const std::string paths = "To-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\n";
    std::string many = "MSRP abcd SEND\r\n" + paths;
    for (int i = 0; i < 70; ++i) many += "X-H: v\r\n";
    const BadCase cases[] = {
        {"MSRP abcd\r\n", false, MsrpProblemKind::bad_start_line,
         "MSRP start line without transaction id and method: \"MSRP abcd\""},
        {"MSRP " + std::string(40, 't') + " SEND\r\n" + paths + "-------" + std::string(40, 't') + "$\r\n", true,
         MsrpProblemKind::bad_start_line,
         "Transaction id \"tttttttttttttttttttttttttttttttttttttttt\" is not 4 to 32 letters, digits or .-+%= (RFC "
         "4975 section 9)"},
        {"MSRP abcd send\r\n" + paths + "-------abcd$\r\n", true, MsrpProblemKind::bad_start_line,
         "\"send\" is neither a method (upper-case letters) nor a status code"},
        {"MSRP abcd SEND\r\nTo-Path: garbage\r\nFrom-Path: msrp://b:2/y;tcp\r\n-------abcd$\r\n", true,
         MsrpProblemKind::bad_path, "To-Path \"garbage\" is not a list of MSRP URIs"},
        {"MSRP abcd SEND\r\n" + paths + "Byte-Range: 9-3/2\r\n-------abcd$\r\n", true, MsrpProblemKind::bad_byte_range,
         "Byte-Range \"9-3/2\" is not start-end/total (RFC 4975 section 7.1.1)"},
        {"MSRP abcd SEND\r\n" + paths + "no colon here\r\n-------abcd$\r\n", true, MsrpProblemKind::bad_header,
         "Header line without a name and colon: \"no colon here\""},
        {"MSRP abcd SEND\r\n" + paths + "Byte-Range: 1-4/4\r\n\r\nab", true, MsrpProblemKind::no_end_line,
         "No end-line -------abcd: message truncated or continued in a later segment"},
        {many, true, MsrpProblemKind::too_many_headers, "More than 64 header lines: the rest is not decoded"},
        {"MSRP abcd SEND\r\nTo-Path: msrp://a:1/x;tcp\r\n-------abcd$\r\n", true, MsrpProblemKind::missing_header,
         "Request without From-Path (RFC 4975 section 7.1)"},
    };
    for (const BadCase& c : cases) {
        SCOPED_TRACE(c.text.substr(0, 40));
        const MsrpMessage m = parse_msrp_message(c.text);
        EXPECT_EQ(m.valid, c.valid);
        ASSERT_FALSE(m.problems.empty());
        EXPECT_EQ(m.problems[0].kind, c.kind);
        EXPECT_EQ(m.problems[0].message, c.message);
        EXPECT_LE(m.length, c.text.size());
    }
    EXPECT_FALSE(parse_msrp_message("GET / HTTP/1.1\r\n").valid);
    EXPECT_FALSE(parse_msrp_message("").valid);
}

// ---------------------------------------------------------------------------------------------------

std::vector<const Note*> of(const std::vector<Note>& notes, NoteKind kind) {
    std::vector<const Note*> out;
    for (const Note& n : notes)
        if (n.kind == kind) out.push_back(&n);
    return out;
}

SdpMsrp media(const std::string& host, std::uint16_t port, const std::string& sid, const char* setup) {
    std::string body = "c=IN IP4 " + host + "\r\nm=message " + std::to_string(port) + " TCP/MSRP *\r\na=path:msrp://" +
                       host + ":" + std::to_string(port) + "/" + sid + ";tcp\r\n";
    if (setup) body += std::string("a=setup:") + setup + "\r\n";
    return parse_sdp_msrp(body);
}

Nanos ns(double seconds) { return static_cast<Nanos>(std::llround(seconds * 1e9)); }

// A SIP message as the wsglue reader gives it (Call-ID call-1, From tag t1), the transaction layer's
// verdict on it (none: offers and answers are matched by Call-ID, From tag and CSeq) and its SDP.
struct Sip {
    sip::Message m;
    sip::TxnVerdict txn;
    const SdpMsrp* sdp = nullptr;
};

Sip sip(std::uint32_t frame, double time, const char* method, std::uint32_t status, const SdpMsrp* sdp) {
    Sip e;
    e.m.frame = frame;
    e.m.time = ns(time);
    e.m.request = method != nullptr;
    e.m.method = method ? method : "";
    e.m.status = status;
    e.m.call_id = "call-1";
    e.m.from.tag = "t1";
    e.m.has_cseq = true;
    e.m.cseq = method && std::string(method) == "BYE" ? 2 : 1;
    e.m.cseq_method = method ? method : "INVITE";
    e.sdp = sdp;
    return e;
}

void feed(MsrpTracker& t, const Sip& e, std::vector<Note>& out) { t.on_sip(e.m, e.txn, e.sdp, out); }

// One TCP segment of stream 0 between Blink-1 (10.201.1.152:53502) and the SBC (10.207.1.100:15002).
sip::Frame seg(std::uint32_t frame, double time, bool from_blink1, std::uint32_t seq, std::uint32_t ack,
               std::uint32_t len, const char* flags) {
    sip::Frame e;
    e.number = frame;
    e.time = ns(time);
    e.flow.transport = Transport::tcp;
    e.flow.stream = 0;
    e.flow.src = from_blink1 ? Endpoint{"10.201.1.152", 53502} : Endpoint{"10.207.1.100", 15002};
    e.flow.dst = from_blink1 ? Endpoint{"10.207.1.100", 15002} : Endpoint{"10.201.1.152", 53502};
    sip::TcpFacts tcp;
    tcp.seq = seq;
    tcp.ack = ack;
    tcp.len = len;
    const std::string f = flags;
    tcp.syn = e.flow.syn = f.find('S') != std::string::npos;
    tcp.ack_flag = f.find('A') != std::string::npos;
    tcp.fin = e.flow.fin = f.find('F') != std::string::npos;
    tcp.retransmission = f.find('R') != std::string::npos;
    e.tcp = tcp;
    return e;
}

TEST(MsrpTracker, FieldCaseBothActiveOneLeg) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const SdpMsrp offer = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "active");
    const SdpMsrp answer = media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", "active");
    feed(t, sip(1, 0.0, "INVITE", 0, &offer), out);
    feed(t, sip(8, 3.0, nullptr, 200, &answer), out);
    ASSERT_EQ(of(out, NoteKind::both_active).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::both_active)[0]->frame, 8u);
    EXPECT_EQ(of(out, NoteKind::both_active)[0]->cause, 0u);  // the root cause of its incident
    ASSERT_EQ(of(out, NoteKind::both_active)[0]->links.size(), 1u);
    EXPECT_EQ(of(out, NoteKind::both_active)[0]->links[0].kind, LinkKind::sdp_offer);
    EXPECT_EQ(of(out, NoteKind::both_active)[0]->links[0].frame, 1u);
    EXPECT_EQ(of(out, NoteKind::offer_in)[0]->number, 1u);
    EXPECT_EQ(of(out, NoteKind::answer_in)[0]->frame, 1u);  // written back onto the offer
    EXPECT_EQ(of(out, NoteKind::connection_model)[0]->number, 4u);
    sip::Frame syn = seg(11, 3.17, true, 1000, 0, 0, "S");
    EXPECT_TRUE(t.wants_segment(syn));
    syn.flow.dst.port = 15003;
    EXPECT_FALSE(t.wants_segment(syn));
    out.clear();

    const std::uint32_t i1 = 1000, i2 = 5000;
    const MsrpMessage send = parse_msrp_message(kBindSend);
    t.tick(11, ns(3.17), out);
    t.on_tcp(seg(11, 3.17, true, i1, 0, 0, "S"), nullptr, out);
    t.on_tcp(seg(13, 3.171, false, i2, i1 + 1, 0, "SA"), nullptr, out);
    t.on_tcp(seg(19, 3.19, true, i1 + 1, i2 + 1, 226, "PA"), &send, out);
    EXPECT_EQ(of(out, NoteKind::conn_opened_by)[0]->text, "offerer 10.201.1.152:53502");
    EXPECT_EQ(of(out, NoteKind::conn_sdp_answer)[0]->number, 8u);
    EXPECT_TRUE(of(out, NoteKind::path_mismatch).empty());
    EXPECT_TRUE(of(out, NoteKind::unexpected_opener).empty());
    t.on_tcp(seg(22, 3.192, false, i2 + 1, i1 + 1, 0, "A"), nullptr, out);  // Ack=1: not taken
    // Blink-2's SEND, relayed to Blink-1, which acknowledges it: Blink-1's session is bound.
    const MsrpMessage other = parse_msrp_message(
        "MSRP 6ed1199a610a6a7d SEND\r\nTo-Path: msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp\r\n"
        "From-Path: msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp\r\nMessage-ID: 5\r\n"
        "Byte-Range: 1-0/0\r\n-------6ed1199a610a6a7d$\r\n");
    const auto len = static_cast<std::uint32_t>(other.length);
    t.on_tcp(seg(24, 3.193, false, i2 + 1, i1 + 1, len, "PA"), &other, out);
    t.on_tcp(seg(25, 3.194, true, i1 + 227, i2 + 1 + len, 0, "A"), nullptr, out);
    t.on_tcp(seg(31, 3.47, true, i1 + 1, i2 + 1, 226, "PAR"), nullptr, out);
    ASSERT_EQ(of(out, NoteKind::retransmission_of).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::retransmission_of)[0]->number, 19u);
    const auto retrans = of(out, NoteKind::send_retransmitted);
    ASSERT_EQ(retrans.size(), 2u);
    EXPECT_EQ(retrans[0]->frame, 31u);
    EXPECT_EQ(retrans[0]->text,
              "TCP retransmission 1 of SEND 745f0cb1fb640e52 (frame 19), 0.280 s after it, still unanswered; caused by "
              "both ends active (frame 8)");
    EXPECT_EQ(retrans[0]->cause, 8u);  // a consequence of both ends active
    EXPECT_EQ(retrans[1]->frame, 19u);
    EXPECT_TRUE(retrans[1]->upsert);
    EXPECT_EQ(retrans[1]->cause, 8u);
    ASSERT_EQ(retrans[1]->links.size(), 1u);
    EXPECT_EQ(retrans[1]->links[0].kind, LinkKind::last_retransmission);
    EXPECT_EQ(retrans[1]->links[0].frame, 31u);
    out.clear();

    t.tick(60, ns(12.9), out);
    EXPECT_TRUE(out.empty());
    t.tick(67, ns(13.05), out);
    const auto bind = of(out, NoteKind::bind_timeout);
    ASSERT_EQ(bind.size(), 2u);  // where it became known, and on the answer
    EXPECT_EQ(bind[0]->frame, 67u);
    EXPECT_EQ(bind[1]->frame, 8u);
    EXPECT_EQ(bind[0]->text,
              "MSRP session 8e943e31a8e49a6597f0 of 10.207.1.100:15002 (SDP in frame 8) got no SEND in 10 s (10.050 s "
              "elapsed): 1 SEND to it neither acknowledged nor answered; caused by both ends active (frame 8)");
    EXPECT_EQ(bind[0]->cause, 8u);
    EXPECT_EQ(bind[1]->cause, 8u);
    ASSERT_EQ(bind[0]->links.size(), 2u);  // the SDP answer, and the SEND sent to the session
    EXPECT_EQ(bind[0]->links[0].kind, LinkKind::sdp_answer);
    EXPECT_EQ(bind[0]->links[0].frame, 8u);
    EXPECT_EQ(bind[0]->links[1].kind, LinkKind::send);
    EXPECT_EQ(bind[0]->links[1].frame, 19u);
    EXPECT_EQ(of(out, NoteKind::bind_elapsed)[0]->duration, 10050 * kMilli);
    out.clear();

    feed(t, sip(68, 14.02, "BYE", 0, nullptr), out);
    const auto ended = of(out, NoteKind::session_ended_unbound);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0]->text,
              "BYE 11.020 s after the SDP answer (frame 8) and no SEND of this session got a 200 OK; caused by both ends "
              "active (frame 8)");
    EXPECT_EQ(ended[0]->cause, 8u);
    const auto unanswered = of(out, NoteKind::send_unanswered);
    ASSERT_EQ(unanswered.size(), 4u);  // both SENDs, each on the BYE and written back
    EXPECT_EQ(unanswered[0]->frame, 68u);
    EXPECT_EQ(unanswered[1]->frame, 19u);
    EXPECT_EQ(unanswered[3]->frame, 24u);
    EXPECT_EQ(unanswered[2]->text,
              "SEND 6ed1199a610a6a7d (frame 24) got no response: the session ended (BYE) 10.827 s after it; "
              "acknowledged by the peer's TCP; caused by both ends active (frame 8)");
    EXPECT_EQ(unanswered[0]->text,
              "SEND 745f0cb1fb640e52 (frame 19) got no response: the session ended (BYE) 10.830 s after it; "
              "retransmitted 1 time, never acknowledged by the peer's TCP; caused by both ends active (frame 8)");
    for (const Note* n : unanswered) {
        EXPECT_EQ(n->cause, 8u);
        ASSERT_EQ(n->links.size(), 1u);
        EXPECT_EQ(n->links[0].kind, LinkKind::send);
    }
    EXPECT_EQ(unanswered[0]->links[0].frame, 19u);
    EXPECT_EQ(unanswered[2]->links[0].frame, 24u);
}

// Field case 001's SBC is a B2BUA: each leg has its own Call-ID and offer/answer, both say active, and
// the relay keeps the a=path session ids, so the two legs are one MSRP session. The both-active of the
// leg answered first is the incident's one cause; the other leg's is a note linked to it, and that leg's
// consequences name the first answer as their cause.
TEST(MsrpTracker, RelayedLegOfABothActiveSessionIsOneIncident) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const SdpMsrp offer_a = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "active");
    const SdpMsrp offer_b = media("10.207.1.100", 15000, "d3b7e1a04c9f2e6b8a15", "active");
    const SdpMsrp answer_b = media("10.201.1.99", 49838, "8e943e31a8e49a6597f0", "active");
    const SdpMsrp answer_a = media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", "active");
    Sip invite_a = sip(1, 0.0, "INVITE", 0, &offer_a);
    Sip invite_b = sip(3, 0.1, "INVITE", 0, &offer_b);
    invite_b.m.call_id = "leg-b";
    Sip ok_b = sip(7, 2.9, nullptr, 200, &answer_b);
    ok_b.m.call_id = "leg-b";
    Sip ok_a = sip(8, 3.0, nullptr, 200, &answer_a);
    feed(t, invite_a, out);
    feed(t, invite_b, out);
    feed(t, ok_b, out);
    feed(t, ok_a, out);
    const auto cause = of(out, NoteKind::both_active);
    ASSERT_EQ(cause.size(), 1u);
    EXPECT_EQ(cause[0]->frame, 7u);
    EXPECT_EQ(cause[0]->cause, 0u);
    const auto relayed = of(out, NoteKind::both_active_relayed);
    ASSERT_EQ(relayed.size(), 1u);
    EXPECT_EQ(relayed[0]->frame, 8u);
    EXPECT_EQ(relayed[0]->cause, 7u);
    EXPECT_EQ(relayed[0]->text,
              "Both ends a=setup:active on this leg too: the same MSRP session (a=path session ids) as the answer in "
              "frame 7, where it is reported");
    out.clear();
    // Leg A's BYE: its session ended unbound, a consequence of the cause on frame 7.
    feed(t, sip(72, 14.0, "BYE", 0, nullptr), out);
    const auto ended = of(out, NoteKind::session_ended_unbound);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0]->cause, 7u);
    ASSERT_EQ(ended[0]->links.size(), 1u);
    EXPECT_EQ(ended[0]->links[0].kind, LinkKind::sdp_answer);
    EXPECT_EQ(ended[0]->links[0].frame, 8u);
}

// Bug (captures/real/real_msrp_relay.pcap, Kamailio's msrp relay): both ends a=setup:active with a=path
// lists that start with the relay (RFC 4976) is how relays work, each client connecting to its relay:
// no finding, and no cause for the session's other findings.
TEST(MsrpTracker, BothActiveThroughARelayIsNoFault) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const auto relayed = [](const std::string& host, const std::string& sid) {
        return parse_sdp_msrp("c=IN IP4 " + host + "\r\nm=message 2855 TCP/MSRP *\r\na=path:msrp://127.0.0.68:2855/r-" +
                              sid + ";tcp msrp://" + host + ":2855/" + sid + ";tcp\r\na=setup:active\r\n");
    };
    const SdpMsrp offer = relayed("127.0.0.220", "c944607a363e");
    const SdpMsrp answer = relayed("127.0.0.221", "202a119abec0");
    ASSERT_EQ(offer.media.at(0).path.size(), 2u);
    feed(t, sip(25, 0.0, "INVITE", 0, &offer), out);
    feed(t, sip(37, 0.5, nullptr, 200, &answer), out);
    EXPECT_EQ(of(out, NoteKind::connection_model)[0]->number, 4u);  // the model is still both active
    EXPECT_TRUE(of(out, NoteKind::both_active).empty());
    EXPECT_TRUE(of(out, NoteKind::both_active_relayed).empty());
    out.clear();
    feed(t, sip(60, 20.0, "BYE", 0, nullptr), out);
    for (const Note& n : out) EXPECT_EQ(n.cause, 0u);
}

// A record-routing proxy captured on both legs: the same offer and answer (same Call-ID, From tag, CSeq)
// on two transactions, both saying active without a relay. One incident: the second copy is the note.
TEST(MsrpTracker, ProxyCopyOfABothActiveAnswerIsOneIncident) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const SdpMsrp offer = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "active");
    const SdpMsrp answer = media("10.201.1.99", 49838, "8e943e31a8e49a6597f0", "active");
    Sip invite_in = sip(1, 0.0, "INVITE", 0, &offer), invite_out = sip(2, 0.01, "INVITE", 0, &offer);
    Sip ok_in = sip(7, 2.9, nullptr, 200, &answer), ok_out = sip(8, 2.91, nullptr, 200, &answer);
    invite_in.txn.id = ok_out.txn.id = 1;  // the caller's transaction with the proxy
    invite_out.txn.id = ok_in.txn.id = 2;  // the proxy's with the callee
    feed(t, invite_in, out);
    feed(t, invite_out, out);
    feed(t, ok_in, out);
    feed(t, ok_out, out);
    ASSERT_EQ(of(out, NoteKind::both_active).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::both_active)[0]->frame, 7u);
    ASSERT_EQ(of(out, NoteKind::both_active_relayed).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::both_active_relayed)[0]->frame, 8u);
    EXPECT_EQ(of(out, NoteKind::both_active_relayed)[0]->cause, 7u);
}

// A re-INVITE of the same dialog saying both active again is no other leg: it keeps its own warning.
TEST(MsrpTracker, ReInviteBothActiveIsNotAnotherLeg) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const SdpMsrp offer = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "active");
    const SdpMsrp answer = media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", "active");
    feed(t, sip(1, 0.0, "INVITE", 0, &offer), out);
    feed(t, sip(2, 0.5, nullptr, 200, &answer), out);
    Sip reinvite = sip(5, 5.0, "INVITE", 0, &offer);
    reinvite.m.cseq = 3;
    Sip ok = sip(6, 5.5, nullptr, 200, &answer);
    ok.m.cseq = 3;
    feed(t, reinvite, out);
    feed(t, ok, out);
    EXPECT_EQ(of(out, NoteKind::both_active).size(), 2u);
    EXPECT_TRUE(of(out, NoteKind::both_active_relayed).empty());
}

// Expert messages fit the GUI's 240-byte label behind "Expert Info (Warning/Sequence): ".
TEST(FitMessage, CutsAtTwoHundredBytesOnACharacterBoundary) {
    EXPECT_EQ(fit_message("short"), "short");
    const std::string exact(200, 'x');
    EXPECT_EQ(fit_message(exact), exact);
    const std::string cut = fit_message(std::string(201, 'x'));
    EXPECT_EQ(cut.size(), 200u);
    EXPECT_EQ(cut.substr(197), "...");
    // U+00E9 is two bytes: never cut inside it.
    std::string accents;
    for (int i = 0; i < 150; ++i) accents += "\xc3\xa9";
    const std::string a = fit_message(accents);
    EXPECT_LE(a.size(), 200u);
    EXPECT_EQ(a.substr(a.size() - 3), "...");
    EXPECT_FALSE(first_invalid_utf8(a).has_value());
}

// Each expert message of the tracker fits in 200 bytes however long the ids it names: a 32-character
// transaction id (RFC 4975's longest), a 64-character session id, an IPv6 relay.
TEST(MsrpTracker, ExpertMessagesFitWithLongIds) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const std::string sid(64, 's');
    const SdpMsrp offer = media("2001:db8:1234:5678:9abc:def0:1234:5678", 65535, sid, "active");
    const SdpMsrp answer = media("2001:db8:1234:5678:9abc:def0:1234:5679", 65534, sid + "2", "active");
    feed(t, sip(1, 0.0, "INVITE", 0, &offer), out);
    feed(t, sip(2, 0.5, nullptr, 200, &answer), out);
    t.tick(4000000000u, ns(100000.0), out);
    feed(t, sip(4000000001u, 100001.0, "BYE", 0, nullptr), out);
    std::size_t experts = 0;
    for (const Note& n : out) {
        if (n.kind != NoteKind::both_active && n.kind != NoteKind::bind_timeout &&
            n.kind != NoteKind::session_ended_unbound)
            continue;
        ++experts;
        EXPECT_LE(n.text.size(), 200u) << n.text;
    }
    EXPECT_GE(experts, 3u);
}

// A proxy captured on both legs: the phone's INVITE and the proxy's forward share Call-ID, From tag and
// CSeq but are two transactions; each 200 answers the offer of its own transaction. A retransmitted
// INVITE is the same offer, not a second session.
TEST(MsrpTracker, OfferAnsweredInItsOwnTransaction) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const SdpMsrp offer = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", nullptr);
    const SdpMsrp answer = media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", nullptr);
    Sip phone = sip(1, 0.0, "INVITE", 0, &offer), again = sip(2, 0.5, "INVITE", 0, &offer),
        forward = sip(3, 0.6, "INVITE", 0, &offer), ok_proxy = sip(4, 1.0, nullptr, 200, &answer),
        ok_phone = sip(5, 1.1, nullptr, 200, &answer);
    phone.txn.id = again.txn.id = ok_phone.txn.id = 1;
    again.txn.retransmission = true;
    forward.txn.id = ok_proxy.txn.id = 2;
    for (const Sip* m : {&phone, &again, &forward, &ok_proxy, &ok_phone}) feed(t, *m, out);
    const auto offers = of(out, NoteKind::offer_in);
    ASSERT_EQ(offers.size(), 2u);
    EXPECT_EQ(offers[0]->frame, 4u);
    EXPECT_EQ(offers[0]->number, 3u);
    EXPECT_EQ(offers[1]->frame, 5u);
    EXPECT_EQ(offers[1]->number, 1u);  // the first copy, not the retransmission in frame 2
}

TEST(MsrpTracker, HealthyChatNothingFires) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const SdpMsrp offer = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", nullptr);
    const SdpMsrp answer = media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", nullptr);
    feed(t, sip(1, 0.0, "INVITE", 0, &offer), out);
    feed(t, sip(4, 1.0, nullptr, 200, &answer), out);
    EXPECT_EQ(of(out, NoteKind::connection_model)[0]->number, 1u);
    const MsrpMessage send = parse_msrp_message(kBindSend);
    const MsrpMessage ok = parse_msrp_message(
        "MSRP 745f0cb1fb640e52 200 OK\r\nTo-Path: msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp\r\n"
        "From-Path: msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp\r\n-------745f0cb1fb640e52$\r\n");
    t.on_tcp(seg(6, 1.1, true, 100, 0, 0, "S"), nullptr, out);
    t.on_tcp(seg(9, 1.2, true, 101, 901, 226, "PA"), &send, out);
    t.on_tcp(seg(10, 1.23, false, 901, 327, 0, "A"), nullptr, out);
    t.on_tcp(seg(11, 1.25, false, 901, 327, static_cast<std::uint32_t>(ok.length), "PA"), &ok, out);
    EXPECT_EQ(of(out, NoteKind::response_in)[0]->frame, 9u);
    EXPECT_EQ(of(out, NoteKind::response_in)[0]->number, 11u);
    EXPECT_EQ(of(out, NoteKind::request_in)[0]->number, 9u);
    EXPECT_EQ(of(out, NoteKind::response_time)[0]->duration, 50 * kMilli);
    t.tick(40, ns(40.0), out);
    feed(t, sip(41, 40.0, "BYE", 0, nullptr), out);
    for (const Note& n : out) {
        EXPECT_NE(n.kind, NoteKind::send_unanswered);
        EXPECT_NE(n.kind, NoteKind::bind_timeout);
        EXPECT_NE(n.kind, NoteKind::session_ended_unbound);
        EXPECT_NE(n.kind, NoteKind::both_active);
        EXPECT_NE(n.kind, NoteKind::unexpected_opener);
    }
}

TEST(MsrpTracker, UnansweredAfterTimeoutAndLimits) {
    MsrpTracker::Limits limits;
    limits.max_transactions = 1;
    MsrpTracker t(limits);
    std::vector<Note> out;
    const SdpMsrp offer = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", nullptr);
    const SdpMsrp answer = media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", "passive");
    feed(t, sip(1, 0.0, "INVITE", 0, &offer), out);
    feed(t, sip(4, 1.0, nullptr, 200, &answer), out);
    const MsrpMessage send = parse_msrp_message(kBindSend);
    t.on_tcp(seg(9, 1.2, true, 101, 901, 226, "PA"), &send, out);
    std::string second(kBindSend);
    second.replace(second.find("745f0cb1fb640e52"), 16, "aaaaaaaaaaaaaaaa");
    second.replace(second.rfind("745f0cb1fb640e52"), 16, "aaaaaaaaaaaaaaaa");
    const MsrpMessage send2 = parse_msrp_message(second);
    t.on_tcp(seg(12, 1.3, true, 327, 901, 226, "PA"), &send2, out);
    ASSERT_EQ(of(out, NoteKind::tracking_full).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::tracking_full)[0]->text,
              "Tracking limit reached (msrpa.max_transactions): later MSRP sessions or transactions are not analysed");
    out.clear();
    t.tick(50, ns(31.3), out);
    const auto unanswered = of(out, NoteKind::send_unanswered);
    ASSERT_EQ(unanswered.size(), 2u);
    EXPECT_EQ(
        unanswered[0]->text,
        "SEND 745f0cb1fb640e52 (frame 9) got no response: none within msrpa.send_timeout (30 s), checked 30.100 s "
        "after it; never acknowledged by the peer's TCP");
    // A healthy-looking session (RFC 4975, offerer connects): no known cause, the finding stands alone.
    EXPECT_EQ(unanswered[0]->cause, 0u);
}

TEST(MsrpTracker, WrongOpenerPathMismatchDuplicateAndNobodyConnects) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    // Call 1: both passive: reported on the answer, not again at the BYE.
    const SdpMsrp passive_a = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "passive");
    const SdpMsrp passive_b = media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", "passive");
    Sip invite = sip(1, 0.0, "INVITE", 0, &passive_a);
    invite.m.call_id = "call-0";
    feed(t, invite, out);
    Sip ok = sip(2, 0.5, nullptr, 200, &passive_b);
    ok.m.call_id = "call-0";
    feed(t, ok, out);
    ASSERT_EQ(of(out, NoteKind::nobody_connects).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::connection_model)[0]->number, 5u);
    Sip bye = sip(3, 1.0, "BYE", 0, nullptr);
    bye.m.call_id = "call-0";
    feed(t, bye, out);
    EXPECT_TRUE(of(out, NoteKind::session_ended_unbound).empty());
    out.clear();
    // Call 2: COMEDIA, the offerer must connect, but the answerer (10.207.1.100) does.
    const SdpMsrp actpass = media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "actpass");
    feed(t, sip(4, 2.0, "INVITE", 0, &actpass), out);
    feed(t, sip(5, 2.5, nullptr, 200, &passive_b), out);
    EXPECT_EQ(of(out, NoteKind::connection_model)[0]->number, 2u);
    sip::Frame syn = seg(6, 2.6, false, 700, 0, 0, "S");
    syn.flow.src.port = 40000;
    syn.flow.dst.port = 53502;
    t.on_tcp(syn, nullptr, out);
    const MsrpMessage wrong = parse_msrp_message(
        "MSRP abcd1234 SEND\r\nTo-Path: msrp://10.201.1.152:53502/other;tcp\r\n"
        "From-Path: msrp://10.207.1.100:40000/8e943e31a8e49a6597f0;tcp\r\n-------abcd1234$\r\n");
    sip::Frame data = seg(8, 2.7, false, 701, 1, static_cast<std::uint32_t>(wrong.length), "PA");
    data.flow.src.port = 40000;
    data.flow.dst.port = 53502;
    t.on_tcp(data, &wrong, out);
    ASSERT_EQ(of(out, NoteKind::unexpected_opener).size(), 1u);
    EXPECT_EQ(
        of(out, NoteKind::unexpected_opener)[0]->text,
        "The answerer 10.207.1.100:40000 opened this connection, but the SDP (frames 4, 5) says the offerer connects");
    ASSERT_EQ(of(out, NoteKind::path_mismatch).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::path_mismatch)[0]->text,
              "To-Path session id \"other\" is not the offer's a=path session id \"d3b7e1a04c9f2e6b8a15\"");
    // The SDP frames are links (msrpa.session.sdp_offer, msrpa.session.sdp_answer).
    ASSERT_EQ(of(out, NoteKind::path_mismatch)[0]->links.size(), 2u);
    EXPECT_EQ(of(out, NoteKind::path_mismatch)[0]->links[0].frame, 4u);
    EXPECT_EQ(of(out, NoteKind::path_mismatch)[0]->links[1].frame, 5u);
    EXPECT_EQ(of(out, NoteKind::unexpected_opener)[0]->links.size(), 2u);
    EXPECT_EQ(of(out, NoteKind::conn_opened_by)[0]->text, "answerer 10.207.1.100:40000");
    data.number = 10;
    data.tcp->seq += static_cast<std::uint32_t>(wrong.length);
    t.on_tcp(data, &wrong, out);
    ASSERT_EQ(of(out, NoteKind::duplicate_tid).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::duplicate_tid)[0]->text,
              "Transaction id abcd1234 was already used by the SEND in frame 8 on this connection");
    ASSERT_EQ(of(out, NoteKind::duplicate_tid)[0]->links.size(), 1u);
    EXPECT_EQ(of(out, NoteKind::duplicate_tid)[0]->links[0].kind, LinkKind::first_use);
    EXPECT_EQ(of(out, NoteKind::duplicate_tid)[0]->links[0].frame, 8u);
    EXPECT_EQ(of(out, NoteKind::path_mismatch).size(), 1u);  // only the first SEND is checked
}

TEST(MsrpTracker, ChunksCompleteAndIncomplete) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    const std::string head =
        "To-Path: msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp\r\n"
        "From-Path: msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp\r\n";
    auto chunk = [&](const char* tid, const char* mid, const char* range, const char* body, char flag) {
        return parse_msrp_message(std::string("MSRP ") + tid + " SEND\r\n" + head + "Message-ID: " + mid +
                                  "\r\nByte-Range: " + range + "\r\nContent-Type: text/plain\r\n\r\n" + body +
                                  "\r\n-------" + tid + flag + "\r\n");
    };
    const MsrpMessage a1 = chunk("tid00001", "m1", "1-3/6", "abc", '+');
    const MsrpMessage a2 = chunk("tid00002", "m1", "4-6/6", "def", '$');
    const MsrpMessage b1 = chunk("tid00003", "m2", "1-2/9", "gh", '+');
    std::uint32_t seq = 101;
    for (const auto& [frame, msg] : {std::pair<std::uint32_t, const MsrpMessage*>{9, &a1}, {11, &a2}, {13, &b1}}) {
        t.on_tcp(seg(frame, frame / 10.0, true, seq, 901, static_cast<std::uint32_t>(msg->length), "PA"), msg, out);
        seq += static_cast<std::uint32_t>(msg->length);
    }
    const auto numbers = of(out, NoteKind::chunk_number);
    ASSERT_EQ(numbers.size(), 3u);
    EXPECT_EQ(numbers[1]->number, 2u);
    ASSERT_EQ(of(out, NoteKind::message_complete).size(), 1u);
    EXPECT_EQ(of(out, NoteKind::message_complete)[0]->frame, 11u);
    EXPECT_EQ(of(out, NoteKind::message_bytes)[0]->number, 6u);
    EXPECT_EQ(of(out, NoteKind::message_content_type)[0]->text, "text/plain");
    out.clear();
    t.on_tcp(seg(20, 3.0, false, 901, seq, 0, "FA"), nullptr, out);
    const auto incomplete = of(out, NoteKind::message_incomplete);
    ASSERT_EQ(incomplete.size(), 2u);
    EXPECT_EQ(incomplete[0]->frame, 20u);
    EXPECT_EQ(incomplete[1]->frame, 13u);
    EXPECT_EQ(incomplete[0]->text,
              "Message m2 ended incomplete: 1 chunk, 2 of 9 bytes (last chunk in frame 13); the connection was closed");
}

TEST(ParseMsrpMessage, FromSessionIdIsTheSenderBehindRelays) {
    // RFC 4976: a relay puts its own URI in front of From-Path; the sender's URI stays last.
    const MsrpMessage m = parse_msrp_message(
        "MSRP abcd1234 SEND\r\nTo-Path: msrp://bob.example.com:7394/bobsid;tcp\r\n"
        "From-Path: msrp://relay.example.com:2855/relaysid;tcp msrp://alice.example.com:49152/alicesid;tcp\r\n"
        "-------abcd1234$\r\n");
    EXPECT_EQ(m.to_session_id(), "bobsid");
    EXPECT_EQ(m.from_session_id(), "alicesid");
}

// A healthy RFC 4975 chat between 10.201.1.152:53502 (offerer, connects) and 10.207.1.100:15002.
struct Chat {
    MsrpTracker t{MsrpTracker::Limits{}};
    std::vector<Note> out;
    static MsrpMessage send(const char* tid, const char* to_sid, const char* from_sid) {
        return parse_msrp_message(std::string("MSRP ") + tid + " SEND\r\nTo-Path: msrp://10.207.1.100:15002/" + to_sid +
                                  ";tcp\r\nFrom-Path: msrp://10.201.1.152:53502/" + from_sid +
                                  ";tcp\r\nMessage-ID: m" + tid + "\r\nByte-Range: 1-0/0\r\n-------" + tid + "$\r\n");
    }
    static MsrpMessage ok(const char* tid, const char* to_sid, const char* from_sid) {
        return parse_msrp_message(std::string("MSRP ") + tid + " 200 OK\r\nTo-Path: msrp://10.201.1.152:53502/" +
                                  to_sid + ";tcp\r\nFrom-Path: msrp://10.207.1.100:15002/" + from_sid +
                                  ";tcp\r\n-------" + tid + "$\r\n");
    }
    void offer_answer(std::uint32_t frame, double time, const char* call_id, std::uint32_t cseq, const SdpMsrp& offer,
                      const SdpMsrp& answer) {
        Sip o = sip(frame, time, "INVITE", 0, &offer), a = sip(frame + 1, time + 0.5, nullptr, 200, &answer);
        o.m.call_id = a.m.call_id = call_id;
        o.m.cseq = a.m.cseq = cseq;
        feed(t, o, out);
        feed(t, a, out);
    }
    void bye(std::uint32_t frame, double time, const char* call_id) {
        Sip b = sip(frame, time, "BYE", 0, nullptr);
        b.m.call_id = call_id;
        t.tick(frame, ns(time), out);
        feed(t, b, out);
    }
    std::size_t findings() const {
        return std::count_if(out.begin(), out.end(), [](const Note& n) {
            return n.kind == NoteKind::send_unanswered || n.kind == NoteKind::session_ended_unbound ||
                   n.kind == NoteKind::bind_timeout || n.kind == NoteKind::path_mismatch ||
                   n.kind == NoteKind::unexpected_opener || n.kind == NoteKind::duplicate_tid;
        });
    }
};

TEST(MsrpTracker, ResponseBehindASendInOneSegment) {
    // Bug: only the first MSRP message of a segment was analysed, so the 200 OK behind the peer's own
    // SEND was lost and a healthy SEND was reported unanswered at the BYE.
    Chat c;
    const SdpMsrp offer = media("10.201.1.152", 53502, "alicesid", nullptr);
    const SdpMsrp answer = media("10.207.1.100", 15002, "bobsid", nullptr);
    c.offer_answer(1, 0.0, "call-1", 1, offer, answer);
    const MsrpMessage mine = Chat::send("aaaa1111", "bobsid", "alicesid");
    c.t.on_tcp(seg(6, 1.0, true, 100, 0, 0, "S"), nullptr, c.out);
    c.t.on_tcp(seg(9, 1.1, true, 101, 901, static_cast<std::uint32_t>(mine.length), "PA"), &mine, c.out);
    MsrpMessage theirs = parse_msrp_message(
        "MSRP bbbb2222 SEND\r\nTo-Path: msrp://10.201.1.152:53502/alicesid;tcp\r\n"
        "From-Path: msrp://10.207.1.100:15002/bobsid;tcp\r\nMessage-ID: x\r\nByte-Range: 1-0/0\r\n-------bbbb2222$\r\n");
    const std::vector<MsrpMessage> both = {theirs, Chat::ok("aaaa1111", "alicesid", "bobsid")};
    const std::uint32_t len = static_cast<std::uint32_t>(both[0].length + both[1].length);
    c.t.on_tcp(seg(10, 1.12, false, 901, 101 + static_cast<std::uint32_t>(mine.length), len, "PA"), both, c.out);
    ASSERT_EQ(of(c.out, NoteKind::request_in).size(), 1u);
    EXPECT_EQ(of(c.out, NoteKind::request_in)[0]->frame, 10u);
    EXPECT_EQ(of(c.out, NoteKind::request_in)[0]->number, 9u);
    EXPECT_EQ(of(c.out, NoteKind::conn_call_id).size(), 2u);  // once per frame, not per message
    const MsrpMessage ok2 = Chat::ok("bbbb2222", "bobsid", "alicesid");
    c.t.on_tcp(seg(11, 1.13, true, 101 + static_cast<std::uint32_t>(mine.length), 901 + len,
                   static_cast<std::uint32_t>(ok2.length), "PA"),
               &ok2, c.out);
    EXPECT_EQ(of(c.out, NoteKind::request_in).size(), 2u);
    c.bye(20, 5.0, "call-1");
    EXPECT_EQ(c.findings(), 0u);
}

TEST(MsrpTracker, ReInviteDoesNotEndUnbound) {
    // Bug: a re-INVITE made a second session that never saw a SEND, and the BYE said the chat ended
    // unbound although every SEND had its 200 OK.
    Chat c;
    const SdpMsrp offer = media("10.201.1.152", 53502, "alicesid", nullptr);
    const SdpMsrp answer = media("10.207.1.100", 15002, "bobsid", nullptr);
    c.offer_answer(1, 0.0, "call-1", 1, offer, answer);
    const MsrpMessage send = Chat::send("aaaa1111", "bobsid", "alicesid");
    const MsrpMessage ok = Chat::ok("aaaa1111", "alicesid", "bobsid");
    c.t.on_tcp(seg(6, 1.0, true, 100, 0, 0, "S"), nullptr, c.out);
    c.t.on_tcp(seg(9, 1.1, true, 101, 901, static_cast<std::uint32_t>(send.length), "PA"), &send, c.out);
    c.t.on_tcp(seg(10, 1.12, false, 901, 101 + static_cast<std::uint32_t>(send.length),
                   static_cast<std::uint32_t>(ok.length), "PA"),
               &ok, c.out);
    c.offer_answer(12, 3.0, "call-1", 2, offer, answer);  // re-INVITE, same paths
    c.bye(20, 20.0, "call-1");
    EXPECT_EQ(c.findings(), 0u);
    // A dialog whose SENDs all went unanswered still ends unbound, once per BYE.
    Chat d;
    d.offer_answer(1, 0.0, "call-2", 1, offer, answer);
    d.t.on_tcp(seg(6, 1.0, true, 100, 0, 0, "S"), nullptr, d.out);
    d.t.on_tcp(seg(9, 1.1, true, 101, 901, static_cast<std::uint32_t>(send.length), "PA"), &send, d.out);
    d.offer_answer(12, 3.0, "call-2", 2, offer, answer);
    d.bye(20, 5.0, "call-2");
    ASSERT_EQ(of(d.out, NoteKind::session_ended_unbound).size(), 1u);
    EXPECT_EQ(of(d.out, NoteKind::session_ended_unbound)[0]->text,
              "BYE 4.500 s after the SDP answer (frame 2) and no SEND of this session got a 200 OK");
}

TEST(MsrpTracker, SecondSessionOverAnOpenConnection) {
    // Bug: a later session reusing an open connection (RFC 4975 section 5.4) had its transactions
    // counted to the first session, so its own BYE said it ended unbound.
    Chat c;
    const SdpMsrp offer1 = media("10.201.1.152", 53502, "alicesid", nullptr);
    const SdpMsrp answer1 = media("10.207.1.100", 15002, "bobsid", nullptr);
    const SdpMsrp offer2 = media("10.201.1.152", 53502, "alicesid2", nullptr);
    const SdpMsrp answer2 = media("10.207.1.100", 15002, "bobsid2", nullptr);
    c.offer_answer(1, 0.0, "call-1", 1, offer1, answer1);
    std::uint32_t seq = 101;
    c.t.on_tcp(seg(6, 1.0, true, 100, 0, 0, "S"), nullptr, c.out);
    auto transact = [&](std::uint32_t frame, double time, const char* tid, const char* to, const char* from) {
        const MsrpMessage send = Chat::send(tid, to, from), ok = Chat::ok(tid, from, to);
        c.t.on_tcp(seg(frame, time, true, seq, 901, static_cast<std::uint32_t>(send.length), "PA"), &send, c.out);
        seq += static_cast<std::uint32_t>(send.length);
        c.t.on_tcp(seg(frame + 1, time + 0.01, false, 901, seq, static_cast<std::uint32_t>(ok.length), "PA"), &ok,
                   c.out);
    };
    transact(9, 1.1, "aaaa1111", "bobsid", "alicesid");
    c.offer_answer(12, 3.0, "call-2", 1, offer2, answer2);
    c.out.clear();
    transact(20, 4.0, "cccc3333", "bobsid2", "alicesid2");
    const auto calls = of(c.out, NoteKind::conn_call_id);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0]->text, "call-2");
    c.bye(30, 6.0, "call-1");
    c.bye(31, 7.0, "call-2");
    EXPECT_EQ(c.findings(), 0u);
}

TEST(MsrpTracker, TwoSessionsToTheSameEndpoint) {
    // Bug: two sessions to one MSRP port from one host, each on its own connection: both connections
    // went to the later session, and the first one's SEND was called a path mismatch.
    Chat c;
    c.offer_answer(1, 0.0, "call-1", 1, media("10.201.1.152", 53502, "alicesid", nullptr),
                   media("10.207.1.100", 15002, "bobsid", nullptr));
    c.offer_answer(3, 0.1, "call-2", 1, media("10.201.1.152", 53504, "alicesid2", nullptr),
                   media("10.207.1.100", 15002, "bobsid2", nullptr));
    const MsrpMessage send = Chat::send("aaaa1111", "bobsid", "alicesid");
    c.t.on_tcp(seg(6, 1.0, true, 100, 0, 0, "S"), nullptr, c.out);
    c.t.on_tcp(seg(9, 1.1, true, 101, 901, static_cast<std::uint32_t>(send.length), "PA"), &send, c.out);
    EXPECT_EQ(c.findings(), 0u);
    ASSERT_EQ(of(c.out, NoteKind::conn_call_id).size(), 1u);
    EXPECT_EQ(of(c.out, NoteKind::conn_call_id)[0]->text, "call-1");
    EXPECT_EQ(of(c.out, NoteKind::conn_opened_by)[0]->text, "offerer 10.201.1.152:53502");
}

TEST(MsrpTracker, DeclinedChatIsNoSession) {
    // Bug: an answer rejecting the chat stream (port 0) while accepting the call was tracked as a
    // session, so the call's BYE said it ended unbound and a bind timeout fired.
    Chat c;
    const SdpMsrp offer = media("10.201.1.152", 53502, "alicesid", nullptr);
    const SdpMsrp declined = parse_sdp_msrp(
        "c=IN IP4 10.207.1.100\r\nm=message 0 TCP/MSRP *\r\na=path:msrp://10.207.1.100:15002/bobsid;tcp\r\n");
    c.offer_answer(1, 0.0, "call-1", 1, offer, declined);
    EXPECT_TRUE(of(c.out, NoteKind::connection_model).empty());
    c.bye(20, 30.0, "call-1");
    EXPECT_EQ(c.findings(), 0u);
}

TEST(MsrpTracker, BindTimerStartsAtTheFinalAnswer) {
    // Bug: an answer in a 183 started the bind timer, so a user who took 15 s to accept got a bind
    // timeout although the offerer's SEND came right after the 200 OK.
    Chat c;
    const SdpMsrp offer = media("10.201.1.152", 53502, "alicesid", nullptr);
    const SdpMsrp answer = media("10.207.1.100", 15002, "bobsid", nullptr);
    feed(c.t, sip(1, 0.0, "INVITE", 0, &offer), c.out);
    feed(c.t, sip(2, 0.1, nullptr, 183, &answer), c.out);
    EXPECT_EQ(of(c.out, NoteKind::connection_model).size(), 2u);  // on the 183, written back onto the offer
    c.t.tick(3, ns(15.0), c.out);
    feed(c.t, sip(3, 15.0, nullptr, 200, &answer), c.out);
    const MsrpMessage send = Chat::send("aaaa1111", "bobsid", "alicesid");
    c.t.on_tcp(seg(6, 15.1, true, 100, 0, 0, "S"), nullptr, c.out);
    c.t.tick(9, ns(15.2), c.out);
    c.t.on_tcp(seg(9, 15.2, true, 101, 901, static_cast<std::uint32_t>(send.length), "PA"), &send, c.out);
    c.t.tick(10, ns(15.3), c.out);
    c.t.on_tcp(seg(10, 15.3, false, 901, 101 + static_cast<std::uint32_t>(send.length), 0, "A"), nullptr, c.out);
    c.t.tick(11, ns(26.0), c.out);
    EXPECT_TRUE(of(c.out, NoteKind::bind_timeout).empty());
    // Without any SEND, the timeout counts from the 200 OK (frame 3), not from the 183.
    Chat d;
    feed(d.t, sip(1, 0.0, "INVITE", 0, &offer), d.out);
    feed(d.t, sip(2, 0.1, nullptr, 183, &answer), d.out);
    feed(d.t, sip(3, 15.0, nullptr, 200, &answer), d.out);
    d.t.tick(4, ns(24.0), d.out);
    EXPECT_TRUE(of(d.out, NoteKind::bind_timeout).empty());
    d.t.tick(5, ns(25.5), d.out);
    ASSERT_EQ(of(d.out, NoteKind::bind_timeout).size(), 2u);
    EXPECT_EQ(of(d.out, NoteKind::bind_timeout)[1]->frame, 3u);
}

TEST(MsrpTracker, FailureReportPartialExpectsNoOk) {
    // Bug: a SEND with Failure-Report: partial (RFC 4975 section 7.1.2: failure responses only; what
    // Blink sends for chat messages) was reported unanswered when, correctly, no 200 OK came.
    Chat c;
    const SdpMsrp offer = media("10.201.1.152", 53502, "alicesid", nullptr);
    const SdpMsrp answer = media("10.207.1.100", 15002, "bobsid", nullptr);
    c.offer_answer(1, 0.0, "call-1", 1, offer, answer);
    const MsrpMessage bind = Chat::send("aaaa1111", "bobsid", "alicesid");
    const MsrpMessage ok = Chat::ok("aaaa1111", "alicesid", "bobsid");
    MsrpMessage chat = parse_msrp_message(
        "MSRP cccc3333 SEND\r\nTo-Path: msrp://10.207.1.100:15002/bobsid;tcp\r\n"
        "From-Path: msrp://10.201.1.152:53502/alicesid;tcp\r\nMessage-ID: m2\r\nSuccess-Report: yes\r\n"
        "Failure-Report: partial\r\nByte-Range: 1-2/2\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------cccc3333$\r\n");
    ASSERT_EQ(chat.failure_report, "partial");
    const auto bind_len = static_cast<std::uint32_t>(bind.length);
    c.t.on_tcp(seg(6, 1.0, true, 100, 0, 0, "S"), nullptr, c.out);
    c.t.on_tcp(seg(9, 1.1, true, 101, 901, bind_len, "PA"), &bind, c.out);
    c.t.on_tcp(seg(10, 1.12, false, 901, 101 + bind_len, static_cast<std::uint32_t>(ok.length), "PA"), &ok, c.out);
    c.t.on_tcp(seg(11, 2.0, true, 101 + bind_len, 901 + static_cast<std::uint32_t>(ok.length),
                   static_cast<std::uint32_t>(chat.length), "PA"),
               &chat, c.out);
    c.bye(20, 60.0, "call-1");
    EXPECT_EQ(c.findings(), 0u);
}

// Issue 14: 5,000 MSRP connections, each with an open SEND (a chunk without its last part) closed by
// FIN. Each close reports its own connection's SEND and message and looks at nothing else (the tracker
// once walked every open transaction and every chunked message of every connection).
TEST(MsrpTracker, EachCloseLooksAtItsOwnConnectionOnly) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    constexpr std::uint32_t kConns = 5000;
    for (std::uint32_t i = 0; i < kConns; ++i) {
        const std::string tid = "tid" + std::to_string(10000 + i);
        const MsrpMessage send = parse_msrp_message(
            "MSRP " + tid + " SEND\r\nTo-Path: msrp://10.207.1.100:15002/s" + std::to_string(i) +
            ";tcp\r\nFrom-Path: msrp://10.201.1.152:53502/c;tcp\r\nMessage-ID: m" + std::to_string(i) +
            "\r\nByte-Range: 1-3/6\r\n\r\nabc\r\n-------" + tid + "+\r\n");
        const std::uint32_t frame = 10 * i + 1;
        sip::Frame e = seg(frame, i * 0.001, true, 1000, 5000, static_cast<std::uint32_t>(send.length), "PA");
        e.flow.stream = i;
        t.on_tcp(e, &send, out);
        out.clear();
        sip::Frame fin = seg(frame + 1, i * 0.001 + 0.002, false, 5000, 1000, 0, "FA");
        fin.flow.stream = i;
        t.on_tcp(fin, nullptr, out);
        const auto unanswered = of(out, NoteKind::send_unanswered);
        const auto incomplete = of(out, NoteKind::message_incomplete);
        ASSERT_EQ(unanswered.size(), 2u) << i;
        ASSERT_EQ(incomplete.size(), 2u) << i;
        EXPECT_EQ(unanswered[1]->frame, frame);
        if (i == 0 || i == kConns - 1) {
            EXPECT_EQ(unanswered[0]->text, "SEND " + tid + " (frame " + std::to_string(frame) +
                                               ") got no response: the connection was closed 0.002 s after it; never "
                                               "acknowledged by the peer's TCP");
            EXPECT_EQ(incomplete[0]->text, "Message m" + std::to_string(i) +
                                               " ended incomplete: 1 chunk, 3 of 6 bytes (last chunk in frame " +
                                               std::to_string(frame) + "); the connection was closed");
        }
        out.clear();
    }
    EXPECT_LE(t.work_done(), 2u * kConns);  // one SEND and one message per close
}

// The same for sessions ended by BYE: each BYE looks at its own sessions' SENDs and messages.
TEST(MsrpTracker, EachByeLooksAtItsOwnSessionOnly) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    constexpr std::uint32_t kSessions = 2000;
    for (std::uint32_t i = 0; i < kSessions; ++i) {
        const auto port = static_cast<std::uint16_t>(20000 + i);
        const std::string sid = "s" + std::to_string(i);
        const SdpMsrp offer = media("10.201.1.152", port, "c" + std::to_string(i), "active");
        const SdpMsrp answer = media("10.207.1.100", port, sid, "passive");
        const std::uint32_t frame = 10 * i + 1;
        Sip invite = sip(frame, i * 0.01, "INVITE", 0, &offer);
        invite.m.call_id = "call-" + std::to_string(i);
        Sip ok = sip(frame + 1, i * 0.01 + 0.001, nullptr, 200, &answer);
        ok.m.call_id = invite.m.call_id;
        feed(t, invite, out);
        feed(t, ok, out);
        const std::string tid = "tid" + std::to_string(10000 + i);
        const MsrpMessage send = parse_msrp_message(
            "MSRP " + tid + " SEND\r\nTo-Path: msrp://10.207.1.100:" + std::to_string(port) + "/" + sid +
            ";tcp\r\nFrom-Path: msrp://10.201.1.152:" + std::to_string(port) + "/c" + std::to_string(i) +
            ";tcp\r\nMessage-ID: m" + std::to_string(i) + "\r\nByte-Range: 1-3/6\r\n\r\nabc\r\n-------" + tid +
            "+\r\n");
        sip::Frame e = seg(frame + 2, i * 0.01 + 0.002, true, 1000, 5000, static_cast<std::uint32_t>(send.length), "PA");
        e.flow.stream = i;
        e.flow.src.port = port;
        e.flow.dst.port = port;
        t.on_tcp(e, &send, out);
        out.clear();
        Sip bye = sip(frame + 3, i * 0.01 + 0.003, "BYE", 0, nullptr);
        bye.m.call_id = invite.m.call_id;
        feed(t, bye, out);
        const auto unanswered = of(out, NoteKind::send_unanswered);
        const auto incomplete = of(out, NoteKind::message_incomplete);
        ASSERT_EQ(unanswered.size(), 2u) << i;
        ASSERT_EQ(incomplete.size(), 2u) << i;
        EXPECT_EQ(unanswered[1]->frame, frame + 2);
        EXPECT_EQ(incomplete[0]->text, "Message m" + std::to_string(i) +
                                           " ended incomplete: 1 chunk, 3 of 6 bytes (last chunk in frame " +
                                           std::to_string(frame + 2) + "); the session ended (BYE)");
        out.clear();
    }
    EXPECT_LE(t.work_done(), 4u * kSessions);  // a watch, a SEND and a message per BYE
}

// A relay's one MSRP port in every session's SDP: a new connection to it finds its session from two
// ordered sets, preferring the latest session whose other side is the connecting host, else the latest.
TEST(MsrpTracker, ManySessionsAtOneRelayEndpointPickTheClientsSession) {
    MsrpTracker t(MsrpTracker::Limits{});
    std::vector<Note> out;
    constexpr std::uint32_t kSessions = 3000;
    for (std::uint32_t i = 0; i < kSessions; ++i) {
        const std::string client = "10.1." + std::to_string(i / 200) + "." + std::to_string(1 + i % 200);
        const SdpMsrp offer = media(client, 40000, "c" + std::to_string(i), "active");
        const SdpMsrp answer = media("10.207.1.100", 2855, "r" + std::to_string(i), "passive");
        Sip invite = sip(10 * i + 1, i * 0.01, "INVITE", 0, &offer);
        invite.m.call_id = "call-" + std::to_string(i);
        Sip ok = sip(10 * i + 2, i * 0.01 + 0.001, nullptr, 200, &answer);
        ok.m.call_id = invite.m.call_id;
        feed(t, invite, out);
        feed(t, ok, out);
    }
    out.clear();
    // Client 10.1.3.101 is session 700's offerer; an unknown client gets the latest session (2999).
    for (const auto& [client, answer_frame] : {std::pair<std::string, std::uint32_t>{"10.1.3.101", 7002},
                                               {"10.9.9.9", 29992}}) {
        sip::Frame syn = seg(40000 + answer_frame, 40.0, true, 1000, 0, 0, "S");
        syn.flow.stream = answer_frame;
        syn.flow.src = Endpoint{client, 40000};
        syn.flow.dst = Endpoint{"10.207.1.100", 2855};
        ASSERT_TRUE(t.wants_segment(syn));
        t.on_tcp(syn, nullptr, out);
        const std::string tid = "tid" + std::to_string(answer_frame);
        const MsrpMessage send = parse_msrp_message("MSRP " + tid + " SEND\r\nTo-Path: msrp://10.207.1.100:2855/x;tcp\r\n"
                                                    "From-Path: msrp://" + client + ":40000/y;tcp\r\n-------" + tid +
                                                    "$\r\n");
        sip::Frame data = syn;
        data.number += 2;
        data.flow.syn = data.tcp->syn = false;
        data.tcp->ack_flag = true;
        data.tcp->len = static_cast<std::uint32_t>(send.length);
        t.on_tcp(data, &send, out);
        const auto answer = of(out, NoteKind::conn_sdp_answer);
        ASSERT_EQ(answer.size(), 1u) << client;
        EXPECT_EQ(answer[0]->number, answer_frame) << client;
        const auto opened = of(out, NoteKind::conn_opened_by);
        ASSERT_EQ(opened.size(), 1u);
        EXPECT_EQ(opened[0]->text, "offerer " + client + ":40000");
        out.clear();
    }
}

}  // namespace
}  // namespace sipsleuth::core
