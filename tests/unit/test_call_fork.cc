// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for call_fork.h: field case 002's message flow (two endpoints, PRACKs of CSeq 2 in each early
// dialog, 200 OK from the phone, re-INVITE CSeq 3), a proxy's view of a three-endpoint fork with CANCEL
// and 487 to the losers, an unforked call, and the bounds.
#include "sipsleuth/core/call_fork.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipsleuth::core {
namespace {

constexpr const char* kCall = "e34305289c3b4c368c583f531fddeff3";
constexpr const char* kCaller = "0fae8454e3";
constexpr const char* kOc = "c34587eaa8";
constexpr const char* kPhone = "97a7d6045d";
constexpr const char* kOcAgent = "UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)";
constexpr const char* kPhoneAgent = "CPE/3.5.6907.0 OCPhone/3.5.6907.0 (Office Communicator Phone 2007 R2)";

SipMessageFacts req(std::uint32_t frame, const std::string& method, std::uint32_t cseq, const std::string& to_tag,
                    const std::string& branch, const std::string& from_tag = kCaller) {
    SipMessageFacts m;
    m.frame = frame;
    m.call_id = kCall;
    m.from_tag = from_tag;
    m.to_tag = to_tag;
    m.is_request = true;
    m.method = method;
    m.has_cseq = true;
    m.cseq = cseq;
    m.cseq_method = method == "ACK" || method == "CANCEL" ? method : method;
    m.via_branch = branch;
    return m;
}

SipMessageFacts resp(std::uint32_t frame, std::uint32_t status, const std::string& reason, std::uint32_t cseq,
                     const std::string& method, const std::string& to_tag, const std::string& branch,
                     const std::string& agent = "", const std::string& epid = "") {
    SipMessageFacts m;
    m.frame = frame;
    m.call_id = kCall;
    m.from_tag = kCaller;
    m.to_tag = to_tag;
    m.status = status;
    m.reason_phrase = reason;
    m.has_cseq = true;
    m.cseq = cseq;
    m.cseq_method = method;
    m.agent = agent;
    m.to_epid = epid;
    m.via_branch = branch;
    return m;
}

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
    CallForkTracker t;
    const std::vector<std::pair<SipMessageFacts, Expect>> flow = {
        {req(4, "INVITE", 1, "", "b1"), {0, 0, 0, "initial INVITE (CSeq 1)", 0, false, false, false}},
        {resp(6, 100, "Trying", 1, "INVITE", "", "b1"), {0, 0, 0, "initial INVITE (CSeq 1)", 4, false, false, false}},
        {resp(6, 101, "Progress Report", 1, "INVITE", "", "b1"), {0, 0, 0, "initial INVITE (CSeq 1)", 4, false, false, false}},
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
        check(t.observe(m), e);
    }
    ASSERT_EQ(t.size(), 1u);
    const Call& c = t.call(0);
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
}

