// SPDX-License-Identifier: GPL-2.0-or-later
// See xml_body.h. The walk that checks depth and node count is iterative: a recursive walk crashed at
// depth 20,000 under Wireshark's fuzzing stack limit (shared/DESIGN.md, "XML bodies").
#include "sipsleuth/core/xml_body.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace sipsleuth::core {
namespace {

std::string describe_malformed(const pugi::xml_parse_result& r, std::string_view bytes) {
    std::string msg = "Malformed XML at byte " + std::to_string(r.offset) + " of " + std::to_string(bytes.size()) +
                      ": " + r.description();
    // pugixml stops at the last byte when elements are still open: say so, it is the usual cause.
    const std::size_t content_end = bytes.find_last_not_of(" \t\r\n");
    const bool open_at_end = r.status == pugi::status_end_element_mismatch || r.status == pugi::status_bad_end_element;
    if (open_at_end && content_end != std::string_view::npos && static_cast<std::size_t>(r.offset) >= content_end)
        msg += " (the body ends with elements still open: truncated?)";
    return msg;
}

// pugixml keeps its nodes in pages of about 32 KiB: one malloc and one free per parsed body. When the
// heap holds many small free blocks (tshark -T fields with hundreds of fields frees thousands per
// packet), glibc consolidates them before every such large malloc: measured 9.7k instructions per page
// on the SIP-heavy benchmark's fields workload (0.6k under io,stat), three times the parse of a typical
// dialog-info body. So a few freed pages are kept per thread and handed out again. The functions wrap
// whatever pugixml used before (malloc by default); a block carries its size and a cookie just before
// the bytes pugixml gets, and a block without the cookie (allocated before they were installed, where a
// malloc block has its size field) goes back to the previous deallocation function.
namespace page_cache {

constexpr std::size_t kHeader = 16;  // size, cookie: keeps malloc's 16-byte alignment
constexpr std::uint64_t kCookie = 0x7369707365787067ull;
constexpr std::size_t kMinKept = 4 * 1024, kMaxKept = 64 * 1024, kSlots = 4;

pugi::allocation_function previous_allocate = nullptr;
pugi::deallocation_function previous_deallocate = nullptr;

struct Kept {
    void* raw[kSlots] = {};
    std::size_t size[kSlots] = {};
    std::size_t n = 0;
    Kept() = default;
    Kept(const Kept&) = delete;
    Kept& operator=(const Kept&) = delete;
    ~Kept() {
        for (std::size_t i = 0; i < n; ++i) previous_deallocate(raw[i]);
    }
};
thread_local Kept kept;

void* allocate(std::size_t size) {
    if (size >= kMinKept && size <= kMaxKept) {
        for (std::size_t i = 0; i < kept.n; ++i) {
            if (kept.size[i] < size || kept.size[i] > 2 * size) continue;
            char* raw = static_cast<char*>(kept.raw[i]);
            --kept.n;
            kept.raw[i] = kept.raw[kept.n];
            kept.size[i] = kept.size[kept.n];
            return raw + kHeader;
        }
    }
    if (size > SIZE_MAX - kHeader) return nullptr;
    char* raw = static_cast<char*>(previous_allocate(size + kHeader));
    if (!raw) return nullptr;
    std::memcpy(raw, &size, sizeof size);
    std::memcpy(raw + 8, &kCookie, sizeof kCookie);
    return raw + kHeader;
}

void deallocate(void* ptr) {
    if (!ptr) return;
    char* raw = static_cast<char*>(ptr) - kHeader;
    std::uint64_t cookie;
    std::memcpy(&cookie, raw + 8, sizeof cookie);
    if (cookie != kCookie) {
        previous_deallocate(ptr);
        return;
    }
    std::size_t size;
    std::memcpy(&size, raw, sizeof size);
    if (size >= kMinKept && size <= kMaxKept && kept.n < kSlots) {
        kept.raw[kept.n] = raw;
        kept.size[kept.n] = size;
        ++kept.n;
        return;
    }
    std::memset(raw + 8, 0, sizeof cookie);
    previous_deallocate(raw);
}

// Once, before the first document of ours allocates.
bool install() {
    previous_allocate = pugi::get_memory_allocation_function();
    previous_deallocate = pugi::get_memory_deallocation_function();
    if (!previous_allocate || !previous_deallocate) return false;
    pugi::set_memory_management_functions(allocate, deallocate);
    return true;
}

}  // namespace page_cache

}  // namespace

