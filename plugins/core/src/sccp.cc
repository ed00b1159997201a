// SPDX-License-Identifier: GPL-2.0-or-later
// See sccp.h. A KeepAliveAck carries no reference to its KeepAlive, so it answers the one pending on
// its connection; a KeepAlive is closed (answered or not) when the next one is sent or when its
// expected interval has passed, the phone's own deadline.
#include "sipsleuth/core/sccp.h"

#include <algorithm>
#include <utility>

namespace sipsleuth::core {

std::vector<Finding> SccpKeepalive::findings() const {
    std::vector<Finding> out;
    if (!unacked) return out;
    if (missed_in_row <= 1) out.push_back({KeepaliveFinding::sccp_keepalive_unacked, std::nullopt});
    else out.push_back({KeepaliveFinding::sccp_keepalive_unacked_again, row_first_frame});
    if (failover_expected) {
        // With a failover count of 1 the failover is named on the cause itself: no link to its own frame.
        std::optional<std::uint32_t> cause;
        if (missed_in_row > 1) cause = row_first_frame;
        out.push_back({KeepaliveFinding::sccp_failover_expected, cause});
    }
    return out;
}

SccpTracker::SccpTracker(Settings s, std::shared_ptr<KeepaliveStreams> streams)
    : s_(s), streams_(streams ? std::move(streams) : std::make_shared<KeepaliveStreams>(s.max_connections)) {}

std::optional<std::size_t> SccpTracker::connection(std::uint32_t stream, bool create) {
    KeepaliveStreams::Entry* e = create ? streams_->get(stream) : streams_->find(stream);
    if (e && e->sccp) return e->sccp;
    if (!create) return std::nullopt;
    if (!e || connections_.size() >= s_.max_connections) {
        full_ = true;
        return std::nullopt;
    }
    connections_.emplace_back();
    connections_.back().stream = stream;
    e->sccp = connections_.size() - 1;
    return e->sccp;
}

std::optional<std::size_t> SccpTracker::connection_of(std::uint32_t stream) const {
    const KeepaliveStreams::Entry* e = streams_->find(stream);
    return e ? e->sccp : std::nullopt;
}

void SccpTracker::close(std::size_t k, std::uint32_t frame, std::vector<Learned>& learned) {
    SccpKeepalive& ka = keepalives_[k];
    SccpConnection& conn = connections_[ka.connection];
    if (conn.pending == k) conn.pending.reset();  // leaves waiting_ (lazily: see on_time)
    if (ka.ack_frame) return;
    // Judged by what the connection was when the KeepAlive was sent: a backup that became the primary
    // since (the phone failed over to it) owed no Ack for it.
    if (!ka.answer_expected) {
        // Never answered by SCCP on this connection: a backup CUCM when TCP acknowledged it.
        if (ka.tcp_ack_frame) ka.role = SccpRole::backup;
        return;
    }
    ka.role = SccpRole::primary;
    ka.unacked = true;
    ka.learned_frame = frame;
    // A row of unacknowledged KeepAlives is one incident (Cisco's delayed failover counts the row): the
    // CUCM or the path to it stopped answering at the first.
    if (conn.missed_in_row++ == 0) conn.row_first_frame = ka.frame;
    ka.missed_in_row = conn.missed_in_row;
    ka.row_first_frame = conn.row_first_frame;
    ++conn.unacked;
    if (ka.missed_in_row == s_.failover_misses) {
        ka.failover_expected = true;
        ++conn.failovers;
    }
    learned.push_back({k});
}

std::optional<std::size_t> SccpTracker::on_keepalive(std::uint32_t stream, const std::string& from,
                                                     const std::string& to, std::uint32_t frame, Nanos time,
                                                     std::uint32_t seq_end, std::vector<Learned>& learned) {
    const auto c = connection(stream, true);
    if (!c) return std::nullopt;
    if (keepalives_.size() >= s_.max_keepalives) {
        full_ = true;
        return std::nullopt;
    }
    if (connections_[*c].pending) close(*connections_[*c].pending, frame, learned);
    SccpConnection& conn = connections_[*c];
    conn.phone = from;
    conn.cucm = to;
    SccpKeepalive ka;
    ka.connection = *c;
    ka.frame = frame;
    ka.time = time;
    ka.seq_end = seq_end;
    ka.answer_expected = conn.acked_before;
    std::uint32_t expected = s_.default_interval;
    if (conn.interval) {
        expected = *conn.interval;
    } else if (const auto it = secondary_.find(from.substr(0, from.rfind(':'))); it != secondary_.end()) {
        expected = it->second;
    }
    ka.expected = static_cast<Nanos>(expected) * kSecond;
    if (conn.last) {
        ka.previous_frame = keepalives_[*conn.last].frame;
        ka.interval = time - keepalives_[*conn.last].time;
        conn.intervals.add(*ka.interval);
    }
    keepalives_.push_back(ka);
    const std::size_t index = keepalives_.size() - 1;
    ++conn.keepalives;
    conn.last = index;
    conn.pending = index;
    waiting_.push_back(index);
    return index;
}

std::optional<std::size_t> SccpTracker::on_ack(std::uint32_t stream, std::uint32_t frame, Nanos time) {
    const auto c = connection(stream, true);
    if (!c) return std::nullopt;
    SccpConnection& conn = connections_[*c];
    conn.acked_before = true;
    ++conn.acks;
    if (!conn.pending) {
        ++conn.acks_without_keepalive;
        return std::nullopt;
    }
    const std::size_t k = *conn.pending;
    SccpKeepalive& ka = keepalives_[k];
    ka.ack_frame = frame;
    ka.ack_delay = time - ka.time;
    ka.role = SccpRole::primary;
    conn.pending.reset();
    conn.missed_in_row = 0;  // the KeepAlive leaves waiting_ lazily (see on_time)
    return k;
}

void SccpTracker::on_register_ack(std::uint32_t stream, const std::string& phone, std::uint32_t interval,
                                  std::uint32_t secondary) {
    const auto c = connection(stream, true);
    if (!c) return;
    if (secondary && (secondary_.count(phone) || secondary_.size() < s_.max_connections)) secondary_[phone] = secondary;
    SccpConnection& conn = connections_[*c];
    conn.acked_before = true;
    conn.missed_in_row = 0;
    if (interval) conn.interval = interval;
}

void SccpTracker::on_tcp_ack(std::uint32_t stream, std::uint32_t ack, std::uint32_t frame, Nanos time) {
    const auto c = connection(stream, false);
    if (!c) return;
    const SccpConnection& conn = connections_[*c];
    if (!conn.last) return;
    SccpKeepalive& ka = keepalives_[*conn.last];
    if (ka.tcp_ack_frame || static_cast<std::int32_t>(ack - ka.seq_end) < 0) return;
    ka.tcp_ack_frame = frame;
    ka.tcp_ack_delay = time - ka.time;
    // Acknowledged by TCP on a connection that never answered in SCCP: a backup, unless an Ack follows.
    if (!conn.acked_before && !ka.ack_frame) ka.role = SccpRole::backup;
}

void SccpTracker::expire_waiting(std::uint32_t frame, Nanos time, std::vector<Learned>& learned) {
    while (!waiting_.empty()) {
        ++work_;
        const std::size_t k = waiting_.front();
        const SccpKeepalive& ka = keepalives_[k];
        if (connections_[ka.connection].pending != k) {  // acknowledged or closed already
            waiting_.pop_front();
            continue;
        }
        if (time - ka.time <= ka.expected) break;
        waiting_.pop_front();
        close(k, frame, learned);
    }
}

}  // namespace sipsleuth::core
