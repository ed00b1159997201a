// SPDX-License-Identifier: GPL-2.0-or-later
// A hostile-input-safe view of one XML message body (x-cisco-alarm, dialog-info, RLMI). pugixml
// parses in place, expands no DTD entities and is linear on hostile input; this class adds what it
// does not check (size, depth, node count, DOCTYPE, UTF-8) and maps every node back to byte spans of
// the original body, so a dissector can put items on exactly the bytes they came from.
#pragma once

#include <pugixml.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/text.h"

namespace sipsleuth::core {

/// Caps applied before and after parsing; a body over a cap is reported, never partly trusted.
struct XmlLimits {
    std::size_t max_bytes = 256 * 1024;  ///< larger bodies are not parsed at all
    std::size_t max_depth = 32;          ///< element nesting
    std::size_t max_nodes = 8192;        ///< elements, text and attributes together
    std::size_t max_value_bytes = 2048;  ///< longest value copied out of the document
};

enum class XmlIssueKind {
    too_large,       ///< body over XmlLimits::max_bytes; not parsed
    malformed,       ///< pugixml refused the document; where = the byte it stopped at
    invalid_utf8,    ///< a byte sequence that is not UTF-8; the document is still read
    doctype,         ///< a DTD is present; its entities are not expanded
    too_deep,        ///< nesting over max_depth; the document is not walked
    too_many_nodes,  ///< more nodes than max_nodes; the document is not walked
};

struct XmlIssue {
    XmlIssueKind kind;
    Span where;
    std::string message;  ///< sentence case, no period, ready for expert info
};

/// One parsed body. Owns a copy of the bytes; node handles stay valid while the object lives.
class XmlBody {
public:
    /// Parses bytes under limits; never throws except std::bad_alloc.
    static XmlBody parse(std::string_view bytes, const XmlLimits& limits = {});

    XmlBody(XmlBody&&) = default;
    XmlBody& operator=(XmlBody&&) = default;

    /// True when the document (or, after a malformed issue, the part parsed before the error) is
    /// within every structural cap, so it may be walked.
    bool usable() const { return usable_; }
    const std::vector<XmlIssue>& issues() const { return issues_; }
    /// Deepest element nesting seen by the structure walk (0 when it did not run).
    std::size_t depth() const { return depth_; }
    pugi::xml_node root() const { return doc_.document_element(); }
    std::size_t size() const { return original_.size(); }
    const XmlLimits& limits() const { return limits_; }

    /// Element name without its namespace prefix ("d:dialog" -> "dialog").
    static std::string_view local_name(pugi::xml_node element);
    /// The start tag of element, from '<' to its '>' (or to the end of the body).
    Span start_tag(pugi::xml_node element) const;
    /// The value of attr between its quotes (empty span just after the opening quote when empty).
    Span attribute_span(pugi::xml_attribute attr, pugi::xml_node owner) const;
    /// The first text or CDATA child of element; an empty span after the start tag when none.
    Span text_span(pugi::xml_node element) const;
    /// Decoded text of element (first text or CDATA child), as pugixml returns it.
    static std::string_view text(pugi::xml_node element);
    /// True when the decoded value equals the original bytes of span (no entity or EOL rewrite).
    bool verbatim(Span span, std::string_view decoded) const;
    /// Valid UTF-8 copy of a decoded value, cut at limits().max_value_bytes; sets *cut when cut.
    std::string value(std::string_view decoded, bool* cut = nullptr) const;

private:
    XmlBody() = default;
    std::size_t offset_of(const char* p) const;  // npos when p is not inside the parse buffer
    std::size_t start_tag_end(std::size_t name_at) const;  // just past the start tag's '>'; npos when it never closes
    void check_structure();

    XmlLimits limits_;
    std::string original_;
    std::vector<char> buffer_;  // pugixml's in-place copy: node strings point in here
    pugi::xml_document doc_;
    std::vector<XmlIssue> issues_;
    bool usable_ = false;
    std::size_t depth_ = 0;
};

}  // namespace sipsleuth::core
