// SPDX-License-Identifier: GPL-2.0-or-later
// msrpa: MSRP session analysis, a post-dissector beside Wireshark's own `msrp` dissector (whose fields
// stay as they are). Field case 001: a Blink-to-Blink chat through an SBC where offer and answer both
// say a=setup:active (RFC 6135), the SBC splices two client-initiated TCP connections, SENDs are
// retransmitted and never answered and the callee fails with MSRPBindSessionTimeout after 10 s.
// On the first pass it takes the suite's SIP observation of the frame (wsglue/sip_observer.h: each SIP
// message parsed once, with its transaction, and the frame's TCP facts: stream, raw sequence and
// acknowledgement numbers, flags, retransmission analysis), the SDP from each message's body bytes and
// the bytes of the MSRP message Wireshark found, hands them to the core tracker (core/msrp_session.h),
// and stores per frame what it says; findings known only later (unanswered SEND, retransmissions, bind
// timeout) are written back onto the frame they are about, so `tshark -2` and the GUI show them there
// too. It reads no SIP or TCP field itself.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "sipsleuth/core/msrp_session.h"
#include "sipsleuth/core/sdp_msrp.h"
#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/store.h"
#include "sipsleuth/wsglue/tvb.h"
#include "sipsleuth/wsglue/values.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;

namespace {

ws::Protocol proto{"MSRP session analysis", "MSRPA", "msrpa"};

const std::vector<value_string> model_names = ws::value_strings(core::connection_models());

// SDP (on the SIP message carrying it).
ws::Field hf_sdp_setup{proto,
                       "msrpa.sdp.setup",
                       "a=setup",
                       FT_STRING,
                       BASE_NONE,
                       nullptr,
                       "The MSRP media's a=setup role (RFC 4145), or absent (RFC 4975 defaults apply)."};
ws::Field hf_sdp_path{proto,
                      "msrpa.sdp.path",
                      "a=path",
                      FT_STRING,
                      BASE_NONE,
                      nullptr,
                      "The MSRP media's a=path URIs (RFC 4975 section 8.2)."};
ws::Field hf_sdp_session_id{proto,
                            "msrpa.sdp.session_id",
                            "Session id",
                            FT_STRING,
                            BASE_NONE,
                            nullptr,
                            "Session id of the last a=path URI: what the peer's To-Path must end with."};
ws::Field hf_sdp_endpoint{
    proto,
    "msrpa.sdp.endpoint",
    "Endpoint",
    FT_STRING,
    BASE_NONE,
    nullptr,
    "Host and port of the last a=path URI (else c= and m=): where this side listens or connects from."};
ws::Field hf_sdp_accept_types{proto,
                              "msrpa.sdp.accept_types",
                              "a=accept-types",
                              FT_STRING,
                              BASE_NONE,
                              nullptr,
                              "The media types this side accepts."};
ws::Field hf_offer_in{proto,
                      "msrpa.offer_in",
                      "Offer in frame",
                      FT_FRAMENUM,
                      BASE_NONE,
                      nullptr,
                      "The SDP offer this answer answers (same Call-ID, From tag and CSeq)."};
ws::Field hf_answer_in{
    proto, "msrpa.answer_in", "Answer in frame", FT_FRAMENUM, BASE_NONE, nullptr, "The SDP answer to this offer."};
ws::Field hf_model{proto,
                   "msrpa.connection_model",
                   "Connection model",
                   FT_UINT8,
                   BASE_DEC,
                   model_names.data(),
                   "Who opens the TCP connection, from the offer's and the answer's a=setup."};
// Connection (each MSRP message).
ws::Field hf_conn_answer{proto,
                         "msrpa.connection.sdp_answer",
                         "SDP answer of this connection",
                         FT_FRAMENUM,
                         BASE_NONE,
                         nullptr,
                         "The SDP answer of the MSRP session this message belongs to (its connection's, or the one its session ids name)."};
ws::Field hf_conn_call_id{proto,
                          "msrpa.connection.call_id",
                          "SIP Call-ID",
                          FT_STRING,
                          BASE_NONE,
                          nullptr,
                          "Call-ID of the SIP dialog that set up the MSRP session this message belongs to."};
ws::Field hf_conn_opened_by{proto,
                            "msrpa.connection.opened_by",
                            "Opened by",
                            FT_STRING,
                            BASE_NONE,
                            nullptr,
                            "The side that sent the SYN of this TCP connection, as the SDP names it."};
// Transactions.
ws::Field hf_response_in{proto,
                         "msrpa.response_in",
                         "Response in frame",
                         FT_FRAMENUM,
                         BASE_NONE,
                         FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE),
                         "The response to this request."};
