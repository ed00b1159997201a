// SPDX-License-Identifier: GPL-2.0-or-later
// See keepalive.h. A missing pong is only claimed when the capture shows the server sending on the
// connection after its first ping (a TCP ACK is enough): a one-sided capture (a SPAN port seeing one
// direction) would otherwise report every ping.
#include "sipsleuth/core/keepalive.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace sipsleuth::core {

std::string format_seconds(Nanos d) {
    const bool negative = d < 0;
    const std::uint64_t abs = negative ? static_cast<std::uint64_t>(-(d + 1)) + 1 : static_cast<std::uint64_t>(d);
    // Rounded to the millisecond.
    const std::uint64_t ms = (abs + 500000) / 1000000;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%llu.%03llu s", negative && ms ? "-" : "",
                  static_cast<unsigned long long>(ms / 1000), static_cast<unsigned long long>(ms % 1000));
    return buf;
}

std::string format_duration(Nanos d) {
    if (d < 90 * kSecond) return format_seconds(d);
    const std::uint64_t tenths = (static_cast<std::uint64_t>(d) + 50000000) / 100000000;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%llu min %llu.%llu s", static_cast<unsigned long long>(tenths / 600),
                  static_cast<unsigned long long>(tenths % 600 / 10), static_cast<unsigned long long>(tenths % 10));
    return buf;
}

void IntervalStats::add(Nanos interval) {
    if (count_ == 0 || interval < min_) min_ = interval;
    if (count_ == 0 || interval > max_seen_) max_seen_ = interval;
    ++count_;
    // Kept sorted (a bounded memmove per keepalive), so the table reads the median in constant time on
    // every packet it is refreshed for.
    if (samples_.size() < max_) samples_.insert(std::upper_bound(samples_.begin(), samples_.end(), interval), interval);
}

Nanos IntervalStats::median() const {
    if (samples_.empty()) return 0;
    return samples_[(samples_.size() - 1) / 2];
}

std::vector<Finding> CrlfPing::findings() const {
    std::vector<Finding> out;
    if (late) out.push_back({KeepaliveFinding::crlf_ping_late, std::nullopt});
    if (missing) {
        if (missed_in_row <= 1) out.push_back({KeepaliveFinding::crlf_pong_missing, std::nullopt});
        else out.push_back({KeepaliveFinding::crlf_pong_missing_again, row_first_frame});
    }
    return out;
}

KeepaliveStreams::Entry* KeepaliveStreams::find(std::uint32_t stream) {
    const auto it = by_stream_.find(stream);
    return it == by_stream_.end() ? nullptr : &it->second;
}

const KeepaliveStreams::Entry* KeepaliveStreams::find(std::uint32_t stream) const {
    const auto it = by_stream_.find(stream);
    return it == by_stream_.end() ? nullptr : &it->second;
}

KeepaliveStreams::Entry* KeepaliveStreams::get(std::uint32_t stream) {
    if (Entry* e = find(stream)) return e;
    if (by_stream_.size() >= max_) return nullptr;
    return &by_stream_[stream];
}

CrlfTracker::CrlfTracker(Settings s, std::shared_ptr<KeepaliveStreams> streams)
    : s_(s), streams_(streams ? std::move(streams) : std::make_shared<KeepaliveStreams>(s.max_pings)) {}

std::optional<std::size_t> CrlfTracker::connection(std::uint32_t stream, bool create) {
    KeepaliveStreams::Entry* e = create ? streams_->get(stream) : streams_->find(stream);
    if (e && e->crlf) return e->crlf;
    if (!create) return std::nullopt;
    if (!e || connections_.size() >= s_.max_connections) {
        full_ = true;
        return std::nullopt;
    }
    connections_.emplace_back();
    connections_.back().stream = stream;
    e->crlf = connections_.size() - 1;
    return e->crlf;
}

std::optional<std::size_t> CrlfTracker::connection_of(std::uint32_t stream) const {
    const KeepaliveStreams::Entry* e = streams_->find(stream);
    return e ? e->crlf : std::nullopt;
}

bool CrlfTracker::known(std::uint32_t stream) const {
    const KeepaliveStreams::Entry* e = streams_->find(stream);
    return e && (e->sip || e->crlf);
}

void CrlfTracker::on_sip(std::uint32_t stream) {
    if (KeepaliveStreams::Entry* e = streams_->get(stream)) e->sip = true;
}

