// SPDX-License-Identifier: GPL-2.0-or-later
// Lazy expiry for the transaction and dialog layers: one FIFO queue per delay class (a transaction
// without a final response waits 180 s, one with it 32 s), so each queue is ordered by time as long as
// message times are. Every change of an item's forget time pushes one entry; an entry is live while its
// time is the item's current forget time, and stale entries are dropped when they reach the front or by
// a compaction once they outnumber the live ones. Work is O(1) amortised per push; memory stays within
// twice the live items. Each queue is a ring buffer that only grows (power-of-two capacity) and is
// compacted in place: no allocation per push once grown.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sipsleuth/core/time.h"

namespace sipsleuth::core::sip::detail {

/// A FIFO of T in a power-of-two ring.
template <class T>
class Ring {
public:
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    const T& front() const { return items_[head_]; }
    T& front() { return items_[head_]; }
    const T& at(std::size_t i) const { return items_[(head_ + i) & mask_]; }
    T& at(std::size_t i) { return items_[(head_ + i) & mask_]; }
    const T& back() const { return at(count_ - 1); }
    void push_back(const T& v) {
        if (count_ == items_.size()) grow();
        items_[(head_ + count_) & mask_] = v;
        ++count_;
    }
    void pop_front() {
        head_ = (head_ + 1) & mask_;
        --count_;
    }
    /// Keeps the items for which keep(item) is true, in order.
    template <class Keep>
    void keep_if(Keep keep) {
        std::size_t out = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            const T& v = at(i);
            if (keep(v)) {
                if (out != i) at(out) = v;
                ++out;
            }
        }
        count_ = out;
    }
    void clear() {
        head_ = 0;
        count_ = 0;
    }

private:
    void grow() {
        std::vector<T> bigger(items_.empty() ? 16 : items_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = at(i);
        items_.swap(bigger);
        mask_ = items_.size() - 1;
        head_ = 0;
    }
    std::vector<T> items_;
    std::size_t head_ = 0, count_ = 0, mask_ = 0;
};

template <std::size_t Classes>
class ExpiryQueues {
public:
    void push(std::size_t cls, Nanos at, std::uint32_t id) {
        queues_[cls].push_back({at, id});
        ++entries_;
        if (at < due_) due_ = at;
    }

    /// Calls forget(id, at) for every entry due at `now` (at <= now), front first. forget decides
    /// whether the entry is live (and then forgets the item). Called on every message: inline while
    /// nothing is due.
    template <class Forget>
    void expire(Nanos now, Forget forget, std::uint64_t& work) {
        if (now >= due_) expire_due(now, forget, work);
    }

    /// Drops stale entries (live(id, at) false) once they outnumber the `live_items`.
    template <class Live>
    void compact(std::size_t live_items, Live live, std::uint64_t& work) {
        if (entries_ <= 2 * live_items + 16) return;
        entries_ = 0;
        for (auto& q : queues_) {
            q.keep_if([&](const Item& e) {
                ++work;
                return live(e.id, e.at);
            });
            entries_ += q.size();
        }
    }

    std::size_t entries() const { return entries_; }

private:
    struct Item {
        Nanos at = 0;
        std::uint32_t id = 0;
    };
    template <class Forget>
    void expire_due(Nanos now, Forget forget, std::uint64_t& work) {
        due_ = kNever;
        for (auto& q : queues_) {
            while (!q.empty() && q.front().at <= now) {
                ++work;
                const Item it = q.front();
                q.pop_front();
                --entries_;
                forget(it.id, it.at);
            }
            if (!q.empty() && q.front().at < due_) due_ = q.front().at;
        }
    }
    static constexpr Nanos kNever = std::numeric_limits<Nanos>::max();
    std::array<Ring<Item>, Classes> queues_;
    std::size_t entries_ = 0;
    // No queue's front is due before this (a lower bound: pushes lower it, expire_due recomputes it), so
    // a message with nothing due looks at no queue.
    Nanos due_ = kNever;
};

}  // namespace sipsleuth::core::sip::detail
