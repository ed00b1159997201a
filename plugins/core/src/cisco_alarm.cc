// SPDX-License-Identifier: GPL-2.0-or-later
// See cisco_alarm.h. The body shape and the parameter names come from the two REFERs of field case
// 003 (CP-7821 firmware 11.5.1); the enum names come from Cisco's documentation, cited in
// docs/ciscoalarm.md.
#include "sipsleuth/core/cisco_alarm.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace sipsleuth::core {
namespace {

enum class Expect { text, number, ipv4, ipv6, address, time_ms, signature, event };

struct KnownParam {
    std::string_view name;
    AlarmParamId id;
    Expect expect;
    std::uint64_t max;  // for numbers
};

constexpr KnownParam kKnown[] = {
    {"DeviceName", AlarmParamId::device_name, Expect::text, 0},
    {"ModelNumber", AlarmParamId::model_number, Expect::text, 0},
    {"IPv4Address", AlarmParamId::ipv4_address, Expect::ipv4, 0},
    {"DeviceIPv4Address", AlarmParamId::ipv4_address, Expect::ipv4, 0},
    {"IPv4DefaultGateway", AlarmParamId::ipv4_gateway, Expect::ipv4, 0},
    {"IPv6Address", AlarmParamId::ipv6_address, Expect::ipv6, 0},
    {"DeviceIPv6Address", AlarmParamId::ipv6_address, Expect::ipv6, 0},
    {"IPv6DefaultGateway", AlarmParamId::ipv6_gateway, Expect::ipv6, 0},
    {"NeighborIPv4Address", AlarmParamId::neighbor_ipv4, Expect::ipv4, 0},
    {"NeighborIPv6Address", AlarmParamId::neighbor_ipv6, Expect::ipv6, 0},
    {"NeighborDeviceID", AlarmParamId::neighbor_device_id, Expect::text, 0},
    {"NeighborPortID", AlarmParamId::neighbor_port_id, Expect::text, 0},
    {"VoiceVLAN", AlarmParamId::voice_vlan, Expect::number, 4095},
    {"UnifiedCMIPAddress", AlarmParamId::ucm_address, Expect::address, 0},
    {"LocalPort", AlarmParamId::local_port, Expect::number, 65535},
    {"TimeStamp", AlarmParamId::timestamp, Expect::time_ms, 0},
    {"ReasonForOutOfService", AlarmParamId::oos_reason, Expect::number, UINT32_MAX},
    {"ReasonForOutOfServiceText", AlarmParamId::oos_reason_text, Expect::text, 0},
    {"DHCPv4Status", AlarmParamId::dhcpv4_status, Expect::number, UINT32_MAX},
    {"DHCPv6Status", AlarmParamId::dhcpv6_status, Expect::number, UINT32_MAX},
    {"TFTPCfgStatus", AlarmParamId::tftp_cfg_status, Expect::number, UINT32_MAX},
    {"DNSStatusUnifiedCM1", AlarmParamId::dns_status_ucm1, Expect::number, UINT32_MAX},
    {"DNSStatusUnifiedCM2", AlarmParamId::dns_status_ucm2, Expect::number, UINT32_MAX},
    {"DNSStatusUnifiedCM3", AlarmParamId::dns_status_ucm3, Expect::number, UINT32_MAX},
    {"DNSv6StatusUnifiedCM1", AlarmParamId::dnsv6_status_ucm1, Expect::number, UINT32_MAX},
    {"DNSv6StatusUnifiedCM2", AlarmParamId::dnsv6_status_ucm2, Expect::number, UINT32_MAX},
    {"DNSv6StatusUnifiedCM3", AlarmParamId::dnsv6_status_ucm3, Expect::number, UINT32_MAX},
    {"CTL_Signature", AlarmParamId::ctl_signature, Expect::signature, 0},
    {"CTL_TFTP_Server", AlarmParamId::ctl_tftp_server, Expect::text, 0},
    {"ITL_Signature", AlarmParamId::itl_signature, Expect::signature, 0},
    {"ITL_TFTP_Server", AlarmParamId::itl_tftp_server, Expect::text, 0},
    {"StatusCode", AlarmParamId::status_code, Expect::number, UINT32_MAX},
    {"LastProtocolEventSent", AlarmParamId::last_event_sent, Expect::event, 0},
    {"LastProtocolEventReceived", AlarmParamId::last_event_received, Expect::event, 0},
};

const KnownParam* find_known(std::string_view name) {
    for (const KnownParam& k : kKnown)
        if (k.name == name) return &k;
    return nullptr;
}

bool parse_ipv4(std::string_view s, AlarmTypedValue& out) {
    std::string_view addr = s;
    const std::size_t slash = s.find('/');
    if (slash != std::string_view::npos) {
        addr = s.substr(0, slash);
        const auto prefix = parse_decimal(s.substr(slash + 1), 32);
        if (!prefix) return false;
        out.prefix_length = static_cast<unsigned>(*prefix);
    }
    for (int i = 0; i < 4; ++i) {
        const std::size_t dot = i < 3 ? addr.find('.') : addr.size();
        if (dot == std::string_view::npos || dot == 0 || dot > 3) return false;
        const auto octet = parse_decimal(addr.substr(0, dot), 255);
        if (!octet) return false;
        out.address[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*octet);
        addr.remove_prefix(i < 3 ? dot + 1 : dot);
    }
    if (!addr.empty()) return false;
    out.kind = AlarmValueKind::ipv4;
    return true;
}

bool parse_ipv6(std::string_view s, AlarmTypedValue& out) {
    std::string_view addr = s;
    const std::size_t slash = s.find('/');
    if (slash != std::string_view::npos) {
        addr = s.substr(0, slash);
        const auto prefix = parse_decimal(s.substr(slash + 1), 128);
        if (!prefix) return false;
        out.prefix_length = static_cast<unsigned>(*prefix);
    }
    if (addr.size() > 45 || addr.find(':') == std::string_view::npos) return false;
    const std::string z(addr);
    if (inet_pton(AF_INET6, z.c_str(), out.address.data()) != 1) return false;
    out.kind = AlarmValueKind::ipv6;
    return true;
}

// "3E 91 A3 5D ..." (the phone's rendering of a SHA-1) into bytes.
bool parse_hex_bytes(std::string_view s, std::vector<std::uint8_t>& out) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    out.clear();
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == ' ' || s[i] == ':') {
            ++i;
            continue;
        }
        if (i + 1 >= s.size()) return false;
        const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
        i += 2;
    }
    return !out.empty();
}