void CrlfTracker::on_traffic(std::uint32_t stream, const std::string& from) {
    const auto c = connection(stream, false);
    if (!c) return;
    std::vector<std::string>& sides = connections_[*c].sides;
    if (sides.size() < 2 && std::find(sides.begin(), sides.end(), from) == sides.end()) sides.push_back(from);
}

void CrlfTracker::on_flow_timer(std::uint32_t stream, std::uint32_t seconds) {
    KeepaliveStreams::Entry* e = streams_->get(stream);
    if (!e) return;
    e->sip = true;
    e->flow_timer = seconds;
    if (e->crlf) connections_[*e->crlf].flow_timer = seconds;
}

void CrlfTracker::close_missing(std::size_t p, std::uint32_t frame, std::vector<Learned>& learned) {
    CrlfPing& ping = pings_[p];
    CrlfConnection& conn = connections_[ping.connection];
    if (conn.pending == p) conn.pending.reset();  // leaves waiting_ (lazily: see on_time)
    // Provable only when the capture shows the server sending on this connection.
    if (std::find(conn.sides.begin(), conn.sides.end(), conn.server) == conn.sides.end()) return;
    ping.missing = true;
    ping.learned_frame = frame;
    ++conn.missing;
    // A row of missing pongs is one incident: the server (or the path to it) stopped answering at its first.
    if (conn.missed_in_row++ == 0) conn.row_first_frame = ping.frame;
    ping.missed_in_row = conn.missed_in_row;
    ping.row_first_frame = conn.row_first_frame;
    learned.push_back({p});
}

std::optional<std::size_t> CrlfTracker::on_ping(std::uint32_t stream, const std::string& from, const std::string& to,
                                                std::uint32_t frame, Nanos time, std::vector<Learned>& learned) {
    const auto c = connection(stream, true);
    if (!c) return std::nullopt;
    if (pings_.size() >= s_.max_pings) {
        full_ = true;
        return std::nullopt;
    }
    on_traffic(stream, from);
    CrlfConnection& conn = connections_[*c];
    if (!conn.flow_timer)
        if (const KeepaliveStreams::Entry* e = streams_->find(stream); e && e->flow_timer) conn.flow_timer = e->flow_timer;
    if (conn.pending) close_missing(*conn.pending, frame, learned);
    conn.client = from;
    conn.server = to;
    CrlfPing ping;
    ping.connection = *c;
    ping.frame = frame;
    ping.time = time;
    ping.flow_timer = conn.flow_timer;
    if (conn.last_ping) {
        ping.previous_frame = pings_[*conn.last_ping].frame;
        ping.interval = time - pings_[*conn.last_ping].time;
        conn.intervals.add(*ping.interval);
        // RFC 5626 section 4.4.1: the UA sends a keepalive within the Flow-Timer's seconds.
        if (conn.flow_timer && *ping.interval > static_cast<Nanos>(*conn.flow_timer) * kSecond) {
            ping.late = true;
            ++conn.late;
        }
    }
    pings_.push_back(ping);
    const std::size_t index = pings_.size() - 1;
    ++conn.pings;
    conn.pending = index;
    conn.last_ping = index;
    waiting_.push_back(index);
    return index;
}

std::optional<std::size_t> CrlfTracker::on_pong(std::uint32_t stream, const std::string& from, std::uint32_t frame,
                                                Nanos time) {
    const auto c = connection(stream, false);
    if (!c) return std::nullopt;
    CrlfConnection& conn = connections_[*c];
    if (!conn.pending || from != conn.server) return std::nullopt;
    const std::size_t p = *conn.pending;
    CrlfPing& ping = pings_[p];
    ping.pong_frame = frame;
    ping.pong_delay = time - ping.time;
    ++conn.pongs;
    conn.missed_in_row = 0;
    conn.pending.reset();  // leaves waiting_ (lazily: see on_time)
    return p;
}

void CrlfTracker::expire_waiting(std::uint32_t frame, Nanos time, std::vector<Learned>& learned) {
    while (!waiting_.empty()) {
        ++work_;
        const std::size_t p = waiting_.front();
        if (connections_[pings_[p].connection].pending != p) {  // answered or closed already
            waiting_.pop_front();
            continue;
        }
        if (time - pings_[p].time <= s_.pong_timeout) break;
        waiting_.pop_front();
        close_missing(p, frame, learned);
    }
}

}  // namespace sipsleuth::core