XmlBody XmlBody::parse(std::string_view bytes, const XmlLimits& limits) {
    [[maybe_unused]] static const bool pages_kept = page_cache::install();
    XmlBody body;
    body.limits_ = limits;
    if (bytes.size() > limits.max_bytes) {
        body.issues_.push_back({XmlIssueKind::too_large, {0, bytes.size()},
                                "Body of " + std::to_string(bytes.size()) + " bytes is over the " +
                                    std::to_string(limits.max_bytes) + "-byte limit: not parsed"});
        return body;
    }
    body.original_.assign(bytes.data(), bytes.size());
    if (auto bad = first_invalid_utf8(bytes)) {
        body.issues_.push_back({XmlIssueKind::invalid_utf8, {*bad, 1},
                                "Invalid UTF-8 at byte " + std::to_string(*bad) + ": shown as U+FFFD"});
    }
    // pugixml overwrites the last byte of an in-place buffer with its terminator; a NUL of our own
    // keeps the last character of a truncated body.
    body.buffer_.resize(bytes.size() + 1);
    if (!bytes.empty()) std::memcpy(body.buffer_.data(), bytes.data(), bytes.size());
    body.buffer_.back() = '\0';
    // parse_doctype keeps the DOCTYPE as a node so we can report it; its entities are never expanded.
    const unsigned options = pugi::parse_default | pugi::parse_doctype;
    const pugi::xml_parse_result r =
        body.doc_.load_buffer_inplace(body.buffer_.data(), body.buffer_.size(), options, pugi::encoding_utf8);
    if (!r) {
        const std::size_t at = static_cast<std::size_t>(r.offset) < bytes.size() ? r.offset : bytes.size();
        body.issues_.push_back({XmlIssueKind::malformed, {at, at < bytes.size() ? 1u : 0u},
                                describe_malformed(r, bytes)});
        // pugixml keeps what it parsed before the error: a truncated alarm still shows its first
        // parameters, so the partial document is walked under the same caps. The newest node (at the
        // end of the last-child chain) is the one pugixml was reading; an element whose start tag
        // never closed has a cut name or attribute, so it is dropped.
        pugi::xml_node newest = body.doc_;
        while (newest.last_child()) newest = newest.last_child();
        if (newest.type() == pugi::node_element &&
            body.start_tag_end(body.offset_of(newest.name())) == std::string::npos)
            newest.parent().remove_child(newest);
        if (body.doc_.document_element()) body.check_structure();
        return body;
    }
    if (!body.doc_.document_element()) {
        body.issues_.push_back({XmlIssueKind::malformed, {0, bytes.size()}, "No XML element in the body"});
        return body;
    }
    body.check_structure();
    return body;
}

void XmlBody::check_structure() {
    for (pugi::xml_node n = doc_.first_child(); n; n = n.next_sibling()) {
        if (n.type() == pugi::node_doctype) {
            std::size_t at = original_.find("<!DOCTYPE");
            if (at == std::string::npos) at = 0;
            issues_.push_back({XmlIssueKind::doctype, {at, 9},
                               "Body declares a DTD: its entities are not expanded (entity-expansion attack?)"});
            break;
        }
    }
    // Iterative pre-order walk with an explicit depth counter (the root element is depth 1).
    const pugi::xml_node root = doc_.document_element();
    std::size_t nodes = 0, depth = 1;
    for (pugi::xml_node n = root; n;) {
        ++nodes;
        const bool element = n.type() == pugi::node_element;
        if (element && depth > depth_) depth_ = depth;
        for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) ++nodes;
        if (element && depth > limits_.max_depth) {
            issues_.push_back({XmlIssueKind::too_deep, start_tag(n.parent()),
                               "Elements nested deeper than " + std::to_string(limits_.max_depth) +
                                   " levels: not decoded"});
            return;
        }
        if (nodes > limits_.max_nodes) {
            issues_.push_back({XmlIssueKind::too_many_nodes, start_tag(element ? n : n.parent()),
                               "More than " + std::to_string(limits_.max_nodes) + " XML nodes: not decoded"});
            return;
        }
        if (const pugi::xml_node child = n.first_child()) {
            n = child;
            ++depth;
            continue;
        }
        // Up to the nearest ancestor with a next sibling; done at the root.
        for (;;) {
            if (n == root) {
                n = pugi::xml_node();
                break;
            }
            if (const pugi::xml_node next = n.next_sibling()) {
                n = next;
                break;
            }
            n = n.parent();
            --depth;
        }
    }
    usable_ = true;
}

