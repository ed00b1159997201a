// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for msrp_session.h: the input parsed as an MSRP message, then replayed into a
// tracker as a conversation (an SDP offer/answer, then the input cut into TCP segments whose flags,
// directions and sequence numbers come from the input's bytes) so that the tracker's bookkeeping sees
// hostile orders of events. Aborts when a span leaves the input or a note names a frame not yet seen.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "sipsleuth/core/msrp_session.h"

using namespace sipsleuth::core;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const MsrpMessage m = parse_msrp_message(input);
    require(m.length <= input.size(), "length past the input");
    for (const Span s : {m.start_line, m.transaction_id_span, m.to_path_span, m.from_path_span, m.message_id_span,
                         m.byte_range_span, m.content_type_span, m.body, m.end_line})
        fuzz::inside(input, s, "message span outside the input");
    for (const MsrpProblem& p : m.problems) fuzz::require_utf8(p.message, "problem message not UTF-8");
    fuzz::require_utf8(m.transaction_id, "transaction id not UTF-8");

    MsrpTracker::Limits limits;
    limits.max_sessions = 4;
    limits.max_transactions = 8;
    limits.bind_timeout = 1 * kSecond;
    limits.send_timeout = 2 * kSecond;
    MsrpTracker t(limits);
    std::vector<Note> out;
    const SdpMsrp offer =
        parse_sdp_msrp("c=IN IP4 10.0.0.1\r\nm=message 5000 TCP/MSRP *\r\na=path:msrp://10.0.0.1:5000/a;tcp\r\n");
    const SdpMsrp answer = parse_sdp_msrp(
        "c=IN IP4 10.0.0.2\r\nm=message 6000 TCP/MSRP *\r\na=path:msrp://10.0.0.2:6000/b;tcp\r\na=setup:active\r\n");
    sip::Message sip;
    sip.frame = 1;
    sip.request = true;
    sip.method = "INVITE";
    sip.call_id = "c";
    sip.has_cseq = true;
    sip.cseq = 1;
    t.on_sip(sip, sip::TxnVerdict{}, &offer, out);
    sip.frame = 2;
    sip.request = false;
    sip.status = 200;
    t.on_sip(sip, sip::TxnVerdict{}, &answer, out);
    std::uint32_t frame = 2;
    Nanos now = 0;
    for (std::size_t pos = 0; pos + 4 <= input.size() && frame < 200;) {
        const auto b = static_cast<unsigned char>(input[pos]);
        const std::size_t len = static_cast<unsigned char>(input[pos + 1]) % 64;
        sip::Frame e;
        e.number = ++frame;
        now += static_cast<unsigned char>(input[pos + 2]) * (kSecond / 64);
        e.time = now;
        e.flow.stream = b & 3;
        const bool from_a = b & 4;
        e.flow.src = from_a ? Endpoint{"10.0.0.1", 5000} : Endpoint{"10.0.0.2", 6000};
        e.flow.dst = from_a ? Endpoint{"10.0.0.2", 6000} : Endpoint{"10.0.0.1", 5000};
        sip::TcpFacts tcp;
        tcp.syn = e.flow.syn = b & 8;
        tcp.ack_flag = b & 16;
        tcp.fin = e.flow.fin = b & 32;
        tcp.retransmission = b & 64;
        tcp.seq = static_cast<unsigned char>(input[pos + 3]) * 100u;
        tcp.ack = tcp.seq + static_cast<std::uint32_t>(len);
        const std::string_view payload = input.substr(pos + 4, len);
        tcp.len = static_cast<std::uint32_t>(payload.size());
        e.tcp = tcp;
        // As the plugin does: the segment's first message, then the complete ones behind it.
        std::vector<MsrpMessage> msgs;
        for (std::size_t at = 0; at < payload.size() && msgs.size() < 8;) {
            MsrpMessage next = parse_msrp_message(payload.substr(at));
            if (!next.valid || (!msgs.empty() && !next.flag)) break;
            require(next.length > 0 && next.length <= payload.size() - at, "message length past the segment");
            at += next.length;
            const bool complete = next.flag != 0;
            msgs.push_back(std::move(next));
            if (!complete) break;
        }
        t.tick(e.number, e.time, out);
        if (t.wants_segment(e) || !msgs.empty()) t.on_tcp(e, msgs, out);
        if (b & 128) {
            sip::Message bye;
            bye.frame = e.number;
            bye.time = e.time;
            bye.request = true;
            bye.method = "BYE";
            bye.call_id = "c";
            t.on_sip(bye, sip::TxnVerdict{}, nullptr, out);
        }
        for (const Note& n : out) {
            require(n.frame >= 1 && n.frame <= e.number, "note about a frame not yet seen");
            fuzz::require_utf8(n.text, "note text not UTF-8");
        }
        out.clear();
        pos += 4 + len;
    }
    return 0;
}