// Fills param.typed (and param.event); returns false when the value does not fit the type.
bool decode_typed(const KnownParam& k, AlarmParam& p) {
    const std::string_view v = trim(p.value);
    if (v.empty()) return true;  // the phone leaves absent facts empty (IPv6Address on a v4-only phone)
    switch (k.expect) {
    case Expect::text:
        p.typed.kind = AlarmValueKind::text;
        return true;
    case Expect::number:
        if (auto n = parse_decimal(v, k.max)) {
            p.typed.kind = AlarmValueKind::number;
            p.typed.number = *n;
            return true;
        }
        return false;
    case Expect::time_ms:
        if (auto n = parse_decimal(v, 253402300799999ULL)) {  // up to year 9999
            p.typed.kind = AlarmValueKind::time_ms;
            p.typed.number = *n;
            return true;
        }
        return false;
    case Expect::ipv4:
        return parse_ipv4(v, p.typed);
    case Expect::ipv6:
        return parse_ipv6(v, p.typed);
    case Expect::address:
        // CUCM may be named by address or by host name; only an address gets an address field.
        if (!parse_ipv4(v, p.typed) && !parse_ipv6(v, p.typed)) {
            p.typed = AlarmTypedValue{};
            p.typed.kind = AlarmValueKind::text;
        }
        return true;
    case Expect::signature:
        if (iequals(v, "Not Installed")) {
            p.typed.kind = AlarmValueKind::not_installed;
            return true;
        }
        if (parse_hex_bytes(v, p.typed.bytes)) {
            p.typed.kind = AlarmValueKind::bytes;
            return true;
        }
        return false;
    case Expect::event:
        p.event = parse_protocol_event(p.value);
        return p.event.has_value();
    }
    return false;
}

// A value, name or element inside a message: 64 bytes at most (the field holds it whole), so a message
// fits the GUI's label (200 characters).
std::string clipped(std::string_view s) { return s.size() <= 64 ? std::string(s) : sanitize_utf8(s, 61) + "..."; }
std::string quoted(std::string_view s) { return "\"" + clipped(s) + "\""; }