ws::Field hf_request_in{proto,
                        "msrpa.request_in",
                        "Request in frame",
                        FT_FRAMENUM,
                        BASE_NONE,
                        FRAMENUM_TYPE(FT_FRAMENUM_REQUEST),
                        "The request this response answers."};
ws::Field hf_response_time{proto,
                           "msrpa.response_time",
                           "Response time",
                           FT_RELATIVE_TIME,
                           BASE_NONE,
                           nullptr,
                           "Time from the request to this response."};
ws::Field hf_report_of{proto,
                       "msrpa.report_of",
                       "Reports on the SEND in frame",
                       FT_FRAMENUM,
                       BASE_NONE,
                       nullptr,
                       "The last chunk of the message (same Message-ID) this REPORT reports on."};
ws::Field hf_report_in{proto,
                       "msrpa.report_in",
                       "REPORT in frame",
                       FT_FRAMENUM,
                       BASE_NONE,
                       nullptr,
                       "The REPORT on the message this SEND ends."};
ws::Field hf_retrans_of{proto,
                        "msrpa.retransmission_of",
                        "Retransmission of the request in frame",
                        FT_FRAMENUM,
                        BASE_NONE,
                        nullptr,
                        "This TCP segment retransmits the segment that carried that MSRP request."};
ws::Field hf_retrans_count{proto,
                           "msrpa.send.retransmissions",
                           "TCP retransmissions",
                           FT_UINT32,
                           BASE_DEC,
                           nullptr,
                           "How many times TCP retransmitted the segment carrying this request."};
// Binding.
ws::Field hf_bind_elapsed{proto,
                          "msrpa.bind.elapsed",
                          "Time since the SDP answer",
                          FT_RELATIVE_TIME,
                          BASE_NONE,
                          nullptr,
                          "Time from the SDP answer to the frame where the bind timeout became known."};
// Chunks.
ws::Field hf_chunk{proto,
                   "msrpa.chunk.number",
                   "Chunk number",
                   FT_UINT32,
                   BASE_DEC,
                   nullptr,
                   "This SEND's place among the chunks of its Message-ID, from 1."};
ws::Field hf_complete{proto,
                      "msrpa.message.complete",
                      "Message complete",
                      FT_BOOLEAN,
                      BASE_NONE,
                      nullptr,
                      "On a message's last chunk: true when it ends with $ and all bytes, false when aborted (#)."};
ws::Field hf_chunks{proto,
                    "msrpa.message.chunks",
                    "Chunks",
                    FT_UINT32,
                    BASE_DEC,
                    nullptr,
                    "On a message's last chunk: how many chunks carried it."};
ws::Field hf_bytes{proto,
                   "msrpa.message.bytes",
                   "Message bytes",
                   FT_UINT64,
                   BASE_DEC,
                   nullptr,
                   "On a message's last chunk: content bytes of all its chunks."};

ws::Field hf_content_type{proto,
                          "msrpa.message.content_type",
                          "Message Content-Type",
                          FT_STRING,
                          BASE_NONE,
                          nullptr,
                          "On a message's last chunk: the Content-Type its first chunk gave."};

// Incidents: the frame a consequence's cause is reported on, and the frames a finding names.
ws::Field hf_caused_by{proto,
                       "msrpa.caused_by",
                       "Caused by the finding in frame",
                       FT_FRAMENUM,
                       BASE_NONE,
                       nullptr,
                       "This finding is a consequence of the root cause reported in that frame (both ends a=setup:active)."};
ws::Field hf_link_offer{proto,
                        "msrpa.session.sdp_offer",
                        "SDP offer of the session",
                        FT_FRAMENUM,
                        BASE_NONE,
                        nullptr,
                        "The SDP offer of the MSRP session the finding before it is about."};
