// SPDX-License-Identifier: GPL-2.0-or-later
// See flow.h. Flows are found by Wireshark's own stream index, so TCP port reuse after a close and
// retransmissions are Wireshark's call, not ours; the host-pair index serves the "newer connection
// from the same phone" question of the stale-flow finding.
#include "sipsleuth/core/flow.h"

#include <algorithm>
#include <charconv>

namespace sipsleuth::core {

namespace {
void append_number(std::string& out, std::uint32_t n) {
    char buf[16];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, r.ptr);
}
void append_endpoint(std::string& out, const Endpoint& e) {
    const bool v6 = e.address.find(':') != std::string::npos;
    if (v6) out += '[';
    out += e.address;
    if (v6) out += ']';
    out += ':';
    append_number(out, e.port);
}
}  // namespace

// Built in one buffer: siptrack renders two flow names on every subscription message (measured: the
// version made of temporaries was a visible share of the post-dissector's cost).
std::string describe(const FlowRef& flow) {
    std::string out;
    out.reserve(24 + 2 * (flow.src.address.size() + 8));
    out += flow.transport == Transport::tcp ? "tcp.stream " : "udp.stream ";
    append_number(out, flow.stream);
    out += ' ';
    append_endpoint(out, flow.src);
    out += " -> ";
    append_endpoint(out, flow.dst);
    return out;
}

int Flow::side_of(const Endpoint& e) const {
    if (e == ends[0]) return 0;
    if (e == ends[1]) return 1;
    return -1;
}

FlowRef Flow::ref(int from_side) const {
    return FlowRef{transport, stream, ends[from_side], ends[1 - from_side]};
}

Flow* FlowTable::find(Transport t, std::uint32_t stream) {
    auto it = flows_.find(key(t, stream));
    return it == flows_.end() ? nullptr : &it->second;
}

Flow* FlowTable::record(const FlowPacket& p, std::uint32_t frame, double time, bool create, bool sip_request,
                        const std::string& user) {
    Flow* f = find(p.transport, p.stream);
    if (!f) {
        if (!create) return nullptr;
        if (flows_.size() >= max_) {
            overflowed_ = true;
            return nullptr;
        }
        Flow fresh;
        fresh.transport = p.transport;
        fresh.stream = p.stream;
        fresh.ends[0] = p.src;
        fresh.ends[1] = p.dst;
        fresh.first_frame = frame;
        fresh.first_time = time;
        const std::uint64_t k = key(p.transport, p.stream);
        f = &flows_.emplace(k, std::move(fresh)).first->second;
        by_hosts_[pair_key(p.src.address, p.dst.address)].push_back(k);
    }
    int side = f->side_of(p.src);
    if (side < 0) side = 0;  // Wireshark put it on this stream: trust the index
    f->last_frame[side] = frame;
    f->last_time[side] = time;
    f->seen[side] = true;
    if (p.fin && !f->fin_frame[side]) {
        f->fin_frame[side] = frame;
        if (!f->rst_frame[side]) f->closed_time[side] = time;
    }
    if (p.rst && !f->rst_frame[side]) {
        f->rst_frame[side] = frame;
        if (!f->fin_frame[side]) f->closed_time[side] = time;
    }
    if (sip_request && !f->first_request_frame[side]) {
        f->first_request_frame[side] = frame;
        f->first_request_time[side] = time;
    }
    if (sip_request && !user.empty() && f->users[side].size() < Flow::kMaxUsers &&
        std::none_of(f->users[side].begin(), f->users[side].end(),
                     [&](const Flow::UserRequest& u) { return u.user == user; }))
        f->users[side].push_back({user, frame, time});
    return f;
}

const Flow* FlowTable::newer_flow_from(Transport t, const std::string& from, const std::string& to, double after,
                                       const Flow* except) const {
    auto it = by_hosts_.find(pair_key(from, to));
    if (it == by_hosts_.end()) return nullptr;
    const Flow* best = nullptr;
    double best_time = 0;
    for (std::uint64_t k : it->second) {
        const Flow& f = flows_.at(k);
        if (&f == except || f.transport != t) continue;
        for (int side = 0; side < 2; ++side) {
            if (f.ends[side].address != from || f.ends[1 - side].address != to || !f.first_request_frame[side]) continue;
            const double when = f.first_request_time[side];
            if (when >= after && (!best || when > best_time)) {
                best = &f;
                best_time = when;
            }
        }
    }
    return best;
}

const Flow* FlowTable::newer_flow_of_user(Transport t, const std::string& from, const std::string& to,
                                          const std::string& user, double after, const Flow* except,
                                          std::uint32_t* frame) const {
    auto it = by_hosts_.find(pair_key(from, to));
    if (it == by_hosts_.end()) return nullptr;
    const Flow* best = nullptr;
    double best_time = 0;
    for (std::uint64_t k : it->second) {
        const Flow& f = flows_.at(k);
        if (&f == except || f.transport != t) continue;
        for (int side = 0; side < 2; ++side) {
            if (f.ends[side].address != from || f.ends[1 - side].address != to) continue;
            for (const Flow::UserRequest& u : f.users[side]) {
                if (u.user != user || u.time < after || (best && u.time <= best_time)) continue;
                best = &f;
                best_time = u.time;
                if (frame) *frame = u.frame;
            }
        }
    }
    return best;
}

const Flow* FlowTable::live_flow_between(Transport t, const std::string& a, const std::string& b,
                                         const Flow* except) const {
    auto it = by_hosts_.find(pair_key(a, b));
    if (it == by_hosts_.end()) return nullptr;
    const Flow* best = nullptr;
    for (std::uint64_t k : it->second) {
        const Flow& f = flows_.at(k);
        if (&f == except || f.transport != t || f.closed()) continue;
        const double last = std::max(f.last_time[0], f.last_time[1]);
        if (!best || last > std::max(best->last_time[0], best->last_time[1])) best = &f;
    }
    return best;
}

}  // namespace sipsleuth::core
