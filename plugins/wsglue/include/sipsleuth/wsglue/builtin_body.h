// SPDX-License-Identifier: GPL-2.0-or-later
// What Wireshark 4.0 shows without our plugins for a body of a media type it has no dissector for
// (application/dialog-info+xml, application/x-cisco-alarm+xml), kept after our own tree so that every
// field and column text users had is still there (DESIGN rule 7). A SIP body goes to SIP's heuristic
// dissectors, else is shown as text lines (packet-sip.c); a multipart part goes to the "media"
// dissector (a media item with media.type, and " (type)" appended to the Info column). A body dissector
// registered through this class gets one entry per caller, so it knows which of the two to add: the
// multipart dissector looks in "multipart_media_type" before "media_type".
#pragma once

#include <string>

#include "sipsleuth/wsglue/epan.h"
#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

class BuiltinBody {
public:
    /// Who handed the body to us, and so what Wireshark shows for it without the plugin.
    enum class Caller {
        sip,        ///< a SIP message's own body: SIP's heuristics, else text lines
        multipart,  ///< a multipart part: the media dissector
    };
    using Dissector = int (*)(Caller, tvbuff_t*, packet_info*, proto_tree*, void*);

    /// media_type: the lower-case type both tables are keyed by. Construct as a static object after
    /// its protocol (it registers the subtree of the text lines there).
    BuiltinBody(Protocol& proto, const char* media_type);
    BuiltinBody(const BuiltinBody&) = delete;
    BuiltinBody& operator=(const BuiltinBody&) = delete;

    /// From proto_register_*: the dissectors "<name>" (a SIP body) and "<name>.multipart" (a part),
    /// both running Fn with their caller.
    template <Dissector Fn>
    void register_dissectors(const char* name) {
        register_handles(name, &with_caller<Fn, Caller::sip>, &with_caller<Fn, Caller::multipart>);
    }
    /// From proto_reg_handoff_*: the media_type and multipart_media_type entries, and what dissect()
    /// calls.
    void handoff();
    /// Wireshark's own output for this body from caller; a dissector calls it after its own tree.
    void dissect(Caller caller, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) const;

private:
    template <Dissector Fn, Caller C>
    static int with_caller(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
        return Fn(C, tvb, pinfo, tree, data);
    }
    void register_handles(const char* name, dissector_t in_sip, dissector_t in_multipart);

    Protocol& proto_;
    const char* media_type_;
    std::string name_, multipart_name_;  // register_dissector keeps the pointers: live until exit
    Subtree ett_line_;
    dissector_handle_t in_sip_ = nullptr, in_multipart_ = nullptr, media_ = nullptr;
    heur_dissector_list_t sip_heuristics_ = nullptr;
    int text_id_ = -1;  // epan's text-only field ("text", id 0: the first field registered), SIP's body lines
};

}  // namespace sipsleuth::wsglue
