// SPDX-License-Identifier: GPL-2.0-or-later
// ciscoalarm: Cisco phones' application/x-cisco-alarm+xml bodies (field case 003: a CP-7821 sends
// DeviceTLInfo and LastOutOfServiceInformation in REFERs before it registers to CUCM). Registered in
// the media_type and multipart_media_type tables, so it runs for a REFER's body and for a multipart
// part alike, and then adds what Wireshark shows there without it (SIP's text lines, the media item).
// Parsing is the core's (core/cisco_alarm.h); this file maps the result onto fields and expert info,
// checks the REFER's Refer-To cid: against the body's Content-ID, and links LastProtocolEvent Call-IDs
// to the frames of that call. The generic XML tree is still added for well-formed bodies. SIP comes from
// the suite's one reader (wsglue/sip_observer.h): the enclosing message's headers parsed once by the
// core, each frame's messages for the Call-ID index; no SIP field is read here.
#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/cisco_alarm.h"
#include "sipsleuth/core/content_id.h"
#include "sipsleuth/wsglue/builtin_body.h"
#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
#include "sipsleuth/wsglue/sip_headers.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/xml_body_checks.h"
#include "sipsleuth/wsglue/store.h"
#include "sipsleuth/wsglue/tvb.h"
#include "sipsleuth/wsglue/values.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;

