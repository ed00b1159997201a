// SPDX-License-Identifier: GPL-2.0-or-later
// Generic display of XML elements a body dissector does not know (vendor extensions in dialog-info
// and RLMI bodies): one subtree per element, nested as in the document, with its qualified name,
// namespace, text and attributes. Used by the dialoginfo and rlmi plugins; header-only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "sipsleuth/core/dialog_info_xml.h"
#include "sipsleuth/wsglue/tvb.h"

namespace sipsleuth::wsglue {

/// The fields a plugin registered for extension elements.
struct ExtensionFields {
    int element, name, ns, text, attribute_name, attribute_value, ett;
};

/// Deepest extension nesting shown as nested subtrees; deeper elements hang under the last subtree of
/// this level. Wireshark 4.0 throws a "Dissector bug" past 500 tree levels, and max_depth is a
/// preference a user may raise that far.
inline constexpr std::size_t kMaxExtensionTreeLevels = 16;

/// Adds each extension under t, children under their parent (levels from core::XmlExtension).
inline void add_extensions(const Tree& t, const std::vector<core::XmlExtension>& extensions, const ExtensionFields& f,
                           packet_info* pinfo) {
    // Parents by level, in a plain array: proto_tree_add_* may longjmp, so no C++ object that owns
    // memory may be alive here. An element's level is at most one more than the previous element's.
    proto_tree* parents[kMaxExtensionTreeLevels] = {};
    std::size_t depth = 0;  // valid entries of parents
    for (const core::XmlExtension& e : extensions) {
        const std::size_t level = std::min(e.level, kMaxExtensionTreeLevels);
        if (level > depth) continue;
        const Tree parent = level == 0 ? t : t.child(parents[level - 1]);
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
        if (level < kMaxExtensionTreeLevels) {
            parents[level] = sub;
            depth = level + 1;
        } else {
            depth = kMaxExtensionTreeLevels;  // deeper elements stay at the last nested level
        }
    }
}

}  // namespace sipsleuth::wsglue
