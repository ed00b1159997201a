// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for sccp.h: KeepAlive/KeepAliveAck pairing per connection, backup connections told apart by
// TCP-only acknowledgements, three missed keepalives named as the expected failover (field case 004), and
// nothing claimed on a connection that never answered (asymmetric captures like startmenu_Dameware).
#include "sipsleuth/core/sccp.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace sipsleuth::core {
namespace {

constexpr Nanos S = kSecond;
constexpr Nanos T0 = 1434619800 * S;
const std::string kPhone = "10.10.10.130:49612", kPrimary = "10.10.10.202:2000", kBackup = "10.10.10.203:2000";

TEST(SccpTracker, PairsAcksAndPredictsFailover) {
    SccpTracker t({});
    std::vector<Learned> learned;
    t.on_register_ack(0, "10.10.10.130", 30, 60);
    const auto k1 = t.on_keepalive(0, kPhone, kPrimary, 11, T0 + 30 * S, 13, learned);
    ASSERT_TRUE(k1);
    EXPECT_EQ(t.on_ack(0, 12, T0 + 30 * S + S / 1000), k1);
    t.on_tcp_ack(0, 13, 12, T0 + 30 * S + S / 1000);
    EXPECT_EQ(t.keepalive(*k1).role, SccpRole::primary);
    EXPECT_EQ(t.keepalive(*k1).ack_delay, S / 1000);
    EXPECT_EQ(t.keepalive(*k1).tcp_ack_frame, 12u);
    std::vector<std::size_t> lost;
    for (int n = 2; n <= 4; ++n) {
        const auto k = t.on_keepalive(0, kPhone, kPrimary, 10 * n, T0 + 30 * n * S, 13 * n, learned);
        EXPECT_EQ(t.keepalive(*k).interval, 30 * S);
        lost.push_back(*k);
    }
    // The first two are closed by the next KeepAlive, the third by time (its interval ran out).
    ASSERT_EQ(learned.size(), 2u);
    t.on_time(45, T0 + 150 * S, learned);
    EXPECT_EQ(learned.size(), 2u);
    t.on_time(46, T0 + 150 * S + 1, learned);
    ASSERT_EQ(learned.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const SccpKeepalive& k = t.keepalive(lost[i]);
        EXPECT_EQ(learned[i].record, lost[i]);
        EXPECT_TRUE(k.unacked);
        EXPECT_EQ(k.missed_in_row, i + 1);
        EXPECT_EQ(k.failover_expected, i == 2);
    }
    EXPECT_EQ(t.keepalive(lost[2]).learned_frame, 46u);
    EXPECT_EQ(t.connection(0).unacked, 3u);
    EXPECT_EQ(t.connection(0).failovers, 1u);
}

TEST(SccpTracker, AnAckResetsTheRun) {
    SccpTracker t({});
    std::vector<Learned> learned;
    t.on_register_ack(0, "10.10.10.130", 30, 60);
    t.on_keepalive(0, kPhone, kPrimary, 1, T0, 1, learned);
    t.on_keepalive(0, kPhone, kPrimary, 2, T0 + 30 * S, 2, learned);
    t.on_ack(0, 3, T0 + 30 * S);
    t.on_keepalive(0, kPhone, kPrimary, 4, T0 + 60 * S, 3, learned);
    const auto k = t.on_keepalive(0, kPhone, kPrimary, 5, T0 + 90 * S, 4, learned);
    ASSERT_EQ(learned.size(), 2u);
    EXPECT_EQ(t.keepalive(learned[1].record).missed_in_row, 1u);
    EXPECT_FALSE(t.keepalive(*k).unacked);
}

TEST(SccpTracker, BackupAcknowledgesByTcpOnly) {
    SccpTracker t({});
    std::vector<Learned> learned;
    const auto k1 = t.on_keepalive(1, kPhone, kBackup, 1, T0, 100, learned);
    t.on_tcp_ack(1, 99, 2, T0 + S / 1000);  // not up to the KeepAlive's end
    EXPECT_FALSE(t.keepalive(*k1).tcp_ack_frame);
    t.on_tcp_ack(1, 100, 3, T0 + S / 1000);
    EXPECT_EQ(t.keepalive(*k1).role, SccpRole::backup);
    t.on_keepalive(1, kPhone, kBackup, 4, T0 + 60 * S, 112, learned);
    t.on_time(5, T0 + 200 * S, learned);
    EXPECT_TRUE(learned.empty());
    EXPECT_EQ(t.connection(0).unacked, 0u);
}

TEST(SccpTracker, BackupExpectsTheSecondaryInterval) {
    // The primary's RegisterAck says 30 s, and 60 s for the backup (field case 004).
    SccpTracker t({});
    std::vector<Learned> learned;
    t.on_register_ack(0, "10.10.10.130", 30, 60);
    const auto primary = t.on_keepalive(0, kPhone, kPrimary, 1, T0, 12, learned);
    const auto backup = t.on_keepalive(1, "10.10.10.130:49613", kBackup, 2, T0, 12, learned);
    const auto other = t.on_keepalive(2, "10.10.10.131:49613", kBackup, 3, T0, 12, learned);
    EXPECT_EQ(t.keepalive(*primary).expected, 30 * S);
    EXPECT_EQ(t.keepalive(*backup).expected, 60 * S);
    EXPECT_EQ(t.keepalive(*other).expected, 30 * S);  // another phone: the default
}

TEST(SccpTracker, BackupTurnedPrimaryOwedNoAckBefore) {
    // After a failover the backup sends RegisterAck: the KeepAlive sent to it before stays a backup's.
    SccpTracker t({});
    std::vector<Learned> learned;
    const auto before = t.on_keepalive(1, kPhone, kBackup, 1, T0, 12, learned);
    t.on_tcp_ack(1, 12, 2, T0);
    t.on_register_ack(1, "10.10.10.130", 30, 60);
    t.on_keepalive(1, kPhone, kBackup, 3, T0 + 40 * S, 24, learned);
    EXPECT_TRUE(learned.empty());
    EXPECT_EQ(t.keepalive(*before).role, SccpRole::backup);
    EXPECT_FALSE(t.keepalive(*before).unacked);
}

TEST(SccpTracker, AcksWithoutKeepalivesProveNothing) {
    // startmenu_Dameware.pcap: the tap saw CUCM's Acks but not the phones' KeepAlives.
    SccpTracker t({});
    std::vector<Learned> learned;
    EXPECT_FALSE(t.on_ack(2, 1, T0));
    EXPECT_FALSE(t.on_ack(2, 2, T0 + 30 * S));
    EXPECT_EQ(t.connection(0).acks_without_keepalive, 2u);
    const auto k = t.on_keepalive(2, kPhone, kPrimary, 3, T0 + 60 * S, 12, learned);
    EXPECT_EQ(t.on_ack(2, 4, T0 + 60 * S + S / 1000), k);
    EXPECT_TRUE(learned.empty());
}

TEST(SccpTracker, Bounded) {
    SccpTracker::Settings s;
    s.max_connections = 1;
    s.max_keepalives = 1;
    SccpTracker t(s);
    std::vector<Learned> learned;
    EXPECT_TRUE(t.on_keepalive(1, kPhone, kPrimary, 1, T0, 12, learned));
    EXPECT_FALSE(t.on_keepalive(1, kPhone, kPrimary, 2, T0 + S, 24, learned));
    EXPECT_FALSE(t.on_keepalive(2, kPhone, kPrimary, 3, T0 + S, 12, learned));
    EXPECT_TRUE(t.full());
    EXPECT_FALSE(t.on_ack(3, 4, T0));
}

// Issue 14: 10,000 phones' KeepAlives all waiting, then all acknowledged: an Ack does not search the
// waiting KeepAlives (once a removal from a vector of all of them); each is looked at once later.
TEST(SccpTracker, AcksDoNotSearchTheWaitingKeepalives) {
    SccpTracker t({});
    std::vector<Learned> learned;
    constexpr std::uint32_t kConns = 10000;
    for (std::uint32_t i = 0; i < kConns; ++i) {
        ASSERT_TRUE(t.on_keepalive(i, "10.10.11." + std::to_string(i % 250) + ":" + std::to_string(40000 + i),
                                   kPrimary, i + 1, T0 + i * (S / 1000), 13, learned));
        t.on_time(i + 1, T0 + i * (S / 1000), learned);
    }
    for (std::uint32_t i = kConns; i-- > 0;) {
        const auto k = t.on_ack(i, 2 * kConns - i, T0 + 11 * S);
        ASSERT_TRUE(k) << i;
        EXPECT_EQ(t.keepalive(*k).frame, i + 1);
    }
    t.on_time(3 * kConns, T0 + 100 * S, learned);
    EXPECT_TRUE(learned.empty());
    EXPECT_LE(t.work_done(), 3u * kConns);
}

// Issue 15: CRLF and SCCP share one connection table (they kept two identical ones): one entry per
// stream whichever analysis asks, each tracker finding only its own connections in it, one bound.
TEST(KeepaliveStreams, OneTableForCrlfAndSccp) {
    const auto streams = std::make_shared<KeepaliveStreams>(2);
    CrlfTracker crlf({}, streams);
    SccpTracker sccp({}, streams);
    std::vector<Learned> learned;
    crlf.on_sip(4);
    ASSERT_TRUE(crlf.on_ping(4, "192.0.2.10:49152", "198.51.100.5:5060", 1, T0, learned));
    ASSERT_TRUE(sccp.on_keepalive(7, kPhone, kPrimary, 2, T0, 100, learned));
    EXPECT_EQ(streams->size(), 2u);
    EXPECT_TRUE(crlf.known(4));
    EXPECT_FALSE(crlf.known(7));
    EXPECT_EQ(crlf.connection_of(4), 0u);
    EXPECT_FALSE(crlf.connection_of(7));
    EXPECT_EQ(sccp.connection_of(7), 0u);
    EXPECT_FALSE(sccp.connection_of(4));
    // The shared bound: a third stream has no room, for either tracker.
    EXPECT_FALSE(sccp.on_keepalive(9, kPhone, kBackup, 3, T0, 100, learned));
    EXPECT_TRUE(sccp.full());
    EXPECT_FALSE(crlf.on_ping(9, "192.0.2.10:49153", "198.51.100.5:5060", 4, T0, learned));
    EXPECT_TRUE(crlf.full());
    EXPECT_EQ(streams->size(), 2u);
}

// Issue 11: a row of unacknowledged KeepAlives is one incident: the first is the cause, the next ones and
// the expected failover are its consequences; an Ack ends the row, and the next miss starts a new one.
TEST(SccpFindings, TheFirstOfARowIsTheCause) {
    using K = KeepaliveFinding;
    SccpTracker t({});
    std::vector<Learned> learned;
    t.on_register_ack(0, "10.10.10.130", 30, 60);
    const auto answered = t.on_keepalive(0, kPhone, kPrimary, 11, T0, 1, learned);
    t.on_ack(0, 12, T0 + S / 100);
    EXPECT_EQ(t.keepalive(*answered).findings(), std::vector<Finding>{});
    std::vector<std::size_t> lost;
    for (std::uint32_t n = 1; n <= 3; ++n)
        lost.push_back(*t.on_keepalive(0, kPhone, kPrimary, 20 + n, T0 + 30 * n * S, 2 + n, learned));
    t.on_time(30, T0 + 121 * S, learned);
    EXPECT_EQ(t.keepalive(lost[0]).findings(), (std::vector<Finding>{{K::sccp_keepalive_unacked, std::nullopt}}));
    EXPECT_EQ(t.keepalive(lost[1]).findings(), (std::vector<Finding>{{K::sccp_keepalive_unacked_again, 21u}}));
    EXPECT_EQ(t.keepalive(lost[2]).findings(), (std::vector<Finding>{{K::sccp_keepalive_unacked_again, 21u},
                                                                     {K::sccp_failover_expected, 21u}}));
    EXPECT_EQ(t.keepalive(lost[1]).previous_frame, 21u);
    // An Ack ends the row; the next miss is a cause again.
    t.on_keepalive(0, kPhone, kPrimary, 40, T0 + 130 * S, 10, learned);
    t.on_ack(0, 41, T0 + 130 * S);
    const auto again = t.on_keepalive(0, kPhone, kPrimary, 50, T0 + 160 * S, 11, learned);
    t.on_time(51, T0 + 191 * S, learned);
    EXPECT_EQ(t.keepalive(*again).findings(), (std::vector<Finding>{{K::sccp_keepalive_unacked, std::nullopt}}));
}

}  // namespace
}  // namespace sipsleuth::core
