// SPDX-License-Identifier: GPL-2.0-or-later
// See fields.h. field_info offsets are relative to the item's data source (fi->ds_tvb), so a scope is
// a range of one data source and tvb_raw_offset() maps a sub-tvb into it.
#include "sipsleuth/wsglue/fields.h"

#include <algorithm>
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
// Every PostDissector of this shared object, in construction order.
std::vector<PostDissector*>& all_post_dissectors() {
    static std::vector<PostDissector*> all;
    return all;
}
}  // namespace

PostDissector::PostDissector(Protocol& proto, dissector_t fn, std::initializer_list<ForeignField*> wanted)
    : proto_(proto), fn_(fn), wanted_(wanted) {
    all_post_dissectors().push_back(this);
    proto_.on_init([] { update_all_wanted(); });
}

void PostDissector::handoff() {
    complete_ = true;
    for (ForeignField* f : wanted_) complete_ = f->resolve() && complete_;
    handle_ = create_dissector_handle(fn_, proto_.id());
    register_postdissector(handle_);
}

void PostDissector::update_all_wanted() {
    // epan primes every post-dissector's array on every frame, enabled or not, one hfid at a time: a
    // field that five post-dissectors want (the observer's six) would be primed five times per frame.
    // So each field is left to the first enabled post-dissector that wants it; one whose protocol is
    // disabled wants nothing, and the next enabled one takes its fields over.
    std::vector<int> claimed;
    for (PostDissector* pd : all_post_dissectors()) {
        if (!pd->handle_) continue;
        GArray* ids = nullptr;
        if (pd->proto_.enabled()) {
            ids = g_array_new(FALSE, FALSE, static_cast<guint>(sizeof(int)));
            for (ForeignField* f : pd->wanted_) {
                int id = f->id();
                if (id < 0 || std::find(claimed.begin(), claimed.end(), id) != claimed.end()) continue;
                claimed.push_back(id);
                g_array_append_val(ids, id);
            }
        }
        set_postdissector_wanted_hfids(pd->handle_, ids);
    }
}

}  // namespace sipsleuth::wsglue
