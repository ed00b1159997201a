// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for keepalive.h: duration formatting, interval statistics and the RFC 5626 CRLF tracker (ping,
// pong, missing pong only when the server's direction is in the capture, Flow-Timer lateness, bounds).
#include "sipsleuth/core/keepalive.h"

#include <gtest/gtest.h>

#include <vector>

namespace sipsleuth::core {
namespace {

constexpr Nanos S = kSecond;
constexpr Nanos T0 = 1614852000 * S;
const std::string kUa = "192.0.2.10:49152", kEdge = "198.51.100.5:5060";

TEST(FormatSeconds, Table) {
    const std::pair<Nanos, const char*> cases[] = {
        {0, "0.000 s"},          {S / 1000, "0.001 s"}, {S / 2000, "0.001 s"}, {S / 3000, "0.000 s"},
        {23015060000, "23.015 s"}, {-1747040000, "-1.747 s"}, {-S / 3000, "0.000 s"}, {115 * S, "115.000 s"},
    };
    for (const auto& [d, want] : cases) EXPECT_EQ(format_seconds(d), want) << d;
}

TEST(FormatDuration, Table) {
    EXPECT_EQ(format_duration(89 * S), "89.000 s");
    EXPECT_EQ(format_duration(120562080000), "2 min 0.6 s");
    EXPECT_EQ(format_duration(976831420000), "16 min 16.8 s");
    EXPECT_EQ(format_duration(3600 * S), "60 min 0.0 s");
}

TEST(IntervalStats, MinMedianMax) {
    IntervalStats st;
    EXPECT_EQ(st.median(), 0);
    for (Nanos v : {5, 1, 4, 2, 3, 100}) st.add(v);
    EXPECT_EQ(st.count(), 6u);
    EXPECT_EQ(st.min(), 1);
    EXPECT_EQ(st.max(), 100);
    EXPECT_EQ(st.median(), 3);
    IntervalStats capped(2);
    for (Nanos v : {7, 9, 1}) capped.add(v);
    EXPECT_EQ(capped.count(), 3u);
    EXPECT_EQ(capped.min(), 1);
    EXPECT_EQ(capped.median(), 7);  // of the two kept samples
}

TEST(CrlfTracker, PingPongAndMissingPong) {
    CrlfTracker t({});
    std::vector<Learned> learned;
    t.on_sip(3);
    t.on_flow_timer(3, 30);
    EXPECT_TRUE(t.known(3));
    const auto p1 = t.on_ping(3, kUa, kEdge, 8, T0 + 25 * S, learned);
    ASSERT_TRUE(p1);
    EXPECT_EQ(t.ping(*p1).flow_timer, 30u);
    EXPECT_FALSE(t.on_pong(3, kUa, 9, T0 + 25 * S));  // a CRLF from the client is no pong
    EXPECT_EQ(t.on_pong(3, kEdge, 10, T0 + 25 * S + S / 100), p1);
    EXPECT_EQ(t.ping(*p1).pong_frame, 10u);
    EXPECT_EQ(t.ping(*p1).pong_delay, S / 100);
    const auto p2 = t.on_ping(3, kUa, kEdge, 16, T0 + 50 * S, learned);
    t.on_traffic(3, kEdge);  // the edge proxy's TCP ACK: its direction is in the capture
    t.on_time(17, T0 + 59 * S, learned);
    EXPECT_TRUE(learned.empty());
    t.on_time(18, T0 + 60 * S + 1, learned);
    ASSERT_EQ(learned.size(), 1u);
    EXPECT_EQ(learned[0].record, *p2);
    EXPECT_TRUE(t.ping(*p2).missing);
    EXPECT_EQ(t.ping(*p2).learned_frame, 18u);
    EXPECT_FALSE(t.on_pong(3, kEdge, 19, T0 + 61 * S));
    const auto p3 = t.on_ping(3, kUa, kEdge, 20, T0 + 90 * S, learned);
    EXPECT_EQ(t.ping(*p3).interval, 40 * S);
    EXPECT_TRUE(t.ping(*p3).late);
    EXPECT_EQ(t.connection(0).missing, 1u);
    EXPECT_EQ(t.connection(0).late, 1u);
    EXPECT_EQ(t.connection(0).pings, 3u);
    EXPECT_EQ(t.connection(0).pongs, 1u);
}

TEST(CrlfTracker, OneSidedCaptureProvesNothing) {
    CrlfTracker t({});
    std::vector<Learned> learned;
    const auto p1 = t.on_ping(4, kUa, kEdge, 1, T0, learned);
    t.on_ping(4, kUa, kEdge, 2, T0 + 25 * S, learned);  // closes the first: no server traffic seen
    t.on_time(3, T0 + 100 * S, learned);
    EXPECT_TRUE(learned.empty());
    EXPECT_FALSE(t.ping(*p1).missing);
}

TEST(CrlfTracker, NextPingClosesThePendingOne) {
    CrlfTracker t({});
    std::vector<Learned> learned;
    const auto p1 = t.on_ping(5, kUa, kEdge, 1, T0, learned);
    t.on_traffic(5, kEdge);
    t.on_ping(5, kUa, kEdge, 2, T0 + 5 * S, learned);
    ASSERT_EQ(learned.size(), 1u);
    EXPECT_EQ(learned[0].record, *p1);
    EXPECT_EQ(t.ping(*p1).learned_frame, 2u);
}

TEST(CrlfTracker, Bounded) {
    CrlfTracker::Settings s;
    s.max_connections = 1;
    s.max_pings = 2;
    CrlfTracker t(s);
    std::vector<Learned> learned;
    EXPECT_TRUE(t.on_ping(1, kUa, kEdge, 1, T0, learned));
    EXPECT_FALSE(t.on_ping(2, kUa, kEdge, 2, T0, learned));
    EXPECT_TRUE(t.full());
    EXPECT_TRUE(t.on_ping(1, kUa, kEdge, 3, T0 + S, learned));
    EXPECT_FALSE(t.on_ping(1, kUa, kEdge, 4, T0 + 2 * S, learned));
    EXPECT_FALSE(t.on_pong(9, kEdge, 5, T0));
}

// Issue 14: 10,000 connections with a ping each, all answered, the newest first. A pong does not
// search the waiting pings (the tracker once removed each from a vector of all of them): the work is
// one look at each ping when the queue is next read.
TEST(CrlfTracker, PongsDoNotSearchTheWaitingPings) {
    CrlfTracker t({});
    std::vector<Learned> learned;
    constexpr std::uint32_t kConns = 10000;
    for (std::uint32_t i = 0; i < kConns; ++i) {
        ASSERT_TRUE(t.on_ping(i, "192.0.2.10:" + std::to_string(20000 + i), kEdge, 2 * i + 1, T0 + i * (S / 1000),
                              learned));
        t.on_time(2 * i + 1, T0 + i * (S / 1000), learned);
    }
    for (std::uint32_t i = kConns; i-- > 0;) {
        const auto p = t.on_pong(i, kEdge, 3 * kConns - i, T0 + 11 * S);
        ASSERT_TRUE(p) << i;
        EXPECT_EQ(t.ping(*p).frame, 2 * i + 1);
    }
    t.on_time(4 * kConns, T0 + 30 * S, learned);
    EXPECT_TRUE(learned.empty());
    // A ping left unanswered is still found missing after the answered ones ahead of it.
    t.on_ping(0, "192.0.2.10:20000", kEdge, 4 * kConns + 1, T0 + 31 * S, learned);
    t.on_traffic(0, kEdge);
    t.on_time(4 * kConns + 2, T0 + 42 * S, learned);
    ASSERT_EQ(learned.size(), 1u);
    EXPECT_EQ(t.ping(learned[0].record).frame, 4 * kConns + 1);
    EXPECT_LE(t.work_done(), 3u * kConns);
}
// Issue 11: pings left unanswered in a row are one incident (the server stopped answering at the first);
// a late ping is a note of its own; a pong ends the row.
TEST(CrlfFindings, TheFirstMissingPongOfARowIsTheCause) {
    using K = KeepaliveFinding;
    CrlfTracker t({});
    std::vector<Learned> learned;
    t.on_flow_timer(3, 30);
    const auto p1 = t.on_ping(3, kUa, kEdge, 8, T0, learned);
    t.on_pong(3, kEdge, 9, T0 + S / 100);
    std::vector<std::size_t> silent;
    for (std::uint32_t n = 1; n <= 3; ++n) {
        silent.push_back(*t.on_ping(3, kUa, kEdge, 10 + 2 * n, T0 + 25 * n * S, learned));
        t.on_traffic(3, kEdge);  // TCP ACKs from the server
    }
    t.on_time(20, T0 + 86 * S, learned);
    EXPECT_EQ(t.ping(*p1).findings(), std::vector<Finding>{});
    EXPECT_EQ(t.ping(silent[0]).findings(), (std::vector<Finding>{{K::crlf_pong_missing, std::nullopt}}));
    EXPECT_EQ(t.ping(silent[1]).findings(), (std::vector<Finding>{{K::crlf_pong_missing_again, 12u}}));
    EXPECT_EQ(t.ping(silent[2]).findings(), (std::vector<Finding>{{K::crlf_pong_missing_again, 12u}}));
    EXPECT_EQ(t.ping(silent[2]).missed_in_row, 3u);
    EXPECT_EQ(t.ping(silent[2]).previous_frame, 14u);
    // Answered again, then a ping 40 s later (over the 30 s Flow-Timer) left unanswered: late, and a new row.
    t.on_ping(3, kUa, kEdge, 30, T0 + 100 * S, learned);
    t.on_pong(3, kEdge, 31, T0 + 100 * S);
    const auto p5 = t.on_ping(3, kUa, kEdge, 40, T0 + 140 * S, learned);
    t.on_time(41, T0 + 151 * S, learned);
    EXPECT_EQ(t.ping(*p5).findings(), (std::vector<Finding>{{K::crlf_ping_late, std::nullopt},
                                                           {K::crlf_pong_missing, std::nullopt}}));
}

}  // namespace
}  // namespace sipsleuth::core
