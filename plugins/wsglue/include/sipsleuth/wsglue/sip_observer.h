// SPDX-License-Identifier: GPL-2.0-or-later
// The suite's one SIP reader (issue 15, point 1). Each frame is turned into core values once, on the
// first pass, whichever of the six protocols asks first: the frame's transport facts (core::sip::Frame:
// number, integer-nanosecond time, flow and direction, TCP seq/ack/flags/retransmission, payload) and
// each SIP message in it (core::sip::Message, parsed by core::sip::parse from the bytes of the SIP
// dissector's `sip` item, so reassembled messages and several messages per segment come out right and
// no sip.* header field is ever wanted), with the verdicts of the suite's one TransactionLayer and
// DialogLayer (RFC 3261 sections 17 and 12), which it owns and feeds once per message. A frame that
// Wireshark's TCP analysis marks as a retransmission is mapped back, by sequence numbers, to the earlier
// messages whose bytes it repeats (SIP never sees such a segment again).
//
// Why so few wanted fields: a wanted field makes Wireshark build its item on every packet. Measured in
// issue 15: wanting only `sip` costs 1.02x plain tshark, the union of the fields the plugins wanted
// before 1.43x. The observer wants `sip`, `tcp.stream`, `tcp.len`, `udp.stream` and the two rare TCP
// analysis flags; TCP and UDP header values are read from the bytes at the stream items' offsets
// (both items sit at offset 0 of their header). docs/design.md has the measured cost of this choice.
//
// Lifetime: the Observation returned by observe() is valid until the next frame is observed (or the
// capture ends); `frame.payload` and `ObservedMessage::bytes` point into epan memory and are valid only
// while the frame is being dissected. The observer holds no epan memory across frames and no C++ object
// in wmem (shared/DESIGN.md, rules at the boundary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "sipsleuth/core/sip/dialog.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"
#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

/// One SIP message of the observed frame.
struct ObservedMessage {
    core::sip::Message message;  ///< frame, index, time, flow and TCP sequence range filled too
    core::sip::ParseStatus status = core::sip::ParseStatus::ok;
    /// Where the message's bytes are (the `sip` item): its data source (the frame's tvb, or a reassembled
    /// PDU's tvb when the message spans TCP segments), offset and length in it. Body offsets of `message`
    /// are relative to `offset`. `ds` and `bytes` are valid only while this frame is being dissected.
    tvbuff_t* ds = nullptr;
    int offset = 0, length = 0;
    std::string_view bytes;
    bool reassembled = false;  ///< ds is not the frame's own tvb (the message spans segments)
    /// The suite's TransactionLayer on this message (its transaction, retransmission or reflection,
    /// request/response links), computed once here.
    core::sip::TxnVerdict transaction;
    /// The suite's DialogLayer on this message (its dialog, created/confirmed/terminated, forks).
    core::sip::DialogVerdict dialog;
};

/// The SIP messages of a frame in frame order, read-only and used like a vector (range-for, size, empty,
/// operator[], front, back). Its storage is kept from frame to frame, so each message's strings keep their
/// capacity: parse() fills them again without allocating in a steady state.
class MessageList {
public:
    using const_iterator = std::vector<ObservedMessage>::const_iterator;
    const_iterator begin() const { return items_.begin(); }
    const_iterator end() const { return items_.begin() + static_cast<std::ptrdiff_t>(count_); }
    std::size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    const ObservedMessage& operator[](std::size_t i) const { return items_[i]; }
    const ObservedMessage& front() const { return items_.front(); }
    const ObservedMessage& back() const { return items_[count_ - 1]; }

private:
    friend class SipObserver;
    /// Most messages whose storage is kept past a frame that had more (a hostile frame of thousands).
    static constexpr std::size_t kKept = 16;
    ObservedMessage& add() {
        if (count_ == items_.size()) items_.emplace_back();
        return items_[count_++];
    }
    ObservedMessage& mut(std::size_t i) { return items_[i]; }
    void drop_last() { --count_; }
    void clear() {
        count_ = 0;
        if (items_.size() > kKept) items_.resize(kKept);
    }

    std::vector<ObservedMessage> items_;
    std::size_t count_ = 0;
};

/// What one frame shows, computed once per frame on the first pass.
struct Observation {
    core::sip::Frame frame;
    /// Whether the frame is a TCP segment or UDP datagram the observer could read (frame.flow filled);
    /// false for other frames (frame.number and frame.time are still filled).
    bool has_flow = false;
    MessageList messages;  ///< in frame order; empty for frames without SIP
    /// For a TCP (spurious) retransmission: the earlier SIP messages, sent in the same direction of the
    /// same connection, whose bytes this segment carries again (oldest first, with their transactions;
    /// TransactionLayer::on_tcp_retransmission). Empty otherwise.
    std::vector<core::sip::TcpRetransmissionHit> retransmitted;

