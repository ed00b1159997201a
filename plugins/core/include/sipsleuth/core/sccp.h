// SPDX-License-Identifier: GPL-2.0-or-later
// SCCP (Skinny) application keepalives per TCP connection, as Cisco phones use them (field case 004): the
// phone sends KeepAlive (message 0x0000) every keepAliveInterval seconds (RegisterAck; 30 s by default)
// to its primary CUCM, which answers KeepAliveAck (0x0100), and every secondaryKeepAliveInterval (60 s)
// to its backup, which only acknowledges at TCP level. The phone fails over after three keepalive
// intervals without an answer ("delayed failover"). This tracker pairs each KeepAlive with its Ack (or
// with the peer's TCP acknowledgement), names KeepAlives left unanswered on a primary connection, and
// predicts the failover at the third in a row. A missing Ack is only claimed on a connection that has
// shown KeepAliveAcks or a RegisterAck before: a capture that lost one direction (asymmetric SPAN, see
// wswiki__startmenu_Dameware.pcap with Acks but no KeepAlives) proves nothing about the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/keepalive.h"

namespace sipsleuth::core {

/// Skinny message ids the tracker needs (Wireshark's skinny.messageId values).
enum SkinnyMessage : std::uint32_t {
    kSkinnyKeepAlive = 0x0000,
    kSkinnyRegister = 0x0001,
    kSkinnyRegisterAck = 0x0081,
    kSkinnyKeepAliveAck = 0x0100,
};

enum class SccpRole { unknown, primary, backup };

/// One KeepAlive and what became of it.
struct SccpKeepalive {
    std::size_t connection = 0;
    std::uint32_t frame = 0;
    Nanos time = 0;
    std::uint32_t seq_end = 0;                ///< TCP sequence number after the segment that carried it
    std::optional<Nanos> interval;            ///< since the connection's previous KeepAlive
    Nanos expected = 0;                       ///< expected interval at the time
    std::optional<std::uint32_t> ack_frame;   ///< its KeepAliveAck
    Nanos ack_delay = 0;
    std::optional<std::uint32_t> tcp_ack_frame;  ///< the peer's TCP acknowledgement of it
    Nanos tcp_ack_delay = 0;
    SccpRole role = SccpRole::unknown;        ///< decided when answered (Ack: primary; TCP only: backup)
    bool answer_expected = false;             ///< the connection had answered in SCCP when it was sent
    bool unacked = false;
    std::uint32_t learned_frame = 0;          ///< where the missing Ack became known
    std::uint32_t missed_in_row = 0;          ///< 1, 2, 3... for consecutive unacknowledged KeepAlives
    std::uint32_t row_first_frame = 0;        ///< the first KeepAlive of that row
    bool failover_expected = false;           ///< the third in a row
    std::optional<std::uint32_t> previous_frame;  ///< the connection's previous KeepAlive
    /// sccp_keepalive_unacked (the first of a row: the cause), sccp_keepalive_unacked_again and
    /// sccp_failover_expected (consequences of the first of the row).
    std::vector<Finding> findings() const;
};

/// One Skinny TCP connection (phone to CUCM).
struct SccpConnection {
    std::uint32_t stream = 0;
    std::string phone, cucm;                  ///< "address:port"
    std::uint32_t keepalives = 0, acks = 0, acks_without_keepalive = 0, unacked = 0, failovers = 0;
    bool acked_before = false;                ///< a KeepAliveAck or RegisterAck seen: answers are expected
    std::optional<std::uint32_t> interval;    ///< keepAliveInterval of a RegisterAck on it (seconds)
    IntervalStats intervals;
    std::optional<std::size_t> last, pending;
    std::uint32_t missed_in_row = 0;
    std::uint32_t row_first_frame = 0;
};

class SccpTracker {
public:
    struct Settings {
        std::uint32_t default_interval = 30;    ///< seconds, before any RegisterAck (Cisco default)
        std::uint32_t failover_misses = 3;      ///< consecutive missed keepalives before failover
        std::size_t max_connections = 10000;
        std::size_t max_keepalives = 1000000;
    };
    /// With `streams`, the connection table shared with the CrlfTracker; without, a table of its own of at
    /// most max_connections streams.
    explicit SccpTracker(Settings s, std::shared_ptr<KeepaliveStreams> streams = nullptr);

    /// A KeepAlive from the phone (from, to: "address:port") on stream. A KeepAlive still pending on a
    /// connection that answers keepalives is closed as unacknowledged first (learned here).
    std::optional<std::size_t> on_keepalive(std::uint32_t stream, const std::string& from, const std::string& to,
                                            std::uint32_t frame, Nanos time, std::uint32_t seq_end,
                                            std::vector<Learned>& learned);
    /// A KeepAliveAck from CUCM on stream; returns the KeepAlive it answers (nullopt: none pending).
    std::optional<std::size_t> on_ack(std::uint32_t stream, std::uint32_t frame, Nanos time);
    /// A RegisterAck on stream to the phone at address `phone` (no port), with its keepAliveInterval and
    /// secondaryKeepAliveInterval (seconds; 0 when absent). The secondary interval becomes the expected one
    /// on the phone's connections that have no RegisterAck of their own (its backups).
    void on_register_ack(std::uint32_t stream, const std::string& phone, std::uint32_t interval,
                         std::uint32_t secondary);
    /// A TCP segment from CUCM on a tracked stream acknowledging up to ack: the pending KeepAlive's TCP ack.
    void on_tcp_ack(std::uint32_t stream, std::uint32_t ack, std::uint32_t frame, Nanos time);
    /// Any packet at time: KeepAlives not answered within their expected interval are closed.
    void on_time(std::uint32_t frame, Nanos time, std::vector<Learned>& learned) {
        if (!waiting_.empty()) expire_waiting(frame, time, learned);  // on every packet: inline when idle
    }

    std::optional<std::size_t> connection_of(std::uint32_t stream) const;
    const SccpKeepalive& keepalive(std::size_t i) const { return keepalives_[i]; }
    const SccpConnection& connection(std::size_t i) const { return connections_[i]; }
    std::size_t connections() const { return connections_.size(); }
    bool full() const { return full_; }
    /// Queue entries looked at so far (for tests proving an Ack does not search all waiting KeepAlives).
    std::uint64_t work_done() const { return work_; }

private:
    void expire_waiting(std::uint32_t frame, Nanos time, std::vector<Learned>& learned);
    std::optional<std::size_t> connection(std::uint32_t stream, bool create);
    void close(std::size_t ka, std::uint32_t frame, std::vector<Learned>& learned);

    Settings s_;
    std::shared_ptr<KeepaliveStreams> streams_;
    std::deque<SccpConnection> connections_;
    std::deque<SccpKeepalive> keepalives_;
    /// KeepAlives awaiting an Ack, oldest first; one acknowledged or closed stays until it reaches the
    /// front (no search on every Ack): the one waiting is its connection's pending KeepAlive.
    std::deque<std::size_t> waiting_;
    std::uint64_t work_ = 0;
    std::unordered_map<std::string, std::uint32_t> secondary_;  ///< phone address -> secondary interval
    bool full_ = false;
};

}  // namespace sipsleuth::core
