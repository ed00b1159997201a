// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for registration.h, keepalive.h and sccp.h: the input's first line is parsed as a
// Contact header value; the rest drives the three keepalive trackers (REGISTERs and responses through a
// TransactionLayer first, as siptrack feeds them) with an event script (one byte
// chooses the event, the next ones its stream, time step and Contact), under small bounds so the caps are
// hit. Aborts when an invariant breaks: a lapse not after its expiry, a record index out of range,
// counts that disagree with the records, a bound exceeded.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "sipsleuth/core/keepalive.h"
#include "sipsleuth/core/registration.h"
#include "sipsleuth/core/sccp.h"
#include "sipsleuth/core/sip/transaction.h"

using namespace sipsleuth::core;
using fuzz::require;

// A copy is counted; only the first max_copies are listed, and a copy past them names the first unlisted one.
static void check_copy(const sipsleuth::core::RegisterRecord& rec, std::size_t copy,
                       const sipsleuth::core::RegistrationTracker::Settings& rs, const char* what) {
    require(copy < rec.copy_count, what);
    require(rec.copies.size() <= rs.max_copies && rec.copies.size() <= rec.copy_count, "copies listed past the bound");
    if (copy >= rec.copies.size()) require(rec.copies_full && *rec.copies_full == rs.max_copies, "unlisted copy not noted");
}

