// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for sip/transaction.h, one per real-world pattern of issue 15 and its healthy twin: a UDP
// retransmission with back-off 0.5/1/2 s; a proxy forwarding REGISTER from TCP to UDP with a new branch
// (two transactions, no retransmission); a REGISTER reflected back 0.1 ms later (no retransmission);
// response retransmissions; TCP retransmissions of the proxy's 200 OK (never mapped to the REGISTER of
// the other direction) and of the REGISTER's segment; CANCEL and ACK rules; RFC 2543 matching; the
// state bound with 10,000 transactions (work counted, not timed).
#include "sipsleuth/core/sip/transaction.h"

#include <gtest/gtest.h>

#include <string>

#include "sip_test_util.h"

namespace sipsleuth::core::sip {
namespace {

using testing::ep;
using testing::flow;
using testing::reversed;
using testing::sip;

const Endpoint kPhone = ep("10.0.0.10", 5060);
const Endpoint kProxy = ep("10.0.0.1", 5060);
const Endpoint kRegistrar = ep("10.0.0.2", 5060);

std::string register_from_phone(const std::string& transport = "UDP", int cseq = 1) {
    return "REGISTER sip:example.com SIP/2.0\n"
           "Via: SIP/2.0/" + transport + " 10.0.0.10:5060;branch=z9hG4bKphone" + std::to_string(cseq) + "\n"
           "From: <sip:100@example.com>;tag=ph1\n"
           "To: <sip:100@example.com>\n"
           "Call-ID: reg-1@10.0.0.10\n"
           "CSeq: " + std::to_string(cseq) + " REGISTER\n"
           "Contact: <sip:100@10.0.0.10:5060>\n"
           "Content-Length: 0\n";
}

std::string ok_to_phone(int cseq = 1, const std::string& transport = "UDP") {
    return "SIP/2.0 200 OK\n"
           "Via: SIP/2.0/" + transport + " 10.0.0.10:5060;branch=z9hG4bKphone" + std::to_string(cseq) + "\n"
           "From: <sip:100@example.com>;tag=ph1\n"
           "To: <sip:100@example.com>;tag=reg9\n"
           "Call-ID: reg-1@10.0.0.10\n"
           "CSeq: " + std::to_string(cseq) + " REGISTER\n"
           "Content-Length: 0\n";
}

TEST(SipTransaction, UdpRetransmissionWithBackoff) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const Nanos t0 = 1700000000 * kSecond;
    const Nanos at[] = {t0, t0 + 500 * kMilli, t0 + 1500 * kMilli, t0 + 3500 * kMilli};
    for (std::uint32_t i = 0; i < 4; ++i) {
        const TxnVerdict v = layer.on_message(sip(register_from_phone(), i + 1, at[i], up));
        EXPECT_EQ(v.id, 1u);
        EXPECT_EQ(v.created, i == 0);
        EXPECT_EQ(v.retransmission, i > 0);
        EXPECT_FALSE(v.reflected);
        EXPECT_EQ(v.copy, i + 1);
        EXPECT_EQ(v.previous_time, i == 0 ? 0 : at[i - 1]);
        EXPECT_EQ(v.first, (MessageRef{1, 0, t0}));
        EXPECT_EQ(v.request, (MessageRef{1, 0, t0}));
        EXPECT_FALSE(v.response);
    }
    // The back-offs as an analyzer computes them: exact nanoseconds.
    const TxnVerdict ok = layer.on_message(sip(ok_to_phone(), 5, t0 + 3600 * kMilli, reversed(up)));
    EXPECT_EQ(ok.id, 1u);
    EXPECT_TRUE(ok.response);
    EXPECT_TRUE(ok.first_final);
    EXPECT_FALSE(ok.retransmission);
    EXPECT_EQ(ok.request, (MessageRef{1, 0, t0}));
    EXPECT_EQ(ok.final_status, 200u);
    const Transaction* t = layer.find(1);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->method, "REGISTER");
    EXPECT_EQ(t->request_copies, 4u);
    EXPECT_EQ(t->last_request, (MessageRef{4, 0, at[3]}));
    EXPECT_EQ(t->final_response, (MessageRef{5, 0, t0 + 3600 * kMilli}));
    EXPECT_EQ(t->final_status, 200u);
    // A copy after the final response knows it.
    const TxnVerdict late = layer.on_message(sip(register_from_phone(), 6, t0 + 3700 * kMilli, up));
    EXPECT_TRUE(late.retransmission);
    EXPECT_EQ(late.copy, 5u);
    EXPECT_EQ(late.final_response, (MessageRef{5, 0, t0 + 3600 * kMilli}));
}

