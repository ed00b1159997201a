// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for subscription.h on condensed versions of field case 000's two traces (polycom_repro: the
// NOTIFY sent down the abandoned connection and reset; pcom310: the unanswered NOTIFY, the 481 and the
// recovery on a new Call-ID), the healthy twins, RFC 3515 refer subscriptions and bad headers. Exact
// messages: they are what the analyst reads in Wireshark.
#include "sipsleuth/core/subscription.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace sipsleuth::core {
namespace {

const Endpoint kPhone1033{"10.1.1.171", 1033}, kPhone1034{"10.1.1.171", 1034}, kPhone1035{"10.1.1.171", 1035};
const Endpoint kRls{"10.1.1.68", 5060};
constexpr const char* kSubscriber = "sip:207@victoria.pingtel.com";
constexpr const char* kList = "sip:~~rl~C~207@victoria.pingtel.com";

// Capture times in microseconds, as a pcap has them.
constexpr Nanos us(std::int64_t n) { return n * 1000; }
constexpr Nanos ms(std::int64_t n) { return n * kMilli; }
constexpr Nanos sec(std::int64_t n) { return n * kSecond; }

// Feeds the tracker as siptrack does: each frame to the tracker, each message first to the suite's
// transaction and dialog layers. A request gets a top Via of its sender (a branch per method, Call-ID,
// CSeq and sender); a response the Via of the request it answers.
class Capture {
public:
    explicit Capture(SubscriptionTracker::Limits limits = {}) : tracker(limits) {}

    // A TCP segment without SIP (ACK, FIN, RST).
    void segment(Nanos time, std::uint32_t stream, Endpoint src, Endpoint dst, bool rst = false, bool fin = false) {
        out = {};
        sip::Frame f;
        f.number = ++frame;
        f.time = time;
        f.flow = FlowPacket{Transport::tcp, stream, src, dst, false, fin, rst};
        tracker.advance(time, frame, out);
        tracker.packet(f, out);
    }
    MessageReport sip(sip::Message m, Nanos time, std::uint32_t stream, Endpoint src, Endpoint dst,
                      Transport t = Transport::tcp) {
        out = {};
        m.frame = ++frame;
        m.time = time;
        m.flow = FlowRef{t, stream, src, dst};
        m.has_cseq = true;
        if (m.request) {
            m.via.present = true;
            m.via.transport = t == Transport::tcp ? "TCP" : "UDP";
            m.via.host = src.address;
            m.via.port = src.port;
            m.via.branch = "z9hG4bK-" + m.method + "-" + m.call_id + "-" + std::to_string(m.cseq) + "-" +
                           src.address + ":" + std::to_string(src.port);
            vias[txn_key(m, dst)] = m.via;
        } else if (auto v = vias.find(txn_key(m, src)); v != vias.end()) {
            m.via = v->second;
        }
        sip::Frame f;
        f.number = frame;
        f.time = time;
        f.flow = FlowPacket{t, stream, src, dst, false, false, false};
        tracker.advance(time, frame, out);
        tracker.packet(f, out);
        const sip::TxnVerdict tv = txns.on_message(m);
        const sip::DialogVerdict dv = dialogs.on_message(m, tv);
        return tracker.message(m, tv, dv, out);
    }

