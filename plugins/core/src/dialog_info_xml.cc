// SPDX-License-Identifier: GPL-2.0-or-later
// See dialog_info_xml.h. Namespace declarations are looked up through the ancestors (XML Namespaces
// 1.0 section 6.2: the nearest declaration wins, xmlns="" undeclares the default namespace).
#include "sipsleuth/core/dialog_info_xml.h"

#include <cstring>
#include <utility>

namespace sipsleuth::core {

namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";

// The prefix of a qualified name: ("p", true) for "p:name", ("", false) for "name".
std::pair<std::string_view, bool> prefix_of(std::string_view name) {
    const std::size_t colon = name.find(':');
    if (colon == std::string_view::npos) return {std::string_view(), false};
    return {name.substr(0, colon), true};
}

// Whether an attribute named name declares prefix: "xmlns" for the default namespace, "xmlns:p".
bool declares(const char* name, std::string_view prefix, bool prefixed) {
    if (std::strncmp(name, "xmlns", 5) != 0) return false;
    name += 5;
    if (!prefixed) return *name == '\0';
    if (*name != ':') return false;
    ++name;
    return std::strncmp(name, prefix.data(), prefix.size()) == 0 && name[prefix.size()] == '\0';
}

// The first declaration of prefix on element itself (as xml_node::attribute(name) finds it).
std::optional<std::string_view> declared_on(pugi::xml_node element, std::string_view prefix, bool prefixed) {
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute())
        if (declares(a.name(), prefix, prefixed)) return std::string_view(a.value());
    return std::nullopt;
}

// The namespace of prefix in scope at from (an element or the document), through its ancestors.
std::optional<std::string_view> in_scope(pugi::xml_node from, std::string_view prefix, bool prefixed) {
    for (pugi::xml_node n = from; n && n.type() == pugi::node_element; n = n.parent())
        if (auto uri = declared_on(n, prefix, prefixed)) return uri;
    if (!prefixed) return std::string_view();
    return std::nullopt;
}

}  // namespace

std::optional<std::string_view> element_namespace(pugi::xml_node element) {
    const auto [prefix, prefixed] = prefix_of(element.name());
    if (prefixed && prefix == "xml") return kXmlNamespace;
    return in_scope(element, prefix, prefixed);
}

DocProblemKind doc_problem_kind(XmlIssueKind kind) {
    switch (kind) {
    case XmlIssueKind::too_large: return DocProblemKind::too_large;
    case XmlIssueKind::malformed: return DocProblemKind::malformed_xml;
    case XmlIssueKind::invalid_utf8: return DocProblemKind::invalid_utf8;
    case XmlIssueKind::doctype: return DocProblemKind::doctype;
    case XmlIssueKind::too_deep: return DocProblemKind::too_deep;
    case XmlIssueKind::too_many_nodes: return DocProblemKind::too_many_nodes;
    }
    return DocProblemKind::malformed_xml;
}

bool has_structural_problem(const std::vector<DocProblem>& problems) {
    for (const DocProblem& p : problems) {
        switch (p.kind) {
        case DocProblemKind::too_large:
        case DocProblemKind::malformed_xml:
        case DocProblemKind::too_deep:
        case DocProblemKind::too_many_nodes: return true;
        default: break;
        }
    }
    return false;
}

std::string escape_controls(std::string_view value) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7f) {
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 0xf];
        }
    }
    return out;
}

std::string short_value(const std::string& value, std::size_t max) {
    // Escaped before the cut: a control character takes up to 4 bytes once written as \xHH.
    const std::string escaped = escape_controls(sanitize_utf8(value));
    if (escaped.size() <= max) return escaped;
    std::string s = sanitize_utf8(escaped, max > 3 ? max - 3 : 1);
    return s + "...";
}

std::string quote_value(const std::string& value) { return "\"" + short_value(value) + "\""; }

std::string element_label(pugi::xml_node element, std::size_t max) {
    return "<" + sanitize_utf8(element.name(), max) + ">";
}

void DocReader::problem(DocProblemKind kind, Span where, std::string message) {
    std::string key = std::to_string(static_cast<int>(kind)) + ":" + message;
    if (!reported_.insert(std::move(key)).second) return;
    problems_.push_back({kind, where, std::move(message)});
}

void DocReader::take_issues() {
    for (const XmlIssue& issue : xml_.issues()) problem(doc_problem_kind(issue.kind), issue.where, issue.message);
}

XmlValue DocReader::copy(std::string_view decoded, Span where) {
    XmlValue v;
    v.present = true;
    v.span = where;
    bool cut = false;
    v.value = xml_.value(decoded, &cut);
    if (cut)
        problem(DocProblemKind::value_cut, where,
                "Value of " + std::to_string(decoded.size()) + " bytes shown cut to " + std::to_string(v.value.size()) +
                    " bytes");
    return v;
}

XmlValue DocReader::attribute(pugi::xml_node element, const char* name) {
    const pugi::xml_attribute a = element.attribute(name);
    if (!a) return {};
    return copy(a.value(), xml_.attribute_span(a, element));
}

