// SPDX-License-Identifier: GPL-2.0-or-later
// See transaction.h. A matching key is hashed once per message into a 128-bit fingerprint (flat_index.h)
// and looked up in an open-addressing table; entries are pooled and reused with their capacity, so a
// steady state allocates nothing per message. Directions are compared as 64-bit hashes of (transport,
// source, destination); responses are told apart by status and To tag (forked 2xx responses to one
// INVITE are distinct responses, not retransmissions).
#include "sipsleuth/core/sip/transaction.h"

#include <algorithm>
#include <cstring>

namespace sipsleuth::core::sip {
namespace {

// A method or CSeq method equal to a literal: a length check and an inline compare (operator== with a
// C string calls strlen and compare() out of line, several times per message).
template <std::size_t N>
inline bool is(std::string_view s, const char (&lit)[N]) {
    return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

constexpr std::size_t kMaxResponses = 16;  // distinct (status, To tag) responses tracked per transaction
constexpr std::size_t kMaxTcpScan = 256;   // recent ranges of one stream direction a TCP retransmission is checked against
constexpr std::size_t kMaxTcpHits = 16;

// A 64-bit mix of words (a multiply and a rotation per 8 bytes): directions and To tags are compared by
// hash; a collision would merge two directions of one transaction, at odds below 2^-60.
inline std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return (h << 29) | (h >> 35);
}

template <class W>
inline W load(const char* p) {
    W w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// A tail shorter than 8 bytes is read by overlapping loads (all its bytes, for a given length), as
// detail::Hasher reads it: no loop per byte.
std::uint64_t hash_words(std::uint64_t h, std::string_view s) {
    const char* p = s.data();
    std::size_t n = s.size();
    h = mix(h, n);  // the length tells "ab" + "c" from "a" + "bc"
    for (; n >= 8; n -= 8, p += 8) h = mix(h, load<std::uint64_t>(p));
    if (n >= 4) return mix(h, load<std::uint32_t>(p) | static_cast<std::uint64_t>(load<std::uint32_t>(p + n - 4)) << 32);
    if (n == 0) return h;
    const auto b = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])); };
    return mix(h, b(0) | b(n / 2) << 8 | b(n - 1) << 16);
}

std::uint64_t hash_words(std::uint64_t h, std::uint64_t n) { return mix(h, n); }

constexpr std::uint64_t kHashSeed = 0xcbf29ce484222325ull;

std::uint64_t direction(const FlowRef& f) {
    std::uint64_t h = hash_words(kHashSeed, static_cast<std::uint64_t>(f.transport));
    h = hash_words(hash_words(h, f.src.address), f.src.port);
    return hash_words(hash_words(h, f.dst.address), f.dst.port);
}

std::uint64_t tcp_key(std::uint32_t stream, const Endpoint& src, const Endpoint& dst) {
    std::uint64_t h = hash_words(kHashSeed, stream);
    h = hash_words(hash_words(h, src.address), src.port);
    return hash_words(hash_words(h, dst.address), dst.port);
}

bool overlaps(std::uint32_t ab, std::uint32_t ae, std::uint32_t bb, std::uint32_t be) {
    // Sequence numbers wrap (RFC 793 section 3.3): compare differences as signed.
    return static_cast<std::int32_t>(ab - be) < 0 && static_cast<std::int32_t>(bb - ae) < 0;
}

MessageRef ref_of(const Message& m) { return {m.frame, m.index, m.time}; }

// Via::rfc3261_branch() without its out-of-line string compare (called for every message).
inline bool has_cookie(const Via& via) {
    return via.branch.size() > 7 && std::memcmp(via.branch.data(), "z9hG4bK", 7) == 0;
}

bool is_tcp(const Message& m) { return m.flow.transport == Transport::tcp && m.seq_end != m.seq_begin; }

// The matching key: for an RFC 3261 branch, branch and method (section 17.1.3, as a client matches; the
// server rule of 17.2.3 adds sent-by, which UAs rewrite in responses). Without the magic cookie, RFC 2543's
// fields: Call-ID, From tag, CSeq number, method and the top Via (the Request-URI is checked apart,
// since responses do not carry it).
// Hashed without the method, once per message; key() adds it.
detail::Hasher key_base(const Message& m) {
    detail::Hasher h;
    const Via& via = m.via;
    if (has_cookie(via)) {
        // Branch and method only, as a client matches a response (RFC 3261 section 17.1.3): the branch
        // is unique per transaction, and real UAs rewrite their sent-by port in responses (an ALU phone
        // answers with 5860 in the Via it received as 5260), which must not unlink the response.
        return h.add(std::uint64_t{3}).add(via.branch);
    }
    h.add(std::uint64_t{2}).add(m.call_id).add(m.from.tag).add(std::uint64_t{m.cseq}).add(via.branch);
    return h.add(via.host).add(std::uint64_t{via.port});
}