    SubscriptionTracker tracker;
    sip::TransactionLayer txns;
    sip::DialogLayer dialogs;
    TrackerOutput out;
    std::uint32_t frame = 0;

private:
    static std::string txn_key(const sip::Message& m, const Endpoint& server) {
        return m.call_id + "|" + std::to_string(m.cseq) + "|" + m.cseq_method + "|" + server.address + ":" +
               std::to_string(server.port);
    }
    std::map<std::string, sip::Via> vias;
};

sip::Message subscribe(const std::string& call_id, std::uint32_t cseq, std::optional<std::uint32_t> expires,
                       const std::string& to_tag = "", const std::string& event = "dialog") {
    sip::Message m;
    m.request = true;
    m.method = "SUBSCRIBE";
    m.call_id = call_id;
    m.from.tag = "sub-" + call_id;
    m.to.tag = to_tag;
    m.from.uri = kSubscriber;
    m.to.uri = kList;
    m.cseq = cseq;
    m.cseq_method = "SUBSCRIBE";
    m.event = event;
    m.expires = expires;
    return m;
}

sip::Message notify(const std::string& call_id, std::uint32_t cseq, std::optional<std::string> state,
                    const std::string& event = "dialog") {
    sip::Message m;
    m.request = true;
    m.method = "NOTIFY";
    m.call_id = call_id;
    m.from.tag = "rls";
    m.to.tag = "sub-" + call_id;
    m.from.uri = kList;
    m.to.uri = kSubscriber;
    m.cseq = cseq;
    m.cseq_method = "NOTIFY";
    m.event = event;
    m.subscription_state = std::move(state);
    return m;
}

sip::Message response(const sip::Message& req, std::uint32_t status, std::optional<std::uint32_t> expires = {}) {
    sip::Message m;
    m.status = status;
    m.call_id = req.call_id;
    m.from = req.from;
    m.to = req.to;
    if (m.to.tag.empty()) m.to.tag = "rls";
    m.cseq = req.cseq;
    m.cseq_method = req.cseq_method;
    m.expires = expires;
    return m;
}

sip::Message request(const std::string& method, const std::string& from_uri = kSubscriber) {
    sip::Message m;
    m.request = true;
    m.method = method;
    m.from.uri = from_uri;
    m.from.tag = "reg";
    m.call_id = "reg";
    m.cseq = 1;
    m.cseq_method = method;
    return m;
}

std::vector<SubFinding> kinds(const std::vector<SubNote>& notes) {
    std::vector<SubFinding> out;
    for (const SubNote& n : notes) out.push_back(n.kind);
    return out;
}

TEST(SecondsText, Units) {
    EXPECT_EQ(seconds_text(us(820)), "0.8 ms");
    EXPECT_EQ(seconds_text(sec(32)), "32.0 s");
    EXPECT_EQ(seconds_text(ms(1799997)), "1800.0 s (30.0 min)");
    // Rounded from integer nanoseconds, halves away from zero; negative durations keep their sign.
    EXPECT_EQ(seconds_text(us(850)), "0.9 ms");
    EXPECT_EQ(seconds_text(us(849)), "0.8 ms");
    EXPECT_EQ(seconds_text(-ms(29500)), "-29.5 s");
    // Under 0.05 ms, whole microseconds (tenths of a millisecond would read "0.0 ms").
    EXPECT_EQ(seconds_text(-us(40)), "-40 \u00b5s");
    EXPECT_EQ(seconds_text(0), "0 \u00b5s");
    EXPECT_EQ(seconds_text(49'999), "50 \u00b5s");
    EXPECT_EQ(seconds_text(us(50)), "0.1 ms");
    EXPECT_EQ(seconds_text(ms(999970)), "1000.0 s (16.7 min)");
}

TEST(FieldCase000, PolycomReproNotifyOnStaleFlowResetAndRecovered) {
    Capture c;
    const auto s1 = subscribe("A", 1, 3600);
    MessageReport r = c.sip(s1, ms(200), 0, kPhone1033, kRls);  // frame 1
    EXPECT_EQ(r.subscription, 1u);
    EXPECT_EQ(r.kind, "initial");
    EXPECT_EQ(kinds(r.notes), std::vector<SubFinding>{SubFinding::created});
    r = c.sip(response(s1, 202, 3600), ms(205), 0, kRls, kPhone1033);  // 2
    EXPECT_EQ(*r.request_in, 1u);
    ASSERT_EQ(c.out.write_backs.size(), 1u);
    EXPECT_EQ(c.out.write_backs[0].frame, 1u);
    EXPECT_EQ(*c.out.write_backs[0].response_in, 2u);
    EXPECT_EQ(*r.response_time, ms(5));
    EXPECT_EQ(*r.expiry, ms(3600205));
    const auto n1 = notify("A", 1, "active;expires=3600");
    r = c.sip(n1, ms(250), 0, kRls, kPhone1033);  // 3
    EXPECT_EQ(r.notify_count, 1u);
    EXPECT_EQ(*r.first_notify_delay, ms(50));
    EXPECT_EQ(r.state, "active");
    EXPECT_EQ(describe(r.flow), "tcp.stream 0 10.1.1.68:5060 -> 10.1.1.171:1033");
    EXPECT_EQ(describe(*r.subscription_flow), "tcp.stream 0 10.1.1.171:1033 -> 10.1.1.68:5060");
    EXPECT_EQ(c.tracker.facts(1)->subscriber, kSubscriber);
    EXPECT_EQ(c.tracker.facts(1)->notifier, kList);
    EXPECT_EQ(c.tracker.facts(1)->subscriber_address, "10.1.1.171");
    EXPECT_EQ(c.tracker.facts(1)->notifier_address, "10.1.1.68");
    EXPECT_EQ(c.tracker.facts(2), nullptr);
    EXPECT_TRUE(r.notes.empty());
    c.sip(response(n1, 200), ms(255), 0, kPhone1033, kRls);  // 4
    const auto unsub = subscribe("A", 2, 0, "rls");
    r = c.sip(unsub, ms(125000), 0, kPhone1033, kRls);  // 5
    EXPECT_EQ(r.kind, "unsubscribe");
    c.sip(response(unsub, 202, 0), ms(125005), 0, kRls, kPhone1033);  // 6
    const auto n2 = notify("A", 2, "terminated;reason=timeout");
    r = c.sip(n2, ms(125026), 0, kRls, kPhone1033);  // 7
    EXPECT_EQ(r.state, "terminated");
    EXPECT_EQ(r.reason, "timeout");
    EXPECT_EQ(kinds(r.notes), std::vector<SubFinding>{SubFinding::terminated});
    c.sip(response(n2, 200), ms(125031), 0, kPhone1033, kRls);  // 8
    // Reboot: REGISTER on a new connection.
    r = c.sip(request("REGISTER"), ms(165011), 1, kPhone1034, kRls);  // 9
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::unsubscribe_without_close);
    EXPECT_EQ(r.notes[0].message,
              "New connection tcp.stream 1 from the subscriber 40.0 s after its un-SUBSCRIBE (frame 5) on tcp.stream 0 "
              "10.1.1.171:1033 -> 10.1.1.68:5060, which it never closed");
    EXPECT_EQ(c.out.write_backs[0].note->message,
              "The subscriber never closed tcp.stream 0 after this un-SUBSCRIBE and opened tcp.stream 1 10.1.1.171:1034 "
              "-> 10.1.1.68:5060 (frame 9, 40.0 s later)");
    ASSERT_EQ(c.out.write_backs.size(), 1u);
    EXPECT_EQ(c.out.write_backs[0].frame, 5u);
    const auto s2 = subscribe("B", 1, 3600);
    r = c.sip(s2, ms(165317), 1, kPhone1034, kRls);  // 10
    EXPECT_EQ(r.subscription, 2u);
    c.sip(response(s2, 202, 3600), ms(165322), 1, kRls, kPhone1034);  // 11
    // The CSeq 0 NOTIFY down the old connection.
    const auto stale = notify("B", 0, "active;expires=3600");
    r = c.sip(stale, ms(165343), 0, kRls, kPhone1033);  // 12
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::notify_on_stale_flow);
    EXPECT_EQ(r.notes[0].message,
              "NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last traffic here 40.3 s "
              "earlier); use tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1034");
    // Issue 11: at most 200 bytes (the GUI cuts "Expert Info (Error/Sequence): " plus the message at 240);
    // the frames it names are links, and it is the incident's root cause.
    EXPECT_LE(r.notes[0].message.size(), 200u);
    EXPECT_FALSE(r.notes[0].consequence);
    EXPECT_EQ(r.notes[0].links.last_traffic_frame, 8u);
    EXPECT_EQ(r.notes[0].links.new_flow_frame, 9u);
    EXPECT_EQ(r.notes[0].links.subscribe_frame, 10u);
    c.segment(us(165343800), 0, kPhone1033, kRls, true);  // 13: RST
    ASSERT_EQ(c.out.frame_notes.size(), 1u);
    EXPECT_EQ(c.out.frame_notes[0].kind, SubFinding::notify_reset);
    EXPECT_EQ(c.out.frame_notes[0].message,
              "RST from the subscriber on tcp.stream 0, 0.8 ms after NOTIFY frame 12 (subscription 2): the NOTIFY is "
              "lost");
    // A consequence of the stale-flow NOTIFY, linked to it, on the RST and on the NOTIFY.
    EXPECT_TRUE(c.out.frame_notes[0].consequence);
    EXPECT_EQ(c.out.frame_notes[0].caused_by, 12u);
    EXPECT_EQ(c.out.frame_notes[0].links.notify_frame, 12u);
    ASSERT_EQ(c.out.write_backs.size(), 1u);
    EXPECT_EQ(c.out.write_backs[0].frame, 12u);
    EXPECT_EQ(c.out.write_backs[0].note->message,
              "The subscriber reset this NOTIFY's connection 0.8 ms later: the NOTIFY is lost");
    EXPECT_TRUE(c.out.write_backs[0].note->consequence);
    EXPECT_EQ(c.out.write_backs[0].note->caused_by, 0u);  // the cause is this very NOTIFY
    EXPECT_EQ(c.out.write_backs[0].note->links.rst_frame, 13u);
    c.segment(ms(225500), 1, kRls, kPhone1034, false, true);  // 14: FIN; Timer F of frame 12 ran out, reset already
    EXPECT_TRUE(c.out.frame_notes.empty());
    const auto refresh = subscribe("B", 2, 3600, "rls");
    r = c.sip(refresh, ms(1965011), 2, kPhone1035, kRls);  // 15
    EXPECT_EQ(r.kind, "refresh");
    c.sip(response(refresh, 202, 3600), ms(1965016), 2, kRls, kPhone1035);  // 16
    const auto good = notify("B", 1, "active;expires=3600");
    r = c.sip(good, ms(1965340), 2, kRls, kPhone1035);  // 17
    EXPECT_TRUE(r.notes.empty());
    r = c.sip(response(good, 200), ms(1965345), 2, kPhone1035, kRls);  // 18
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::subscription_recovered);
    EXPECT_EQ(r.notes[0].message,
              "Subscription 2 recovered: NOTIFY frame 17 accepted 1800.0 s (30.0 min) after NOTIFY frame 12 was reset "
              "by the subscriber (RST in frame 13)");
    const auto sum = c.tracker.summary(2);
    ASSERT_TRUE(sum);
    EXPECT_EQ(sum->flows, (std::vector<std::string>{"tcp.stream 1", "tcp.stream 0", "tcp.stream 2"}));
    EXPECT_EQ(sum->notifies, 2u);
    EXPECT_EQ(sum->answered, 1u);
    EXPECT_EQ(sum->findings,
              (std::vector<std::string>{"notify_on_stale_flow", "notify_reset", "subscription_recovered"}));
    EXPECT_EQ(sum->outage, ms(1799997));
    EXPECT_EQ(sum->state, "active");
}

