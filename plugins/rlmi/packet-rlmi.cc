// SPDX-License-Identifier: GPL-2.0-or-later
// rlmi: application/rlmi+xml bodies (RFC 4662 Resource List Meta-Information), the root part of the
// multipart/related NOTIFYs of a Resource List Server (field case 000: sipXrls relaying a Polycom
// phone's dialog events to a BLF subscriber). Wireshark 4.0 decodes this type with its XML dissector
// and the "list" DTD (list.* fields): this plugin takes the media type over and calls that dissector
// on the same body, so list.* stays as it was (shared/DESIGN.md rule 7). It adds typed fields, checks,
// and the link from each instance's cid to the multipart part with that Content-ID. The multipart
// dissector hands the root part over before it has seen the other parts, so the linking is done by a
// post-dissector at the end of the frame, on the first pass, and stored with the body's verdict for
// revisits.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/rlmi.h"
#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
#include "sipsleuth/wsglue/xml_body_checks.h"
#include "sipsleuth/wsglue/store.h"
#include "sipsleuth/wsglue/tvb.h"
#include "sipsleuth/wsglue/xml_extensions.h"

#include "../dialoginfo/part_summaries.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;

namespace {

ws::Protocol proto{"Resource List Meta-Information (RFC 4662)", "RLMI", "rlmi"};

ws::Field hf_uri{proto, "rlmi.uri", "List URI", FT_STRING, BASE_NONE, nullptr, "The URI of the resource list."};
ws::Field hf_version{proto, "rlmi.version", "Version", FT_UINT32, BASE_DEC, nullptr,
                     "The RLMI document's version, incremented by one for each NOTIFY of the subscription."};
ws::Field hf_full_state{proto, "rlmi.full_state", "Full state", FT_BOOLEAN, BASE_NONE, nullptr,
                        "True when the document lists every resource (fullState), false for changes only."};
ws::Field hf_name{proto, "rlmi.name", "List name", FT_STRING, BASE_NONE, nullptr, "A name of the list."};
ws::Field hf_name_lang{proto, "rlmi.name.lang", "List name language", FT_STRING, BASE_NONE, nullptr,
                       "The xml:lang of the list name."};
ws::Field hf_summary{proto, "rlmi.summary", "Summary", FT_STRING, BASE_NONE, nullptr,
                     "One line describing the document: version, state, list URI, resource and instance counts."};
ws::Field hf_resource{proto, "rlmi.resource", "Resource", FT_NONE, BASE_NONE, nullptr, "One resource of the list."};
ws::Field hf_resource_uri{proto, "rlmi.resource.uri", "Resource URI", FT_STRING, BASE_NONE, nullptr,
                          "The URI of the resource (a monitored user or line)."};
ws::Field hf_resource_name{proto, "rlmi.resource.name", "Resource name", FT_STRING, BASE_NONE, nullptr,
                           "A name of the resource."};
ws::Field hf_resource_name_lang{proto, "rlmi.resource.name.lang", "Resource name language", FT_STRING, BASE_NONE,
                                nullptr, "The xml:lang of the resource name."};
ws::Field hf_instance{proto, "rlmi.instance", "Instance", FT_NONE, BASE_NONE, nullptr,
                      "One instance (back-end subscription) of a resource."};
ws::Field hf_instance_id{proto, "rlmi.instance.id", "Instance id", FT_STRING, BASE_NONE, nullptr,
                         "The server's identifier of the instance."};
ws::Field hf_instance_state{proto, "rlmi.instance.state", "Instance state", FT_STRING, BASE_NONE, nullptr,
                            "active, pending or terminated: the state of the back-end subscription."};
ws::Field hf_instance_reason{proto, "rlmi.instance.reason", "Instance reason", FT_STRING, BASE_NONE, nullptr,
                             "Why a terminated instance ended (RFC 6665 reasons)."};
ws::Field hf_instance_cid{proto, "rlmi.instance.cid", "Instance cid", FT_STRING, BASE_NONE, nullptr,
                          "The Content-ID of the body part carrying the instance's state."};
ws::Field hf_part{proto, "rlmi.instance.part", "Part", FT_UINT32, BASE_DEC, nullptr,
                  "The multipart part (1 = first) whose Content-ID the instance's cid names."};
ws::Field hf_part_frame{proto, "rlmi.instance.part_frame", "Part in frame", FT_FRAMENUM, BASE_NONE, nullptr,
                        "The frame holding the part the instance's cid names."};
ws::Field hf_part_type{proto, "rlmi.instance.part_type", "Part content type", FT_STRING, BASE_NONE, nullptr,
                       "The Content-Type of the part the instance's cid names."};
ws::Field hf_part_summary{proto, "rlmi.instance.part_summary", "Part state", FT_STRING, BASE_NONE, nullptr,
                          "One line describing the state the part carries (the dialog-info summary)."};
ws::Field hf_caused_by{proto, "rlmi.caused_by", "Caused by", FT_FRAMENUM, BASE_NONE, nullptr,
                       "The frame of the finding this one is a consequence of."};
ws::Field hf_ext{proto, "rlmi.extension", "Extension element", FT_NONE, BASE_NONE, nullptr,
                 "An element outside the RFC 4662 namespace (vendor extension), shown generically."};
ws::Field hf_ext_name{proto, "rlmi.extension.name", "Element name", FT_STRING, BASE_NONE, nullptr,
                      "Qualified name of the extension element as written."};
ws::Field hf_ext_ns{proto, "rlmi.extension.namespace", "Namespace", FT_STRING, BASE_NONE, nullptr,
                    "Namespace URI of the extension element."};
ws::Field hf_ext_text{proto, "rlmi.extension.text", "Text", FT_STRING, BASE_NONE, nullptr,
                      "Text content of the extension element."};
ws::Field hf_ext_attr_name{proto, "rlmi.extension.attribute.name", "Attribute", FT_STRING, BASE_NONE, nullptr,
                           "Name of an attribute of the extension element."};
ws::Field hf_ext_attr_value{proto, "rlmi.extension.attribute.value", "Attribute value", FT_STRING, BASE_NONE, nullptr,
                            "Value of an attribute of the extension element."};

ws::Subtree ett_top{proto};
ws::Subtree ett_resource{proto};
ws::Subtree ett_instance{proto};
ws::Subtree ett_ext{proto};

ws::XmlBodyChecks xml{proto, "rlmi", "RLMI"};
// Only bytes that cannot be parsed are in the Malformed group (XmlBodyChecks), which sets _ws.malformed.
// A well-formed document that breaks RFC 4662 is a protocol warning (group Protocol).
ws::Expert ei_not_rlmi{proto, "rlmi.not_rlmi", PI_PROTOCOL, PI_WARN, "Body labelled rlmi+xml is not an RLMI document"};
ws::Expert ei_namespace{proto, "rlmi.namespace_error", PI_PROTOCOL, PI_WARN, "Undeclared namespace prefix"};
ws::Expert ei_missing_attribute{proto, "rlmi.missing_attribute", PI_PROTOCOL, PI_WARN, "Required attribute missing"};
ws::Expert ei_bad_value{proto, "rlmi.bad_value", PI_PROTOCOL, PI_WARN, "Value is not a number"};
ws::Expert ei_unknown_value{proto, "rlmi.unknown_value", PI_PROTOCOL, PI_WARN, "Value not defined by RFC 4662"};
ws::Expert ei_unknown_element{proto, "rlmi.unknown_element", PI_PROTOCOL, PI_WARN,
                              "Element not defined by RFC 4662 in its namespace"};
ws::Expert ei_value_cut{proto, "rlmi.value_cut", PI_UNDECODED, PI_WARN, "Value shown cut"};
ws::Expert ei_part_missing{proto, "rlmi.part_missing", PI_PROTOCOL, PI_WARN, "Instance cid names no body part"};
ws::Expert ei_part_unreferenced{proto, "rlmi.part_unreferenced", PI_PROTOCOL, PI_WARN, "Body part named by no instance"};
// A consequence: a part named by no instance while an instance's cid names no part (rlmi.caused_by).
ws::Expert ei_part_unmatched{proto, "rlmi.part_unmatched", PI_PROTOCOL, PI_NOTE,
                             "Body part named by no instance, an instance's cid naming no part"};

ws::ForeignField ff_multipart{"mime_multipart"};
ws::ForeignField ff_part{"mime_multipart.part"};
ws::ForeignField ff_part_cid{"mime_multipart.header.content-id"};
ws::ForeignField ff_part_type{"mime_multipart.header.content-type"};
// A dialog-info part's summary comes from dialoginfo in process (dialoginfo/part_summaries.h), not as a
// wanted field: wanting dialoginfo.summary made dialoginfo referenced on every packet.
int dissect_links(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector linker{proto, dissect_links, {&ff_multipart, &ff_part, &ff_part_cid, &ff_part_type}};

dissector_handle_t xml_handle;

// Deepest element nesting of an XML text, counted from the bytes (linear, no parse): how many tree
// levels Wireshark's XML dissector needs. Anything doubtful (a '<' inside a comment or CDATA) counts
// as deeper, never shallower.
std::size_t xml_nesting(std::string_view b) {
    std::size_t depth = 0, deepest = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (b[i] != '<' || i + 1 >= b.size()) continue;
        if (b[i + 1] == '/') {
            if (depth) --depth;
            continue;
        }
        if (b[i + 1] == '!' || b[i + 1] == '?') continue;
        std::size_t j = i + 1;
        for (char quote = 0; j < b.size(); ++j) {
            const char c = b[j];
            if (quote) {
                if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '>') {
                break;
            }
        }
        const bool empty = j < b.size() && b[j - 1] == '/';
        deepest = std::max(deepest, depth + 1);
        if (!empty) ++depth;
        i = j;
    }
    return deepest;
}

// Tree levels above item (the root included).
std::size_t tree_depth(proto_item* item) {
    std::size_t n = 0;
    for (proto_item* p = item ? proto_item_get_parent(item) : nullptr; p; p = proto_item_get_parent(p)) ++n;
    return n;
}

struct Links {
    bool done = false;
    bool in_multipart = false;
    std::vector<core::RlmiPart> parts;
    core::RlmiLinks links;
};

std::size_t heap(const core::XmlValue& v) { return ws::heap_bytes(v.value); }
std::size_t heap(const std::vector<core::XmlExtension>& extensions) {
    return ws::heap_bytes(extensions, [](const core::XmlExtension& e) {
        return ws::heap_bytes(e.name) + ws::heap_bytes(e.ns) + heap(e.text) +
               ws::heap_bytes(e.attributes, [](const auto& a) { return heap(a.first) + heap(a.second); });
    });
}
std::size_t heap(const std::vector<core::RlmiName>& names) {
    return ws::heap_bytes(names, [](const core::RlmiName& n) { return heap(n.text) + heap(n.lang); });
}
std::size_t heap(const core::RlmiResource& r) {
    return heap(r.uri) + heap(r.names) + heap(r.extensions) +
           ws::heap_bytes(r.instances, [](const core::RlmiInstance& i) {
               return heap(i.id) + heap(i.state) + heap(i.reason) + heap(i.cid) + heap(i.extensions);
           });
}
std::size_t heap(const Links& l) {
    const auto string = [](const std::string& s) { return ws::heap_bytes(s); };
    return ws::heap_bytes(l.parts, [](const core::RlmiPart& p) {
               return ws::heap_bytes(p.content_id) + ws::heap_bytes(p.content_type) + ws::heap_bytes(p.summary);
           }) +
           ws::heap_bytes(l.links.instance_part, [](const auto&) { return std::size_t{0}; }) +
           ws::heap_bytes(l.links.missing, string) + ws::heap_bytes(l.links.unreferenced, string);
}

// Everything decided about one body: parsed on the first pass, the links added by the post-dissector
// at the end of that pass. Past half the store's byte bound only the links are kept (compact): a
// revisit decodes the body again and takes them over.
struct Verdict {
    core::Rlmi rlmi;
    std::size_t reported = 0, captured = 0;
    bool truncated = false;
    bool document_dropped = false;
    std::size_t nesting = 0;  ///< xml_nesting() of the captured bytes
    std::string summary;
    Links links;  // filled by the post-dissector