detail::Fingerprint key(detail::Hasher base, std::string_view method) { return base.add(method).done(); }

}  // namespace

TransactionLayer::TransactionLayer(TransactionLimits limits) : limits_(limits) {}

TransactionLayer::Entry* TransactionLayer::entry(TxnId id) const {
    const std::uint32_t slot = by_id_.find(detail::id_key(id));
    return slot == 0 ? nullptr : &pool_[slot - 1];
}

const Transaction* TransactionLayer::find(TxnId id) const {
    const Entry* e = entry(id);
    return e == nullptr ? nullptr : &e->txn;
}

Transaction* TransactionLayer::find(TxnId id) {
    Entry* e = entry(id);
    return e == nullptr ? nullptr : &e->txn;
}

void TransactionLayer::forget(std::uint32_t slot) {
    Entry& e = pool_[slot];
    by_key_.erase(e.key, slot + 1);
    by_id_.erase(detail::id_key(e.txn.id), slot + 1);
    e.txn.id = 0;
    free_.push_back(slot);
    --live_;
}

void TransactionLayer::expire(Nanos now) {
    expiry_.expire(
        now,
        [&](TxnId id, Nanos at) {
            const std::uint32_t slot = by_id_.find(detail::id_key(id));
            if (slot == 0 || pool_[slot - 1].forget_at != at) return;  // forgotten, or touched since
            forget(slot - 1);
        },
        work_);
    while (!tcp_order_.empty() && tcp_order_.front().first + limits_.linger <= now) {
        ++work_;
        const std::uint64_t key = tcp_order_.front().second;
        tcp_order_.pop_front();
        auto it = tcp_.find(key);
        if (it == tcp_.end()) continue;
        it->second.pop_front();
        --tcp_count_;
        if (it->second.empty()) tcp_.erase(it);
    }
}

TransactionLayer::Entry* TransactionLayer::lookup(const detail::Fingerprint& key) {
    ++work_;
    const std::uint32_t slot = by_key_.find(key);
    return slot == 0 ? nullptr : &pool_[slot - 1];
}

TransactionLayer::Entry* TransactionLayer::create(const detail::Fingerprint& key, const Message& m, TxnVerdict& v) {
    if (live_ >= limits_.max_transactions) {
        overflowed_ = true;
        v.full = true;
        return nullptr;
    }
    std::uint32_t slot;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(pool_.size());
        pool_.emplace_back();  // moves no other entry
    }
    Entry& e = pool_[slot];
    // A reused entry keeps the capacity of its method and Request-URI: every other field is reset in
    // place (assigning a fresh Transaction moved the method string three times).
    Transaction& t = e.txn;
    const TxnId id = next_id_++;
    t.id = id;
    const std::string& txn_method = m.txn_method();
    t.method.assign(txn_method.data(), txn_method.size());
    t.rfc3261 = has_cookie(m.via);
    t.request_seen = t.request_in_dialog = false;
    t.first_request = t.last_request = t.first_response = t.final_response = t.ack = MessageRef();
    t.request_copies = t.final_status = 0;
    t.cancels = t.cancelled_by = 0;
    t.last_activity = 0;
    e.key = key;
    e.request_uri.clear();
    e.request_direction = 0;
    e.sent_by = 0;
    e.tcp_stream = e.tcp_seq = 0;
    e.tcp_request = false;
    e.ack_direction = 0;
    e.ack_copies = 0;
    e.ack_last = 0;
    e.response_count = 0;
    e.more_responses.clear();
    e.forget_at = 0;
    ++live_;
    by_id_.put(detail::id_key(id), slot + 1);
    by_key_.put(key, slot + 1);  // RFC 2543: a newer request of the same key takes the key over
    touch(e, m.time);
    v.created = true;
    return &e;
}