TEST(CallForkTracker, ProxyViewOfThreeEndpointFork) {
    // Frames of captures/mssip_three_endpoint_fork.pcap: a1 is the caller's branch, p1..p3 the proxy's.
    CallForkTracker t;
    t.observe(req(1, "INVITE", 1, "", "a1"));
    for (std::uint32_t n = 1; n <= 3; ++n) t.observe(req(2 + n, "INVITE", 1, "", "p" + std::to_string(n)));
    check(t.observe(resp(6, 180, "Ringing", 1, "INVITE", "t1", "p1", "desk")), {1, 1, 0, "initial INVITE (CSeq 1)", 3, false, false, false});
    check(t.observe(resp(7, 180, "Ringing", 1, "INVITE", "t1", "a1", "desk")), {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    check(t.observe(resp(8, 180, "Ringing", 1, "INVITE", "t2", "p2", "mobile")), {2, 2, 0, "initial INVITE (CSeq 1)", 4, true, false, false});
    t.observe(resp(9, 180, "Ringing", 1, "INVITE", "t2", "a1", "mobile"));
    check(t.observe(resp(10, 180, "Ringing", 1, "INVITE", "t3", "p3", "soft")), {3, 3, 0, "initial INVITE (CSeq 1)", 5, false, false, false});
    t.observe(resp(11, 180, "Ringing", 1, "INVITE", "t3", "a1", "soft"));
    check(t.observe(resp(12, 200, "OK", 1, "INVITE", "t2", "p2", "mobile")), {2, 3, 2, "initial INVITE (CSeq 1)", 4, false, true, false});
    check(t.observe(resp(13, 200, "OK", 1, "INVITE", "t2", "a1", "mobile")), {2, 3, 2, "initial INVITE (CSeq 1)", 1, false, false, false});
    // CANCELs carry no To tag: their branch names the endpoint (branch a1 is shared, so it names none).
    check(t.observe(req(14, "CANCEL", 1, "", "p1")), {1, 3, 2, "CANCEL (CSeq 1)", 0, false, false, false});
    check(t.observe(req(15, "CANCEL", 1, "", "p3")), {3, 3, 2, "CANCEL (CSeq 1)", 0, false, false, false});
    check(t.observe(req(99, "CANCEL", 1, "", "a1")), {0, 3, 2, "CANCEL (CSeq 1)", 0, false, false, false});
    check(t.observe(resp(16, 200, "OK", 1, "CANCEL", "t1", "p1", "desk")), {1, 3, 2, "CANCEL (CSeq 1)", 14, false, false, false});
    check(t.observe(resp(17, 487, "Request Terminated", 1, "INVITE", "t1", "p1", "desk")),
          {1, 3, 2, "initial INVITE (CSeq 1)", 3, false, false, true});
    check(t.observe(resp(20, 487, "Request Terminated", 1, "INVITE", "t3", "p3", "soft")),
          {3, 3, 2, "initial INVITE (CSeq 1)", 5, false, false, true});
    // A retransmitted 487 does not end the branch twice.
    EXPECT_FALSE(t.observe(resp(21, 487, "Request Terminated", 1, "INVITE", "t3", "p3", "soft")).ends_branch);
    const Call& c = t.call(0);
    EXPECT_EQ(c.endpoints[0].final_status, 487u);
    EXPECT_EQ(c.endpoints[0].final_reason, "Request Terminated");
    EXPECT_EQ(c.endpoints[0].final_frame, 17u);
    EXPECT_EQ(c.endpoints[2].final_frame, 20u);
}

TEST(CallForkTracker, UnforkedCallAndCalleeBye) {
    CallForkTracker t;
    t.observe(req(1, "INVITE", 1, "", "x1"));
    check(t.observe(resp(3, 180, "Ringing", 1, "INVITE", "c1", "x1", "carol")), {1, 1, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    check(t.observe(resp(4, 200, "OK", 1, "INVITE", "c1", "x1", "carol")), {1, 1, 1, "initial INVITE (CSeq 1)", 1, false, true, false});
    // The callee hangs up: its BYE has its own tag in From and the caller's in To.
    SipMessageFacts bye = req(6, "BYE", 7, kCaller, "y1", "c1");
    check(t.observe(bye), {1, 1, 1, "BYE (CSeq 7)", 0, false, false, false});
    EXPECT_TRUE(t.observe(bye).from_endpoint);
    SipMessageFacts ok = resp(7, 200, "OK", 7, "BYE", kCaller, "y1");
    ok.from_tag = "c1";
    const ForkView v = t.observe(ok);
    check(v, {1, 1, 1, "BYE (CSeq 7)", 6, false, false, false});
    EXPECT_FALSE(v.from_endpoint);
}

TEST(CallForkTracker, ProxyResponsesBelow180AreNoEndpoint) {
    CallForkTracker t;
    t.observe(req(1, "INVITE", 1, "", "x1"));
    const ForkView v = t.observe(resp(2, 101, "Progress Report", 1, "INVITE", "proxytag", "x1", "InboundRouting/3.5.0.0"));
    EXPECT_EQ(v.endpoint, 0u);
    EXPECT_EQ(v.endpoint_count, 0u);
}

TEST(CallForkTracker, InviteResentAfterChallengeIsStillInitial) {
    CallForkTracker t;
    t.observe(req(1, "INVITE", 1, "", "x1"));
    // A proxy's challenge creates no dialog (RFC 3261 section 12.1): it is no endpoint of the callee.
    check(t.observe(resp(2, 407, "Proxy Authentication Required", 1, "INVITE", "proxytag", "x1")),
          {0, 0, 0, "initial INVITE (CSeq 1)", 1, false, false, false});
    check(t.observe(req(4, "INVITE", 2, "", "x2")), {0, 0, 0, "initial INVITE (CSeq 2)", 0, false, false, false});
    check(t.observe(resp(6, 200, "OK", 2, "INVITE", "b1", "x2", "bob")), {1, 1, 1, "initial INVITE (CSeq 2)", 4, false, true, false});
    EXPECT_EQ(t.call(0).invite_cseq, 2u);
}

TEST(CallForkTracker, IgnoresOtherMessagesAndIsBounded) {
    CallForkTracker t(1);
    EXPECT_FALSE(t.observe(resp(1, 200, "OK", 1, "INVITE", "z", "q")).in_call);  // no INVITE seen
    SipMessageFacts reg = req(2, "REGISTER", 1, "", "r1");
    EXPECT_FALSE(t.observe(reg).in_call);
    SipMessageFacts no_tag = req(3, "INVITE", 1, "", "r2", "");
    EXPECT_FALSE(t.observe(no_tag).in_call);
    EXPECT_TRUE(t.observe(req(4, "INVITE", 1, "", "r3")).in_call);
    SipMessageFacts second = req(5, "INVITE", 1, "", "r4");
    second.call_id = "another";
    const ForkView v = t.observe(second);
    EXPECT_FALSE(v.in_call);
    EXPECT_TRUE(v.not_tracked_full);
    EXPECT_EQ(t.size(), 1u);
}

TEST(CallForkTracker, EndpointsPerCallAreBounded) {
    CallForkTracker t;
    t.observe(req(1, "INVITE", 1, "", "x1"));
    for (std::uint32_t n = 0; n < CallForkTracker::kMaxEndpoints + 3; ++n) {
        const ForkView v = t.observe(resp(2 + n, 180, "Ringing", 1, "INVITE", "tag" + std::to_string(n), "x1"));
        EXPECT_EQ(v.endpoint, n < CallForkTracker::kMaxEndpoints ? n + 1 : 0u);
    }
    EXPECT_EQ(t.call(0).endpoints.size(), CallForkTracker::kMaxEndpoints);
}

// Bug: every response with a new top Via branch added to the call's branch map, without bound.
TEST(CallForkTracker, BranchesPerCallAreBounded) {
    CallForkTracker t;
    t.observe(req(1, "INVITE", 1, "", "x1"));
    for (std::uint32_t n = 0; n < CallForkTracker::kMaxBranches + 10; ++n)
        t.observe(resp(2 + n, 180, "Ringing", 1, "INVITE", "t1", "b" + std::to_string(n)));
    EXPECT_EQ(t.branches(0), CallForkTracker::kMaxBranches);
    // A branch remembered before the bound still names its endpoint.
    EXPECT_EQ(t.observe(req(9000, "CANCEL", 1, "", "b0")).endpoint, 1u);
}

// Issue 14: 20,000 initial INVITEs sharing one Call-ID, each with its own From tag (a hostile or broken
// client): each message finds its call by (Call-ID, tag), not by a pass over the Call-ID's calls; a
// message whose To tag is an older call's caller tag goes to that older call (the first in creation
// order, as the pass did).
TEST(CallFork, ManyCallsSharingACallIdAreFoundByTag) {
    CallForkTracker t(100000);
    constexpr std::uint32_t kCalls = 20000;
    for (std::uint32_t i = 0; i < kCalls; ++i) {
        const ForkView v = t.observe(req(i + 1, "INVITE", 1, "", "b" + std::to_string(i), "caller" + std::to_string(i)));
        ASSERT_TRUE(v.in_call);
        ASSERT_EQ(v.call, i);
    }
    SipMessageFacts r = resp(kCalls + 1, 180, "Ringing", 1, "INVITE", "callee", "b7");
    r.from_tag = "caller7";
    ForkView v = t.observe(r);
    EXPECT_EQ(v.call, 7u);
    EXPECT_EQ(v.endpoint, 1u);
    EXPECT_EQ(v.request_frame, 8u);
    // From tag of call 9000, To tag of call 12: the older call (12), sent to its caller.
    v = t.observe(req(kCalls + 2, "BYE", 2, "caller12", "bx", "caller9000"));
    EXPECT_EQ(v.call, 12u);
    // From tag of call 12, To tag of call 9000: call 12, sent by its caller.
    v = t.observe(req(kCalls + 3, "BYE", 3, "caller9000", "by", "caller12"));
    EXPECT_EQ(v.call, 12u);
    EXPECT_EQ(v.endpoint, 1u);  // the endpoint the previous BYE came from
}

}  // namespace
}  // namespace sipsleuth::core
