// SPDX-License-Identifier: GPL-2.0-or-later
// Forked INVITEs (RFC 3261 sections 16.7 and 13.2.2.4): a proxy that rings several registered endpoints
// of the callee (Microsoft's MPOP, simultaneous ring, several registrations) gets one early dialog per
// endpoint, told apart by the To tag (Microsoft adds the endpoint's `epid`). Field case 002: an OCS 2007
// R2 call to a user signed in on Office Communicator and on OC Phone; two 183s with their own tag and
// epid, a 200 OK from the phone, and 200 OKs of several transactions (INVITE, PRACK, re-INVITE) told
// apart only by CSeq. CallForkTracker follows each call (Call-ID and the caller's From tag, from the
// initial INVITE on), numbers its remote endpoints in order of appearance, and names the transaction
// of each message. It sees messages in capture order, once each (the first pass), and is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sipsleuth::core {

/// What the tracker needs of one SIP message (strings empty when the header is absent).
struct SipMessageFacts {
    std::uint32_t frame = 0;
    std::uint32_t slot = 0;  ///< index of the message in its frame
    std::string call_id, from_tag, to_tag;
    bool is_request = false;
    std::string method;        ///< request method
    std::uint32_t status = 0;  ///< response status code
    std::string reason_phrase;
    bool has_cseq = false;
    std::uint32_t cseq = 0;
    std::string cseq_method;
    std::string agent;  ///< User-Agent, else Server
    std::string from_epid, to_epid, contact_epid;
    std::string via_branch;  ///< branch of the top Via
};

/// One remote endpoint of a call (a distinct To tag of a response, RFC 3261 section 12.1).
struct CallEndpoint {
    std::string tag, epid, gruu_epid, agent;
    std::uint32_t first_frame = 0;
    std::uint32_t last_frame = 0, last_slot = 0;  ///< last message the endpoint sent
    std::uint32_t final_status = 0;               ///< its final response to the initial INVITE, 0 if none
    std::string final_reason;
    std::uint32_t final_frame = 0;
};

/// One call: the dialogs created by one initial INVITE.
struct Call {
    std::string call_id, caller_tag;
    std::uint32_t invite_frame = 0;
    std::uint32_t invite_cseq = 0;
    std::vector<CallEndpoint> endpoints;
    std::uint32_t answered_by = 0;  ///< endpoint number (1-based) of the first 2xx to the initial INVITE
    std::uint32_t answer_frame = 0;
    std::uint32_t fork_frame = 0;  ///< first message that showed a second endpoint
};

/// What the tracker concluded about one message when it saw it.
struct ForkView {
    bool in_call = false;
    std::uint32_t call = 0;       ///< index for CallForkTracker::call()
    std::uint32_t endpoint = 0;   ///< 1-based; 0 when the message is not tied to one endpoint
    bool from_endpoint = false;   ///< sent by that endpoint (else sent to it)
    std::uint32_t endpoint_count = 0;  ///< endpoints known at that time
    std::uint32_t answered_by = 0;     ///< answering endpoint known at that time, 0 if none yet
    std::string transaction;           ///< "initial INVITE (CSeq 1)", "re-INVITE (CSeq 3)", "PRACK (CSeq 2)"
    std::uint32_t request_frame = 0;   ///< frame of the request a response answers, 0 if not seen
    bool reveals_fork = false;   ///< the first message showing a second endpoint
    bool answers_call = false;   ///< the first 2xx to the initial INVITE
    bool ends_branch = false;    ///< an endpoint's final non-2xx response to the initial INVITE
    bool not_tracked_full = false;  ///< an initial INVITE not tracked: max_calls reached
};

class CallForkTracker {
public:
    /// At most max_calls calls are followed; later initial INVITEs get not_tracked_full.
    explicit CallForkTracker(std::size_t max_calls = 20000) : max_calls_(max_calls) {}

    /// Takes the next message in capture order and says what it is within its call.
    ForkView observe(const SipMessageFacts& m);
    const Call& call(std::uint32_t index) const { return calls_[index].call; }
    /// Whether a call with this Call-ID is followed (a cheap test before gathering a message's facts).
    bool tracks(std::string_view call_id) const { return by_call_id_.count(std::string(call_id)) != 0; }
    std::size_t size() const { return calls_.size(); }
    /// Via branches remembered for call index (bounded by kMaxBranches).
    std::size_t branches(std::uint32_t index) const { return calls_[index].branch_endpoint.size(); }

    static constexpr std::size_t kMaxEndpoints = 64;   ///< per call; later ones are not numbered
    static constexpr std::size_t kMaxRequests = 512;   ///< per call, for response-to-request links
    static constexpr std::size_t kMaxBranches = 512;   ///< per call, Via branches of responses (CANCEL links)

private:
    struct Request {
        std::uint32_t cseq;
        std::string method, branch, label;
        std::uint32_t frame;
    };
    struct State {
        Call call;
        std::vector<Request> requests;
        std::unordered_map<std::string, std::uint32_t> branch_endpoint;  ///< 0: several endpoints
    };
    std::uint32_t find_endpoint(const State& s, const std::string& tag) const;
    static std::string label(const std::string& method, bool tagless_invite, std::uint32_t cseq);

    std::size_t max_calls_;
    std::vector<State> calls_;
    std::unordered_map<std::string, std::vector<std::uint32_t>> by_call_id_;
    /// Call-ID \n caller tag -> call (unique: a call is made only when no call of the Call-ID has the tag).
    std::unordered_map<std::string, std::uint32_t> by_caller_;
};

}  // namespace sipsleuth::core