void TransactionLayer::touch(Entry& e, Nanos t) {
    e.txn.last_activity = std::max(e.txn.last_activity, t);
    const bool final = e.txn.final_response.known();
    const Nanos at = e.txn.last_activity + (final ? limits_.linger : limits_.pending_linger);
    if (at == e.forget_at) return;
    e.forget_at = at;
    expiry_.push(final ? 1 : 0, at, e.txn.id);
    expiry_.compact(
        live_,
        [&](TxnId id, Nanos when) {
            const Entry* x = entry(id);
            return x != nullptr && x->forget_at == when;
        },
        work_);
}

void TransactionLayer::on_request(const Message& m, TxnVerdict& v) {
    const MessageRef ref = ref_of(m);
    const std::uint64_t dir = direction(m.flow);
    const detail::Hasher base = key_base(m);
    if (is(m.method, "ACK")) {
        // RFC 3261 section 17.1.1.3: the ACK to a non-2xx final response is part of the INVITE
        // transaction (same branch); an ACK to a 2xx is a transaction of its own (below).
        Entry* inv = lookup(key(base, "INVITE"));
        if (inv != nullptr && inv->txn.final_status >= 300) {
            Transaction& t = inv->txn;
            v.id = t.id;
            v.ack_of_non2xx = true;
            v.request = t.first_request;
            if (inv->ack_copies == 0) {
                inv->ack_direction = dir;
                inv->ack_copies = 1;
                inv->ack_last = m.time;
                t.ack = ref;
                v.first = ref;
            } else if (dir == inv->ack_direction) {
                v.retransmission = true;
                v.copy = ++inv->ack_copies;
                v.previous_time = inv->ack_last;
                inv->ack_last = m.time;
                v.first = t.ack;
            } else {
                v.reflected = true;
                v.first = t.ack;
            }
            v.final_response = t.final_response;
            v.final_status = t.final_status;
            v.request_seen = t.request_seen;
            v.request_in_dialog = t.request_in_dialog;
            touch(*inv, m.time);
            return;
        }
    }
    const detail::Fingerprint k = key(base, m.method);
    Entry* e = lookup(k);
    if (e != nullptr && !e->txn.rfc3261 && e->txn.request_seen && e->request_uri != m.request_uri) e = nullptr;
    // A request matches as a server matches it (17.2.3): the same branch from another sent-by is
    // another transaction. Responses match without sent-by (17.1.3).
    const std::uint64_t sent_by = hash_words(hash_words(kHashSeed, m.via.host), m.via.port);
    if (e != nullptr && e->txn.rfc3261 && e->txn.request_seen && e->sent_by != sent_by) e = nullptr;
    if (e == nullptr) {
        e = create(k, m, v);
        if (e == nullptr) return;
    }
    Transaction& t = e->txn;
    v.id = t.id;
    if (!t.request_seen) {
        t.request_seen = true;
        t.request_in_dialog = !m.to.tag.empty();
        t.first_request = t.last_request = ref;
        t.request_copies = 1;
        e->request_direction = dir;
        if (!t.rfc3261) e->request_uri.assign(m.request_uri.data(), m.request_uri.size());
        e->sent_by = sent_by;
        if (is_tcp(m)) {
            e->tcp_request = true;
            e->tcp_stream = m.flow.stream;
            e->tcp_seq = m.seq_begin;
        }
        v.first = ref;
    } else if (dir == e->request_direction) {
        v.retransmission = true;
        v.copy = ++t.request_copies;
        v.previous_time = t.last_request.time;
        v.first = t.first_request;
        v.tcp_duplicate = is_tcp(m) && e->tcp_request && e->tcp_stream == m.flow.stream && e->tcp_seq == m.seq_begin;
        t.last_request = ref;
    } else {
        v.reflected = true;
        v.first = t.first_request;
    }
    v.request = t.first_request;
    v.final_response = t.final_response;
    v.final_status = t.final_status;
    v.request_seen = true;
    v.request_in_dialog = t.request_in_dialog;
    touch(*e, m.time);
    if (is(m.method, "CANCEL")) {
        // RFC 3261 section 9.2: the CANCEL's top Via (branch included) is the INVITE's.
        if (Entry* inv = lookup(key(base, "INVITE")); inv != nullptr && inv != e) {
            t.cancels = inv->txn.id;
            if (inv->txn.cancelled_by == 0) inv->txn.cancelled_by = t.id;
        }
        v.cancels = t.cancels;
    }
}

