// SPDX-License-Identifier: GPL-2.0-or-later
// mssip: Microsoft SIP endpoint ids, ms-diagnostics, and forked calls (field case 002: an OCS 2007 R2
// call forked to the callee's two registered endpoints, several 18x and several 200 OKs of different
// transactions). Two entry points:
// - a `sip.hdr` dissector for ms-diagnostics and ms-diagnostics-public, which SIP in Wireshark 4.0 calls
//   unrecognised: stateless, decoded on every pass (core/ms_diagnostics.h);
// - a post-dissector that takes each SIP message of the frame from the suite's one SIP reader
//   (wsglue/sip_observer.h: the parsed message with its transaction and dialog verdicts), takes the
//   epids (core/ms_epid.h), follows each call's endpoints and transactions (core/call_fork.h) on the
//   first pass, and renders the stored verdict on every pass. What only a later packet tells (how many
//   endpoints in the end, who answered, which branches lost) is read from the tracker's final state on
//   revisits (tshark -2, the GUI). It reads no SIP field of its own: only the observer's and, for an
//   error response's diagnostics, the items of its own ms-diagnostics decoder.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sipsleuth/core/call_fork.h"
#include "sipsleuth/core/ms_diagnostics.h"
#include "sipsleuth/core/ms_epid.h"
#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
#include "sipsleuth/wsglue/sip_headers.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/store.h"
#include "sipsleuth/wsglue/tvb.h"
#include "sipsleuth/wsglue/values.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;

