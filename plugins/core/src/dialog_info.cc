// SPDX-License-Identifier: GPL-2.0-or-later
// See dialog_info.h. Element and attribute names, required attributes and enumerated values follow
// the XML schema of RFC 4235 section 4.2; the placeholder dialog follows sipXrls.
#include "sipsleuth/core/dialog_info.h"

#include <algorithm>
#include <array>

namespace sipsleuth::core {
namespace {

// A value in a one-line summary (Info column), appended to out: cut to 128 bytes ("..." after a cut),
// control characters escaped. Printable ASCII within the limit (nearly every real value) is appended as
// it is: sanitizing and escaping leave it unchanged.
void append_summary_value(std::string& out, const std::string& value) {
    constexpr std::size_t kMax = 128;
    if (value.size() <= kMax &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
        out += value;
        return;
    }
    bool cut = false;
    out += escape_controls(sanitize_utf8(value, kMax, &cut));
    if (cut) out += "...";
}

constexpr std::array<const char*, 5> kStates = {"trying", "proceeding", "early", "confirmed", "terminated"};
// RFC 4235 section 4.1.3 (event attribute of <state>).
constexpr std::array<const char*, 7> kEvents = {"cancelled", "rejected", "replaced", "local-bye",
                                                "remote-bye", "error", "timeout"};

constexpr CodeName kStateCodes[] = {
    {1, "trying"}, {2, "proceeding"}, {3, "early"}, {4, "confirmed"}, {5, "terminated"},
};

DialogState state_of(std::string_view s) {
    for (std::size_t i = 0; i < kStates.size(); ++i)
        if (s == kStates[i]) return static_cast<DialogState>(i + 1);
    return DialogState::unknown;
}

template <std::size_t N>
bool one_of(std::string_view s, const std::array<const char*, N>& values) {
    for (const char* v : values)
        if (s == v) return true;
    return false;
}

std::string list_of(const char* const* values, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        if (i) out += i + 1 == n ? " or " : ", ";
        out += values[i];
    }
    return out;
}

struct Builder {
    DocReader r;
    DialogInfo& out;

    bool ours(pugi::xml_node el) { return r.in_namespace(el, kDialogInfoNamespace); }

    void unknown_child(pugi::xml_node el, std::string_view parent, std::vector<XmlExtension>& into) {
        // Elements of other namespaces are extensions (RFC 4235 schema: xs:any namespace="##other");
        // an undefined element in the RFC namespace is an error of the sender, shown all the same.
        if (ours(el))
            r.problem(DocProblemKind::unknown_element, r.xml().start_tag(el),
                      "Element " + element_label(el) + " is not defined in <" + std::string(parent) +
                          "> by RFC 4235: shown generically");
        r.extension(el, into);
    }

    void read_participant(pugi::xml_node el, DialogParticipant& p) {
        p.present = true;
        p.span = r.xml().start_tag(el);
        const std::string where = std::string(XmlBody::local_name(el));
        for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            if (!ours(c)) {
                r.extension(c, p.extensions);
                continue;
            }
            const std::string_view n = XmlBody::local_name(c);
            if (n == "identity") {
                DialogIdentity id;
                id.uri = r.text(c);
                id.display = r.attribute(c, "display");
                p.identities.push_back(std::move(id));
            } else if (n == "target") {
                p.target = r.required(c, "uri", "target");
                for (pugi::xml_node t = c.first_child(); t; t = t.next_sibling()) {
                    if (t.type() != pugi::node_element) continue;
                    if (ours(t) && XmlBody::local_name(t) == "param") {
                        DialogTargetParam param;
                        param.name = r.required(t, "pname", "param");
                        // A vendor (Vertical Wave, wswiki__wireuploaded.pcap) writes pvalue=.
                        param.value = r.required_or(t, "pval", "pvalue", "param", "RFC 4235");
                        p.params.push_back(std::move(param));
                    } else {
                        unknown_child(t, "target", p.extensions);
                    }
                }
            } else if (n == "session-description") {
                p.session_description = r.text(c);
                p.session_description_type = r.required(c, "type", "session-description");
            } else if (n == "cseq") {
                p.cseq = r.text(c);
                p.cseq_value = r.number(p.cseq, "<cseq>");
            } else {
                unknown_child(c, where, p.extensions);
            }
        }
    }

