// SPDX-License-Identifier: GPL-2.0-or-later
// See ms_epid.h. Parsing is sip::parse()'s for whole messages and sip_header.h's for one header value;
// this file decides what counts as a broken epid. A header without any "epid" is never a problem: most
// SIP agents have none.
#include "sipsleuth/core/ms_epid.h"

#include <cstring>
#include <vector>

#include "sipsleuth/core/call_headers.h"
#include "sipsleuth/core/sip_header.h"
#include "sipsleuth/core/text.h"

namespace sipsleuth::core {
namespace {

constexpr std::size_t kMaxEpid = 256;

std::string printable(std::string_view v) { return sanitize_utf8(v, kMaxEpid); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Whether value has something shaped like an epid parameter: "epid" after a ';' (white space allowed
// between). A bare "epid" inside a name or URI user part ("Sepideh" <sip:sepideh@...>) is no epid, so a
// value that is unusual but no concern of ours is never reported as a broken epid header.
bool has_epid_param(std::string_view value) {
    for (std::size_t i = 0; i + 4 <= value.size(); ++i) {
        if (!mentions_epid(value.substr(i, 4))) continue;
        std::size_t before = i;
        while (before > 0 && is_space(value[before - 1])) --before;
        if (before > 0 && value[before - 1] == ';') return true;
    }
    return false;
}

// The epid in a gruu or pub-gruu Contact parameter, when it has a non-empty one.
std::optional<std::string> param_gruu_epid(const std::vector<HeaderParam>& params) {
    constexpr std::string_view marker = "opaque=user:epid:";
    for (const char* name : {"gruu", "pub-gruu"}) {
        const HeaderParam* g = find_param(params, name);
        if (!g || !g->value) continue;
        const std::size_t at = g->value->find(marker);
        if (at == std::string::npos) continue;
        const std::size_t from = at + marker.size();
        const std::size_t end = g->value->find_first_of(";>?", from);
        std::string epid = g->value->substr(from, end == std::string::npos ? end : end - from);
        if (!epid.empty()) return epid;
    }
    return std::nullopt;
}

// parse() could not read this From or To header: its value is read again as sent.
bool unreadable(const sip::Message& m, std::string_view header) {
    for (const sip::HeaderProblem& p : m.problems)
        if (p.header == header && (p.what == "not a name-addr" || p.what == "bad parameter")) return true;
    return false;
}

// The header lines of a message, up to the empty line; without it (the message is cut), up to the last
// whole line, so that a header cut in the middle is never called malformed.
std::string_view header_block(std::string_view bytes) {
    if (const std::size_t end = bytes.find("\r\n\r\n"); end != std::string_view::npos) return bytes.substr(0, end);
    const std::size_t last = bytes.rfind('\n');
    return last == std::string_view::npos ? std::string_view{} : bytes.substr(0, last + 1);
}

void take(EpidResult&& r, std::string& epid, std::vector<std::string>& problems) {
    epid = std::move(r.epid);
    if (!r.problem.empty()) problems.push_back(std::move(r.problem));
}

// The epid parameter of a From or To that parse() read.
EpidResult party_epid(const sip::Party& p, std::string_view header) {
    EpidResult r;
    if (!p.has_epid) return r;
    if (trim(p.epid).empty()) {
        r.problem = std::string(header) + " header has an epid parameter without a value";
        return r;
    }
    r.epid = printable(p.epid);
    if (p.epid.size() > kMaxEpid)
        r.problem = std::string(header) + " epid of " + std::to_string(p.epid.size()) + " bytes shown cut to " +
                    std::to_string(r.epid.size()) + " bytes";
    return r;
}

}  // namespace

MessageEpids message_epids(const sip::Message& m, bool truncated, std::string_view bytes) {
    MessageEpids out;
    const bool scan_from = truncated || unreadable(m, "From");
    const bool scan_to = truncated || unreadable(m, "To");
    if (!scan_from && !scan_to) {
        // The usual case, read from the parsed fields only (a party without an epid gives nothing).
        if (m.from.has_epid) take(party_epid(m.from, "From"), out.from, out.problems);
        if (m.to.has_epid) take(party_epid(m.to, "To"), out.to, out.problems);
        if (!m.contacts.empty() && mentions_epid(m.contacts.front().raw))
            take(contact_epid(m.contacts.front().raw), out.contact, out.problems);
        return out;
    }
    CallHeaders h;
    if (scan_from || scan_to) h = scan_call_headers(header_block(bytes));
    take(scan_from ? from_to_epid(h.from, "From") : party_epid(m.from, "From"), out.from, out.problems);
    take(scan_to ? from_to_epid(h.to, "To") : party_epid(m.to, "To"), out.to, out.problems);
    // The first Contact as sent: contact_epid() reads a GRUU in the URI or in a registrar's gruu parameter.
    const std::string_view contact = truncated ? std::string_view(h.contact)
                                     : m.contacts.empty() ? std::string_view{} : std::string_view(m.contacts.front().raw);
    if (mentions_epid(contact)) take(contact_epid(contact), out.contact, out.problems);
    return out;
}

bool mentions_epid(std::string_view bytes) {
    // Run on every message's first Contact: the rare 'd' and 'D' are found with memchr (a few instructions
    // per 16 bytes) and the three bytes before each compared, instead of a test on every byte.
    const char* const data = bytes.data();
    const std::size_t n = bytes.size();
    for (const char d : {'d', 'D'}) {
        for (std::size_t from = 3; from < n;) {
            const void* hit = std::memchr(data + from, d, n - from);
            if (!hit) break;
            const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
            if ((data[i - 3] | 0x20) == 'e' && (data[i - 2] | 0x20) == 'p' && (data[i - 1] | 0x20) == 'i') return true;
            from = i + 1;
        }
    }
    return false;
}

EpidResult from_to_epid(std::string_view value, std::string_view header) {
    EpidResult r;
    const auto addr = parse_name_addr(value);
    const bool mentions = has_epid_param(value);
    if (!addr) {
        if (mentions) r.problem = std::string(header) + " header with an epid cannot be parsed as a SIP address";
        return r;
    }
    if (const HeaderParam* tag = find_param(addr->params, "tag"); tag && tag->value) r.tag = printable(*tag->value);
    const HeaderParam* epid = find_param(addr->params, "epid");
    if (!epid) return r;
    if (!epid->value || trim(*epid->value).empty()) {
        r.problem = std::string(header) + " header has an epid parameter without a value";
        return r;
    }
    r.epid = printable(*epid->value);
    if (epid->value->size() > kMaxEpid)
        r.problem = std::string(header) + " epid of " + std::to_string(epid->value->size()) + " bytes shown cut to " +
                    std::to_string(r.epid.size()) + " bytes";
    return r;
}

EpidResult contact_epid(std::string_view value) {
    EpidResult r;
    constexpr std::string_view marker = "opaque=user:epid:";
    if (ifind(value, marker) == std::string_view::npos) return r;
    auto addr = parse_name_addr(value);
    if (!addr) {
        // A Contact list (`<a>;p, <b>`): the first entry.
        const std::size_t close = value.find('>');
        const std::size_t comma = close == std::string_view::npos ? close : value.find(',', close);
        if (comma != std::string_view::npos) addr = parse_name_addr(value.substr(0, comma));
    }
    if (!addr) {
        r.problem = "Contact header with a GRUU epid cannot be parsed as a SIP address";
        return r;
    }
    auto epid = gruu_epid(*addr);
    if (!epid) {
        if (const HeaderParam* opaque = find_param(addr->uri_params, "opaque");
            opaque && opaque->value && opaque->value->compare(0, 10, "user:epid:") == 0) {
            r.problem = "Contact GRUU has opaque=user:epid: without an epid";
            return r;
        }
        // A registrar's 200 OK to REGISTER hands the GRUU out as a Contact parameter, not as the URI
        // (RFC 5627 section 5.1; OCS: `gruu="sip:user@domain;opaque=user:epid:...;gruu"`).
        epid = param_gruu_epid(addr->params);
        if (!epid) return r;  // the marker is elsewhere (another entry of a list, another parameter)
    }
    r.epid = printable(*epid);
    if (epid->size() > kMaxEpid)
        r.problem = "Contact GRUU epid of " + std::to_string(epid->size()) + " bytes shown cut to " +
                    std::to_string(r.epid.size()) + " bytes";
    return r;
}

}  // namespace sipsleuth::core
