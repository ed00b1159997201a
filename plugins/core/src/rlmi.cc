// SPDX-License-Identifier: GPL-2.0-or-later
// See rlmi.h. Required attributes and values follow the schema of RFC 4662 section 5.4 (list: uri,
// version, fullState; resource: uri; instance: id, state; state one of active, pending, terminated).
#include "sipsleuth/core/rlmi.h"

#include "sipsleuth/core/content_id.h"

namespace sipsleuth::core {
namespace {

// A value in a one-line summary (Info column): cut to 128 bytes, control characters escaped.
std::string summary_value(const std::string& value) {
    bool cut = false;
    std::string s = escape_controls(sanitize_utf8(value, 128, &cut));
    return cut ? s + "..." : s;
}

struct Builder {
    DocReader r;
    Rlmi& out;

    bool ours(pugi::xml_node el) { return r.in_namespace(el, kRlmiNamespace); }

    void unknown_child(pugi::xml_node el, std::string_view parent, std::vector<XmlExtension>& into) {
        if (ours(el))
            r.problem(DocProblemKind::unknown_element, r.xml().start_tag(el),
                      "Element " + element_label(el) + " is not defined in <" + std::string(parent) +
                          "> by RFC 4662: shown generically");
        r.extension(el, into);
    }

    RlmiName read_name(pugi::xml_node el) {
        RlmiName n;
        n.text = r.text(el);
        n.lang = r.attribute(el, "xml:lang");
        return n;
    }

    void read_instance(pugi::xml_node el, RlmiResource& res) {
        RlmiInstance in;
        in.span = r.xml().start_tag(el);
        in.id = r.required(el, "id", "instance");
        in.state = r.required(el, "state", "instance");
        in.reason = r.attribute(el, "reason");
        in.cid = r.attribute(el, "cid");
        const std::string& s = in.state.value;
        if (in.state && s != "active" && s != "pending" && s != "terminated")
            r.problem(DocProblemKind::unknown_value, in.state.span,
                      "Instance state " + quote_value(s) + " is not active, pending or terminated");
        for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling())
            if (c.type() == pugi::node_element) unknown_child(c, "instance", in.extensions);
        res.instances.push_back(std::move(in));
    }

    void read_resource(pugi::xml_node el) {
        RlmiResource res;
        res.span = r.xml().start_tag(el);
        res.uri = r.required(el, "uri", "resource");
        for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            if (!ours(c)) {
                r.extension(c, res.extensions);
                continue;
            }
            const std::string_view n = XmlBody::local_name(c);
            if (n == "name") res.names.push_back(read_name(c));
            else if (n == "instance") read_instance(c, res);
            else unknown_child(c, "resource", res.extensions);
        }
        out.resources.push_back(std::move(res));
    }

    void read_root(pugi::xml_node root) {
        out.decoded = true;
        out.root_span = r.xml().start_tag(root);
        out.uri = r.required(root, "uri", "list");
        out.version = r.required(root, "version", "list");
        out.version_value = r.number(out.version, "Version");
        out.full_state = r.required(root, "fullState", "list");
        if (out.full_state) {
            const std::string& v = out.full_state.value;
            if (v == "true" || v == "1") out.full = true;
            else if (v == "false" || v == "0") out.full = false;
            else
                r.problem(DocProblemKind::unknown_value, out.full_state.span,
                          "fullState " + quote_value(v) + " is not true or false");
        }
        for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            if (!ours(c)) {
                r.extension(c, out.extensions);
                continue;
            }
            const std::string_view n = XmlBody::local_name(c);
            if (n == "name") out.names.push_back(read_name(c));
            else if (n == "resource") read_resource(c);
            else unknown_child(c, "list", out.extensions);
        }
    }
};

}  // namespace

std::size_t Rlmi::instance_count() const {
    std::size_t n = 0;
    for (const RlmiResource& r : resources) n += r.instances.size();
    return n;
}

