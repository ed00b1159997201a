// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for sip/dialog.h, fed through the transaction layer as the analyzers will: a CANCEL answered
// 200 with the proxy's own To tag (no dialog, no fork); a genuine fork (two early dialogs from two
// UASs); a B2BUA changing its To tag between 180 and 200 (two dialogs, one endpoint); a NOTIFY with a
// corrupt To tag (matches no dialog, creates none) and its healthy twins (RFC 6665 4.4.1: a NOTIFY before
// the 2xx, a forked subscription); termination by BYE, 481, a non-2xx final and Subscription-State; the
// bounds.
#include "sipsleuth/core/sip/dialog.h"

#include <gtest/gtest.h>

#include <string>

#include "sip_test_util.h"
#include "sipsleuth/core/sip/transaction.h"

namespace sipsleuth::core::sip {
namespace {

using testing::ep;
using testing::flow;
using testing::reversed;

const Endpoint kPhone = ep("10.0.0.10", 5060);
const Endpoint kProxy = ep("10.0.0.1", 5060);
const FlowRef kUp = flow(Transport::udp, 0, kPhone, kProxy);
const FlowRef kDown = reversed(kUp);

struct Layers {
    TransactionLayer txn;
    DialogLayer dialogs;
    std::uint32_t frame = 0;
    Nanos time = 0;
    explicit Layers(DialogLimits limits = {}) : dialogs(limits) {}

    DialogVerdict feed(const std::string& text, const FlowRef& f, TxnVerdict* tv = nullptr) {
        ++frame;
        time += 10 * kMilli;
        const Message m = testing::sip(text, frame, time, f);
        const TxnVerdict t = txn.on_message(m);
        if (tv) *tv = t;
        return dialogs.on_message(m, t);
    }
};

// A message of call "c1" between alice (tag a1, the UAC) and bob; `to_tag` empty for none.
std::string msg(const std::string& start, const std::string& cseq, const std::string& to_tag,
                const std::string& extra = "", const std::string& branch = "z9hG4bKinv1") {
    return start + "\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=" + branch +
           "\nFrom: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>" +
           (to_tag.empty() ? "" : ";tag=" + to_tag) + "\nCall-ID: c1\nCSeq: " + cseq + "\n" + extra;
}

const std::string kInvite = "INVITE sip:bob@example.com SIP/2.0";

TEST(SipDialog, CancelAnsweredWithProxyToTagCreatesNothing) {
    Layers l;
    TxnVerdict inv;
    EXPECT_EQ(l.feed(msg(kInvite, "1 INVITE", ""), kUp, &inv).id, 0u);
    EXPECT_EQ(l.feed(msg("SIP/2.0 100 Trying", "1 INVITE", ""), kDown).id, 0u);
    const DialogVerdict ringing =
        l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "uas1", "Contact: <sip:bob@10.0.0.21>\n"), kDown);
    EXPECT_EQ(ringing.id, 1u);
    EXPECT_TRUE(ringing.created);
    EXPECT_FALSE(ringing.confirmed);
    EXPECT_EQ(ringing.fork, 1u);
    EXPECT_EQ(ringing.forks, 1u);
    EXPECT_EQ(ringing.origin, inv.id);
    EXPECT_EQ(l.feed(msg("CANCEL sip:bob@example.com SIP/2.0", "1 CANCEL", ""), kUp).id, 0u);
    // The proxy answers the CANCEL itself, with its own To tag: no dialog, no fork, nothing unmatched.
    const DialogVerdict cancel_ok = l.feed(msg("SIP/2.0 200 OK", "1 CANCEL", "proxy55"), kDown);
    EXPECT_EQ(cancel_ok.id, 0u);
    EXPECT_FALSE(cancel_ok.created);
    EXPECT_FALSE(cancel_ok.unmatched);
    EXPECT_EQ(l.dialogs.size(), 1u);
    const DialogVerdict terminated = l.feed(msg("SIP/2.0 487 Request Terminated", "1 INVITE", "uas1"), kDown);
    EXPECT_EQ(terminated.id, 1u);
    EXPECT_TRUE(terminated.terminated);
    const auto forks = l.dialogs.forks(inv.id);
    ASSERT_EQ(forks.size(), 1u);
    EXPECT_EQ(forks[0].uas_tag, "uas1");
    EXPECT_EQ(forks[0].state, DialogState::terminated);
    EXPECT_EQ(forks[0].terminated.frame, 6u);
    EXPECT_EQ(forks[0].created.message.frame, 3u);
    EXPECT_EQ(forks[0].created.contact, "sip:bob@10.0.0.21");
    EXPECT_EQ(forks[0].request.frame, 1u);
}

