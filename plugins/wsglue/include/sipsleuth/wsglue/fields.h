// SPDX-License-Identifier: GPL-2.0-or-later
// Reading other dissectors' fields (sip.Call-ID, tcp.stream, ...) by name. Names are resolved once in
// handoff; values are read from the frame's tree with proto_get_finfo_ptr_array, which only sees
// fields that were primed: a PostDissector primes its wanted fields on every frame. A TCP segment can
// carry several SIP messages, so values are read within a Scope: one message's byte range.
#pragma once

#include <climits>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

/// A field registered by another dissector; id() is -1 until resolve() finds it.
class ForeignField {
public:
    explicit ForeignField(const char* name) : name_(name) {}
    bool resolve();
    int id() const { return id_; }
    const char* name() const { return name_; }

private:
    const char* name_;
    int id_ = -1;
};

/// A byte range of one data source (frame or reassembled PDU): fields inside it belong to it.
struct Scope {
    tvbuff_t* ds = nullptr;  ///< nullptr: the whole frame
    int begin = 0;
    int end = INT_MAX;
    bool contains(const field_info* fi) const;
};

/// Occurrences of a field in tree order; empty when absent or not primed. Valid during the packet.
class Occurrences {
public:
    Occurrences(proto_tree* tree, const ForeignField& field);
    guint size() const { return array_ ? array_->len : 0; }
    field_info* at(guint i) const { return static_cast<field_info*>(g_ptr_array_index(array_, i)); }
    /// First occurrence inside scope, or nullptr.
    field_info* first_in(const Scope& scope) const;
    /// Last occurrence starting at or before offset `at` of data source ds, or nullptr.
    field_info* last_before(tvbuff_t* ds, int at) const;

private:
    GPtrArray* array_ = nullptr;
};

/// String value of a field_info (FT_STRING family); empty view when it has none.
std::string_view string_value(field_info* fi);
/// Unsigned value of an integer field_info, 1 or 0 for a boolean one (tcp.flags.*), 0 for other types.
guint64 uint_value(field_info* fi);

/// The raw numbers and flags of a TCP header, read from the bytes around its `tcp.seq` (or
/// `tcp.seq_raw`) item, so a post-dissector need not want tcp.ack/tcp.flags.*: each wanted field is
/// an item built on every TCP packet. ok is false when the header is not fully captured (a TCP header
/// quoted inside ICMP), and nothing is read then.
struct TcpHeader {
    guint32 seq_raw = 0, ack_raw = 0;
    guint8 flags = 0;  ///< FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
    bool ok = false;
};
TcpHeader tcp_header(const field_info* seq);

/// Calls fn(scope, index) for each complete occurrence of protocol `message` (e.g. each SIP message of
/// a TCP segment), in tree order; for post-dissectors, which run when every item has its length.
template <class Fn>
void for_each_message(proto_tree* tree, const ForeignField& message, Fn&& fn) {
    const Occurrences all(tree, message);
    for (guint i = 0; i < all.size(); ++i) {
        const field_info* fi = all.at(i);
        fn(Scope{fi->ds_tvb, fi->start, fi->start + fi->length}, i);
    }
}

/// The message of protocol `message` (e.g. the `sip` item) that contains offset `at` of tvb, from its
/// start up to `at`: the part of a message a body dissector can see while its headers are dissected.
Scope enclosing_message(proto_tree* tree, const ForeignField& message, tvbuff_t* tvb, int at);

/// A post-dissector with the foreign fields it reads. All of a shared object's PostDissectors run from
/// one registered post-dissector (dispatch), in handoff order, each only while its protocol is enabled
/// and with pinfo->current_proto naming it, as epan would call each. Wanted fields are set only while
/// the protocol is enabled, so a disabled plugin costs nothing (shared/DESIGN.md, rule 6), each field
/// once. They are primed on the first pass; tshark -2 does not prime them on its second pass (seen on
/// a frame holding two SIP responses), so read them when !PINFO_FD_VISITED and render revisits from a
/// FrameStore.
class PostDissector {
public:
    PostDissector(Protocol& proto, dissector_t fn, std::initializer_list<ForeignField*> wanted);
    /// Adds wanted fields before handoff(), for a post-dissector whose analyses live in several files.
    void want(std::initializer_list<ForeignField*> more) { wanted_.insert(wanted_.end(), more); }
    void want(const std::vector<ForeignField*>& more) { wanted_.insert(wanted_.end(), more.begin(), more.end()); }
    /// Call from proto_reg_handoff_*: resolves fields and adds it to the dispatch (registering the one
    /// post-dissector with the first call).
    void handoff();
    /// Every wanted field resolved (a missing one means another dissector renamed it).
    bool complete() const { return complete_; }

private:
    static int dispatch(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data);
    /// Sets the wanted fields: those of every enabled PostDissector, each once.
    static void update_all_wanted();

    Protocol& proto_;
    dissector_t fn_;
    std::vector<ForeignField*> wanted_;
    protocol_t* protocol_ = nullptr;
    const char* short_name_ = nullptr;
    bool complete_ = false;
};

}  // namespace sipsleuth::wsglue
