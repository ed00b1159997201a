// SPDX-License-Identifier: GPL-2.0-or-later
// See call_fork.h. Direction comes from the tags: a message whose From tag is the caller's goes from
// the caller to the endpoint named by its To tag (responses to the caller's requests come back the same
// way); one whose To tag is the caller's is the endpoint's own request (a BYE or re-INVITE from the
// callee). Only 18x and 2xx responses open an endpoint, and only when the dialog layer puts them in a
// dialog (RFC 3261 section 12.1): 100 Trying and Microsoft's 101 Progress Report come from proxies, a
// 401/407 challenge or a proxy's own error response is no endpoint of the callee, and neither is a
// proxy's 200 OK to CANCEL with its own To tag (section 16.10). A CANCEL has no To tag; it names its
// endpoint through the INVITE transaction it cancels (section 9.1), whose responses came from one
// endpoint on that leg.
#include "sipsleuth/core/call_fork.h"

#include "sipsleuth/core/sip/flat_index.h"

#include "sipsleuth/core/text.h"

namespace sipsleuth::core {
namespace {

std::uint32_t find_endpoint(const Call& c, std::string_view tag) {
    for (std::size_t i = 0; i < c.endpoints.size(); ++i)
        for (const std::string& t : c.endpoints[i].tags)
            if (t == tag) return static_cast<std::uint32_t>(i + 1);
    return 0;
}

// The creating response's evidence, as the dialog layer keeps it (DialogEvidence).
sip::Dialog evidence_of(const sip::Message& m) {
    sip::Dialog d;
    sip::DialogEvidence& e = d.created;
    e.message = {m.frame, m.index, m.time};
    e.status = m.request ? 0 : m.status;
    if (!m.contacts.empty()) e.contact = m.contacts.front().uri;
    e.record_route = m.record_route;
    e.via_count = m.via_count;
    e.via_host = m.via.host;
    e.via_port = m.via.port;
    return d;
}

}  // namespace

std::string CallForkTracker::label(std::string_view method, bool initial, std::uint32_t cseq) {
    std::string out;
    if (method == "INVITE") out = initial ? "initial " : "re-";
    out.append(method);
    out.append(" (CSeq ").append(std::to_string(cseq)).push_back(')');
    return out;
}

std::uint64_t CallForkTracker::caller_key(std::string_view call_id, std::string_view caller_tag) {
    return sip::detail::fingerprint({call_id, caller_tag}).a;
}

const std::uint32_t* CallForkTracker::find_index(std::string_view call_id, std::string_view caller_tag) const {
    // A hash hit counts only when the call's own Call-ID and caller tag are these.
    auto [it, end] = by_caller_.equal_range(caller_key(call_id, caller_tag));
    for (; it != end; ++it) {
        const Call& c = calls_[it->second].call;
        if (c.call_id == call_id && c.caller_tag == caller_tag) return &it->second;
    }
    return nullptr;
}

CallForkTracker::State* CallForkTracker::find_call(const sip::Message& m, std::uint32_t& index, bool& from_caller) {
    // The first call of the Call-ID (in creation order) whose caller tag is the From tag (sent by the
    // caller) or the To tag (sent to it): two look-ups, not a pass over the Call-ID's calls.
    const std::uint32_t* from = find_index(m.call_id, m.from.tag);
    const std::uint32_t* to = m.to.tag.empty() ? nullptr : find_index(m.call_id, m.to.tag);
    if (from && (!to || *from <= *to)) {
        from_caller = true;
        index = *from;
        return &calls_[index];
    }
    if (to) {
        from_caller = false;
        index = *to;
        return &calls_[index];
    }
    return nullptr;
}

std::uint32_t CallForkTracker::endpoint_of(State& s, const sip::Message& m, const sip::DialogVerdict& dialog,
                                           const std::string& remote_tag, bool sent_by_endpoint, ForkView& v) {
    Call& c = s.call;
    std::uint32_t ep = remote_tag.empty() ? 0 : find_endpoint(c, remote_tag);
    const bool opens = m.request || (m.status >= 180 && m.status < 300);
    if (ep || remote_tag.empty() || !sent_by_endpoint || !opens || dialog.id == 0) return ep;
    // A new To tag in a dialog: the same UAS when an endpoint's creating response had the same Contact
    // and routes (a B2BUA changing its tag, RFC 3261 section 12.1.2 expects one), else a new endpoint.
    sip::Dialog candidate = evidence_of(m);
    for (std::size_t i = 0; i < c.endpoints.size(); ++i) {
        CallEndpoint& e = c.endpoints[i];
        if (sip::distinct_endpoints(e.evidence, candidate)) continue;
        if (e.tags.size() < kMaxTagsPerEndpoint) e.tags.push_back(remote_tag);
        if (e.evidence.created.contact.empty() && !candidate.created.contact.empty()) {
            // The endpoint was opened by a response without Contact (a PBX's own 180 before it relays the
            // phone's, goffinet voip-extension frame 584): the UAS's Contact is the better evidence, so a
            // later UAS behind the same route is still told apart, and its agent is the endpoint's.
            e.evidence = std::move(candidate);
            e.agent.clear();
        }
        v.tag_changed = true;
        return static_cast<std::uint32_t>(i + 1);
    }
    if (c.endpoints.size() >= kMaxEndpoints) return 0;
    CallEndpoint e;
    e.tags.push_back(remote_tag);
    e.evidence = std::move(candidate);
    e.first_frame = m.frame;
    c.endpoints.push_back(std::move(e));
    if (c.endpoints.size() == 2) {
        v.reveals_fork = true;
        c.fork_frame = m.frame;
    }
    return static_cast<std::uint32_t>(c.endpoints.size());
}

void CallForkTracker::remember(State& s, std::uint32_t ep, const sip::Message& m, const sip::TxnVerdict& txn) {
    CallEndpoint& e = s.call.endpoints[ep - 1];
    const std::string& epid = m.request ? m.from.epid : m.to.epid;
    if (e.epid.empty() && !epid.empty()) e.epid = sanitize_utf8(epid, kMaxText);
    if (e.gruu_epid.empty() && !m.contacts.empty() && !m.contacts.front().gruu_epid.empty())
        e.gruu_epid = sanitize_utf8(m.contacts.front().gruu_epid, kMaxText);
    if (e.agent.empty()) {
        const std::string& agent = m.user_agent.empty() ? m.server : m.user_agent;
        if (!agent.empty()) e.agent = sanitize_utf8(agent, kMaxText);
    }
    e.last_frame = m.frame;
    e.last_slot = m.index;
    if (m.request || txn.id == 0 || m.txn_method() != "INVITE") return;
    if (auto t = s.txn_endpoint.find(txn.id); t != s.txn_endpoint.end()) {
        if (t->second != ep) t->second = 0;
    } else if (s.txn_endpoint.size() < kMaxTransactions) {
        s.txn_endpoint.emplace(txn.id, ep);
    }
}

void CallForkTracker::name_transaction(State& s, const sip::Message& m, const sip::TxnVerdict& txn,
                                       bool initial_invite, ForkView& v) {
    if (m.request) {
        const std::string& method = m.cseq_method.empty() ? m.method : m.cseq_method;
        v.transaction = label(method, initial_invite, m.cseq);
        for (const Request& r : s.requests)
            if (r.cseq == m.cseq && r.method == method && r.branch == m.via.branch) return;
        if (s.requests.size() < kMaxRequests) s.requests.push_back({m.cseq, method, m.via.branch, m.frame, initial_invite});
        return;
    }
    if (!m.has_cseq) return;
    // The transaction layer's request (RFC 3261 section 17.1.3: top Via branch and sent-by, CSeq
    // method); without a captured request, the initial INVITE's CSeq decides.
    bool initial = txn.request_seen ? !txn.request_in_dialog : m.cseq == s.call.invite_cseq;
    std::uint32_t request_frame = txn.request.known() ? txn.request.frame : 0;
    if (!request_frame && m.via.branch.empty()) {
        // A response whose top Via lost its branch (OCS's in field case 002: the requests carry one, the
        // responses only `ms-received-port` and `ms-received-cid`) matches no transaction by RFC 3261
        // section 17.1.3; within its call, the latest request of the same CSeq is the one it answers.
        const Request* match = nullptr;
        for (const Request& r : s.requests)
            if (r.cseq == m.cseq && r.method == m.cseq_method && (!match || r.frame > match->frame)) match = &r;
        if (match) {
            request_frame = match->frame;
            initial = match->initial;
        }
    }
    v.transaction = label(m.cseq_method, initial, m.cseq);
    v.request_frame = request_frame;
}

ForkView CallForkTracker::observe(const sip::Message& m, const sip::TxnVerdict& txn, const sip::DialogVerdict& dialog) {
    ForkView v;
    if (m.call_id.empty() || m.from.tag.empty()) return v;

    std::uint32_t index = 0;
    bool from_caller = false;
    State* s = calls_.empty() ? nullptr : find_call(m, index, from_caller);
    const bool initial_invite = m.request && m.method == "INVITE" && m.to.tag.empty();
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
        s->call.caller_tag = m.from.tag;
        s->call.invite_frame = m.frame;
        s->call.invite_cseq = m.cseq;
        by_caller_.emplace(caller_key(m.call_id, m.from.tag), index);
        from_caller = true;
    }
    Call& c = s->call;
    v.in_call = true;
    v.call = index;