TEST(SipDialog, GenuineForkHasTwoEndpoints) {
    Layers l;
    TxnVerdict inv;
    l.feed(msg(kInvite, "1 INVITE", ""), kUp, &inv);
    const std::string rr = "Record-Route: <sip:10.0.0.1;lr>\n";
    const DialogVerdict a = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "ta", rr + "Contact: <sip:bob@10.0.0.21>\n"), kDown);
    const DialogVerdict b = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "tb", rr + "Contact: <sip:bob@10.0.0.22>\n"), kDown);
    EXPECT_TRUE(a.created && b.created);
    EXPECT_EQ(a.id, 1u);
    EXPECT_EQ(b.id, 2u);
    EXPECT_EQ(b.fork, 2u);
    EXPECT_EQ(b.forks, 2u);
    const DialogVerdict ok = l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "tb", rr + "Contact: <sip:bob@10.0.0.22>\n"), kDown);
    EXPECT_EQ(ok.id, 2u);
    EXPECT_FALSE(ok.created);
    EXPECT_TRUE(ok.confirmed);
    EXPECT_EQ(ok.fork, 2u);
    EXPECT_EQ(ok.forks, 2u);
    const auto forks = l.dialogs.forks(inv.id);
    ASSERT_EQ(forks.size(), 2u);
    EXPECT_EQ(forks[0].state, DialogState::early);
    EXPECT_EQ(forks[1].state, DialogState::confirmed);
    EXPECT_EQ(forks[1].confirmed.frame, 4u);
    EXPECT_EQ(forks[0].created.record_route, std::vector<std::string>{"sip:10.0.0.1;lr"});
    EXPECT_EQ(forks[0].created.via_count, 1u);
    EXPECT_EQ(forks[0].created.via_host, "10.0.0.10");
    EXPECT_EQ(forks[0].created.via_port, 5060);
    EXPECT_TRUE(distinct_endpoints(forks[0], forks[1]));
}

TEST(SipDialog, B2buaChangingItsToTagIsOneEndpoint) {
    Layers l;
    TxnVerdict inv;
    l.feed(msg(kInvite, "1 INVITE", ""), kUp, &inv);
    const std::string contact = "Contact: <sip:b2bua@10.0.0.5:5060>\n";
    const DialogVerdict early = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "x1", contact), kDown);
    const DialogVerdict ok = l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "y2", contact), kDown);
    EXPECT_TRUE(early.created);
    EXPECT_TRUE(ok.created);
    EXPECT_TRUE(ok.confirmed);
    EXPECT_EQ(ok.fork, 2u);
    const auto forks = l.dialogs.forks(inv.id);
    ASSERT_EQ(forks.size(), 2u);
    EXPECT_FALSE(distinct_endpoints(forks[0], forks[1]));
    // Healthy twin of the rule: another Contact, or another route, is another endpoint.
    Dialog other = forks[1];
    other.created.contact = "sip:b2bua@10.0.0.6:5060";
    EXPECT_TRUE(distinct_endpoints(forks[0], other));
    other = forks[1];
    other.created.contact = "SIP:B2BUA@10.0.0.5:5060";
    EXPECT_FALSE(distinct_endpoints(forks[0], other));
    other.created.record_route = {"sip:p2;lr"};
    EXPECT_TRUE(distinct_endpoints(forks[0], other));
    other = forks[1];
    other.created.contact.clear();
    EXPECT_FALSE(distinct_endpoints(forks[0], other));
}