TEST(SipTransaction, ProxyForwardTcpToUdpIsANewTransaction) {
    TransactionLayer layer;
    const FlowRef phone_tcp = flow(Transport::tcp, 4, kPhone, kProxy);
    const FlowRef proxy_udp = flow(Transport::udp, 9, kProxy, kRegistrar);
    const Nanos t0 = 10 * kSecond;
    const std::string forwarded =
        "REGISTER sip:example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxyA\n"
        "Via: SIP/2.0/TCP 10.0.0.10:5060;branch=z9hG4bKphone1;received=10.0.0.10\n"
        "From: <sip:100@example.com>;tag=ph1\nTo: <sip:100@example.com>\n"
        "Call-ID: reg-1@10.0.0.10\nCSeq: 1 REGISTER\nContent-Length: 0\n";
    const TxnVerdict a = layer.on_message(sip(register_from_phone("TCP"), 1, t0, phone_tcp, 1000));
    const TxnVerdict b = layer.on_message(sip(forwarded, 2, t0 + 2 * kMilli, proxy_udp));
    EXPECT_EQ(a.id, 1u);
    EXPECT_EQ(b.id, 2u);
    EXPECT_TRUE(b.created);
    EXPECT_FALSE(b.retransmission);
    EXPECT_FALSE(b.reflected);
    EXPECT_EQ(b.copy, 1u);
    // Each hop's 200 OK goes to its own transaction.
    const std::string ok_to_proxy =
        "SIP/2.0 200 OK\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxyA\n"
        "Via: SIP/2.0/TCP 10.0.0.10:5060;branch=z9hG4bKphone1;received=10.0.0.10\n"
        "From: <sip:100@example.com>;tag=ph1\nTo: <sip:100@example.com>;tag=reg9\n"
        "Call-ID: reg-1@10.0.0.10\nCSeq: 1 REGISTER\nContent-Length: 0\n";
    const TxnVerdict c = layer.on_message(sip(ok_to_proxy, 3, t0 + 5 * kMilli, reversed(proxy_udp)));
    const TxnVerdict d = layer.on_message(sip(ok_to_phone(1, "TCP"), 4, t0 + 6 * kMilli, reversed(phone_tcp), 7000));
    EXPECT_EQ(c.id, 2u);
    EXPECT_EQ(c.request, (MessageRef{2, 0, t0 + 2 * kMilli}));
    EXPECT_EQ(d.id, 1u);
    EXPECT_EQ(d.request, (MessageRef{1, 0, t0}));
    EXPECT_TRUE(c.first_final && d.first_final);
    EXPECT_FALSE(c.retransmission || d.retransmission);
    EXPECT_EQ(layer.size(), 2u);
}

TEST(SipTransaction, ReflectedRegisterIsNoRetransmission) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 2, kPhone, kProxy);
    const Nanos t0 = 50 * kSecond;
    EXPECT_EQ(layer.on_message(sip(register_from_phone(), 1, t0, up)).copy, 1u);
    // The same bytes back to the phone 0.1 ms later.
    const TxnVerdict r = layer.on_message(sip(register_from_phone(), 2, t0 + 100000, reversed(up)));
    EXPECT_EQ(r.id, 1u);
    EXPECT_FALSE(r.retransmission);
    EXPECT_TRUE(r.reflected);
    EXPECT_EQ(r.copy, 1u);
    EXPECT_EQ(r.first, (MessageRef{1, 0, t0}));
    // Healthy twin: the phone's real retransmission 0.5 s later is copy 2, its back-off from the first copy.
    const TxnVerdict again = layer.on_message(sip(register_from_phone(), 3, t0 + 500 * kMilli, up));
    EXPECT_TRUE(again.retransmission);
    EXPECT_FALSE(again.reflected);
    EXPECT_EQ(again.copy, 2u);
    EXPECT_EQ(again.previous_time, t0);
    EXPECT_EQ(layer.find(1)->request_copies, 2u);
}

