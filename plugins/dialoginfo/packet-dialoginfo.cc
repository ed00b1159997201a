// SPDX-License-Identifier: GPL-2.0-or-later
// dialoginfo: application/dialog-info+xml bodies (RFC 4235), which Wireshark 4.0 shows as raw media.
// Busy-lamp-field lamps are driven by them (field case 000: Polycom phones behind a sipX Resource List
// Server). The body dissector (media_type table: plain NOTIFYs and multipart parts alike) parses with
// the core (core/dialog_info.h) and maps the result onto fields; a post-dissector follows the NOTIFYs
// of each subscription (core/dialog_info_tracker.h: versions, partial state, dialogs never reported
// ringing, reused ids), keyed by the SIP dialog of the NOTIFY carrying the body (the suite's SIP
// observation of the frame, wsglue/sip_observer.h: Call-ID and tags as core::sip::Message has them) and
// by the document's entity. It reads no SIP field itself. Findings are computed on the first pass and
// stored with the body's verdict, so a revisit (tshark -2, the GUI) renders the same tree.
#include <algorithm>
#include <tuple>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/dialog_info.h"
#include "sipsleuth/core/dialog_info_tracker.h"
#include "sipsleuth/wsglue/builtin_body.h"
#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/xml_body_checks.h"
#include "sipsleuth/wsglue/store.h"
#include "sipsleuth/wsglue/tvb.h"
#include "sipsleuth/wsglue/xml_extensions.h"

#include "part_summaries.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;

