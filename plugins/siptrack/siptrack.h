// SPDX-License-Identifier: GPL-2.0-or-later
// What the siptrack translation units share: one protocol and one post-dissector, whose analyses live
// in separate files: subscriptions (packet-siptrack.cc: RFC 6665 dialogs across TCP/UDP flows) and
// keepalives (keepalive.cc: REGISTER refreshes, RFC 5626 CRLF pings, SCCP KeepAlive). Each analysis
// declares its own fields, subtrees, experts and preferences against protocol(), adds the foreign
// fields it reads to the post-dissector in handoff, and returns at once on packets that are not its own.
#pragma once

#include <cstdint>
#include <vector>

#include "sipsleuth/wsglue/fields.h"
#include "sipsleuth/wsglue/registry.h"
#include "sipsleuth/wsglue/sip_observer.h"

namespace sipsleuth::siptrack {

/// The siptrack protocol ("SIP subscription and keepalive tracking", "SIPTrack", "siptrack"). A
/// function-local static, so fields declared as statics in any file of the plugin can reference it
/// whatever the order of static initialisation.
wsglue::Protocol& protocol();

/// `siptrack.caused_by` (FT_FRAMENUM, "Caused by"): on a consequence, the frame of its cause (the stale-flow
/// NOTIFY behind a reset, a lapsed REGISTER behind its retransmissions). Shared by every siptrack analysis.
const wsglue::Field& caused_by_field();
/// Adds a generated `siptrack.caused_by` -> `cause_frame` to `tree` (nothing when `cause_frame` is 0).
proto_item* add_caused_by(proto_tree* tree, tvbuff_t* tvb, std::uint32_t cause_frame);

/// Queues a short tag for this frame's Info column (`label`: a static string, or packet-scope memory).
/// The post-dissector writes the frame's tags once, after every analysis has run, as
/// " [SIPTrack: a, b]" (distinct labels in the order given), fenced like SIP's own text so that a later
/// col_add_* cannot erase it.
void info_tag(packet_info* pinfo, const char* label);

/// TCP flags and raw numbers come from the header bytes (wsglue::tcp_header), not from wanted
/// tcp.flags/tcp.ack fields: each wanted field is an item built on every TCP packet.
using wsglue::TcpHeader;
using wsglue::tcp_header;

namespace keepalive {
/// Foreign fields the keepalive analysis needs (the SipObserver's and skinny.*); the post-dissector wants
/// them (while enabled).
std::vector<wsglue::ForeignField*> wanted();
/// Registers the keepalive statistics table (`tshark -z siptrack,keepalives`); from proto_register.
void register_ui();
/// The keepalive analysis of one packet, called by the siptrack post-dissector for every packet with
/// the frame's Observation (SipObserver::observe: non-null on the first pass only, which analyses;
/// every pass renders what was stored). `tree` is the packet's top-level tree.
void dissect(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const wsglue::Observation* observation);
}  // namespace keepalive

}  // namespace sipsleuth::siptrack
