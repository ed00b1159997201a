// SPDX-License-Identifier: GPL-2.0-or-later
// What the dialog-info (RFC 4235) and RLMI (RFC 4662) parsers share on top of XmlBody: namespace
// resolution (default xmlns and prefixes, XML Namespaces 1.0 section 6), so that only elements in the
// RFC's namespace are read as the RFC's elements; a flat, bounded copy of every other element (vendor
// extensions: Polycom, Cisco, sipX, BroadSoft) for generic display; and the problem list both report.
// Namespace look-ups walk ancestors, which XmlBody's depth cap bounds.
#pragma once

#include <pugixml.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "sipsleuth/core/text.h"
#include "sipsleuth/core/xml_body.h"

namespace sipsleuth::core {

/// A copied attribute or text value: valid UTF-8, cut at XmlLimits::max_value_bytes.
struct XmlValue {
    std::string value;
    Span span;             ///< the bytes it came from (attribute value between quotes, or text)
    bool present = false;  ///< the attribute or element exists (its value may be empty)
    explicit operator bool() const { return present; }
};

/// Namespace URI of element's name (prefix or default namespace, looked up through its ancestors);
/// "" when in no namespace; nullopt when its prefix is not declared.
std::optional<std::string_view> element_namespace(pugi::xml_node element);

/// One element outside the RFC namespace (or unknown inside it), flattened in document order.
struct XmlExtension {
    std::size_t level = 0;  ///< 0 for the element found, 1 for its children, ...
    std::string name;       ///< qualified name as written ("pc:line-seize")
    std::string ns;         ///< resolved namespace URI; empty when none or undeclared
    Span tag;               ///< start tag
    XmlValue text;          ///< first text child, trimmed of nothing
    std::vector<std::pair<XmlValue, XmlValue>> attributes;  ///< (name, value), xmlns declarations left out
};

/// Problems both parsers report; messages are sentence case without a period.
enum class DocProblemKind {
    too_large, malformed_xml, invalid_utf8, doctype, too_deep, too_many_nodes,  // from XmlIssueKind
    wrong_root,         ///< root is not the RFC's root element in the RFC's namespace
    namespace_error,    ///< an undeclared prefix
    missing_attribute,  ///< a required attribute is absent
    /// A required attribute absent, another spelling of it present and read instead (dialog-info
    /// <param pname= pvalue=>: one vendor's spelling of RFC 4235's pval).
    nonstandard_attribute,
    missing_element,    ///< a required child element is absent
    bad_value,          ///< a number that is not one
    unknown_value,      ///< an enumerated value the RFC does not define
    unknown_element,    ///< an element in the RFC namespace that the RFC does not define
    partial_without_version,  ///< dialog-info state="partial" with no version
    placeholder,        ///< RLS placeholder dialog (note)
    value_cut,          ///< value longer than the limit
};

struct DocProblem {
    DocProblemKind kind;
    Span where;
    std::string message;
};

/// Maps an XmlBody issue onto the shared kinds.
DocProblemKind doc_problem_kind(XmlIssueKind kind);

/// True when problems hold a structural cap or parse failure (the document was not fully read).
bool has_structural_problem(const std::vector<DocProblem>& problems);

/// Helpers both parsers use while walking one XmlBody.
class DocReader {
public:
    DocReader(const XmlBody& xml, std::vector<DocProblem>& problems) : xml_(xml), problems_(problems) {}

    const XmlBody& xml() const { return xml_; }
    /// Adds a problem, unless the document already has one of that kind with that message: one
    /// incident (a sender's habit repeated on every element) is one problem, on its first element.
    void problem(DocProblemKind kind, Span where, std::string message);
    /// Copies the XmlBody issues into the problem list.
    void take_issues();
    /// Attribute value (or absent).
    XmlValue attribute(pugi::xml_node element, const char* name);
    /// Same, reporting a missing_attribute problem when absent.
    XmlValue required(pugi::xml_node element, const char* name, std::string_view element_name);
    /// Required attribute name, or else its non-standard spelling alt (reported as nonstandard_attribute,
    /// its value read), or else a missing_attribute problem.
    /// rfc names the rule in the message ("RFC 4235").
    XmlValue required_or(pugi::xml_node element, const char* name, const char* alt, std::string_view element_name,
                         std::string_view rfc);
    /// Text of element (first text child), trimmed of surrounding whitespace.
    XmlValue text(pugi::xml_node element);
    /// Whether element is in namespace ns (reporting an undeclared prefix once per prefix and document).
    bool in_namespace(pugi::xml_node element, std::string_view ns);
    /// Appends element and its descendants to out (bounded by the body's node cap, iterative).
    void extension(pugi::xml_node element, std::vector<XmlExtension>& out);
    /// Unsigned decimal value of v; reports bad_value (what names it) when v is present and not one.
    std::optional<std::uint32_t> number(const XmlValue& v, std::string_view what);

private:
    XmlValue copy(std::string_view decoded, Span where);
    /// element_namespace, remembering the scope above the last parent looked up.
    std::optional<std::string_view> namespace_of(pugi::xml_node element);

    const XmlBody& xml_;
    std::vector<DocProblem>& problems_;
    std::unordered_set<std::string> reported_;  ///< kind and message of each problem added
    std::unordered_set<std::string> undeclared_;  ///< undeclared prefixes reported
    struct Scope {
        pugi::xml_node parent;  ///< null: unused entry
        std::string_view prefix;
        bool prefixed = false;
        std::optional<std::string_view> uri;
    };
    Scope scopes_[4];  ///< most recently used first (a parent and its children's look-ups alternate)
};

/// value with control characters (decoded &#10; and the like) written as \n, \r, \t or \xHH, so that a
/// one-line text (Info column, expert message) stays on one line.
std::string escape_controls(std::string_view value);
/// value quoted for an expert message, cut to 64 bytes (Wireshark keeps 240 bytes of a message).
std::string quote_value(const std::string& value);
/// value cut to max bytes (64 by default, "..." included) for an expert message, unquoted.
std::string short_value(const std::string& value, std::size_t max = 64);

/// Element name for messages: "<" + name + ">", the name cut to max bytes and made valid UTF-8.
std::string element_label(pugi::xml_node element, std::size_t max = 64);

}  // namespace sipsleuth::core
