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
    return it == flows_.end() ? nullptr : &it->second.flow;
}

bool FlowTable::UserCandidate::better_than(const UserCandidate& o) const {
    if (time != o.time) return time > o.time;
    if (seq != o.seq) return seq < o.seq;
    if (side != o.side) return side < o.side;
    return user < o.user;
}

void FlowTable::UserTop::add(const UserCandidate& c) {
    if (count == 0) {
        best[0] = c;
        count = 1;
    } else if (c.better_than(best[0])) {
        if (c.flow != best[0].flow) {
            best[1] = best[0];
            count = 2;
        }
        best[0] = c;
    } else if (c.flow != best[0].flow && (count == 1 || c.better_than(best[1]))) {
        best[1] = c;
        count = 2;
    }
}

std::string FlowTable::user_key(Transport t, const std::string& from, const std::string& to, const std::string& user) {
    std::string k;
    k.reserve(from.size() + to.size() + user.size() + 4);
    k += t == Transport::tcp ? 't' : 'u';
    k += from;
    k += '\n';
    k += to;
    k += '\n';
    k += user;
    return k;
}

// Keeps a live flow at its place in its host pair's LiveSet. Times only grow in a capture, so the flow
// goes to the front: the hint makes that amortised O(1).
void FlowTable::update_live(Entry& e) {
    Flow& f = e.flow;
    LiveSet& set = e.pair->live[static_cast<int>(f.transport)];
    if (f.closed()) {
        if (e.live_indexed) set.erase(e.live_pos);
        e.live_indexed = false;
        return;
    }
    const Nanos neg_last = -std::max(f.last_time[0], f.last_time[1]);
    if (e.live_indexed) {
        if (e.live_pos->neg_last == neg_last) return;
        auto node = set.extract(e.live_pos);
        node.value().neg_last = neg_last;
        e.live_pos = set.insert(set.begin(), std::move(node));
    } else {
        e.live_pos = set.insert(set.begin(), LiveKey{neg_last, e.seq, &f});
        e.live_indexed = true;
    }
}

Flow* FlowTable::record(Transport t, std::uint32_t stream, const Endpoint& src, const Endpoint& dst, bool fin,
                        bool rst, std::uint32_t frame, Nanos time, bool create, bool sip_request,
                        const std::string& user) {
    auto found = flows_.find(key(t, stream));
    Entry* e = found == flows_.end() ? nullptr : &found->second;
    if (!e) {
        if (!create) return nullptr;
        if (flows_.size() >= max_) {
            overflowed_ = true;
            return nullptr;
        }
        Entry fresh;
        fresh.flow.transport = t;
        fresh.flow.stream = stream;
        fresh.flow.ends[0] = src;
        fresh.flow.ends[1] = dst;
        fresh.flow.first_frame = frame;
        fresh.flow.first_time = time;
        fresh.seq = next_seq_++;
        const std::uint64_t k = key(t, stream);
        e = &flows_.emplace(k, std::move(fresh)).first->second;
        e->pair = &by_hosts_[pair_key(src.address, dst.address)];
        e->pair->flows.push_back(k);
    }
    Flow* f = &e->flow;
    int side = f->side_of(src);
    if (side < 0) side = 0;  // Wireshark put it on this stream: trust the index
    f->last_frame[side] = frame;
    f->last_time[side] = time;
    f->seen[side] = true;
    if (fin && !f->fin_frame[side]) {
        f->fin_frame[side] = frame;
        if (!f->rst_frame[side]) f->closed_time[side] = time;
    }
    if (rst && !f->rst_frame[side]) {
        f->rst_frame[side] = frame;
        if (!f->fin_frame[side]) f->closed_time[side] = time;
    }
    if (sip_request && !f->first_request_frame[side]) {
        f->first_request_frame[side] = frame;
        f->first_request_time[side] = time;
    }
    if (sip_request && !user.empty() && f->users[side].size() < Flow::kMaxUsers &&
        std::none_of(f->users[side].begin(), f->users[side].end(),
                     [&](const Flow::UserRequest& u) { return u.user == user; })) {
        UserCandidate c;
        c.time = time;
        c.seq = e->seq;
        c.frame = frame;
        c.side = static_cast<std::uint8_t>(side);
        c.user = static_cast<std::uint8_t>(f->users[side].size());
        c.flow = f;
        users_[user_key(f->transport, f->ends[side].address, f->ends[1 - side].address, user)].add(c);
        f->users[side].push_back({user, frame, time});
    }
    update_live(*e);
    return f;
}

const Flow* FlowTable::newer_flow_from(Transport t, const std::string& from, const std::string& to, Nanos after,
                                       const Flow* except) const {
    auto it = by_hosts_.find(pair_key(from, to));
    if (it == by_hosts_.end()) return nullptr;
    const Flow* best = nullptr;
    Nanos best_time = 0;
    for (std::uint64_t k : it->second.flows) {
        const Flow& f = flows_.at(k).flow;
        if (&f == except || f.transport != t) continue;
        for (int side = 0; side < 2; ++side) {
            if (f.ends[side].address != from || f.ends[1 - side].address != to || !f.first_request_frame[side]) continue;
            const Nanos when = f.first_request_time[side];
            if (when >= after && (!best || when > best_time)) {
                best = &f;
                best_time = when;
            }
        }
    }
    return best;
}

const Flow* FlowTable::newer_flow_of_user(Transport t, const std::string& from, const std::string& to,
                                          const std::string& user, Nanos after, const Flow* except,
                                          std::uint32_t* frame) const {
    // The latest such request on a flow other than except, first in scan order among equal times.
    auto it = users_.find(user_key(t, from, to, user));
    if (it == users_.end()) return nullptr;
    const UserTop& top = it->second;
    for (std::uint8_t i = 0; i < top.count; ++i) {
        ++work_;
        const UserCandidate& c = top.best[i];
        if (c.flow == except) continue;
        if (c.time < after) return nullptr;
        if (frame) *frame = c.frame;
        return c.flow;
    }
    return nullptr;
}

const Flow* FlowTable::live_flow_between(Transport t, const std::string& a, const std::string& b,
                                         const Flow* except) const {
    auto it = by_hosts_.find(pair_key(a, b));
    if (it == by_hosts_.end()) return nullptr;
    for (const LiveKey& k : it->second.live[static_cast<int>(t)]) {
        ++work_;
        if (k.flow != except) return k.flow;
    }
    return nullptr;
}

}  // namespace sipsleuth::core