TEST(SipTransaction, ResponseRetransmissionAndForkedResponses) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const std::string invite =
        "INVITE sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv1\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: call-1\nCSeq: 1 INVITE\n";
    const auto response = [](int status, const std::string& tag) {
        return "SIP/2.0 " + std::to_string(status) + " X\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv1\n"
               "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=" + tag + "\nCall-ID: call-1\nCSeq: 1 INVITE\n";
    };
    layer.on_message(sip(invite, 1, 0, up));
    const TxnVerdict r1 = layer.on_message(sip(response(180, "b1"), 2, 1 * kSecond, reversed(up)));
    const TxnVerdict r2 = layer.on_message(sip(response(180, "b2"), 3, 2 * kSecond, reversed(up)));
    const TxnVerdict ok = layer.on_message(sip(response(200, "b2"), 4, 3 * kSecond, reversed(up)));
    const TxnVerdict ok2 = layer.on_message(sip(response(200, "b2"), 5, 3500 * kMilli, reversed(up)));
    const TxnVerdict ok3 = layer.on_message(sip(response(200, "b2"), 6, 4500 * kMilli, reversed(up)));
    EXPECT_FALSE(r1.retransmission);
    EXPECT_FALSE(r2.retransmission);  // another To tag: another response (a fork), not a copy
    EXPECT_FALSE(r1.first_final || r2.first_final);
    EXPECT_TRUE(ok.first_final);
    EXPECT_FALSE(ok.retransmission);
    EXPECT_TRUE(ok2.retransmission);
    EXPECT_FALSE(ok2.first_final);
    EXPECT_EQ(ok2.copy, 2u);
    EXPECT_EQ(ok2.previous_time, 3 * kSecond);
    EXPECT_EQ(ok2.first, (MessageRef{4, 0, 3 * kSecond}));
    EXPECT_EQ(ok3.copy, 3u);
    EXPECT_EQ(ok3.previous_time, 3500 * kMilli);
    for (const TxnVerdict& v : {r1, r2, ok, ok2, ok3}) {
        EXPECT_EQ(v.id, 1u);
        EXPECT_EQ(v.request, (MessageRef{1, 0, 0}));
    }
    const Transaction* t = layer.find(1);
    EXPECT_EQ(t->first_response, (MessageRef{2, 0, 1 * kSecond}));
    EXPECT_EQ(t->final_response, (MessageRef{4, 0, 3 * kSecond}));
}

// A forking proxy's many early responses: each distinct (status, To tag) is told apart and its copies
// counted, past the first four (kept inline in the entry) as well; past sixteen distinct responses
// (kMaxResponses) a new one is no longer remembered, so its copy is not called a retransmission.
TEST(SipTransaction, ManyForkedResponsesEachCountTheirCopies) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const std::string invite =
        "INVITE sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: call-7\nCSeq: 1 INVITE\n";
    const auto response = [](int status, int fork) {
        return "SIP/2.0 " + std::to_string(status) + " X\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
               "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=f" + std::to_string(fork) +
               "\nCall-ID: call-7\nCSeq: 1 INVITE\n";
    };
    layer.on_message(sip(invite, 1, 0, up));
    std::uint32_t frame = 2;
    for (int fork = 1; fork <= 17; ++fork) {
        const TxnVerdict v = layer.on_message(sip(response(180, fork), frame, frame * kMilli, reversed(up)));
        EXPECT_FALSE(v.retransmission) << fork;
        EXPECT_EQ(v.first, (MessageRef{frame, 0, frame * kMilli})) << fork;
        ++frame;
    }
    // A copy of each: the first 16 are retransmissions of their own first copy, the 17th is not tracked.
    for (int fork = 1; fork <= 17; ++fork) {
        const TxnVerdict v = layer.on_message(sip(response(180, fork), frame, frame * kMilli, reversed(up)));
        const std::uint32_t first = 1 + static_cast<std::uint32_t>(fork);
        if (fork <= 16) {
            EXPECT_TRUE(v.retransmission) << fork;
            EXPECT_EQ(v.copy, 2u) << fork;
            EXPECT_EQ(v.previous_time, first * kMilli) << fork;
            EXPECT_EQ(v.first, (MessageRef{first, 0, first * kMilli})) << fork;
        } else {
            EXPECT_FALSE(v.retransmission);
            EXPECT_EQ(v.first, (MessageRef{frame, 0, frame * kMilli}));
        }
        EXPECT_EQ(v.id, 1u);
        ++frame;
    }
    // A 200 now: still the transaction's first final response, but past the bound its copy is not known.
    const TxnVerdict ok = layer.on_message(sip(response(200, 6), frame, frame * kMilli, reversed(up)));
    EXPECT_TRUE(ok.first_final);
    EXPECT_FALSE(ok.retransmission);
    const TxnVerdict ok2 = layer.on_message(sip(response(200, 6), frame + 1, (frame + 1) * kMilli, reversed(up)));
    EXPECT_FALSE(ok2.retransmission);
}