    // The endpoint: the other side's tag, or for a tag-less CANCEL or ACK the INVITE transaction's.
    const std::string& remote_tag = from_caller ? m.to.tag : m.from.tag;
    const bool sent_by_endpoint = m.request ? !from_caller : from_caller;
    std::uint32_t ep = endpoint_of(*s, m, dialog, remote_tag, sent_by_endpoint, v);
    if (!ep && remote_tag.empty() && m.request && from_caller && m.method != "INVITE") {
        const sip::TxnId invite = txn.cancels != 0 ? txn.cancels : txn.ack_of_non2xx ? txn.id : 0;
        if (auto t = s->txn_endpoint.find(invite); invite != 0 && t != s->txn_endpoint.end()) ep = t->second;
    }
    if (ep && sent_by_endpoint) remember(*s, ep, m, txn);
    v.endpoint = ep;
    v.from_endpoint = ep && sent_by_endpoint;

    if (initial_invite && m.cseq > c.invite_cseq) c.invite_cseq = m.cseq;  // resent after a 401/407
    name_transaction(*s, m, txn, initial_invite, v);
    const bool to_initial = !m.request && m.has_cseq && m.cseq_method == "INVITE" && from_caller &&
                            (txn.request_seen ? !txn.request_in_dialog : m.cseq == c.invite_cseq);
    if (to_initial && ep && m.status >= 200) {
        CallEndpoint& e = c.endpoints[ep - 1];
        if (e.final_status == 0) {
            e.final_status = m.status;
            e.final_reason = sanitize_utf8(m.reason, kMaxText);
            e.final_frame = m.frame;
            if (m.status >= 300) v.ends_branch = true;
        }
        if (m.status < 300 && c.answered_by == 0) {
            c.answered_by = ep;
            c.answer_frame = m.frame;
            v.answers_call = true;
        }
    }
    v.endpoint_count = static_cast<std::uint32_t>(c.endpoints.size());
    v.answered_by = c.answered_by;
    return v;
}

std::uint32_t branch_ended_by(const Call& call, std::uint32_t number) {
    if (!call.answered_by || call.answered_by == number || number == 0 || number > call.endpoints.size()) return 0;
    const CallEndpoint& e = call.endpoints[number - 1];
    if (e.final_status == 0) return call.answer_frame;
    if (e.final_status == 487 && e.final_frame > call.answer_frame) return call.answer_frame;
    return 0;
}

}  // namespace sipsleuth::core
