// SPDX-License-Identifier: GPL-2.0-or-later
// See call_headers.h. A line scanner, not a SIP parser: it only needs to find seven headers reliably.
#include "sipsleuth/core/call_headers.h"

#include "sipsleuth/core/text.h"

namespace sipsleuth::core {
namespace {

// The next line of s from pos (without its CR LF); pos moves past the terminator.
std::string_view next_line(std::string_view s, std::size_t& pos) {
    const std::size_t start = pos;
    std::size_t end = s.find('\n', pos);
    if (end == std::string_view::npos) end = s.size();
    pos = end < s.size() ? end + 1 : s.size();
    std::string_view line = s.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// The field for a header name, by length first: this runs for every header line of every message.
std::string* slot(CallHeaders& h, std::string_view name) {
    switch (name.size()) {
    case 1:
        switch (name[0] | 0x20) {
        case 'f': return &h.from;
        case 't': return &h.to;
        case 'm': return &h.contact;
        case 'v': return &h.top_via;
        default: return nullptr;
        }
    case 2: return iequals(name, "To") ? &h.to : nullptr;
    case 3: return iequals(name, "Via") ? &h.top_via : nullptr;
    case 4: return iequals(name, "From") ? &h.from : nullptr;
    case 6: return iequals(name, "Server") ? &h.server : nullptr;
    case 7: return iequals(name, "Contact") ? &h.contact : nullptr;
    case 10: return iequals(name, "User-Agent") ? &h.user_agent : nullptr;
    default: return nullptr;
    }
}

// The branch parameter of the first value of a Via header (values are comma-separated, parameters
// semicolon-separated; Via has no quoted strings that could hide either).
std::string branch_of(std::string_view via) {
    via = via.substr(0, via.find(','));
    for (std::size_t at = via.find(';'); at != std::string_view::npos;) {
        const std::size_t next = via.find(';', at + 1);
        const std::string_view param = via.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
        const std::size_t eq = param.find('=');
        if (eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), "branch"))
            return std::string(trim(param.substr(eq + 1)));
        at = next;
    }
    return {};
}

}  // namespace

CallHeaders scan_call_headers(std::string_view message, std::size_t max_headers) {
    CallHeaders h;
    std::size_t pos = 0;
    h.start_line = std::string(next_line(message, pos));
    if (h.start_line.compare(0, 8, "SIP/2.0 ") == 0) {
        const std::size_t sp = h.start_line.find(' ', 8);
        if (sp != std::string::npos) h.reason_phrase = h.start_line.substr(sp + 1);
    }
    std::string* current = nullptr;  // the header a continuation line belongs to
    for (std::size_t n = 0; pos < message.size() && n < max_headers; ++n) {
        const std::string_view line = next_line(message, pos);
        if (line.empty()) break;
        if (line[0] == ' ' || line[0] == '\t') {
            if (current) *current += " " + std::string(trim(line));
            continue;
        }
        current = nullptr;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string* s = slot(h, trim(line.substr(0, colon)));
        if (!s || !s->empty()) continue;  // the first occurrence wins
        *s = std::string(trim(line.substr(colon + 1)));
        current = s;
    }
    h.via_branch = branch_of(h.top_via);
    return h;
}

}  // namespace sipsleuth::core