namespace {

ws::Protocol proto{"Dialog Event Package (RFC 4235)", "DialogInfo", "dialoginfo"};

// Document.
ws::Field hf_version{proto, "dialoginfo.version", "Version", FT_UINT32, BASE_DEC, nullptr,
                     "The document's version: incremented by one for each NOTIFY of a subscription."};
ws::Field hf_state{proto, "dialoginfo.state", "State", FT_STRING, BASE_NONE, nullptr,
                   "full (the whole dialog list) or partial (changes since the previous version)."};
ws::Field hf_entity{proto, "dialoginfo.entity", "Entity", FT_STRING, BASE_NONE, nullptr,
                    "The monitored user or line (the resource whose dialogs are reported)."};
ws::Field hf_summary{proto, "dialoginfo.summary", "Summary", FT_STRING, BASE_NONE, nullptr,
                     "One line describing the document: version, state, entity and each dialog's direction and state."};

// Dialog.
ws::Field hf_dialog{proto, "dialoginfo.dialog", "Dialog", FT_NONE, BASE_NONE, nullptr, "One dialog element."};
ws::Field hf_dialog_id{proto, "dialoginfo.dialog.id", "Dialog id", FT_STRING, BASE_NONE, nullptr,
                       "The notifier's identifier of the dialog; \";\" is sipX's placeholder for no dialog."};
ws::Field hf_call_id{proto, "dialoginfo.dialog.call_id", "Call-ID", FT_STRING, BASE_NONE, nullptr,
                     "The Call-ID of the dialog being reported."};
ws::Field hf_local_tag{proto, "dialoginfo.dialog.local_tag", "Local tag", FT_STRING, BASE_NONE, nullptr,
                       "The monitored side's tag of the dialog."};
ws::Field hf_remote_tag{proto, "dialoginfo.dialog.remote_tag", "Remote tag", FT_STRING, BASE_NONE, nullptr,
                        "The other side's tag of the dialog."};
ws::Field hf_direction{proto, "dialoginfo.dialog.direction", "Direction", FT_STRING, BASE_NONE, nullptr,
                       "initiator (the monitored user called) or recipient (the monitored user is called)."};
ws::Field hf_dialog_state{proto, "dialoginfo.dialog.state", "Dialog state", FT_STRING, BASE_NONE, nullptr,
                          "trying, proceeding, early (ringing), confirmed or terminated."};
ws::Field hf_state_event{proto, "dialoginfo.dialog.state.event", "State event", FT_STRING, BASE_NONE, nullptr,
                         "Why the dialog changed state: cancelled, rejected, replaced, local-bye, remote-bye, "
                         "error or timeout."};
ws::Field hf_state_code{proto, "dialoginfo.dialog.state.code", "State code", FT_UINT32, BASE_DEC, nullptr,
                        "The SIP response code that changed the state."};
ws::Field hf_duration{proto, "dialoginfo.dialog.duration", "Duration", FT_UINT32, BASE_DEC, nullptr,
                      "Seconds since the dialog was created."};
ws::Field hf_replaces{proto, "dialoginfo.dialog.replaces", "Replaces", FT_NONE, BASE_NONE, nullptr,
                      "The dialog this one replaces (RFC 3891)."};
ws::Field hf_replaces_call_id{proto, "dialoginfo.dialog.replaces.call_id", "Replaced Call-ID", FT_STRING, BASE_NONE,
                              nullptr, "Call-ID of the replaced dialog."};
ws::Field hf_replaces_local_tag{proto, "dialoginfo.dialog.replaces.local_tag", "Replaced local tag", FT_STRING,
                                BASE_NONE, nullptr, "Local tag of the replaced dialog."};
ws::Field hf_replaces_remote_tag{proto, "dialoginfo.dialog.replaces.remote_tag", "Replaced remote tag", FT_STRING,
                                 BASE_NONE, nullptr, "Remote tag of the replaced dialog."};
ws::Field hf_referred_by{proto, "dialoginfo.dialog.referred_by", "Referred-By", FT_STRING, BASE_NONE, nullptr,
                         "Who referred the call (RFC 3892)."};
ws::Field hf_referred_by_display{proto, "dialoginfo.dialog.referred_by.display", "Referred-By display name",
                                 FT_STRING, BASE_NONE, nullptr, "The display attribute of referred-by."};
ws::Field hf_hop{proto, "dialoginfo.dialog.route_set.hop", "Route set hop", FT_STRING, BASE_NONE, nullptr,
                 "One hop of the dialog's route set."};

// Participants.
struct ParticipantFields {
    ws::Field node, identity, display, target, pname, pval, sdp, sdp_type, cseq;
};
#define PARTICIPANT(side, Side)                                                                                       \
    ParticipantFields side {                                                                                          \
        {proto, "dialoginfo.dialog." #side, Side, FT_NONE, BASE_NONE, nullptr, Side " participant of the dialog."},   \
            {proto, "dialoginfo.dialog." #side ".identity", Side " identity", FT_STRING, BASE_NONE, nullptr,          \
             "A URI identifying the participant."},                                                                   \
            {proto, "dialoginfo.dialog." #side ".identity.display", Side " display name", FT_STRING, BASE_NONE,       \
             nullptr, "The display attribute of the identity."},                                                      \
            {proto, "dialoginfo.dialog." #side ".target", Side " target", FT_STRING, BASE_NONE, nullptr,              \
             "The participant's target URI (its Contact)."},                                                          \
            {proto, "dialoginfo.dialog." #side ".target.param.name", Side " target parameter", FT_STRING, BASE_NONE,  \
             nullptr, "Name (pname) of a target parameter."},                                                         \
            {proto, "dialoginfo.dialog." #side ".target.param.value", Side " target parameter value", FT_STRING,      \
             BASE_NONE, nullptr, "Value (pval) of a target parameter."},                                              \
            {proto, "dialoginfo.dialog." #side ".session_description", Side " session description", FT_STRING,      \
             BASE_NONE, nullptr, "The participant's session description (often SDP)."},                              \
            {proto, "dialoginfo.dialog." #side ".session_description.type", Side " session description type",       \
             FT_STRING, BASE_NONE, nullptr, "The media type of the session description."},                            \
            {proto, "dialoginfo.dialog." #side ".cseq", Side " CSeq", FT_UINT32, BASE_DEC, nullptr,                   \
             "The participant's most recent CSeq number in the dialog."},                                             \
    }
PARTICIPANT(local, "Local");
PARTICIPANT(remote, "Remote");
#undef PARTICIPANT

// Extensions.
ws::Field hf_ext{proto, "dialoginfo.extension", "Extension element", FT_NONE, BASE_NONE, nullptr,
                 "An element outside the RFC 4235 namespace (vendor extension), shown generically."};
ws::Field hf_ext_name{proto, "dialoginfo.extension.name", "Element name", FT_STRING, BASE_NONE, nullptr,
                      "Qualified name of the extension element as written."};
ws::Field hf_ext_ns{proto, "dialoginfo.extension.namespace", "Namespace", FT_STRING, BASE_NONE, nullptr,
                    "Namespace URI of the extension element."};
ws::Field hf_ext_text{proto, "dialoginfo.extension.text", "Text", FT_STRING, BASE_NONE, nullptr,
                      "Text content of the extension element."};
ws::Field hf_ext_attr_name{proto, "dialoginfo.extension.attribute.name", "Attribute", FT_STRING, BASE_NONE, nullptr,
                           "Name of an attribute of the extension element."};
ws::Field hf_ext_attr_value{proto, "dialoginfo.extension.attribute.value", "Attribute value", FT_STRING, BASE_NONE,
                            nullptr, "Value of an attribute of the extension element."};

// Subscription tracking (generated).
ws::Field hf_prev_frame{proto, "dialoginfo.track.previous_frame", "Previous NOTIFY", FT_FRAMENUM, BASE_NONE, nullptr,
                        "The previous NOTIFY of this subscription for this entity."};
ws::Field hf_prev_version{proto, "dialoginfo.track.previous_version", "Previous version", FT_UINT32, BASE_DEC, nullptr,
                          "The version of the previous document of this subscription for this entity."};
ws::Field hf_retransmission{proto, "dialoginfo.track.retransmission", "Retransmission", FT_BOOLEAN, BASE_NONE, nullptr,
                            "True when this NOTIFY's CSeq is not above the previous one's (a retransmission, or out of order): "
                            "not checked again."};
ws::Field hf_related_frame{proto, "dialoginfo.track.related_frame", "Related frame", FT_FRAMENUM, BASE_NONE, nullptr,
                           "The earlier frame a subscription finding refers to."};
ws::Field hf_prev_cseq{proto, "dialoginfo.track.previous_cseq", "Previous CSeq", FT_UINT32, BASE_DEC, nullptr,
                       "The CSeq number of the previous NOTIFY of this subscription for this entity."};
ws::Field hf_full_state_frame{proto, "dialoginfo.track.full_state_frame", "Latest full state", FT_FRAMENUM, BASE_NONE,
                              nullptr,
                              "The subscription's latest full-state document for this entity before this one: the "
                              "state a partial document updates."};
ws::Field hf_missing{proto, "dialoginfo.track.missing_notifies", "NOTIFYs missing", FT_UINT32, BASE_DEC, nullptr,
                     "How many NOTIFYs of this subscription are missing before this one (from the CSeq gap)."};
ws::Field hf_caused_by{proto, "dialoginfo.caused_by", "Caused by", FT_FRAMENUM, BASE_NONE, nullptr,
                       "The frame of the finding this one is a consequence of."};
ws::Field hf_terminated_frame{proto, "dialoginfo.dialog.terminated_frame", "Reported terminated in", FT_FRAMENUM,
                              BASE_NONE, nullptr, "The NOTIFY that reported this dialog id terminated before."};
ws::Field hf_first_frame{proto, "dialoginfo.dialog.first_frame", "First reported in", FT_FRAMENUM, BASE_NONE, nullptr,
                         "The NOTIFY of this subscription that first reported this dialog."};
ws::Field hf_provisional_frame{proto, "dialoginfo.dialog.provisional_frame", "Provisional response", FT_FRAMENUM,
                               BASE_NONE, nullptr,
                               "A 180 or 183 response of this dialog's call in the capture (its Call-ID)."};
ws::Field hf_provisional_code{proto, "dialoginfo.dialog.provisional_code", "Provisional response code", FT_UINT32,
                              BASE_DEC, nullptr, "The code of that provisional response (180 or 183)."};

ws::Subtree ett_top{proto};
ws::Subtree ett_dialog{proto};
ws::Subtree ett_participant{proto};
ws::Subtree ett_replaces{proto};
ws::Subtree ett_ext{proto};

ws::XmlBodyChecks xml{proto, "dialoginfo", "dialog-info"};
// Only bytes that cannot be parsed are in the Malformed group (XmlBodyChecks), which sets _ws.malformed.
// A well-formed document that breaks RFC 4235 is a protocol warning (group Protocol) that says what the
// body has instead.
ws::Expert ei_not_dialog_info{proto, "dialoginfo.not_dialog_info", PI_PROTOCOL, PI_WARN,
                              "Body labelled dialog-info+xml is not a dialog-info document"};
ws::Expert ei_namespace{proto, "dialoginfo.namespace_error", PI_PROTOCOL, PI_WARN, "Undeclared namespace prefix"};
ws::Expert ei_missing_attribute{proto, "dialoginfo.missing_attribute", PI_PROTOCOL, PI_WARN,
                                "Required attribute missing"};
ws::Expert ei_nonstandard_attribute{proto, "dialoginfo.nonstandard_attribute", PI_PROTOCOL, PI_WARN,
                                    "Attribute spelled other than RFC 4235 says (its value read)"};
ws::Expert ei_missing_element{proto, "dialoginfo.missing_element", PI_PROTOCOL, PI_WARN, "Required element missing"};
ws::Expert ei_bad_value{proto, "dialoginfo.bad_value", PI_PROTOCOL, PI_WARN, "Value is not a number"};
ws::Expert ei_unknown_value{proto, "dialoginfo.unknown_value", PI_PROTOCOL, PI_WARN, "Value not defined by RFC 4235"};
ws::Expert ei_unknown_element{proto, "dialoginfo.unknown_element", PI_PROTOCOL, PI_WARN,
                              "Element not defined by RFC 4235 in its namespace"};
ws::Expert ei_partial_no_version{proto, "dialoginfo.partial_without_version", PI_PROTOCOL, PI_WARN,
                                 "Partial document without a version"};
ws::Expert ei_placeholder{proto, "dialoginfo.placeholder_dialog", PI_SEQUENCE, PI_NOTE,
                          "Placeholder dialog synthesized by the Resource List Server"};
ws::Expert ei_value_cut{proto, "dialoginfo.value_cut", PI_UNDECODED, PI_WARN, "Value shown cut"};
ws::Expert ei_version_skipped{proto, "dialoginfo.version_skipped", PI_SEQUENCE, PI_WARN,
                              "Document versions and NOTIFY CSeqs skipped: NOTIFYs lost"};
ws::Expert ei_version_backwards{proto, "dialoginfo.version_backwards", PI_SEQUENCE, PI_WARN,
                                "Document version went backwards without a full state"};
ws::Expert ei_partial_before_full{proto, "dialoginfo.partial_before_full", PI_SEQUENCE, PI_WARN,
                                  "Partial state before any full state"};
ws::Expert ei_ringing_not_reported{proto, "dialoginfo.ringing_not_reported", PI_SEQUENCE, PI_WARN,
                                   "Incoming dialog never reported ringing"};
// A consequence (dialoginfo.caused_by names the discarded document, whose version_backwards is the cause).
ws::Expert ei_ringing_discarded{proto, "dialoginfo.ringing_discarded", PI_SEQUENCE, PI_NOTE,
                                "Incoming dialog reported ringing only in a discarded document"};
ws::Expert ei_dialog_id_reused{proto, "dialoginfo.dialog_id_reused", PI_PROTOCOL, PI_WARN,
                               "Terminated dialog id reused"};
ws::Expert ei_track_full{proto, "dialoginfo.track_full", PI_UNDECODED, PI_NOTE,
                         "Subscription tracking full: later subscriptions not checked"};

ws::UintPref pref_max_tracked{proto, "max_tracked", "Subscriptions tracked",
                              "Most (subscription, entity) pairs whose NOTIFYs are checked against each other.", 10000};

// The SIP messages come from the SipObserver, whose fields the post-dissector wants.
int dissect_tracking(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector tracking{proto, dissect_tracking, {}};
[[maybe_unused]] const bool observer_wanted = [] {
    tracking.want(ws::SipObserver::instance().fields());
    return true;
}();

std::size_t heap(const core::XmlValue& v) { return ws::heap_bytes(v.value); }
std::size_t heap(const std::vector<core::XmlExtension>& extensions) {
    return ws::heap_bytes(extensions, [](const core::XmlExtension& e) {
        return ws::heap_bytes(e.name) + ws::heap_bytes(e.ns) + heap(e.text) +
               ws::heap_bytes(e.attributes, [](const auto& a) { return heap(a.first) + heap(a.second); });
    });
}
std::size_t heap(const core::DialogParticipant& p) {
    return ws::heap_bytes(p.identities, [](const core::DialogIdentity& i) { return heap(i.uri) + heap(i.display); }) +
           heap(p.target) +
           ws::heap_bytes(p.params, [](const core::DialogTargetParam& t) { return heap(t.name) + heap(t.value); }) +
           heap(p.session_description) + heap(p.session_description_type) + heap(p.cseq) + heap(p.extensions);
}
std::size_t heap(const core::DialogEntry& d) {
    std::size_t n = 0;
    for (const core::XmlValue* v : {&d.id, &d.call_id, &d.local_tag, &d.remote_tag, &d.direction, &d.state,
                                    &d.state_event, &d.state_code, &d.duration, &d.replaces_call_id,
                                    &d.replaces_local_tag, &d.replaces_remote_tag, &d.referred_by,
                                    &d.referred_by_display})
        n += heap(*v);
    return n + ws::heap_bytes(d.route_set, [](const core::XmlValue& v) { return heap(v); }) + heap(d.local) +
           heap(d.remote) + heap(d.extensions);
}

// Everything decided about one body: parsed on the first pass, the subscription checks added by the
// post-dissector at the end of that pass. Past half the store's byte bound only the checks are kept
// (compact): a revisit decodes the body again and takes them over. The one-line summary is not kept:
// it is made from the document when something shows it (summary_of).
struct Verdict {
    // The decoded document behind a pointer: a compacted verdict (kept for every NOTIFY body of the
    // capture) holds none, and a DialogInfo is 288 bytes even empty.
    std::unique_ptr<core::DialogInfo> doc;
    std::size_t reported = 0, captured = 0;
    bool truncated = false;
    bool document_dropped = false;
    core::TrackResult track;

    const core::DialogInfo& info() const {
        static const core::DialogInfo none;
        return doc ? *doc : none;
    }
    std::size_t retained_bytes() const {
        const auto problems = [](const core::DocProblem& p) { return ws::heap_bytes(p.message); };
        const auto findings = [](const core::TrackFinding& f) { return ws::heap_bytes(f.message); };
        std::size_t bytes = sizeof(Verdict) + ws::heap_bytes(track.findings, findings);
        if (doc) {
            const core::DialogInfo& info = *doc;
            bytes += sizeof(core::DialogInfo) + heap(info.version) + heap(info.state) + heap(info.entity) +
                     ws::heap_bytes(info.dialogs, [](const core::DialogEntry& d) { return heap(d); }) +
                     heap(info.extensions) + ws::heap_bytes(info.problems, problems);
        }
        return bytes;
    }
    void compact() {
        doc.reset();
        document_dropped = true;
    }
    bool compacted() const { return document_dropped; }
    void restore(const Verdict& kept) { track = kept.track; }
};
ws::BodyStore<Verdict> verdicts{proto, "dialoginfo", "tracked across NOTIFYs"};

// Bodies of the current frame waiting for the post-dissector (first pass only). The tree pointers are
// valid until the end of this frame's dissection; entries of another frame are never used.
struct Pending {
    guint32 frame;
    std::uint32_t slot;
    tvbuff_t* ds;
    int offset;
    guint sip_items;  // `sip` items of the frame when the body was dissected: its message is the last
    proto_item* top;
    proto_tree* tree;
    std::vector<proto_item*> dialogs;
};
std::vector<Pending> pending;

core::DialogInfoTracker tracker;
// Last 180/183 response seen per Call-ID (frame, code): evidence for "never reported ringing".
constexpr std::size_t kMaxProvisionals = 100000;
std::unordered_map<std::string, std::pair<guint32, unsigned>> provisionals;
[[maybe_unused]] const bool state_hooks = [] {
    proto.on_init([] {
        tracker = core::DialogInfoTracker(pref_max_tracked.value());
        pending.clear();
        provisionals.clear();
    });
    proto.on_cleanup([] {
        tracker = core::DialogInfoTracker();
        pending = {};
        provisionals = {};
    });
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
    case K::wrong_root: return ei_not_dialog_info.get();
    case K::namespace_error: return ei_namespace.get();
    case K::missing_attribute: return ei_missing_attribute.get();
    case K::nonstandard_attribute: return ei_nonstandard_attribute.get();
    case K::missing_element: return ei_missing_element.get();
    case K::bad_value: return ei_bad_value.get();
    case K::unknown_value: return ei_unknown_value.get();
    case K::unknown_element: return ei_unknown_element.get();
    case K::partial_without_version: return ei_partial_no_version.get();
    case K::placeholder: return ei_placeholder.get();
    case K::value_cut: return ei_value_cut.get();
    }
    return xml.malformed();
}

expert_field* expert_for(core::TrackFindingKind kind) {
    using K = core::TrackFindingKind;
    switch (kind) {
    case K::version_skipped: return ei_version_skipped.get();
    case K::version_backwards: return ei_version_backwards.get();
    case K::partial_before_full: return ei_partial_before_full.get();
    case K::ringing_not_reported: return ei_ringing_not_reported.get();
    case K::ringing_discarded: return ei_ringing_discarded.get();
    case K::dialog_id_reused: return ei_dialog_id_reused.get();
    case K::tracker_full: return ei_track_full.get();
    }
    return ei_track_full.get();
}

ws::ExtensionFields extension_fields() {
    return {hf_ext, hf_ext_name, hf_ext_ns, hf_ext_text, hf_ext_attr_name, hf_ext_attr_value, ett_ext};
}

// shown: any node of the packet's tree. A field that epan would fake (tree not visible, field in no
// filter) or drop (no tree) is not copied into packet memory at all.
void add_value(const ws::Tree& t, proto_tree* shown, int hf, const core::XmlValue& v) {
    if (v && proto_field_is_referenced(shown, hf)) t.add_string(hf, v.span, v.value);
}

void render_participant(const ws::Tree& t, proto_tree* shown, const core::DialogParticipant& p,
                        const ParticipantFields& f, packet_info* pinfo) {
    if (!p.present) return;
    // Labels are formatted in packet memory: no C++ temporary may be alive if epan throws.
    const char* side = f.node.id() == local.node.id() ? "Local" : "Remote";
    const char* label = p.identities.empty() || !proto_field_is_referenced(shown, f.node.id())
                            ? side
                            : wmem_strdup_printf(pinfo->pool, "%s: %s", side, p.identities.front().uri.value.c_str());
    const ws::Tree pt = t.child(t.subtree(f.node, ett_participant, p.span, label));
    for (const core::DialogIdentity& id : p.identities) {
        add_value(pt, shown, f.identity, id.uri);
        add_value(pt, shown, f.display, id.display);
    }
    add_value(pt, shown, f.target, p.target);
    for (const core::DialogTargetParam& param : p.params) {
        add_value(pt, shown, f.pname, param.name);
        add_value(pt, shown, f.pval, param.value);
    }
    add_value(pt, shown, f.sdp, p.session_description);
    add_value(pt, shown, f.sdp_type, p.session_description_type);
    if (p.cseq_value) pt.add_uint(f.cseq, p.cseq.span, *p.cseq_value);
    ws::add_extensions(pt, p.extensions, extension_fields(), pinfo);
}

proto_item* render_dialog(const ws::Tree& t, proto_tree* shown, const core::DialogEntry& d, packet_info* pinfo,
                          bool labelled) {
    // Unlabelled when epan fakes the item (tree not visible, field in no filter): the label is unused.
    const char* label =
        labelled ? wmem_strdup_printf(pinfo->pool, "Dialog %s: %s", d.id.value.c_str(), core::dialog_brief(d).c_str()) : "";
    proto_tree* sub = t.subtree(hf_dialog, ett_dialog, d.span, label);
    const ws::Tree dt = t.child(sub);
    add_value(dt, shown, hf_dialog_id, d.id);
    add_value(dt, shown, hf_call_id, d.call_id);
    add_value(dt, shown, hf_local_tag, d.local_tag);
    add_value(dt, shown, hf_remote_tag, d.remote_tag);
    add_value(dt, shown, hf_direction, d.direction);
    add_value(dt, shown, hf_dialog_state, d.state);
    add_value(dt, shown, hf_state_event, d.state_event);
    if (d.code) dt.add_uint(hf_state_code, d.state_code.span, *d.code);
    if (d.duration_value) dt.add_uint(hf_duration, d.duration.span, *d.duration_value);
    if (d.has_replaces) {
        const ws::Tree rt = dt.child(dt.subtree(hf_replaces, ett_replaces, d.replaces_span, "Replaces"));
        add_value(rt, shown, hf_replaces_call_id, d.replaces_call_id);
        add_value(rt, shown, hf_replaces_local_tag, d.replaces_local_tag);
        add_value(rt, shown, hf_replaces_remote_tag, d.replaces_remote_tag);
    }
    add_value(dt, shown, hf_referred_by, d.referred_by);
    add_value(dt, shown, hf_referred_by_display, d.referred_by_display);
    for (const core::XmlValue& hop : d.route_set) add_value(dt, shown, hf_hop, hop);
    render_participant(dt, shown, d.local, local, pinfo);
    render_participant(dt, shown, d.remote, remote, pinfo);
    ws::add_extensions(dt, d.extensions, extension_fields(), pinfo);
    return proto_tree_get_parent(sub);
}

// A generated link or number under item (or, when it has no subtree, under the document's).
void add_generated_uint(proto_item* item, proto_item* top, int hf, guint32 value) {
    proto_tree* under = proto_item_get_subtree(item);
    proto_item_set_generated(proto_tree_add_uint(under ? under : proto_item_get_subtree(top), hf, nullptr, 0, 0, value));
}

// The subscription checks, under the document (top) and on the dialog they are about; each frame a
// finding refers to is a link field beside it.
void render_track(const ws::Tree& t, proto_item* top, proto_item* const* dialogs, std::size_t n_dialogs,
                  const core::TrackResult& r, packet_info* pinfo) {
    const core::Span none{0, 0};
    if (r.retransmission) proto_item_set_generated(t.add_bool(hf_retransmission, none, true));
    if (r.previous_frame) proto_item_set_generated(t.add_uint(hf_prev_frame, none, r.previous_frame));
    if (r.previous_version) proto_item_set_generated(t.add_uint(hf_prev_version, none, *r.previous_version));
    if (r.previous_cseq) proto_item_set_generated(t.add_uint(hf_prev_cseq, none, *r.previous_cseq));
    if (r.full_state_frame) proto_item_set_generated(t.add_uint(hf_full_state_frame, none, r.full_state_frame));
    for (const core::TrackFinding& f : r.findings) {
        proto_item* at = top;
        if (f.dialog && *f.dialog < n_dialogs && dialogs[*f.dialog]) at = dialogs[*f.dialog];
        expert_add_info_format(pinfo, at, expert_for(f.kind), "%s", f.message.c_str());
        if (f.related_frame) add_generated_uint(at, top, hf_related_frame, f.related_frame);
        if (f.caused_by) add_generated_uint(at, top, hf_caused_by, f.caused_by);
        if (f.missing) add_generated_uint(at, top, hf_missing, f.missing);
        if (f.terminated_frame) add_generated_uint(at, top, hf_terminated_frame, f.terminated_frame);
        if (f.first_frame) add_generated_uint(at, top, hf_first_frame, f.first_frame);
        if (f.provisional_frame) {
            add_generated_uint(at, top, hf_provisional_frame, f.provisional_frame);
            add_generated_uint(at, top, hf_provisional_code, f.provisional_code);
        }
    }
}

Verdict analyse(tvbuff_t* tvb) {
    Verdict v;
    const ws::Bytes body = ws::copy_bytes(tvb, 0, SIZE_MAX);
    v.reported = body.reported;
    v.captured = body.data.size();
    v.truncated = body.truncated;
    const core::XmlLimits limits = xml.limits();
    if (!v.truncated) v.doc = std::make_unique<core::DialogInfo>(core::parse_dialog_info(body.view(), limits));
    return v;
}

std::string summary_of(const Verdict& v) {
    return v.truncated ? "dialog-info (truncated)" : core::dialog_info_summary(v.info());
}

// The dialog-info parts of the frame being dissected, for rlmi (part_summaries.h).
std::vector<sipsleuth::dialoginfo::PartSummary> parts;
guint32 parts_frame = 0;
[[maybe_unused]] const bool parts_hooks = [] {
    proto.on_init([] {
        parts.clear();
        parts_frame = 0;
    });
    proto.on_cleanup([] {
        std::vector<sipsleuth::dialoginfo::PartSummary>().swap(parts);
        parts_frame = 0;
    });
    return true;
}();

// What Wireshark 4.0 shows for this media type without the plugin, added after our tree.
ws::BuiltinBody builtin{proto, "application/dialog-info+xml"};

int dissect_dialoginfo(ws::BuiltinBody::Caller caller, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, -1, ENC_NA);
    proto_tree* top_tree = proto_item_add_subtree(top, ett_top);
    const ws::Tree t(top_tree, tvb);
    const auto got = verdicts.get(pinfo, tree, top, [&] { return analyse(tvb); });
    const Verdict* v = got.verdict;
    if (!v) {
        builtin.dissect(caller, tvb, pinfo, tree, data);
        return tvb_captured_length(tvb);
    }
    const bool fresh_stored = got.fresh;
    const core::DialogInfo& info = v->info();
    if (v->truncated)
        xml.truncated(pinfo, top, v->captured, v->reported);
    // The summary is made only for what shows it: the Info column, the tree or a primed dialoginfo field
    // (the top item's text and dialoginfo.summary), and rlmi's links of a multipart part (first pass).
    const bool for_rlmi = caller == ws::BuiltinBody::Caller::multipart && tree && !PINFO_FD_VISITED(pinfo);
    const char* summary = nullptr;
    if (pinfo->cinfo || proto.referenced(top_tree) || for_rlmi) {
        ws::guard(proto, pinfo, top, [&] {
            const std::string s = summary_of(*v);
            summary = wmem_strdup(pinfo->pool, s.c_str());
            if (!for_rlmi) return;
            if (parts_frame != pinfo->num) parts.clear();
            parts_frame = pinfo->num;
            parts.push_back({tvb_get_ds_tvb(tvb), tvb_raw_offset(tvb), s});
        });
    }
    if (summary) {
        proto_item_append_text(top, ": %s", summary);
        proto_item_set_generated(t.add_string(hf_summary, {0, 0}, summary));
    }
    // Dialog items in packet memory, not a std::vector: every call below may longjmp.
    const std::size_t n_dialogs = info.decoded ? info.dialogs.size() : 0;
    proto_item** dialog_items = wmem_alloc0_array(pinfo->pool, proto_item*, n_dialogs ? n_dialogs : 1);
    if (info.decoded) {
        if (info.version_value) t.add_uint(hf_version, info.version.span, *info.version_value);
        add_value(t, top_tree, hf_state, info.state);
        add_value(t, top_tree, hf_entity, info.entity);
        // Without a tree every item would be NULL: the dialogs are skipped (tshark -q on a revisit).
        const bool labelled = proto_field_is_referenced(top_tree, hf_dialog);
        if (top_tree)
            for (std::size_t i = 0; i < n_dialogs; ++i)
                dialog_items[i] = render_dialog(t, top_tree, info.dialogs[i], pinfo, labelled);
    }
    ws::add_extensions(t, info.extensions, extension_fields(), pinfo);
    // Each problem on the bytes it is about.
    for (const core::DocProblem& p : info.problems) t.add_expert(expert_for(p.kind), pinfo, p.where, p.message);
    render_track(t, top, dialog_items, n_dialogs, v->track, pinfo);

    if (fresh_stored) {
        ws::guard(proto, pinfo, top, [&] {
            if (!pending.empty() && pending.front().frame != pinfo->num) pending.clear();
            const guint sip_items = ws::Occurrences(tree, ws::SipObserver::instance().sip_field()).size();
            pending.push_back({pinfo->num, pinfo->curr_proto_layer_num, tvb_get_ds_tvb(tvb), tvb_raw_offset(tvb),
                               sip_items, top, top_tree, std::vector<proto_item*>(dialog_items, dialog_items + n_dialogs)});
        });
    }
    // SIP ends each message's text with " | " behind a fence; fence ours the same way (see ciscoalarm).
    // The built-in output comes between: a part reads "<summary> (application/dialog-info+xml) | ".
    if (summary) col_append_str(pinfo->cinfo, COL_INFO, summary);
    builtin.dissect(caller, tvb, pinfo, tree, data);
    col_append_str(pinfo->cinfo, COL_INFO, " | ");
    col_set_fence(pinfo->cinfo, COL_INFO);
    return tvb_captured_length(tvb);
}

// The observed message carrying a pending body: the one whose bytes hold it, else (a body in a data
// source of its own, e.g. decompressed) the message SIP was dissecting then.
const ws::ObservedMessage* carrier(const ws::Observation& o, const Pending& p) {
    if (const ws::ObservedMessage* m = o.message_at(p.ds, p.offset)) return m;
    return p.sip_items && p.sip_items <= o.messages.size() ? &o.messages[p.sip_items - 1] : nullptr;
}

// Post-dissector, first pass only: the SUBSCRIBEs that start dialog-event subscriptions, then each
// body of this frame checked against the earlier NOTIFYs of its subscription.
int dissect_tracking(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    if (PINFO_FD_VISITED(pinfo)) return 0;
    const ws::Observation* o = ws::SipObserver::instance().observe(tvb, pinfo, tree);
    if (!o || o->messages.empty()) {
        pending.clear();
        verdicts.settle();
        return 0;
    }
    ws::guard(proto, pinfo, nullptr, [&] {
        for (const ws::ObservedMessage& om : o->messages) {
            if (om.status == core::sip::ParseStatus::not_sip) continue;
            const core::sip::Message& m = om.message;
            // Only once a dialog-info subscription is being followed: the index is evidence for the
            // ringing check and costs memory on captures without BLF.
            if (tracker.tracked() && !m.request && (m.status == 180 || m.status == 183) &&
                provisionals.size() < kMaxProvisionals)
                provisionals[m.call_id] = {pinfo->num, m.status};
            if (!m.is("SUBSCRIBE") || !m.to.tag.empty()) continue;
            if (!m.event || m.event->compare(0, 6, "dialog") != 0) continue;
            tracker.subscribe(m);
        }
        for (Pending& p : pending) {
            if (p.frame != pinfo->num) continue;
            Verdict* v = verdicts.find_mutable(p.frame, p.slot);
            if (!v || !v->info().decoded) continue;
            const ws::ObservedMessage* om = carrier(*o, p);
            if (!om || om->status == core::sip::ParseStatus::not_sip || !om->message.is("NOTIFY")) continue;
            const core::sip::Message& m = om->message;
            if (m.call_id.empty()) continue;
            core::TrackedDocument doc = core::tracked_document(v->info());
            // A part of a multipart body (an RLS's resource list NOTIFY): its versions are the RLS's.
            doc.in_list = m.content_type.compare(0, 10, "multipart/") == 0;
            for (core::TrackedDialog& d : doc.dialogs) {
                const auto found = d.call_id.empty() ? provisionals.end() : provisionals.find(d.call_id);
                if (found != provisionals.end()) std::tie(d.provisional_frame, d.provisional_code) = found->second;
            }
            v->track = tracker.notify(m, doc);
        }
    });
    // Items are added outside the guard: epan may longjmp, and no C++ temporary may then be alive.
    for (const Pending& p : pending) {
        if (p.frame != pinfo->num) continue;
        const Verdict* v = verdicts.find(p.frame, p.slot);
        if (v) render_track(ws::Tree(p.tree, tvb), p.top, p.dialogs.data(), p.dialogs.size(), v->track, pinfo);
    }
    pending.clear();
    ws::guard(proto, pinfo, nullptr, [] { verdicts.settle(); });
    return 0;
}

void proto_register_dialoginfo() {
    proto.register_all();
    builtin.register_dissectors<dissect_dialoginfo>("dialoginfo");
}

// Two entries, so that each adds after our tree what its caller adds without the plugin.
void proto_reg_handoff_dialoginfo() {
    builtin.handoff();
    tracking.handoff();
}

}  // namespace

namespace sipsleuth::dialoginfo {

const std::vector<PartSummary>& part_summaries(guint32 frame) {
    static const std::vector<PartSummary> none;
    return frame == parts_frame ? parts : none;
}

}  // namespace sipsleuth::dialoginfo

SIPSLEUTH_PROTOCOL(proto_register_dialoginfo, proto_reg_handoff_dialoginfo)
