// SPDX-License-Identifier: GPL-2.0-or-later
// Forked INVITEs (RFC 3261 sections 16.7 and 13.2.2.4): a proxy that rings several registered endpoints
// of the callee (Microsoft's MPOP, simultaneous ring, several registrations) gets one early dialog per
// endpoint, told apart by the To tag (Microsoft adds the endpoint's `epid`). Field case 002: an OCS 2007
// R2 call to a user signed in on Office Communicator and on OC Phone; two 183s with their own tag and
// epid, a 200 OK from the phone, and 200 OKs of several transactions (INVITE, PRACK, re-INVITE) told
// apart only by CSeq. CallForkTracker follows each call (Call-ID and the caller's From tag, from the
// initial INVITE on), numbers its remote endpoints in order of appearance, and names the transaction
// of each message.
//
// It reads the suite's one SIP model and the verdicts of the one transaction and dialog layer
// (core/sip/transaction.h, core/sip/dialog.h), so it does not match anything itself: a response's
// request is its transaction's (RFC 3261 section 17.1.3), and only a message the dialog layer puts in a
// dialog can name an endpoint (a proxy's 200 OK to CANCEL, with the proxy's own To tag, is in none:
// RFC 3261 section 16.10). A dialog of a new To tag is a new endpoint unless its creating response has
// the same Contact and Record-Route as an endpoint's (sip::distinct_endpoints): a B2BUA that changes its
// To tag between 180 and 200 stays one endpoint. It sees messages in capture order, once each (the
// first pass), and is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/sip/dialog.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"

namespace sipsleuth::core {

/// One remote endpoint of a call: a UAS with one dialog (RFC 3261 section 12.1), or several To tags
/// whose creating responses show the same Contact and route (a B2BUA that changed its tag).
struct CallEndpoint {
    std::vector<std::string> tags;  ///< its To tags, the first first; at most kMaxTagsPerEndpoint
    std::string epid, gruu_epid, agent;
    sip::Dialog evidence;  ///< `created` holds the response that opened the endpoint (Contact, routes)
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
    std::uint32_t request_frame = 0;   ///< a response: frame of its transaction's request, 0 if not seen
    bool reveals_fork = false;   ///< the first message showing a second endpoint
    bool answers_call = false;   ///< the first 2xx to the initial INVITE
    bool ends_branch = false;    ///< an endpoint's final non-2xx response to the initial INVITE
    bool tag_changed = false;    ///< a new To tag of a known endpoint (same Contact and route)
    bool not_tracked_full = false;  ///< an initial INVITE not tracked: max_calls reached
};

class CallForkTracker {
public:
    /// At most max_calls calls are followed; later initial INVITEs get not_tracked_full.
    explicit CallForkTracker(std::size_t max_calls = 20000) : max_calls_(max_calls) {}

    /// Takes the next message in capture order with the transaction and dialog layers' verdicts on it
    /// (TransactionLayer::on_message, then DialogLayer::on_message) and says what it is within its call.
    ForkView observe(const sip::Message& m, const sip::TxnVerdict& txn, const sip::DialogVerdict& dialog);
    const Call& call(std::uint32_t index) const { return calls_[index].call; }
    std::size_t size() const { return calls_.size(); }
    /// Transactions remembered for call index with the endpoint they went to (bounded by kMaxTransactions).
    std::size_t transactions(std::uint32_t index) const { return calls_[index].txn_endpoint.size(); }

    static constexpr std::size_t kMaxEndpoints = 64;        ///< per call; later ones are not numbered
    static constexpr std::size_t kMaxTagsPerEndpoint = 8;   ///< To tags one endpoint may change to
    static constexpr std::size_t kMaxTransactions = 512;    ///< per call, for CANCEL and ACK links
    static constexpr std::size_t kMaxRequests = 512;        ///< per call, for responses without a branch
    static constexpr std::size_t kMaxText = 1024;           ///< bytes of an agent or reason kept

private:
    /// A request of the call, for responses without a top Via branch (see name_transaction).
    struct Request {
        std::uint32_t cseq = 0;
        std::string method, branch;
        std::uint32_t frame = 0;
        bool initial = false;
    };
    struct State {
        Call call;
        std::vector<Request> requests;  ///< at most kMaxRequests
        /// INVITE transactions of the call and the endpoint whose responses they carried (0: several):
        /// a CANCEL, or an ACK to a non-2xx, without To tag names its endpoint through them.
        std::unordered_map<sip::TxnId, std::uint32_t> txn_endpoint;
    };
    State* find_call(const sip::Message& m, std::uint32_t& index, bool& from_caller);
    std::uint32_t endpoint_of(State& s, const sip::Message& m, const sip::DialogVerdict& dialog,
                              const std::string& remote_tag, bool sent_by_endpoint, ForkView& v);
    void remember(State& s, std::uint32_t ep, const sip::Message& m, const sip::TxnVerdict& txn);
    void name_transaction(State& s, const sip::Message& m, const sip::TxnVerdict& txn, bool initial_invite,
                          ForkView& v);
    static std::string label(std::string_view method, bool initial, std::uint32_t cseq);

    std::size_t max_calls_;
    std::vector<State> calls_;
    /// Hash of (Call-ID, caller tag) -> index in calls_ (one call per pair: a call is made only when no
    /// call of the Call-ID has the tag; find_index checks the call's own values).
    std::unordered_multimap<std::uint64_t, std::uint32_t> by_caller_;
    static std::uint64_t caller_key(std::string_view call_id, std::string_view caller_tag);
    const std::uint32_t* find_index(std::string_view call_id, std::string_view caller_tag) const;
};

/// The answer that ended endpoint `number`'s (1-based) branch of a call, as a consequence: another
/// endpoint answered, and this one was cancelled after it (487 at a later frame) or never sent a final
/// response (RFC 3261 section 16.7: a forking proxy cancels the other branches once one answers).
/// Returns that answer's frame, or 0 when the branch ended on its own (486, 480, ... or a 487 before
/// the answer) or nobody else answered.
std::uint32_t branch_ended_by(const Call& call, std::uint32_t number);

}  // namespace sipsleuth::core