    std::size_t retained_bytes() const {
        const auto problems = [](const core::DocProblem& p) { return ws::heap_bytes(p.message); };
        return sizeof(Verdict) + heap(rlmi.uri) + heap(rlmi.version) + heap(rlmi.full_state) + heap(rlmi.names) +
               ws::heap_bytes(rlmi.resources, [](const core::RlmiResource& r) { return heap(r); }) +
               heap(rlmi.extensions) + ws::heap_bytes(rlmi.problems, problems) + ws::heap_bytes(summary) + heap(links);
    }
    void compact() {
        rlmi = core::Rlmi();
        summary = std::string();
        document_dropped = true;
    }
    bool compacted() const { return document_dropped; }
    void restore(const Verdict& kept) { links = kept.links; }
};
ws::BodyStore<Verdict> verdicts{proto, "rlmi", "linked to its parts"};

// RLMI bodies of the current frame waiting for the post-dissector (first pass only); tree pointers
// are valid until the end of this frame's dissection.
struct Pending {
    guint32 frame;
    std::uint32_t slot;
    tvbuff_t* ds;
    int offset;
    proto_item* top;
    std::vector<proto_tree*> instances;
};
std::vector<Pending> pending;
[[maybe_unused]] const bool state_hooks = [] {
    proto.on_init([] { pending.clear(); });
    proto.on_cleanup([] { pending = {}; });
    return true;
}();

expert_field* expert_for(core::DocProblemKind kind) {
    using K = core::DocProblemKind;
    switch (kind) {
    case K::malformed_xml: return xml.malformed();
    case K::invalid_utf8: return xml.invalid_utf8();
    case K::doctype: return xml.dtd();
    case K::too_large:
    case K::too_deep:
    case K::too_many_nodes: return xml.limit();
    case K::wrong_root: return ei_not_rlmi.get();
    case K::namespace_error: return ei_namespace.get();
    case K::missing_attribute:
    case K::nonstandard_attribute:
    case K::missing_element: return ei_missing_attribute.get();
    case K::bad_value: return ei_bad_value.get();
    case K::unknown_value: return ei_unknown_value.get();
    case K::unknown_element: return ei_unknown_element.get();
    case K::value_cut: return ei_value_cut.get();
    case K::partial_without_version:
    case K::placeholder: break;
    }
    return xml.malformed();
}

ws::ExtensionFields extension_fields() {
    return {hf_ext, hf_ext_name, hf_ext_ns, hf_ext_text, hf_ext_attr_name, hf_ext_attr_value, ett_ext};
}

void add_value(const ws::Tree& t, int hf, const core::XmlValue& v) {
    if (v) t.add_string(hf, v.span, v.value);
}

// The links of each instance (under its subtree) and the parts no instance names (on the body).
void render_links(proto_tree* const* instances, std::size_t n_instances, proto_item* top, const Links& l,
                  packet_info* pinfo) {
    if (!l.done) return;
    for (std::size_t i = 0; i < n_instances && i < l.links.instance_part.size(); ++i) {
        proto_tree* it = instances[i];
        if (const auto& part = l.links.instance_part[i]) {
            const core::RlmiPart& p = l.parts[*part];
            proto_item_set_generated(proto_tree_add_uint(it, hf_part, nullptr, 0, 0, static_cast<guint32>(*part + 1)));
            proto_item_set_generated(proto_tree_add_uint(it, hf_part_frame, nullptr, 0, 0, pinfo->num));
            if (!p.content_type.empty())
                proto_item_set_generated(proto_tree_add_string(it, hf_part_type, nullptr, 0, 0,
                                                               wmem_strdup(pinfo->pool, p.content_type.c_str())));
            if (!p.summary.empty())
                proto_item_set_generated(proto_tree_add_string(it, hf_part_summary, nullptr, 0, 0,
                                                               wmem_strdup(pinfo->pool, p.summary.c_str())));
            // Without the dialoginfo plugin (or for another body type) the part's content type says what it is.
            const std::string& what = p.summary.empty() ? p.content_type : p.summary;
            proto_item_append_text(proto_tree_get_parent(it), " -> part %u%s%s", static_cast<unsigned>(*part + 1),
                                   what.empty() ? "" : ": ", what.c_str());
        }
        const std::string& missing = l.links.missing[i];
        if (!missing.empty()) expert_add_info_format(pinfo, proto_tree_get_parent(it), ei_part_missing.get(), "%s", missing.c_str());
    }
    for (std::size_t i = 0; i < l.links.unreferenced.size(); ++i) {
        const std::string& msg = l.links.unreferenced[i];
        if (msg.empty()) continue;
        const bool consequence = i < l.links.unreferenced_consequence.size() && l.links.unreferenced_consequence[i];
        expert_add_info_format(pinfo, top, consequence ? ei_part_unmatched.get() : ei_part_unreferenced.get(), "%s",
                               msg.c_str());
        // The instance whose cid names no part is in this frame: the link says where the cause is.
        if (consequence && proto_item_get_subtree(top))
            proto_item_set_generated(
                proto_tree_add_uint(proto_item_get_subtree(top), hf_caused_by, nullptr, 0, 0, pinfo->num));
    }
}

Verdict analyse(tvbuff_t* tvb) {
    Verdict v;
    const ws::Bytes body = ws::copy_bytes(tvb, 0, SIZE_MAX);
    v.reported = body.reported;
    v.captured = body.data.size();
    v.truncated = body.truncated;
    v.nesting = xml_nesting(body.view());
    const core::XmlLimits limits = xml.limits();
    if (!v.truncated) v.rlmi = core::parse_rlmi(body.view(), limits);
    v.summary = v.truncated ? "RLMI (truncated)" : core::rlmi_summary(v.rlmi);
    return v;
}

int dissect_rlmi(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, -1, ENC_NA);
    proto_tree* top_tree = proto_item_add_subtree(top, ett_top);
    const ws::Tree t(top_tree, tvb);
    const auto got = verdicts.get(pinfo, tree, top, [&] { return analyse(tvb); });
    const Verdict* v = got.verdict;
    if (!v) return tvb_captured_length(tvb);
    const bool fresh_stored = got.fresh;
    const core::Rlmi& r = v->rlmi;
    if (v->truncated)
        xml.truncated(pinfo, top, v->captured, v->reported);
    proto_item_append_text(top, ": %s", v->summary.c_str());
    proto_item_set_generated(t.add_string(hf_summary, {0, 0}, v->summary));
    // Instance subtrees in packet memory, not a std::vector: every call below may longjmp (the XML
    // dissector too).
    const std::size_t n_instances = r.decoded ? r.instance_count() : 0;
    proto_tree** instance_trees = wmem_alloc0_array(pinfo->pool, proto_tree*, n_instances ? n_instances : 1);
    std::size_t n_rendered = 0;
    if (r.decoded) {
        add_value(t, hf_uri, r.uri);
        if (r.version_value) t.add_uint(hf_version, r.version.span, *r.version_value);
        if (r.full) t.add_bool(hf_full_state, r.full_state.span, *r.full);
        for (const core::RlmiName& n : r.names) {
            add_value(t, hf_name, n.text);
            add_value(t, hf_name_lang, n.lang);
        }
        for (const core::RlmiResource& res : r.resources) {
            const char* label = wmem_strdup_printf(pinfo->pool, "Resource %s", res.uri.value.c_str());
            const ws::Tree rt = t.child(t.subtree(hf_resource, ett_resource, res.span, label));
            add_value(rt, hf_resource_uri, res.uri);
            for (const core::RlmiName& n : res.names) {
                add_value(rt, hf_resource_name, n.text);
                add_value(rt, hf_resource_name_lang, n.lang);
            }
            for (const core::RlmiInstance& in : res.instances) {
                const char* il = wmem_strdup_printf(pinfo->pool, "Instance %s: %s", in.id.value.c_str(),
                                                    in.state.value.c_str());
                proto_tree* sub = rt.subtree(hf_instance, ett_instance, in.span, il);
                const ws::Tree it = rt.child(sub);
                add_value(it, hf_instance_id, in.id);
                add_value(it, hf_instance_state, in.state);
                add_value(it, hf_instance_reason, in.reason);
                add_value(it, hf_instance_cid, in.cid);
                ws::add_extensions(it, in.extensions, extension_fields(), pinfo);
                if (n_rendered < n_instances) instance_trees[n_rendered++] = sub;
            }
            ws::add_extensions(rt, res.extensions, extension_fields(), pinfo);
        }
    }
    ws::add_extensions(t, r.extensions, extension_fields(), pinfo);
    for (const core::DocProblem& p : r.problems) t.add_expert(expert_for(p.kind), pinfo, p.where, p.message);
    render_links(instance_trees, n_rendered, top, v->links, pinfo);