    void read_dialog(pugi::xml_node el) {
        // Filled in place: a DialogEntry is large, and nothing else is added to out.dialogs meanwhile.
        DialogEntry& d = out.dialogs.emplace_back();
        d.span = r.xml().start_tag(el);
        d.id = r.required(el, "id", "dialog");
        d.call_id = r.attribute(el, "call-id");
        d.local_tag = r.attribute(el, "local-tag");
        d.remote_tag = r.attribute(el, "remote-tag");
        d.direction = r.attribute(el, "direction");
        if (d.direction) {
            if (d.direction.value == "initiator") d.direction_kind = DialogDirection::initiator;
            else if (d.direction.value == "recipient") d.direction_kind = DialogDirection::recipient;
            else {
                d.direction_kind = DialogDirection::unknown;
                r.problem(DocProblemKind::unknown_value, d.direction.span,
                          "Dialog direction " + quote_value(d.direction.value) + " is not initiator or recipient");
            }
        }
        bool have_state = false;
        for (pugi::xml_node c = el.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            if (!ours(c)) {
                r.extension(c, d.extensions);
                continue;
            }
            const std::string_view n = XmlBody::local_name(c);
            if (n == "state") {
                if (have_state) continue;
                have_state = true;
                d.state = r.text(c);
                d.state_kind = state_of(d.state.value);
                if (d.state_kind == DialogState::unknown)
                    r.problem(DocProblemKind::unknown_value, d.state.span,
                              "Dialog state " + quote_value(d.state.value) + " is not " +
                                  list_of(kStates.data(), kStates.size()));
                d.state_event = r.attribute(c, "event");
                if (d.state_event && !one_of(d.state_event.value, kEvents))
                    r.problem(DocProblemKind::unknown_value, d.state_event.span,
                              "State event " + quote_value(d.state_event.value) + " is not " +
                                  list_of(kEvents.data(), kEvents.size()));
                d.state_code = r.attribute(c, "code");
                d.code = r.number(d.state_code, "State code");
            } else if (n == "duration") {
                d.duration = r.text(c);
                d.duration_value = r.number(d.duration, "<duration>");
            } else if (n == "replaces") {
                d.has_replaces = true;
                d.replaces_span = r.xml().start_tag(c);
                d.replaces_call_id = r.required(c, "call-id", "replaces");
                d.replaces_local_tag = r.required(c, "local-tag", "replaces");
                d.replaces_remote_tag = r.required(c, "remote-tag", "replaces");
            } else if (n == "referred-by") {
                d.referred_by = r.text(c);
                d.referred_by_display = r.attribute(c, "display");
            } else if (n == "route-set") {
                for (pugi::xml_node h = c.first_child(); h; h = h.next_sibling()) {
                    if (h.type() != pugi::node_element) continue;
                    if (ours(h) && XmlBody::local_name(h) == "hop") d.route_set.push_back(r.text(h));
                    else unknown_child(h, "route-set", d.extensions);
                }
            } else if (n == "local") {
                read_participant(c, d.local);
            } else if (n == "remote") {
                read_participant(c, d.remote);
            } else {
                unknown_child(c, "dialog", d.extensions);
            }
        }
        if (!have_state)
            r.problem(DocProblemKind::missing_element, d.span,
                      "<dialog>" + (d.id ? " id " + quote_value(d.id.value) + "" : std::string()) + " has no <state> element");
        // sipXrls writes <dialog id=";"><state>terminated</state>... when the resource has no dialog.
        if (d.id.value == ";" && d.state_kind == DialogState::terminated) {
            d.placeholder = true;
            r.problem(DocProblemKind::placeholder, d.span,
                      "Placeholder dialog id \";\" synthesized by the Resource List Server: " +
                          (out.entity.value.empty() ? std::string("the resource") : short_value(out.entity.value)) +
                          " reports no current dialog, this is not a call");
        }
    }