TEST(FieldCase000, Pcom310UnansweredThen481ThenRecovery) {
    Capture c;
    const auto s1 = subscribe("A", 1, 3600);
    c.sip(s1, ms(10207), 1, kPhone1033, kRls);  // 1
    c.sip(response(s1, 202, 3600), ms(10212), 1, kRls, kPhone1033);  // 2
    const auto n1 = notify("A", 1, "active;expires=3600");
    c.sip(n1, ms(10243), 1, kRls, kPhone1033);  // 3
    c.segment(ms(10244), 1, kPhone1033, kRls);  // 4: TCP ACK only
    EXPECT_TRUE(c.out.frame_notes.empty());
    c.segment(ms(60000), 7, {"10.1.1.124", 1026}, kRls);  // 5: another connection, after Timer F
    ASSERT_EQ(c.out.frame_notes.size(), 1u);
    EXPECT_EQ(c.out.frame_notes[0].kind, SubFinding::notify_unanswered);
    EXPECT_EQ(c.out.frame_notes[0].message,
              "NOTIFY frame 3 (subscription 1, tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1033) got no response "
              "within 32.0 s (Timer F)");
    ASSERT_EQ(c.out.write_backs.size(), 1u);
    EXPECT_EQ(c.out.write_backs[0].frame, 3u);
    EXPECT_EQ(c.out.write_backs[0].note->message,
              "No response to this NOTIFY within 32.0 s (Timer F): subscription 1 is broken");
    const auto refresh = subscribe("A", 2, 3600, "rls");
    c.sip(refresh, ms(1810000), 1, kPhone1033, kRls);  // 6
    MessageReport r = c.sip(response(refresh, 481), ms(1810005), 1, kRls, kPhone1033);  // 7
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::subscription_481);
    EXPECT_EQ(r.notes[0].message,
              "481 to SUBSCRIBE refresh frame 6: subscription 1 had been broken for 1799.8 s (30.0 min), since NOTIFY "
              "frame 3 went unanswered");
    EXPECT_EQ(r.state, "terminated");
    const auto s2 = subscribe("B", 1, 3600);
    r = c.sip(s2, ms(1810056), 1, kPhone1033, kRls);  // 8
    EXPECT_EQ(r.subscription, 2u);
    c.sip(response(s2, 202, 3600), ms(1810061), 1, kRls, kPhone1033);  // 9
    const auto n2 = notify("B", 1, "active;expires=3600");
    c.sip(n2, ms(1810092), 1, kRls, kPhone1033);  // 10
    r = c.sip(response(n2, 200), ms(1810097), 1, kPhone1033, kRls);  // 11
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].message,
              "Subscription 2 recovered: NOTIFY frame 10 accepted 1799.8 s (30.0 min) after NOTIFY frame 3 went "
              "unanswered");
    ASSERT_EQ(c.out.write_backs.size(), 2u);  // response_in on the NOTIFY, then the note
    EXPECT_EQ(c.out.write_backs[1].frame, 10u);
}

TEST(Healthy, LongConnectionWithRefreshesIsQuiet) {
    Capture c;
    for (std::uint32_t k = 0; k < 7; ++k) {
        const Nanos t = sec(1) + sec(1800) * k;
        const auto s = subscribe("H", k + 1, 3600, k ? "rls" : "");
        MessageReport r = c.sip(s, t, 0, kPhone1033, kRls);
        EXPECT_EQ(r.kind, k ? "refresh" : "initial");
        c.sip(response(s, 202, 3600), t + ms(5), 0, kRls, kPhone1033);
        const auto n = notify("H", k + 1, "active;expires=3600");
        r = c.sip(n, t + ms(30), 0, kRls, kPhone1033);
        EXPECT_TRUE(r.notes.empty()) << r.notes[0].message;
        EXPECT_EQ(r.notify_count, k + 1);
        r = c.sip(response(n, 200), t + ms(35), 0, kPhone1033, kRls);
        EXPECT_TRUE(r.notes.empty());
    }
    EXPECT_TRUE(c.tracker.summary(1)->findings.empty());
}

TEST(Healthy, NotifierOpensFreshConnectionAfterProperClose) {
    Capture c;
    const auto s = subscribe("F", 1, 3600);
    c.sip(s, ms(0), 0, kPhone1033, kRls);
    c.sip(response(s, 202, 3600), ms(5), 0, kRls, kPhone1033);
    c.segment(ms(60000), 0, kPhone1033, kRls, false, true);  // FIN from the phone
    c.segment(ms(60001), 0, kRls, kPhone1033, false, true);
    const Endpoint contact{"10.1.1.171", 5060}, rls_out{"10.1.1.68", 40122};
    const auto n = notify("F", 1, "active;expires=3400");
    MessageReport r = c.sip(n, ms(200000), 1, rls_out, contact);
    EXPECT_TRUE(r.notes.empty()) << r.notes[0].message;
    r = c.sip(response(n, 200), ms(200005), 1, contact, rls_out);
    EXPECT_TRUE(r.notes.empty());
}

// Bug (review): a phone that opens a second connection to the notifier for another line's REGISTER, or
// for an INVITE, still uses its subscription connection: no stale-flow warning on the next NOTIFY.
TEST(Healthy, SecondConnectionForAnotherLineOrCallIsNotStale) {
    Capture c;
    const auto s = subscribe("T", 1, 3600);
    c.sip(s, ms(0), 0, kPhone1033, kRls);
    c.sip(response(s, 202, 3600), ms(5), 0, kRls, kPhone1033);
    const auto n1 = notify("T", 1, "active;expires=3600");
    c.sip(n1, ms(30), 0, kRls, kPhone1033);
    c.sip(response(n1, 200), ms(35), 0, kPhone1033, kRls);
    c.sip(request("REGISTER", "sip:217@victoria.pingtel.com"), ms(60000), 1, kPhone1034, kRls);  // line 2
    sip::Message invite = request("INVITE");
    invite.call_id = "call";
    c.sip(invite, ms(90000), 2, kPhone1035, kRls);  // a call on its own connection
    const auto n2 = notify("T", 2, "active;expires=3500");
    MessageReport r = c.sip(n2, ms(100000), 0, kRls, kPhone1033);
    EXPECT_TRUE(r.notes.empty()) << r.notes[0].message;
    // The same user's REGISTER on a newer connection is the reboot of field case 000.
    c.sip(request("REGISTER", "<sip:207@Victoria.pingtel.com;transport=tcp>"), ms(120000), 3, {"10.1.1.171", 1036}, kRls);
    const auto n3 = notify("T", 3, "active;expires=3400");
    r = c.sip(n3, ms(130000), 0, kRls, kPhone1033);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::notify_on_stale_flow);
}