std::size_t XmlBody::offset_of(const char* p) const {
    if (!p || buffer_.empty()) return std::string::npos;
    const char* begin = buffer_.data();
    if (p < begin || p >= begin + buffer_.size()) return std::string::npos;
    return static_cast<std::size_t>(p - begin);
}

std::string_view XmlBody::local_name(pugi::xml_node element) {
    std::string_view name = element.name();
    const std::size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

Span XmlBody::start_tag(pugi::xml_node element) const {
    const std::size_t name_at = offset_of(element.name());
    if (name_at == std::string::npos || name_at == 0) return {0, 0};
    const std::size_t begin = name_at - 1;  // the '<'
    const std::size_t end = start_tag_end(name_at);
    return {begin, (end == std::string::npos ? original_.size() : end) - begin};
}

std::size_t XmlBody::start_tag_end(std::size_t name_at) const {
    // A quoted attribute value may hold a literal '>' (XML 1.0 section 2.3, AttValue): it is skipped
    // to its closing quote.
    const char* p = original_.data();
    const std::size_t n = original_.size();
    for (std::size_t i = name_at; i < n; ++i) {
        const char c = p[i];
        if (c == '>') return i + 1;
        if (c == '"' || c == '\'') {
            const void* close = i + 1 < n ? std::memchr(p + i + 1, c, n - i - 1) : nullptr;
            if (!close) return std::string::npos;
            i = static_cast<std::size_t>(static_cast<const char*>(close) - p);
        }
    }
    return std::string::npos;
}

Span XmlBody::attribute_span(pugi::xml_attribute attr, pugi::xml_node owner) const {
    const std::size_t at = offset_of(attr.value());
    if (at != std::string::npos && at > 0) {
        const char quote = original_[at - 1];
        if (quote == '"' || quote == '\'') {
            std::size_t end = original_.find(quote, at);
            if (end == std::string::npos) end = original_.size();
            return {at, end - at};
        }
    }
    // Empty values are not stored in the buffer: point just after the name's '="'.
    const std::size_t name_at = offset_of(attr.name());
    if (name_at != std::string::npos) {
        const std::size_t q = original_.find_first_of("\"'", name_at);
        if (q != std::string::npos) return {q + 1, 0};
    }
    return start_tag(owner);
}

Span XmlBody::text_span(pugi::xml_node element) const {
    for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_pcdata && c.type() != pugi::node_cdata) continue;
        const std::size_t at = offset_of(c.value());
        if (at == std::string::npos) break;
        std::size_t end = original_.find(c.type() == pugi::node_cdata ? "]]>" : "<", at);
        if (end == std::string::npos) end = original_.size();
        return {at, end - at};
    }
    const Span tag = start_tag(element);
    return {tag.end(), 0};
}

std::string_view XmlBody::text(pugi::xml_node element) {
    for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) return c.value();
    return {};
}

bool XmlBody::verbatim(Span span, std::string_view decoded) const {
    return span.end() <= original_.size() && std::string_view(original_).substr(span.offset, span.length) == decoded;
}

std::string XmlBody::value(std::string_view decoded, bool* cut) const {
    return sanitize_utf8(decoded, limits_.max_value_bytes, cut);
}

}  // namespace sipsleuth::core
