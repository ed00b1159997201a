// SPDX-License-Identifier: GPL-2.0-or-later
// See sip_observer.h. Where the values come from, in Wireshark 4.0:
// - `tcp.stream` and `tcp.len` are added at offset 0 of the TCP header (length 0), so ports, sequence and acknowledgement numbers, flags and the data offset are read from the
//   header's bytes; `tcp.len` gives the payload length (a frame's end may hold Ethernet padding).
// - `udp.stream` is added at offset 8 of the UDP header (after it): ports and the UDP length are read
//   from the 8 bytes before it.
// - Each `sip` item spans one SIP message in its data source (the frame's tvb, or the reassembled PDU
//   when the message spans segments); on tshark -2's first pass the SIP dissector leaves the first of
//   several messages of a segment spanning to the segment's end (siptrack_sub_compact.pcap, frame 7),
//   so each message ends where the next one of the same data source starts.
// The innermost TCP or UDP layer (the last occurrence) carries the SIP of the frame.
#include "sipsleuth/wsglue/sip_observer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <epan/to_str.h>

namespace sipsleuth::wsglue {
namespace {

core::Nanos nanos(const nstime_t& t) {
    return static_cast<core::Nanos>(t.secs) * core::kSecond + static_cast<core::Nanos>(t.nsecs);
}

// The last occurrence of a field, or nullptr.
field_info* last(const Occurrences& all) { return all.size() ? all.at(all.size() - 1) : nullptr; }

// A pointer to [offset, offset + length) of tvb when captured, else nullptr. Bounds are checked before
// tvb_get_ptr, which cannot throw then.
const guint8* bytes_at(tvbuff_t* tvb, int offset, int length) {
    if (!tvb || offset < 0 || length < 0) return nullptr;
    if (tvb_captured_length(tvb) < static_cast<guint>(offset) + static_cast<guint>(length)) return nullptr;
    if (length == 0) return reinterpret_cast<const guint8*>("");
    return tvb_get_ptr(tvb, offset, length);
}

guint16 be16(const guint8* p) { return static_cast<guint16>((p[0] << 8) | p[1]); }
guint32 be32(const guint8* p) {
    return (static_cast<guint32>(p[0]) << 24) | (static_cast<guint32>(p[1]) << 16) |
           (static_cast<guint32>(p[2]) << 8) | p[3];
}

// An address as text into `out`. address_to_str_buf costs a few hundred instructions and a capture has
// few distinct addresses, so the texts of the last ones are remembered (direct-mapped by their bytes;
// address_to_str_buf never resolves names, so a text depends on the type and bytes only).
void address_text(const address& a, std::string& out) {
    struct Cached {
        int type = -1;
        int len = 0;
        unsigned char bytes[16] = {};
        std::string text;
    };
    static Cached cache[1024];  // a PBX trace has hundreds of phones
    const bool cacheable = a.len > 0 && a.len <= 16 && a.data != nullptr;
    Cached* c = nullptr;
    if (cacheable) {
        const auto* b = static_cast<const unsigned char*>(a.data);
        std::uint32_t h = static_cast<std::uint32_t>(a.type) * 31u + static_cast<std::uint32_t>(a.len);
        for (int i = 0; i < a.len; ++i) h = h * 131u + b[i];
        h *= 0x9E3779B1u;
        c = &cache[h >> 22];
        if (c->type == a.type && c->len == a.len && std::memcmp(c->bytes, b, static_cast<std::size_t>(a.len)) == 0) {
            out.assign(c->text);
            return;
        }
    }
    char buf[64];  // an IPv6 address with scope is at most 46 + a few bytes
    buf[0] = '\0';
    address_to_str_buf(&a, buf, static_cast<int>(sizeof buf));
    out.assign(buf);
    if (c != nullptr) {
        c->type = a.type;
        c->len = a.len;
        std::memcpy(c->bytes, a.data, static_cast<std::size_t>(a.len));
        c->text = out;
    }
}

}  // namespace

SipObserver& SipObserver::instance() {
    static SipObserver observer;
    return observer;
}

SipObserver::SipObserver()
    : fields_{&ff_sip_, &ff_tcp_stream_, &ff_tcp_len_, &ff_udp_stream_, &ff_retransmission_, &ff_spurious_},
      txns_(std::make_unique<core::sip::TransactionLayer>()),
      dialogs_(std::make_unique<core::sip::DialogLayer>()) {}

void SipObserver::attach(Protocol& owner) {
    if (pref_max_transactions_) return;
    // Static objects: the preferences keep pointers to them until exit.
    static UintPref max_transactions{
        owner, "max_transactions", "Most SIP transactions tracked",
        "Open SIP transactions remembered at once (each until 32 s after its final response): beyond this, new "
        "transactions are not matched (an expert note says when).",
        65536};
    static UintPref max_dialogs{owner, "max_dialogs", "Most SIP dialogs tracked",
                                "SIP dialogs and dialog-creating requests remembered at once: beyond this, new "
                                "dialogs are not tracked (an expert note says when).",
                                65536};
    pref_max_transactions_ = &max_transactions;
    pref_max_dialogs_ = &max_dialogs;
    owner.on_init([this] { reset(); });
    owner.on_cleanup([this] {
        reset();
    });
}

void SipObserver::reset() {
    current_ = Observation();
    current_valid_ = false;
    last_frame_ = 0;
    core::sip::TransactionLimits txn_limits;
    core::sip::DialogLimits dialog_limits;
    if (pref_max_transactions_) {
        txn_limits.max_transactions = pref_max_transactions_->value();
        txn_limits.max_tcp_ranges = pref_max_transactions_->value();
    }
    if (pref_max_dialogs_) {
        dialog_limits.max_dialogs = pref_max_dialogs_->value();
        dialog_limits.max_origins = pref_max_dialogs_->value();
    }
    txns_ = std::make_unique<core::sip::TransactionLayer>(txn_limits);
    dialogs_ = std::make_unique<core::sip::DialogLayer>(dialog_limits);
}

const Observation* SipObserver::observe(tvbuff_t*, packet_info* pinfo, proto_tree* tree) {
    if (!tree || PINFO_FD_VISITED(pinfo)) return nullptr;
    // The same frame again (another protocol's post-dissector): the same observation, or nullptr when
    // reading it failed (the layers are never fed twice).
    if (last_frame_ == pinfo->num && last_frame_ != 0) return current_valid_ ? &current_ : nullptr;
    // Frame numbers restart only with a new capture; without an owner's init routine, that is the reset.
    if (!pref_max_transactions_ && pinfo->num <= last_frame_) reset();
    last_frame_ = pinfo->num;
    current_valid_ = false;
    try {
        current_.frame = core::sip::Frame();
        current_.retransmitted.clear();
        current_.messages.clear();
        payload_ds_ = nullptr;
        payload_offset_ = 0;
        current_.frame.number = pinfo->num;
        current_.frame.time = nanos(pinfo->abs_ts);
        current_.has_flow = read_flow(pinfo, tree, current_);
        if (current_.has_flow) {
            read_messages(tree, current_);
            run_layers(current_);
        }
        current_valid_ = true;
        return &current_;
    } catch (...) {
        // Out of memory or a bug: this frame has no observation; nothing C++ reaches epan.
        return nullptr;
    }
}

bool SipObserver::read_flow(packet_info* pinfo, proto_tree* tree, Observation& o) {
    core::FlowPacket& flow = o.frame.flow;
    if (field_info* stream = last(Occurrences(tree, ff_tcp_stream_))) {
        field_info* len = last(Occurrences(tree, ff_tcp_len_));
        // The header's first 14 bytes (ports to flags) from the stream item's offset, the start of the
        // header (4.0: proto_tree_add_uint(tcp_tree, hf_tcp_stream, tvb, offset = 0, ...)).
        const guint8* h = bytes_at(stream->ds_tvb, stream->start, 14);
        if (!h) return false;
        core::sip::TcpFacts tcp;
        tcp.seq = be32(h + 4);
        tcp.ack = be32(h + 8);
        const guint8 flags = h[13];
        tcp.fin = flags & 0x01;
        tcp.syn = flags & 0x02;
        tcp.rst = flags & 0x04;
        tcp.ack_flag = flags & 0x10;
        if (len && len->ds_tvb == stream->ds_tvb && len->start == stream->start)
            tcp.len = static_cast<std::uint32_t>(uint_value(len));
        tcp.retransmission = Occurrences(tree, ff_retransmission_).size() > 0;
        tcp.spurious = Occurrences(tree, ff_spurious_).size() > 0;
        flow.transport = core::Transport::tcp;
        flow.stream = static_cast<std::uint32_t>(uint_value(stream));
        flow.src.port = be16(h);
        flow.dst.port = be16(h + 2);
        flow.syn = tcp.syn;
        flow.fin = tcp.fin;
        flow.rst = tcp.rst;
        const int header = (h[12] >> 4) * 4;
        // As much of the payload as was captured: a snap length may cut the segment.
        const int at = stream->start + header;
        const gint captured = tvb_captured_length_remaining(stream->ds_tvb, at);
        const int n = std::min(std::max(captured, 0), static_cast<int>(tcp.len));
        if (const guint8* p = bytes_at(stream->ds_tvb, at, n)) {
            o.frame.payload = std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
            o.frame.payload_cut = static_cast<std::uint32_t>(n) < tcp.len;
        }
        o.frame.tcp = tcp;
        payload_ds_ = stream->ds_tvb;
        payload_offset_ = stream->start + header;
    } else if (field_info* ustream = last(Occurrences(tree, ff_udp_stream_))) {
        // 4.0 adds udp.stream after the 8-byte header.
        const guint8* h = ustream->start >= 8 ? bytes_at(ustream->ds_tvb, ustream->start - 8, 8) : nullptr;
        if (!h) return false;
        flow.transport = core::Transport::udp;
        flow.stream = static_cast<std::uint32_t>(uint_value(ustream));
        flow.src.port = be16(h);
        flow.dst.port = be16(h + 2);
        const guint16 length = be16(h + 4);
        const int captured = static_cast<int>(tvb_captured_length(ustream->ds_tvb)) - ustream->start;
        const int n = std::max(0, std::min<int>(length >= 8 ? length - 8 : 0, captured));
        if (const guint8* p = bytes_at(ustream->ds_tvb, ustream->start, n))
            o.frame.payload = std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
        payload_ds_ = ustream->ds_tvb;
        payload_offset_ = ustream->start;
    } else {
        return false;
    }
    address_text(pinfo->net_src, flow.src.address);
    address_text(pinfo->net_dst, flow.dst.address);
    return true;
}

void SipObserver::read_messages(proto_tree* tree, Observation& o) {
    const Occurrences sips(tree, ff_sip_);
    for (guint i = 0; i < sips.size(); ++i) {
        const field_info* fi = sips.at(i);
        ObservedMessage& m = o.messages.add();
        m.ds = fi->ds_tvb;
        m.offset = fi->start;
        m.length = fi->length;
        m.reassembled = fi->ds_tvb != payload_ds_;
        // Each message ends where the next one of the same data source starts.
        if (i + 1 < sips.size()) {
            const field_info* next = sips.at(i + 1);
            if (next->ds_tvb == fi->ds_tvb && next->start > fi->start && next->start < fi->start + fi->length)
                m.length = next->start - fi->start;
        }
        const guint8* p = bytes_at(m.ds, m.offset, m.length);
        if (!p) {
            // Not all captured (snap length): parse what is there.
            const int captured = m.ds ? static_cast<int>(tvb_captured_length(m.ds)) - m.offset : 0;
            m.length = std::max(0, captured);
            p = bytes_at(m.ds, m.offset, m.length);
            if (!p) {
                o.messages.drop_last();
                continue;
            }
        }
        m.bytes = std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(m.length));
        // parse() resets the message and keeps its strings' capacity (no allocation per message in a
        // steady state).
        core::sip::Message& msg = m.message;
        m.status = core::sip::parse(m.bytes, msg);
        // Over TCP a message ends after Content-Length bytes of body. Without a visible tree (tshark -q,
        // the first pass of -2) SIP 4.0 leaves the item of a message that an unfinished one follows in
        // the same segment running to the segment's end (dialoginfo_blf_healthy frame 10: 1460 bytes,
        // 408 with a tree): cut it there, or its sequence range would cover the next message's start.
        if (o.frame.tcp && !m.reassembled && m.status == core::sip::ParseStatus::ok) {
            const std::uint32_t end = msg.body_offset + msg.body_length;
            if (end > 0 && end < static_cast<std::uint32_t>(m.length)) {
                m.length = static_cast<int>(end);
                m.bytes = m.bytes.substr(0, end);
            }
        }
        msg.frame = o.frame.number;
        msg.index = static_cast<std::uint32_t>(o.messages.size() - 1);
        msg.time = o.frame.time;
        msg.flow.transport = o.frame.flow.transport;
        msg.flow.stream = o.frame.flow.stream;
        msg.flow.src = o.frame.flow.src;
        msg.flow.dst = o.frame.flow.dst;
    }
    if (o.frame.tcp) assign_sequence_ranges(o);
}

