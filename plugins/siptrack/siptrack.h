// SPDX-License-Identifier: GPL-2.0-or-later
// What the siptrack translation units share: one protocol and one post-dissector, whose analyses live
// in separate files: subscriptions (packet-siptrack.cc: RFC 6665 dialogs across TCP/UDP flows) and
// keepalives (keepalive.cc: REGISTER refreshes, RFC 5626 CRLF pings, SCCP KeepAlive). Each analysis
// declares its own fields, subtrees, experts and preferences against protocol(), adds the foreign
// fields it reads to the post-dissector in handoff, and returns at once on packets that are not its own.
#pragma once

#include <vector>

#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::siptrack {

/// The siptrack protocol ("SIP subscription and keepalive tracking", "SIPTrack", "siptrack"). A
/// function-local static, so fields declared as statics in any file of the plugin can reference it
/// whatever the order of static initialisation.
wsglue::Protocol& protocol();

/// A TCP header's flags and raw acknowledgement number, read from the header bytes around the `tcp.seq`
/// item (which Wireshark adds at the header's offset 4): wanting tcp.flags, tcp.ack and tcp.nxtseq would
/// make each of them a real tree item on every TCP packet of the capture (measured: the post-dissector's
/// main cost). `ok` is false when the header is not all captured (a TCP header quoted in ICMP).
struct TcpHeader {
    guint32 seq_raw = 0, ack_raw = 0;
    guint8 flags = 0;  ///< FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
    bool ok = false;
};
TcpHeader tcp_header(const field_info* seq);

namespace keepalive {
/// Foreign fields the keepalive analysis reads; the post-dissector wants them (while enabled).
std::vector<wsglue::ForeignField*> wanted();
/// Registers the keepalive statistics table (`tshark -z siptrack,keepalives`); from proto_register.
void register_ui();
/// The keepalive analysis of one packet, called by the siptrack post-dissector for every packet;
/// returns at once when none of its wanted fields is present. `tree` is the packet's top-level tree.
void dissect(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree);
}  // namespace keepalive

}  // namespace sipsleuth::siptrack
