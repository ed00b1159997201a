// SPDX-License-Identifier: GPL-2.0-or-later
// Parser for application/rlmi+xml bodies (RFC 4662 section 5: Resource List Meta-Information), the
// root part of the multipart/related NOTIFYs a Resource List Server sends (sipXrls in field case 000):
// the list's uri, version, fullState and names; each resource's uri and names; each instance's id,
// state, reason and cid, the Content-ID of the body part carrying that instance's state. Only elements
// in urn:ietf:params:xml:ns:rlmi are read as RLMI; others are kept as extensions. link_instances()
// matches the cids with the parts of the multipart body. Messages fit in 200 bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/dialog_info_xml.h"

namespace sipsleuth::core {

inline constexpr std::string_view kRlmiNamespace = "urn:ietf:params:xml:ns:rlmi";

/// <name xml:lang=...>.
struct RlmiName {
    XmlValue text, lang;
};

/// <instance> (RFC 4662 section 5.2).
struct RlmiInstance {
    Span span;  ///< start tag
    XmlValue id, state, reason, cid;
    std::vector<XmlExtension> extensions;
};

/// <resource>.
struct RlmiResource {
    Span span;
    XmlValue uri;
    std::vector<RlmiName> names;
    std::vector<RlmiInstance> instances;
    std::vector<XmlExtension> extensions;
};

struct Rlmi {
    bool decoded = false;  ///< the root is <list> in the RLMI namespace
    Span root_span;
    XmlValue uri, version, full_state;
    std::optional<std::uint32_t> version_value;
    std::optional<bool> full;  ///< fullState as a boolean (true/false/1/0)
    std::vector<RlmiName> names;
    std::vector<RlmiResource> resources;
    std::vector<XmlExtension> extensions;
    std::vector<DocProblem> problems;
    std::size_t xml_depth = 0;

    std::size_t instance_count() const;
};

/// Parses one body. Never throws except std::bad_alloc.
Rlmi parse_rlmi(std::string_view body, const XmlLimits& limits = {});

/// Info column text: "RLMI v3 full sip:~~rl~C~207@victoria.pingtel.com: 1 resource, 1 instance".
std::string rlmi_summary(const Rlmi& rlmi);

/// One part of the multipart body the RLMI document came in.
struct RlmiPart {
    std::string content_id;    ///< the Content-ID header value as written ("<1@host>"); empty when none
    std::string content_type;  ///< the Content-Type header value
    std::string summary;       ///< one line describing the part's state (dialog-info summary, or empty)
    bool is_root = false;      ///< the part that holds this RLMI document
};

/// Result of matching instance cids with parts.
struct RlmiLinks {
    /// Per instance in document order (resources flattened): index into parts, or nullopt.
    std::vector<std::optional<std::size_t>> instance_part;
    /// Per instance: expert message when its cid names no part (empty otherwise). Outside a multipart
    /// body only the first such instance has one: the whole document is one incident.
    std::vector<std::string> missing;
    /// Per part: expert message when no instance names it (empty otherwise; never for the root).
    std::vector<std::string> unreferenced;
    /// Per part: true when it is unreferenced while an instance's cid names no part: a consequence of
    /// that mismatch (a note linked to it), not a finding of its own.
    std::vector<bool> unreferenced_consequence;
};

/// Matches every instance's cid with the parts' Content-IDs (RFC 2392: the cid attribute holds the
/// Content-ID without angle brackets). in_multipart false: the document was not in a multipart body.
RlmiLinks link_instances(const Rlmi& rlmi, const std::vector<RlmiPart>& parts, bool in_multipart);

}  // namespace sipsleuth::core