// Bug (review): a capture of the notifier's direction only (no packet at all from the subscriber on the
// NOTIFY's flow) shows no response to any NOTIFY; that is no evidence of unanswered NOTIFYs.
TEST(Healthy, OneDirectionCaptureNamesNoUnansweredNotify) {
    Capture c;
    const Endpoint contact{"10.1.1.171", 5060}, rls_out{"10.1.1.68", 40122};
    const auto n = notify("O", 1, "active;expires=3600");
    c.sip(n, ms(0), 0, rls_out, contact);
    c.segment(ms(40000), 0, rls_out, contact);  // past Timer F
    EXPECT_TRUE(c.out.frame_notes.empty());
    TrackerOutput end;
    c.tracker.finish(end);
    EXPECT_TRUE(end.write_backs.empty());
    // One packet from the subscriber on that flow (an ACK) is enough to call the next one unanswered.
    c.segment(ms(41000), 0, contact, rls_out);
    c.sip(notify("O", 2, "active;expires=3500"), ms(42000), 0, rls_out, contact);
    c.segment(ms(80000), 0, rls_out, contact);
    ASSERT_EQ(c.out.frame_notes.size(), 1u);
    EXPECT_EQ(c.out.frame_notes[0].kind, SubFinding::notify_unanswered);
}

TEST(Findings, NotifyOnClosedConnectionOffFlowExpiredAfterTermination) {
    Capture c;
    const auto s = subscribe("X", 1, 60);
    c.sip(s, ms(0), 0, kPhone1033, kRls);  // 1
    c.sip(response(s, 202, 60), ms(5), 0, kRls, kPhone1033);  // 2
    c.sip(request("REGISTER"), ms(10000), 1, kPhone1034, kRls);  // 3: second live connection
    MessageReport r = c.sip(notify("X", 1, "active;expires=50"), ms(10500), 1, kRls, kPhone1034);  // 4
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::notify_off_subscription_flow);
    EXPECT_EQ(r.notes[0].message,
              "NOTIFY on tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1034, not on tcp.stream 0 10.1.1.171:1033 -> "
              "10.1.1.68:5060 of SUBSCRIBE frame 1, still open");
    r = c.sip(notify("X", 2, "active;expires=50"), ms(90000), 1, kRls, kPhone1034);  // 5: past 10.5 + 50
    EXPECT_EQ(kinds(r.notes), (std::vector<SubFinding>{SubFinding::subscription_expired,
                                                       SubFinding::notify_off_subscription_flow}));
    EXPECT_EQ(r.notes[0].message, "Subscription 1 expired 29.5 s before this NOTIFY; no refresh since SUBSCRIBE frame 1");
    r = c.sip(notify("X", 3, "terminated;reason=deactivated"), ms(91000), 1, kRls, kPhone1034);  // 6
    r = c.sip(notify("X", 4, "active"), ms(92000), 1, kRls, kPhone1034);  // 7
    ASSERT_FALSE(r.notes.empty());
    EXPECT_EQ(r.notes[0].kind, SubFinding::notify_after_termination);
    EXPECT_EQ(r.notes[0].message,
              "NOTIFY for subscription 1 after it was terminated in frame 6 (deactivated), 1.0 s earlier");
    // The phone closes connection 0: the next NOTIFY there is on a stale flow.
    c.segment(ms(93000), 0, kPhone1033, kRls, false, true);  // 8
    r = c.sip(notify("X", 5, "terminated"), ms(94000), 0, kRls, kPhone1033);  // 9
    ASSERT_EQ(r.notes.size(), 2u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::notify_on_stale_flow);
    EXPECT_EQ(r.notes[0].message,
              "NOTIFY on tcp.stream 0, closed by the subscriber (FIN) 1.0 s earlier; use tcp.stream 1 10.1.1.68:5060 -> "
              "10.1.1.171:1034");
    EXPECT_EQ(r.notes[1].kind, SubFinding::terminated);
}

TEST(Findings, Notify481AndUnansweredAtCaptureEnd) {
    Capture c;
    const auto s = subscribe("Y", 1, 600, "", "presence");
    c.sip(s, ms(0), 0, kPhone1033, kRls, Transport::udp);
    const auto n = notify("Y", 1, "active;expires=600", "presence");
    c.sip(n, ms(10), 0, kRls, kPhone1033, Transport::udp);
    MessageReport r = c.sip(response(n, 481), ms(20), 0, kPhone1033, kRls, Transport::udp);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].message,
              "481 to NOTIFY frame 2: the subscriber no longer knows subscription 1 (no NOTIFY of it was ever accepted)");
    const auto last = notify("Y", 2, "active;expires=600", "presence");
    c.sip(last, ms(5000), 0, kRls, kPhone1033, Transport::udp);  // 4
    TrackerOutput out;
    c.tracker.finish(out);
    ASSERT_EQ(out.write_backs.size(), 1u);
    EXPECT_EQ(out.write_backs[0].frame, 4u);
    EXPECT_EQ(out.write_backs[0].note->message,
              "No response to this NOTIFY before the capture ended (subscription 1)");
}

TEST(Refer, ImplicitSubscriptionsMatchByCSeqId) {
    Capture c;
    sip::Message refer = request("REFER");
    refer.call_id = "R";
    refer.from.tag = "sub-R";
    refer.to.tag = "rls";
    refer.cseq = 21;
    MessageReport r = c.sip(refer, ms(0), 0, kPhone1033, kRls, Transport::udp);
    EXPECT_EQ(r.subscription, 1u);
    EXPECT_EQ(r.event, "refer");
    EXPECT_EQ(r.event_id, "21");
    EXPECT_EQ(r.kind, "REFER");
    refer.cseq = 22;
    r = c.sip(refer, ms(1000), 0, kPhone1033, kRls, Transport::udp);
    EXPECT_EQ(r.subscription, 2u);
    r = c.sip(notify("R", 1, "active;expires=60", "refer"), ms(1500), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(r.subscription, 1u);  // no id: the dialog's first REFER
    r = c.sip(notify("R", 2, "active;expires=60", "refer;id=22"), ms(1600), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(r.subscription, 2u);
}

TEST(Retransmission, UdpNotifySentTwiceCountsOnce) {
    Capture c;
    const auto n = notify("U", 1, "active;expires=600", "presence");
    MessageReport r = c.sip(n, ms(0), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(r.notify_count, 1u);
    r = c.sip(n, ms(500), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(*r.retransmission_of, 1u);
    EXPECT_EQ(r.kind, "retransmission");
    EXPECT_EQ(r.notify_count, 1u);
    r = c.sip(response(n, 200), ms(600), 0, kPhone1033, kRls, Transport::udp);
    EXPECT_EQ(*r.request_in, 1u);
}

TEST(BadInput, EventAndSubscriptionStateHeaders) {
    struct Case {
        std::optional<std::string> event, state;
        std::vector<SubFinding> expected;
    };
    const std::vector<Case> cases = {
        {"@@ ;;==", "active", {SubFinding::bad_event}},
        {std::nullopt, "active", {SubFinding::missing_event}},
        {"presence", "act ive;expires=soon", {SubFinding::bad_subscription_state}},
        {"presence", "active;expires=soon", {SubFinding::bad_subscription_state}},
        {"presence", std::nullopt, {SubFinding::notify_without_state}},
        {"presence", "active;expires=99999999999", {SubFinding::bad_subscription_state}},
        {"presence;x=" + std::string(5000, 'A'), "active;expires=60", {}},
        {"presence", "pending;reason=\"x", {SubFinding::bad_subscription_state}},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        Capture c;
        sip::Message n = notify("Z" + std::to_string(i), 1, cases[i].state);
        n.event = cases[i].event;
        const MessageReport r = c.sip(n, ms(0), 0, kRls, kPhone1033, Transport::udp);
        EXPECT_EQ(kinds(r.notes), cases[i].expected) << i;
    }
    Capture c;
    sip::Message n = notify("Q", 1, "active");
    n.event = std::string("\xff\xfe garbage", 10);
    const MessageReport r = c.sip(n, ms(0), 0, kRls, kPhone1033, Transport::udp);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].message,
              "Event header \"\xEF\xBF\xBD\xEF\xBF\xBD garbage\" is not an event package with parameters: not followed");
}

TEST(Bounds, SubscriptionTableFullSaysSoOnce) {
    SubscriptionTracker::Limits limits;
    limits.max_subscriptions = 1;
    Capture c(limits);
    EXPECT_EQ(c.sip(subscribe("1", 1, 60), ms(0), 0, kPhone1033, kRls).subscription, 1u);
    MessageReport r = c.sip(subscribe("2", 1, 60), ms(1000), 0, kPhone1033, kRls);
    EXPECT_EQ(r.subscription, 0u);
    EXPECT_EQ(kinds(r.notes), std::vector<SubFinding>{SubFinding::table_full});
    r = c.sip(subscribe("3", 1, 60), ms(2000), 0, kPhone1033, kRls);
    EXPECT_TRUE(r.notes.empty());
    EXPECT_EQ(c.tracker.size(), 1u);
}

}  // namespace
}  // namespace sipsleuth::core

