// SPDX-License-Identifier: GPL-2.0-or-later
// Per-frame verdicts. Analysis runs once, on the first pass (!PINFO_FD_VISITED), and stores what it
// concluded here; later passes (tshark -2, the GUI re-dissecting packets in any order) only render.
// A finding learnt later (a NOTIFY reset by TCP, a SEND never answered) is written back onto the
// frame it is about, so a second pass shows it there too. Entries live in C++ memory owned by the
// store, which its protocol clears at the start and end of each capture (never in wmem: C++ objects
// must have their destructors run).
#pragma once

#include <cstdint>
#include <string>
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

/// The verdicts of a body dissector called by SIP or multipart (one body per frame and protocol layer):
/// each body is analysed once, on the first pass, and kept; revisits render the kept verdict. The store
/// owns its bound, the preference `<abbr>.max_stored`, and its note `<abbr>.store_full`: past the bound
/// a body is analysed again on every visit and the note says it is not kept for the checks that span
/// packets (DESIGN rule 4).
template <class Verdict>
class BodyStore {
public:
    /// abbr: the protocol's filter name; not_kept: what a body past the bound misses ("tracked across
    /// NOTIFYs"), completing "this body is decoded but not ...". Construct as a static object.
    BodyStore(Protocol& proto, const char* abbr, const char* not_kept)
        : proto_(proto),
          not_kept_(not_kept),
          bound_name_(std::string(abbr) + ".max_stored"),
          full_abbrev_(std::string(abbr) + ".store_full"),
          full_summary_("Body store full: body decoded but not " + not_kept_),
          bound_description_("Decoded bodies kept for revisits and for the checks that span packets; bodies past "
                             "this are decoded again on each visit but not " + not_kept_ + "."),
          bound_(proto, "max_stored", "Bodies stored per capture", bound_description_.c_str(), 100000),
          full_(proto, full_abbrev_.c_str(), PI_UNDECODED, PI_NOTE, full_summary_.c_str()),
          store_(proto, bound_) {}
    BodyStore(const BodyStore&) = delete;
    BodyStore& operator=(const BodyStore&) = delete;

    struct Result {
        const Verdict* verdict = nullptr;  ///< nullptr when the analysis failed (guard reported it on item)
        bool fresh = false;                ///< analysed and kept on this visit (the first pass)
    };

    /// The verdict of the body being dissected; analyse() -> Verdict runs inside guard().
    template <class Analyse>
    Result get(packet_info* pinfo, proto_tree* tree, proto_item* item, Analyse&& analyse) {
        const std::uint32_t slot = pinfo->curr_proto_layer_num;
        Result r;
        if ((r.verdict = store_.find(pinfo->num, slot))) return r;
        guard(proto_, pinfo, item, [&] {
            Verdict fresh = analyse();
            // Kept only on the first pass with a tree: the pass whose wanted fields were primed.
            if (tree && !PINFO_FD_VISITED(pinfo) && (r.verdict = store_.put(pinfo->num, slot, std::move(fresh)))) {
                r.fresh = true;
                return;
            }
            scratch_ = std::move(fresh);
            r.verdict = &scratch_;
        });
        if (r.verdict && !r.fresh && tree && store_.full())
            expert_add_info_format(pinfo, item, full_.get(),
                                   "Body store full (%u bodies, preference %s): this body is decoded but not %s",
                                   bound_.value(), bound_name_.c_str(), not_kept_.c_str());
        return r;
    }
    const Verdict* find(std::uint32_t frame, std::uint32_t slot) const { return store_.find(frame, slot); }
    Verdict* find_mutable(std::uint32_t frame, std::uint32_t slot) { return store_.find_mutable(frame, slot); }

private:
    Protocol& proto_;
    // The preference and the expert keep pointers to these strings: built first, never changed.
    std::string not_kept_, bound_name_, full_abbrev_, full_summary_, bound_description_;
    UintPref bound_;
    Expert full_;
    FrameStore<Verdict> store_;
    Verdict scratch_;  ///< the verdict of a body past the bound, for this visit only
};

}  // namespace sipsleuth::wsglue
