// SPDX-License-Identifier: GPL-2.0-or-later
// A test-only plugin that exercises the wrapper the way the coming post-dissectors (siptrack, mssip,
// msrpa) will: foreign fields resolved by name, read message by message when one TCP segment carries
// several SIP messages, a verdict computed on the first pass and only rendered afterwards. It is built
// into build/test-plugins, never installed, and checked by tests/e2e/test_wsglue.py.
#include <string>
#include <vector>

#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
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
ws::Subtree ett_probe{proto};

ws::ForeignField ff_sip{"sip"};
ws::ForeignField ff_call_id{"sip.Call-ID"};
ws::ForeignField ff_method{"sip.CSeq.method"};
ws::ForeignField ff_cseq{"sip.CSeq.seq"};
ws::ForeignField ff_stream{"tcp.stream"};
ws::ForeignField ff_ack_flag{"tcp.flags.ack"};

int dissect_probe(tvbuff_t*, packet_info*, proto_tree*, void*);
ws::PostDissector post{proto, dissect_probe, {&ff_sip, &ff_call_id, &ff_method, &ff_cseq, &ff_stream, &ff_ack_flag}};

struct Message {
    std::string call_id, method;
    guint32 cseq = 0;
};
struct Verdict {
    guint32 frame = 0, analysis = 0;
    guint32 stream = 0, ack_flag = 0;
    std::vector<Message> messages;
};
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
            verdicts.put(pinfo->num, 0, std::move(v));
        });
    }
    const Verdict* v = verdicts.find(pinfo->num);
    if (!v) return 0;
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA);
    const ws::Tree t(proto_item_add_subtree(top, ett_probe), tvb);
    t.add_frame(hf_first_pass, {0, 0}, v->frame);
    t.add_uint(hf_analysis, {0, 0}, v->analysis);
    t.add_uint(hf_stream, {0, 0}, v->stream);
    t.add_uint(hf_ack_flag, {0, 0}, v->ack_flag);
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

void proto_register_wsglue_probe() {
    proto.register_all();
    table.register_ui();
}
void proto_reg_handoff_wsglue_probe() { post.handoff(); }

}  // namespace

SIPSLEUTH_PLUGIN(proto_register_wsglue_probe, proto_reg_handoff_wsglue_probe)