// Issue 11: a consequence links to a cause already seen (never a later frame), and a refresh lapses past
// the grace at most once.
static void check_findings(const std::vector<sipsleuth::core::Finding>& findings, std::uint32_t frame) {
    std::size_t lapses = 0;
    for (const sipsleuth::core::Finding& f : findings) {
        if (f.caused_by) require(*f.caused_by <= frame, "a consequence caused by a later frame");
        if (f.kind == sipsleuth::core::KeepaliveFinding::registration_lapsed) ++lapses;
    }
    require(lapses <= 1, "one copy lapsed twice");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t eol = input.find('\n');
    const std::string_view contact = input.substr(0, eol);
    for (const ContactInfo& c : parse_contacts(contact)) require(!c.uri.empty(), "contact without a URI");
    if (eol == std::string_view::npos) return 0;

    RegistrationTracker::Settings rs;
    rs.max_bindings = 4;
    rs.max_records = 64;
    rs.max_copies = 4;  // small, so copies past the listed ones are common
    RegistrationTracker regs(rs);
    sip::TransactionLayer layer;
    CrlfTracker::Settings cs;
    cs.max_connections = 4;
    cs.max_pings = 64;
    // One connection table for CRLF and SCCP, as siptrack shares it.
    const auto streams = std::make_shared<KeepaliveStreams>(6);
    CrlfTracker crlf(cs, streams);
    SccpTracker::Settings ss;
    ss.max_connections = 4;
    ss.max_keepalives = 64;
    SccpTracker sccp(ss, streams);
    const std::string contacts[] = {std::string(contact), "<sip:a@h>;+sip.instance=\"<urn:uuid:1>\"",
                                    "<sip:a@h>;expires=0;cisco-keep-alive", "*"};
    const std::string sides[] = {"a:1", "b:2"};
    Nanos now = 1000 * kSecond;
    std::uint32_t frame = 0;
    std::vector<Learned> learned;
    const std::string_view script = input.substr(eol + 1);
    for (std::size_t i = 0; i + 3 < script.size(); i += 4) {
        const auto op = static_cast<std::uint8_t>(script[i]);
        const auto a = static_cast<std::uint8_t>(script[i + 1]);
        const auto b = static_cast<std::uint8_t>(script[i + 2]);
        now += static_cast<Nanos>(static_cast<std::uint8_t>(script[i + 3])) * kSecond / 4;
        ++frame;
        const std::uint32_t stream = a % 5;
        switch (op % 9) {
        case 0:
        case 1: {
            // A REGISTER (op 0) or its response (op 1) of one of 3 Call-IDs x 7 CSeqs, in either
            // direction between the phone and one of two registrars, over TCP (stream) or UDP.
            sip::Message m;
            m.frame = frame;
            m.time = now;
            m.flow.transport = (b & 0x40) ? Transport::udp : Transport::tcp;
            m.flow.stream = stream;
            m.flow.src = Endpoint{"p", 1};
            m.flow.dst = Endpoint{sides[(b >> 3) & 1], 5060};
            if ((op % 9 == 1) != ((b & 0x80) != 0)) std::swap(m.flow.src, m.flow.dst);
            m.seq_begin = a * 100u;
            m.seq_end = a * 100u + b;
            m.request = op % 9 == 0;
            if (m.request) m.method = "REGISTER";
            else m.status = (b & 1) ? 200 : (b & 2) ? 100 : 401;
            m.call_id = std::to_string(a % 3);
            m.to.uri = "sip:1@h";
            m.has_cseq = true;
            m.cseq = a % 7;
            m.cseq_method = "REGISTER";
            m.via.present = true;
            m.via.transport = "TCP";
            m.via.host = "p";
            m.via.branch = "z9hG4bK" + m.call_id + "." + std::to_string(m.cseq);
            sip::Contact c;
            c.raw = contacts[b % 4];
            m.contacts.push_back(c);
            m.expires = m.request ? ((b & 4) ? 0u : 120u) : b;
            const sip::TxnVerdict v = layer.on_message(m);
            if (m.request) {
                if (const auto ref = regs.on_request(m, v)) {
                    check_copy(regs.record(ref->record), ref->copy, rs, "copy");
                    check_findings(regs.findings(ref->record, ref->copy), frame);
                }
            } else {
                regs.on_response(m, v);
            }
            break;
        }
        case 2: {
            sip::Frame f;
            f.number = frame;
            f.time = now;
            f.flow.transport = Transport::tcp;
            f.flow.stream = stream;
            f.flow.src = Endpoint{"p", 1};
            f.flow.dst = Endpoint{sides[(b >> 3) & 1], 5060};
            if (b & 0x80) std::swap(f.flow.src, f.flow.dst);
            f.tcp = sip::TcpFacts{};
            f.tcp->seq = a * 100u + b % 8;
            f.tcp->len = 1 + b % 16;
            f.tcp->retransmission = true;
            for (const RegisterRef& ref : regs.on_tcp_retransmission(layer.on_tcp_retransmission(f), frame, now)) {
                const RegisterRecord& rec = regs.record(ref.record);
                check_copy(rec, ref.copy, rs, "retransmission copy");
                if (rec.lapse) require(rec.lapse->by > rec.lapse->grace, "lapse not after the expiry and grace");
                if (rec.within_grace) require(rec.within_grace->by > 0, "near miss not after the expiry");
                check_findings(regs.findings(ref.record, ref.copy), frame);
            }
            break;
        }
        case 3: crlf.on_sip(stream); crlf.on_flow_timer(stream, b % 40); break;
        case 4: crlf.on_ping(stream, sides[b & 1], sides[1 - (b & 1)], frame, now, learned); break;
        case 5: crlf.on_pong(stream, sides[b & 1], frame, now); crlf.on_traffic(stream, sides[b & 1]); break;
        case 6: sccp.on_keepalive(stream, sides[0], sides[1], frame, now, a * 12u, learned); break;
        case 7: sccp.on_ack(stream, frame, now); sccp.on_tcp_ack(stream, b * 12u, frame, now); break;
        default: sccp.on_register_ack(stream, sides[b & 1].substr(0, 1), b % 60, a % 90); break;
        }
        crlf.on_time(frame, now, learned);
        sccp.on_time(frame, now, learned);
    }
    require(regs.bindings() <= 4 && crlf.connections() <= 4 && sccp.connections() <= 4 && streams->size() <= 6,
            "bound exceeded");
    for (std::size_t i = 0; i < sccp.connections(); ++i) {
        const SccpConnection& c = sccp.connection(i);
        require(c.failovers <= c.unacked, "more failovers than unacknowledged keepalives");
        require(c.unacked <= c.keepalives, "more unacknowledged keepalives than keepalives");
    }
    for (std::size_t i = 0; i < crlf.connections(); ++i) {
        const CrlfConnection& c = crlf.connection(i);
        require(c.pongs + c.missing <= c.pings, "more answers than pings");
    }
    return 0;
}
