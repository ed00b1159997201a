// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the SIP layer (sip/message.h, transaction.h, dialog.h): the input is a sequence
// of records separated by NUL bytes; each record's first byte says how it travels (direction, UDP or TCP,
// stream, time step, or "a TCP retransmission of an earlier segment"), the rest is one SIP message fed
// through parse() -> TransactionLayer -> DialogLayer under small limits, so that tables fill and entries
// expire often. Aborts when an invariant breaks: a table beyond its bound, a result naming an id never
// issued or no longer known, a retransmission without an earlier copy, a body span outside the message,
// work that grows faster than the messages.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/sip/dialog.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"

using namespace sipsleuth::core;
using namespace sipsleuth::core::sip;
using fuzz::require;

namespace {

constexpr Nanos kSteps[8] = {0, 100 * 1000, 10 * kMilli, 500 * kMilli, kSecond, 3 * kSecond, 7 * kSecond, 40 * kSecond};

TransactionLimits txn_limits() {
    TransactionLimits l;
    l.max_transactions = 6;
    l.linger = 2 * kSecond;
    l.pending_linger = 5 * kSecond;
    l.max_tcp_ranges = 8;
    return l;
}

DialogLimits dialog_limits() {
    DialogLimits l;
    l.max_dialogs = 5;
    l.max_origins = 3;
    l.max_forks = 2;
    l.linger = 2 * kSecond;
    l.early_linger = 5 * kSecond;
    l.idle = 10 * kSecond;
    return l;
}

void check_message(std::string_view bytes, const Message& m, ParseStatus st) {
    require(m.body_offset <= bytes.size() && m.body_length <= bytes.size() - m.body_offset, "body outside the message");
    if (st == ParseStatus::not_sip) {
        require(m.call_id.empty() && m.contacts.empty() && m.problems.empty(), "not-SIP message with fields");
        return;
    }
    require(m.request != (m.status != 0), "neither request nor response");
    require(m.problems.size() <= 16, "problems past their bound");
    require(m.via.present == (m.via_count > 0), "top Via without a Via count");
    if (m.has_cseq) require(!m.cseq_method.empty(), "CSeq without a method");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const TransactionLimits tl = txn_limits();
    const DialogLimits dl = dialog_limits();
    TransactionLayer txns(tl);
    DialogLayer dialogs(dl);
    const Endpoint ends[3] = {{"10.0.0.1", 5060}, {"10.0.0.2", 5060}, {"2001:db8::3", 5061}};
    std::uint32_t seq[8] = {};  // next sequence number per (stream, direction)
    TxnId last_txn = 0;
    DialogId last_dialog = 0;
    Nanos now = 1000 * kSecond;
    std::uint32_t frame = 0;
    std::uint64_t events = 0;
    Message m;
    for (std::size_t at = 0; at < size;) {
        std::size_t end = input.find('\0', at);
        if (end == std::string_view::npos) end = size;
        const std::string_view record = input.substr(at, end - at);
        at = end + 1;
        if (record.empty()) continue;
        const auto c = static_cast<std::uint8_t>(record[0]);
        const std::string_view bytes = record.substr(1);
        now += kSteps[(c >> 5) & 7];
        ++frame;
        ++events;
        const bool tcp = c & 1;
        const bool reverse = c & 2;
        const std::uint32_t stream = (c >> 2) & 1;
        const Endpoint& a = ends[(c >> 3) & 1 ? 2 : 0];
        const Endpoint& b = ends[1];
        FlowRef flow;
        flow.transport = tcp ? Transport::tcp : Transport::udp;
        flow.stream = stream;
        flow.src = reverse ? b : a;
        flow.dst = reverse ? a : b;
        std::uint32_t& next_seq = seq[(stream << 2) | (reverse ? 2u : 0u) | ((c >> 3) & 1)];

        if (tcp && (c & 0x10) && !bytes.empty()) {
            // A TCP retransmission of an earlier segment of this direction.
            Frame f;
            f.number = frame;
            f.time = now;
            f.flow.transport = Transport::tcp;
            f.flow.stream = stream;
            f.flow.src = flow.src;
            f.flow.dst = flow.dst;
            f.tcp = TcpFacts{};
            f.tcp->seq = next_seq - static_cast<std::uint8_t>(bytes[0]) * 4u;
            f.tcp->len = static_cast<std::uint32_t>(bytes.size()) * 8u;
            f.tcp->retransmission = true;
            const auto hits = txns.on_tcp_retransmission(f);
            require(hits.size() <= 16, "too many TCP hits");
            for (const TcpRetransmissionHit& h : hits) {
                require(h.id <= last_txn, "TCP hit names an unknown transaction");
                require(h.frame > 0 && h.frame < frame, "TCP hit names a later frame");
            }
            continue;
        }

        const ParseStatus st = parse(bytes, m);
        check_message(bytes, m, st);
        if (st == ParseStatus::not_sip) continue;
        m.frame = frame;
        m.index = 0;
        m.time = now;
        m.flow = flow;
        if (tcp) {
            m.seq_begin = next_seq;
            m.seq_end = next_seq + static_cast<std::uint32_t>(bytes.size());
            next_seq = m.seq_end;
        } else {
            m.seq_begin = m.seq_end = 0;
        }

        const TxnVerdict tv = txns.on_message(m);
        require(txns.size() <= tl.max_transactions, "transactions past their bound");
        require(txns.tcp_ranges() <= tl.max_tcp_ranges, "TCP ranges past their bound");
        if (tv.created) {
            require(tv.id == last_txn + 1, "new transaction id out of order");
            last_txn = tv.id;
        }
        require(tv.id <= last_txn, "verdict names an unknown transaction");
        require(!tv.full || tv.id == 0, "full with a transaction");
        if (tv.id != 0) {
            const Transaction* t = txns.find(tv.id);
            require(t != nullptr, "verdict's transaction not found");
            require(t->id == tv.id, "transaction id differs");
        }
        require(!(tv.retransmission && tv.reflected), "retransmission and reflection at once");
        if (tv.retransmission) {
            require(tv.copy >= 2, "retransmission without copy number");
            require(tv.previous_time <= now && tv.first.known(), "retransmission without an earlier copy");
            require(tv.first.frame < frame, "first copy not earlier");
        } else {
            require(tv.copy == 1, "copy number without retransmission");
        }
        require(tv.cancels <= last_txn, "CANCEL links an unknown transaction");

        const DialogVerdict dv = dialogs.on_message(m, tv);
        require(dialogs.size() <= dl.max_dialogs, "dialogs past their bound");
        require(dialogs.origins() <= dl.max_origins, "origins past their bound");
        if (dv.created) {
            require(dv.id == last_dialog + 1, "new dialog id out of order");
            last_dialog = dv.id;
        }
        require(dv.id <= last_dialog, "verdict names an unknown dialog");
        if (dv.id != 0) {
            const Dialog* d = dialogs.find(dv.id);
            require(d != nullptr, "verdict's dialog not found");
            require(d->call_id == m.call_id, "dialog of another Call-ID");
            require(dialogs.find(d->call_id, d->uac_tag, d->uas_tag) == d, "dialog not found by its tags");
            require(d->origin <= last_txn, "dialog of an unknown origin");
        }
        require(!(dv.unmatched && dv.created), "unmatched and created");
        require(dv.fork <= dv.forks && dv.forks <= dl.max_forks, "fork numbers past their bound");
        if (!m.request && m.cseq_method == "CANCEL") require(!dv.created, "a response to CANCEL created a dialog");
        if (dv.origin != 0) {
            const auto forks = dialogs.forks(dv.origin);
            require(forks.size() <= dl.max_forks, "forks past their bound");
            for (const Dialog& d : forks) require(d.origin == dv.origin && d.id <= last_dialog, "fork of another origin");
        }
    }
    // Work: O(1) amortised per message (look-ups, expiry pops, compaction), a bounded scan per TCP
    // retransmission; never a walk over everything remembered per message.
    require(txns.work_done() <= 32 * events + 64, "transaction work grows faster than messages");
    require(dialogs.work_done() <= 32 * events + 64, "dialog work grows faster than messages");
    return 0;
}