TEST(SipTransaction, TcpRetransmissionsMapToTheirOwnDirection) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::tcp, 7, kPhone, kProxy);
    // The phone's REGISTER at bytes [1000, ...) of its direction; the proxy's 200 OK at [1200, ...) of the
    // other direction: the numbers overlap, the directions do not.
    const Message reg = sip(register_from_phone("TCP"), 1, 0, up, 1000);
    const Message ok = sip(ok_to_phone(1, "TCP"), 2, 10 * kMilli, reversed(up), 1200);
    EXPECT_EQ(layer.on_message(reg).id, 1u);
    EXPECT_EQ(layer.on_message(ok).id, 1u);
    EXPECT_EQ(layer.tcp_ranges(), 2u);

    Frame again;
    again.number = 3;
    again.time = 300 * kMilli;
    again.flow.transport = Transport::tcp;
    again.flow.stream = 7;
    again.flow.src = kProxy;
    again.flow.dst = kPhone;
    again.tcp = TcpFacts{};
    again.tcp->seq = 1200;
    again.tcp->len = ok.seq_end - ok.seq_begin;
    again.tcp->retransmission = true;
    auto hits = layer.on_tcp_retransmission(again);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].frame, 2u);  // the 200 OK, never the REGISTER
    EXPECT_EQ(hits[0].id, 1u);
    EXPECT_EQ(hits[0].index, 0u);

    // Healthy twin: the phone's segment retransmitted maps to the REGISTER.
    Frame reg_again = again;
    reg_again.number = 4;
    reg_again.flow.src = kPhone;
    reg_again.flow.dst = kProxy;
    reg_again.tcp->seq = 1000;
    reg_again.tcp->len = reg.seq_end - reg.seq_begin;
    hits = layer.on_tcp_retransmission(reg_again);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].frame, 1u);

    // Another stream with the same numbers: nothing.
    reg_again.flow.stream = 8;
    EXPECT_TRUE(layer.on_tcp_retransmission(reg_again).empty());
    // A segment past both messages: nothing.
    again.tcp->seq = ok.seq_end;
    EXPECT_TRUE(layer.on_tcp_retransmission(again).empty());
    // A UDP frame: nothing.
    again.tcp.reset();
    EXPECT_TRUE(layer.on_tcp_retransmission(again).empty());
}

TEST(SipTransaction, TcpCopyDissectedAgainIsATcpDuplicate) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::tcp, 1, kPhone, kProxy);
    layer.on_message(sip(register_from_phone("TCP"), 1, 0, up, 5000));
    const TxnVerdict v = layer.on_message(sip(register_from_phone("TCP"), 2, 200 * kMilli, up, 5000));
    EXPECT_TRUE(v.retransmission);
    EXPECT_TRUE(v.tcp_duplicate);
    // A SIP-level retransmission on the same connection carries new bytes.
    const TxnVerdict w = layer.on_message(sip(register_from_phone("TCP"), 3, 500 * kMilli, up, 5600));
    EXPECT_TRUE(w.retransmission);
    EXPECT_FALSE(w.tcp_duplicate);
}

TEST(SipTransaction, SequenceNumbersWrap) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::tcp, 1, kPhone, kProxy);
    const Message reg = sip(register_from_phone("TCP"), 1, 0, up, 0xFFFFFFF0u);
    layer.on_message(reg);
    Frame f;
    f.number = 2;
    f.flow.transport = Transport::tcp;
    f.flow.stream = 1;
    f.flow.src = kPhone;
    f.flow.dst = kProxy;
    f.tcp = TcpFacts{};
    f.tcp->seq = 0x10;  // after the wrap, inside the message
    f.tcp->len = 10;
    ASSERT_EQ(layer.on_tcp_retransmission(f).size(), 1u);
}