    void read_root(pugi::xml_node root) {
        out.decoded = true;
        out.root_span = r.xml().start_tag(root);
        out.version = r.attribute(root, "version");
        out.state = r.required(root, "state", "dialog-info");
        out.entity = r.required(root, "entity", "dialog-info");
        if (out.state) {
            if (out.state.value == "full") out.doc_state = DocState::full;
            else if (out.state.value == "partial") out.doc_state = DocState::partial;
            else {
                out.doc_state = DocState::unknown;
                r.problem(DocProblemKind::unknown_value, out.state.span,
                          "Document state " + quote_value(out.state.value) + " is not full or partial");
            }
        }
        if (!out.version) {
            // RFC 4235 section 4.1: the version orders partial updates; without it one cannot apply.
            if (out.doc_state == DocState::partial)
                r.problem(DocProblemKind::partial_without_version, out.root_span,
                          "Partial document without a version: a subscriber cannot tell which state it updates");
            else
                r.problem(DocProblemKind::missing_attribute, out.root_span, "<dialog-info> has no version attribute");
        } else {
            out.version_value = r.number(out.version, "Version");
        }
        std::size_t dialogs = 0;  // at most this many (the namespace is checked below)
        for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling())
            if (c.type() == pugi::node_element && XmlBody::local_name(c) == "dialog") ++dialogs;
        out.dialogs.reserve(dialogs);
        for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            if (ours(c) && XmlBody::local_name(c) == "dialog") read_dialog(c);
            else unknown_child(c, "dialog-info", out.extensions);
        }
    }
};

}  // namespace

const char* dialog_state_name(DialogState s) {
    switch (s) {
    case DialogState::absent: return "";
    case DialogState::unknown: return "unknown";
    default: return kStates[static_cast<std::size_t>(s) - 1];
    }
}

const char* dialog_direction_name(DialogDirection d) {
    switch (d) {
    case DialogDirection::initiator: return "initiator";
    case DialogDirection::recipient: return "recipient";
    case DialogDirection::unknown: return "unknown";
    default: return "";
    }
}

CodeTable dialog_states() { return {kStateCodes, sizeof kStateCodes / sizeof kStateCodes[0]}; }

DialogInfo parse_dialog_info(std::string_view body, const XmlLimits& limits) {
    DialogInfo out;
    const XmlBody xml = XmlBody::parse(body, limits);
    Builder b{DocReader(xml, out.problems), out};
    b.r.take_issues();
    out.xml_depth = xml.depth();
    if (!xml.usable() || !xml.root()) return out;
    const pugi::xml_node root = xml.root();
    const std::size_t before = out.problems.size();
    const bool in_ns = b.ours(root);
    if (XmlBody::local_name(root) == "dialog-info" && in_ns) {
        b.read_root(root);
    } else {
        // An undeclared prefix on the root was just reported: that is why it is not read (one incident).
        if (out.problems.size() == before) {
            const auto ns = element_namespace(root);
            b.r.problem(DocProblemKind::wrong_root, xml.start_tag(root),
                        "Root element is " + element_label(root, 32) +
                            (ns && !ns->empty() ? " in namespace " + short_value(std::string(*ns), 48)
                                                : std::string(" in no namespace")) +
                            ", not <dialog-info> in " + std::string(kDialogInfoNamespace) + " (mislabelled body?)");
        }
        b.r.extension(root, out.extensions);
    }
    return out;
}

std::string dialog_brief(const DialogEntry& d) {
    if (d.placeholder) return "placeholder";
    std::string s;
    if (d.direction_kind != DialogDirection::absent) s = d.direction_kind == DialogDirection::unknown ? short_value(d.direction.value) : dialog_direction_name(d.direction_kind);
    const std::string state = d.state_kind == DialogState::absent ? std::string("no state")
                              : d.state_kind == DialogState::unknown ? short_value(d.state.value)
                                                                     : std::string(dialog_state_name(d.state_kind));
    return s.empty() ? state : s + ", " + state;
}

std::string dialog_info_summary(const DialogInfo& info) {
    if (!info.decoded) return "dialog-info (not decoded)";
    // Built in place, without a temporary per value. Not reserved: the store's byte bound counts the
    // string's capacity, and a larger one would fill it earlier than before.
    std::string s = "dialog-info";
    // Values cut and escaped: the Info column is one line.
    if (info.version) {
        s += " v";
        append_summary_value(s, info.version.value);
    }
    if (info.state) {
        s += ' ';
        append_summary_value(s, info.state.value);
    }
    if (info.entity) {
        s += ' ';
        append_summary_value(s, info.entity.value);
    }
    s += ": ";
    s += std::to_string(info.dialogs.size());
    s += info.dialogs.size() == 1 ? " dialog" : " dialogs";
    if (!info.dialogs.empty()) {
        s += " (";
        // At most four dialogs spelled out: the Info column is one line.
        for (std::size_t i = 0; i < info.dialogs.size() && i < 4; ++i) {
            if (i) s += "; ";
            s += dialog_brief(info.dialogs[i]);
        }
        if (info.dialogs.size() > 4) s += "; ...";
        s += ")";
    }
    return s;
}

}  // namespace sipsleuth::core
