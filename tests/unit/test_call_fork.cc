// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for call_fork.h, fed as the plugin feeds it: each sip::Message goes through the suite's
// TransactionLayer and DialogLayer first, and the tracker gets their verdicts. Field case 002's message
// flow (two endpoints, PRACKs of CSeq 2 in each early dialog, 200 OK from the phone, re-INVITE CSeq 3),
// a proxy's view of a three-endpoint fork with CANCEL and 487 to the losers, an unforked call, a
// proxy's 200 OK to CANCEL with its own To tag, a B2BUA changing its To tag, and the bounds.
#include "sipsleuth/core/call_fork.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sipsleuth/core/sip/dialog.h"
#include "sipsleuth/core/sip/transaction.h"

namespace sipsleuth::core {
namespace {

constexpr const char* kCall = "e34305289c3b4c368c583f531fddeff3";
constexpr const char* kCaller = "0fae8454e3";
constexpr const char* kOc = "c34587eaa8";
constexpr const char* kPhone = "97a7d6045d";
constexpr const char* kOcAgent = "UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)";
constexpr const char* kPhoneAgent = "CPE/3.5.6907.0 OCPhone/3.5.6907.0 (Office Communicator Phone 2007 R2)";

FlowRef caller_to_proxy() {
    FlowRef f;
    f.transport = Transport::udp;
    f.src = {"10.20.0.11", 5060};
    f.dst = {"10.20.0.1", 5060};
    return f;
}
FlowRef reversed(FlowRef f) {
    std::swap(f.src, f.dst);
    return f;
}

sip::Message base(std::uint32_t frame, std::uint32_t cseq, const std::string& method, const std::string& to_tag,
                  const std::string& branch, const std::string& from_tag) {
    sip::Message m;
    m.frame = frame;
    m.call_id = kCall;
    m.from.tag = from_tag;
    m.to.tag = to_tag;
    m.has_cseq = true;
    m.cseq = cseq;
    m.cseq_method = method;
    m.via.present = true;
    m.via.transport = "UDP";
    m.via.host = "10.20.0.11";
    m.via.port = 5060;
    m.via.branch = branch.empty() ? "" : "z9hG4bK" + branch;
    m.via_count = 1;
    return m;
}

sip::Message req(std::uint32_t frame, const std::string& method, std::uint32_t cseq, const std::string& to_tag,
                 const std::string& branch, const std::string& from_tag = kCaller) {
    sip::Message m = base(frame, cseq, method, to_tag, branch, from_tag);
    m.request = true;
    m.method = method;
    m.flow = caller_to_proxy();
    return m;
}

// A response; its Contact is the endpoint's own (one per To tag) unless `contact` says otherwise ("-":
// none, as a proxy's 200 OK to CANCEL).
sip::Message resp(std::uint32_t frame, std::uint32_t status, const std::string& reason, std::uint32_t cseq,
                  const std::string& method, const std::string& to_tag, const std::string& branch,
                  const std::string& agent = "", const std::string& epid = "", std::string contact = "") {
    sip::Message m = base(frame, cseq, method, to_tag, branch, kCaller);
    m.status = status;
    m.reason = reason;
    m.user_agent = agent;
    m.to.epid = epid;
    m.flow = reversed(caller_to_proxy());
    if (contact.empty() && !to_tag.empty()) contact = "sip:ua@" + to_tag + ".example.net";
    if (!contact.empty() && contact != "-") {
        m.contacts.emplace_back();
        m.contacts.back().uri = contact;
    }
    return m;
}

// The suite's layers and the tracker, fed in capture order with a clock that only moves forward.
struct Feed {
    explicit Feed(std::size_t max_calls = 20000, sip::DialogLimits limits = {})
        : dialogs(limits), tracker(max_calls) {}
    ForkView operator()(sip::Message m) {
        m.time = clock += kMilli;
        const sip::TxnVerdict t = txns.on_message(m);
        const sip::DialogVerdict d = dialogs.on_message(m, t);
        return tracker.observe(m, t, d);
    }
    sip::TransactionLayer txns;
    sip::DialogLayer dialogs;
    CallForkTracker tracker;
    Nanos clock = 1000 * kSecond;
};

// What a test expects of one ForkView.
struct Expect {
    std::uint32_t endpoint, count, answered_by;
    std::string transaction;
    std::uint32_t request_frame;
    bool reveals_fork, answers_call, ends_branch;
};

void check(const ForkView& v, const Expect& e) {
    EXPECT_TRUE(v.in_call);
    EXPECT_EQ(v.endpoint, e.endpoint);
    EXPECT_EQ(v.endpoint_count, e.count);
    EXPECT_EQ(v.answered_by, e.answered_by);
    EXPECT_EQ(v.transaction, e.transaction);
    EXPECT_EQ(v.request_frame, e.request_frame);
    EXPECT_EQ(v.reveals_fork, e.reveals_fork);
    EXPECT_EQ(v.answers_call, e.answers_call);
    EXPECT_EQ(v.ends_branch, e.ends_branch);
}

TEST(CallForkTracker, FieldCase002) {
    Feed t;
    sip::Message progress = resp(6, 101, "Progress Report", 1, "INVITE", "", "b1");
    progress.index = 1;
    const std::vector<std::pair<sip::Message, Expect>> flow = {
        {req(4, "INVITE", 1, "", "b1"), {0, 0, 0, "initial INVITE (CSeq 1)", 0, false, false, false}},
        {resp(6, 100, "Trying", 1, "INVITE", "", "b1"), {0, 0, 0, "initial INVITE (CSeq 1)", 4, false, false, false}},
        {progress, {0, 0, 0, "initial INVITE (CSeq 1)", 4, false, false, false}},
        {resp(9, 183, "Session Progress", 1, "INVITE", kOc, "b1", kOcAgent, "aad34505db"),
         {1, 1, 0, "initial INVITE (CSeq 1)", 4, false, false, false}},
        {req(11, "PRACK", 2, kOc, "b2"), {1, 1, 0, "PRACK (CSeq 2)", 0, false, false, false}},
        {resp(13, 200, "OK", 2, "PRACK", kOc, "b2", kOcAgent), {1, 1, 0, "PRACK (CSeq 2)", 11, false, false, false}},
        {resp(15, 183, "Session Progress", 1, "INVITE", kPhone, "b1", kPhoneAgent, "2798f0b3cc"),
         {2, 2, 0, "initial INVITE (CSeq 1)", 4, true, false, false}},
        {req(17, "PRACK", 2, kPhone, "b3"), {2, 2, 0, "PRACK (CSeq 2)", 0, false, false, false}},
        {resp(19, 200, "OK", 2, "PRACK", kPhone, "b3", kPhoneAgent), {2, 2, 0, "PRACK (CSeq 2)", 17, false, false, false}},
        {resp(22, 200, "OK", 1, "INVITE", kPhone, "b1", kPhoneAgent), {2, 2, 2, "initial INVITE (CSeq 1)", 4, false, true, false}},
        {req(24, "ACK", 1, kPhone, "b4"), {2, 2, 2, "ACK (CSeq 1)", 0, false, false, false}},
        {req(27, "INVITE", 3, kPhone, "b5"), {2, 2, 2, "re-INVITE (CSeq 3)", 0, false, false, false}},
        {resp(30, 200, "OK", 3, "INVITE", kPhone, "b5", kPhoneAgent), {2, 2, 2, "re-INVITE (CSeq 3)", 27, false, false, false}},
    };
    for (const auto& [m, e] : flow) {
        SCOPED_TRACE(m.frame);
        check(t(m), e);
    }
    ASSERT_EQ(t.tracker.size(), 1u);
    const Call& c = t.tracker.call(0);
    EXPECT_EQ(c.invite_frame, 4u);
    EXPECT_EQ(c.answered_by, 2u);
    EXPECT_EQ(c.answer_frame, 22u);
    EXPECT_EQ(c.fork_frame, 15u);
    ASSERT_EQ(c.endpoints.size(), 2u);
    EXPECT_EQ(c.endpoints[0].epid, "aad34505db");
    EXPECT_EQ(c.endpoints[0].agent, kOcAgent);
    EXPECT_EQ(c.endpoints[0].final_status, 0u);
    EXPECT_EQ(c.endpoints[0].last_frame, 13u);  // its 200 OK to PRACK: the losing-branch note goes there
    EXPECT_EQ(c.endpoints[1].epid, "2798f0b3cc");
    EXPECT_EQ(c.endpoints[1].final_status, 200u);
    EXPECT_EQ(c.endpoints[1].last_frame, 30u);
    // The OC's branch never got a final response: a consequence of the phone's answer (frame 22).
    EXPECT_EQ(branch_ended_by(c, 1), 22u);
    EXPECT_EQ(branch_ended_by(c, 2), 0u);  // the answer itself
}

// Field case 002 as captures/mssip_ocs_mpop_call.pcap has it: OCS's responses carry a top Via without
// branch, so the transaction layer matches them to no request (RFC 3261 section 17.1.3); each still
// names the latest request of its CSeq in the call.
TEST(CallForkTracker, ResponsesWithoutViaBranchNameTheirCallsRequest) {
    Feed t;
    t(req(4, "INVITE", 1, "", "b1"));
    check(t(resp(9, 183, "Session Progress", 1, "INVITE", kOc, "")), {1, 1, 0, "initial INVITE (CSeq 1)", 4, false, false, false});
    t(req(11, "PRACK", 2, kOc, "b2"));
    check(t(resp(13, 200, "OK", 2, "PRACK", kOc, "")), {1, 1, 0, "PRACK (CSeq 2)", 11, false, false, false});
    check(t(resp(15, 183, "Session Progress", 1, "INVITE", kPhone, "")), {2, 2, 0, "initial INVITE (CSeq 1)", 4, true, false, false});
    t(req(17, "PRACK", 2, kPhone, "b3"));
    check(t(resp(19, 200, "OK", 2, "PRACK", kPhone, "")), {2, 2, 0, "PRACK (CSeq 2)", 17, false, false, false});
    check(t(resp(22, 200, "OK", 1, "INVITE", kPhone, "")), {2, 2, 2, "initial INVITE (CSeq 1)", 4, false, true, false});
    t(req(27, "INVITE", 3, kPhone, "b5"));
    check(t(resp(30, 200, "OK", 3, "INVITE", kPhone, "")), {2, 2, 2, "re-INVITE (CSeq 3)", 27, false, false, false});
    // With a branch, only the transaction layer links: a response of an unseen transaction links nowhere.
    check(t(resp(31, 200, "OK", 3, "INVITE", kPhone, "zz")), {2, 2, 2, "re-INVITE (CSeq 3)", 0, false, false, false});
}

TEST(CallForkTracker, ProxyViewOfThreeEndpointFork) {
    // Frames of captures/mssip_three_endpoint_fork.pcap: a1 is the caller's branch, p1..p3 the proxy's.
    Feed t;
    t(req(1, "INVITE", 1, "", "a1"));
    for (std::uint32_t n = 1; n <= 3; ++n) t(req(2 + n, "INVITE", 1, "", "p" + std::to_string(n)));
    check(t(resp(6, 180, "Ringing", 1, "INVITE", "t1", "p1", "desk")), {1, 1, 0, "initial INVITE (CSeq 1)", 3, false, false, false});
    check(t(resp(7, 180, "Ringing", 1, "INVITE", "t1", "a1", "desk")), {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    check(t(resp(8, 180, "Ringing", 1, "INVITE", "t2", "p2", "mobile")), {2, 2, 0, "initial INVITE (CSeq 1)", 4, true, false, false});
    t(resp(9, 180, "Ringing", 1, "INVITE", "t2", "a1", "mobile"));
    check(t(resp(10, 180, "Ringing", 1, "INVITE", "t3", "p3", "soft")), {3, 3, 0, "initial INVITE (CSeq 1)", 5, false, false, false});
    t(resp(11, 180, "Ringing", 1, "INVITE", "t3", "a1", "soft"));
    check(t(resp(12, 200, "OK", 1, "INVITE", "t2", "p2", "mobile")), {2, 3, 2, "initial INVITE (CSeq 1)", 4, false, true, false});
    check(t(resp(13, 200, "OK", 1, "INVITE", "t2", "a1", "mobile")), {2, 3, 2, "initial INVITE (CSeq 1)", 1, false, false, false});
    // CANCELs carry no To tag: the INVITE transaction they cancel names the endpoint (the caller's
    // transaction a1 carried all three endpoints' responses, so it names none).
    check(t(req(14, "CANCEL", 1, "", "p1")), {1, 3, 2, "CANCEL (CSeq 1)", 0, false, false, false});
    check(t(req(15, "CANCEL", 1, "", "p3")), {3, 3, 2, "CANCEL (CSeq 1)", 0, false, false, false});
    check(t(req(99, "CANCEL", 1, "", "a1")), {0, 3, 2, "CANCEL (CSeq 1)", 0, false, false, false});
    check(t(resp(16, 200, "OK", 1, "CANCEL", "t1", "p1", "desk", "", "-")), {1, 3, 2, "CANCEL (CSeq 1)", 14, false, false, false});
    check(t(resp(17, 487, "Request Terminated", 1, "INVITE", "t1", "p1", "desk")),
          {1, 3, 2, "initial INVITE (CSeq 1)", 3, false, false, true});
    check(t(resp(20, 487, "Request Terminated", 1, "INVITE", "t3", "p3", "soft")),
          {3, 3, 2, "initial INVITE (CSeq 1)", 5, false, false, true});
    // A retransmitted 487 does not end the branch twice.
    EXPECT_FALSE(t(resp(21, 487, "Request Terminated", 1, "INVITE", "t3", "p3", "soft")).ends_branch);
    const Call& c = t.tracker.call(0);
    EXPECT_EQ(c.endpoints[0].final_status, 487u);
    EXPECT_EQ(c.endpoints[0].final_reason, "Request Terminated");
    EXPECT_EQ(c.endpoints[0].final_frame, 17u);
    EXPECT_EQ(c.endpoints[2].final_frame, 20u);
    // Both losing branches were cancelled after the answer in frame 12: its consequences.
    EXPECT_EQ(branch_ended_by(c, 1), 12u);
    EXPECT_EQ(branch_ended_by(c, 3), 12u);
    EXPECT_EQ(branch_ended_by(c, 2), 0u);
    EXPECT_EQ(branch_ended_by(c, 0), 0u);
    EXPECT_EQ(branch_ended_by(c, 4), 0u);
}

// A branch that failed on its own (busy), or was cancelled before anyone answered, is no consequence
// of a later answer; nor is anything when nobody answered.
TEST(BranchEndedBy, OnlyBranchesTheAnswerEnded) {
    Call c;
    c.endpoints.resize(3);
    c.endpoints[0].final_status = 486;
    c.endpoints[0].final_frame = 8;
    c.endpoints[2].final_status = 487;
    c.endpoints[2].final_frame = 9;
    EXPECT_EQ(branch_ended_by(c, 1), 0u);  // nobody answered yet
    EXPECT_EQ(branch_ended_by(c, 3), 0u);
    c.answered_by = 2;
    c.answer_frame = 12;
    c.endpoints[1].final_status = 200;
    c.endpoints[1].final_frame = 12;
    EXPECT_EQ(branch_ended_by(c, 1), 0u);  // busy before the answer: stands alone
    EXPECT_EQ(branch_ended_by(c, 3), 0u);  // cancelled before the answer
    c.endpoints[2].final_frame = 14;
    EXPECT_EQ(branch_ended_by(c, 3), 12u);
}

TEST(CallForkTracker, UnforkedCallAndCalleeBye) {
    Feed t;
    t(req(1, "INVITE", 1, "", "x1"));
    check(t(resp(3, 180, "Ringing", 1, "INVITE", "c1", "x1", "carol")), {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    check(t(resp(4, 200, "OK", 1, "INVITE", "c1", "x1", "carol")), {1, 1, 1, "initial INVITE (CSeq 1)", 1, false, true, false});
    // The callee hangs up: its BYE has its own tag in From and the caller's in To.
    sip::Message bye = req(6, "BYE", 7, kCaller, "y1", "c1");
    bye.flow = reversed(bye.flow);
    const ForkView by_callee = t(bye);
    check(by_callee, {1, 1, 1, "BYE (CSeq 7)", 0, false, false, false});
    EXPECT_TRUE(by_callee.from_endpoint);
    sip::Message ok = resp(7, 200, "OK", 7, "BYE", kCaller, "y1", "", "", "-");
    ok.from.tag = "c1";
    ok.flow = reversed(ok.flow);
    const ForkView v = t(ok);
    check(v, {1, 1, 1, "BYE (CSeq 7)", 6, false, false, false});
    EXPECT_FALSE(v.from_endpoint);
}

TEST(CallForkTracker, ProxyResponsesBelow180AreNoEndpoint) {
    Feed t;
    t(req(1, "INVITE", 1, "", "x1"));
    const ForkView v = t(resp(2, 101, "Progress Report", 1, "INVITE", "proxytag", "x1", "InboundRouting/3.5.0.0"));
    EXPECT_EQ(v.endpoint, 0u);
    EXPECT_EQ(v.endpoint_count, 0u);
}

TEST(CallForkTracker, InviteResentAfterChallengeIsStillInitial) {
    Feed t;
    t(req(1, "INVITE", 1, "", "x1"));
    // A proxy's challenge creates no dialog (RFC 3261 section 12.1): it is no endpoint of the callee.
    check(t(resp(2, 407, "Proxy Authentication Required", 1, "INVITE", "proxytag", "x1")),
          {0, 0, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    check(t(req(4, "INVITE", 2, "", "x2")), {0, 0, 0, "initial INVITE (CSeq 2)", 0, false, false, false});
    check(t(resp(6, 200, "OK", 2, "INVITE", "b1", "x2", "bob")), {1, 1, 1, "initial INVITE (CSeq 2)", 4, false, true, false});
    EXPECT_EQ(t.tracker.call(0).invite_cseq, 2u);
}

// Issue 15: a proxy answers CANCEL itself with its own To tag (RFC 3261 section 16.10). That 200 OK is in
// no dialog, so it is no endpoint: before, it was counted as one ("Call forked to 2 endpoints", then
// "Losing branch") on a call that reached one endpoint.
TEST(CallForkTracker, ProxysOwnTagOnTheCancelResponseIsNoEndpoint) {
    Feed t;
    t(req(1, "INVITE", 1, "", "x1"));
    check(t(resp(3, 180, "Ringing", 1, "INVITE", "uas", "x1", "echo")), {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    check(t(req(4, "CANCEL", 1, "", "x1")), {1, 1, 0, "CANCEL (CSeq 1)", 0, false, false, false});
    const ForkView ok = t(resp(5, 200, "canceling", 1, "CANCEL", "proxytag", "x1", "SER", "", "-"));
    check(ok, {0, 1, 0, "CANCEL (CSeq 1)", 4, false, false, false});
    check(t(resp(6, 487, "Request Terminated", 1, "INVITE", "uas", "x1", "echo")),
          {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, true});
    EXPECT_EQ(t.tracker.call(0).endpoints.size(), 1u);
}

// Issue 15: a B2BUA (Avaya CM, captures/siplayer_b2bua_totag_change.pcap) sends 180 with one To tag and
// 200 OK with another, from the same Contact and Record-Route: one endpoint that changed its tag.
TEST(CallForkTracker, B2buaChangingItsToTagIsOneEndpoint) {
    Feed t;
    t(req(1, "INVITE", 1, "", "x1"));
    sip::Message ringing = resp(8, 180, "Ringing", 1, "INVITE", "806d", "x1", "", "", "sip:10.186.205.131:5060;transport=tcp");
    ringing.record_route = {"sip:10.186.205.131:5060;transport=tcp;lr"};
    sip::Message answer = ringing;
    answer.frame = 12;
    answer.status = 200;
    answer.reason = "OK";
    answer.to.tag = "0603";
    check(t(ringing), {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    const ForkView v = t(answer);
    check(v, {1, 1, 1, "initial INVITE (CSeq 1)", 1, false, true, false});
    EXPECT_TRUE(v.tag_changed);
    check(t(req(13, "ACK", 1, "0603", "x2")), {1, 1, 1, "ACK (CSeq 1)", 0, false, false, false});
    check(t(req(14, "BYE", 2, "806d", "x3")), {1, 1, 1, "BYE (CSeq 2)", 0, false, false, false});
    EXPECT_EQ(t.tracker.call(0).endpoints[0].tags, (std::vector<std::string>{"806d", "0603"}));
}

// The twin (captures/siplayer_fork_proxy.pcap): the same Record-Route (the proxy's), two Contacts.
TEST(CallForkTracker, TwoContactsBehindOneProxyAreAFork) {
    Feed t;
    t(req(1, "INVITE", 1, "", "x1"));
    sip::Message desk = resp(8, 180, "Ringing", 1, "INVITE", "a1b2", "x1", "", "", "sip:4006@10.186.205.151:5060");
    sip::Message soft = resp(10, 180, "Ringing", 1, "INVITE", "9f8e", "x1", "", "", "sip:4006@10.186.205.152:5060");
    desk.record_route = soft.record_route = {"sip:10.186.205.140:5060;transport=tcp;lr"};
    check(t(desk), {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    const ForkView v = t(soft);
    check(v, {2, 2, 0, "initial INVITE (CSeq 1)", 1, true, false, false});
    EXPECT_FALSE(v.tag_changed);
}

// A PBX (goffinet voip-extension, frames 584-603) first answers 180 itself, with its own To tag and no
// Contact, then relays the phone's 180 and 200 (the phone's tag and Contact, the same Record-Route): one
// endpoint, the phone, not "Call forked to 2 endpoints". A second phone behind it is still a fork.
TEST(CallForkTracker, PbxsOwnRingingWithoutContactIsNoSecondEndpoint) {
    Feed t;
    t(req(581, "INVITE", 1, "", "x1"));
    const std::vector<std::string> route = {"sip:192.168.5.11:7818;lr"};
    sip::Message pbx = resp(584, 180, "Ringing", 1, "INVITE", "8ff1eedd1f", "x1", "MSFTRP 2.0", "", "-");
    sip::Message phone = resp(596, 180, "Ringing", 1, "INVITE", "4918467", "x1", "YV5/1.1.4", "", "sip:204@192.168.5.20:5060");
    sip::Message other = resp(597, 180, "Ringing", 1, "INVITE", "77aa", "x1", "YV5/1.1.4", "", "sip:205@192.168.5.21:5060");
    pbx.record_route = phone.record_route = other.record_route = route;
    check(t(pbx), {1, 1, 0, "initial INVITE (CSeq 1)", 581, false, false, false});
    const ForkView v = t(phone);
    check(v, {1, 1, 0, "initial INVITE (CSeq 1)", 581, false, false, false});
    EXPECT_TRUE(v.tag_changed);
    EXPECT_EQ(t.tracker.call(0).endpoints[0].agent, "YV5/1.1.4");
    check(t(other), {2, 2, 0, "initial INVITE (CSeq 1)", 581, true, false, false});
}

TEST(CallForkTracker, IgnoresOtherMessagesAndIsBounded) {
    Feed t(1);
    EXPECT_FALSE(t(resp(1, 200, "OK", 1, "INVITE", "z", "q")).in_call);  // no INVITE seen
    EXPECT_FALSE(t(req(2, "REGISTER", 1, "", "r1")).in_call);
    EXPECT_FALSE(t(req(3, "INVITE", 1, "", "r2", "")).in_call);
    EXPECT_TRUE(t(req(4, "INVITE", 1, "", "r3")).in_call);
    sip::Message second = req(5, "INVITE", 1, "", "r4");
    second.call_id = "another";
    const ForkView v = t(second);
    EXPECT_FALSE(v.in_call);
    EXPECT_TRUE(v.not_tracked_full);
    EXPECT_EQ(t.tracker.size(), 1u);
}

TEST(CallForkTracker, EndpointsPerCallAreBounded) {
    sip::DialogLimits limits;
    limits.max_forks = 1000;  // the dialog layer's own bound (16 per request by default) is not tested here
    Feed t(20000, limits);
    t(req(1, "INVITE", 1, "", "x1"));
    for (std::uint32_t n = 0; n < CallForkTracker::kMaxEndpoints + 3; ++n) {
        const ForkView v = t(resp(2 + n, 180, "Ringing", 1, "INVITE", "tag" + std::to_string(n), "x1"));
        EXPECT_EQ(v.endpoint, n < CallForkTracker::kMaxEndpoints ? n + 1 : 0u);
    }
    EXPECT_EQ(t.tracker.call(0).endpoints.size(), CallForkTracker::kMaxEndpoints);
}

// Bug: every response with a new top Via branch added to the call's branch map, without bound.
TEST(CallForkTracker, TransactionsPerCallAreBounded) {
    Feed t;
    t(req(1, "INVITE", 1, "", "x1"));
    for (std::uint32_t n = 0; n < CallForkTracker::kMaxTransactions + 10; ++n)
        t(resp(2 + n, 180, "Ringing", 1, "INVITE", "t1", "b" + std::to_string(n)));
    EXPECT_EQ(t.tracker.transactions(0), CallForkTracker::kMaxTransactions);
    // A transaction remembered before the bound still names its endpoint.
    EXPECT_EQ(t(req(9000, "CANCEL", 1, "", "b0")).endpoint, 1u);
}

// Issue 14: 20,000 initial INVITEs sharing one Call-ID, each with its own From tag (a hostile or broken
// client): each message finds its call by (Call-ID, tag), not by a pass over the Call-ID's calls; a
// message whose To tag is an older call's caller tag goes to that older call (the first in creation
// order, as the pass did).
TEST(CallFork, ManyCallsSharingACallIdAreFoundByTag) {
    Feed t(100000);
    constexpr std::uint32_t kCalls = 20000;
    for (std::uint32_t i = 0; i < kCalls; ++i) {
        const ForkView v = t(req(i + 1, "INVITE", 1, "", "b" + std::to_string(i), "caller" + std::to_string(i)));
        ASSERT_TRUE(v.in_call);
        ASSERT_EQ(v.call, i);
    }
    sip::Message r = resp(kCalls + 1, 180, "Ringing", 1, "INVITE", "callee", "b7");
    r.from.tag = "caller7";
    ForkView v = t(r);
    EXPECT_EQ(v.call, 7u);
    EXPECT_EQ(v.endpoint, 1u);
    EXPECT_EQ(v.request_frame, 8u);
    // From tag of call 9000, To tag of call 12: the older call (12), sent to its caller.
    v = t(req(kCalls + 2, "BYE", 2, "caller12", "bx", "caller9000"));
    EXPECT_EQ(v.call, 12u);
    // From tag of call 12, To tag of call 9000: call 12, sent by its caller. Neither BYE is in a dialog
    // the dialog layer knows, so neither names an endpoint.
    v = t(req(kCalls + 3, "BYE", 3, "caller9000", "by", "caller12"));
    EXPECT_EQ(v.call, 12u);
    EXPECT_EQ(v.endpoint, 0u);
    EXPECT_EQ(v.endpoint_count, 0u);
}

}  // namespace
}  // namespace sipsleuth::core