const char* kInvite =
    "INVITE sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
    "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: call-7\nCSeq: 1 INVITE\n";

TEST(SipTransaction, CancelIsItsOwnTransactionLinkedToTheInvite) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const std::string cancel =
        "CANCEL sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: call-7\nCSeq: 1 CANCEL\n";
    const std::string cancel_ok =
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=proxy55\nCall-ID: call-7\nCSeq: 1 CANCEL\n";
    const std::string terminated =
        "SIP/2.0 487 Request Terminated\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 INVITE\n";
    const std::string ack =
        "ACK sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 ACK\n";
    EXPECT_EQ(layer.on_message(sip(kInvite, 1, 0, up)).id, 1u);
    const TxnVerdict c = layer.on_message(sip(cancel, 2, 2 * kSecond, up));
    EXPECT_EQ(c.id, 2u);
    EXPECT_TRUE(c.created);
    EXPECT_FALSE(c.retransmission);
    EXPECT_EQ(c.cancels, 1u);
    const TxnVerdict cok = layer.on_message(sip(cancel_ok, 3, 2010 * kMilli, reversed(up)));
    EXPECT_EQ(cok.id, 2u);
    EXPECT_TRUE(cok.first_final);
    EXPECT_EQ(cok.cancels, 1u);
    EXPECT_EQ(cok.request, (MessageRef{2, 0, 2 * kSecond}));
    const TxnVerdict t487 = layer.on_message(sip(terminated, 4, 2020 * kMilli, reversed(up)));
    EXPECT_EQ(t487.id, 1u);
    EXPECT_TRUE(t487.first_final);
    const TxnVerdict a = layer.on_message(sip(ack, 5, 2030 * kMilli, up));
    EXPECT_EQ(a.id, 1u);
    EXPECT_TRUE(a.ack_of_non2xx);
    EXPECT_FALSE(a.retransmission);
    EXPECT_EQ(a.request, (MessageRef{1, 0, 0}));
    EXPECT_EQ(a.final_status, 487u);
    const TxnVerdict a2 = layer.on_message(sip(ack, 6, 2530 * kMilli, up));
    EXPECT_TRUE(a2.retransmission);
    EXPECT_EQ(a2.copy, 2u);
    EXPECT_EQ(a2.previous_time, 2030 * kMilli);
    EXPECT_EQ(a2.first, (MessageRef{5, 0, 2030 * kMilli}));
    const Transaction* inv = layer.find(1);
    EXPECT_EQ(inv->cancelled_by, 2u);
    EXPECT_EQ(inv->ack, (MessageRef{5, 0, 2030 * kMilli}));
    EXPECT_EQ(inv->request_copies, 1u);
    EXPECT_EQ(layer.find(2)->cancels, 1u);
    EXPECT_EQ(layer.find(2)->method, "CANCEL");
    EXPECT_EQ(layer.size(), 2u);
}

TEST(SipTransaction, AckToA2xxIsItsOwnTransaction) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const std::string ok =
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 INVITE\n";
    const std::string ack =
        "ACK sip:200@10.0.0.20 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKack99\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 ACK\n";
    layer.on_message(sip(kInvite, 1, 0, up));
    layer.on_message(sip(ok, 2, kSecond, reversed(up)));
    const TxnVerdict a = layer.on_message(sip(ack, 3, 1100 * kMilli, up));
    EXPECT_EQ(a.id, 2u);
    EXPECT_TRUE(a.created);
    EXPECT_FALSE(a.ack_of_non2xx);
    EXPECT_EQ(layer.find(2)->method, "ACK");
    EXPECT_FALSE(layer.find(1)->ack.known());
    // The UAC's ACK again, for a retransmitted 2xx: a copy of the same ACK.
    const TxnVerdict a2 = layer.on_message(sip(ack, 4, 1600 * kMilli, up));
    EXPECT_EQ(a2.id, 2u);
    EXPECT_TRUE(a2.retransmission);
}

