// SPDX-License-Identifier: GPL-2.0-or-later
// Keepalive bookkeeping shared by siptrack's three keepalive analyses (SIP REGISTER refreshes, RFC 5626
// CRLF pings, SCCP KeepAlive), and the RFC 5626 section 3.5.1 / 4.4.1 CRLF tracker itself: a client
// sends a double CRLF ("ping") on a SIP connection, the server answers a single CRLF ("pong"); the
// registrar's Flow-Timer header (RFC 5626 section 8.4) is the interval the client is expected to keep.
// Times are nanoseconds since the epoch; every record is addressed by its index, which never changes,
// so the plugin can keep indexes per frame and render a record's latest state on any later pass.
//
// Findings are classified as incidents (issue 11): each finding is the root cause of its incident or a
// consequence of a cause named on another frame (KeepaliveFinding, Finding::caused_by). A consequence is
// never more than a note, so one incident is one warning in Wireshark's Expert Information.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/time.h"

namespace sipsleuth::core {

/// Every keepalive finding siptrack names. Causes: registration_lapsed (a refresh later than the expiry
/// plus the registrar's grace: the device was dropped), crlf_pong_missing and sccp_keepalive_unacked (the
/// first of a row). Consequences (with Finding::caused_by): the missed answers after the first of a row,
/// sccp_failover_expected, a registrar switch that follows a lapse (failover) or returns from it
/// (fallback), and a REGISTER copy sent after the copy that lapsed. The others stand alone: notes of
/// their own (a refresh within the grace, a late one, a retransmission, a switch whose cause the capture
/// does not show) or lifecycle (backup keepalive, de-registration).
enum class KeepaliveFinding : std::uint8_t {
    registration_lapsed,
    register_within_grace,
    register_late,
    register_retransmitted,
    backup_keepalive,
    deregistration,
    registrar_switch,
    crlf_pong_missing,
    crlf_pong_missing_again,
    crlf_ping_late,
    sccp_keepalive_unacked,
    sccp_keepalive_unacked_again,
    sccp_failover_expected,
};

/// A finding on one frame, with the frame of its incident's cause when it is a consequence.
struct Finding {
    KeepaliveFinding kind;
    std::optional<std::uint32_t> caused_by;
    bool operator==(const Finding& o) const { return kind == o.kind && caused_by == o.caused_by; }
};


/// "12.345 s" with millisecond precision, signed.
std::string format_seconds(Nanos d);
/// A duration in minutes and seconds when over 90 s ("16 min 2.5 s"), else format_seconds.
std::string format_duration(Nanos d);

/// Intervals of one keepalive series: count, minimum, median and maximum. Keeps at most max_samples
/// intervals for the median (the first ones); count, minimum and maximum cover every interval.
class IntervalStats {
public:
    explicit IntervalStats(std::size_t max_samples = 4096) : max_(max_samples) {}
    void add(Nanos interval);
    std::size_t count() const { return count_; }
    Nanos min() const { return min_; }
    Nanos max() const { return max_seen_; }
    /// Median of the kept samples (lower middle for an even count); 0 when empty.
    Nanos median() const;

private:
    std::size_t max_;
    std::size_t count_ = 0;
    Nanos min_ = 0, max_seen_ = 0;
    std::vector<Nanos> samples_;  ///< sorted
};

/// The keepalive analyses' one table of TCP connections, by tcp.stream (issue 15: CrlfTracker and
/// SccpTracker each kept an identical stream index, and CRLF a third map of SIP streams): whether SIP was
/// seen on a stream, its latest Flow-Timer, and its CRLF and SCCP connection records. One entry and one
/// look-up per stream whichever analysis asks. Bounded: a full table remembers no new stream, and the
/// tracker that needed one says so (full()).
class KeepaliveStreams {
public:
    struct Entry {
        bool sip = false;                   ///< a SIP message (or a Flow-Timer) was seen on it
        std::uint32_t flow_timer = 0;       ///< seconds, the latest Flow-Timer seen on it (0: none)
        std::optional<std::size_t> crlf;    ///< its CrlfTracker connection
        std::optional<std::size_t> sccp;    ///< its SccpTracker connection
    };
    explicit KeepaliveStreams(std::size_t max_streams) : max_(max_streams) {}
    /// The entry of stream, or nullptr.
    Entry* find(std::uint32_t stream);
    const Entry* find(std::uint32_t stream) const;
    /// The entry of stream, created when there is room; nullptr when the table is full.
    Entry* get(std::uint32_t stream);
    std::size_t size() const { return by_stream_.size(); }

private:
    std::size_t max_;
    std::unordered_map<std::uint32_t, Entry> by_stream_;
};

/// One CRLF connection: a TCP stream on which a double-CRLF ping was seen.
struct CrlfConnection {
    std::uint32_t stream = 0;
    std::string client, server;  ///< "address:port" of the pinging side and of its peer
    std::uint32_t pings = 0, pongs = 0, missing = 0, late = 0;
    std::optional<std::uint32_t> flow_timer;  ///< seconds, from the latest Flow-Timer header seen on it
    IntervalStats intervals;
    std::vector<std::string> sides;  ///< the (at most two) sides the capture shows sending on it since its first ping
    std::optional<std::size_t> pending;  ///< ping awaiting its pong
    std::optional<std::size_t> last_ping;
    std::uint32_t missed_in_row = 0;     ///< pings in a row without pong, up to the latest (0 after a pong)
    std::uint32_t row_first_frame = 0;   ///< the first ping of that row
};

/// One double-CRLF ping and what became of it.
struct CrlfPing {
    std::size_t connection = 0;
    std::uint32_t frame = 0;
    Nanos time = 0;
    std::optional<Nanos> interval;           ///< since the previous ping of the connection
    std::optional<std::uint32_t> flow_timer;  ///< expected interval (seconds) when known
    bool late = false;                        ///< interval above the Flow-Timer
    std::optional<std::uint32_t> pong_frame;
    Nanos pong_delay = 0;
    bool missing = false;                     ///< no pong within the timeout
    std::uint32_t learned_frame = 0;          ///< where the missing pong became known
    std::optional<std::uint32_t> previous_frame;  ///< the connection's previous ping
    std::uint32_t missed_in_row = 0;          ///< 1, 2, ... for consecutive missing pongs (0: answered)
    std::uint32_t row_first_frame = 0;        ///< the first ping of its row of missing pongs
    /// crlf_ping_late, crlf_pong_missing (first of a row) or crlf_pong_missing_again (caused by the first).
    std::vector<Finding> findings() const;
};

/// A finding about an earlier record, learnt on the current packet.
struct Learned {
    std::size_t record = 0;
};

/// RFC 5626 CRLF keepalive tracker, per TCP stream. Bounded: at most max_connections connections and
/// max_pings pings; past that, calls return nullopt and full() is set.
class CrlfTracker {
public:
    struct Settings {
        Nanos pong_timeout = 10 * kSecond;
        std::size_t max_connections = 10000;
        std::size_t max_pings = 1000000;
    };
    /// With `streams`, the connection table shared with the SccpTracker; without, a table of its own of
    /// at most max_pings streams.
    explicit CrlfTracker(Settings s, std::shared_ptr<KeepaliveStreams> streams = nullptr);