XmlValue DocReader::required(pugi::xml_node element, const char* name, std::string_view element_name) {
    XmlValue v = attribute(element, name);
    if (!v) {
        problem(DocProblemKind::missing_attribute, xml_.start_tag(element),
                "<" + std::string(element_name) + "> has no " + name + " attribute");
        v.span = xml_.start_tag(element);
    }
    return v;
}

XmlValue DocReader::text(pugi::xml_node element) {
    const std::string_view raw = XmlBody::text(element);
    const Span at = xml_.text_span(element);
    // Trim, keeping the span on the trimmed bytes when the text is verbatim.
    const std::string_view t = trim(raw);
    Span span = at;
    if (!t.empty() && xml_.verbatim(at, raw)) {
        span = {at.offset + static_cast<std::size_t>(t.data() - raw.data()), t.size()};
    }
    XmlValue v = copy(t, span);
    return v;
}

XmlValue DocReader::required_or(pugi::xml_node element, const char* name, const char* alt,
                               std::string_view element_name, std::string_view rfc) {
    if (XmlValue v = attribute(element, name)) return v;
    XmlValue other = attribute(element, alt);
    if (!other) return required(element, name, element_name);
    // Well-formed, and the value is there under another name: a protocol warning that says which.
    const std::string el(element_name);
    problem(DocProblemKind::nonstandard_attribute, other.span,
            "<" + el + "> has " + alt + "=, " + std::string(rfc) + " says " + name + "=: the value is read from " + alt);
    return other;
}

std::optional<std::string_view> DocReader::namespace_of(pugi::xml_node element) {
    const auto [prefix, prefixed] = prefix_of(element.name());
    if (prefixed && prefix == "xml") return kXmlNamespace;
    if (auto own = declared_on(element, prefix, prefixed)) return own;
    // Siblings share their parent's scope: the last few look-ups above a parent are kept.
    const pugi::xml_node parent = element.parent();
    constexpr std::size_t n = sizeof scopes_ / sizeof scopes_[0];
    std::size_t i = 0;
    while (i < n && !(scopes_[i].parent && scopes_[i].parent == parent && scopes_[i].prefixed == prefixed &&
                      scopes_[i].prefix == prefix))
        ++i;
    Scope found = i < n ? scopes_[i] : Scope{parent, prefix, prefixed, in_scope(parent, prefix, prefixed)};
    for (std::size_t k = i < n ? i : n - 1; k > 0; --k) scopes_[k] = scopes_[k - 1];
    scopes_[0] = found;
    return found.uri;
}

bool DocReader::in_namespace(pugi::xml_node element, std::string_view ns) {
    const std::optional<std::string_view> uri = namespace_of(element);
    if (!uri) {
        // One problem per undeclared prefix: each element using it is the same incident.
        const std::string_view name = element.name();
        const std::string prefix = sanitize_utf8(name.substr(0, name.find(':')), 32);
        if (!undeclared_.insert(prefix).second) return false;
        problem(DocProblemKind::namespace_error, xml_.start_tag(element),
                "Namespace prefix \"" + escape_controls(prefix) + "\" is not declared (first used by " +
                    element_label(element) + "): its elements are not read as the RFC's");
        return false;
    }
    return *uri == ns;
}

void DocReader::extension(pugi::xml_node element, std::vector<XmlExtension>& out) {
    // Iterative pre-order walk; XmlBody already capped depth and node count.
    std::size_t level = 0;
    for (pugi::xml_node n = element; n;) {
        if (n.type() == pugi::node_element) {
            XmlExtension e;
            e.level = level;
            e.name = sanitize_utf8(n.name(), xml_.limits().max_value_bytes);
            e.ns = sanitize_utf8(element_namespace(n).value_or(std::string_view()), xml_.limits().max_value_bytes);
            e.tag = xml_.start_tag(n);
            if (!XmlBody::text(n).empty()) e.text = text(n);
            for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
                const std::string_view an = a.name();
                if (an == "xmlns" || an.substr(0, 6) == "xmlns:") continue;
                XmlValue name;
                name.present = true;
                name.value = sanitize_utf8(an, xml_.limits().max_value_bytes);
                name.span = e.tag;
                XmlValue value = copy(a.value(), xml_.attribute_span(a, n));
                e.attributes.emplace_back(std::move(name), std::move(value));
            }
            out.push_back(std::move(e));
        }
        if (n.type() == pugi::node_element && n.first_child()) {
            n = n.first_child();
            ++level;
            continue;
        }
        while (n != element && !n.next_sibling()) {
            n = n.parent();
            --level;
        }
        n = n == element ? pugi::xml_node() : n.next_sibling();
    }
}

std::optional<std::uint32_t> DocReader::number(const XmlValue& v, std::string_view what) {
    if (!v) return std::nullopt;
    if (auto n = parse_decimal(trim(v.value), UINT32_MAX)) return static_cast<std::uint32_t>(*n);
    problem(DocProblemKind::bad_value, v.span,
            std::string(what) + " " + quote_value(v.value) + " is not a number from 0 to 4294967295");
    return std::nullopt;
}

}  // namespace sipsleuth::core