TEST(SipTransaction, Rfc2543Fallback) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const auto req = [](const std::string& uri) {
        return "INVITE " + uri + " SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060\n"
               "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: old-1\nCSeq: 4 INVITE\n";
    };
    const std::string resp =
        "SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP 10.0.0.10:5060\n"
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=b\nCall-ID: old-1\nCSeq: 4 INVITE\n";
    const TxnVerdict a = layer.on_message(sip(req("sip:200@example.com"), 1, 0, up));
    const TxnVerdict b = layer.on_message(sip(req("sip:200@example.com"), 2, 500 * kMilli, up));
    const TxnVerdict r = layer.on_message(sip(resp, 3, 600 * kMilli, reversed(up)));
    EXPECT_EQ(a.id, 1u);
    EXPECT_EQ(b.id, 1u);
    EXPECT_TRUE(b.retransmission);
    EXPECT_EQ(r.id, 1u);
    EXPECT_FALSE(layer.find(1)->rfc3261);
    // Same Call-ID, tags, CSeq and Via but another Request-URI: another request (RFC 3261 17.2.3).
    const TxnVerdict c = layer.on_message(sip(req("sip:300@example.com"), 4, 700 * kMilli, up));
    EXPECT_EQ(c.id, 2u);
    EXPECT_FALSE(c.retransmission);
    // Another CSeq: another transaction.
    std::string other = req("sip:200@example.com");
    other.replace(other.find("CSeq: 4"), 7, "CSeq: 5");
    EXPECT_EQ(layer.on_message(sip(other, 5, 800 * kMilli, up)).id, 3u);
}

TEST(SipTransaction, SameBranchOtherSentByOrMethodIsAnotherTransaction) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    std::string a = register_from_phone();
    std::string b = a;
    b.replace(b.find("10.0.0.10:5060;"), 14, "10.0.0.11:5060");
    std::string c = a;
    c.replace(c.find("REGISTER sip"), 8, "OPTIONS");
    c.replace(c.find("1 REGISTER"), 10, "1 OPTIONS");
    EXPECT_EQ(layer.on_message(sip(a, 1, 0, up)).id, 1u);
    EXPECT_EQ(layer.on_message(sip(b, 2, 1, up)).id, 2u);
    EXPECT_EQ(layer.on_message(sip(c, 3, 2, up)).id, 3u);
}

TEST(SipTransaction, ResponseWithRewrittenSentByMatchesItsRequest) {
    // An ALU phone answers with 5860 in the top Via it received as 5260 (heplify erspan capture): a client
    // matches responses on branch and CSeq method only (RFC 3261 section 17.1.3).
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const FlowRef down = flow(Transport::udp, 0, kProxy, kPhone);
    std::string ok = ok_to_phone();
    ok.replace(ok.find("10.0.0.10:5060;"), 14, "10.0.0.10:5860");
    const TxnVerdict req = layer.on_message(sip(register_from_phone(), 1, 0, up));
    const TxnVerdict rsp = layer.on_message(sip(ok, 2, 20 * kMilli, down));
    EXPECT_EQ(rsp.id, req.id);
    EXPECT_FALSE(rsp.created);
    EXPECT_EQ(rsp.request.frame, 1u);
    EXPECT_EQ(layer.size(), 1u);
}

TEST(SipTransaction, MessagesWithoutViaOrCseqHaveNoTransaction) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    const TxnVerdict v = layer.on_message(sip("OPTIONS sip:x SIP/2.0\nCall-ID: z\n", 1, 0, up));
    EXPECT_EQ(v.id, 0u);
    EXPECT_FALSE(v.full);
    EXPECT_EQ(layer.size(), 0u);
}

TEST(SipTransaction, ResponseWithoutCapturedRequest) {
    TransactionLayer layer;
    const FlowRef down = flow(Transport::udp, 0, kProxy, kPhone);
    const TxnVerdict a = layer.on_message(sip(ok_to_phone(), 1, 0, down));
    const TxnVerdict b = layer.on_message(sip(ok_to_phone(), 2, 500 * kMilli, down));
    EXPECT_EQ(a.id, 1u);
    EXPECT_TRUE(a.created);
    EXPECT_FALSE(a.request.known());
    EXPECT_FALSE(a.request_seen);
    EXPECT_TRUE(b.retransmission);
    // The request seen late still joins.
    const TxnVerdict r = layer.on_message(sip(register_from_phone(), 3, 600 * kMilli, reversed(down)));
    EXPECT_EQ(r.id, 1u);
    EXPECT_FALSE(r.retransmission);
    EXPECT_TRUE(layer.find(1)->request_seen);
}