TEST(SipDialog, ByeEndsTheDialogAndInDialogMessagesMatchBothWays) {
    Layers l;
    l.feed(msg(kInvite, "1 INVITE", ""), kUp);
    l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "b1", "Contact: <sip:bob@10.0.0.21>\n"), kDown);
    EXPECT_EQ(l.feed(msg("ACK sip:bob@10.0.0.21 SIP/2.0", "1 ACK", "b1", "", "z9hG4bKack"), kUp).id, 1u);
    // A re-INVITE's 2xx changes nothing.
    const DialogVerdict re = l.feed(msg("SIP/2.0 200 OK", "2 INVITE", "b1", "", "z9hG4bKre"), kDown);
    EXPECT_EQ(re.id, 1u);
    EXPECT_FALSE(re.created || re.confirmed || re.terminated);
    // The callee hangs up: From and To swapped.
    const std::string bye =
        "BYE sip:alice@10.0.0.10 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.21:5060;branch=z9hG4bKbye\n"
        "From: <sip:bob@example.com>;tag=b1\nTo: <sip:alice@example.com>;tag=a1\nCall-ID: c1\nCSeq: 9 BYE\n";
    const DialogVerdict b = l.feed(bye, kDown);
    EXPECT_EQ(b.id, 1u);
    EXPECT_FALSE(b.terminated);
    std::string ok = bye;
    ok.replace(0, ok.find('\n'), "SIP/2.0 200 OK");
    const DialogVerdict done = l.feed(ok, kUp);
    EXPECT_EQ(done.id, 1u);
    EXPECT_TRUE(done.terminated);
    EXPECT_EQ(l.dialogs.find(1)->state, DialogState::terminated);
    EXPECT_EQ(l.dialogs.find(1)->terminated.frame, l.frame);
    EXPECT_EQ(l.dialogs.find("c1", "a1", "b1"), l.dialogs.find(1));
    EXPECT_EQ(l.dialogs.find("c1", "b1", "a1"), l.dialogs.find(1));
    EXPECT_EQ(l.dialogs.find("c1", "b1", "zz"), nullptr);
    // Its 200 retransmitted: still the dialog, terminated once.
    EXPECT_FALSE(l.feed(ok, kUp).terminated);
}

TEST(SipDialog, Response481EndsTheDialog) {
    Layers l;
    l.feed(msg(kInvite, "1 INVITE", ""), kUp);
    l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "b1"), kDown);
    l.feed(msg("INFO sip:bob@example.com SIP/2.0", "2 INFO", "b1", "", "z9hG4bKinfo"), kUp);
    const DialogVerdict v = l.feed(msg("SIP/2.0 481 Call Does Not Exist", "2 INFO", "b1", "", "z9hG4bKinfo"), kDown);
    EXPECT_EQ(v.id, 1u);
    EXPECT_TRUE(v.terminated);
}

TEST(SipDialog, NonSuccessFinalEndsTheEarlyDialogs) {
    Layers l;
    TxnVerdict inv;
    l.feed(msg(kInvite, "1 INVITE", ""), kUp, &inv);
    l.feed(msg("SIP/2.0 183 Session Progress", "1 INVITE", "ta"), kDown);
    l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "tb"), kDown);
    const DialogVerdict busy = l.feed(msg("SIP/2.0 486 Busy Here", "1 INVITE", "tc"), kDown);
    EXPECT_EQ(busy.id, 0u);
    EXPECT_TRUE(busy.terminated);
    EXPECT_FALSE(busy.unmatched);
    for (const Dialog& d : l.dialogs.forks(inv.id)) {
        EXPECT_EQ(d.state, DialogState::terminated);
        EXPECT_EQ(d.terminated.frame, 4u);
    }
    EXPECT_EQ(l.dialogs.size(), 2u);
}

// The subscription scenario of field case 000's siblings: alice subscribes to bob's dialog state.
std::string subscribe_msg(const std::string& start, const std::string& to_tag, const std::string& extra = "") {
    return start + "\nVia: SIP/2.0/TCP 10.0.0.10:5060;branch=z9hG4bKsub1\n"
           "From: <sip:alice@example.com>;tag=s1\nTo: <sip:bob@example.com>" +
           (to_tag.empty() ? "" : ";tag=" + to_tag) + "\nCall-ID: sub-1\nCSeq: 1 SUBSCRIBE\nEvent: dialog\n" + extra;
}

