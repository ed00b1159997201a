// SPDX-License-Identifier: GPL-2.0-or-later
// SIP transport flows as siptrack sees them: a TCP connection (Wireshark's tcp.stream) or a UDP
// 5-tuple (udp.stream), with per-side last traffic, FIN and RST, and whether each side sent SIP
// requests there. Field case 000 needs exactly these facts: a notifier that keeps writing to a
// connection the phone abandoned after a reboot (RFC 5626 section 3 explains why a UA's flows matter;
// RFC 6665 section 4.1.3 lets NOTIFYs take any route the dialog allows). Bounded: a table that is full
// tracks no new flow and says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/time.h"

namespace sipsleuth::core {

enum class Transport : std::uint8_t { tcp, udp };

/// An address (as text, IPv4 or IPv6) and port.
struct Endpoint {
    std::string address;
    std::uint16_t port = 0;
    bool operator==(const Endpoint& o) const { return port == o.port && address == o.address; }
    bool operator!=(const Endpoint& o) const { return !(*this == o); }
};

/// One packet's transport facts (Wireshark's tcp.stream or udp.stream index and TCP flags).
struct FlowPacket {
    Transport transport = Transport::tcp;
    std::uint32_t stream = 0;
    Endpoint src, dst;
    bool syn = false, fin = false, rst = false;
};

/// A flow and a direction on it: "tcp.stream 3 10.1.1.5:5060 -> 10.1.1.20:1033".
struct FlowRef {
    Transport transport = Transport::tcp;
    std::uint32_t stream = 0;
    Endpoint src, dst;
    bool same_flow(const FlowRef& o) const { return transport == o.transport && stream == o.stream; }
};

/// The flow as users filter it: `tcp.stream N a:p -> b:p` (IPv6 addresses in brackets).
std::string describe(const FlowRef& flow);

/// What is known of one flow. Sides are 0 (the endpoint first seen sending) and 1.
struct Flow {
    Transport transport = Transport::tcp;
    std::uint32_t stream = 0;
    Endpoint ends[2];
    std::uint32_t first_frame = 0;
    Nanos first_time = 0;
    /// Per side: last packet (any, pure ACKs included), FIN, RST, SIP requests sent.
    std::uint32_t last_frame[2] = {0, 0};
    Nanos last_time[2] = {0, 0};
    bool seen[2] = {false, false};
    std::optional<std::uint32_t> fin_frame[2], rst_frame[2];
    Nanos closed_time[2] = {0, 0};
    std::optional<std::uint32_t> first_request_frame[2];
    Nanos first_request_time[2] = {0, 0};
    /// Per side: the first REGISTER or SUBSCRIBE of each user (normalised From URI) sent on the flow, at
    /// most kMaxUsers: a phone with several lines or a registration connection besides its subscription
    /// connection is not a phone that abandoned a connection (the stale-flow finding asks for the same user).
    struct UserRequest {
        std::string user;
        std::uint32_t frame = 0;
        Nanos time = 0;
    };
    static constexpr std::size_t kMaxUsers = 8;
    std::vector<UserRequest> users[2];

    /// 0 or 1 for an endpoint of this flow, -1 otherwise.
    int side_of(const Endpoint& e) const;
    /// Closed or reset by side (before or at the moment asked: callers check times).
    bool closed_by(int side) const { return fin_frame[side] || rst_frame[side]; }
    bool closed() const { return closed_by(0) || closed_by(1); }
    FlowRef ref(int from_side) const;
};

/// Every tracked flow by (transport, stream index); a full table tracks no new flow. The questions the
/// stale-flow finding asks per NOTIFY (newer_flow_of_user, live_flow_between) are answered from indexes
/// kept up to date as packets are recorded, never by a scan of the flows between two hosts (a flapping
/// phone opens thousands of connections to one server).
class FlowTable {
public:
    explicit FlowTable(std::size_t max_flows) : max_(max_flows) {}

    FlowTable(const FlowTable&) = delete;  ///< the indexes point into the table
    FlowTable& operator=(const FlowTable&) = delete;

