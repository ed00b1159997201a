// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for parse_cisco_alarm, under the default limits and under small ones (depth 4, 64
// nodes, 16-byte values). Aborts when a span of the alarm, a parameter or a problem leaves the input, a
// protocol event's span leaves its value, a verbatim value differs from its bytes, or any string meant
// for the tree (values, names, problem messages, the summary and the note) is not valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/cisco_alarm.h"

namespace {

using namespace sipsleuth::core;
using fuzz::require;
using fuzz::require_utf8;

void exercise(std::string_view input, const XmlLimits& limits) {
    const CiscoAlarm alarm = parse_cisco_alarm(input, limits);
    fuzz::inside(input, alarm.alarm_span, "alarm span outside the input");
    fuzz::inside(input, alarm.name_span, "alarm name span outside the input");
    require_utf8(alarm.name, "alarm name is not valid UTF-8");
    require(alarm.name.size() <= limits.max_value_bytes, "alarm name longer than max_value_bytes");
    require(alarm.decoded || alarm.params.empty(), "parameters without a decoded alarm");
    for (const AlarmParam& p : alarm.params) {
        fuzz::inside(input, p.element_span, "element span outside the input");
        fuzz::inside(input, p.name_span, "name span outside the input");
        fuzz::inside(input, p.value_span, "value span outside the input");
        require_utf8(p.element, "element is not valid UTF-8");
        require_utf8(p.name, "name is not valid UTF-8");
        require_utf8(p.value, "value is not valid UTF-8");
        require(p.value.size() <= limits.max_value_bytes, "value longer than max_value_bytes");
        if (p.verbatim)
            require(input.substr(p.value_span.offset, p.value_span.length) == p.value, "verbatim value differs");
        require(p.typed.kind != AlarmValueKind::bytes || !p.typed.bytes.empty(), "empty signature bytes");
        if (p.event) {
            fuzz::inside(p.value, p.event->start_line, "event start line outside the value");
            fuzz::inside(p.value, p.event->cseq_span, "event CSeq outside the value");
            fuzz::inside(p.value, p.event->call_id_span, "event Call-ID outside the value");
        }
    }
    for (const AlarmProblem& problem : alarm.problems) {
        fuzz::inside(input, problem.where, "problem span outside the input");
        require(!problem.message.empty(), "problem without a message");
        require_utf8(problem.message, "problem message is not valid UTF-8");
    }
    require_utf8(alarm_summary(alarm), "summary is not valid UTF-8");
    if (const auto note = out_of_service_note(alarm)) require_utf8(*note, "note is not valid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::with_default_and_small_limits(std::string_view(reinterpret_cast<const char*>(data), size), exercise);
    return 0;
}