ws::Field hf_link_answer{proto,
                         "msrpa.session.sdp_answer",
                         "SDP answer of the session",
                         FT_FRAMENUM,
                         BASE_NONE,
                         nullptr,
                         "The SDP answer of the MSRP session the finding before it is about."};
ws::Field hf_link_send{proto,
                       "msrpa.send_frame",
                       "SEND in frame",
                       FT_FRAMENUM,
                       BASE_NONE,
                       FRAMENUM_TYPE(FT_FRAMENUM_REQUEST),
                       "A SEND the finding before it is about: the unanswered one, or one sent to the unbound session."};
ws::Field hf_link_last_retrans{proto,
                               "msrpa.send.last_retransmission",
                               "Last TCP retransmission in frame",
                               FT_FRAMENUM,
                               BASE_NONE,
                               nullptr,
                               "The last TCP retransmission of the segment carrying this request."};
ws::Field hf_link_first_use{proto,
                            "msrpa.transaction_id.first_use",
                            "Transaction id first used in frame",
                            FT_FRAMENUM,
                            BASE_NONE,
                            nullptr,
                            "The request that used this transaction id first on this connection."};
ws::Field hf_link_last_chunk{proto,
                             "msrpa.message.last_chunk",
                             "Last chunk in frame",
                             FT_FRAMENUM,
                             BASE_NONE,
                             nullptr,
                             "The last chunk seen of a message that never completed."};

ws::Subtree ett_msrpa{proto};

ws::Expert ei_both_active{proto, "msrpa.both_active", PI_PROTOCOL, PI_WARN, "Both ends a=setup:active"};
ws::Expert ei_nobody_connects{proto, "msrpa.nobody_connects", PI_PROTOCOL, PI_ERROR,
                              "Nobody opens the MSRP connection"};
ws::Expert ei_unexpected_opener{proto, "msrpa.unexpected_opener", PI_PROTOCOL, PI_WARN,
                                "Connection opened by the side the SDP says is passive"};
ws::Expert ei_path_mismatch{proto, "msrpa.path_mismatch", PI_PROTOCOL, PI_WARN,
                            "To-Path or From-Path session id differs from the SDP a=path"};
ws::Expert ei_duplicate_tid{proto, "msrpa.duplicate_transaction_id", PI_PROTOCOL, PI_WARN,
                            "Transaction id used twice on one connection"};
ws::Expert ei_unanswered{proto, "msrpa.send_unanswered", PI_SEQUENCE, PI_WARN, "SEND never answered"};
ws::Expert ei_retransmitted{proto, "msrpa.send_retransmitted", PI_SEQUENCE, PI_WARN, "SEND retransmitted by TCP"};
ws::Expert ei_incomplete{proto, "msrpa.message_incomplete", PI_SEQUENCE, PI_WARN, "Chunked message never completed"};
ws::Expert ei_bind_timeout{proto, "msrpa.bind_timeout", PI_SEQUENCE, PI_WARN, "MSRP session never bound"};
ws::Expert ei_ended_unbound{proto, "msrpa.session_ended_unbound", PI_SEQUENCE, PI_WARN,
                            "Session ended before any SEND got a 200 OK"};
// Consequences of both ends a=setup:active (msrpa.caused_by names the frame where that cause is reported):
// notes, so the cause is the one warning of its incident (STYLE.md). Without a known cause the findings
// above stand on their own, as warnings.
ws::Expert ei_other_leg{proto, "msrpa.both_active.other_leg", PI_PROTOCOL, PI_NOTE,
                        "Both ends a=setup:active, on another leg of a session already reported"};
ws::Expert ei_caused_retransmitted{proto, "msrpa.both_active.send_retransmitted", PI_SEQUENCE, PI_NOTE,
                                   "SEND retransmitted by TCP, as both ends are active"};
ws::Expert ei_caused_unanswered{proto, "msrpa.both_active.send_unanswered", PI_SEQUENCE, PI_NOTE,
                                "SEND never answered, as both ends are active"};
ws::Expert ei_caused_bind_timeout{proto, "msrpa.both_active.bind_timeout", PI_SEQUENCE, PI_NOTE,
                                  "MSRP session never bound, as both ends are active"};
