// SPDX-License-Identifier: GPL-2.0-or-later
// Moving bytes between epan and the core without ever triggering an epan exception: copies are
// bounds-checked against what was captured, and items are placed only on spans the core returned
// for exactly those bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sipsleuth/core/text.h"
#include "sipsleuth/wsglue/epan.h"

namespace sipsleuth::wsglue {

/// Bytes copied out of a tvb. `reported` is what the packet claimed; `truncated` when the capture
/// (snaplen) or `max` held fewer bytes.
struct Bytes {
    std::string data;
    std::size_t reported = 0;
    bool truncated = false;
    std::string_view view() const { return data; }
};

/// Copies at most max bytes from offset to the end of tvb; never throws into epan.
Bytes copy_bytes(tvbuff_t* tvb, int offset, std::size_t max);

/// A proto_tree bound to the tvb a core parser read: adds items at core spans (relative to base),
/// clamped to the captured bytes. Holds no C++ resources, so an epan exception may unwind it.
class Tree {
public:
    Tree(proto_tree* tree, tvbuff_t* tvb, int base = 0) : tree_(tree), tvb_(tvb), base_(base) {}

    proto_item* add_string(int hf, core::Span at, std::string_view value) const;
    proto_item* add_uint(int hf, core::Span at, guint32 value) const;
    proto_item* add_bool(int hf, core::Span at, bool value) const;
    proto_item* add_ipv4(int hf, core::Span at, const unsigned char bytes[4]) const;
    proto_item* add_ipv6(int hf, core::Span at, const unsigned char bytes[16]) const;
    proto_item* add_bytes(int hf, core::Span at, const unsigned char* bytes, std::size_t n) const;
    proto_item* add_time_ms(int hf, core::Span at, guint64 ms_since_epoch) const;
    proto_item* add_frame(int hf, core::Span at, guint32 frame) const;
    /// An expert item (with its message) placed on span.
    proto_item* add_expert(expert_field* ei, packet_info* pinfo, core::Span at, const std::string& message) const;
    /// A subtree under an FT_NONE field (filterable) on span, labelled label.
    proto_tree* subtree(int hf, int ett, core::Span at, std::string_view label) const;
    /// Same tree, another span base (for nested core results).
    Tree child(proto_tree* sub) const { return Tree(sub, tvb_, base_); }

private:
    // Start and length inside the tvb's captured bytes.
    void place(core::Span at, int& start, int& length) const;

    proto_tree* tree_;
    tvbuff_t* tvb_;
    int base_;
};

}  // namespace sipsleuth::wsglue