std::string notify_msg(const std::string& from_tag, const std::string& to_tag, const std::string& state = "active;expires=3600",
                       int cseq = 1) {
    return "NOTIFY sip:alice@10.0.0.10 SIP/2.0\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKn" + std::to_string(cseq) + from_tag +
           "\nFrom: <sip:bob@example.com>;tag=" + from_tag + "\nTo: <sip:alice@example.com>;tag=" + to_tag +
           "\nCall-ID: sub-1\nCSeq: " + std::to_string(cseq) + " NOTIFY\nEvent: Dialog\nSubscription-State: " + state +
           "\nContact: <sip:bob@10.0.0.1>\n";
}

TEST(SipDialog, NotifyWithCorruptToTagMatchesNothing) {
    Layers l;
    TxnVerdict sub;
    l.feed(subscribe_msg("SUBSCRIBE sip:bob@example.com SIP/2.0", ""), kUp, &sub);
    const DialogVerdict ok = l.feed(subscribe_msg("SIP/2.0 200 OK", "n1"), kDown);
    EXPECT_TRUE(ok.created && ok.confirmed);
    EXPECT_EQ(l.dialogs.find(ok.id)->usage, DialogUsage::subscribe);
    EXPECT_EQ(l.feed(notify_msg("n1", "s1"), kDown).id, ok.id);
    // Same Call-ID, the notifier's From tag, but a To tag that is no subscriber's: no phantom dialog.
    const DialogVerdict corrupt = l.feed(notify_msg("n1", "s1\xff", "active;expires=3600", 2), kDown);
    EXPECT_EQ(corrupt.id, 0u);
    EXPECT_TRUE(corrupt.unmatched);
    EXPECT_FALSE(corrupt.created);
    EXPECT_EQ(l.dialogs.size(), 1u);
    // Its 481 matches nothing either, and leaves the real dialog alone.
    std::string reply = notify_msg("n1", "s1\xff", "active", 2);
    reply.replace(0, reply.find('\n'), "SIP/2.0 481 Subscription Does Not Exist");
    const DialogVerdict r = l.feed(reply, kUp);
    EXPECT_EQ(r.id, 0u);
    EXPECT_TRUE(r.unmatched);
    EXPECT_EQ(l.dialogs.find(ok.id)->state, DialogState::confirmed);
}

TEST(SipDialog, NotifyBeforeTheSuccessResponseCreatesTheDialog) {
    Layers l;
    TxnVerdict sub;
    l.feed(subscribe_msg("SUBSCRIBE sip:bob@example.com SIP/2.0", ""), kUp, &sub);
    const DialogVerdict n = l.feed(notify_msg("n1", "s1"), kDown);
    EXPECT_EQ(n.id, 1u);
    EXPECT_TRUE(n.created && n.confirmed);
    EXPECT_FALSE(n.unmatched);
    EXPECT_EQ(n.origin, sub.id);
    const Dialog* d = l.dialogs.find(1);
    EXPECT_EQ(d->uac_tag, "s1");
    EXPECT_EQ(d->uas_tag, "n1");
    EXPECT_EQ(d->created.status, 0u);
    EXPECT_EQ(d->created.contact, "sip:bob@10.0.0.1");
    // The 2xx arriving later matches the same dialog.
    const DialogVerdict ok = l.feed(subscribe_msg("SIP/2.0 202 Accepted", "n1"), kDown);
    EXPECT_EQ(ok.id, 1u);
    EXPECT_FALSE(ok.created);
    // A forked SUBSCRIBE: a second notifier's NOTIFY creates a second dialog (RFC 6665 section 4.1.2.4).
    const DialogVerdict second = l.feed(notify_msg("n2", "s1"), kDown);
    EXPECT_EQ(second.id, 2u);
    EXPECT_TRUE(second.created);
    EXPECT_EQ(second.fork, 2u);
    // Another event package does not match the subscription.
    std::string presence = notify_msg("n3", "s1");
    presence.replace(presence.find("Event: Dialog"), 13, "Event: presence");
    EXPECT_TRUE(l.feed(presence, kDown).unmatched);
    // Subscription-State: terminated ends it.
    const DialogVerdict end = l.feed(notify_msg("n1", "s1", "terminated;reason=timeout", 2), kDown);
    EXPECT_EQ(end.id, 1u);
    EXPECT_TRUE(end.terminated);
}

