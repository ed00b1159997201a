// SPDX-License-Identifier: GPL-2.0-or-later
// See call_fork.h. Direction comes from the tags: a message whose From tag is the caller's goes from
// the caller to the endpoint named by its To tag (responses to the caller's requests come back the same
// way); one whose To tag is the caller's is the endpoint's own request (a BYE or re-INVITE from the
// callee). Only 18x and 2xx responses open an endpoint, as only they create dialogs (RFC 3261 section
// 12.1): 100 Trying and Microsoft's 101 Progress Report come from proxies, and a 401/407 challenge or a
// proxy's own error response is no endpoint of the callee. A CANCEL has no To tag; it names its branch
// by the top Via branch it shares with the INVITE it cancels (RFC 3261 section 9.1), which the
// endpoint's responses on that leg carry too.
#include "sipsleuth/core/call_fork.h"

namespace sipsleuth::core {

std::uint32_t CallForkTracker::find_endpoint(const State& s, const std::string& tag) const {
    for (std::size_t i = 0; i < s.call.endpoints.size(); ++i)
        if (s.call.endpoints[i].tag == tag) return static_cast<std::uint32_t>(i + 1);
    return 0;
}

std::string CallForkTracker::label(const std::string& method, bool tagless_invite,
                                   std::uint32_t cseq) {
    const std::string n = " (CSeq " + std::to_string(cseq) + ")";
    if (method == "INVITE") return (tagless_invite ? "initial INVITE" : "re-INVITE") + n;
    return method + n;
}

ForkView CallForkTracker::observe(const SipMessageFacts& m) {
    ForkView v;
    if (m.call_id.empty() || m.from_tag.empty()) return v;

    // Which call, and which side sent the message.
    State* s = nullptr;
    std::uint32_t index = 0;
    bool from_caller = false;
    if (by_call_id_.count(m.call_id)) {
        // The first call of the Call-ID (in creation order) whose caller tag is the From tag (sent by
        // the caller) or the To tag (sent to it): two look-ups, not a pass over the Call-ID's calls.
        const auto from = by_caller_.find(m.call_id + '\n' + m.from_tag);
        const auto to = m.to_tag.empty() ? by_caller_.end() : by_caller_.find(m.call_id + '\n' + m.to_tag);
        if (from != by_caller_.end() && (to == by_caller_.end() || from->second <= to->second)) {
            from_caller = true;
            index = from->second;
            s = &calls_[index];
        } else if (to != by_caller_.end()) {
            index = to->second;
            s = &calls_[index];
        }
    }
    const bool initial_invite = m.is_request && m.method == "INVITE" && m.to_tag.empty();
    if (!s) {
        if (!initial_invite) return v;
        if (calls_.size() >= max_calls_) {
            v.not_tracked_full = true;
            return v;
        }
        index = static_cast<std::uint32_t>(calls_.size());
        calls_.emplace_back();
        s = &calls_.back();
        s->call.call_id = m.call_id;
        s->call.caller_tag = m.from_tag;
        s->call.invite_frame = m.frame;
        s->call.invite_cseq = m.cseq;
        by_call_id_[m.call_id].push_back(index);
        by_caller_.emplace(m.call_id + '\n' + m.from_tag, index);
        from_caller = true;
    }
    Call& c = s->call;
    v.in_call = true;
    v.call = index;

    // The endpoint: the other side's tag, or for a tag-less CANCEL/ACK the branch it was sent on.
    const std::string& remote_tag = from_caller ? m.to_tag : m.from_tag;
    const bool sent_by_endpoint = m.is_request ? !from_caller : from_caller;
    std::uint32_t ep = remote_tag.empty() ? 0 : find_endpoint(*s, remote_tag);
    if (!ep && !remote_tag.empty() && sent_by_endpoint && (m.is_request || (m.status >= 180 && m.status < 300)) &&
        c.endpoints.size() < kMaxEndpoints) {
        CallEndpoint e;
        e.tag = remote_tag;
        e.first_frame = m.frame;
        c.endpoints.push_back(std::move(e));
        ep = static_cast<std::uint32_t>(c.endpoints.size());
        if (c.endpoints.size() == 2) {
            v.reveals_fork = true;
            c.fork_frame = m.frame;
        }
    }
    if (!ep && remote_tag.empty() && m.is_request && from_caller && m.method != "INVITE" && !m.via_branch.empty()) {
        if (auto b = s->branch_endpoint.find(m.via_branch); b != s->branch_endpoint.end()) ep = b->second;
    }
    if (ep && sent_by_endpoint) {
        CallEndpoint& e = c.endpoints[ep - 1];
        const std::string& epid = m.is_request ? m.from_epid : m.to_epid;
        if (e.epid.empty()) e.epid = epid;
        if (e.gruu_epid.empty()) e.gruu_epid = m.contact_epid;
        if (e.agent.empty()) e.agent = m.agent;
        e.last_frame = m.frame;
        e.last_slot = m.slot;
        if (!m.is_request && !m.via_branch.empty()) {
            if (auto b = s->branch_endpoint.find(m.via_branch); b != s->branch_endpoint.end()) {
                if (b->second != ep) b->second = 0;
            } else if (s->branch_endpoint.size() < kMaxBranches) {
                s->branch_endpoint.emplace(m.via_branch, ep);
            }
        }
    }
    v.endpoint = ep;
    v.from_endpoint = ep && sent_by_endpoint;

    // The transaction: requests are remembered; a response names the request it answers.
    if (m.is_request) {
        if (initial_invite && m.cseq > c.invite_cseq) c.invite_cseq = m.cseq;  // resent after a 401/407
        const std::string method = m.cseq_method.empty() ? m.method : m.cseq_method;
        v.transaction = label(method, initial_invite, m.cseq);
        bool known = false;
        for (const Request& r : s->requests)
            if (r.cseq == m.cseq && r.method == method && r.branch == m.via_branch) known = true;
        if (!known && s->requests.size() < kMaxRequests)
            s->requests.push_back({m.cseq, method, m.via_branch, v.transaction, m.frame});
    } else if (m.has_cseq) {
        const Request* match = nullptr;
        for (const Request& r : s->requests) {
            if (r.cseq != m.cseq || r.method != m.cseq_method) continue;
            if (r.branch == m.via_branch) {
                match = &r;
                break;
            }
            if (!match || r.frame > match->frame) match = &r;  // no branch match: the latest such request
        }
        if (match) {
            v.transaction = match->label;
            v.request_frame = match->frame;
        } else {
            v.transaction = label(m.cseq_method, m.cseq == c.invite_cseq, m.cseq);
        }
        const bool to_initial = m.cseq_method == "INVITE" && m.cseq == c.invite_cseq && from_caller;
        if (to_initial && ep && m.status >= 200) {
            CallEndpoint& e = c.endpoints[ep - 1];
            if (e.final_status == 0) {
                e.final_status = m.status;
                e.final_reason = m.reason_phrase;
                e.final_frame = m.frame;
                if (m.status >= 300) v.ends_branch = true;
            }
            if (m.status < 300 && c.answered_by == 0) {
                c.answered_by = ep;
                c.answer_frame = m.frame;
                v.answers_call = true;
            }
        }
    }
    v.endpoint_count = static_cast<std::uint32_t>(c.endpoints.size());
    v.answered_by = c.answered_by;
    return v;
}

}  // namespace sipsleuth::core
