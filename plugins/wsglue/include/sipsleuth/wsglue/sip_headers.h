// SPDX-License-Identifier: GPL-2.0-or-later
// Decoders for SIP headers that Wireshark 4.0's SIP dissector does not know (Content-ID,
// ms-diagnostics), as entries of SIP's "sip.hdr" table, decoded inside SIP's own header line. Their
// handles have no protocol: epan adds a protocol layer for every call through a handle that has one
// (call_dissector_work), and a message with ~500 such headers would reach Wireshark's limit of
// gui.max_tree_depth (500) layers, a "Dissector bug" in SIP that plain Wireshark never raises. Without a
// protocol, epan neither checks that ours is enabled nor makes it the current protocol, so this class
// does both: the entries are in the table only while the protocol is enabled (updated at every capture
// start), so a disabled plugin leaves SIP's "Unrecognised SIP header" notes exactly as plain Wireshark
// shows them; and a decoder runs with pinfo->current_proto set as epan sets it for a protocol's handle,
// so that anything it raises is listed under our protocol, not SIP.
#pragma once

#include <vector>

#include "sipsleuth/wsglue/epan.h"
#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

class SipHeaderDecoders {
public:
    /// Construct as a static object after its protocol.
    explicit SipHeaderDecoders(Protocol& proto);
    SipHeaderDecoders(const SipHeaderDecoders&) = delete;
    SipHeaderDecoders& operator=(const SipHeaderDecoders&) = delete;

    /// From proto_reg_handoff_*: `header` (SIP's lower-case name, the sip.hdr key; a string that lives
    /// until exit) decoded by Fn, which runs only while the protocol is enabled.
    template <dissector_t Fn>
    void add(const char* header) {
        owner<Fn>() = this;
        add_entry(header, create_dissector_handle(&as_protocol<Fn>, -1));
    }

private:
    // One entry point per decoder (a handle carries no data of its own), finding its object here.
    template <dissector_t Fn>
    static SipHeaderDecoders*& owner() {
        static SipHeaderDecoders* self = nullptr;
        return self;
    }
    template <dissector_t Fn>
    static int as_protocol(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
        return owner<Fn>()->run(Fn, tvb, pinfo, tree, data);
    }
    int run(dissector_t fn, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) const;
    void add_entry(const char* header, dissector_handle_t handle);
    void update() const;

    struct Entry {
        const char* header;
        dissector_handle_t handle;
    };
    Protocol& proto_;
    std::vector<Entry> entries_;
};

}  // namespace sipsleuth::wsglue