struct Builder {
    const XmlBody& xml;
    CiscoAlarm& out;

    void problem(AlarmProblemKind kind, Span where, std::string message) {
        out.problems.push_back({kind, where, std::move(message)});
    }

    std::string copy(std::string_view decoded, Span where, std::string_view what) {
        bool cut = false;
        std::string v = xml.value(decoded, &cut);
        if (cut)
            problem(AlarmProblemKind::value_cut, where,
                    clipped(what) + " of " + std::to_string(decoded.size()) + " bytes shown cut to " +
                        std::to_string(v.size()) + " bytes");
        return v;
    }

    void read_param(pugi::xml_node el) {
        AlarmParam p;
        p.element = copy(XmlBody::local_name(el), xml.start_tag(el), "Element name");
        p.element_span = xml.start_tag(el);
        if (p.element != "String" && p.element != "Enum")
            problem(AlarmProblemKind::unknown_element, p.element_span,
                    "Unknown parameter type <" + clipped(p.element) + ">: shown as text");
        const pugi::xml_attribute name = el.attribute("name");
        if (!name) {
            problem(AlarmProblemKind::missing_name, p.element_span,
                    "<" + clipped(p.element) + "> parameter has no name attribute");
            p.name_span = p.element_span;
        } else {
            p.name_span = xml.attribute_span(name, el);
            p.name = copy(name.value(), p.name_span, "Parameter name");
        }
        const std::string_view text = XmlBody::text(el);
        p.value_span = xml.text_span(el);
        p.value = copy(text, p.value_span, "Value of " + (p.name.empty() ? p.element : p.name));
        p.verbatim = p.value == text && xml.verbatim(p.value_span, text);
        if (const KnownParam* k = find_known(p.name)) {
            p.id = k->id;
            if (!decode_typed(*k, p)) {
                problem(AlarmProblemKind::bad_value, p.value_span,
                        clipped(p.name) + " value " + quoted(p.value) + " is not " +
                            (k->expect == Expect::event ? "a \"Sent:/Rcvd:<start line> Cseq:<n> <method> CallId:<id>\" event"
                             : k->expect == Expect::ipv4 ? "an IPv4 address"
                             : k->expect == Expect::ipv6 ? "an IPv6 address"
                             : k->expect == Expect::signature ? "a hex signature or \"Not Installed\""
                                                              : "a number in range"));
                p.typed = AlarmTypedValue{};
            }
        }
        out.params.push_back(std::move(p));
    }

    void read_alarm(pugi::xml_node alarm) {
        out.decoded = true;
        out.alarm_span = xml.start_tag(alarm);
        const pugi::xml_attribute name = alarm.attribute("Name");
        if (!name) {
            problem(AlarmProblemKind::missing_name, out.alarm_span, "<Alarm> has no Name attribute");
            out.name_span = out.alarm_span;
        } else {
            out.name_span = xml.attribute_span(name, alarm);
            out.name = copy(name.value(), out.name_span, "Alarm name");
        }
        for (pugi::xml_node child = alarm.first_child(); child; child = child.next_sibling()) {
            if (child.type() != pugi::node_element) continue;
            if (XmlBody::local_name(child) != "ParameterList") {
                problem(AlarmProblemKind::unknown_element, xml.start_tag(child),
                        "Unknown element <" + copy(child.name(), xml.start_tag(child), "Element name") +
                            "> in <Alarm>");
                continue;
            }
            for (pugi::xml_node el = child.first_child(); el; el = el.next_sibling())
                if (el.type() == pugi::node_element) read_param(el);
        }
    }
};

AlarmProblemKind from_xml(XmlIssueKind k) {
    switch (k) {
    case XmlIssueKind::too_large: return AlarmProblemKind::too_large;
    case XmlIssueKind::malformed: return AlarmProblemKind::malformed_xml;
    case XmlIssueKind::invalid_utf8: return AlarmProblemKind::invalid_utf8;
    case XmlIssueKind::doctype: return AlarmProblemKind::doctype;
    case XmlIssueKind::too_deep: return AlarmProblemKind::too_deep;
    case XmlIssueKind::too_many_nodes: return AlarmProblemKind::too_many_nodes;
    }
    return AlarmProblemKind::malformed_xml;
}

