// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for subscription.h: the input is a script of SIP messages and TCP packets (one per
// line: an opcode byte, three small numbers, then a header value) fed, as siptrack does, through the
// transaction and dialog layers to the tracker in order, with tiny bounds so the tables fill. Aborts when a report holds invalid UTF-8, names a subscription that does not
// exist, or a write-back points at a frame not seen yet.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/subscription.h"

using namespace sipsleuth::core;
using fuzz::require;

namespace {

void check(const SubscriptionTracker& t, const MessageReport& r, const TrackerOutput& out, std::uint32_t frame) {
    require(r.subscription <= t.size(), "report names an unknown subscription");
    for (const std::string* s : {&r.event, &r.event_id, &r.state, &r.reason, &r.kind})
        fuzz::require_utf8(*s, "report string is not UTF-8");
    if (r.subscription) require(t.facts(r.subscription) != nullptr, "no facts for a reported subscription");
    for (const SubNote& n : r.notes) fuzz::require_utf8(n.message, "note is not UTF-8");
    for (const SubNote& n : out.frame_notes) fuzz::require_utf8(n.message, "frame note is not UTF-8");
    for (const WriteBack& w : out.write_backs) require(w.frame <= frame, "write-back to a future frame");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    SubscriptionTracker::Limits limits;
    limits.max_subscriptions = 8;
    limits.max_flows = 4;
    SubscriptionTracker t(limits);
    sip::TransactionLimits txn_limits;
    txn_limits.max_transactions = 8;
    sip::DialogLimits dialog_limits;
    dialog_limits.max_dialogs = 8;
    sip::TransactionLayer txns(txn_limits);
    sip::DialogLayer dialogs(dialog_limits);
    std::uint32_t frame = 0;
    Nanos now = 0;
    std::size_t pos = 0;
    while (pos < input.size()) {
        std::size_t end = input.find('\n', pos);
        if (end == std::string_view::npos) end = input.size();
        const std::string_view line = input.substr(pos, end - pos);
        pos = end + 1;
        if (line.size() < 4) continue;
        const auto n = [&](std::size_t i) { return static_cast<std::uint8_t>(line[i]); };
        const std::string value(line.substr(4));
        ++frame;
        now += static_cast<Nanos>(n(3) % 64) * kSecond;
        TrackerOutput out;
        t.advance(now, frame, out);
        sip::Frame f;
        f.number = frame;
        f.time = now;
        FlowPacket& p = f.flow;
        p.transport = n(1) & 0x80 ? Transport::udp : Transport::tcp;
        p.stream = n(1) % 6;
        const bool from_a = n(2) & 1;
        const Endpoint a{"10.0.0.1", 5060}, b{n(2) & 2 ? "2001:db8::1" : "10.0.0.2", static_cast<std::uint16_t>(1000 + n(1) % 6)};
        p.src = from_a ? a : b;
        p.dst = from_a ? b : a;
        p.fin = n(2) & 4;
        p.rst = n(2) & 8;
        t.packet(f, out);
        sip::Message m;
        m.frame = frame;
        m.time = now;
        m.flow = FlowRef{p.transport, p.stream, p.src, p.dst};
        m.call_id = std::string(1, static_cast<char>('a' + n(2) % 3));
        m.from.tag = n(2) & 16 ? "x" : "y";
        m.to.tag = n(2) & 32 ? "" : (n(2) & 16 ? "y" : "x");
        m.has_cseq = true;
        m.cseq = n(3) % 4;
        m.via.present = true;
        m.via.host = (n(0) & 0x40 ? p.dst : p.src).address;
        m.via.branch = "z9hG4bK" + std::to_string(n(0) >> 3);
        switch (n(0) % 6) {
        case 0: m.request = true; m.method = "SUBSCRIBE"; m.event = value; m.expires = n(3) % 3 ? 60u : 0u; break;
        case 1: m.request = true; m.method = "NOTIFY"; m.event = "dialog"; m.subscription_state = value; break;
        case 2: m.request = true; m.method = "NOTIFY"; m.event = value; m.subscription_state = "active;expires=30"; break;
        case 3: m.request = true; m.method = "REFER"; break;
        case 4: m.status = 100 + n(3) % 500; m.cseq_method = n(2) & 64 ? "NOTIFY" : "SUBSCRIBE"; break;
        default: check(t, MessageReport{}, out, frame); continue;
        }
        if (m.request) m.cseq_method = m.method;
        const sip::TxnVerdict tv = txns.on_message(m);
        const sip::DialogVerdict dv = dialogs.on_message(m, tv);
        const MessageReport r = t.message(m, tv, dv, out);
        check(t, r, out, frame);
        for (std::uint32_t id = 1; id <= t.size(); ++id) require(t.summary(id).has_value(), "summary missing");
    }
    TrackerOutput out;
    t.finish(out);
    check(t, MessageReport{}, out, frame);
    return 0;
}
