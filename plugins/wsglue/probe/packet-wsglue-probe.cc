// SPDX-License-Identifier: GPL-2.0-or-later
// A test-only plugin that exercises the wrapper the way the coming post-dissectors (siptrack, mssip,
// msrpa) will: foreign fields resolved by name, read message by message when one TCP segment carries
// several SIP messages, a verdict computed on the first pass and only rendered afterwards. It is built
// into build/test-plugins, never installed, and checked by tests/e2e/test_wsglue.py.
#include <string>
#include <vector>

#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/stat_table.h"
#include "sipsleuth/wsglue/store.h"
#include "sipsleuth/wsglue/tvb.h"

namespace ws = sipsleuth::wsglue;

namespace {

ws::Protocol proto{"sipsleuth wrapper probe", "WsglueProbe", "wsglue_probe"};
ws::Field hf_message{proto, "wsglue_probe.message", "SIP message", FT_UINT32, BASE_DEC, nullptr,
                     "Index of the SIP message in this frame, from 0."};
ws::Field hf_call_id{proto, "wsglue_probe.call_id", "Call-ID", FT_STRING, BASE_NONE, nullptr,
                     "sip.Call-ID read within this message's scope."};
ws::Field hf_method{proto, "wsglue_probe.method", "Method", FT_STRING, BASE_NONE, nullptr,
                    "sip.Method or sip.CSeq.method read within this message's scope."};
ws::Field hf_cseq{proto, "wsglue_probe.cseq", "CSeq", FT_UINT32, BASE_DEC, nullptr,
                  "sip.CSeq.seq read within this message's scope."};
ws::Field hf_stream{proto, "wsglue_probe.tcp_stream", "TCP stream", FT_UINT32, BASE_DEC, nullptr,
                    "tcp.stream of the frame, read as an unsigned integer."};
ws::Field hf_ack_flag{proto, "wsglue_probe.tcp_ack_flag", "TCP ACK flag", FT_UINT32, BASE_DEC, nullptr,
                      "tcp.flags.ack (FT_BOOLEAN) read with uint_value: 1 when set."};
ws::Field hf_first_pass{proto, "wsglue_probe.first_pass_frame", "Analysed on the first pass of", FT_FRAMENUM,
                        BASE_NONE, nullptr, "The frame number the stored verdict was computed for."};
ws::Field hf_analysis{proto, "wsglue_probe.analysis", "Analysis number", FT_UINT32, BASE_DEC, nullptr,
                      "Ordinal of the analysis that made this verdict; a revisit that analysed again would show a new one."};
// The SipObserver's view of the frame (obs.*): one value per frame, or one per SIP message (obs.msg.*).
ws::Field hf_obs_flow{proto, "wsglue_probe.obs.flow", "Observed flow", FT_STRING, BASE_NONE, nullptr,
                      "Transport, stream index, source and destination as the SipObserver read them."};
ws::Field hf_obs_tcp{proto, "wsglue_probe.obs.tcp", "Observed TCP facts", FT_STRING, BASE_NONE, nullptr,
                     "Raw seq, ack, payload length and flags (S F R A, r retransmission, s spurious)."};
ws::Field hf_obs_payload{proto, "wsglue_probe.obs.payload_length", "Observed payload length", FT_UINT32, BASE_DEC,
                         nullptr, "Length of the transport payload view."};
ws::Field hf_obs_payload_bytes{proto, "wsglue_probe.obs.payload", "Observed payload", FT_BYTES, BASE_NONE, nullptr,
                               "The transport payload view of a frame without SIP, when at most 16 bytes."};
ws::Field hf_obs_retransmitted{proto, "wsglue_probe.obs.retransmitted", "Retransmits message", FT_STRING, BASE_NONE,
                               nullptr, "frame:index of an earlier SIP message this TCP retransmission repeats."};
ws::Field hf_obs_msg{proto, "wsglue_probe.obs.msg", "Observed SIP message", FT_STRING, BASE_NONE, nullptr,
                     "index, method or status, CSeq number and method, Call-ID, top Via branch, parse status."};
ws::Field hf_obs_headers{proto, "wsglue_probe.obs.msg_headers", "Observed SIP message headers", FT_STRING,
                        BASE_NONE, nullptr,
                        "From tag, To tag, Event, Expires, Content-Type and body length of the message (- when absent)."};
ws::Field hf_obs_layers{proto, "wsglue_probe.obs.msg_layers", "Transaction and dialog of the message", FT_STRING,
                        BASE_NONE, nullptr,
                        "t<transaction> copy<n> (new, retr, refl, tcpdup), req <frame>:<index>, d<dialog> (created, "
                        "confirmed, terminated, unmatched) and fork k/n."};
ws::Field hf_obs_seq{proto, "wsglue_probe.obs.msg_seq", "Observed message sequence range", FT_STRING, BASE_NONE,
                     nullptr, "The raw TCP sequence range [begin, end) of the message, r when reassembled."};
ws::Field hf_obs_enclosing{proto, "wsglue_probe.obs.enclosing", "Enclosing SIP message", FT_STRING, BASE_NONE,
                           nullptr, "enclosing_sip_message() for a body SIP hands to the probe's media type."};
ws::Subtree ett_probe{proto};

ws::ForeignField ff_sip{"sip"};
ws::ForeignField ff_call_id{"sip.Call-ID"};
ws::ForeignField ff_method{"sip.CSeq.method"};
ws::ForeignField ff_cseq{"sip.CSeq.seq"};
ws::ForeignField ff_stream{"tcp.stream"};
ws::ForeignField ff_ack_flag{"tcp.flags.ack"};

int dissect_probe(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector post{proto, dissect_probe, {&ff_sip, &ff_call_id, &ff_method, &ff_cseq, &ff_stream, &ff_ack_flag}};
[[maybe_unused]] const bool observer_attached = [] {
    ws::SipObserver::instance().attach(proto);
    post.want(ws::SipObserver::instance().fields());
    return true;
}();

struct Message {
    std::string call_id, method;
    guint32 cseq = 0;
};
struct Verdict {
    guint32 frame = 0, analysis = 0;
    guint32 stream = 0, ack_flag = 0;
    std::vector<Message> messages;
    // What the SipObserver saw, as text.
    bool observed = false;
    std::string flow, tcp;
    guint32 payload_length = 0;
    std::string small_payload;  ///< frames without SIP: a payload of at most 16 bytes
    std::vector<std::string> retransmitted, obs_messages, obs_headers, obs_layers, obs_seqs;
};

const char* parse_status(sipsleuth::core::sip::ParseStatus s) {
    switch (s) {
    case sipsleuth::core::sip::ParseStatus::ok: return "ok";
    case sipsleuth::core::sip::ParseStatus::not_sip: return "not_sip";
    case sipsleuth::core::sip::ParseStatus::truncated: return "truncated";
    }
    return "?";
}

std::string layers(const ws::ObservedMessage& om) {
    const auto& t = om.transaction;
    const auto& d = om.dialog;
    std::string s = "t" + std::to_string(t.id) + " copy" + std::to_string(t.copy);
    if (t.created) s += " new";
    if (t.retransmission) s += " retr";
    if (t.reflected) s += " refl";
    if (t.tcp_duplicate) s += " tcpdup";
    if (t.full) s += " full";
    s += " req " + std::to_string(t.request.frame) + ":" + std::to_string(t.request.index);
    s += " d" + std::to_string(d.id);
    if (d.created) s += " created";
    if (d.confirmed) s += " confirmed";
    if (d.terminated) s += " terminated";
    if (d.unmatched) s += " unmatched";
    if (d.full) s += " full";
    if (d.fork) s += " fork " + std::to_string(d.fork) + "/" + std::to_string(d.forks);
    return s;
}

void describe(const ws::Observation& o, Verdict& v) {
    using sipsleuth::core::Transport;
    v.observed = true;
    const auto& f = o.frame.flow;
    v.flow = std::string(f.transport == Transport::tcp ? "tcp " : "udp ") + std::to_string(f.stream) + " " +
             f.src.address + ":" + std::to_string(f.src.port) + " -> " + f.dst.address + ":" + std::to_string(f.dst.port);
    if (o.frame.tcp) {
        const auto& t = *o.frame.tcp;
        v.tcp = std::to_string(t.seq) + " " + std::to_string(t.ack) + " " + std::to_string(t.len) + " " +
                (t.syn ? "S" : "") + (t.fin ? "F" : "") + (t.rst ? "R" : "") + (t.ack_flag ? "A" : "") +
                (t.retransmission ? "r" : "") + (t.spurious ? "s" : "");
    }
    v.payload_length = static_cast<guint32>(o.frame.payload.size());
    if (o.messages.empty() && o.frame.payload.size() <= 16) v.small_payload = std::string(o.frame.payload);
    for (const auto& r : o.retransmitted)
        v.retransmitted.push_back(std::to_string(r.frame) + ":" + std::to_string(r.index) + " t" + std::to_string(r.id));
    for (const ws::ObservedMessage& om : o.messages) {
        const auto& m = om.message;
        std::string first = m.request ? m.method : std::to_string(m.status);
        v.obs_messages.push_back(std::to_string(m.index) + " " + first + " " + std::to_string(m.cseq) + " " +
                                 m.cseq_method + " " + m.call_id + " " + m.via.branch + " " + parse_status(om.status));
        const auto dash = [](const std::string& x) { return x.empty() ? std::string("-") : x; };
        v.obs_headers.push_back(dash(m.from.tag) + " " + dash(m.to.tag) + " " + dash(m.event.value_or("")) + " " +
                                (m.expires ? std::to_string(*m.expires) : "-") + " " + dash(m.content_type) + " " +
                                std::to_string(m.body_length));
        v.obs_layers.push_back(layers(om));
        if (o.frame.tcp)
            v.obs_seqs.push_back(std::to_string(m.seq_begin) + "-" + std::to_string(m.seq_end) +
                                 (om.reassembled ? " r" : ""));
    }
}
ws::FrameStore<Verdict> verdicts{proto};
guint32 analyses = 0;

// Per Call-ID totals, mirrored by the `-z wsglue_probe,calls` table (key: index in order of appearance).
struct Call {
    std::string call_id;
    guint messages = 0, last_cseq = 0;
};
std::vector<Call> calls;
guint call_key(const Message& m) {
    for (guint i = 0; i < calls.size(); ++i)
        if (calls[i].call_id == m.call_id) return i;
    calls.push_back({m.call_id});
    return static_cast<guint>(calls.size() - 1);
}
ws::StatTable table{proto, "wsglue_probe,calls", "wsglue probe calls",
                    {{"Call-ID", ws::StatTable::Kind::String}, {"Messages", ws::StatTable::Kind::Uint},
                     {"Last CSeq", ws::StatTable::Kind::Uint}},
                    [](guint key, std::vector<ws::StatTable::Cell>& cells) {
                        if (key >= calls.size()) return false;
                        cells = {calls[key].call_id, calls[key].messages, calls[key].last_cseq};
                        return true;
                    }};

[[maybe_unused]] const bool reset_analyses = [] {
    proto.on_init([] {
        analyses = 0;
        calls.clear();
    });
    return true;
}();

int dissect_probe(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void*) {
    // Wanted fields are primed on the first pass; tshark -2 does not prime them again on its second
    // pass, so revisits render the stored verdict and read nothing.
    // The observer runs on every frame of the first pass, as the analyzers call it: a TCP retransmission
    // carries no SIP but is mapped back to the messages it repeats; SYN, FIN and RST segments and payloads
    // SIP did not take (CRLF keepalives) are shown too, without an analysis number.
    const ws::Observation* o = ws::SipObserver::instance().observe(tvb, pinfo, tree);
    const bool flags = o && o->frame.tcp && (o->frame.tcp->syn || o->frame.tcp->fin || o->frame.tcp->rst);
    if (o && o->messages.empty() && (!o->retransmitted.empty() || flags || !o->frame.payload.empty())) {
        Verdict v;
        v.frame = pinfo->num;
        describe(*o, v);
        verdicts.put(pinfo->num, 0, std::move(v));
    }
    if (!PINFO_FD_VISITED(pinfo) && ws::Occurrences(tree, ff_sip).size() > 0) {
        ws::guard(proto, pinfo, nullptr, [&] {
            Verdict v;
            v.frame = pinfo->num;
            v.analysis = ++analyses;
            v.stream = static_cast<guint32>(ws::uint_value(ws::Occurrences(tree, ff_stream).first_in({})));
            v.ack_flag = static_cast<guint32>(ws::uint_value(ws::Occurrences(tree, ff_ack_flag).first_in({})));
            ws::for_each_message(tree, ff_sip, [&](const ws::Scope& scope, guint) {
                Message m;
                m.call_id = std::string(ws::string_value(ws::Occurrences(tree, ff_call_id).first_in(scope)));
                m.method = std::string(ws::string_value(ws::Occurrences(tree, ff_method).first_in(scope)));
                m.cseq = static_cast<guint32>(ws::uint_value(ws::Occurrences(tree, ff_cseq).first_in(scope)));
                Call& call = calls[call_key(m)];
                ++call.messages;
                call.last_cseq = m.cseq;
                v.messages.push_back(std::move(m));
            });
            // Observed a second time in the frame: the same observation, not read again.
            if (o && o == ws::SipObserver::instance().observe(tvb, pinfo, tree)) describe(*o, v);
            verdicts.put(pinfo->num, 0, std::move(v));
        });
    }
    const Verdict* v = verdicts.find(pinfo->num);
    if (!v) return 0;
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA);
    const ws::Tree t(proto_item_add_subtree(top, ett_probe), tvb);
    t.add_frame(hf_first_pass, {0, 0}, v->frame);
    if (v->analysis) {
        t.add_uint(hf_analysis, {0, 0}, v->analysis);
        t.add_uint(hf_stream, {0, 0}, v->stream);
        t.add_uint(hf_ack_flag, {0, 0}, v->ack_flag);
    }
    if (v->observed) {
        t.add_string(hf_obs_flow, {0, 0}, v->flow);
        if (!v->tcp.empty()) t.add_string(hf_obs_tcp, {0, 0}, v->tcp);
        t.add_uint(hf_obs_payload, {0, 0}, v->payload_length);
        if (!v->small_payload.empty())
            t.add_bytes(hf_obs_payload_bytes, {0, 0}, reinterpret_cast<const unsigned char*>(v->small_payload.data()),
                        v->small_payload.size());
        for (const std::string& r : v->retransmitted) t.add_string(hf_obs_retransmitted, {0, 0}, r);
        for (const std::string& m : v->obs_messages) t.add_string(hf_obs_msg, {0, 0}, m);
        for (const std::string& h : v->obs_headers) t.add_string(hf_obs_headers, {0, 0}, h);
        for (const std::string& l : v->obs_layers) t.add_string(hf_obs_layers, {0, 0}, l);
        for (const std::string& q : v->obs_seqs) t.add_string(hf_obs_seq, {0, 0}, q);
    }
    for (std::size_t i = 0; i < v->messages.size(); ++i) {
        const Message& m = v->messages[i];
        t.add_uint(hf_message, {0, 0}, static_cast<guint32>(i));
        t.add_string(hf_call_id, {0, 0}, m.call_id);
        t.add_string(hf_method, {0, 0}, m.method);
        t.add_uint(hf_cseq, {0, 0}, m.cseq);
        table.changed(pinfo, call_key(m));
    }
    return tvb_captured_length(tvb);
}

// The body of an application/x-cisco-alarm+xml message (a media type plain Wireshark 4.0 leaves to
// raw media): what enclosing_sip_message() gives the body dissectors SIP calls.
int dissect_probe_body(tvbuff_t* tvb, packet_info*, proto_tree* tree, void*) {
    const auto m = ws::enclosing_sip_message(tree, tvb, 0);
    if (!m) return 0;
    const std::string text = (m->request ? m->method : std::to_string(m->status)) + " " + std::to_string(m->cseq) +
                             " " + m->call_id + " " + m->content_type;
    proto_tree_add_string(tree, hf_obs_enclosing, tvb, 0, 0, wmem_strdup(wmem_packet_scope(), text.c_str()));
    return static_cast<int>(tvb_captured_length(tvb));
}

void proto_register_wsglue_probe() {
    proto.register_all();
    table.register_ui();
}
void proto_reg_handoff_wsglue_probe() {
    post.handoff();
    dissector_add_string("media_type", "application/x-cisco-alarm+xml",
                         create_dissector_handle(dissect_probe_body, proto.id()));
}

}  // namespace

SIPSLEUTH_PLUGIN(proto_register_wsglue_probe, proto_reg_handoff_wsglue_probe)