TEST(SipDialog, InDialogRequestWithoutDialogIsUnmatched) {
    Layers l;
    const DialogVerdict v = l.feed(msg("BYE sip:bob@example.com SIP/2.0", "5 BYE", "gone", "", "z9hG4bKb"), kUp);
    EXPECT_EQ(v.id, 0u);
    EXPECT_TRUE(v.unmatched);
    const DialogVerdict r = l.feed(msg("SIP/2.0 481 Call Does Not Exist", "5 BYE", "gone", "", "z9hG4bKb"), kDown);
    EXPECT_TRUE(r.unmatched);
    // A response to an INVITE whose request was not captured still creates its dialog.
    const DialogVerdict orphan = l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "b9", "", "z9hG4bKother"), kDown);
    EXPECT_TRUE(orphan.created);
    EXPECT_EQ(orphan.origin, 0u);
    EXPECT_EQ(orphan.forks, 0u);
}

TEST(SipDialog, BoundsSayFull) {
    DialogLimits limits;
    limits.max_dialogs = 2;
    limits.max_forks = 16;
    Layers l(limits);
    TxnVerdict inv;
    l.feed(msg(kInvite, "1 INVITE", ""), kUp, &inv);
    EXPECT_TRUE(l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t1"), kDown).created);
    EXPECT_TRUE(l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t2"), kDown).created);
    const DialogVerdict third = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t3"), kDown);
    EXPECT_EQ(third.id, 0u);
    EXPECT_TRUE(third.full);
    EXPECT_TRUE(l.dialogs.overflowed());
    EXPECT_EQ(l.dialogs.size(), 2u);

    DialogLimits forks;
    forks.max_forks = 1;
    Layers f(forks);
    f.feed(msg(kInvite, "1 INVITE", ""), kUp);
    EXPECT_TRUE(f.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t1"), kDown).created);
    EXPECT_TRUE(f.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t2"), kDown).full);
}

TEST(SipDialog, ForgottenAfterTheirLingerAndWorkStaysBounded) {
    Layers l;
    // 10,000 calls of one INVITE, 200, BYE, 200 each, one per second: a terminated dialog is forgotten
    // 32 s after its BYE's 2xx, an origin 32 s after its final response.
    std::size_t max_dialogs = 0, max_origins = 0;
    for (int i = 0; i < 10000; ++i) {
        const std::string n = std::to_string(i);
        const auto call = [&](const std::string& start, const std::string& cseq, const std::string& to_tag,
                              const std::string& branch) {
            return start + "\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bK" + branch + n +
                   "\nFrom: <sip:a@x>;tag=a" + n + "\nTo: <sip:b@x>" + (to_tag.empty() ? "" : ";tag=" + to_tag) +
                   "\nCall-ID: call" + n + "\nCSeq: " + cseq + "\n";
        };
        l.time = static_cast<Nanos>(i) * kSecond;
        l.feed(call(kInvite, "1 INVITE", "", "i"), kUp);
        ASSERT_TRUE(l.feed(call("SIP/2.0 200 OK", "1 INVITE", "b", "i"), kDown).created);
        l.feed(call("BYE sip:b@x SIP/2.0", "2 BYE", "b", "b"), kUp);
        ASSERT_TRUE(l.feed(call("SIP/2.0 200 OK", "2 BYE", "b", "b"), kDown).terminated);
        max_dialogs = std::max(max_dialogs, l.dialogs.size());
        max_origins = std::max(max_origins, l.dialogs.origins());
    }
    EXPECT_EQ(max_dialogs, 32u);  // this call and the 31 before it
    EXPECT_EQ(max_origins, 32u);
    EXPECT_LE(l.dialogs.work_done(), 4u * 40000u);
}

}  // namespace
}  // namespace sipsleuth::core::sip
