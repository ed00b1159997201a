// SPDX-License-Identifier: GPL-2.0-or-later
// Lazy expiry for the transaction and dialog layers: one FIFO queue per delay class (a transaction
// without a final response waits 180 s, one with it 32 s), so each queue is ordered by time as long as
// message times are. Every change of an item's forget time pushes one entry; an entry is live while its
// time is the item's current forget time, and stale entries are dropped when they reach the front or by
// a compaction once they outnumber the live ones. Work is O(1) amortised per push; memory stays within
// twice the live items.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

#include "sipsleuth/core/time.h"

namespace sipsleuth::core::sip::detail {

template <std::size_t Classes>
class ExpiryQueues {
public:
    void push(std::size_t cls, Nanos at, std::uint32_t id) {
        queues_[cls].emplace_back(at, id);
        ++entries_;
    }

    /// Calls forget(id, at) for every entry due at `now` (at <= now), front first. forget decides
    /// whether the entry is live (and then forgets the item).
    template <class Forget>
    void expire(Nanos now, Forget forget, std::uint64_t& work) {
        for (auto& q : queues_) {
            while (!q.empty() && q.front().first <= now) {
                ++work;
                const auto [at, id] = q.front();
                q.pop_front();
                --entries_;
                forget(id, at);
            }
        }
    }

    /// Drops stale entries (live(id, at) false) once they outnumber the `live_items`.
    template <class Live>
    void compact(std::size_t live_items, Live live, std::uint64_t& work) {
        if (entries_ <= 2 * live_items + 16) return;
        entries_ = 0;
        for (auto& q : queues_) {
            std::deque<std::pair<Nanos, std::uint32_t>> kept;
            for (const auto& e : q) {
                ++work;
                if (live(e.second, e.first)) kept.push_back(e);
            }
            entries_ += kept.size();
            q.swap(kept);
        }
    }

    std::size_t entries() const { return entries_; }

private:
    std::array<std::deque<std::pair<Nanos, std::uint32_t>>, Classes> queues_;
    std::size_t entries_ = 0;
};

}  // namespace sipsleuth::core::sip::detail