void SipObserver::assign_sequence_ranges(Observation& o) const {
    const core::sip::TcpFacts& tcp = *o.frame.tcp;
    for (std::size_t i = 0; i < o.messages.size(); ++i) {
        ObservedMessage& m = o.messages.mut(i);
        const auto length = static_cast<std::uint32_t>(m.length);
        if (!m.reassembled) {
            const auto at = static_cast<std::uint32_t>(std::max(0, m.offset - payload_offset_));
            m.message.seq_begin = tcp.seq + at;
        } else {
            // A reassembled message ends in this segment: where the segment's next message starts, or
            // (none) at the segment's end. A segment ending with the start of yet another message that
            // is not complete yet is not told apart (its message is mapped when it completes).
            std::uint32_t end = tcp.len;
            for (std::size_t j = i + 1; j < o.messages.size(); ++j)
                if (!o.messages[j].reassembled) {
                    end = static_cast<std::uint32_t>(std::max(0, o.messages[j].offset - payload_offset_));
                    break;
                }
            m.message.seq_begin = tcp.seq + end - length;
        }
        m.message.seq_end = m.message.seq_begin + length;
    }
}

void SipObserver::run_layers(Observation& o) {
    // A retransmitted segment is not handed to SIP again: only its sequence numbers tell which messages
    // it repeats. Mapped before this frame's own messages are recorded.
    if (o.frame.tcp && (o.frame.tcp->retransmission || o.frame.tcp->spurious))
        o.retransmitted = txns_->on_tcp_retransmission(o.frame);
    for (std::size_t i = 0; i < o.messages.size(); ++i) {
        ObservedMessage& m = o.messages.mut(i);
        if (m.status == core::sip::ParseStatus::not_sip) {
            m.transaction = core::sip::TxnVerdict();
            m.dialog = core::sip::DialogVerdict();
            continue;
        }
        m.transaction = txns_->on_message(m.message);
        m.dialog = dialogs_->on_message(m.message, m.transaction);
    }
}