// Token at the front of s (up to a space); s advances past it and the spaces after it.
std::string_view take_token(std::string_view& s) {
    const std::size_t end = s.find(' ');
    const std::string_view tok = s.substr(0, end);
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return tok;
}

Span span_in(std::string_view whole, std::string_view part) {
    return {static_cast<std::size_t>(part.data() - whole.data()), part.size()};
}

// Cisco's SIP client stack as open-sourced in sipcc (plat_api.h, "Define unregister reason": "this
// reason is reported to CUCM"), with the CUCM alarm catalog's wording for 15 and 16, which sipcc
// leaves out. Codes 10-25 are shared with SCCP phones.
constexpr CodeName kOosReasons[] = {
    {0, "Unspecified"},
    {10, "TCP timeout"},
    {12, "Unified CM reset the TCP connection"},
    {13, "Unified CM aborted the TCP connection"},
    {14, "Unified CM closed the TCP connection"},
    {15, "SCCP keepalive failure"},
    {16, "Device lost its IP address"},
    {17, "Registration timed out"},
    {18, "Fallback to a higher-priority Unified CM"},
    {20, "Reset by the user (keypad)"},
    {22, "Reset by Unified CM (reset)"},
    {23, "Reset by Unified CM (restart)"},
    {24, "Registration rejected"},
    {25, "Phone initialized"},
    {26, "Voice VLAN changed"},
    {32, "Power Save Plus"},
    {100, "Version stamp mismatch"},
    {101, "Version stamp mismatch (configuration)"},
    {102, "Version stamp mismatch (softkeys)"},
    {103, "Version stamp mismatch (dial plan)"},
    {104, "Restart to apply configuration"},
    {105, "Restart to retry configuration"},
    {106, "TLS error"},
    {107, "Reset to the inactive partition"},
    {108, "VPN connectivity lost"},
};

// sipcc plat_api.h: "Corresponds to the values for XML tags DHCPv4Status and DHCPv6Status".
constexpr CodeName kDhcpStatuses[] = {{1, "Good"}, {2, "Timeout"}, {3, "Disabled"}};

// sipcc plat_api.h: "Corresponds to the value for XML tag for DNSStatusUnifiedCMX".
constexpr CodeName kDnsStatuses[] = {
    {1, "Good"}, {2, "Timeout"}, {3, "Did not resolve"}, {4, "Not applicable: IP address configured"}};

}  // namespace

std::string alarm_summary(const CiscoAlarm& alarm) {
    if (!alarm.decoded) return "Cisco alarm (not decoded)";
    std::string out = "Cisco alarm " + (alarm.name.empty() ? std::string("(no name)") : alarm.name);
    const AlarmParam* reason = alarm.find(AlarmParamId::oos_reason);
    if (reason && reason->typed.kind == AlarmValueKind::number) {
        out += ": ReasonForOutOfService " + std::to_string(reason->typed.number);
        const AlarmParam* text = alarm.find(AlarmParamId::oos_reason_text);
        const char* documented = oos_reasons().name(reason->typed.number);
        if (text && !trim(text->value).empty())
            out += " (" + std::string(trim(text->value)) + ")";
        else if (documented)
            out += " (" + std::string(documented) + ")";
        return out;
    }
    const AlarmParam* status = alarm.find(AlarmParamId::status_code);
    if (status && status->typed.kind == AlarmValueKind::number) out += ": StatusCode " + std::to_string(status->typed.number);
    return out;
}

std::optional<std::string> out_of_service_note(const CiscoAlarm& alarm) {
    const AlarmParam* reason = alarm.find(AlarmParamId::oos_reason);
    if (!reason || reason->typed.kind != AlarmValueKind::number) return std::nullopt;
    std::string out = "Phone was out of service: reason " + std::to_string(reason->typed.number);
    const char* documented = oos_reasons().name(reason->typed.number);
    out += documented ? " (" + std::string(documented) + ")" : std::string(" (undocumented code)");
    if (const AlarmParam* text = alarm.find(AlarmParamId::oos_reason_text); text && !trim(text->value).empty())
        out += ", phone's text \"" + clipped(trim(text->value)) + "\"";
    return out;
}

