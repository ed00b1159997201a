// SPDX-License-Identifier: GPL-2.0-or-later
// Per-frame verdicts. Analysis runs once, on the first pass (!PINFO_FD_VISITED), and stores what it
// concluded here; later passes (tshark -2, the GUI re-dissecting packets in any order) only render.
// A finding learnt later (a NOTIFY reset by TCP, a SEND never answered) is written back onto the
// frame it is about, so a second pass shows it there too. Entries live in C++ memory owned by the
// store, which its protocol clears at the start and end of each capture (never in wmem: C++ objects
// must have their destructors run).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

/// The verdicts of frames, keyed by (frame, slot). Verdicts sit in a deque (put() never moves one: a
/// pointer stays valid until the store is cleared) and are found through an open-addressing index of
/// 16-byte slots: no heap block per verdict, so filling the store allocates a block per 512 bytes of
/// verdicts, and clearing it frees those blocks instead of one node per verdict (a std::unordered_map
/// did: a malloc and a free per frame with a verdict, measured in the SIP-heavy benchmark's cleanup).
template <class Verdict>
class FrameStore {
public:
    /// Clears itself whenever proto starts or ends a capture; bounded by max_entries (0: no bound).
    explicit FrameStore(Protocol& proto, std::size_t max_entries = 0) : max_(max_entries) {
        proto.on_init([this] { clear(); });
        proto.on_cleanup([this] { release(); });
    }
    /// Bounded by a preference, read when each capture starts (0: no bound).
    FrameStore(Protocol& proto, const UintPref& bound) : max_(bound.value()) {
        proto.on_init([this, &bound] {
            clear();
            max_ = bound.value();
        });
        proto.on_cleanup([this] { release(); });
    }

    /// The verdict for (frame, slot), or nullptr. slot tells apart several messages in one frame.
    const Verdict* find(std::uint32_t frame, std::uint32_t slot = 0) const {
        const std::uint32_t i = lookup(key(frame, slot));
        return i == 0 ? nullptr : &items_[i - 1];
    }
    Verdict* find_mutable(std::uint32_t frame, std::uint32_t slot = 0) {
        const std::uint32_t i = lookup(key(frame, slot));
        return i == 0 ? nullptr : &items_[i - 1];
    }
    /// Stores v; returns nullptr (and stores nothing) when the bound is reached.
    Verdict* put(std::uint32_t frame, std::uint32_t slot, Verdict v) {
        const std::uint64_t k = key(frame, slot);
        if (const std::uint32_t i = lookup(k)) return &(items_[i - 1] = std::move(v));
        if ((max_ && items_.size() >= max_) || items_.size() >= kMaxItems) return nullptr;
        items_.push_back(std::move(v));
        insert(k, static_cast<std::uint32_t>(items_.size()));
        return &items_.back();
    }
    std::size_t size() const { return items_.size(); }
    bool full() const { return max_ && items_.size() >= max_; }

private:
    struct Slot {
        std::uint64_t key = 0;
        std::uint32_t item = 0;  ///< index in items_ + 1; 0: an empty slot
    };
    static constexpr std::size_t kMaxItems = 0xFFFFFFFEu;  // item indexes are 32-bit

    static std::uint64_t key(std::uint32_t frame, std::uint32_t slot) {
        return (static_cast<std::uint64_t>(frame) << 32) | slot;
    }
    std::size_t home(std::uint64_t k) const {
        return static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
    }
    std::uint32_t lookup(std::uint64_t k) const {
        if (slots_.empty()) return 0;
        for (std::size_t i = home(k);; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.item == 0) return 0;
            if (s.key == k) return s.item;
        }
    }
    void insert(std::uint64_t k, std::uint32_t item) {
        if ((items_.size() + 1) * 2 > slots_.size()) grow();  // at most half full
        std::size_t i = home(k);
        while (slots_[i].item != 0) i = (i + 1) & mask_;
        slots_[i] = Slot{k, item};
    }
    void grow() {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(old.empty() ? 64 : old.size() * 2, Slot());
        mask_ = slots_.size() - 1;
        for (const Slot& s : old)
            if (s.item != 0) {
                std::size_t i = home(s.key);
                while (slots_[i].item != 0) i = (i + 1) & mask_;
                slots_[i] = s;
            }
    }
    void clear() {
        items_.clear();
        std::fill(slots_.begin(), slots_.end(), Slot());
    }
    void release() {
        std::deque<Verdict>().swap(items_);
        std::vector<Slot>().swap(slots_);
        mask_ = 0;
    }

    std::size_t max_;
    std::deque<Verdict> items_;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

