// SPDX-License-Identifier: GPL-2.0-or-later
// What every XML body dissector (ciscoalarm, dialoginfo, rlmi) reports the same way: the body's
// XML-level problems found by core::XmlBody (malformed, invalid UTF-8, a DTD, over a limit) and a
// body cut short in the capture, as `<abbr>.malformed_xml`, `.invalid_utf8`, `.dtd`, `.limit`,
// `.truncated`, and the limits as the preferences `<abbr>.max_body` and `<abbr>.max_depth`.
// Only bytes that cannot be parsed (not well-formed XML, invalid UTF-8) are in the Malformed group, the
// one that sets _ws.malformed; a body cut short by the snap length was not captured, which is not
// malformed (Wireshark itself does not mark such a packet so): Undecoded.
#pragma once

#include <cstddef>
#include <string>

#include "sipsleuth/core/xml_body.h"
#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

class XmlBodyChecks {
public:
    /// abbr: the protocol's filter name; document: the body's name in summaries ("dialog-info").
    /// Construct as a static object after the protocol, where the experts should be listed.
    XmlBodyChecks(Protocol& proto, const char* abbr, const char* document)
        : abbr_(abbr),
          malformed_summary_("Malformed " + std::string(document) + " XML"),
          malformed_{proto, name("malformed_xml"), PI_MALFORMED, PI_ERROR, malformed_summary_.c_str()},
          invalid_utf8_{proto, name("invalid_utf8"), PI_MALFORMED, PI_ERROR, "Invalid UTF-8 in body"},
          dtd_{proto, name("dtd"), PI_SECURITY, PI_ERROR, "Body declares a DTD"},
          limit_{proto, name("limit"), PI_UNDECODED, PI_ERROR, "Body over a decoding limit"},
          truncated_{proto, name("truncated"), PI_UNDECODED, PI_ERROR, "Body truncated in the capture"},
          max_body_{proto, "max_body", "Largest body decoded (bytes)",
                    "Bodies larger than this are reported and not parsed.", 256 * 1024},
          max_depth_{proto, "max_depth", "Deepest element nesting decoded",
                     "Documents nested deeper are reported and not decoded.", 32} {}
    XmlBodyChecks(const XmlBodyChecks&) = delete;
    XmlBodyChecks& operator=(const XmlBodyChecks&) = delete;

    /// The parser limits the preferences set now.
    core::XmlLimits limits() const {
        core::XmlLimits l;
        l.max_bytes = max_body_.value();
        l.max_depth = max_depth_.value();
        return l;
    }
    expert_field* malformed() { return malformed_.get(); }
    expert_field* invalid_utf8() { return invalid_utf8_.get(); }
    expert_field* dtd() { return dtd_.get(); }
    expert_field* limit() { return limit_.get(); }
    /// "Body truncated in the capture: <captured> of <reported> bytes captured" on item.
    void truncated(packet_info* pinfo, proto_item* item, std::size_t captured, std::size_t reported) {
        expert_add_info_format(pinfo, item, truncated_.get(), "Body truncated in the capture: %zu of %zu bytes captured",
                               captured, reported);
    }

private:
    // Expert keeps the abbreviation's pointer: the names live in this object's strings, built before
    // the experts (members are initialised in declaration order) and never changed.
    const char* name(const char* suffix) {
        names_[count_] = abbr_ + "." + suffix;
        return names_[count_++].c_str();
    }

    std::string abbr_;
    std::string names_[5];
    int count_ = 0;
    std::string malformed_summary_;
    Expert malformed_, invalid_utf8_, dtd_, limit_, truncated_;
    UintPref max_body_, max_depth_;
};

}  // namespace sipsleuth::wsglue