    /// The tracked flow of a packet, or nullptr.
    Flow* find(Transport t, std::uint32_t stream);
    const Flow* find(Transport t, std::uint32_t stream) const {
        auto it = flows_.find(key(t, stream));
        return it == flows_.end() ? nullptr : &it->second.flow;
    }
    /// Whether the flow is tracked (for a post-dissector deciding cheaply whether a packet matters).
    bool contains(Transport t, std::uint32_t stream) const { return flows_.count(key(t, stream)) != 0; }
    /// Records a packet on its flow, creating the flow when `create` (a SIP message) and there is
    /// room; `sip_request` marks a SIP request sent by the packet's source, `user` (non-empty for a
    /// REGISTER or SUBSCRIBE: its normalised From URI) the user it speaks for. nullptr when untracked.
    Flow* record(const FlowPacket& p, std::uint32_t frame, Nanos time, bool create, bool sip_request,
                 const std::string& user = std::string()) {
        return record(p.transport, p.stream, p.src, p.dst, p.fin, p.rst, frame, time, create, sip_request, user);
    }
    /// The same for a SIP message's flow and direction (no flags: its packet was recorded first).
    Flow* record(const FlowRef& f, std::uint32_t frame, Nanos time, bool create, bool sip_request,
                 const std::string& user = std::string()) {
        return record(f.transport, f.stream, f.src, f.dst, false, false, frame, time, create, sip_request, user);
    }
    /// The newest flow other than `except`, of transport t, whose first SIP request came from host
    /// `from` to host `to` at or after `after`; nullptr when none. Scans the host pair's flows (tests only).
    const Flow* newer_flow_from(Transport t, const std::string& from, const std::string& to, Nanos after,
                                const Flow* except) const;
    /// Like newer_flow_from, but only a REGISTER or SUBSCRIBE of `user` (as passed to record) counts;
    /// `*frame` is that request's frame.
    const Flow* newer_flow_of_user(Transport t, const std::string& from, const std::string& to, const std::string& user,
                                   Nanos after, const Flow* except, std::uint32_t* frame) const;
    /// The most recently active live flow (no FIN/RST) between hosts `a` and `b`, other than except.
    const Flow* live_flow_between(Transport t, const std::string& a, const std::string& b, const Flow* except) const;
    std::size_t size() const { return flows_.size(); }
    /// True once a flow could not be tracked because the table was full.
    bool overflowed() const { return overflowed_; }
    /// Index entries the queries looked at so far (for tests proving they do not scan).
    std::uint64_t work_done() const { return work_; }

private:
    static std::uint64_t key(Transport t, std::uint32_t stream) {
        return (static_cast<std::uint64_t>(t) << 32) | stream;
    }
    Flow* record(Transport t, std::uint32_t stream, const Endpoint& src, const Endpoint& dst, bool fin, bool rst,
                 std::uint32_t frame, Nanos time, bool create, bool sip_request, const std::string& user);
    static std::string pair_key(const std::string& a, const std::string& b) { return a < b ? a + '|' + b : b + '|' + a; }

    /// A live (neither FIN nor RST) flow by its latest traffic: newest first, then oldest flow first
    /// (the order of a scan that keeps the first of equal times).
    struct LiveKey {
        Nanos neg_last;
        std::uint32_t seq;
        const Flow* flow;
        bool operator<(const LiveKey& o) const { return neg_last != o.neg_last ? neg_last < o.neg_last : seq < o.seq; }
    };
    using LiveSet = std::set<LiveKey>;
    struct HostPair {
        std::vector<std::uint64_t> flows;  ///< in creation order
        LiveSet live[2];                   ///< by transport
    };
    struct Entry {
        Flow flow;
        std::uint32_t seq = 0;  ///< creation order
        HostPair* pair = nullptr;
        bool live_indexed = false;
        LiveSet::iterator live_pos;
    };
    /// One REGISTER or SUBSCRIBE user's first request on a flow, as a candidate answer of
    /// newer_flow_of_user; better: later, then the order of a scan (flow creation, side, user).
    struct UserCandidate {
        Nanos time = 0;
        std::uint32_t seq = 0, frame = 0;
        std::uint8_t side = 0, user = 0;
        const Flow* flow = nullptr;
        bool better_than(const UserCandidate& o) const;
    };
    /// The best candidate and the best one on another flow (a query excludes at most one flow).
    struct UserTop {
        UserCandidate best[2];
        std::uint8_t count = 0;
        void add(const UserCandidate& c);
    };
    static std::string user_key(Transport t, const std::string& from, const std::string& to, const std::string& user);
    void update_live(Entry& e);

    std::size_t max_;
    bool overflowed_ = false;
    std::uint32_t next_seq_ = 0;
    mutable std::uint64_t work_ = 0;
    std::unordered_map<std::uint64_t, Entry> flows_;
    std::unordered_map<std::string, HostPair> by_hosts_;  ///< host pair -> flows
    std::unordered_map<std::string, UserTop> users_;      ///< transport, from, to, user -> best requests
};

}  // namespace sipsleuth::core