/// Approximate heap bytes of the values a Verdict holds, for its retained_bytes().
inline std::size_t heap_bytes(const std::string& s) {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;  // past libstdc++'s short-string buffer
}
/// A vector's elements and, through each(element), what they hold on the heap.
template <class T, class Each>
std::size_t heap_bytes(const std::vector<T>& v, Each&& each) {
    std::size_t n = v.capacity() * sizeof(T);
    for (const T& e : v) n += each(e);
    return n;
}

/// The verdicts of a body dissector called by SIP or multipart (one body per frame and protocol layer):
/// each body is analysed once, on the first pass, and kept; revisits render the kept verdict. The store
/// is bounded in bytes by the preference `<abbr>.max_store_kib` (each verdict reports its approximate
/// retained size) and in bodies by `<abbr>.max_stored`, and owns its note `<abbr>.store_full`.
///
/// Decoded documents are a cache: while the store holds less than half its byte bound (and at most
/// kWholeKib) a verdict is kept whole; past that it is compacted at the end of its frame (the post-dissector has used the
/// document by then) to what cannot be rebuilt from the body's bytes (the results that span packets),
/// and a revisit analyses the bytes again and takes those results over. A hostile capture of large
/// documents thus costs at most the bound, and every body keeps its findings. Past the bound nothing
/// more is kept: a body is analysed again on every visit and the note says it is not kept for the
/// checks that span packets (DESIGN rule 4).
///
/// Verdict provides: `std::size_t retained_bytes() const` (approximate bytes it holds, itself
/// included); `void compact()` (drops what analyse() rebuilds from the bytes); `bool compacted() const`;
/// `void restore(const Verdict& kept)` (takes the cross-packet results of a compacted verdict over).
template <class Verdict>
class BodyStore {
public:
    /// Default byte bound: a capture of thousands of typical NOTIFY bodies keeps every document whole.
    static constexpr guint kDefaultKib = 32 * 1024;
    /// Most bytes of documents kept whole (a cache: a revisit decodes a compacted body again).
    static constexpr guint kWholeKib = 2 * 1024;