    /// A SIP message on stream: remembers that the stream is a SIP connection (while the stream table has
    /// room; a SIP stream past that bound is still recognised on the SIP port).
    void on_sip(std::uint32_t stream);
    /// Traffic on a CRLF connection from side `from` (address:port): which directions the capture shows.
    void on_traffic(std::uint32_t stream, const std::string& from);
    /// A Flow-Timer header (seconds) on stream.
    void on_flow_timer(std::uint32_t stream, std::uint32_t seconds);
    /// A double-CRLF ping from `from` to `to`; returns its index. A ping still pending is closed as
    /// missing (learned here) first; those indexes are appended to learned.
    std::optional<std::size_t> on_ping(std::uint32_t stream, const std::string& from, const std::string& to,
                                       std::uint32_t frame, Nanos time, std::vector<Learned>& learned);
    /// A single CRLF on stream from `from`; a pong when the pinged server sent it: returns the ping it
    /// answers, if any.
    std::optional<std::size_t> on_pong(std::uint32_t stream, const std::string& from, std::uint32_t frame, Nanos time);
    /// Any packet at time: pings whose pong timeout passed are closed as missing (learned here).
    void on_time(std::uint32_t frame, Nanos time, std::vector<Learned>& learned) {
        if (!waiting_.empty()) expire_waiting(frame, time, learned);  // on every packet: inline when idle
    }
    /// Whether stream is a known SIP (or CRLF) connection.
    bool known(std::uint32_t stream) const;
    /// Index of the connection of stream, if tracked.
    std::optional<std::size_t> connection_of(std::uint32_t stream) const;

    const CrlfPing& ping(std::size_t i) const { return pings_[i]; }
    const CrlfConnection& connection(std::size_t i) const { return connections_[i]; }
    std::size_t connections() const { return connections_.size(); }
    bool full() const { return full_; }
    /// Queue entries looked at so far (for tests proving a pong does not search all waiting pings).
    std::uint64_t work_done() const { return work_; }

private:
    void expire_waiting(std::uint32_t frame, Nanos time, std::vector<Learned>& learned);
    std::optional<std::size_t> connection(std::uint32_t stream, bool create);
    void close_missing(std::size_t ping, std::uint32_t frame, std::vector<Learned>& learned);

    Settings s_;
    std::shared_ptr<KeepaliveStreams> streams_;
    std::deque<CrlfConnection> connections_;
    std::deque<CrlfPing> pings_;
    /// Pings awaiting a pong, oldest first; a ping answered or closed stays until it reaches the front
    /// (no search on every pong): the one waiting is its connection's pending ping.
    std::deque<std::size_t> waiting_;
    bool full_ = false;
    std::uint64_t work_ = 0;
};

}  // namespace sipsleuth::core
