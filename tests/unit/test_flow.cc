// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for flow.h: flow names as users filter them, per-side last traffic, FIN/RST, the "newer
// connection from the same phone" search of field case 000 and the bound on tracked flows.
#include "sipsleuth/core/flow.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipsleuth::core {
namespace {

// Capture times in milliseconds.
constexpr Nanos ms(std::int64_t n) { return n * kMilli; }

const Endpoint kPhoneOld{"10.1.1.171", 1033}, kPhoneNew{"10.1.1.171", 1034}, kRls{"10.1.1.68", 5060};

FlowPacket tcp(std::uint32_t stream, Endpoint src, Endpoint dst, bool fin = false, bool rst = false) {
    FlowPacket p;
    p.transport = Transport::tcp;
    p.stream = stream;
    p.src = std::move(src);
    p.dst = std::move(dst);
    p.fin = fin;
    p.rst = rst;
    return p;
}

TEST(Describe, TcpUdpAndIpv6) {
    EXPECT_EQ(describe({Transport::tcp, 3, {"10.1.1.5", 5060}, {"10.1.1.20", 1033}}),
              "tcp.stream 3 10.1.1.5:5060 -> 10.1.1.20:1033");
    EXPECT_EQ(describe({Transport::udp, 0, {"2001:db8::1", 5060}, {"2001:db8::2", 5062}}),
              "udp.stream 0 [2001:db8::1]:5060 -> [2001:db8::2]:5062");
}

TEST(FlowTable, RecordsSidesFinAndRst) {
    FlowTable t(10);
    EXPECT_EQ(t.record(tcp(0, kPhoneOld, kRls), 1, ms(1000), false, false), nullptr);  // not SIP: not created
    Flow* f = t.record(tcp(0, kPhoneOld, kRls), 4, ms(1500), true, true);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->side_of(kPhoneOld), 0);
    EXPECT_EQ(f->side_of(kRls), 1);
    EXPECT_EQ(f->side_of(kPhoneNew), -1);
    t.record(tcp(0, kRls, kPhoneOld), 5, ms(1600), false, false);
    EXPECT_EQ(f->last_frame[1], 5u);
    EXPECT_EQ(*f->first_request_frame[0], 4u);
    EXPECT_FALSE(f->first_request_frame[1]);
    EXPECT_FALSE(f->closed());
    t.record(tcp(0, kPhoneOld, kRls, false, true), 9, ms(2000), false, false);
    EXPECT_TRUE(f->closed_by(0));
    EXPECT_FALSE(f->closed_by(1));
    EXPECT_EQ(*f->rst_frame[0], 9u);
    EXPECT_EQ(f->closed_time[0], ms(2000));
    EXPECT_EQ(f->ref(1).dst, kPhoneOld);
}

TEST(FlowTable, NewerFlowFromTheSamePhone) {
    FlowTable t(10);
    Flow* old = t.record(tcp(0, kPhoneOld, kRls), 20, ms(125000), true, true);
    t.record(tcp(1, kPhoneNew, kRls), 28, ms(165000), true, false);  // SYN-time SIP response: no request yet
    EXPECT_EQ(t.newer_flow_from(Transport::tcp, "10.1.1.171", "10.1.1.68", ms(125031), old), nullptr);
    t.record(tcp(1, kPhoneNew, kRls), 31, ms(165011), true, true);
    const Flow* g = t.newer_flow_from(Transport::tcp, "10.1.1.171", "10.1.1.68", ms(125031), old);
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->stream, 1u);
    // Requests from the notifier's side do not count, nor flows before the last traffic.
    EXPECT_EQ(t.newer_flow_from(Transport::tcp, "10.1.1.68", "10.1.1.171", 0, old), nullptr);
    EXPECT_EQ(t.newer_flow_from(Transport::tcp, "10.1.1.171", "10.1.1.68", ms(170000), old), nullptr);
    EXPECT_EQ(t.newer_flow_from(Transport::udp, "10.1.1.171", "10.1.1.68", 0, old), nullptr);
    EXPECT_EQ(t.live_flow_between(Transport::tcp, "10.1.1.68", "10.1.1.171", old), g);
}

TEST(FlowTable, BoundedAndSaysSo) {
    FlowTable t(1);
    EXPECT_NE(t.record(tcp(0, kPhoneOld, kRls), 1, ms(1000), true, true), nullptr);
    EXPECT_FALSE(t.overflowed());
    EXPECT_EQ(t.record(tcp(1, kPhoneNew, kRls), 2, ms(2000), true, true), nullptr);
    EXPECT_TRUE(t.overflowed());
    EXPECT_EQ(t.size(), 1u);
}

