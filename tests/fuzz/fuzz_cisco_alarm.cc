// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for parse_cisco_alarm, under the default limits and under small ones (depth 4, 64
// nodes, 16-byte values). Aborts when a span of the alarm, a parameter or a problem leaves the input, a
// protocol event's span leaves its value, a verbatim value differs from its bytes, or any string meant
// for the tree (values, names, problem messages, the summary and the note) is not valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "sipsleuth/core/cisco_alarm.h"

namespace {

using namespace sipsleuth::core;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz_cisco_alarm: %s\n", what);
        std::abort();
    }
}

void require_inside(Span s, std::size_t size, const char* what) {
    require(s.offset <= size && s.length <= size - s.offset, what);
}

void require_utf8(std::string_view s, const char* what) { require(!first_invalid_utf8(s), what); }

void exercise(std::string_view input, const XmlLimits& limits) {
    const CiscoAlarm alarm = parse_cisco_alarm(input, limits);
    require_inside(alarm.alarm_span, input.size(), "alarm span outside the input");
    require_inside(alarm.name_span, input.size(), "alarm name span outside the input");
    require_utf8(alarm.name, "alarm name is not valid UTF-8");
    require(alarm.name.size() <= limits.max_value_bytes, "alarm name longer than max_value_bytes");
    require(alarm.decoded || alarm.params.empty(), "parameters without a decoded alarm");
    for (const AlarmParam& p : alarm.params) {
        require_inside(p.element_span, input.size(), "element span outside the input");
        require_inside(p.name_span, input.size(), "name span outside the input");
        require_inside(p.value_span, input.size(), "value span outside the input");
        require_utf8(p.element, "element is not valid UTF-8");
        require_utf8(p.name, "name is not valid UTF-8");
        require_utf8(p.value, "value is not valid UTF-8");
        require(p.value.size() <= limits.max_value_bytes, "value longer than max_value_bytes");
        if (p.verbatim)
            require(input.substr(p.value_span.offset, p.value_span.length) == p.value, "verbatim value differs");
        require(p.typed.kind != AlarmValueKind::bytes || !p.typed.bytes.empty(), "empty signature bytes");
        if (p.event) {
            require_inside(p.event->start_line, p.value.size(), "event start line outside the value");
            require_inside(p.event->cseq_span, p.value.size(), "event CSeq outside the value");
            require_inside(p.event->call_id_span, p.value.size(), "event Call-ID outside the value");
        }
    }
    for (const AlarmProblem& problem : alarm.problems) {
        require_inside(problem.where, input.size(), "problem span outside the input");
        require(!problem.message.empty(), "problem without a message");
        require_utf8(problem.message, "problem message is not valid UTF-8");
    }
    require_utf8(alarm_summary(alarm), "summary is not valid UTF-8");
    if (const auto note = out_of_service_note(alarm)) require_utf8(*note, "note is not valid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    exercise(input, XmlLimits{});
    XmlLimits small;
    small.max_depth = 4;
    small.max_nodes = 64;
    small.max_value_bytes = 16;
    exercise(input, small);
    return 0;
}