TEST(SipTransaction, ForgottenAfterLinger) {
    TransactionLimits limits;
    limits.linger = 32 * kSecond;
    limits.pending_linger = 180 * kSecond;
    TransactionLayer layer(limits);
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    layer.on_message(sip(register_from_phone(), 1, 0, up));
    layer.on_message(sip(ok_to_phone(), 2, kSecond, reversed(up)));
    // 31.9 s after the final response: still known, a copy.
    EXPECT_TRUE(layer.on_message(sip(register_from_phone(), 3, 32900 * kMilli, up)).retransmission);
    // The copy kept it 32 s longer; after that it is forgotten and the same branch starts afresh.
    const TxnVerdict v = layer.on_message(sip(register_from_phone(), 4, 65 * kSecond, up));
    EXPECT_EQ(v.id, 2u);
    EXPECT_TRUE(v.created);
    EXPECT_EQ(layer.find(1), nullptr);
    // Without a final response it stays for pending_linger.
    EXPECT_EQ(layer.on_message(sip(register_from_phone("UDP", 2), 5, 100 * kSecond, up)).id, 3u);
    EXPECT_EQ(layer.on_message(sip(register_from_phone("UDP", 2), 6, 279 * kSecond, up)).id, 3u);
    EXPECT_EQ(layer.on_message(sip(register_from_phone("UDP", 2), 7, 460 * kSecond, up)).id, 4u);
}

TEST(SipTransaction, TableFullTracksNothingNewAndSaysSo) {
    TransactionLimits limits;
    limits.max_transactions = 3;
    TransactionLayer layer(limits);
    const FlowRef up = flow(Transport::udp, 0, kPhone, kProxy);
    for (int i = 1; i <= 3; ++i) EXPECT_EQ(layer.on_message(sip(register_from_phone("UDP", i), i, i, up)).id, static_cast<TxnId>(i));
    const TxnVerdict v = layer.on_message(sip(register_from_phone("UDP", 4), 4, 4, up));
    EXPECT_EQ(v.id, 0u);
    EXPECT_TRUE(v.full);
    EXPECT_TRUE(layer.overflowed());
    // Known transactions still match.
    EXPECT_EQ(layer.on_message(sip(register_from_phone("UDP", 2), 5, 5, up)).id, 2u);
    EXPECT_EQ(layer.size(), 3u);
}

TEST(SipTransaction, TenThousandTransactionsStayBounded) {
    TransactionLayer layer;
    const FlowRef up = flow(Transport::tcp, 0, kPhone, kProxy);
    std::size_t max_size = 0, max_ranges = 0;
    std::uint32_t frame = 0, seq = 0;
    for (int i = 1; i <= 10000; ++i) {
        // One REGISTER and its 200 OK every 100 ms: 1,000 s of traffic.
        const Nanos t = i * 100 * kMilli;
        const Message reg = sip(register_from_phone("TCP", i), ++frame, t, up, seq);
        seq = reg.seq_end;
        const TxnVerdict a = layer.on_message(reg);
        const TxnVerdict b = layer.on_message(sip(ok_to_phone(i, "TCP"), ++frame, t + kMilli, reversed(up), seq));
        ASSERT_EQ(a.id, static_cast<TxnId>(i));
        ASSERT_EQ(b.id, a.id);
        max_size = std::max(max_size, layer.size());
        max_ranges = std::max(max_ranges, layer.tcp_ranges());
    }
    // Each transaction lives 32 s after its 200 OK: 320 are remembered at most (the new one and the 319
    // answered in the last 32 s), and one TCP range per message of the last 32 s.
    EXPECT_EQ(max_size, 320u);
    EXPECT_EQ(max_ranges, 640u);
    // Work: a look-up per message, queue entries popped or compacted away; at most 4 per message, so
    // nothing scans the remembered transactions.
    EXPECT_LE(layer.work_done(), 4u * 20000u);
    EXPECT_GE(layer.work_done(), 20000u);
}

}  // namespace
}  // namespace sipsleuth::core::sip