// Issue 14: a flapping phone with 20,000 connections to one server. The newest connection of a user
// and the most recently active live connection come from indexes: the work does not grow with the
// number of connections between the two hosts (a scan would look at 20,000 per question).
TEST(FlowTable, QuestionsAboutManyConnectionsBetweenTwoHostsDoNotScan) {
    FlowTable t(100000);
    constexpr std::uint32_t kFlows = 20000;
    const std::string user = "sip:207@victoria.pingtel.com";
    std::vector<const Flow*> flows;
    for (std::uint32_t i = 0; i < kFlows; ++i) {
        const Endpoint phone{"10.1.1.171", static_cast<std::uint16_t>(1024 + i)};
        flows.push_back(t.record(tcp(i, phone, kRls), 2 * i + 1, i * kSecond, true, true, user));
        t.record(tcp(i, kRls, phone), 2 * i + 2, i * kSecond + ms(500), false, false);
        std::uint32_t frame = 0;
        // Newer than flow i - 1's last traffic: flow i (asked from flow i - 1), none from flow i itself.
        if (i > 0) {
            ASSERT_EQ(t.newer_flow_of_user(Transport::tcp, "10.1.1.171", "10.1.1.68", user, i * kSecond - ms(500), flows[i - 1], &frame),
                      flows[i]);
            ASSERT_EQ(frame, 2 * i + 1);
            ASSERT_EQ(t.live_flow_between(Transport::tcp, "10.1.1.68", "10.1.1.171", flows[i]), flows[i - 1]);
        }
        ASSERT_EQ(t.newer_flow_of_user(Transport::tcp, "10.1.1.171", "10.1.1.68", user, i * kSecond, flows[i], &frame), nullptr);
        ASSERT_EQ(t.live_flow_between(Transport::tcp, "10.1.1.68", "10.1.1.171", nullptr), flows[i]);
    }
    // Closing the newest ones: the live answer moves back to the newest flow still open.
    t.record(tcp(kFlows - 1, {"10.1.1.171", static_cast<std::uint16_t>(1024 + kFlows - 1)}, kRls, false, true),
             2 * kFlows + 1, kFlows * kSecond, false, false);
    EXPECT_EQ(t.live_flow_between(Transport::tcp, "10.1.1.68", "10.1.1.171", nullptr), flows[kFlows - 2]);
    EXPECT_EQ(t.live_flow_between(Transport::udp, "10.1.1.68", "10.1.1.171", nullptr), nullptr);
    EXPECT_LE(t.work_done(), 8u * kFlows);  // a scan: 20,000 per question
}

// Equal times: the first flow created wins, as in a scan that keeps the first of equal times; other
// users and the reverse direction do not count.
TEST(FlowTable, EqualTimesPreferTheOlderFlow) {
    FlowTable t(10);
    const std::string user = "sip:207@victoria.pingtel.com";
    Flow* a = t.record(tcp(0, kPhoneOld, kRls), 1, ms(5000), true, true, user);
    Flow* b = t.record(tcp(1, kPhoneNew, kRls), 2, ms(5000), true, true, user);
    t.record(tcp(2, {"10.1.1.171", 1035}, kRls), 3, ms(6000), true, true, "sip:208@victoria.pingtel.com");
    t.record(tcp(3, kRls, {"10.1.1.171", 1036}), 4, ms(7000), true, true, user);  // from the server: other direction
    std::uint32_t frame = 0;
    EXPECT_EQ(t.newer_flow_of_user(Transport::tcp, "10.1.1.171", "10.1.1.68", user, 0, nullptr, &frame), a);
    EXPECT_EQ(frame, 1u);
    EXPECT_EQ(t.newer_flow_of_user(Transport::tcp, "10.1.1.171", "10.1.1.68", user, 0, a, &frame), b);
    EXPECT_EQ(frame, 2u);
    EXPECT_EQ(t.newer_flow_of_user(Transport::tcp, "10.1.1.171", "10.1.1.68", user, ms(5500), nullptr, &frame), nullptr);
    t.record(tcp(3, kRls, {"10.1.1.171", 1036}), 5, ms(7000), false, false);
    Flow* d = t.record(tcp(2, {"10.1.1.171", 1035}, kRls), 6, ms(7000), false, false);
    EXPECT_EQ(t.live_flow_between(Transport::tcp, "10.1.1.171", "10.1.1.68", nullptr), d);  // created before 3
    t.record(tcp(1, kPhoneNew, kRls), 7, ms(8000), false, false);
    EXPECT_EQ(t.live_flow_between(Transport::tcp, "10.1.1.171", "10.1.1.68", nullptr), b);
    EXPECT_EQ(t.live_flow_between(Transport::tcp, "10.1.1.171", "10.1.1.68", b), d);
}

}  // namespace
}  // namespace sipsleuth::core