namespace sipsleuth::core {
namespace {

// Issue 15 (heplify erspan_sip_ipv4_udp, siplayer_notify_corrupt_totag.pcap): a PBX's second node sends a
// NOTIFY with the subscription's Call-ID and the notifier's From tag but a corrupt To tag; the SBC answers
// 481. No subscription is made of it (RFC 6665 section 4.4.1: no dialog has its tags), it gets a note,
// and its 481 is no subscription's: nothing is broken, so nothing recovers later.
TEST(Dialog, NotifyWithCorruptToTagCreatesNoSubscription) {
    Capture c;
    const Endpoint node2{"10.1.1.69", 5060};
    const auto s = subscribe("D", 1, 1800, "", "user-profile");
    c.sip(s, ms(0), 0, kPhone1033, kRls, Transport::udp);                                   // 1
    c.sip(response(s, 202, 1800), us(1216), 0, kRls, kPhone1033, Transport::udp);           // 2
    const auto n = notify("D", 7, "active;expires=1800", "user-profile");
    MessageReport r = c.sip(n, us(26080), 0, kRls, kPhone1033, Transport::udp);             // 3
    EXPECT_EQ(*r.first_notify_delay, us(26080));  // 0.026080000, exact
    c.sip(response(n, 200), us(55044), 0, kPhone1033, kRls, Transport::udp);                // 4
    auto bad = notify("D", 1007, "active;expires=1800", "user-profile");
    bad.to.tag = "sub-D~\x0cpO";
    r = c.sip(bad, us(1196319), 1, node2, kPhone1033, Transport::udp);                       // 5
    EXPECT_EQ(r.subscription, 0u);
    ASSERT_EQ(kinds(r.notes), std::vector<SubFinding>{SubFinding::notify_unknown_dialog});
    EXPECT_EQ(r.notes[0].message,
              "NOTIFY matches no dialog (RFC 6665 section 4.4.1): To tag \"sub-D~\\x0cpO\" is not subscription 1's, "
              "whose Call-ID and From tag it has; not followed");
    r = c.sip(response(bad, 481), us(1198949), 1, kPhone1033, node2, Transport::udp);        // 6
    EXPECT_EQ(r.subscription, 0u);
    EXPECT_TRUE(r.notes.empty());
    EXPECT_EQ(c.tracker.size(), 1u);
    // The next subscription of the same subscriber and resource recovers from nothing.
    const auto s2 = subscribe("E", 1, 1800, "", "user-profile");
    c.sip(s2, sec(10), 0, kPhone1033, kRls, Transport::udp);
    const auto n2 = notify("E", 1, "active;expires=1800", "user-profile");
    c.sip(n2, sec(10) + ms(7), 0, kRls, kPhone1033, Transport::udp);
    r = c.sip(response(n2, 200), sec(10) + ms(55), 0, kPhone1033, kRls, Transport::udp);
    EXPECT_EQ(r.subscription, 2u);
    EXPECT_TRUE(r.notes.empty());
    EXPECT_EQ(c.tracker.summary(1)->findings, std::vector<std::string>{});
    // Without any subscription of its Call-ID and From tag, a NOTIFY is one whose SUBSCRIBE the capture
    // missed: it is followed.
    r = c.sip(notify("F", 1, "active;expires=600", "user-profile"), sec(11), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(r.subscription, 3u);
    EXPECT_TRUE(r.notes.empty());
}

// Issue 15: an SBC keeps the Call-ID and CSeq 1 on both legs. Each response answers its own leg's
// SUBSCRIBE (the transaction layer: top Via branch), with its own response time.
TEST(Dialog, SbcLegsWithOneCallIdAndCSeqStayApart) {
    Capture c;
    const Endpoint sbc_in{"192.168.1.222", 5260}, pbx{"192.168.1.191", 5060};
    const auto access = subscribe("L", 1, 1800, "", "user-profile");
    EXPECT_EQ(c.sip(access, ms(0), 0, kPhone1033, kRls, Transport::udp).subscription, 1u);         // 1
    auto core = subscribe("L", 1, 1800, "", "user-profile");
    core.from.tag = "sbc-L";
    EXPECT_EQ(c.sip(core, us(2938), 1, sbc_in, pbx, Transport::udp).subscription, 2u);              // 2
    MessageReport r = c.sip(response(core, 202, 1800), us(4154), 1, pbx, sbc_in, Transport::udp);  // 3
    EXPECT_EQ(r.subscription, 2u);
    EXPECT_EQ(*r.request_in, 2u);
    EXPECT_EQ(*r.response_time, us(1216));
    r = c.sip(response(access, 202, 1800), us(4904), 0, kRls, kPhone1033, Transport::udp);          // 4
    EXPECT_EQ(r.subscription, 1u);
    EXPECT_EQ(*r.request_in, 1u);
    EXPECT_EQ(*r.response_time, us(4904));
    EXPECT_EQ(*r.expiry, sec(1800) + us(4904));
}

// RFC 6665 section 4.4.9: a SUBSCRIBE forked to two notifiers makes two dialogs, so two subscriptions:
// the second notifier's NOTIFYs are counted apart.
TEST(Dialog, ForkedSubscribeNotifiedByTwoNotifiersIsTwoSubscriptions) {
    Capture c;
    const Endpoint rls2{"10.1.1.69", 5060};
    const auto s = subscribe("G", 1, 600, "", "presence");
    c.sip(s, ms(0), 0, kPhone1033, kRls, Transport::udp);
    c.sip(response(s, 202, 600), ms(5), 0, kRls, kPhone1033, Transport::udp);
    MessageReport r = c.sip(notify("G", 1, "active;expires=600", "presence"), ms(10), 0, kRls, kPhone1033,
                            Transport::udp);
    EXPECT_EQ(r.subscription, 1u);
    auto other = notify("G", 1, "active;expires=600", "presence");
    other.from.tag = "rls2";
    r = c.sip(other, ms(12), 1, rls2, kPhone1033, Transport::udp);
    EXPECT_EQ(r.subscription, 2u);
    EXPECT_EQ(r.notify_count, 1u);
    EXPECT_TRUE(r.notes.empty());
    r = c.sip(notify("G", 2, "active;expires=600", "presence"), ms(20), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(r.subscription, 1u);
    EXPECT_EQ(r.notify_count, 2u);
}

// Found capture wswiki__Asterisk_ZFONE_XLITE.pcap: SUBSCRIBE, 401, SUBSCRIBE again (CSeq 2, no To tag)
// with credentials, 404. The second SUBSCRIBE is not a refresh and the 401 ends nothing.
// The look-up indexes key subscriptions by a hash of their key's parts and check every hit against the
// subscription's own fields: dialogs whose parts would join into the same text (the keys used to be the
// parts joined by newlines) stay two subscriptions, and a subscription is found again by its own parts.
TEST(Keys, PartsThatJoinAlikeStayApart) {
    Capture c;
    sip::Message a = subscribe("a\nb", 1, 3600);
    a.from.tag = "c";
    sip::Message b = subscribe("a", 1, 3600);
    b.from.tag = "b\nc";
    EXPECT_EQ(c.sip(a, sec(1), 0, kPhone1033, kRls).subscription, 1u);
    EXPECT_EQ(c.sip(b, sec(2), 0, kPhone1033, kRls).subscription, 2u);
    sip::Message again = a;  // sent again without a To tag (after a challenge): the same subscription
    again.cseq = 2;
    const MessageReport r = c.sip(again, sec(3), 0, kPhone1033, kRls);
    EXPECT_EQ(r.subscription, 1u);
    EXPECT_EQ(r.kind, "initial");
    EXPECT_EQ(c.tracker.size(), 2u);
}

TEST(Challenge, SubscribeAgainAfter401IsInitialAndNotTerminated) {
    Capture c;
    const auto first = subscribe("C", 1, 3600, "", "message-summary");
    c.sip(first, ms(0), 0, kPhone1033, kRls, Transport::udp);
    MessageReport r = c.sip(response(first, 401), ms(10), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(r.state, "");
    const auto again = subscribe("C", 2, 3600, "", "message-summary");
    r = c.sip(again, ms(20), 0, kPhone1033, kRls, Transport::udp);
    EXPECT_EQ(r.kind, "initial");
    EXPECT_TRUE(r.notes.empty());
    r = c.sip(response(again, 404), ms(30), 0, kRls, kPhone1033, Transport::udp);
    EXPECT_EQ(r.state, "terminated");
    EXPECT_EQ(r.reason, "rejected with 404");
}

// Issue 14: a flapping phone answering each NOTIFY with an RST, 20,000 times within Timer F. Each RST
// looks only at the NOTIFYs its own connection carried to it (the tracker once scanned every pending
// transaction: 20,000 x 40,000), and each NOTIFY's stale-flow question is two index look-ups, not a
// pass over the 20,000 connections between the same two hosts.
TEST(Scale, TwentyThousandNotifiesEachResetOnItsOwnConnection) {
    Capture c;
    constexpr std::uint32_t kSubs = 20000;
    for (std::uint32_t i = 0; i < kSubs; ++i) {
        const Endpoint phone{"10.1.1.171", static_cast<std::uint16_t>(1024 + i)};
        const std::string id = "S" + std::to_string(i);
        const Nanos t = i * ms(1);  // all 20 s: every transaction still waits for its Timer F
        const auto s = subscribe(id, 1, 3600);
        c.sip(s, t, i, phone, kRls);
        c.sip(response(s, 200, 3600), t + us(100), i, kRls, phone);
        const MessageReport r = c.sip(notify(id, 1, "active;expires=3600"), t + us(200), i, kRls, phone);
        ASSERT_TRUE(r.notes.empty()) << i;
        c.segment(t + us(300), i, phone, kRls, true);
        ASSERT_EQ(c.out.frame_notes.size(), 1u) << i;
        ASSERT_EQ(c.out.frame_subscriptions, std::vector<std::uint32_t>{i + 1});
        ASSERT_EQ(c.out.write_backs.size(), 1u);
        EXPECT_EQ(c.out.write_backs[0].frame, c.frame - 1);
        if (i == 0 || i == kSubs - 1) {
            EXPECT_EQ(c.out.frame_notes[0].message,
                      "RST from the subscriber on tcp.stream " + std::to_string(i) + ", 0.1 ms after NOTIFY frame " +
                          std::to_string(c.frame - 1) + " (subscription " + std::to_string(i + 1) +
                          "): the NOTIFY is lost");
            EXPECT_EQ(c.out.write_backs[0].note->message,
                      "The subscriber reset this NOTIFY's connection 0.1 ms later: the NOTIFY is lost");
            EXPECT_EQ(c.out.write_backs[0].note->links.rst_frame, c.frame);
        }
    }
    EXPECT_EQ(c.tracker.size(), kSubs);
    // One open NOTIFY per RST, plus a constant per NOTIFY for the flow questions.
    EXPECT_LE(c.tracker.work_done(), 4u * kSubs);
}

// The notes of one RST come in the deadline queue's order, as a scan of the queue met them. The NOTIFY
// of frame 6 has frame 1's Call-ID and CSeq but comes from another notifier: a transaction of its own
// (RFC 3261 section 17.2.3: top Via sent-by and branch), queued after frames 3 and 4. (Before the
// transaction layer, transactions were keyed by Call-ID and CSeq: frame 6 took frame 1's place in the
// queue and was named first.)
TEST(Scale, OneRstNamesItsNotifiesInQueueOrder) {
    Capture c;
    const Endpoint kRls2{"10.1.1.69", 5060};
    c.sip(notify("K", 1, "active;expires=600"), ms(0), 2, kRls2, kPhone1034);  // 1: subscription 1
    c.sip(notify("A", 1, "active;expires=600"), ms(100), 1, kRls, kPhone1033);   // 2: subscription 2
    c.sip(notify("B", 1, "active;expires=600"), ms(200), 1, kRls, kPhone1033);   // 3: subscription 3
    c.sip(notify("C", 1, "active;expires=600"), ms(300), 1, kRls, kPhone1033);   // 4: subscription 4
    c.sip(response(notify("A", 1, "active"), 200), ms(400), 1, kPhone1033, kRls);
    // 6: frame 1's Call-ID and CSeq from another notifier: a new transaction on stream 1.
    const MessageReport again = c.sip(notify("K", 1, "active;expires=600"), ms(500), 1, kRls, kPhone1033);
    EXPECT_EQ(again.subscription, 1u);
    EXPECT_FALSE(again.retransmission_of);
    c.segment(ms(600), 1, kPhone1033, kRls, true);  // 7
    EXPECT_EQ(c.out.frame_subscriptions, (std::vector<std::uint32_t>{3, 4, 1}));
    ASSERT_EQ(c.out.write_backs.size(), 3u);
    EXPECT_EQ(c.out.write_backs[0].frame, 3u);
    EXPECT_EQ(c.out.write_backs[1].frame, 4u);
    EXPECT_EQ(c.out.write_backs[2].frame, 6u);
    EXPECT_EQ(c.out.frame_notes[0].message,
              "RST from the subscriber on tcp.stream 1, 400.0 ms after NOTIFY frame 3 (subscription 3): the NOTIFY is lost");
    // Reset once: a second RST names nothing, nor does the end (frame 1's NOTIFY went to 10.1.1.171:1034 on
    // stream 2, from which the capture shows nothing: no evidence it went unanswered).
    c.segment(ms(700), 1, kPhone1033, kRls, true);
    EXPECT_TRUE(c.out.frame_notes.empty());
    TrackerOutput end;
    c.tracker.finish(end);
    EXPECT_TRUE(end.write_backs.empty());
}

// A REFER dialog with thousands of REFERs: a NOTIFY without id finds the first one by index.
TEST(Scale, ReferNotifyWithoutIdFindsTheFirstReferByIndex) {
    Capture c;
    sip::Message refer = request("REFER");
    refer.call_id = "R";
    refer.from.tag = "sub-R";
    refer.to.tag = "rls";
    for (std::uint32_t n = 1; n <= 5000; ++n) {
        refer.cseq = n;
        c.sip(refer, n * ms(1), 0, kPhone1033, kRls, Transport::udp);
    }
    const std::uint64_t before = c.tracker.work_done();
    for (std::uint32_t n = 1; n <= 5000; ++n) {
        const MessageReport r =
            c.sip(notify("R", n, "active;expires=60", "refer"), sec(6) + n * ms(1), 0, kRls, kPhone1033, Transport::udp);
        ASSERT_EQ(r.subscription, 1u);
    }
    EXPECT_LE(c.tracker.work_done() - before, 2u * 5000);
}

// Un-SUBSCRIBEs on a connection the phone keeps, and every later request on it: each request looks at
// the un-SUBSCRIBEs older than its own connection only.
TEST(Scale, UnsubscribesLeftOpenAreSettledOnce) {
    Capture c;
    for (std::uint32_t i = 0; i < 3000; ++i) {
        const std::string id = "U" + std::to_string(i);
        c.sip(subscribe(id, 1, 0), i * ms(1), 0, kPhone1033, kRls);
    }
    for (std::uint32_t i = 0; i < 3000; ++i) c.sip(request("OPTIONS"), sec(4) + i * ms(1), 0, kPhone1033, kRls);
    const MessageReport r = c.sip(request("REGISTER"), ms(10000), 1, kPhone1034, kRls);  // a new connection
    ASSERT_EQ(r.notes.size(), 3000u);
    EXPECT_EQ(r.notes[2999].message,
              "New connection tcp.stream 1 from the subscriber 7.0 s after its un-SUBSCRIBE (frame 3000) on tcp.stream "
              "0 10.1.1.171:1033 -> 10.1.1.68:5060, which it never closed");
    EXPECT_TRUE(c.sip(request("REGISTER"), ms(11000), 2, kPhone1035, kRls).notes.empty());
    EXPECT_LE(c.tracker.work_done(), 4u * 3000);
}

// Issue 11: incidents. Field case 000 (pcom310): the unanswered NOTIFY is the root cause, reported where
// Timer F runs out on the first pass and on the NOTIFY itself on revisits; the 481 and the recovery are
// its consequences, linked to it.
TEST(Incident, UnansweredNotifyIsTheCauseOf481AndRecovery) {
    Capture c;
    const auto s1 = subscribe("A", 1, 3600);
    c.sip(s1, ms(10207), 1, kPhone1033, kRls);                       // 1
    c.sip(response(s1, 202, 3600), ms(10212), 1, kRls, kPhone1033);  // 2
    c.sip(notify("A", 1, "active;expires=3600"), ms(10243), 1, kRls, kPhone1033);  // 3
    c.segment(ms(10244), 1, kPhone1033, kRls);                       // 4: TCP ACK only
    c.segment(ms(60000), 1, kPhone1033, kRls);                       // 5: after Timer F
    ASSERT_EQ(c.out.frame_notes.size(), 1u);
    EXPECT_FALSE(c.out.frame_notes[0].consequence);
    EXPECT_TRUE(c.out.frame_notes[0].moved_on_revisit);
    EXPECT_EQ(c.out.frame_notes[0].caused_by, 3u);
    EXPECT_EQ(c.out.frame_notes[0].links.notify_frame, 3u);
    ASSERT_EQ(c.out.write_backs.size(), 1u);
    EXPECT_FALSE(c.out.write_backs[0].note->consequence);
    const auto refresh = subscribe("A", 2, 3600, "rls");
    c.sip(refresh, ms(1810000), 1, kPhone1033, kRls);  // 6
    MessageReport r = c.sip(response(refresh, 481), ms(1810005), 1, kRls, kPhone1033);  // 7
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_TRUE(r.notes[0].consequence);
    EXPECT_EQ(r.notes[0].caused_by, 3u);
    const auto s2 = subscribe("B", 1, 3600);
    c.sip(s2, ms(1810100), 1, kPhone1033, kRls);                       // 8
    c.sip(response(s2, 202, 3600), ms(1810105), 1, kRls, kPhone1033);  // 9
    const auto n2 = notify("B", 1, "active;expires=3600");
    c.sip(n2, ms(1810110), 1, kRls, kPhone1033);                       // 10
    r = c.sip(response(n2, 200), ms(1810115), 1, kPhone1033, kRls);    // 11
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::subscription_recovered);
    EXPECT_TRUE(r.notes[0].consequence);
    EXPECT_EQ(r.notes[0].caused_by, 3u);
    EXPECT_EQ(r.notes[0].links.recovered_in, 10u);
}

// Issue 11: a recovery is credited only to the subscription that failed (or one made after it). Here
// subscription 2 replaced subscription 1 and works all along; 1's NOTIFY, sent down the connection the
// phone left, is reset. That is no outage: 1 is orphaned (not told to use 2's connection, which would
// answer 481), and 2's next accepted NOTIFY recovers nothing.
TEST(Incident, OrphanedSubscriptionNotifyIsNoOutage) {
    Capture c;
    const auto s1 = subscribe("A", 1, 3600);
    c.sip(s1, ms(0), 0, kPhone1033, kRls);                        // 1
    c.sip(response(s1, 202, 3600), ms(5), 0, kRls, kPhone1033);   // 2
    const auto n1 = notify("A", 1, "active;expires=3600");
    c.sip(n1, ms(10), 0, kRls, kPhone1033);                       // 3
    c.sip(response(n1, 200), ms(15), 0, kPhone1033, kRls);        // 4
    // The phone reboots without closing connection 0 and subscribes again on connection 1.
    const auto s2 = subscribe("B", 1, 3600);
    c.sip(s2, sec(60), 1, kPhone1034, kRls);                                // 5
    c.sip(response(s2, 202, 3600), sec(60) + ms(5), 1, kRls, kPhone1034);   // 6
    const auto n2 = notify("B", 1, "active;expires=3600");
    c.sip(n2, sec(60) + ms(10), 1, kRls, kPhone1034);                       // 7
    c.sip(response(n2, 200), sec(60) + ms(15), 1, kPhone1034, kRls);        // 8
    // The notifier still has subscription 1 and writes its NOTIFY down connection 0.
    MessageReport r = c.sip(notify("A", 2, "active;expires=3540"), sec(70), 0, kRls, kPhone1033);  // 9
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::notify_orphaned);
    EXPECT_EQ(r.notes[0].message,
              "NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last traffic here 70.0 s (1.2 min) "
              "earlier); subscription 1 is orphaned: subscription 2 replaced it");
    EXPECT_EQ(r.notes[0].links.replaced_by, 5u);
    EXPECT_EQ(r.notes[0].links.last_traffic_frame, 4u);
    EXPECT_EQ(r.notes[0].links.new_flow_frame, 5u);
    c.segment(sec(70) + ms(1), 0, kPhone1033, kRls, true);  // 10: RST
    ASSERT_EQ(c.out.frame_notes.size(), 1u);
    EXPECT_TRUE(c.out.frame_notes[0].consequence);
    EXPECT_EQ(c.out.frame_notes[0].caused_by, 9u);
    const auto n3 = notify("B", 2, "active;expires=3540");
    c.sip(n3, sec(120), 1, kRls, kPhone1034);                 // 11
    r = c.sip(response(n3, 200), sec(120) + ms(5), 1, kPhone1034, kRls);  // 12
    EXPECT_TRUE(r.notes.empty());
    EXPECT_EQ(c.tracker.summary(2)->outage, 0);
    EXPECT_EQ(c.tracker.summary(2)->findings, std::vector<std::string>{});
}

// Issue 11: a NOTIFY answered with a final non-2xx other than 481 (RFC 6665 section 4.2.2: failed).
TEST(Incident, NotifyRejectedAndItsHealthyChallenge) {
    Capture c;
    const auto s1 = subscribe("A", 1, 3600);
    c.sip(s1, ms(0), 1, kPhone1033, kRls, Transport::udp);
    c.sip(response(s1, 202, 3600), ms(5), 1, kRls, kPhone1033, Transport::udp);
    const auto n1 = notify("A", 1, "active;expires=3600");
    c.sip(n1, ms(10), 1, kRls, kPhone1033, Transport::udp);  // 3
    auto rejected = response(n1, 488);
    rejected.reason = "Not Acceptable Here";
    MessageReport r = c.sip(rejected, ms(15), 1, kPhone1033, kRls, Transport::udp);  // 4
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_EQ(r.notes[0].kind, SubFinding::notify_rejected);
    EXPECT_EQ(r.notes[0].message, "NOTIFY frame 3 of subscription 1 rejected with 488 Not Acceptable Here");
    EXPECT_FALSE(r.notes[0].consequence);
    EXPECT_EQ(r.notes[0].links.notify_frame, 3u);
    EXPECT_EQ(c.tracker.summary(1)->state, "active, NOTIFY rejected with 488");
    // The next NOTIFY rejected too: one incident, the second a consequence of the first.
    const auto n2 = notify("A", 2, "active;expires=3500");
    c.sip(n2, ms(20), 1, kRls, kPhone1033, Transport::udp);  // 5
    r = c.sip(response(n2, 488), ms(25), 1, kPhone1033, kRls, Transport::udp);  // 6
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_TRUE(r.notes[0].consequence);
    EXPECT_EQ(r.notes[0].caused_by, 3u);
    // A 500 to a NOTIFY older than one already accepted is RFC 3261 section 12.2.2's answer to a CSeq out of
    // order (dialoginfo_healthy_edge_cases: the early NOTIFY retransmitted after the confirmed one): nothing.
    {
        Capture h;
        const auto hs = subscribe("H", 1, 3600);
        h.sip(hs, ms(0), 1, kPhone1033, kRls, Transport::udp);
        h.sip(response(hs, 202, 3600), ms(5), 1, kRls, kPhone1033, Transport::udp);
        const auto early = notify("H", 2, "active;expires=3600");
        h.sip(early, ms(10), 1, kRls, kPhone1033, Transport::udp);
        const auto confirmed = notify("H", 3, "active;expires=3600");
        h.sip(confirmed, ms(1010), 1, kRls, kPhone1033, Transport::udp);
        h.sip(response(confirmed, 200), ms(1015), 1, kPhone1033, kRls, Transport::udp);
        MessageReport late = h.sip(response(early, 500), ms(1600), 1, kPhone1033, kRls, Transport::udp);
        EXPECT_TRUE(late.notes.empty());
    }
    // A 401 challenge is no rejection: the notifier sends the NOTIFY again with credentials.
    const auto n3 = notify("A", 3, "active;expires=3400");
    c.sip(n3, ms(30), 1, kRls, kPhone1033, Transport::udp);
    r = c.sip(response(n3, 401), ms(35), 1, kPhone1033, kRls, Transport::udp);  // 8
    EXPECT_TRUE(r.notes.empty());
    // ... unless it is never sent again: past Timer F the challenge was a rejection in effect.
    c.segment(sec(40), 5, kPhone1034, kRls);  // 9
    ASSERT_EQ(c.out.frame_notes.size(), 1u);
    EXPECT_EQ(c.out.frame_notes[0].kind, SubFinding::notify_rejected);
    EXPECT_EQ(c.out.frame_notes[0].message,
              "NOTIFY frame 7 of subscription 1 challenged with 401 and not sent again with credentials within 32.0 s");
    EXPECT_TRUE(c.out.frame_notes[0].consequence);  // of the first rejection, still unrepaired
    EXPECT_EQ(c.out.frame_notes[0].caused_by, 3u);
    ASSERT_EQ(c.out.write_backs.size(), 1u);
    EXPECT_EQ(c.out.write_backs[0].frame, 8u);
}

// Issue 11: an accepted un-SUBSCRIBE must be confirmed by a NOTIFY with Subscription-State terminated
// (RFC 6665 section 4.2.2) within Timer F; the healthy twin sends it (before the 2xx, as RFC 6665
// section 4.1.2.4 allows).
TEST(Incident, UnsubscribeUnconfirmedAndItsHealthyTwin) {
    for (const bool confirmed : {false, true}) {
        Capture c;
        const auto s1 = subscribe("A", 1, 3600);
        c.sip(s1, ms(0), 0, kPhone1033, kRls);
        c.sip(response(s1, 202, 3600), ms(5), 0, kRls, kPhone1033);
        const auto n1 = notify("A", 1, "active;expires=3600");
        c.sip(n1, ms(10), 0, kRls, kPhone1033);
        c.sip(response(n1, 200), ms(15), 0, kPhone1033, kRls);
        const auto unsub = subscribe("A", 2, 0, "rls");
        c.sip(unsub, sec(10), 0, kPhone1033, kRls);  // 5
        if (confirmed) {
            const auto last = notify("A", 2, "terminated;reason=timeout");
            c.sip(last, sec(10) + ms(2), 0, kRls, kPhone1033);
            c.sip(response(last, 200), sec(10) + ms(4), 0, kPhone1033, kRls);
        }
        c.sip(response(unsub, 202, 0), sec(10) + ms(6), 0, kRls, kPhone1033);
        c.segment(sec(41), 0, kPhone1033, kRls);  // Timer F not run out yet
        EXPECT_TRUE(c.out.frame_notes.empty());
        c.segment(sec(43), 0, kPhone1033, kRls);
        if (confirmed) {
            EXPECT_TRUE(c.out.frame_notes.empty());
            EXPECT_TRUE(c.out.write_backs.empty());
            continue;
        }
        ASSERT_EQ(c.out.frame_notes.size(), 1u);
        EXPECT_EQ(c.out.frame_notes[0].kind, SubFinding::unsubscribe_unconfirmed);
        EXPECT_EQ(c.out.frame_notes[0].message,
                  "No terminating NOTIFY for subscription 1 within 32.0 s of the 2xx to its un-SUBSCRIBE (RFC 6665 "
                  "section 4.2.2)");
        EXPECT_TRUE(c.out.frame_notes[0].moved_on_revisit);
        EXPECT_EQ(c.out.frame_notes[0].caused_by, 5u);
        ASSERT_EQ(c.out.write_backs.size(), 1u);
        EXPECT_EQ(c.out.write_backs[0].frame, 5u);
        EXPECT_EQ(c.out.write_backs[0].note->message,
                  "The notifier accepted this un-SUBSCRIBE but sent no terminating NOTIFY within 32.0 s (RFC 6665 "
                  "section 4.2.2)");
    }
}

}  // namespace
}  // namespace sipsleuth::core