    /// abbr: the protocol's filter name; not_kept: what a body past the bound misses ("tracked across
    /// NOTIFYs"), completing "this body is decoded but not ...". Construct as a static object.
    BodyStore(Protocol& proto, const char* abbr, const char* not_kept)
        : proto_(proto),
          not_kept_(not_kept),
          bound_name_(std::string(abbr) + ".max_stored"),
          bytes_name_(std::string(abbr) + ".max_store_kib"),
          full_abbrev_(std::string(abbr) + ".store_full"),
          full_summary_("Body store full: body decoded but not " + not_kept_),
          bound_description_("Most bodies whose verdicts are kept for revisits and for the checks that span packets; "
                             "bodies past this are decoded again on each visit but not " + not_kept_ + "."),
          bytes_description_("Memory (KiB) kept for decoded bodies: whole documents up to half of it (at most "
                             "2048 KiB), then only "
                             "what revisits cannot decode again; bodies past it are decoded again on each visit but "
                             "not " + not_kept_ + "."),
          bound_(proto, "max_stored", "Bodies stored per capture", bound_description_.c_str(), 100000),
          bytes_bound_(proto, "max_store_kib", "Body store size (KiB)", bytes_description_.c_str(), kDefaultKib),
          full_(proto, full_abbrev_.c_str(), PI_UNDECODED, PI_NOTE, full_summary_.c_str()),
          store_(proto, bound_) {
        proto.on_init([this] { reset(); });
        proto.on_cleanup([this] {
            reset();
            unsettled_.shrink_to_fit();
        });
    }
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
        guard(proto_, pinfo, item, [&] { settle_before(pinfo->num); });
        if (const Verdict* kept = store_.find(pinfo->num, slot)) {
            if (!kept->compacted()) {
                r.verdict = kept;
                return r;
            }
            // Decoded again from the bytes; the results that span packets come from the store.
            guard(proto_, pinfo, item, [&] {
                scratch_ = analyse();
                scratch_.restore(*kept);
                r.verdict = &scratch_;
            });
            return r;
        }
        guard(proto_, pinfo, item, [&] {
            Verdict fresh = analyse();
            // Kept only on the first pass with a tree: the pass whose wanted fields were primed.
            if (tree && !PINFO_FD_VISITED(pinfo) && !refused_ && !over_bytes()) {
                const std::size_t size = fresh.retained_bytes();
                if ((r.verdict = store_.put(pinfo->num, slot, std::move(fresh)))) {
                    bytes_ += size;
                    unsettled_.push_back({pinfo->num, slot, size});
                    r.fresh = true;
                    return;
                }
            }
            // Once a body is refused, no later one is kept: the checks across packets must not resume on
            // bodies that follow one they never saw (compacting may free room later).
            if (tree && !PINFO_FD_VISITED(pinfo)) refused_ = true;
            scratch_ = std::move(fresh);
            r.verdict = &scratch_;
        });
        if (r.verdict && !r.fresh && tree) {
            if (store_.full())
                expert_add_info_format(pinfo, item, full_.get(),
                                       "Body store full (%u bodies, preference %s): this body is decoded but not %s",
                                       bound_.value(), bound_name_.c_str(), not_kept_.c_str());
            else if (refused_)
                expert_add_info_format(pinfo, item, full_.get(),
                                       "Body store full (%u KiB, preference %s): this body is decoded but not %s",
                                       bytes_bound_.value(), bytes_name_.c_str(), not_kept_.c_str());
        }
        return r;
    }
    const Verdict* find(std::uint32_t frame, std::uint32_t slot) const { return store_.find(frame, slot); }
    /// The kept verdict, for the post-dissector of the same frame to complete (whole until settle()).
    Verdict* find_mutable(std::uint32_t frame, std::uint32_t slot) { return store_.find_mutable(frame, slot); }

    /// Ends the frame's bookkeeping: the sizes of the verdicts kept in it are taken again (the
    /// post-dissector added to them) and, past half the byte bound, they are compacted. Call at the end
    /// of the post-dissector; the next frame's first get() does it otherwise.
    void settle() {
        for (const Unsettled& u : unsettled_) {
            Verdict* v = store_.find_mutable(u.frame, u.slot);
            if (!v) continue;
            bytes_ -= std::min(bytes_, u.size);
            if (bytes_bound_.value() && bytes_ >= whole_bound()) v->compact();
            bytes_ += v->retained_bytes();
        }
        unsettled_.clear();
    }
    /// Approximate bytes held by the kept verdicts.
    std::size_t bytes() const { return bytes_; }

private:
    struct Unsettled {
        std::uint32_t frame, slot;
        std::size_t size;  ///< retained_bytes() when it was put
    };
    void settle_before(std::uint32_t frame) {
        if (!unsettled_.empty() && unsettled_.front().frame != frame) settle();
    }
    std::size_t byte_bound() const { return static_cast<std::size_t>(bytes_bound_.value()) * 1024; }
    /// Documents are kept whole up to half the byte bound, at most kWholeKib: kept whole, the 14,000
    /// NOTIFY bodies of 100,000 SIP-heavy packets held 26 MB and cost 9% more CPU time in tshark than
    /// decoding a body again on the rare revisit (measured with the bound at 2 MiB).
    std::size_t whole_bound() const { return std::min(byte_bound() / 2, std::size_t{kWholeKib} * 1024); }
    bool over_bytes() const { return bytes_bound_.value() && bytes_ >= byte_bound(); }
    void reset() {
        bytes_ = 0;
        refused_ = false;
        unsettled_.clear();
        scratch_ = Verdict();
    }

    Protocol& proto_;
    // The preferences and the expert keep pointers to these strings: built first, never changed.
    std::string not_kept_, bound_name_, bytes_name_, full_abbrev_, full_summary_, bound_description_,
        bytes_description_;
    UintPref bound_, bytes_bound_;
    Expert full_;
    FrameStore<Verdict> store_;
    std::size_t bytes_ = 0;
    bool refused_ = false;  ///< a body of this capture was not kept: none after it is
    std::vector<Unsettled> unsettled_;
    Verdict scratch_;  ///< the verdict of a body past the bound or rebuilt on a revisit, for this visit only
};

}  // namespace sipsleuth::wsglue
