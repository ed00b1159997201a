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

std::string address_text(const address& a) {
    char buf[64];  // an IPv6 address with scope is at most 46 + a few bytes
    buf[0] = '\0';
    address_to_str_buf(&a, buf, static_cast<int>(sizeof buf));
    return std::string(buf);
}

// True when a is after b in the wrap-around sequence space.
bool seq_after(guint32 a, guint32 b) { return static_cast<gint32>(a - b) > 0; }

UintPref* owner_pref = nullptr;

}  // namespace

SipObserver& SipObserver::instance() {
    static SipObserver observer;
    return observer;
}

SipObserver::SipObserver()
    : fields_{&ff_sip_, &ff_tcp_stream_, &ff_tcp_len_, &ff_udp_stream_, &ff_retransmission_, &ff_spurious_} {}

void SipObserver::attach(Protocol& owner) {
    if (owner_pref) return;
    // A static object: the preference keeps pointers to it until exit.
    static UintPref max_flows{owner, "max_retransmission_flows", "TCP connections followed for retransmissions",
                              "Most TCP connection directions whose recent SIP messages are remembered, so that a "
                              "segment Wireshark marks as a retransmission is mapped back to the SIP messages it "
                              "repeats. Connections beyond this are not mapped.",
                              100000};
    owner_pref = &max_flows;
    pref_max_flows_ = &max_flows;
    owner.on_init([this] { reset(); });
    owner.on_cleanup([this] {
        reset();
        sent_ = {};
        spare_.shrink_to_fit();
    });
}

void SipObserver::reset() {
    current_ = Observation();
    spare_.clear();
    current_valid_ = false;
    last_frame_ = 0;
    sent_.clear();
    if (pref_max_flows_) limits_.max_flows = pref_max_flows_->value();
}

const Observation* SipObserver::observe(tvbuff_t*, packet_info* pinfo, proto_tree* tree) {
    if (!tree || PINFO_FD_VISITED(pinfo)) return nullptr;
    if (current_valid_ && last_frame_ == pinfo->num) return &current_;
    // Frame numbers restart only with a new capture; without an owner's init routine, that is the reset.
    if (!pref_max_flows_ && pinfo->num <= last_frame_) reset();
    last_frame_ = pinfo->num;
    current_valid_ = false;
    try {
        current_.frame = core::sip::Frame();
        // Messages go to the spare list and come back with their strings' capacity.
        for (ObservedMessage& m : current_.messages) spare_.push_back(std::move(m));
        current_.messages.clear();
        current_.retransmitted.clear();
        payload_ds_ = nullptr;
        payload_offset_ = 0;
        current_.frame.number = pinfo->num;
        current_.frame.time = nanos(pinfo->abs_ts);
        current_.has_flow = read_flow(pinfo, tree, current_);
        if (current_.has_flow) {
            read_messages(tree, current_);
            if (current_.frame.tcp) {
                if (current_.frame.tcp->retransmission || current_.frame.tcp->spurious) map_retransmission(current_);
                remember_segments(current_);
            }
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
        if (const guint8* p = bytes_at(stream->ds_tvb, stream->start + header, static_cast<int>(tcp.len)))
            o.frame.payload = std::string_view(reinterpret_cast<const char*>(p), tcp.len);
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
    flow.src.address = address_text(pinfo->net_src);
    flow.dst.address = address_text(pinfo->net_dst);
    return true;
}

void SipObserver::read_messages(proto_tree* tree, Observation& o) {
    const Occurrences sips(tree, ff_sip_);
    for (guint i = 0; i < sips.size(); ++i) {
        const field_info* fi = sips.at(i);
        if (spare_.empty()) {
            o.messages.emplace_back();
        } else {
            o.messages.push_back(std::move(spare_.back()));
            spare_.pop_back();
        }
        ObservedMessage& m = o.messages.back();
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
                spare_.push_back(std::move(m));
                o.messages.pop_back();
                continue;
            }
        }
        m.bytes = std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(m.length));
        // parse() resets the message and keeps its strings' capacity (no allocation per message in a
        // steady state).
        core::sip::Message& msg = m.message;
        m.status = core::sip::parse(m.bytes, msg);
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
        ObservedMessage& m = o.messages[i];
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

std::uint64_t SipObserver::direction_key(const core::FlowPacket& flow) {
    // The direction: which end sends, by (address, port) order.
    const bool forward = flow.src.address != flow.dst.address ? flow.src.address < flow.dst.address
                                                              : flow.src.port < flow.dst.port;
    return (static_cast<std::uint64_t>(flow.stream) << 1) | (forward ? 1 : 0);
}

void SipObserver::remember_segments(const Observation& o) {
    if (o.messages.empty()) return;
    const std::uint64_t key = direction_key(o.frame.flow);
    auto it = sent_.find(key);
    if (it == sent_.end()) {
        if (limits_.max_flows && sent_.size() >= limits_.max_flows) return;
        it = sent_.emplace(key, std::deque<SentMessage>()).first;
    }
    std::deque<SentMessage>& ring = it->second;
    for (const ObservedMessage& m : o.messages) {
        if (ring.size() >= limits_.segments_per_flow) ring.pop_front();
        ring.push_back({m.message.seq_begin, m.message.seq_end, {m.message.frame, m.message.index}});
    }
}

void SipObserver::map_retransmission(Observation& o) {
    const core::sip::TcpFacts& tcp = *o.frame.tcp;
    if (tcp.len == 0) return;
    const auto it = sent_.find(direction_key(o.frame.flow));
    if (it == sent_.end()) return;
    const std::uint32_t begin = tcp.seq, end = tcp.seq + tcp.len;
    for (const SentMessage& s : it->second)
        if (seq_after(end, s.seq_begin) && seq_after(s.seq_end, begin)) o.retransmitted.push_back(s.ref);
}

std::optional<core::sip::Message> enclosing_sip_message(proto_tree* tree, tvbuff_t* tvb, int offset) {
    try {
        const Scope scope = enclosing_message(tree, SipObserver::instance().sip_field(), tvb, offset);
        if (!scope.ds || scope.end <= scope.begin) return std::nullopt;
        const guint8* p = bytes_at(scope.ds, scope.begin, scope.end - scope.begin);
        if (!p) return std::nullopt;
        core::sip::Message m;
        const auto status = core::sip::parse(
            std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(scope.end - scope.begin)), m);
        if (status == core::sip::ParseStatus::not_sip) return std::nullopt;
        return m;
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace sipsleuth::wsglue