    /// The message whose bytes hold `offset` of data source `ds` (e.g. a body a body dissector saw, by
    /// tvb_get_ds_tvb and tvb_raw_offset), or nullptr.
    const ObservedMessage* message_at(const tvbuff_t* ds, int offset) const {
        for (const ObservedMessage& m : messages)
            if (m.ds == ds && offset >= m.offset && offset < m.offset + m.length) return &m;
        return nullptr;
    }
};

/// The suite's one SIP reader. One instance per shared object (instance()), so the six protocols share
/// it: the first post-dissector to call observe() on a frame computes the Observation, the others get
/// the same one.
class SipObserver {
public:
    /// The one observer of this shared object.
    static SipObserver& instance();

    SipObserver(const SipObserver&) = delete;
    SipObserver& operator=(const SipObserver&) = delete;

    /// Registers the layer's bounds as preferences of `owner` (`<owner>.max_transactions`,
    /// `<owner>.max_dialogs`) and resets the observer, the TransactionLayer and the DialogLayer from
    /// owner's init and cleanup routines (which run for every protocol of the shared object). Call once,
    /// during static initialisation, from the protocol that owns the SIP layer's preferences (siptrack in
    /// the suite; the probe in the test plugin). Without an owner, defaults apply and state is reset when
    /// frame numbers restart.
    void attach(Protocol& owner);

    /// The foreign fields observe() reads. Every post-dissector that calls observe() wants them
    /// (`post.want(SipObserver::instance().fields())` before handoff), so they are primed while at least
    /// one of those protocols is enabled and never otherwise (shared/DESIGN.md, rule 6). Resolved by
    /// PostDissector::handoff().
    const std::vector<ForeignField*>& fields() const { return fields_; }

    /// The frame's observation: computed on the first call for pinfo->num on the first pass, the same
    /// object for later calls on that frame. nullptr on revisits (PINFO_FD_VISITED: render stored
    /// verdicts), without a tree (wanted fields not primed), or when reading failed (a C++ exception,
    /// caught here). Never throws; raises no epan exception (bytes are bounds-checked first).
    const Observation* observe(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree);

    /// The `sip` field (for enclosing_sip_message and for callers that only need to know if a frame
    /// carries SIP).
    const ForeignField& sip_field() const { return ff_sip_; }

    /// The suite's one TransactionLayer and DialogLayer, which observe() feeds with every message once.
    /// For look-ups (find, forks) and write-backs; never fed by anyone else.
    core::sip::TransactionLayer& transactions() { return *txns_; }
    core::sip::DialogLayer& dialogs() { return *dialogs_; }

private:
    SipObserver();
    void reset();
    bool read_flow(packet_info* pinfo, proto_tree* tree, Observation& o);
    void read_messages(proto_tree* tree, Observation& o);
    void assign_sequence_ranges(Observation& o) const;
    void run_layers(Observation& o);

    ForeignField ff_sip_{"sip"};
    ForeignField ff_tcp_stream_{"tcp.stream"};
    ForeignField ff_tcp_len_{"tcp.len"};
    ForeignField ff_udp_stream_{"udp.stream"};
    ForeignField ff_retransmission_{"tcp.analysis.retransmission"};
    ForeignField ff_spurious_{"tcp.analysis.spurious_retransmission"};
    std::vector<ForeignField*> fields_;

    const UintPref* pref_max_transactions_ = nullptr;
    const UintPref* pref_max_dialogs_ = nullptr;
    std::unique_ptr<core::sip::TransactionLayer> txns_;
    std::unique_ptr<core::sip::DialogLayer> dialogs_;
    Observation current_;
    bool current_valid_ = false;
    std::uint32_t last_frame_ = 0;
    tvbuff_t* payload_ds_ = nullptr;  ///< the current frame's TCP/UDP payload: data source and offset
    int payload_offset_ = 0;

};

/// For body dissectors called by SIP while it dissects a message (dialoginfo, rlmi, ciscoalarm media-type
/// handlers): the message whose body starts at `offset` of `tvb`, parsed from its `sip` item's bytes up
/// to `offset` (headers only: parse() reports it truncated when Content-Length announces the body being
/// dissected, and body_offset/body_length are not meaningful). A body in a data source of its own (a
/// gzip-decoded body) belongs to the `sip` item SIP added last, whose bytes are parsed whole then.
/// std::nullopt when there is no `sip` item (SIP's `sip` field not primed: the caller's post-dissector
/// must want SipObserver::instance().fields(); tshark -2's second pass primes nothing) or its bytes are
/// no SIP message. frame, index, time, flow and sequence range are not filled. Never throws.
std::optional<core::sip::Message> enclosing_sip_message(proto_tree* tree, tvbuff_t* tvb, int offset);

/// The bytes of the SIP message enclosing `offset` of `tvb` as enclosing_sip_message finds them (the
/// `sip` item SIP added last when the body is in a data source of its own): where that message's header
/// items (Content-ID, ...) are to be looked for. An empty scope when there is none.
Scope enclosing_sip_scope(proto_tree* tree, tvbuff_t* tvb, int offset);

}  // namespace sipsleuth::wsglue
