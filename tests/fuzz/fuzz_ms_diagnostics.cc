// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for mssip's core: ms_diagnostics.h and ms_epid.h (the input taken as an ms-diagnostics
// value, with the default and a tiny value cap, as From/To and Contact values, and as a SIP message parsed
// by sip::parse()), call_headers.h (the input as a SIP message) and call_fork.h (the input read as a
// stream of SIP messages, 6 bytes each, over a few Call-IDs, tags, branches and Contacts, fed through the
// suite's TransactionLayer and DialogLayer as the plugin feeds it).
// Aborts when a span leaves the input, a string meant for the tree is not UTF-8, a cap is not kept, or
// the tracker's numbering breaks its invariants.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/call_fork.h"
#include "sipsleuth/core/call_headers.h"
#include "sipsleuth/core/ms_diagnostics.h"
#include "sipsleuth/core/ms_epid.h"
#include "sipsleuth/core/sip/dialog.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"

using namespace sipsleuth::core;
using fuzz::require;

namespace {

void check(std::string_view input, std::size_t cap) {
    const MsDiagnostics d = parse_ms_diagnostics(input, cap);
    if (d.has_code || d.sub_code) fuzz::inside(input, d.code_span, "code span outside the input");
    for (const MsDiagParam& p : d.params) {
        fuzz::inside(input, p.name_span, "name span outside the input");
        if (p.has_value) fuzz::inside(input, p.value_span, "value span outside the input");
        fuzz::require_utf8(p.name, "parameter name not UTF-8");
        fuzz::require_utf8(p.value, "parameter value not UTF-8");
        require(p.name.size() <= cap && p.value.size() <= cap, "value over the cap");
    }
    for (const MsDiagProblem& p : d.problems) {
        fuzz::inside(input, p.where, "problem span outside the input");
        fuzz::require_utf8(p.message, "problem message not UTF-8");
    }
    ms_diagnostics_label(d.code);
}

// Each 6-byte record is one message: kind/method, status, CSeq, From tag, To tag, branch, Contact and
// Call-ID.
void track(std::string_view input) {
    static const char* const methods[] = {"INVITE", "ACK", "CANCEL", "PRACK", "BYE", "UPDATE", "REGISTER", "INFO"};
    static const std::uint32_t statuses[] = {100, 101, 180, 183, 200, 202, 401, 407, 486, 487, 500, 603};
    static const char* const tags[] = {"", "caller", "a", "b", "c", "d"};
    sip::TransactionLayer txns;
    sip::DialogLayer dialogs;
    CallForkTracker t(3);
    for (std::size_t i = 0; i + 6 <= input.size(); i += 6) {
        const auto* r = reinterpret_cast<const unsigned char*>(input.data() + i);
        sip::Message m;
        m.frame = static_cast<std::uint32_t>(i / 6 + 1);
        m.time = static_cast<Nanos>(m.frame) * kMilli;
        m.request = r[0] & 1;
        m.method = m.request ? methods[(r[0] >> 1) % 8] : "";
        m.status = m.request ? 0 : statuses[r[1] % 12];
        m.has_cseq = (r[0] & 0x80) == 0;
        m.cseq = r[2] % 5;
        m.cseq_method = methods[(r[0] >> 4) % 8];
        if (m.request && (r[0] & 0x40)) m.cseq_method = m.method;
        m.from.tag = tags[r[3] % 6];
        m.to.tag = tags[(r[3] / 6) % 6];
        m.via.present = true;
        m.via.transport = "UDP";
        m.via.host = "h";
        m.via.branch = "z9hG4bK" + std::string(1, static_cast<char>('0' + r[4] % 4));
        m.via_count = 1;
        if (r[4] & 0x10) {
            m.contacts.emplace_back();
            m.contacts.back().uri = std::string("sip:ua@") + static_cast<char>('0' + (r[4] >> 5) % 3);
        }
        m.call_id = std::string(1, static_cast<char>('A' + r[5] % 5));
        m.user_agent = "ua";
        m.flow.transport = Transport::udp;
        m.flow.src = {m.request ? "1" : "2", 5060};
        m.flow.dst = {m.request ? "2" : "1", 5060};
        const sip::TxnVerdict tv = txns.on_message(m);
        const sip::DialogVerdict dv = dialogs.on_message(m, tv);
        const ForkView v = t.observe(m, tv, dv);
        if (!v.in_call) continue;
        const Call& c = t.call(v.call);
        require(v.endpoint_count == c.endpoints.size(), "count differs from the call's endpoints");
        require(v.endpoint <= v.endpoint_count, "endpoint number over the count");
        require(v.endpoint_count <= CallForkTracker::kMaxEndpoints, "endpoints over the cap");
        require(v.answered_by <= v.endpoint_count, "answering endpoint over the count");
        require(v.request_frame < m.frame, "request link to a later frame");
        require(!v.reveals_fork || v.endpoint_count == 2, "fork revealed with other than 2 endpoints");
        require(!v.answers_call || v.answered_by == v.endpoint, "answer by another endpoint");
        require(t.size() <= 3, "calls over the cap");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check(input, 1024);
    check(input, 4);
    for (const EpidResult& r : {from_to_epid(input, "To"), contact_epid(input)}) {
        fuzz::require_utf8(r.epid, "epid not UTF-8");
        fuzz::require_utf8(r.tag, "tag not UTF-8");
        fuzz::require_utf8(r.problem, "problem not UTF-8");
        require(r.epid.size() <= 256, "epid over the cap");
    }
    sip::Message parsed;
    const bool truncated = sip::parse(input, parsed) == sip::ParseStatus::truncated;
    const MessageEpids e = message_epids(parsed, truncated, input);
    for (const std::string* v : {&e.from, &e.to, &e.contact}) {
        fuzz::require_utf8(*v, "epid not UTF-8");
        require(v->size() <= 256, "epid over the cap");
    }
    for (const std::string& p : e.problems) fuzz::require_utf8(p, "problem not UTF-8");
    const CallHeaders h = scan_call_headers(input);
    require(h.from.size() <= input.size() * 2 + 1, "header value larger than its input");
    mentions_epid(input);
    track(input);
    return 0;
}