CodeTable oos_reasons() { return {kOosReasons, std::size(kOosReasons)}; }
CodeTable dhcp_statuses() { return {kDhcpStatuses, std::size(kDhcpStatuses)}; }
CodeTable dns_statuses() { return {kDnsStatuses, std::size(kDnsStatuses)}; }

const AlarmParam* CiscoAlarm::find(AlarmParamId id) const {
    for (const AlarmParam& p : params)
        if (p.id == id) return &p;
    return nullptr;
}

std::optional<ProtocolEvent> parse_protocol_event(std::string_view text) {
    ProtocolEvent ev;
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const std::string_view direction = trim(text.substr(0, colon));
    for (char c : direction)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return std::nullopt;
    if (direction.empty()) return std::nullopt;
    ev.direction = std::string(direction);

    const std::size_t cseq_at = ifind(text, "Cseq:", colon + 1);
    const std::size_t callid_at = ifind(text, "CallId:", colon + 1);
    const std::size_t line_end = std::min(cseq_at, std::min(callid_at, text.size()));
    std::string_view line = trim(text.substr(colon + 1, line_end - colon - 1));
    if (line.empty()) return std::nullopt;
    ev.start_line = span_in(text, line);
    if (line.size() >= 4 && line.substr(0, 4) == "SIP/") {
        std::string_view rest = line;
        take_token(rest);  // SIP/2.0
        const auto code = parse_decimal(take_token(rest), 999);
        if (!code || *code < 100) return std::nullopt;
        ev.is_response = true;
        ev.status_code = static_cast<unsigned>(*code);
        ev.reason = std::string(rest);
    } else {
        std::string_view rest = line;
        ev.method = std::string(take_token(rest));
        ev.request_uri = std::string(take_token(rest));
    }
    if (cseq_at != std::string_view::npos) {
        std::string_view rest = text.substr(cseq_at + 5, std::min(callid_at, text.size()) - cseq_at - 5);
        rest = trim(rest);
        ev.cseq_span = span_in(text, rest);
        const std::string_view number = take_token(rest);
        const auto n = parse_decimal(number, UINT32_MAX);
        if (!n) return std::nullopt;
        ev.cseq = static_cast<std::uint32_t>(*n);
        ev.cseq_method = std::string(take_token(rest));
    }
    if (callid_at != std::string_view::npos) {
        std::string_view rest = trim(text.substr(callid_at + 7));
        rest = rest.substr(0, rest.find(' '));
        if (rest.empty()) return std::nullopt;
        ev.call_id = std::string(rest);
        ev.call_id_span = span_in(text, rest);
    }
    return ev;
}

CiscoAlarm parse_cisco_alarm(std::string_view body, const XmlLimits& limits) {
    CiscoAlarm out;
    const XmlBody xml = XmlBody::parse(body, limits);
    for (const XmlIssue& issue : xml.issues()) out.problems.push_back({from_xml(issue.kind), issue.where, issue.message});
    out.xml_depth = xml.depth();
    if (!xml.usable()) return out;

    Builder b{xml, out};
    const pugi::xml_node root = xml.root();
    if (XmlBody::local_name(root) != "x-cisco-alarm") {
        b.problem(AlarmProblemKind::not_an_alarm, xml.start_tag(root),
                  "Root element is <" + b.copy(root.name(), xml.start_tag(root), "Element name") +
                      ">, not <x-cisco-alarm>: body mislabelled as application/x-cisco-alarm+xml?");
        return out;
    }
    for (pugi::xml_node child = root.first_child(); child; child = child.next_sibling()) {
        if (child.type() != pugi::node_element) continue;
        if (XmlBody::local_name(child) == "Alarm" && !out.decoded) {
            b.read_alarm(child);
        } else {
            b.problem(AlarmProblemKind::unknown_element, xml.start_tag(child),
                      "Unexpected element <" + b.copy(child.name(), xml.start_tag(child), "Element name") +
                          "> in <x-cisco-alarm>");
        }
    }
    if (!out.decoded)
        b.problem(AlarmProblemKind::not_an_alarm, xml.start_tag(root), "No <Alarm> element in <x-cisco-alarm>");
    return out;
}

}  // namespace sipsleuth::core