namespace {

ws::Protocol proto{"Cisco x-cisco-alarm", "CiscoAlarm", "ciscoalarm"};

const std::vector<value_string> oos_names = ws::value_strings(core::oos_reasons());
const std::vector<value_string> dhcp_names = ws::value_strings(core::dhcp_statuses());
const std::vector<value_string> dns_names = ws::value_strings(core::dns_statuses());

// Alarm and generic parameters.
ws::Field hf_name{proto, "ciscoalarm.name", "Alarm name", FT_STRING, BASE_NONE, nullptr,
                  "Name attribute of the Alarm element."};
ws::Field hf_param{proto, "ciscoalarm.param", "Parameter", FT_NONE, BASE_NONE, nullptr,
                   "One element of the ParameterList."};
ws::Field hf_param_name{proto, "ciscoalarm.param.name", "Name", FT_STRING, BASE_NONE, nullptr,
                        "The parameter's name attribute."};
ws::Field hf_param_type{proto, "ciscoalarm.param.type", "Type", FT_STRING, BASE_NONE, nullptr,
                        "The parameter's element type: String, Enum, ..."};
ws::Field hf_param_value{proto, "ciscoalarm.param.value", "Value", FT_STRING, BASE_NONE, nullptr,
                         "The parameter's text, entity references decoded."};

// Typed well-known parameters.
ws::Field hf_device_name{proto, "ciscoalarm.device_name", "Device name", FT_STRING, BASE_NONE, nullptr,
                         "DeviceName: the phone's CUCM device name (SEP + MAC address)."};
ws::Field hf_model{proto, "ciscoalarm.model", "Model", FT_STRING, BASE_NONE, nullptr, "ModelNumber."};
ws::Field hf_ipv4{proto, "ciscoalarm.ipv4", "IPv4 address", FT_IPv4, BASE_NONE, nullptr,
                  "IPv4Address or DeviceIPv4Address."};
ws::Field hf_ipv4_prefix{proto, "ciscoalarm.ipv4.prefix_length", "IPv4 prefix length", FT_UINT8, BASE_DEC, nullptr,
                         "The /n after DeviceIPv4Address."};
ws::Field hf_ipv4_gateway{proto, "ciscoalarm.ipv4_gateway", "IPv4 default gateway", FT_IPv4, BASE_NONE, nullptr,
                          "IPv4DefaultGateway."};
ws::Field hf_ipv6{proto, "ciscoalarm.ipv6", "IPv6 address", FT_IPv6, BASE_NONE, nullptr,
                  "IPv6Address or DeviceIPv6Address."};
ws::Field hf_ipv6_gateway{proto, "ciscoalarm.ipv6_gateway", "IPv6 default gateway", FT_IPv6, BASE_NONE, nullptr,
                          "IPv6DefaultGateway."};
ws::Field hf_neighbor_ipv4{proto, "ciscoalarm.neighbor.ipv4", "Neighbor IPv4 address", FT_IPv4, BASE_NONE, nullptr,
                           "NeighborIPv4Address: the switch the phone learnt by CDP/LLDP."};
ws::Field hf_neighbor_ipv6{proto, "ciscoalarm.neighbor.ipv6", "Neighbor IPv6 address", FT_IPv6, BASE_NONE, nullptr,
                           "NeighborIPv6Address."};
ws::Field hf_neighbor_device{proto, "ciscoalarm.neighbor.device_id", "Neighbor device", FT_STRING, BASE_NONE,
                             nullptr, "NeighborDeviceID: the switch's name."};
ws::Field hf_neighbor_port{proto, "ciscoalarm.neighbor.port_id", "Neighbor port", FT_STRING, BASE_NONE, nullptr,
                           "NeighborPortID: the switch port the phone is plugged into."};
ws::Field hf_voice_vlan{proto, "ciscoalarm.voice_vlan", "Voice VLAN", FT_UINT16, BASE_DEC, nullptr, "VoiceVLAN."};
ws::Field hf_ucm_ipv4{proto, "ciscoalarm.ucm.ipv4", "Unified CM IPv4 address", FT_IPv4, BASE_NONE, nullptr,
                      "UnifiedCMIPAddress, when it is an IPv4 address."};
ws::Field hf_ucm_ipv6{proto, "ciscoalarm.ucm.ipv6", "Unified CM IPv6 address", FT_IPv6, BASE_NONE, nullptr,
                      "UnifiedCMIPAddress, when it is an IPv6 address."};
ws::Field hf_ucm_host{proto, "ciscoalarm.ucm.host", "Unified CM host", FT_STRING, BASE_NONE, nullptr,
                      "UnifiedCMIPAddress, when it is a host name."};
ws::Field hf_local_port{proto, "ciscoalarm.local_port", "Local port", FT_UINT16, BASE_DEC, nullptr,
                        "LocalPort: the phone's port of its previous connection to Unified CM."};
ws::Field hf_timestamp{proto, "ciscoalarm.timestamp", "Timestamp", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_UTC, nullptr,
                       "TimeStamp: milliseconds since the epoch when the phone went out of service."};
ws::Field hf_oos_reason{proto, "ciscoalarm.oos_reason", "Reason for out of service", FT_UINT32, BASE_DEC,
                        oos_names.data(), "ReasonForOutOfService code."};
ws::Field hf_oos_text{proto, "ciscoalarm.oos_reason_text", "Reason for out of service (text)", FT_STRING, BASE_NONE,
                      nullptr, "ReasonForOutOfServiceText as the phone wrote it."};
ws::Field hf_dhcpv4{proto, "ciscoalarm.dhcpv4_status", "DHCPv4 status", FT_UINT32, BASE_DEC, dhcp_names.data(),
                    "DHCPv4Status."};
ws::Field hf_dhcpv6{proto, "ciscoalarm.dhcpv6_status", "DHCPv6 status", FT_UINT32, BASE_DEC, dhcp_names.data(),
                    "DHCPv6Status."};
ws::Field hf_tftp_cfg{proto, "ciscoalarm.tftp_cfg_status", "TFTP configuration status", FT_UINT32, BASE_DEC, nullptr,
                      "TFTPCfgStatus (values undocumented)."};
ws::Field hf_dns_ucm1{proto, "ciscoalarm.dns_status.ucm1", "DNS status of Unified CM 1", FT_UINT32, BASE_DEC,
                      dns_names.data(), "DNSStatusUnifiedCM1."};
ws::Field hf_dns_ucm2{proto, "ciscoalarm.dns_status.ucm2", "DNS status of Unified CM 2", FT_UINT32, BASE_DEC,
                      dns_names.data(), "DNSStatusUnifiedCM2."};
ws::Field hf_dns_ucm3{proto, "ciscoalarm.dns_status.ucm3", "DNS status of Unified CM 3", FT_UINT32, BASE_DEC,
                      dns_names.data(), "DNSStatusUnifiedCM3."};
ws::Field hf_dnsv6_ucm1{proto, "ciscoalarm.dnsv6_status.ucm1", "DNSv6 status of Unified CM 1", FT_UINT32, BASE_DEC,
                        nullptr, "DNSv6StatusUnifiedCM1 (values undocumented)."};
ws::Field hf_dnsv6_ucm2{proto, "ciscoalarm.dnsv6_status.ucm2", "DNSv6 status of Unified CM 2", FT_UINT32, BASE_DEC,
                        nullptr, "DNSv6StatusUnifiedCM2 (values undocumented)."};
ws::Field hf_dnsv6_ucm3{proto, "ciscoalarm.dnsv6_status.ucm3", "DNSv6 status of Unified CM 3", FT_UINT32, BASE_DEC,
                        nullptr, "DNSv6StatusUnifiedCM3 (values undocumented)."};
ws::Field hf_ctl_sig{proto, "ciscoalarm.ctl.signature", "CTL signature", FT_BYTES, SEP_SPACE, nullptr,
                     "CTL_Signature: hash of the installed Certificate Trust List."};
ws::Field hf_ctl_installed{proto, "ciscoalarm.ctl.installed", "CTL installed", FT_BOOLEAN, BASE_NONE, nullptr,
                           "False when CTL_Signature says Not Installed."};
ws::Field hf_ctl_tftp{proto, "ciscoalarm.ctl.tftp_server", "CTL TFTP server", FT_STRING, BASE_NONE, nullptr,
                      "CTL_TFTP_Server."};
ws::Field hf_itl_sig{proto, "ciscoalarm.itl.signature", "ITL signature", FT_BYTES, SEP_SPACE, nullptr,
                     "ITL_Signature: hash of the installed Identity Trust List."};
ws::Field hf_itl_installed{proto, "ciscoalarm.itl.installed", "ITL installed", FT_BOOLEAN, BASE_NONE, nullptr,
                           "False when ITL_Signature says Not Installed."};
ws::Field hf_itl_tftp{proto, "ciscoalarm.itl.tftp_server", "ITL TFTP server", FT_STRING, BASE_NONE, nullptr,
                      "ITL_TFTP_Server."};
ws::Field hf_status_code{proto, "ciscoalarm.status_code", "Status code", FT_UINT32, BASE_DEC, nullptr,
                         "StatusCode of DeviceTLInfo (values undocumented)."};

// LastProtocolEventSent / LastProtocolEventReceived.
ws::Field hf_event{proto, "ciscoalarm.event", "Last protocol event", FT_NONE, BASE_NONE, nullptr,
                   "LastProtocolEventSent or LastProtocolEventReceived, decoded."};
ws::Field hf_event_direction{proto, "ciscoalarm.event.direction", "Direction", FT_STRING, BASE_NONE, nullptr,
                             "Sent or Rcvd: whether the phone sent or received that last SIP message."};
ws::Field hf_event_method{proto, "ciscoalarm.event.method", "Method", FT_STRING, BASE_NONE, nullptr,
                          "Method of the last request."};
ws::Field hf_event_ruri{proto, "ciscoalarm.event.request_uri", "Request-URI", FT_STRING, BASE_NONE, nullptr,
                        "Request-URI of the last request."};
ws::Field hf_event_status{proto, "ciscoalarm.event.status_code", "Status code", FT_UINT16, BASE_DEC, nullptr,
                          "Status code of the last response."};
ws::Field hf_event_reason{proto, "ciscoalarm.event.reason", "Reason phrase", FT_STRING, BASE_NONE, nullptr,
                          "Reason phrase of the last response."};
ws::Field hf_event_cseq{proto, "ciscoalarm.event.cseq", "CSeq", FT_UINT32, BASE_DEC, nullptr,
                        "CSeq number of the last message."};
ws::Field hf_event_cseq_method{proto, "ciscoalarm.event.cseq_method", "CSeq method", FT_STRING, BASE_NONE, nullptr,
                               "CSeq method of the last message."};
ws::Field hf_event_call_id{proto, "ciscoalarm.event.call_id", "Call-ID", FT_STRING, BASE_NONE, nullptr,
                           "Call-ID of the last message."};
ws::Field hf_event_frame{proto, "ciscoalarm.event.call_frame", "Frame of this Call-ID", FT_FRAMENUM, BASE_NONE,
                         nullptr, "A frame of this capture carrying a SIP message with the event's Call-ID."};

// Refer-To cid: against the body's Content-ID.
ws::Field hf_content_id{proto, "ciscoalarm.content_id", "Content-ID", FT_STRING, BASE_NONE, nullptr,
                        "The SIP message's Content-ID header (RFC 2392), which SIP in Wireshark 4.0 leaves undecoded."};
ws::Field hf_refer_cid{proto, "ciscoalarm.refer_to_cid", "Refer-To cid", FT_STRING, BASE_NONE, nullptr,
                       "The Content-ID that the REFER's Refer-To cid: URL names."};
ws::Field hf_body_cid{proto, "ciscoalarm.body_cid", "Body Content-ID", FT_STRING, BASE_NONE, nullptr,
                      "The Content-ID of this alarm body (SIP header or multipart part header)."};
ws::Field hf_cid_match{proto, "ciscoalarm.cid_match", "Refer-To names this body", FT_BOOLEAN, BASE_NONE, nullptr,
                       "True when the Refer-To cid: URL names this body's Content-ID."};

ws::Subtree ett_alarm{proto};
ws::Subtree ett_param{proto};
ws::Subtree ett_event{proto};

ws::XmlBodyChecks xml{proto, "ciscoalarm", "x-cisco-alarm"};
ws::Expert ei_not_alarm{proto, "ciscoalarm.not_an_alarm", PI_PROTOCOL, PI_ERROR,
                        "Body labelled x-cisco-alarm+xml is not an x-cisco-alarm document"};
ws::Expert ei_missing_name{proto, "ciscoalarm.missing_name", PI_PROTOCOL, PI_ERROR, "Required name attribute missing"};
ws::Expert ei_bad_value{proto, "ciscoalarm.bad_value", PI_PROTOCOL, PI_WARN, "Parameter value does not fit its type"};
ws::Expert ei_value_cut{proto, "ciscoalarm.value_cut", PI_UNDECODED, PI_WARN, "Value shown cut"};
ws::Expert ei_unknown{proto, "ciscoalarm.unknown_element", PI_UNDECODED, PI_CHAT, "Unknown alarm element or parameter type"};
ws::Expert ei_out_of_service{proto, "ciscoalarm.out_of_service", PI_SEQUENCE, PI_NOTE, "Phone was out of service"};
ws::Expert ei_cid_mismatch{proto, "ciscoalarm.cid_mismatch", PI_PROTOCOL, PI_WARN,
                           "Refer-To cid: does not name this body's Content-ID"};
ws::Expert ei_cid_missing{proto, "ciscoalarm.cid_missing", PI_PROTOCOL, PI_WARN,
                          "Refer-To cid: or body Content-ID missing"};
ws::Expert ei_index_full{proto, "ciscoalarm.call_index_full", PI_UNDECODED, PI_NOTE,
                         "Call-ID index full: frame links may be missing"};

ws::UintPref pref_max_calls{proto, "max_call_ids", "Call-IDs indexed for frame links",
                            "Most distinct SIP Call-IDs remembered to link LastProtocolEvent to frames.", 200000};
ws::UintPref pref_max_links{proto, "max_frame_links", "Frame links per event",
                            "Most frame links shown under one LastProtocolEvent.", 20};

// Foreign fields, read from the frame's tree (primed by the post-dissector below, with the SipObserver's,
// which enclosing_sip_message reads): a multipart part's Content-ID, and the SIP message's (this
// plugin's own decoder of the header, which Wireshark 4.0's SIP dissector does not know).
ws::ForeignField ff_content_id{"ciscoalarm.content_id"};
ws::ForeignField ff_part{"mime_multipart.part"};
ws::ForeignField ff_part_content_id{"mime_multipart.header.content-id"};

int dissect_call_index(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector call_indexer{proto, dissect_call_index, {&ff_content_id, &ff_part, &ff_part_content_id}};
[[maybe_unused]] const bool observer_wanted = [] {
    call_indexer.want(ws::SipObserver::instance().fields());
    return true;
}();

dissector_handle_t xml_handle;
int proto_xml = -1;
// What Wireshark shows for an alarm body without the plugin, kept after the alarm's tree; the decoder
// of the SIP Content-ID header.
ws::BuiltinBody builtin{proto, "application/x-cisco-alarm+xml"};
ws::SipHeaderDecoders sip_headers{proto};
constexpr std::size_t kXmlDissectorDepth = 64;

// Frames carrying each Call-ID, filled on the first pass; read when rendering alarm events. Every
// frame of every call is one entry of one vector, chained per call in capture order: no heap block per
// call besides its key (a vector per call cost a few reallocations each, on every SIP message).
struct CallIndex {
    struct Entry {
        guint32 frame;
        std::uint32_t next;  // index of the call's next entry + 1; 0: the last one
    };
    struct Chain {
        std::uint32_t first, last;  // entry indexes
    };
    std::unordered_map<std::string, Chain> calls;
    std::vector<Entry> entries;
    bool full = false;

    void add(const std::string& call_id, guint32 frame) {
        auto it = calls.find(call_id);
        if (it == calls.end()) {
            if (calls.size() >= pref_max_calls.value() || entries.size() >= UINT32_MAX - 1) {
                full = true;
                return;
            }
            entries.push_back({frame, 0});
            const auto at = static_cast<std::uint32_t>(entries.size() - 1);
            calls.emplace(call_id, Chain{at, at});
            return;
        }
        Chain& c = it->second;
        if (entries[c.last].frame == frame || entries.size() >= UINT32_MAX - 1) return;
        entries.push_back({frame, 0});
        entries[c.last].next = static_cast<std::uint32_t>(entries.size());
        c.last = static_cast<std::uint32_t>(entries.size() - 1);
    }
};
CallIndex call_index;
[[maybe_unused]] const bool call_index_hooks = [] {
    proto.on_init([] { call_index = CallIndex{}; });
    proto.on_cleanup([] { call_index = CallIndex{}; });
    return true;
}();

// Everything decided about one body, computed once on the first pass.
struct Verdict {
    core::CiscoAlarm alarm;
    std::size_t reported = 0, captured = 0;
    bool truncated = false;
    std::string summary;
    std::string oos_note;
    std::optional<core::CidCheck> cid;  // only for a body carried by a REFER
};
ws::FrameStore<Verdict> verdicts{proto, 100000};
// The verdict of a body analysed without a tree (or past the store's bound): analysed again on the
// next pass. Kept here, not on the stack, so no C++ object is alive while render() calls into epan.
Verdict unstored;

// read_headers: whether the SIP headers may be read from the tree (primed on the first pass only); a
// body analysed again on a revisit gets no cid check rather than a false one.
Verdict analyse(tvbuff_t* tvb, proto_tree* tree, const http_message_info_t* info, bool read_headers) {
    Verdict v;
    // The whole captured body is copied: the core refuses an oversized one before parsing it.
    const ws::Bytes body = ws::copy_bytes(tvb, 0, SIZE_MAX);
    v.reported = body.reported;
    v.captured = body.data.size();
    v.truncated = body.truncated;
    const core::XmlLimits limits = xml.limits();
    if (!v.truncated) v.alarm = core::parse_cisco_alarm(body.view(), limits);
    v.summary = core::alarm_summary(v.alarm);
    if (auto note = core::out_of_service_note(v.alarm)) v.oos_note = *note;

    if (!read_headers) return v;
    // The REFER's Refer-To and Content-ID sit in the headers of the SIP message holding this body.
    const std::optional<core::sip::Message> sip = ws::enclosing_sip_message(tree, tvb, 0);
    if (!sip || !sip->is("REFER")) return v;
    // A gzip-decoded body sits in a data source of its own: its REFER's headers are where
    // enclosing_sip_message found them, not in the body's data source.
    const ws::Scope message = ws::enclosing_sip_scope(tree, tvb, 0);
    // A multipart part's own Content-ID (in the part's headers) wins over the SIP message's.
    std::string_view content_id;
    if (info && info->content_id) {
        content_id = info->content_id;
    } else {
        // Only a part of this very message: a multipart REFER earlier in the segment is not ours.
        const ws::Scope part = ws::enclosing_message(tree, ff_part, tvb, 0);
        if (part.begin >= message.begin && part.begin < part.end)
            content_id = ws::string_value(ws::Occurrences(tree, ff_part_content_id).first_in(part));
        if (content_id.empty()) content_id = ws::string_value(ws::Occurrences(tree, ff_content_id).first_in(message));
    }
    v.cid = core::check_refer_to_cid(sip->refer_to, content_id);
    return v;
}

// Every expert message fits the GUI's label (core::fit_message, 200 characters): an XML issue or an
// out-of-service text may quote the phone's words at length. Done once, before the verdict is stored.
void fit_messages(Verdict& v) {
    for (core::AlarmProblem& p : v.alarm.problems) p.message = core::fit_message(p.message);
    if (!v.oos_note.empty()) v.oos_note = core::fit_message(v.oos_note);
    if (v.cid) v.cid->message = core::fit_message(v.cid->message);
}

expert_field* expert_for(core::AlarmProblemKind kind) {
    using K = core::AlarmProblemKind;
    switch (kind) {
    case K::malformed_xml: return xml.malformed();
    case K::invalid_utf8: return xml.invalid_utf8();
    case K::doctype: return xml.dtd();
    case K::too_large:
    case K::too_deep:
    case K::too_many_nodes: return xml.limit();
    case K::not_an_alarm: return ei_not_alarm.get();
    case K::missing_name: return ei_missing_name.get();
    case K::unknown_element: return ei_unknown.get();
    case K::bad_value: return ei_bad_value.get();
    case K::value_cut: return ei_value_cut.get();
    }
    return xml.malformed();
}

int typed_field(core::AlarmParamId id) {
    using I = core::AlarmParamId;
    switch (id) {
    case I::device_name: return hf_device_name;
    case I::model_number: return hf_model;
    case I::ipv4_address: return hf_ipv4;
    case I::ipv4_gateway: return hf_ipv4_gateway;
    case I::ipv6_address: return hf_ipv6;
    case I::ipv6_gateway: return hf_ipv6_gateway;
    case I::neighbor_ipv4: return hf_neighbor_ipv4;
    case I::neighbor_ipv6: return hf_neighbor_ipv6;
    case I::neighbor_device_id: return hf_neighbor_device;
    case I::neighbor_port_id: return hf_neighbor_port;
    case I::voice_vlan: return hf_voice_vlan;
    case I::local_port: return hf_local_port;
    case I::timestamp: return hf_timestamp;
    case I::oos_reason: return hf_oos_reason;
    case I::oos_reason_text: return hf_oos_text;
    case I::dhcpv4_status: return hf_dhcpv4;
    case I::dhcpv6_status: return hf_dhcpv6;
    case I::tftp_cfg_status: return hf_tftp_cfg;
    case I::dns_status_ucm1: return hf_dns_ucm1;
    case I::dns_status_ucm2: return hf_dns_ucm2;
    case I::dns_status_ucm3: return hf_dns_ucm3;
    case I::dnsv6_status_ucm1: return hf_dnsv6_ucm1;
    case I::dnsv6_status_ucm2: return hf_dnsv6_ucm2;
    case I::dnsv6_status_ucm3: return hf_dnsv6_ucm3;
    case I::ctl_tftp_server: return hf_ctl_tftp;
    case I::itl_tftp_server: return hf_itl_tftp;
    case I::status_code: return hf_status_code;
    default: return -1;
    }
}

void render_event(const ws::Tree& t, const core::AlarmParam& p, packet_info* pinfo) {
    const core::ProtocolEvent& ev = *p.event;
    // Event spans are relative to the value; when entities changed the text, use the whole value.
    auto at = [&](core::Span s) {
        return p.verbatim ? core::Span{p.value_span.offset + s.offset, s.length} : p.value_span;
    };
    // Labels are formatted in packet memory: no C++ temporary may be alive if epan throws.
    const ws::Tree e = t.child(t.subtree(hf_event, ett_event, p.value_span,
                                         wmem_strdup_printf(pinfo->pool, "%s: %s", p.name.c_str(), p.value.c_str())));
    e.add_string(hf_event_direction, at({0, ev.direction.size()}), ev.direction);
    if (ev.is_response) {
        e.add_uint(hf_event_status, at(ev.start_line), ev.status_code);
        e.add_string(hf_event_reason, at(ev.start_line), ev.reason);
    } else {
        e.add_string(hf_event_method, at(ev.start_line), ev.method);
        if (!ev.request_uri.empty()) e.add_string(hf_event_ruri, at(ev.start_line), ev.request_uri);
    }
    if (ev.cseq) {
        e.add_uint(hf_event_cseq, at(ev.cseq_span), *ev.cseq);
        e.add_string(hf_event_cseq_method, at(ev.cseq_span), ev.cseq_method);
    }
    if (ev.call_id.empty()) return;
    proto_item* call = e.add_string(hf_event_call_id, at(ev.call_id_span), ev.call_id);
    const auto found = call_index.calls.find(ev.call_id);
    if (found != call_index.calls.end()) {
        const std::size_t n = pref_max_links.value();
        std::size_t i = 0;
        for (std::uint32_t at_entry = found->second.first + 1; at_entry && i < n; ++i) {
            const CallIndex::Entry& entry = call_index.entries[at_entry - 1];
            if (entry.frame != pinfo->num) e.add_frame(hf_event_frame, at(ev.call_id_span), entry.frame);
            at_entry = entry.next;
        }
    } else if (call_index.full) {
        expert_add_info(pinfo, call, ei_index_full.get());
    }
}

void render_param(const ws::Tree& t, const core::AlarmParam& p, packet_info* pinfo) {
    const char* label = wmem_strdup_printf(pinfo->pool, "%s (%s): %s", p.name.empty() ? "(no name)" : p.name.c_str(),
                                           p.element.c_str(), p.value.c_str());
    const ws::Tree pt = t.child(t.subtree(hf_param, ett_param,
                                          {p.element_span.offset, p.value_span.end() - p.element_span.offset}, label));
    pt.add_string(hf_param_name, p.name_span, p.name);
    pt.add_string(hf_param_type, {p.element_span.offset + 1, p.element.size()}, p.element);
    pt.add_string(hf_param_value, p.value_span, p.value);

    const core::AlarmTypedValue& v = p.typed;
    using K = core::AlarmValueKind;
    using I = core::AlarmParamId;
    switch (p.id) {
    case I::ucm_address:
        if (v.kind == K::ipv4) pt.add_ipv4(hf_ucm_ipv4, p.value_span, v.address.data());
        else if (v.kind == K::ipv6) pt.add_ipv6(hf_ucm_ipv6, p.value_span, v.address.data());
        else if (v.kind == K::text) pt.add_string(hf_ucm_host, p.value_span, p.value);
        return;
    case I::ctl_signature:
    case I::itl_signature: {
        const bool ctl = p.id == I::ctl_signature;
        if (v.kind == K::bytes) pt.add_bytes(ctl ? hf_ctl_sig : hf_itl_sig, p.value_span, v.bytes.data(), v.bytes.size());
        if (v.kind == K::bytes || v.kind == K::not_installed)
            pt.add_bool(ctl ? hf_ctl_installed : hf_itl_installed, p.value_span, v.kind == K::bytes);
        return;
    }
    case I::last_event_sent:
    case I::last_event_received:
        if (p.event) render_event(pt, p, pinfo);
        return;
    default:
        break;
    }
    const int hf = typed_field(p.id);
    if (hf < 0) return;
    proto_item* typed = nullptr;
    switch (v.kind) {
    case K::text: typed = pt.add_string(hf, p.value_span, p.value); break;
    case K::number: typed = pt.add_uint(hf, p.value_span, static_cast<guint32>(v.number)); break;
    case K::time_ms: typed = pt.add_time_ms(hf, p.value_span, v.number); break;
    case K::ipv4:
        typed = pt.add_ipv4(hf, p.value_span, v.address.data());
        if (v.prefix_length) pt.add_uint(hf_ipv4_prefix, p.value_span, *v.prefix_length);
        break;
    case K::ipv6: typed = pt.add_ipv6(hf, p.value_span, v.address.data()); break;
    default: break;
    }
    (void)typed;
}

void render_cid(const ws::Tree& t, const Verdict& v, packet_info* pinfo, proto_item* top) {
    if (!v.cid) return;
    const core::CidCheck& c = *v.cid;
    const core::Span whole{0, 0};
    if (!c.refer_cid.empty()) proto_item_set_generated(t.add_string(hf_refer_cid, whole, c.refer_cid));
    if (!c.body_cid.empty()) proto_item_set_generated(t.add_string(hf_body_cid, whole, c.body_cid));
    using V = core::CidVerdict;
    if (c.verdict == V::match || c.verdict == V::mismatch) {
        proto_item* m = t.add_bool(hf_cid_match, whole, c.verdict == V::match);
        proto_item_set_generated(m);
        if (c.verdict == V::mismatch) expert_add_info_format(pinfo, m, ei_cid_mismatch.get(), "%s", c.message.c_str());
        return;
    }
    expert_add_info_format(pinfo, top, ei_cid_missing.get(), "%s", c.message.c_str());
}

void render(const ws::Tree& t, const Verdict& v, packet_info* pinfo, proto_item* top) {
    const core::CiscoAlarm& a = v.alarm;
    if (v.truncated)
        xml.truncated(pinfo, top, v.captured, v.reported);
    if (a.decoded) {
        t.add_string(hf_name, a.name_span, a.name);
        proto_item_append_text(top, ": %s", a.name.c_str());
    }
    for (const core::AlarmParam& p : a.params) render_param(t, p, pinfo);
    for (const core::AlarmProblem& problem : a.problems) t.add_expert(expert_for(problem.kind), pinfo, problem.where, problem.message);
    if (const core::AlarmParam* reason = a.find(core::AlarmParamId::oos_reason); reason && !v.oos_note.empty())
        t.add_expert(ei_out_of_service.get(), pinfo, reason->value_span, v.oos_note);
    render_cid(t, v, pinfo, top);
}

int dissect_alarm(ws::BuiltinBody::Caller caller, tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
    const auto* info = static_cast<const http_message_info_t*>(data);
    // Which alarm body of this frame this is (1, 2, ...), the same on every pass: ciscoalarm's own layer
    // number, read before any other dissector runs. Not the tvb offset: a decompressed body starts at 0
    // of its own data source, whatever its place in the frame.
    const std::uint32_t slot = pinfo->curr_proto_layer_num;
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, -1, ENC_NA);
    const ws::Tree t(proto_item_add_subtree(top, ett_alarm), tvb);

    const Verdict* v = verdicts.find(pinfo->num, slot);
    if (!v) {
        ws::guard(proto, pinfo, top, [&] {
            Verdict fresh = analyse(tvb, tree, info, !PINFO_FD_VISITED(pinfo));
            fit_messages(fresh);
            if (tree && !PINFO_FD_VISITED(pinfo) && (v = verdicts.put(pinfo->num, slot, std::move(fresh))))
                return;
            unstored = std::move(fresh);
            v = &unstored;
        });
        if (!v) {
            builtin.dissect(caller, tvb, pinfo, tree, data);
            return tvb_captured_length(tvb);
        }
    }
    render(t, *v, pinfo, top);

    // SIP ends each message's text with " | " behind a fence and starts the next message of the same
    // segment with col_add_*, which would erase an unfenced summary: fence ours the same way. The
    // built-in output comes between: a part reads "<summary> (application/x-cisco-alarm+xml) | ".
    const core::CiscoAlarm& a = v->alarm;
    const bool summarised = a.decoded || !a.problems.empty() || v->truncated;
    if (summarised) col_append_str(pinfo->cinfo, COL_INFO, v->summary.c_str());
    builtin.dissect(caller, tvb, pinfo, tree, data);
    if (summarised) {
        col_append_str(pinfo->cinfo, COL_INFO, " | ");
        col_set_fence(pinfo->cinfo, COL_INFO);
    }

    // The generic XML tree, for documents that parsed cleanly (Wireshark's XML dissector has no depth
    // or size cap of its own).
    const bool clean = std::none_of(a.problems.begin(), a.problems.end(), [](const core::AlarmProblem& p) {
        return p.kind == core::AlarmProblemKind::too_large || p.kind == core::AlarmProblemKind::too_deep ||
               p.kind == core::AlarmProblemKind::too_many_nodes || p.kind == core::AlarmProblemKind::doctype ||
               p.kind == core::AlarmProblemKind::malformed_xml;
    });
    // Wireshark's tree has a depth limit of its own (500 in 4.0): deep documents are not handed over,
    // whatever ciscoalarm.max_depth allows. Only when someone looks at its output: the tree is shown, an
    // xml field or protocol is primed (filter, -e, column, colouring rule; protocol hierarchy keeps
    // protocols unfaked), or the columns are computed (it names XML in the Protocol column). Plain
    // Wireshark 4.0 shows no XML tree for this media type, and the XML dissector keeps no state across
    // packets: nothing else depends on it, and it cost ~220k instructions per body.
    if (clean && !v->truncated && a.xml_depth <= kXmlDissectorDepth && xml_handle &&
        (pinfo->cinfo || (proto_xml >= 0 && proto_field_is_referenced(tree, proto_xml))))
        call_dissector_with_data(xml_handle, tvb, pinfo, tree, data);
    return tvb_captured_length(tvb);
}

// sip.hdr decoder for Content-ID, a header the SIP dissector of Wireshark 4.0 does not know (without a
// protocol layer: see wsglue/sip_headers.h).
int dissect_content_id(tvbuff_t* tvb, packet_info*, proto_tree* tree, void*) {
    proto_tree_add_item(tree, hf_content_id, tvb, 0, -1, ENC_UTF_8);
    return tvb_captured_length(tvb);
}

// Post-dissector: remembers which frames carry each SIP Call-ID, on the first pass only.
int dissect_call_index(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    if (PINFO_FD_VISITED(pinfo)) return 0;
    const ws::Observation* o = ws::SipObserver::instance().observe(tvb, pinfo, tree);
    if (!o || o->messages.empty()) return 0;
    ws::guard(proto, pinfo, nullptr, [&] {
        for (const ws::ObservedMessage& om : o->messages) {
            const std::string& id = om.message.call_id;
            if (om.status == core::sip::ParseStatus::not_sip || id.empty()) continue;
            call_index.add(id, pinfo->num);
        }
    });
    return 0;
}

void proto_register_ciscoalarm() {
    proto.register_all();
    builtin.register_dissectors<dissect_alarm>("ciscoalarm");
}

void proto_reg_handoff_ciscoalarm() {
    builtin.handoff();
    sip_headers.add<dissect_content_id>("content-id");  // sip.hdr keys are SIP's lower-case names
    xml_handle = find_dissector_add_dependency("xml", proto.id());
    proto_xml = proto_get_id_by_filter_name("xml");
    call_indexer.handoff();
}

}  // namespace

SIPSLEUTH_PROTOCOL(proto_register_ciscoalarm, proto_reg_handoff_ciscoalarm)
