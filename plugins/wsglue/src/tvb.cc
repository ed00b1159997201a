// SPDX-License-Identifier: GPL-2.0-or-later
// See tvb.h. Values are copied into packet-scope memory (wmem) before they reach proto_tree_add_*,
// so no std::string is alive across a call that may longjmp.
#include "sipsleuth/wsglue/tvb.h"

#include <algorithm>

namespace sipsleuth::wsglue {

Bytes copy_bytes(tvbuff_t* tvb, int offset, std::size_t max) {
    Bytes out;
    const int reported = tvb_reported_length_remaining(tvb, offset);
    const int captured = tvb_captured_length_remaining(tvb, offset);
    if (reported <= 0 || captured <= 0) return out;
    out.reported = static_cast<std::size_t>(reported);
    const std::size_t n = std::min(static_cast<std::size_t>(captured), max);
    out.truncated = n < out.reported;
    out.data.resize(n);
    tvb_memcpy(tvb, out.data.data(), offset, n);
    return out;
}

void Tree::place(core::Span at, int& start, int& length) const {
    const int captured = tvb_captured_length(tvb_);
    const std::size_t s = std::min(static_cast<std::size_t>(captured), static_cast<std::size_t>(base_) + at.offset);
    const std::size_t e = std::min(static_cast<std::size_t>(captured), s + at.length);
    start = static_cast<int>(s);
    length = static_cast<int>(e - s);
}

namespace {
const char* packet_string(std::string_view v) {
    return wmem_strndup(wmem_packet_scope(), v.data(), v.size());
}
}  // namespace

proto_item* Tree::add_string(int hf, core::Span at, std::string_view value) const {
    int s, l;
    place(at, s, l);
    return proto_tree_add_string(tree_, hf, tvb_, s, l, packet_string(value));
}

proto_item* Tree::add_uint(int hf, core::Span at, guint32 value) const {
    int s, l;
    place(at, s, l);
    return proto_tree_add_uint(tree_, hf, tvb_, s, l, value);
}

proto_item* Tree::add_bool(int hf, core::Span at, bool value) const {
    int s, l;
    place(at, s, l);
    return proto_tree_add_boolean(tree_, hf, tvb_, s, l, value ? 1 : 0);
}

proto_item* Tree::add_ipv4(int hf, core::Span at, const unsigned char bytes[4]) const {
    int s, l;
    place(at, s, l);
    guint32 addr;
    memcpy(&addr, bytes, 4);  // network order, as proto_tree_add_ipv4 expects
    return proto_tree_add_ipv4(tree_, hf, tvb_, s, l, addr);
}

proto_item* Tree::add_ipv6(int hf, core::Span at, const unsigned char bytes[16]) const {
    int s, l;
    place(at, s, l);
    ws_in6_addr addr;
    memcpy(addr.bytes, bytes, 16);
    return proto_tree_add_ipv6(tree_, hf, tvb_, s, l, &addr);
}

proto_item* Tree::add_bytes(int hf, core::Span at, const unsigned char* bytes, std::size_t n) const {
    int s, l;
    place(at, s, l);
    return proto_tree_add_bytes_with_length(tree_, hf, tvb_, s, l, bytes, static_cast<gint>(n));
}

proto_item* Tree::add_time_ms(int hf, core::Span at, guint64 ms_since_epoch) const {
    int s, l;
    place(at, s, l);
    nstime_t t;
    t.secs = static_cast<time_t>(ms_since_epoch / 1000);
    t.nsecs = static_cast<int>((ms_since_epoch % 1000) * 1000000);
    return proto_tree_add_time(tree_, hf, tvb_, s, l, &t);
}

proto_item* Tree::add_frame(int hf, core::Span at, guint32 frame) const {
    int s, l;
    place(at, s, l);
    proto_item* it = proto_tree_add_uint(tree_, hf, tvb_, s, l, frame);
    proto_item_set_generated(it);
    return it;
}

proto_item* Tree::add_expert(expert_field* ei, packet_info* pinfo, core::Span at, const std::string& message) const {
    int s, l;
    place(at, s, l);
    return proto_tree_add_expert_format(tree_, pinfo, ei, tvb_, s, l, "%s", message.c_str());
}

proto_tree* Tree::subtree(int hf, int ett, core::Span at, std::string_view label) const {
    int s, l;
    place(at, s, l);
    proto_item* item = proto_tree_add_none_format(tree_, hf, tvb_, s, l, "%s", packet_string(label));
    return proto_item_add_subtree(item, ett);
}

}  // namespace sipsleuth::wsglue
