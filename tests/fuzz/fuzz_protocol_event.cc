// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for parse_protocol_event, the "Sent:/Rcvd:<start line> Cseq:<n> <method>
// CallId:<id>" strings of LastOutOfServiceInformation. Aborts when a span leaves the input or does not
// hold the field it names (start line, CSeq number, Call-ID), or a status code is outside 100-999.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/cisco_alarm.h"

namespace {

using namespace sipsleuth::core;

using fuzz::inside;
using fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::optional<ProtocolEvent> ev = parse_protocol_event(input);
    if (!ev) return 0;
    require(!ev->direction.empty(), "event without a direction");
    const std::string_view line = inside(input, ev->start_line, "start line outside the input");
    require(!line.empty(), "empty start line");
    if (ev->is_response) {
        require(ev->status_code >= 100 && ev->status_code <= 999, "status code out of range");
        require(line.substr(0, 4) == "SIP/", "response start line without SIP/");
    } else {
        require(!ev->method.empty() && line.substr(0, ev->method.size()) == ev->method,
                "method is not the start of the start line");
    }
    const std::string_view cseq = inside(input, ev->cseq_span, "CSeq span outside the input");
    if (ev->cseq) {
        require(parse_decimal(cseq.substr(0, cseq.find(' ')), UINT32_MAX) == *ev->cseq, "CSeq span without its number");
        require(cseq.find(ev->cseq_method) != std::string_view::npos, "CSeq span without its method");
    } else {
        require(ev->cseq_span.length == 0, "CSeq span without a CSeq");
    }
    const std::string_view call_id = inside(input, ev->call_id_span, "Call-ID span outside the input");
    require(call_id == ev->call_id, "Call-ID span differs from the Call-ID");
    return 0;
}
