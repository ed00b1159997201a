// SPDX-License-Identifier: GPL-2.0-or-later
// See sip_headers.h.
#include "sipsleuth/wsglue/sip_headers.h"

namespace sipsleuth::wsglue {

SipHeaderDecoders::SipHeaderDecoders(Protocol& proto) : proto_(proto) {
    proto.on_init([this] { update(); });
}

void SipHeaderDecoders::add_entry(const char* header, dissector_handle_t handle) {
    entries_.push_back({header, handle});
    update();
}

void SipHeaderDecoders::update() const {
    dissector_table_t table = find_dissector_table("sip.hdr");
    if (!table) return;
    for (const Entry& e : entries_) {
        if (proto_.enabled())
            dissector_add_string("sip.hdr", e.header, e.handle);
        else if (dissector_get_string_handle(table, e.header) == e.handle)
            dissector_delete_string("sip.hdr", e.header, e.handle);
    }
}

int SipHeaderDecoders::run(dissector_t fn, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) const {
    if (!proto_.enabled()) return 0;
    const char* saved = pinfo->current_proto;
    pinfo->current_proto = proto_get_protocol_short_name(find_protocol_by_id(proto_.id()));
    const int length = fn(tvb, pinfo, tree, data);
    pinfo->current_proto = saved;
    return length;
}

}  // namespace sipsleuth::wsglue