Rlmi parse_rlmi(std::string_view body, const XmlLimits& limits) {
    Rlmi out;
    const XmlBody xml = XmlBody::parse(body, limits);
    Builder b{DocReader(xml, out.problems), out};
    b.r.take_issues();
    out.xml_depth = xml.depth();
    if (!xml.usable() || !xml.root()) return out;
    const pugi::xml_node root = xml.root();
    const std::size_t before = out.problems.size();
    if (XmlBody::local_name(root) == "list" && b.ours(root)) {
        b.read_root(root);
    } else {
        // An undeclared prefix on the root was just reported: that is why it is not read (one incident).
        if (out.problems.size() == before) {
            const auto ns = element_namespace(root);
            b.r.problem(DocProblemKind::wrong_root, xml.start_tag(root),
                        "Root element is " + element_label(root, 32) +
                            (ns && !ns->empty() ? " in namespace " + short_value(std::string(*ns), 48)
                                                : std::string(" in no namespace")) +
                            ", not <list> in " + std::string(kRlmiNamespace) + " (mislabelled body?)");
        }
        b.r.extension(root, out.extensions);
    }
    return out;
}

std::string rlmi_summary(const Rlmi& rlmi) {
    if (!rlmi.decoded) return "RLMI (not decoded)";
    std::string s = "RLMI";
    // Values cut and escaped: the Info column is one line.
    if (rlmi.version) s += " v" + summary_value(rlmi.version.value);
    if (rlmi.full) s += *rlmi.full ? " full" : " partial";
    if (rlmi.uri) s += " " + summary_value(rlmi.uri.value);
    const std::size_t n = rlmi.resources.size(), i = rlmi.instance_count();
    s += ": " + std::to_string(n) + (n == 1 ? " resource, " : " resources, ") + std::to_string(i) +
         (i == 1 ? " instance" : " instances");
    return s;
}

RlmiLinks link_instances(const Rlmi& rlmi, const std::vector<RlmiPart>& parts, bool in_multipart) {
    RlmiLinks links;
    std::vector<bool> named(parts.size(), false);
    std::vector<std::optional<std::string>> ids;
    ids.reserve(parts.size());
    for (const RlmiPart& p : parts) ids.push_back(content_id_value(p.content_id));
    std::size_t with_cid = 0, missing = 0;
    for (const RlmiResource& res : rlmi.resources)
        for (const RlmiInstance& in : res.instances) with_cid += in.cid ? 1 : 0;
    for (const RlmiResource& res : rlmi.resources) {
        for (const RlmiInstance& in : res.instances) {
            std::optional<std::size_t> found;
            std::string message;
            if (in.cid) {
                // Some servers write the cid as a cid: URL; RFC 4662 wants the bare Content-ID.
                std::string target = in.cid.value;
                if (auto url = cid_url_target(target)) target = *url;
                for (std::size_t i = 0; i < parts.size(); ++i) {
                    if (ids[i] && *ids[i] == target && !parts[i].is_root) {
                        found = i;
                        named[i] = true;
                        break;
                    }
                }
                if (!found && in_multipart) {
                    ++missing;
                    message = "Instance \"" + short_value(in.id.value, 40) + "\" names cid " + short_value(in.cid.value) +
                              ", which no part of this multipart body has as Content-ID";
                } else if (!found && missing++ == 0) {
                    // One incident: the document is not in a multipart body, so no cid can name a part.
                    message = "RLMI document names parts by cid (" + std::to_string(with_cid) +
                              (with_cid == 1 ? " instance" : " instances") +
                              ") but is not in a multipart/related body";
                }
            }
            links.instance_part.push_back(found);
            links.missing.push_back(std::move(message));
        }
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
        std::string msg;
        const bool unnamed = !parts[i].is_root && !named[i];
        if (unnamed)
            msg = "Part " + std::to_string(i + 1) + " (" +
                  (parts[i].content_type.empty() ? std::string("no Content-Type") : short_value(parts[i].content_type, 40)) +
                  ", " +
                  (parts[i].content_id.empty() ? std::string("no Content-ID") : "Content-ID " + short_value(parts[i].content_id, 40)) +
                  ") is named by no RLMI instance";
        // An instance's cid names no part while a part is named by none: most likely one mismatch
        // between a cid and a Content-ID, reported on the instance; the part is its consequence.
        const bool consequence = unnamed && missing > 0;
        if (consequence) msg += ", and an instance's cid names no part (the same mismatch?)";
        links.unreferenced.push_back(std::move(msg));
        links.unreferenced_consequence.push_back(consequence);
    }
    return links;
}

}  // namespace sipsleuth::core