ws::Expert ei_caused_ended_unbound{proto, "msrpa.both_active.session_ended_unbound", PI_SEQUENCE, PI_NOTE,
                                   "Session ended before any SEND got a 200 OK, as both ends are active"};
ws::Expert ei_full{proto, "msrpa.tracking_full", PI_UNDECODED, PI_NOTE, "MSRP tracking limit reached"};
// Groups (STYLE.md): Malformed only for bytes that cannot be parsed, which alone set _ws.malformed. The SDP
// problems are in bodies SIP and SDP parsed (an a=path or a=setup value breaking RFC 4975 or 4145): Protocol.
// An MSRP message is Malformed when its framing cannot be read (a start line without transaction id and
// method, which Wireshark 4.0's MSRP dissector cannot split into tokens either; a header line without a
// colon; no end-line), and breaks a rule of RFC 4975 otherwise (a transaction id too long, a lower-case
// method, a To-Path or Byte-Range value: Protocol); what the capture or our header cap cut is Undecoded.
ws::Expert ei_bad_sdp{proto, "msrpa.malformed_sdp", PI_PROTOCOL, PI_ERROR, "Invalid MSRP media in SDP"};
ws::Expert ei_bad_msrp{proto, "msrpa.malformed_msrp", PI_MALFORMED, PI_ERROR, "Malformed MSRP message"};
ws::Expert ei_invalid_msrp{proto, "msrpa.invalid_msrp", PI_PROTOCOL, PI_ERROR, "MSRP message breaks RFC 4975"};
ws::Expert ei_partly_decoded{proto, "msrpa.msrp_partly_decoded", PI_UNDECODED, PI_NOTE,
                             "MSRP message only partly decoded"};

ws::UintPref pref_send_timeout{
    proto, "send_timeout", "Seconds before an unanswered SEND is reported",
    "A SEND with no response after this many seconds is reported (also at BYE or TCP close).", 30};
ws::UintPref pref_bind_timeout{
    proto, "bind_timeout", "Seconds for a session to receive its first SEND",
    "After the SDP answer, the accepting side (both sides when both are active) must receive "
    "a SEND within this time (Blink gives up after 10 s with MSRPBindSessionTimeout).",
    10};
ws::UintPref pref_max_sessions{proto, "max_sessions", "Most MSRP sessions and connections tracked",
                               "Beyond this, new sessions are not analysed and msrpa.tracking_full says so.", 10000};
ws::UintPref pref_max_transactions{proto, "max_transactions", "Most MSRP transactions tracked",
                                   "Beyond this, new transactions are not analysed and msrpa.tracking_full says so.",
                                   100000};

// SIP and TCP come from the SipObserver (its fields wanted below); MSRP from Wireshark's dissector.
ws::ForeignField ff_msrp{"msrp"};