void TransactionLayer::on_response(const Message& m, TxnVerdict& v) {
    const MessageRef ref = ref_of(m);
    v.response = true;
    const detail::Fingerprint k = key(key_base(m), m.cseq_method);
    Entry* e = lookup(k);
    if (e == nullptr) {
        // A response whose request was not captured (or is forgotten): a transaction all the same, so
        // that its retransmissions are recognised.
        e = create(k, m, v);
        if (e == nullptr) return;
    }
    Transaction& t = e->txn;
    v.id = t.id;
    const std::uint64_t dir = direction(m.flow);
    const std::uint64_t tag = hash_words(kHashSeed, m.to.tag);
    Response* same = nullptr;
    for (std::size_t i = 0; i < e->response_count; ++i) {
        Response& r = e->response(i);
        if (r.status == m.status && r.to_tag == tag) {
            same = &r;
            break;
        }
    }
    if (same == nullptr) {
        if (e->response_count < kMaxResponses) {
            const Response r{m.status, tag, dir, ref, m.time, 1};
            if (e->response_count < kInlineResponses)
                e->responses[e->response_count] = r;
            else
                e->more_responses.push_back(r);
            ++e->response_count;
        }
        v.first = ref;
    } else if (same->direction == dir) {
        v.retransmission = true;
        v.copy = ++same->copies;
        v.previous_time = same->last_time;
        same->last_time = m.time;
        v.first = same->first;
    } else {
        v.reflected = true;
        v.first = same->first;
    }
    if (!t.first_response.known()) t.first_response = ref;
    if (m.status >= 200 && !t.final_response.known()) {
        t.final_response = ref;
        t.final_status = m.status;
        v.first_final = true;
    }
    v.request = t.first_request;
    v.final_status = t.final_status;
    v.request_seen = t.request_seen;
    v.request_in_dialog = t.request_in_dialog;
    if (is(t.method, "CANCEL")) v.cancels = t.cancels;
    touch(*e, m.time);
}

void TransactionLayer::record_tcp(const Message& m, TxnId id) {
    if (!is_tcp(m) || limits_.max_tcp_ranges == 0) return;
    if (tcp_count_ >= limits_.max_tcp_ranges) {
        // Full: the oldest range goes first (a cache: no finding depends on its size).
        const std::uint64_t key = tcp_order_.front().second;
        tcp_order_.pop_front();
        auto it = tcp_.find(key);
        if (it != tcp_.end()) {
            it->second.pop_front();
            --tcp_count_;
            if (it->second.empty()) tcp_.erase(it);
        }
    }
    const std::uint64_t key = tcp_key(m.flow.stream, m.flow.src, m.flow.dst);
    tcp_[key].push_back({key, m.seq_begin, m.seq_end, id, m.frame, m.index, m.time});
    tcp_order_.emplace_back(m.time, key);
    ++tcp_count_;
}

TxnVerdict TransactionLayer::on_message(const Message& m) {
    expire(m.time);
    TxnVerdict v;
    if (m.via.present && m.has_cseq) {
        if (m.request)
            on_request(m, v);
        else
            on_response(m, v);
    }
    record_tcp(m, v.id);
    return v;
}

std::vector<TcpRetransmissionHit> TransactionLayer::on_tcp_retransmission(const Frame& f) {
    std::vector<TcpRetransmissionHit> hits;
    expire(f.time);
    if (!f.tcp || f.flow.transport != Transport::tcp || f.tcp->len == 0) return hits;
    auto it = tcp_.find(tcp_key(f.flow.stream, f.flow.src, f.flow.dst));
    if (it == tcp_.end()) return hits;
    const std::uint32_t begin = f.tcp->seq, end = f.tcp->seq + f.tcp->len;
    const std::deque<TcpRange>& ranges = it->second;
    std::size_t scanned = 0;
    for (auto r = ranges.rbegin(); r != ranges.rend() && scanned < kMaxTcpScan && hits.size() < kMaxTcpHits; ++r) {
        ++scanned;
        ++work_;
        if (overlaps(r->seq_begin, r->seq_end, begin, end)) hits.push_back({r->id, r->frame, r->index});
    }
    std::reverse(hits.begin(), hits.end());
    return hits;
}

}  // namespace sipsleuth::core::sip