Scope enclosing_sip_scope(proto_tree* tree, tvbuff_t* tvb, int offset) {
    const ForeignField& sip = SipObserver::instance().sip_field();
    Scope scope = enclosing_message(tree, sip, tvb, offset);
    if (scope.end <= scope.begin) {
        // The body's bytes are in a data source of their own (decompressed): the message being dissected
        // is the `sip` item added last; its length is not final yet (to the end of its data source).
        const Occurrences all(tree, sip);
        if (all.size() == 0) return scope;
        const field_info* fi = all.at(all.size() - 1);
        const int captured = fi->ds_tvb ? static_cast<int>(tvb_captured_length(fi->ds_tvb)) : 0;
        scope = Scope{fi->ds_tvb, fi->start, std::min(captured, fi->length < 0 ? captured : fi->start + fi->length)};
    }
    return scope;
}

std::optional<core::sip::Message> enclosing_sip_message(proto_tree* tree, tvbuff_t* tvb, int offset) {
    const Scope scope = enclosing_sip_scope(tree, tvb, offset);
    if (!scope.ds || scope.end <= scope.begin) return std::nullopt;
    const guint8* p = bytes_at(scope.ds, scope.begin, scope.end - scope.begin);
    if (!p) return std::nullopt;
    try {
        core::sip::Message m;
        const auto status = core::sip::parse(
            std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(scope.end - scope.begin)), m);
        if (status == core::sip::ParseStatus::not_sip) return std::nullopt;
        return m;
    } catch (...) {
        return std::nullopt;  // out of memory: no message rather than an exception into epan
    }
}

}  // namespace sipsleuth::wsglue
