// SPDX-License-Identifier: GPL-2.0-or-later
// Generic display of XML elements a body dissector does not know (vendor extensions in dialog-info
// and RLMI bodies): one subtree per element, nested as in the document, with its qualified name,
// namespace, text and attributes. Used by the dialoginfo and rlmi plugins; header-only.
#pragma once

#include <vector>

#include "sipsleuth/core/dialog_info_xml.h"
#include "sipsleuth/wsglue/tvb.h"

namespace sipsleuth::wsglue {

/// The fields a plugin registered for extension elements.
struct ExtensionFields {
    int element, name, ns, text, attribute_name, attribute_value, ett;
};

/// Adds each extension under t, children under their parent (levels from core::XmlExtension).
inline void add_extensions(const Tree& t, const std::vector<core::XmlExtension>& extensions, const ExtensionFields& f,
                           packet_info* pinfo) {
    // Parents by level; an element's level is at most one more than the previous element's.
    std::vector<proto_tree*> parents;
    for (const core::XmlExtension& e : extensions) {
        if (e.level > parents.size()) continue;
        parents.resize(e.level);
        const Tree parent = e.level == 0 ? t : t.child(parents.back());
        const char* label =
            e.ns.empty() ? wmem_strdup_printf(pinfo->pool, "Extension <%s>%s%s", e.name.c_str(), e.text ? ": " : "",
                                              e.text ? e.text.value.c_str() : "")
                         : wmem_strdup_printf(pinfo->pool, "Extension <%s> (%s)%s%s", e.name.c_str(), e.ns.c_str(),
                                              e.text ? ": " : "", e.text ? e.text.value.c_str() : "");
        proto_tree* sub = parent.subtree(f.element, f.ett, e.tag, label);
        const Tree st = t.child(sub);
        st.add_string(f.name, e.tag, e.name);
        if (!e.ns.empty()) st.add_string(f.ns, e.tag, e.ns);
        if (e.text) st.add_string(f.text, e.text.span, e.text.value);
        for (const auto& a : e.attributes) {
            st.add_string(f.attribute_name, a.second.span, a.first.value);
            st.add_string(f.attribute_value, a.second.span, a.second.value);
        }
        parents.push_back(sub);
    }
}

}  // namespace sipsleuth::wsglue
