// SPDX-License-Identifier: GPL-2.0-or-later
// Internal to the core: the hashing and the tables the transaction and dialog layers look keys up in,
// once per SIP message, and the pool their items live in (the subscription, fork and dialog-info
// trackers hash their keys with the same Hasher). A key (a transaction's branch and method; a dialog's
// Call-ID and tags) is never stored as text: it is reduced to a 128-bit fingerprint by two independent
// 64-bit hashes, so a look-up hashes the key's bytes once and compares two words. Two distinct keys
// merge only when both hashes collide (odds below 2^-100 per pair). The tables are open addressing with
// linear probing and backward-shift deletion (no tombstones), power-of-two sized at most half full: no
// allocation per look-up, insertion or erasure once grown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

namespace sipsleuth::core::sip::detail {

/// Two 64-bit hashes of the same bytes.
struct Fingerprint {
    std::uint64_t a = 0, b = 0;
    bool operator==(const Fingerprint& o) const { return a == o.a && b == o.b; }
    bool operator!=(const Fingerprint& o) const { return !(*this == o); }
};

/// Builds a Fingerprint from strings and numbers (a multiply and a rotation per 8 bytes and hash). The
/// length of every string is mixed in first, so ("ab", "c") and ("a", "bc") differ; a tail shorter than
/// 8 bytes is read by overlapping loads (all its bytes, for a given length).
class Hasher {
public:
    Hasher() = default;
    Hasher& add(std::string_view s) {
        const char* p = s.data();
        std::size_t n = s.size();
        word(n);  // the length first: the tail below is read by overlapping loads
        for (; n >= 8; n -= 8, p += 8) word(load<std::uint64_t>(p));
        if (n >= 4) {
            word(load<std::uint32_t>(p) | static_cast<std::uint64_t>(load<std::uint32_t>(p + n - 4)) << 32);
        } else if (n > 0) {
            const auto b = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])); };
            word(b(0) | b(n / 2) << 8 | b(n - 1) << 16);
        }
        return *this;
    }
    Hasher& add(std::uint64_t n) {
        word(n);
        return *this;
    }
    Fingerprint done() const {
        // A final avalanche of each hash (the last word's bits reach the low bits used as table index).
        return {fmix(a_ ^ 0x9E3779B97F4A7C15ull), fmix(b_ ^ 0xC2B2AE3D27D4EB4Full)};
    }

private:
    template <class W>
    static W load(const char* p) {
        W w;
        std::memcpy(&w, p, sizeof w);
        return w;
    }
    static std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
    static std::uint64_t fmix(std::uint64_t k) {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdull;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53ull;
        k ^= k >> 33;
        return k;
    }
    void word(std::uint64_t w) {
        a_ = rotl((a_ ^ w) * 0x9E3779B97F4A7C15ull, 29);
        b_ = rotl((b_ + w) * 0xD6E8FEB86659FD93ull, 31);
    }
    std::uint64_t a_ = 0xcbf29ce484222325ull, b_ = 0x84222325cbf29ce4ull;
};

/// A map from Fingerprint to a non-zero 32-bit value (an id or a slot + 1).
class FlatIndex {
public:
    /// The value of `k`, or 0.
    std::uint32_t find(const Fingerprint& k) const {
        if (slots_.empty()) return 0;
        for (std::size_t i = k.a & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.value == 0) return 0;
            if (s.key == k) return s.value;
        }
    }
    /// Sets the value of `k` (value != 0), replacing any.
    void put(const Fingerprint& k, std::uint32_t value) {
        if ((size_ + 1) * 2 > slots_.size()) grow();
        for (std::size_t i = k.a & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.value == 0) {
                s.key = k;
                s.value = value;
                ++size_;
                return;
            }
            if (s.key == k) {
                s.value = value;
                return;
            }
        }
    }
    /// Erases `k` when its value is `value` (another item may have taken the key over since).
    void erase(const Fingerprint& k, std::uint32_t value) {
        if (slots_.empty()) return;
        std::size_t i = k.a & mask_;
        for (;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.value == 0) return;
            if (s.key == k) break;
        }
        if (slots_[i].value != value) return;
        // Backward shift: later members of the probe run move into the hole when it lies on their path.
        for (std::size_t j = i;;) {
            j = (j + 1) & mask_;
            if (slots_[j].value == 0) break;
            const std::size_t home = slots_[j].key.a & mask_;
            if (((j - home) & mask_) >= ((j - i) & mask_)) {
                slots_[i] = slots_[j];
                i = j;
            }
        }
        slots_[i] = Slot();
        --size_;
    }
    std::size_t size() const { return size_; }
    void clear() {
        slots_.clear();
        size_ = 0;
        mask_ = 0;
    }

private:
    struct Slot {
        Fingerprint key;
        std::uint32_t value = 0;
    };
    void grow() {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.resize(old.empty() ? 64 : old.size() * 2);
        mask_ = slots_.size() - 1;
        // The keys are distinct: each goes to the first free slot of its probe run, as put() would
        // place it, without comparing keys or checking the load on the way.
        for (const Slot& s : old) {
            if (s.value == 0) continue;
            std::size_t i = s.key.a & mask_;
            while (slots_[i].value != 0) i = (i + 1) & mask_;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::size_t mask_ = 0, size_ = 0;
};

/// Slots of T addressed by index, in chunks of 2^ChunkBits that never move: growing allocates one chunk
/// and moves no item (a vector moved every item, strings and all, each time it doubled). References stay
/// valid while the pool lives.
template <class T, unsigned ChunkBits = 6>
class ChunkedPool {
public:
    T& operator[](std::size_t i) { return chunks_[i >> ChunkBits][i & kMask]; }
    const T& operator[](std::size_t i) const { return chunks_[i >> ChunkBits][i & kMask]; }
    std::size_t size() const { return size_; }
    /// A new default-constructed slot at index size() - 1.
    T& emplace_back() {
        if (size_ == chunks_.size() << ChunkBits) chunks_.push_back(std::make_unique<T[]>(kMask + 1));
        return (*this)[size_++];
    }

private:
    static constexpr std::size_t kMask = (std::size_t{1} << ChunkBits) - 1;
    std::vector<std::unique_ptr<T[]>> chunks_;
    std::size_t size_ = 0;
};

/// The fingerprint of several strings, in order (the keys of the subscription, fork and dialog-info
/// trackers).
inline Fingerprint fingerprint(std::initializer_list<std::string_view> parts) {
    Hasher h;
    for (const std::string_view p : parts) h.add(p);
    return h.done();
}

/// A fingerprint of a 32-bit id (for id -> slot tables).
inline Fingerprint id_key(std::uint32_t id) {
    return {static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull, id};
}

}  // namespace sipsleuth::core::sip::detail