namespace {

ws::Protocol proto{"Microsoft SIP endpoints, ms-diagnostics and forked calls", "MSSIP", "mssip"};

const std::vector<value_string> diag_names = ws::value_strings(core::ms_diagnostics_codes());

// ms-diagnostics / ms-diagnostics-public.
ws::Field hf_diag{proto, "mssip.diag", "ms-diagnostics", FT_NONE, BASE_NONE, nullptr,
                  "An ms-diagnostics or ms-diagnostics-public header, decoded."};
ws::Field hf_diag_public{proto, "mssip.diag.public", "Public", FT_BOOLEAN, BASE_NONE, nullptr,
                         "True for the ms-diagnostics-public header ([MS-OCER] lists it for some ErrorIds, such as 4003 and 4004)."};
ws::Field hf_diag_code{proto, "mssip.diag.code", "ErrorId", FT_UINT32, BASE_DEC, diag_names.data(),
                       "The diagnostic's ErrorId, named after [MS-OCER] section 8 when documented."};
ws::Field hf_diag_sub_code{proto, "mssip.diag.sub_code", "Sub-code", FT_UINT32, BASE_DEC, nullptr,
                           "The number after the ErrorId's dot, when present."};
ws::Field hf_diag_reason{proto, "mssip.diag.reason", "Reason", FT_STRING, BASE_NONE, nullptr,
                         "The reason parameter, unquoted."};
ws::Field hf_diag_source{proto, "mssip.diag.source", "Source", FT_STRING, BASE_NONE, nullptr,
                         "The source parameter: the server that added the diagnostic."};
ws::Field hf_diag_app{proto, "mssip.diag.app_name", "Application", FT_STRING, BASE_NONE, nullptr,
                      "The appName parameter: the server application that added the diagnostic."};
ws::Field hf_diag_param{proto, "mssip.diag.param", "Parameter", FT_NONE, BASE_NONE, nullptr,
                        "One parameter of the header, in order."};
ws::Field hf_diag_param_name{proto, "mssip.diag.param.name", "Name", FT_STRING, BASE_NONE, nullptr,
                             "The parameter's name."};
ws::Field hf_diag_param_value{proto, "mssip.diag.param.value", "Value", FT_STRING, BASE_NONE, nullptr,
                              "The parameter's value, unquoted."};

// Endpoint ids.
ws::Field hf_from_epid{proto, "mssip.from.epid", "From epid", FT_STRING, BASE_NONE, nullptr,
                       "The epid parameter of From: the sending endpoint of the caller's user."};
ws::Field hf_to_epid{proto, "mssip.to.epid", "To epid", FT_STRING, BASE_NONE, nullptr,
                     "The epid parameter of To: which registered endpoint of the callee's user."};
ws::Field hf_contact_epid{proto, "mssip.contact.epid", "Contact GRUU epid", FT_STRING, BASE_NONE, nullptr,
                          "The epid inside the Contact GRUU (opaque=user:epid:...)."};

// Calls, endpoints, transactions.
ws::Field hf_endpoint{proto, "mssip.endpoint", "Endpoint", FT_UINT32, BASE_DEC, nullptr,
                      "Which remote endpoint of the call (distinct To tag) sent or receives this message, "
                      "numbered from 1 in order of appearance."};
ws::Field hf_endpoint_count{proto, "mssip.endpoint_count", "Endpoints", FT_UINT32, BASE_DEC, nullptr,
                            "How many remote endpoints the call has (so far on a single pass, in all on revisits)."};
ws::Field hf_endpoint_agent{proto, "mssip.endpoint.agent", "Endpoint agent", FT_STRING, BASE_NONE, nullptr,
                            "User-Agent (or Server) of that endpoint's messages."};
ws::Field hf_forked{proto, "mssip.forked", "Forked", FT_BOOLEAN, BASE_NONE, nullptr,
                    "True when the call reached more than one endpoint."};
ws::Field hf_answered_by{proto, "mssip.answered_by", "Answered by endpoint", FT_UINT32, BASE_DEC, nullptr,
                         "The endpoint that sent the first 2xx to the initial INVITE."};
ws::Field hf_answer_frame{proto, "mssip.answered_by.frame", "Answered in frame", FT_FRAMENUM, BASE_NONE, nullptr,
                          "The frame of that 2xx."};
ws::Field hf_caused_by{proto, "mssip.caused_by", "Caused by the answer in frame", FT_FRAMENUM, BASE_NONE, nullptr,
                       "On a losing branch that was cancelled (487) or never answered: the 200 OK of the endpoint "
                       "that answered the forked call, which ended this branch (RFC 3261 section 16.7)."};
ws::Field hf_transaction{proto, "mssip.transaction", "Transaction", FT_STRING, BASE_NONE, nullptr,
                         "The request this message is or answers: initial INVITE, re-INVITE, PRACK, ... with its CSeq."};
ws::Field hf_request_frame{proto, "mssip.transaction.request_frame", "Request in frame", FT_FRAMENUM, BASE_NONE,
                           nullptr, "The frame of the request this response answers (same CSeq and top Via branch)."};

ws::Subtree ett_mssip{proto};
ws::Subtree ett_diag{proto};
ws::Subtree ett_param{proto};

ws::Expert ei_forked{proto, "mssip.forked_call", PI_SEQUENCE, PI_NOTE, "Call forked to several endpoints"};
ws::Expert ei_answered{proto, "mssip.answered", PI_SEQUENCE, PI_NOTE, "Forked call answered"};
ws::Expert ei_losing{proto, "mssip.losing_branch", PI_SEQUENCE, PI_NOTE, "Losing branch of a forked call"};
ws::Expert ei_diag_error{proto, "mssip.diagnostics_error", PI_RESPONSE_CODE, PI_WARN,
                         "Error response explained by ms-diagnostics"};
// Group Protocol, not Malformed: SIP parsed the header; only its value breaks the Microsoft grammar, and
// _ws.malformed (which the Malformed group adds) is for bytes that cannot be parsed at all.
ws::Expert ei_malformed{proto, "mssip.malformed_header", PI_PROTOCOL, PI_ERROR, "Malformed Microsoft SIP header"};
ws::Expert ei_value_cut{proto, "mssip.value_cut", PI_UNDECODED, PI_WARN, "Header value shown cut"};
ws::Expert ei_full{proto, "mssip.call_table_full", PI_UNDECODED, PI_NOTE, "Call not tracked: call table full"};

ws::UintPref pref_max_calls{proto, "max_calls", "Calls tracked",
                            "Most calls (initial INVITEs) followed for endpoints and transactions; later calls are "
                            "reported and not tracked.", 20000};

// Two of our own fields, read back per message: the ms-diagnostics decoder's items of an error
// response. SIP itself is read by the suite's SipObserver, whose fields the post-dissector wants too.
ws::ForeignField ff_diag_code{"mssip.diag.code"};
ws::ForeignField ff_diag_reason{"mssip.diag.reason"};

int dissect_calls(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector post{proto, dissect_calls, {&ff_diag_code, &ff_diag_reason}};

std::unique_ptr<core::CallForkTracker> tracker;
[[maybe_unused]] const bool tracker_hooks = [] {
    post.want(ws::SipObserver::instance().fields());
    proto.on_init([] { tracker = std::make_unique<core::CallForkTracker>(pref_max_calls.value()); });
    proto.on_cleanup([] { tracker.reset(); });
    return true;
}();

constexpr std::size_t kMaxText = 1024;  // bytes of a reason phrase or diagnostics reason kept

// An ms-diagnostics code on an error response.
struct DiagError {
    std::uint32_t code = 0;
    std::string label;  // "4005 (Destination URI ...)", made here: no allocation while rendering
    std::string reason;
};

// Everything decided about one SIP message on the first pass.
struct MessageVerdict {
    std::uint32_t slot = 0;
    std::string from_epid, to_epid, contact_epid;
    std::vector<std::string> problems;
    core::ForkView view;
    std::uint32_t status = 0;
    std::string reason_phrase;
    std::vector<DiagError> diag_errors;
};
struct FrameVerdict {
    std::vector<MessageVerdict> messages;
};
// Bounded: past 1,000,000 SIP frames with findings, later frames are rendered on the first pass only.
ws::FrameStore<FrameVerdict> verdicts{proto, 1000000};
// A verdict the store had no room for: rendered from here (not the stack: no C++ object may be alive
// while epan, which may longjmp, adds items).
FrameVerdict unstored;

std::string text(std::string_view v) { return core::sanitize_utf8(v, kMaxText); }

// The ms-diagnostics codes our sip.hdr decoder found in this message's bytes, each with the reason of
// the same header (the first reason after the code and before the next code).
void read_diagnostics(proto_tree* tree, const ws::Scope& scope, std::vector<DiagError>& out) {
    const ws::Occurrences codes(tree, ff_diag_code);
    if (!codes.first_in(scope)) return;
    const ws::Occurrences reasons(tree, ff_diag_reason);
    for (guint i = 0; i < codes.size(); ++i) {
        if (!scope.contains(codes.at(i))) continue;
        DiagError e;
        e.code = static_cast<std::uint32_t>(ws::uint_value(codes.at(i)));
        e.label = core::ms_diagnostics_label(e.code);
        const int from_at = codes.at(i)->start;
        const int until = i + 1 < codes.size() && scope.contains(codes.at(i + 1)) ? codes.at(i + 1)->start : scope.end;
        for (guint j = 0; j < reasons.size(); ++j) {
            field_info* r = reasons.at(j);
            if (scope.contains(r) && r->start > from_at && r->start < until) {
                e.reason = text(ws::string_value(r));
                break;
            }
        }
        out.push_back(std::move(e));
    }
}

MessageVerdict analyse_message(proto_tree* tree, const ws::ObservedMessage& om) {
    const core::sip::Message& m = om.message;
    MessageVerdict mv;
    mv.slot = m.index;
    // Errors only (4xx-6xx): a 3xx redirect (ms-diagnostics 13006 "Request forwarded") is no failure.
    if (!m.request && m.status >= 400) {
        read_diagnostics(tree, ws::Scope{om.ds, om.offset, om.offset + om.length}, mv.diag_errors);
        if (!mv.diag_errors.empty()) {
            mv.status = m.status;
            mv.reason_phrase = text(m.reason);
        }
    }
    core::MessageEpids epids = core::message_epids(m, om.status == core::sip::ParseStatus::truncated, om.bytes);
    mv.from_epid = std::move(epids.from);
    mv.to_epid = std::move(epids.to);
    mv.contact_epid = std::move(epids.contact);
    mv.problems = std::move(epids.problems);
    if (tracker) mv.view = tracker->observe(m, om.transaction, om.dialog);
    return mv;
}

bool worth_keeping(const MessageVerdict& mv) {
    return mv.view.in_call || mv.view.not_tracked_full || !mv.from_epid.empty() || !mv.to_epid.empty() ||
           !mv.contact_epid.empty() || !mv.problems.empty() || !mv.diag_errors.empty();
}

// Expert messages fit the GUI's label (240 bytes, "Expert Info (Warning/Sequence): " first): at most 200.
constexpr std::size_t kMaxMessage = 200;

// A copy of text in packet memory, valid UTF-8, cut to max bytes with "..." when longer. Its temporaries
// are gone before the caller hands the result to epan (which may longjmp).
const char* clip(packet_info* pinfo, std::string_view text, std::size_t max) {
    if (text.size() <= max) return wmem_strndup(pinfo->pool, text.data(), text.size());
    const std::string cut = core::fit_message(text, max);
    return wmem_strdup(pinfo->pool, cut.c_str());
}

// An agent inside a message: 80 bytes at most (the whole one is mssip.endpoint.agent).
const char* agent_text(packet_info* pinfo, const core::CallEndpoint& e) {
    return e.agent.empty() ? "no User-Agent" : clip(pinfo, e.agent, 80);
}

void render_call(const ws::Tree& t, const MessageVerdict& mv, packet_info* pinfo, proto_item* top) {
    const core::ForkView& v = mv.view;
    if (!tracker || v.call >= tracker->size()) return;
    const core::Call& c = tracker->call(v.call);
    const bool final_state = PINFO_FD_VISITED(pinfo);
    const std::uint32_t count = final_state ? static_cast<std::uint32_t>(c.endpoints.size()) : v.endpoint_count;
    const std::uint32_t answered = final_state ? c.answered_by : v.answered_by;
    const core::Span none{0, 0};

    if (!v.transaction.empty()) {
        proto_item_set_generated(t.add_string(hf_transaction, none, v.transaction));
        if (v.request_frame) proto_item_set_generated(t.add_frame(hf_request_frame, none, v.request_frame));
    }
    const core::CallEndpoint* e = v.endpoint && v.endpoint <= c.endpoints.size() ? &c.endpoints[v.endpoint - 1] : nullptr;
    if (e) {
        proto_item_set_generated(t.add_uint(hf_endpoint, none, v.endpoint));
        if (!e->agent.empty()) proto_item_set_generated(t.add_string(hf_endpoint_agent, none, e->agent));
    }
    if (count) {
        proto_item_set_generated(t.add_uint(hf_endpoint_count, none, count));
        proto_item_set_generated(t.add_bool(hf_forked, none, count > 1));
    }
    if (answered) {
        proto_item_set_generated(t.add_uint(hf_answered_by, none, answered));
        proto_item_set_generated(t.add_frame(hf_answer_frame, none, c.answer_frame));
    }
    if (e) proto_item_append_text(top, ", endpoint %u of %u", v.endpoint, count);
    if (!v.transaction.empty()) proto_item_append_text(top, ", %s", v.transaction.c_str());

    if (v.reveals_fork)
        expert_add_info_format(pinfo, top, ei_forked.get(), "Call forked to %u endpoints", count);
    if (v.answers_call && count > 1 && e)
        expert_add_info_format(pinfo, top, ei_answered.get(), "Forked call answered by endpoint %u of %u (%s)",
                               v.endpoint, count, agent_text(pinfo, *e));
    if (!e || count < 2) return;
    // After: "; endpoint 2 answered in frame 20", when another endpoint answered.
    const bool other_answered = answered && answered != v.endpoint;
    const char* after = other_answered ? wmem_strdup_printf(pinfo->pool, "; endpoint %u answered in frame %u",
                                                            answered, c.answer_frame)
                                       : "";
    // The branch is a consequence of the answer when the answer ended it (core::branch_ended_by); a
    // branch that failed on its own (486, 480, ...) stands alone.
    const std::uint32_t cause = other_answered ? core::branch_ended_by(c, v.endpoint) : 0;
    const char* text = nullptr;
    if (v.ends_branch) {
        text = wmem_strdup_printf(pinfo->pool, "Losing branch: endpoint %u of %u (%s) ended with %u %s%s", v.endpoint,
                                  count, agent_text(pinfo, *e), e->final_status,
                                  clip(pinfo, e->final_reason, 32), after);
    } else if (final_state && other_answered && e->final_status == 0 && e->last_frame == pinfo->num &&
               e->last_slot == mv.slot && v.from_endpoint) {
        text = wmem_strdup_printf(pinfo->pool, "Losing branch: endpoint %u of %u (%s) sent no final response%s",
                                  v.endpoint, count, agent_text(pinfo, *e), after);
    }
    if (!text) return;
    expert_add_info_format(pinfo, top, ei_losing.get(), "%s", clip(pinfo, text, kMaxMessage));
    if (cause) proto_item_set_generated(t.add_frame(hf_caused_by, none, cause));
}

void render_message(proto_tree* tree, tvbuff_t* tvb, const MessageVerdict& mv, packet_info* pinfo) {
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA);
    const ws::Tree t(proto_item_add_subtree(top, ett_mssip), tvb);
    const core::Span none{0, 0};
    if (!mv.from_epid.empty()) proto_item_set_generated(t.add_string(hf_from_epid, none, mv.from_epid));
    if (!mv.to_epid.empty()) proto_item_set_generated(t.add_string(hf_to_epid, none, mv.to_epid));
    if (!mv.contact_epid.empty()) proto_item_set_generated(t.add_string(hf_contact_epid, none, mv.contact_epid));
    for (const std::string& p : mv.problems) t.add_expert(ei_malformed.get(), pinfo, none, p);
    for (const DiagError& d : mv.diag_errors) {
        // The reason is shown when it says more than the documented name of the code.
        const char* name = core::ms_diagnostics_codes().name(d.code);
        std::string_view reason = d.reason;
        if (!reason.empty() && reason.back() == '.') reason.remove_suffix(1);
        const bool say_reason = !d.reason.empty() && !(name && reason == name);
        const char* text = wmem_strdup_printf(
            pinfo->pool, "%u %s with ms-diagnostics %s%s%s%s", mv.status, clip(pinfo, mv.reason_phrase, 32),
            d.label.c_str(), say_reason ? ": reason \"" : "", say_reason ? clip(pinfo, d.reason, 48) : "",
            say_reason ? "\"" : "");
        expert_add_info_format(pinfo, top, ei_diag_error.get(), "%s", clip(pinfo, text, kMaxMessage));
    }
    if (mv.view.not_tracked_full)
        expert_add_info_format(pinfo, top, ei_full.get(),
                               "Call not tracked: already tracking mssip.max_calls = %u calls",
                               pref_max_calls.value());
    if (mv.view.in_call) render_call(t, mv, pinfo, top);
}

// Post-dissector: the first pass analyses each SIP message the observer read; every pass renders.
int dissect_calls(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    const FrameVerdict* fv = nullptr;
    if (!PINFO_FD_VISITED(pinfo)) {
        const ws::Observation* o = ws::SipObserver::instance().observe(tvb, pinfo, tree);
        if (!o || o->messages.empty()) return 0;
        ws::guard(proto, pinfo, nullptr, [&] {
            FrameVerdict fresh;
            for (const ws::ObservedMessage& om : o->messages) {
                MessageVerdict mv = analyse_message(tree, om);
                if (worth_keeping(mv)) fresh.messages.push_back(std::move(mv));
            }
            if (fresh.messages.empty()) return;
            if (!verdicts.full()) {
                fv = verdicts.put(pinfo->num, 0, std::move(fresh));
            } else {
                unstored = std::move(fresh);
                fv = &unstored;
            }
        });
    } else {
        fv = verdicts.find(pinfo->num);
    }
    if (!fv) return 0;
    for (const MessageVerdict& mv : fv->messages) render_message(tree, tvb, mv, pinfo);
    return tvb_captured_length(tvb);
}

// The last header decoded. Kept here, not on the stack, so no C++ object is alive while epan (which may
// longjmp) adds its items; dissection is single-threaded.
struct DiagScratch {
    ws::Bytes value;
    core::MsDiagnostics diag;
};
DiagScratch scratch;

// sip.hdr dissector: one ms-diagnostics(-public) header value.
int dissect_diag(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, bool is_public) {
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, -1, ENC_NA);
    const char* header = is_public ? "ms-diagnostics-public" : "ms-diagnostics";
    const char* label = "undecoded";
    scratch = DiagScratch{};
    ws::guard(proto, pinfo, top, [&] {
        scratch.value = ws::copy_bytes(tvb, 0, SIZE_MAX);
        scratch.diag = core::parse_ms_diagnostics(scratch.value.view());
        if (scratch.diag.has_code) label = wmem_strdup(pinfo->pool, core::ms_diagnostics_label(scratch.diag.code).c_str());
    });
    const core::MsDiagnostics& d = scratch.diag;
    const ws::Bytes& value = scratch.value;
    const ws::Tree t(proto_item_add_subtree(top, ett_diag), tvb);
    const ws::Tree dt = t.child(t.subtree(hf_diag, ett_diag, {0, value.data.size()},
                                          wmem_strdup_printf(pinfo->pool, "%s: %s", header, label)));
    proto_item_set_generated(dt.add_bool(hf_diag_public, {0, 0}, is_public));
    if (d.has_code) dt.add_uint(hf_diag_code, d.code_span, d.code);
    if (d.sub_code.has_value()) dt.add_uint(hf_diag_sub_code, d.code_span, d.sub_code.value_or(0));
    for (const core::MsDiagParam& p : d.params) {
        const core::Span whole{p.name_span.offset, (p.has_value ? p.value_span.end() : p.name_span.end()) - p.name_span.offset};
        const ws::Tree pt = dt.child(dt.subtree(hf_diag_param, ett_param, whole,
                                                wmem_strdup_printf(pinfo->pool, "%s: %s", p.name.c_str(), p.value.c_str())));
        pt.add_string(hf_diag_param_name, p.name_span, p.name);
        if (p.has_value) pt.add_string(hf_diag_param_value, p.value_span, p.value);
        int typed = -1;
        if (core::iequals(p.name, "reason")) typed = hf_diag_reason;
        else if (core::iequals(p.name, "source")) typed = hf_diag_source;
        else if (core::iequals(p.name, "appName")) typed = hf_diag_app;
        if (typed >= 0 && p.has_value) dt.add_string(typed, p.value_span, p.value);
    }
    if (value.truncated)
        expert_add_info_format(pinfo, top, ei_value_cut.get(), "%s value truncated in the capture: %zu of %zu bytes",
                               header, value.data.size(), value.reported);
    for (const core::MsDiagProblem& p : d.problems)
        dt.add_expert(p.kind == core::MsDiagProblemKind::value_cut ? ei_value_cut.get() : ei_malformed.get(), pinfo,
                      p.where, p.message);
    return tvb_captured_length(tvb);
}

// The two sip.hdr decoders, each without a protocol layer (see wsglue/sip_headers.h): a message with
// hundreds of ms-diagnostics headers is decoded to its end, and a disabled mssip leaves SIP as it was.
int dissect_ms_diagnostics(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    return dissect_diag(tvb, pinfo, tree, false);
}
int dissect_ms_diagnostics_public(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    return dissect_diag(tvb, pinfo, tree, true);
}
ws::SipHeaderDecoders sip_headers{proto};

void proto_register_mssip() { proto.register_all(); }

void proto_reg_handoff_mssip() {
    // sip.hdr keys are SIP's lower-case header names.
    sip_headers.add<dissect_ms_diagnostics>("ms-diagnostics");
    sip_headers.add<dissect_ms_diagnostics_public>("ms-diagnostics-public");
    post.handoff();
}

}  // namespace

SIPSLEUTH_PROTOCOL(proto_register_mssip, proto_reg_handoff_mssip)