    if (fresh_stored) {
        ws::guard(proto, pinfo, top, [&] {
            if (!pending.empty() && pending.front().frame != pinfo->num) pending.clear();
            pending.push_back({pinfo->num, pinfo->curr_proto_layer_num, tvb_get_ds_tvb(tvb), tvb_raw_offset(tvb), top,
                               std::vector<proto_tree*>(instance_trees, instance_trees + n_rendered)});
        });
    }
    col_append_str(pinfo->cinfo, COL_INFO, v->summary.c_str());
    col_append_str(pinfo->cinfo, COL_INFO, " | ");
    col_set_fence(pinfo->cinfo, COL_INFO);

    // Wireshark's XML dissector with the "list" DTD, as without this plugin (list.* fields), also for
    // bodies over our caps or cut short: unless its tree would reach Wireshark's depth limit, where it
    // stops with a dissector bug and the multipart parts after this one are lost (and with them our
    // links). Its items: one level for its protocol, one per element, one for a text or attribute.
    const bool too_deep_for_tree = tree && tree_depth(top) + 2 + v->nesting + 1 >= prefs.gui_max_tree_depth;
    if (!too_deep_for_tree && xml_handle) call_dissector_with_data(xml_handle, tvb, pinfo, tree, data);
    return tvb_captured_length(tvb);
}

