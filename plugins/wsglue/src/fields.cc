// SPDX-License-Identifier: GPL-2.0-or-later
// See fields.h. field_info offsets are relative to the item's data source (fi->ds_tvb), so a scope is
// a range of one data source and tvb_raw_offset() maps a sub-tvb into it.
#include "sipsleuth/wsglue/fields.h"

#include <vector>

namespace sipsleuth::wsglue {

bool ForeignField::resolve() {
    id_ = proto_registrar_get_id_byname(name_);
    return id_ >= 0;
}

bool Scope::contains(const field_info* fi) const {
    if (!ds) return true;
    return fi->ds_tvb == ds && fi->start >= begin && fi->start < end;
}

Occurrences::Occurrences(proto_tree* tree, const ForeignField& field) {
    if (tree && field.id() >= 0) array_ = proto_get_finfo_ptr_array(tree, field.id());
}

field_info* Occurrences::first_in(const Scope& scope) const {
    for (guint i = 0; i < size(); ++i)
        if (scope.contains(at(i))) return at(i);
    return nullptr;
}

field_info* Occurrences::last_before(tvbuff_t* ds, int offset) const {
    field_info* best = nullptr;
    for (guint i = 0; i < size(); ++i) {
        field_info* fi = at(i);
        if (fi->ds_tvb == ds && fi->start <= offset && (!best || fi->start >= best->start)) best = fi;
    }
    return best;
}

std::string_view string_value(field_info* fi) {
    if (!fi || !IS_FT_STRING(fvalue_type_ftenum(&fi->value))) return {};
    const char* s = fvalue_get_string(&fi->value);
    return s ? std::string_view(s) : std::string_view();
}

guint64 uint_value(field_info* fi) {
    if (!fi) return 0;
    const ftenum t = fvalue_type_ftenum(&fi->value);
    if (t == FT_UINT64 || t == FT_UINT56 || t == FT_UINT48 || t == FT_UINT40) return fvalue_get_uinteger64(&fi->value);
    if (IS_FT_UINT32(t) || t == FT_FRAMENUM) return fvalue_get_uinteger(&fi->value);
    // Flags such as tcp.flags.syn are FT_BOOLEAN, stored in 4.0 as the masked bits (0x002 for SYN).
    if (t == FT_BOOLEAN) return fvalue_get_uinteger64(&fi->value) != 0 ? 1 : 0;
    return 0;
}

TcpHeader tcp_header(const field_info* seq) {
    TcpHeader h;
    // The sequence number sits at offset 4 of the header: ack at +4, flags at +9 from it.
    if (!seq || !seq->ds_tvb || seq->length != 4 || seq->start < 4) return h;
    // Bounds checked here, so the tvb reads below cannot throw.
    if (tvb_captured_length(seq->ds_tvb) < static_cast<guint>(seq->start) + 10) return h;
    h.seq_raw = tvb_get_ntohl(seq->ds_tvb, seq->start);
    h.ack_raw = tvb_get_ntohl(seq->ds_tvb, seq->start + 4);
    h.flags = tvb_get_guint8(seq->ds_tvb, seq->start + 9);
    h.ok = true;
    return h;
}

Scope enclosing_message(proto_tree* tree, const ForeignField& message, tvbuff_t* tvb, int at) {
    tvbuff_t* ds = tvb_get_ds_tvb(tvb);
    const int offset = tvb_raw_offset(tvb) + at;
    const Occurrences messages(tree, message);
    const field_info* msg = messages.last_before(ds, offset);
    if (!msg) return Scope{ds, offset, offset};  // nothing visible: an empty scope
    return Scope{ds, msg->start, offset};
}

namespace {
// This shared object's PostDissectors in handoff order (the order epan called them in when each was a
// post-dissector of its own).
std::vector<PostDissector*>& handed_off() {
    static std::vector<PostDissector*> order;
    return order;
}
dissector_handle_t dispatcher_handle = nullptr;
}  // namespace

PostDissector::PostDissector(Protocol& proto, dissector_t fn, std::initializer_list<ForeignField*> wanted)
    : proto_(proto), fn_(fn), wanted_(wanted) {
    proto_.on_init([] { update_all_wanted(); });
}

void PostDissector::handoff() {
    complete_ = true;
    for (ForeignField* f : wanted_) complete_ = f->resolve() && complete_;
    protocol_ = find_protocol_by_id(proto_.id());
    short_name_ = protocol_ ? proto_get_protocol_short_name(protocol_) : nullptr;
    handed_off().push_back(this);
    if (!dispatcher_handle) {
        // One post-dissector for all: epan's call of each registered post-dissector costs ~465
        // instructions per frame (measured with five that did nothing, 5,000 SIP-heavy packets), paid
        // on every frame by every one of the six. Its handle is frame's, the one protocol epan never
        // disables, so each of ours is still enabled or disabled on its own (dispatch() asks).
        const int frame = proto_get_id_by_filter_name("frame");
        dispatcher_handle = create_dissector_handle(&PostDissector::dispatch, frame >= 0 ? frame : proto_.id());
        register_postdissector(dispatcher_handle);
    }
}

int PostDissector::dispatch(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    // What epan's call_dissector_work did for each: skip a disabled protocol, and name the protocol
    // in pinfo->current_proto while it runs (expert infos record it: `-z expert`, the GUI's Expert
    // Information). epan calls all post-dissectors inside one TRY, so an exception ends the rest
    // either way.
    const char* saved = pinfo->current_proto;
    for (PostDissector* pd : handed_off()) {
        if (!pd->protocol_ || !proto_is_protocol_enabled(pd->protocol_)) continue;
        pinfo->current_proto = pd->short_name_;
        pd->fn_(tvb, pinfo, tree, data);
    }
    pinfo->current_proto = saved;
    return static_cast<int>(tvb_captured_length(tvb));
}

void PostDissector::update_all_wanted() {
    // epan primes the wanted array on every frame, one hfid at a time: a field that five of ours want
    // (the observer's six) must be in it once. Only enabled protocols' fields are wanted, so a
    // disabled plugin costs nothing.
    if (!dispatcher_handle) return;
    GArray* ids = g_array_new(FALSE, FALSE, static_cast<guint>(sizeof(int)));
    for (PostDissector* pd : handed_off()) {
        if (!pd->proto_.enabled()) continue;
        for (ForeignField* f : pd->wanted_) {
            int id = f->id();
            if (id < 0) continue;
            bool seen = false;
            for (guint i = 0; i < ids->len && !seen; ++i) seen = g_array_index(ids, int, i) == id;
            if (!seen) g_array_append_val(ids, id);
        }
    }
    if (ids->len == 0) {
        g_array_free(ids, TRUE);
        ids = nullptr;
    }
    set_postdissector_wanted_hfids(dispatcher_handle, ids);
}

}  // namespace sipsleuth::wsglue
