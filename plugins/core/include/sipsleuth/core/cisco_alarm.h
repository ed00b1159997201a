// SPDX-License-Identifier: GPL-2.0-or-later
// Parser for Cisco phones' application/x-cisco-alarm+xml bodies. A phone (CP-7821 in field case 003)
// sends them in REFER requests to CUCM before it registers:
//   <x-cisco-alarm><Alarm Name="DeviceTLInfo"><ParameterList>
//     <String name="DeviceName">SEP...</String> <Enum name="DHCPv4Status">1</Enum> ...
// Every parameter is kept as (element type, name, value) with byte spans into the body; parameters
// the seed bodies carry are also decoded into typed values (addresses, ports, times, enums), and the
// LastProtocolEventSent/Received strings into their SIP start line, CSeq and Call-ID.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/codes.h"
#include "sipsleuth/core/text.h"
#include "sipsleuth/core/xml_body.h"

namespace sipsleuth::core {

/// Parameters with a typed meaning; `none` for every other name (still decoded generically).
enum class AlarmParamId {
    none,
    device_name, model_number,
    ipv4_address, ipv4_gateway, ipv6_address, ipv6_gateway,
    neighbor_ipv4, neighbor_ipv6, neighbor_device_id, neighbor_port_id,
    voice_vlan, ucm_address, local_port, timestamp,
    oos_reason, oos_reason_text,
    dhcpv4_status, dhcpv6_status, tftp_cfg_status,
    dns_status_ucm1, dns_status_ucm2, dns_status_ucm3,
    dnsv6_status_ucm1, dnsv6_status_ucm2, dnsv6_status_ucm3,
    ctl_signature, ctl_tftp_server, itl_signature, itl_tftp_server, status_code,
    last_event_sent, last_event_received,
};

/// What a typed parameter's value turned into.
enum class AlarmValueKind { none, text, number, ipv4, ipv6, time_ms, bytes, not_installed };

struct AlarmTypedValue {
    AlarmValueKind kind = AlarmValueKind::none;
    std::uint64_t number = 0;                 ///< number, time_ms (ms since the epoch)
    std::array<std::uint8_t, 16> address{};   ///< ipv4 in the first 4 bytes, network order; ipv6
    std::optional<unsigned> prefix_length;    ///< "192.168.15.20/24"
    std::vector<std::uint8_t> bytes;          ///< hex signatures ("3E 91 A3 ...")
};

/// "Sent:REGISTER sip:x SIP/2.0 Cseq:336 REGISTER CallId:abc@h" or "Rcvd:SIP/2.0 200 OK Cseq:..".
/// Spans are relative to the parameter's value (valid only when the parameter is verbatim).
struct ProtocolEvent {
    std::string direction;  ///< "Sent" or "Rcvd" as written
    bool is_response = false;
    std::string method;       ///< request method
    std::string request_uri;  ///< request URI
    unsigned status_code = 0; ///< response status
    std::string reason;       ///< response reason phrase
    std::optional<std::uint32_t> cseq;
    std::string cseq_method;
    std::string call_id;
    Span start_line, cseq_span, call_id_span;
};

/// Parses one LastProtocolEvent string; nullopt when it does not have that shape.
std::optional<ProtocolEvent> parse_protocol_event(std::string_view text);

struct AlarmParam {
    std::string element;  ///< "String", "Enum", or whatever the phone wrote
    Span element_span;    ///< the start tag
    std::string name;
    Span name_span;
    std::string value;  ///< decoded, valid UTF-8, cut at XmlLimits::max_value_bytes
    Span value_span;
    bool verbatim = false;  ///< value equals the bytes at value_span
    AlarmParamId id = AlarmParamId::none;
    AlarmTypedValue typed;
    std::optional<ProtocolEvent> event;
};

enum class AlarmProblemKind {
    too_large, malformed_xml, invalid_utf8, doctype, too_deep, too_many_nodes,  // from XmlIssueKind
    not_an_alarm,     ///< root is not <x-cisco-alarm>
    missing_name,     ///< Alarm without Name, or parameter without name
    unknown_element,  ///< element or parameter type this parser does not know
    bad_value,        ///< a typed parameter whose value does not fit its type
    value_cut,        ///< value longer than the limit
};

struct AlarmProblem {
    AlarmProblemKind kind;
    Span where;
    std::string message;  ///< sentence case, no period
};

struct CiscoAlarm {
    bool decoded = false;  ///< an <Alarm> element was read
    std::string name;
    Span name_span;
    Span alarm_span;  ///< the <Alarm> start tag
    std::vector<AlarmParam> params;
    std::vector<AlarmProblem> problems;
    std::size_t xml_depth = 0;  ///< deepest element nesting of the body (XmlBody::depth)

    /// First parameter with that id, or nullptr.
    const AlarmParam* find(AlarmParamId id) const;
};

/// Parses a whole body. Never throws except std::bad_alloc; problems say what was wrong and where.
CiscoAlarm parse_cisco_alarm(std::string_view body, const XmlLimits& limits = {});

/// Info column text: "Cisco alarm LastOutOfServiceInformation: ReasonForOutOfService 25 (LastTimeInitialized)".
std::string alarm_summary(const CiscoAlarm& alarm);

/// Expert note for an out-of-service reason, or nullopt when the alarm carries none.
std::optional<std::string> out_of_service_note(const CiscoAlarm& alarm);

/// ReasonForOutOfService (Cisco's unregister reasons, shared with SCCP alarms).
CodeTable oos_reasons();
/// DHCPv4Status and DHCPv6Status.
CodeTable dhcp_statuses();
/// DNSStatusUnifiedCM1..3.
CodeTable dns_statuses();

}  // namespace sipsleuth::core