bool inside(const field_info* fi, const field_info* outer) {
    return fi->ds_tvb == outer->ds_tvb && fi->start >= outer->start && fi->start < outer->start + outer->length;
}

// Post-dissector, first pass only: each RLMI body of this frame linked with the parts of its
// multipart body.
int dissect_links(tvbuff_t*, packet_info* pinfo, proto_tree* tree, void*) {
    if (PINFO_FD_VISITED(pinfo) || pending.empty()) {
        verdicts.settle();
        return 0;
    }
    ws::guard(proto, pinfo, nullptr, [&] {
        const ws::Occurrences multiparts(tree, ff_multipart), parts(tree, ff_part), cids(tree, ff_part_cid),
            types(tree, ff_part_type);
        const std::vector<sipsleuth::dialoginfo::PartSummary>& summaries = sipsleuth::dialoginfo::part_summaries(pinfo->num);
        for (Pending& p : pending) {
            if (p.frame != pinfo->num) continue;
            Verdict* v = verdicts.find_mutable(p.frame, p.slot);
            if (!v || !v->rlmi.decoded) continue;
            // The innermost multipart body holding this RLMI document.
            const field_info* mp = nullptr;
            for (guint i = 0; i < multiparts.size(); ++i) {
                const field_info* fi = multiparts.at(i);
                if (fi->ds_tvb == p.ds && fi->start <= p.offset && p.offset < fi->start + fi->length &&
                    (!mp || fi->length < mp->length))
                    mp = fi;
            }
            Links l;
            l.done = true;
            l.in_multipart = mp != nullptr;
            if (mp) {
                // A part ends where the next one starts: the multipart dissector sets each part item's
                // length after dissecting it, which does not stick when the tree is not visible (the
                // first pass of tshark -2), so item lengths are not used.
                // Only mp's own parts: a nested resource list (RFC 4662 section 5) is a part that is itself
                // multipart/related, and its parts belong to its own RLMI document.
                std::vector<int> starts;
                for (guint i = 0; i < parts.size(); ++i) {
                    const field_info* part = parts.at(i);
                    if (!inside(part, mp)) continue;
                    bool nested = false;
                    for (guint j = 0; j < multiparts.size() && !nested; ++j) {
                        const field_info* inner = multiparts.at(j);
                        nested = inner != mp && inside(inner, mp) && inner->start < part->start && inside(part, inner);
                    }
                    if (!nested) starts.push_back(part->start);
                }
                for (std::size_t i = 0; i < starts.size(); ++i) {
                    const int end = i + 1 < starts.size() ? starts[i + 1] : mp->start + mp->length;
                    const ws::Scope scope{mp->ds_tvb, starts[i], end};
                    core::RlmiPart rp;
                    rp.content_id = std::string(ws::string_value(cids.first_in(scope)));
                    rp.content_type = std::string(ws::string_value(types.first_in(scope)));
                    // The first dialog-info body inside the part, as the first dialoginfo.summary item was.
                    for (const sipsleuth::dialoginfo::PartSummary& s : summaries)
                        if (s.ds == scope.ds && s.offset >= scope.begin && s.offset < scope.end) {
                            rp.summary = s.summary;
                            break;
                        }
                    rp.is_root = starts[i] <= p.offset && p.offset < end;
                    l.parts.push_back(std::move(rp));
                }
            }
            l.links = core::link_instances(v->rlmi, l.parts, l.in_multipart);
            v->links = std::move(l);
        }
    });
    // Items are added outside the guard: epan may longjmp, and no C++ temporary may then be alive.
    for (const Pending& p : pending) {
        if (p.frame != pinfo->num) continue;
        if (const Verdict* v = verdicts.find(p.frame, p.slot)) render_links(p.instances.data(), p.instances.size(), p.top, v->links, pinfo);
    }
    pending.clear();
    ws::guard(proto, pinfo, nullptr, [] { verdicts.settle(); });
    return 0;
}

void proto_register_rlmi() {
    proto.register_all();
    register_dissector("rlmi", dissect_rlmi, proto.id());
}

void proto_reg_handoff_rlmi() {
    dissector_add_string("media_type", "application/rlmi+xml", find_dissector("rlmi"));
    xml_handle = find_dissector_add_dependency("xml", proto.id());
    linker.handoff();
}

}  // namespace

SIPSLEUTH_PROTOCOL(proto_register_rlmi, proto_reg_handoff_rlmi)
