// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for XmlBody: parses the input under the default limits and under small ones (depth
// 4, 64 nodes, 16-byte values) so the caps are hit often, then walks every node of whatever pugixml
// built, usable or not, and aborts when a start tag, attribute or text span leaves the input, a span
// said to be verbatim is not, or a value copied out is not valid UTF-8 within max_value_bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/xml_body.h"

namespace {

using sipsleuth::core::Span;
using sipsleuth::core::XmlBody;
using sipsleuth::core::XmlLimits;

using fuzz::require;

void require_inside(Span s, std::string_view input, const char* what) { fuzz::inside(input, s, what); }

void require_value(const XmlBody& body, std::string_view decoded) {
    bool cut = false;
    const std::string v = body.value(decoded, &cut);
    require(v.size() <= body.limits().max_value_bytes, "value longer than max_value_bytes");
    fuzz::require_utf8(v, "value is not valid UTF-8");
    require(cut || v.size() >= decoded.size(), "value shortened without the cut flag");
}

void exercise(std::string_view input, const XmlLimits& limits) {
    const XmlBody body = XmlBody::parse(input, limits);
    for (const auto& issue : body.issues()) {
        require_inside(issue.where, input, "issue span outside the input");
        require(!issue.message.empty(), "issue without a message");
        require(!sipsleuth::core::first_invalid_utf8(issue.message), "issue message is not valid UTF-8");
    }
    const pugi::xml_node root = body.root();
    if (!root) return;
    require(!body.usable() || body.size() == input.size(), "usable body of another size");

    // Iterative pre-order walk: the tree may be far deeper than max_depth when it is not usable.
    for (pugi::xml_node n = root; n;) {
        if (n.type() == pugi::node_element) {
            const Span tag = body.start_tag(n);
            require_inside(tag, input, "start tag outside the input");
            require(tag.length == 0 || input[tag.offset] == '<', "start tag does not start at '<'");
            const std::string_view name = n.name();
            const std::string_view local = XmlBody::local_name(n);
            require(name.size() >= local.size() && name.substr(name.size() - local.size()) == local,
                    "local name is not a suffix of the name");
            for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
                const Span value = body.attribute_span(a, n);
                require_inside(value, input, "attribute span outside the input");
                if (body.verbatim(value, a.value()))
                    require(input.substr(value.offset, value.length) == a.value(), "verbatim attribute differs");
                require_value(body, a.value());
            }
            const Span text = body.text_span(n);
            require_inside(text, input, "text span outside the input");
            const std::string_view decoded = XmlBody::text(n);
            if (body.verbatim(text, decoded))
                require(input.substr(text.offset, text.length) == decoded, "verbatim text differs");
            require_value(body, decoded);
        }
        if (n.first_child()) {
            n = n.first_child();
            continue;
        }
        while (n != root && !n.next_sibling()) n = n.parent();
        n = n == root ? pugi::xml_node() : n.next_sibling();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::with_default_and_small_limits(std::string_view(reinterpret_cast<const char*>(data), size), exercise);
    return 0;
}