int dissect_msrpa(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector post{proto, dissect_msrpa, {&ff_msrp}};
[[maybe_unused]] const bool observer_wanted = [] {
    post.want(ws::SipObserver::instance().fields());
    return true;
}();

// What an MSRP parse problem is (see the expert infos above).
enum class MsrpTrouble : std::uint8_t { malformed, invalid, partly_decoded };
struct MsrpProblem {
    MsrpTrouble trouble;
    std::string message;
};
MsrpTrouble trouble_of(const core::MsrpMessage& m, const core::MsrpProblem& p) {
    switch (p.kind) {
        case core::MsrpProblemKind::bad_start_line:
            return m.valid ? MsrpTrouble::invalid : MsrpTrouble::malformed;
        case core::MsrpProblemKind::bad_header:
        case core::MsrpProblemKind::no_end_line:
            return MsrpTrouble::malformed;
        case core::MsrpProblemKind::too_many_headers:
            return MsrpTrouble::partly_decoded;
        case core::MsrpProblemKind::bad_path:
        case core::MsrpProblemKind::bad_byte_range:
        case core::MsrpProblemKind::missing_header:
            return MsrpTrouble::invalid;
    }
    return MsrpTrouble::invalid;
}
void add_problems(const core::MsrpMessage& m, std::vector<MsrpProblem>& out) {
    for (const core::MsrpProblem& p : m.problems) out.push_back({trouble_of(m, p), core::fit_message(p.message)});
}

// What is shown on one frame: the tracker's notes for it and the parse problems found in it.
struct Verdict {
    std::vector<core::Note> notes;
    std::vector<std::string> sdp_problems;
    std::vector<MsrpProblem> msrp_problems;
};
// Frames with something to show; bounded so that a hostile capture cannot grow it without limit.
ws::FrameStore<Verdict> verdicts{proto, 1000000};
std::optional<core::MsrpTracker> tracker;
[[maybe_unused]] const bool tracker_hooks = [] {
    proto.on_init([] {
        core::MsrpTracker::Limits limits;
        limits.send_timeout = static_cast<core::Nanos>(pref_send_timeout.value()) * core::kSecond;
        limits.bind_timeout = static_cast<core::Nanos>(pref_bind_timeout.value()) * core::kSecond;
        limits.max_sessions = pref_max_sessions.value();
        limits.max_transactions = pref_max_transactions.value();
        tracker.emplace(limits);
    });
    proto.on_cleanup([] { tracker.reset(); });
    return true;
}();

constexpr std::size_t kMaxBody = 64 * 1024;
constexpr std::size_t kMaxMsrp = 256 * 1024;
constexpr std::size_t kMaxPerSegment = 64;  // MSRP messages read from one segment


expert_field* expert_of(core::NoteKind k, bool caused);

// Notes for this frame go to its verdict; notes about earlier frames are written back onto theirs.
// Expert messages are cut to fit the GUI's label here, once, not while epan may longjmp.
void file_notes(std::uint32_t frame, std::vector<core::Note>& notes, Verdict& current) {
    for (core::Note& n : notes) {
        if (expert_of(n.kind, n.cause != 0)) n.text = core::fit_message(n.text);
        Verdict* target = &current;
        if (n.frame != frame) {
            target = verdicts.find_mutable(n.frame);
            if (!target) target = verdicts.put(n.frame, 0, Verdict{});
            if (!target) continue;
        }
        bool replaced = false;
        if (n.upsert)
            for (core::Note& old : target->notes)
                if (old.kind == n.kind) {
                    old = n;
                    replaced = true;
                    break;
                }
        if (!replaced) target->notes.push_back(std::move(n));
    }
}

// Each SIP message of the frame, with its transaction, and the MSRP media of its SDP (the body, or the
// application/sdp part of a multipart body), read from the message's bytes.
void analyse_sip(const ws::Observation& o, std::vector<core::Note>& notes, Verdict& v) {
    for (const ws::ObservedMessage& om : o.messages) {
        if (om.status == core::sip::ParseStatus::not_sip) continue;
        const core::sip::Message& m = om.message;
        std::optional<core::SdpMsrp> sdp;
        if (m.body_length && static_cast<std::size_t>(m.body_offset) + m.body_length <= om.bytes.size()) {
            const std::string_view body = om.bytes.substr(m.body_offset, m.body_length);
            if (const auto at = core::sdp_in_body(body, m.content_type)) {
                // One byte past the limit: the parser says the body is too large instead of cutting it.
                const std::string_view text = body.substr(at->offset, std::min<std::size_t>(at->length, kMaxBody + 1));
                sdp = core::parse_sdp_msrp(text, core::SdpLimits{kMaxBody, 2000});
                if (!sdp->media.empty() || core::ifind(text, "m=message") != std::string_view::npos)
                    for (const core::SdpProblem& p : sdp->problems) v.sdp_problems.push_back(core::fit_message(p.message));
            }
        }
        tracker->on_sip(m, om.transaction, sdp ? &*sdp : nullptr, notes);
    }
}

void analyse_tcp(proto_tree* tree, const ws::Observation& o, std::vector<core::Note>& notes, Verdict& v) {
    const core::sip::Frame& f = o.frame;
    if (!o.has_flow || !f.tcp) return;
    field_info* msrp = ws::Occurrences(tree, ff_msrp).first_in(ws::Scope{});
    const bool known = tracker->wants_segment(f);
    if (!known && !msrp) return;
    const bool retransmission = f.tcp->retransmission || f.tcp->spurious;
    std::vector<core::MsrpMessage> msgs;
    if (msrp && msrp->ds_tvb) {
        // The MSRP message Wireshark found (the first of the segment), from its start to the segment's end.
        const ws::Bytes bytes = ws::copy_bytes(msrp->ds_tvb, msrp->start, kMaxMsrp);
        msgs.push_back(core::parse_msrp_message(bytes.view()));
        add_problems(msgs.back(), v.msrp_problems);
        // Wireshark 4.0 decodes only that first message; the ones after it in the segment (a 200 behind
        // a SEND, several chunks) are read here. Only complete ones: a message continued in the next
        // segment reaches no dissector there either, and is not malformed.
        std::size_t at = msgs.back().flag ? msgs.back().length : bytes.data.size();
        while (at < bytes.data.size() && msgs.size() < kMaxPerSegment) {
            const std::string_view rest = bytes.view().substr(at);
            if (rest.substr(0, 5) != "MSRP ") break;
            core::MsrpMessage next = core::parse_msrp_message(rest);
            if (!next.valid || !next.flag) break;
            add_problems(next, v.msrp_problems);
            at += next.length;
            msgs.push_back(std::move(next));
        }
    } else if (known && !retransmission && f.payload_cut) {
        // A segment cut by the capture's snap length reaches no MSRP dissector: read what was captured.
        const std::string_view captured = f.payload.substr(0, kMaxMsrp);
        if (captured.substr(0, 5) == "MSRP ") {
            msgs.push_back(core::parse_msrp_message(captured));
            v.msrp_problems.push_back({MsrpTrouble::partly_decoded,
                                       "MSRP message truncated in the capture: " + std::to_string(f.payload.size()) +
                                           " of " + std::to_string(f.tcp->len) + " bytes captured"});
        }
    }
    tracker->on_tcp(f, msgs, notes);
}

void analyse(tvbuff_t* tvb, proto_tree* tree, packet_info* pinfo) {
    if (!tracker) return;
    const ws::Observation* o = ws::SipObserver::instance().observe(tvb, pinfo, tree);
    if (!o) return;
    std::vector<core::Note> notes;
    Verdict v;
    if (!tracker->empty()) tracker->tick(pinfo->num, o->frame.time, notes);
    if (!o->messages.empty()) analyse_sip(*o, notes, v);
    if (!tracker->empty() || ws::Occurrences(tree, ff_msrp).size()) analyse_tcp(tree, *o, notes, v);
    if (notes.empty() && v.sdp_problems.empty() && v.msrp_problems.empty()) return;
    // Notes about this frame may also come from write-backs of later frames: keep one verdict per frame.
    Verdict* current = verdicts.find_mutable(pinfo->num);
    if (!current) current = verdicts.put(pinfo->num, 0, Verdict{});
    if (!current) return;
    current->sdp_problems.insert(current->sdp_problems.end(), v.sdp_problems.begin(), v.sdp_problems.end());
    current->msrp_problems.insert(current->msrp_problems.end(), v.msrp_problems.begin(), v.msrp_problems.end());
    file_notes(pinfo->num, notes, *current);
}

expert_field* expert_of(core::NoteKind k, bool caused) {
    using K = core::NoteKind;
    if (caused) switch (k) {
            case K::send_unanswered:
                return ei_caused_unanswered.get();
            case K::send_retransmitted:
                return ei_caused_retransmitted.get();
            case K::bind_timeout:
                return ei_caused_bind_timeout.get();
            case K::session_ended_unbound:
                return ei_caused_ended_unbound.get();
            default:
                break;
        }
    switch (k) {
        case K::both_active_relayed:
            return ei_other_leg.get();
        case K::both_active:
            return ei_both_active.get();
        case K::nobody_connects:
            return ei_nobody_connects.get();
        case K::unexpected_opener:
            return ei_unexpected_opener.get();
        case K::path_mismatch:
            return ei_path_mismatch.get();
        case K::duplicate_tid:
            return ei_duplicate_tid.get();
        case K::send_unanswered:
            return ei_unanswered.get();
        case K::send_retransmitted:
            return ei_retransmitted.get();
        case K::bind_timeout:
            return ei_bind_timeout.get();
        case K::session_ended_unbound:
            return ei_ended_unbound.get();
        case K::message_incomplete:
            return ei_incomplete.get();
        case K::tracking_full:
            return ei_full.get();
        default:
            return nullptr;
    }
}

int field_of(core::NoteKind k) {
    using K = core::NoteKind;
    switch (k) {
        case K::sdp_setup:
            return hf_sdp_setup;
        case K::sdp_path:
            return hf_sdp_path;
        case K::sdp_session_id:
            return hf_sdp_session_id;
        case K::sdp_endpoint:
            return hf_sdp_endpoint;
        case K::sdp_accept_types:
            return hf_sdp_accept_types;
        case K::offer_in:
            return hf_offer_in;
        case K::answer_in:
            return hf_answer_in;
        case K::connection_model:
            return hf_model;
        case K::conn_sdp_answer:
            return hf_conn_answer;
        case K::conn_call_id:
            return hf_conn_call_id;
        case K::conn_opened_by:
            return hf_conn_opened_by;
        case K::response_in:
            return hf_response_in;
        case K::request_in:
            return hf_request_in;
        case K::response_time:
            return hf_response_time;
        case K::report_of:
            return hf_report_of;
        case K::report_in:
            return hf_report_in;
        case K::retransmission_of:
            return hf_retrans_of;
        case K::send_retransmissions:
            return hf_retrans_count;
        case K::bind_elapsed:
            return hf_bind_elapsed;
        case K::chunk_number:
            return hf_chunk;
        case K::message_complete:
            return hf_complete;
        case K::message_chunks:
            return hf_chunks;
        case K::message_bytes:
            return hf_bytes;
        case K::message_content_type:
            return hf_content_type;
        default:
            return -1;
    }
}

// A few words for the Info column, so the packet list shows where each finding is.
const char* info_label(core::NoteKind k) {
    using K = core::NoteKind;
    switch (k) {
        case K::both_active:
        case K::both_active_relayed:
            return "both ends a=setup:active";
        case K::nobody_connects:
            return "nobody connects";
        case K::unexpected_opener:
            return "opened by the passive side";
        case K::path_mismatch:
            return "path mismatch";
        case K::duplicate_tid:
            return "duplicate transaction id";
        case K::send_unanswered:
            return "SEND unanswered";
        case K::send_retransmitted:
            return "SEND retransmitted";
        case K::bind_timeout:
            return "session never bound";
        case K::session_ended_unbound:
            return "ended unbound";
        case K::message_incomplete:
            return "message incomplete";
        default:
            return nullptr;
    }
}

int link_field(core::LinkKind k) {
    using L = core::LinkKind;
    switch (k) {
        case L::sdp_offer:
            return hf_link_offer;
        case L::sdp_answer:
            return hf_link_answer;
        case L::send:
            return hf_link_send;
        case L::last_retransmission:
            return hf_link_last_retrans;
        case L::first_use:
            return hf_link_first_use;
        case L::last_chunk:
            return hf_link_last_chunk;
    }
    return -1;
}

// The cause and the frames a finding names, as links right after it.
void add_links(tvbuff_t* tvb, proto_tree* t, const core::Note& n) {
    if (n.cause) proto_item_set_generated(proto_tree_add_uint(t, hf_caused_by, tvb, 0, 0, n.cause));
    for (const core::Link& l : n.links) {
        const int hf = link_field(l.kind);
        if (hf >= 0 && l.frame) proto_item_set_generated(proto_tree_add_uint(t, hf, tvb, 0, 0, l.frame));
    }
}

void render(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const Verdict& v) {
    // Distinct labels, in note order, e.g. " [MSRPA: session never bound, SEND unanswered]".
    const char* labels[8];
    std::size_t count = 0;
    // A TCP retransmission caused by both ends active is tagged by TCP already ("[TCP Retransmission]"):
    // twenty of them would bury the frames where the incident is named.
    const bool retransmission = std::any_of(v.notes.begin(), v.notes.end(), [](const core::Note& n) {
        return n.kind == core::NoteKind::retransmission_of;
    });
    for (const core::Note& n : v.notes) {
        if (retransmission && n.cause && n.kind == core::NoteKind::send_retransmitted) continue;
        const char* label = info_label(n.kind);
        if (!label || count == 8 || std::find(labels, labels + count, label) != labels + count) continue;
        labels[count++] = label;
    }
    const auto has = [&](MsrpTrouble t) {
        return std::any_of(v.msrp_problems.begin(), v.msrp_problems.end(),
                           [t](const MsrpProblem& p) { return p.trouble == t; });
    };
    if (has(MsrpTrouble::malformed)) labels[count < 8 ? count++ : 7] = "malformed";
    if (!v.sdp_problems.empty() || has(MsrpTrouble::invalid)) labels[count < 8 ? count++ : 7] = "invalid";
    if (has(MsrpTrouble::partly_decoded)) labels[count < 8 ? count++ : 7] = "partly decoded";
    for (std::size_t i = 0; i < count; ++i) {
        col_append_str(pinfo->cinfo, COL_INFO, i == 0 ? " [MSRPA: " : ", ");
        col_append_str(pinfo->cinfo, COL_INFO, labels[i]);
    }
    if (count) col_append_str(pinfo->cinfo, COL_INFO, "]");

    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA);
    proto_item_set_generated(top);
    proto_tree* t = proto_item_add_subtree(top, ett_msrpa);
    for (const core::Note& n : v.notes) {
        if (expert_field* ei = expert_of(n.kind, n.cause != 0)) {
            proto_tree_add_expert_format(t, pinfo, ei, tvb, 0, 0, "%s", n.text.c_str());
            add_links(tvb, t, n);
            continue;
        }
        const int hf = field_of(n.kind);
        if (hf < 0) continue;
        proto_item* item = nullptr;
        switch (proto_registrar_get_ftype(hf)) {
            case FT_STRING:
                item = proto_tree_add_string(t, hf, tvb, 0, 0, n.text.c_str());
                break;
            case FT_FRAMENUM:
                item = proto_tree_add_uint(t, hf, tvb, 0, 0, static_cast<guint32>(n.number));
                break;
            case FT_UINT8:
            case FT_UINT32:
                item = proto_tree_add_uint(t, hf, tvb, 0, 0, static_cast<guint32>(n.number));
                break;
            case FT_UINT64:
                item = proto_tree_add_uint64(t, hf, tvb, 0, 0, n.number);
                break;
            case FT_BOOLEAN:
                item = proto_tree_add_boolean(t, hf, tvb, 0, 0, n.number != 0);
                break;
            case FT_RELATIVE_TIME: {
                // Exact: the difference of two capture times in nanoseconds.
                nstime_t ns;
                ns.secs = static_cast<time_t>(n.duration / core::kSecond);
                ns.nsecs = static_cast<int>(n.duration % core::kSecond);
                item = proto_tree_add_time(t, hf, tvb, 0, 0, &ns);
                break;
            }
            default:
                break;
        }
        if (item) proto_item_set_generated(item);
    }
    for (const std::string& p : v.sdp_problems)
        proto_tree_add_expert_format(t, pinfo, ei_bad_sdp.get(), tvb, 0, 0, "%s", p.c_str());
    for (const MsrpProblem& p : v.msrp_problems) {
        expert_field* ei = p.trouble == MsrpTrouble::malformed ? ei_bad_msrp.get()
                           : p.trouble == MsrpTrouble::invalid ? ei_invalid_msrp.get()
                                                               : ei_partly_decoded.get();
        proto_tree_add_expert_format(t, pinfo, ei, tvb, 0, 0, "%s", p.message.c_str());
    }
}

int dissect_msrpa(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    if (!PINFO_FD_VISITED(pinfo)) ws::guard(proto, pinfo, nullptr, [&] { analyse(tvb, tree, pinfo); });
    const Verdict* v = verdicts.find(pinfo->num);
    if (!v) return 0;
    render(tvb, pinfo, tree, *v);
    return 0;
}

void proto_register_msrpa() { proto.register_all(); }

void proto_reg_handoff_msrpa() { post.handoff(); }

}  // namespace

SIPSLEUTH_PROTOCOL(proto_register_msrpa, proto_reg_handoff_msrpa)
