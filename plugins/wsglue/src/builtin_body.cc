// SPDX-License-Identifier: GPL-2.0-or-later
// See builtin_body.h.
#include "sipsleuth/wsglue/builtin_body.h"

namespace sipsleuth::wsglue {

BuiltinBody::BuiltinBody(Protocol& proto, const char* media_type)
    : proto_(proto), media_type_(media_type), ett_line_(proto) {}

void BuiltinBody::register_handles(const char* name, dissector_t in_sip, dissector_t in_multipart) {
    name_ = name;
    multipart_name_ = name_ + ".multipart";
    in_sip_ = register_dissector(name_.c_str(), in_sip, proto_.id());
    in_multipart_ = register_dissector(multipart_name_.c_str(), in_multipart, proto_.id());
}

void BuiltinBody::handoff() {
    dissector_add_string("media_type", media_type_, in_sip_);
    dissector_add_string("multipart_media_type", media_type_, in_multipart_);
    media_ = find_dissector("media");
    sip_heuristics_ = find_heur_dissector_list("sip");
    text_id_ = proto_registrar_get_id_byname("text");
}

void BuiltinBody::dissect(Caller caller, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) const {
    if (caller == Caller::multipart) {
        // The multipart dissector found us through dissector_try_string, which set match_string to the
        // media type, as it does before calling "media" itself.
        if (media_) call_dissector_with_data(media_, tvb, pinfo, tree, data);
        return;
    }
    heur_dtbl_entry_t* entry = nullptr;
    if (sip_heuristics_ && dissector_try_heuristic(sip_heuristics_, tvb, pinfo, tree, &entry, nullptr)) return;
    if (!tree) return;
    // SIP's proto_tree_add_format_text fakes a line's item before formatting it when nobody will see it
    // (tree not shown, `text` not in a filter): skip the formatting as it does (tvb_format_text on
    // every line of every NOTIFY body was ~0.8k instructions per packet on the SIP-heavy capture).
    if (text_id_ >= 0 && !proto_field_is_referenced(tree, text_id_)) return;
    for (gint offset = 0, next = 0; tvb_offset_exists(tvb, offset); offset = next) {
        tvb_find_line_end(tvb, offset, -1, &next, FALSE);
        // As SIP's proto_tree_add_format_text (not exported by 4.0's libwireshark): a text-only item.
        proto_tree_add_subtree_format(tree, tvb, offset, next - offset, ett_line_, nullptr, "%s",
                                      tvb_format_text(pinfo->pool, tvb, offset, next - offset));
    }
}

}  // namespace sipsleuth::wsglue
