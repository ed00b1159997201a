// SPDX-License-Identifier: GPL-2.0-or-later
// Per-frame verdicts. Analysis runs once, on the first pass (!PINFO_FD_VISITED), and stores what it
// concluded here; later passes (tshark -2, the GUI re-dissecting packets in any order) only render.
// A finding learnt later (a NOTIFY reset by TCP, a SEND never answered) is written back onto the
// frame it is about, so a second pass shows it there too. Entries live in C++ memory owned by the
// store, which its protocol clears at the start and end of each capture (never in wmem: C++ objects
// must have their destructors run).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>

#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

template <class Verdict>
class FrameStore {
public:
    /// Clears itself whenever proto starts or ends a capture; bounded by max_entries (0: no bound).
    explicit FrameStore(Protocol& proto, std::size_t max_entries = 0) : max_(max_entries) {
        proto.on_init([this] { map_.clear(); });
        proto.on_cleanup([this] { map_ = {}; });
    }
    /// Bounded by a preference, read when each capture starts (0: no bound).
    FrameStore(Protocol& proto, const UintPref& bound) : max_(bound.value()) {
        proto.on_init([this, &bound] {
            map_.clear();
            max_ = bound.value();
        });
        proto.on_cleanup([this] { map_ = {}; });
    }

    /// The verdict for (frame, slot), or nullptr. slot tells apart several messages in one frame.
    const Verdict* find(std::uint32_t frame, std::uint32_t slot = 0) const {
        auto it = map_.find(key(frame, slot));
        return it == map_.end() ? nullptr : &it->second;
    }
    Verdict* find_mutable(std::uint32_t frame, std::uint32_t slot = 0) {
        auto it = map_.find(key(frame, slot));
        return it == map_.end() ? nullptr : &it->second;
    }
    /// Stores v; returns nullptr (and stores nothing) when the bound is reached.
    Verdict* put(std::uint32_t frame, std::uint32_t slot, Verdict v) {
        if (max_ && map_.size() >= max_ && !map_.count(key(frame, slot))) return nullptr;
        return &(map_[key(frame, slot)] = std::move(v));
    }
    std::size_t size() const { return map_.size(); }
    bool full() const { return max_ && map_.size() >= max_; }

private:
    static std::uint64_t key(std::uint32_t frame, std::uint32_t slot) {
        return (static_cast<std::uint64_t>(frame) << 32) | slot;
    }
    std::size_t max_;
    std::unordered_map<std::uint64_t, Verdict> map_;
};

}  // namespace sipsleuth::wsglue
