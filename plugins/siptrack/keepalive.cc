// SPDX-License-Identifier: GPL-2.0-or-later
// siptrack keepalives (issue 5, field case 004: a Cisco 8961 dropped every 16 minutes because its REGISTER
// keepalives were lost and TCP back-off outgrew CUCM's 15 s grace; SCCP phones failing over after three
// missed KeepAlives). Three analyses on the siptrack post-dissector, all tracked in the core:
// - SIP REGISTER refreshes per binding (core/registration.h): interval, expiry asked and granted, margin,
//   retransmissions as the suite's TransactionLayer finds them (same transaction, same direction; TCP
//   retransmissions of the REGISTER's own segment, which Wireshark does not hand to SIP again, mapped back
//   by the SipObserver), lapses, late refreshes, Cisco backup keepalives, de-registrations and registrar
//   switches;
// - RFC 5626 CRLF keepalives on SIP-over-TCP connections (core/keepalive.h), read from the segment's
//   payload since Wireshark shows a bare CRLF or CRLFCRLF segment as TCP only;
// - SCCP KeepAlive/KeepAliveAck pairing per TCP connection (core/sccp.h), several Skinny PDUs per segment
//   (skinny.* fields; TCP numbers from the frame).
// SIP messages, TCP facts and the payload come from wsglue::SipObserver's Observation of the frame: this
// file reads no sip.* or tcp.* field.
// Analysis runs on the first pass; each frame keeps the indexes of the records it shows, and every pass
// renders those records' current state, so a finding learnt later (an Ack that never came, a pong that
// never came, a retransmission) shows on the packet it is about on revisits (-2, the GUI). A finding learnt
// on a later packet is named there, with its expert info, only on the first pass (a single-pass tshark
// run), and on revisits by a frame reference only: each finding is counted once in both modes.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "siptrack.h"
#include "sipsleuth/core/keepalive.h"
#include "sipsleuth/core/registration.h"
#include "sipsleuth/core/sccp.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/stat_table.h"
#include "sipsleuth/wsglue/store.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;

namespace sipsleuth::siptrack::keepalive {
namespace {

ws::Protocol& proto = protocol();

// SIP REGISTER refreshes.
ws::Field hf_register{proto, "siptrack.register", "REGISTER keepalive", FT_NONE, BASE_NONE, nullptr,
                      "Refresh analysis of a REGISTER or of its response."};
ws::Field hf_reg_binding{proto, "siptrack.register.binding", "Binding", FT_UINT32, BASE_DEC, nullptr,
                         "Number of the binding (address of record, instance or Contact, registrar), from 1."};
ws::Field hf_reg_kind{proto, "siptrack.register.kind", "Kind", FT_STRING, BASE_NONE, nullptr,
                      "registration, refresh, backup keepalive or de-registration."};
ws::Field hf_reg_aor{proto, "siptrack.register.aor", "Address of record", FT_STRING, BASE_NONE, nullptr,
                     "The To URI of the REGISTER."};
ws::Field hf_reg_contact{proto, "siptrack.register.contact", "Contact", FT_STRING, BASE_NONE, nullptr,
                         "The binding's +sip.instance, or its Contact URI when it has none."};
ws::Field hf_reg_registrar{proto, "siptrack.register.registrar", "Registrar", FT_STRING, BASE_NONE, nullptr,
                           "Address and port the REGISTER was sent to."};
ws::Field hf_reg_interval{proto, "siptrack.register.interval", "Interval", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                          "Time since the previous REGISTER of this binding (first copies)."};
ws::Field hf_reg_asked{proto, "siptrack.register.expires_asked", "Expires asked", FT_UINT32, BASE_DEC, nullptr,
                       "Seconds asked: the Contact's expires parameter, else the Expires header."};
ws::Field hf_reg_previous_grant{proto, "siptrack.register.previous_grant", "Previous grant", FT_UINT32, BASE_DEC,
                                nullptr, "Seconds granted to the registration this REGISTER refreshes."};
ws::Field hf_reg_granted{proto, "siptrack.register.expires_granted", "Expires granted", FT_UINT32, BASE_DEC, nullptr,
                         "Seconds granted by the 2xx: its Contact's expires parameter for this binding, else its Expires header."};
ws::Field hf_reg_margin{proto, "siptrack.register.margin", "Refresh margin", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                        "Previous grant minus the interval: negative when the refresh came after the expiry."};
ws::Field hf_reg_copy{proto, "siptrack.register.copy", "Copy", FT_UINT32, BASE_DEC, nullptr,
                      "1 for the first transmission of the REGISTER, 2 for its first retransmission, ..."};
ws::Field hf_reg_original{proto, "siptrack.register.original", "First copy in", FT_FRAMENUM, BASE_NONE, nullptr,
                          "The frame of the REGISTER's first transmission."};
ws::Field hf_reg_retrans{proto, "siptrack.register.retransmissions", "Retransmissions", FT_UINT32, BASE_DEC, nullptr,
                         "Retransmissions of this REGISTER seen so far (SIP over UDP, or TCP retransmissions of its segment)."};
ws::Field hf_reg_retrans_frame{proto, "siptrack.register.retransmission_in", "Retransmission in", FT_FRAMENUM,
                               BASE_NONE, nullptr, "A frame retransmitting this REGISTER."};
ws::Field hf_reg_backoff{proto, "siptrack.register.backoff", "Back-off", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                         "Time between a copy of the REGISTER and the copy before it, one per retransmission."};
ws::Field hf_reg_response_in{proto, "siptrack.register.response_in", "Final response in", FT_FRAMENUM, BASE_NONE,
                             nullptr, "The frame of the REGISTER's final response."};
ws::Field hf_reg_request_in{proto, "siptrack.register.request_in", "Request in", FT_FRAMENUM, BASE_NONE, nullptr,
                            "The frame of the first copy of the REGISTER this response answers."};
ws::Field hf_reg_response_time{proto, "siptrack.register.response_time", "Time to final response", FT_RELATIVE_TIME,
                               BASE_NONE, nullptr, "From the REGISTER's first copy to its final response."};
ws::Field hf_reg_lapse{proto, "siptrack.register.lapse", "Lapse", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                       "How long after the granted expiry this copy of the refresh was sent."};
ws::Field hf_reg_switch_from{proto, "siptrack.register.previous_registrar", "Previous registrar", FT_STRING, BASE_NONE,
                             nullptr, "The registrar the device registered with before this one."};
ws::Field hf_reg_since_switch{proto, "siptrack.register.since_switch", "Since previous switch", FT_RELATIVE_TIME,
                              BASE_NONE, nullptr, "Time since the device's previous registrar switch."};

// RFC 5626 CRLF keepalives.
ws::Field hf_crlf{proto, "siptrack.crlf", "CRLF keepalive", FT_NONE, BASE_NONE, nullptr,
                  "RFC 5626 double-CRLF ping or single-CRLF pong."};
ws::Field hf_crlf_type{proto, "siptrack.crlf.type", "Type", FT_STRING, BASE_NONE, nullptr, "ping or pong."};
ws::Field hf_crlf_interval{proto, "siptrack.crlf.interval", "Interval", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                           "Time since the previous ping on this connection."};
ws::Field hf_crlf_flow_timer{proto, "siptrack.crlf.flow_timer", "Flow-Timer", FT_UINT32, BASE_DEC, nullptr,
                             "Seconds between keepalives the registrar asked for (Flow-Timer header, RFC 5626 section 8.4)."};
ws::Field hf_crlf_pong_in{proto, "siptrack.crlf.pong_in", "Pong in", FT_FRAMENUM, BASE_NONE, nullptr,
                          "The frame of this ping's pong."};
ws::Field hf_crlf_ping_in{proto, "siptrack.crlf.ping_in", "Ping in", FT_FRAMENUM, BASE_NONE, nullptr,
                          "The frame of the ping this pong answers, or whose missing pong is reported here."};
ws::Field hf_crlf_pong_delay{proto, "siptrack.crlf.pong_delay", "Pong delay", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                             "Time from the ping to its pong."};

// SCCP KeepAlive.
ws::Field hf_sccp{proto, "siptrack.sccp", "SCCP keepalive", FT_NONE, BASE_NONE, nullptr,
                  "Pairing of a Skinny KeepAlive with its KeepAliveAck."};
ws::Field hf_sccp_interval{proto, "siptrack.sccp.interval", "Interval", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                           "Time since the previous KeepAlive on this connection."};
ws::Field hf_sccp_expected{proto, "siptrack.sccp.expected_interval", "Expected interval", FT_UINT32, BASE_DEC, nullptr,
                           "Seconds: the connection's RegisterAck keepAliveInterval, else the secondaryKeepAliveInterval of the phone's RegisterAck on another connection (a backup), else the default preference."};
ws::Field hf_sccp_ack_in{proto, "siptrack.sccp.ack_in", "KeepAliveAck in", FT_FRAMENUM, BASE_NONE, nullptr,
                         "The frame of this KeepAlive's KeepAliveAck."};
ws::Field hf_sccp_ack_delay{proto, "siptrack.sccp.ack_delay", "Ack delay", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                            "Time from the KeepAlive to its KeepAliveAck."};
ws::Field hf_sccp_tcp_ack_in{proto, "siptrack.sccp.tcp_ack_in", "TCP acknowledgement in", FT_FRAMENUM, BASE_NONE,
                             nullptr, "The frame in which CUCM acknowledged the KeepAlive's segment at TCP level."};
ws::Field hf_sccp_role{proto, "siptrack.sccp.role", "CUCM role", FT_STRING, BASE_NONE, nullptr,
                       "primary (answers KeepAliveAck) or backup (acknowledges at TCP level only)."};
ws::Field hf_sccp_keepalive_in{proto, "siptrack.sccp.keepalive_in", "KeepAlive in", FT_FRAMENUM, BASE_NONE, nullptr,
                               "The frame of the KeepAlive this Ack answers, or whose missing Ack is reported here."};
ws::Field hf_sccp_missed{proto, "siptrack.sccp.missed_in_row", "Missed in a row", FT_UINT32, BASE_DEC, nullptr,
                         "Consecutive unacknowledged KeepAlives on this connection, this one included."};

ws::Subtree ett_register{proto};
ws::Subtree ett_crlf{proto};
ws::Subtree ett_sccp{proto};

ws::Expert ei_lapsed{proto, "siptrack.registration_lapsed", PI_SEQUENCE, PI_WARN,
                     "Registration lapsed: refresh sent after the granted expiry"};
ws::Expert ei_retransmitted{proto, "siptrack.register_retransmitted", PI_SEQUENCE, PI_NOTE, "REGISTER retransmitted"};
ws::Expert ei_late{proto, "siptrack.register_late", PI_SEQUENCE, PI_NOTE, "REGISTER refresh later than expected"};
ws::Expert ei_backup_keepalive{proto, "siptrack.backup_keepalive", PI_SEQUENCE, PI_CHAT,
                               "Keepalive REGISTER to a backup registrar"};
ws::Expert ei_deregistration{proto, "siptrack.deregistration", PI_SEQUENCE, PI_CHAT, "De-registration"};
ws::Expert ei_switch{proto, "siptrack.registrar_switch", PI_SEQUENCE, PI_NOTE, "Device registered with another registrar"};
ws::Expert ei_pong_missing{proto, "siptrack.crlf_pong_missing", PI_SEQUENCE, PI_WARN, "CRLF keepalive not answered"};
ws::Expert ei_ping_late{proto, "siptrack.crlf_ping_late", PI_SEQUENCE, PI_NOTE, "CRLF keepalive later than the Flow-Timer"};
ws::Expert ei_unacked{proto, "siptrack.sccp_keepalive_unacked", PI_SEQUENCE, PI_WARN, "SCCP KeepAlive not acknowledged"};
ws::Expert ei_failover{proto, "siptrack.sccp_failover_expected", PI_SEQUENCE, PI_WARN,
                       "Third SCCP KeepAlive in a row unacknowledged: failover expected"};
ws::Expert ei_full{proto, "siptrack.keepalive_state_full", PI_UNDECODED, PI_NOTE,
                   "Keepalive tracking limit reached: later keepalives are not analysed"};
ws::Expert ei_copies_full{proto, "siptrack.register_copies_full", PI_UNDECODED, PI_NOTE,
                          "REGISTER copies limit reached: later copies are counted, not listed"};

ws::UintPref pref_grace{proto, "register_grace", "Registrar grace period (s)",
                        "Seconds a registrar tolerates a refresh after the granted expiry before it unregisters the "
                        "device (CUCM: 15).", 15};
ws::UintPref pref_delta{proto, "register_late_delta", "Refresh delta (s)",
                        "Phones refresh this many seconds before the granted expiry (Cisco: 5); a refresh later than "
                        "that is late.", 5};
ws::UintPref pref_slack{proto, "register_late_slack_ms", "Refresh timer jitter (ms)",
                        "Lateness tolerated before a refresh is called late (phone timer jitter).", 1000};
ws::UintPref pref_pong_timeout{proto, "crlf_pong_timeout", "CRLF pong timeout (s)",
                               "Seconds within which a CRLF ping must be answered (RFC 5626 section 4.4.1: 10).", 10};
ws::UintPref pref_sccp_interval{proto, "sccp_keepalive_interval", "SCCP keepalive interval (s)",
                                "Expected KeepAlive interval on connections without a RegisterAck (Cisco: 30).", 30};
ws::UintPref pref_max_tracked{proto, "keepalive_max_tracked", "Most bindings and connections tracked",
                              "Most REGISTER bindings, CRLF and SCCP connections tracked (each).", 10000};
ws::UintPref pref_max_records{proto, "keepalive_max_records", "Most keepalive messages tracked",
                              "Most REGISTERs, CRLF pings and SCCP KeepAlives remembered (each).", 1000000};
ws::UintPref pref_max_copies{proto, "max_register_copies", "Most copies listed per REGISTER",
                             "Copies of one REGISTER (the first and its retransmissions) listed with their frames "
                             "and back-offs; later copies are only counted.", 64};

// SIP and TCP come from the suite's one reader (wsglue::SipObserver); only Skinny is read here.
ws::ForeignField ff_skinny{"skinny"};
ws::ForeignField ff_skinny_id{"skinny.messageId"};
ws::ForeignField ff_skinny_interval{"skinny.keepAliveInterval"};
ws::ForeignField ff_skinny_secondary{"skinny.secondaryKeepAliveInterval"};

// What a frame shows: indexes into the trackers' records.
enum class What : std::uint8_t {
    register_copy,      // index: record, extra: copy
    register_response,  // index: record
    crlf_ping,          // index: ping
    crlf_pong,          // index: ping
    crlf_missing,       // index: ping whose missing pong was learnt on this frame
    sccp_keepalive,     // index: keepalive
    sccp_ack,           // index: keepalive
    sccp_unacked,       // index: keepalive whose missing Ack was learnt on this frame
    full,               // a tracking bound was reached on this frame
};
struct Entry {
    What what;
    std::size_t index = 0, extra = 0;
};
struct Verdict {
    std::vector<Entry> entries;
};

// Tracker state, created per capture.
struct State {
    core::RegistrationTracker registrations;
    core::CrlfTracker crlf;
    core::SccpTracker sccp;
    bool full_reported = false;
    // One table of TCP connections for CRLF and SCCP (issue 15).
    State(core::RegistrationTracker::Settings r, core::CrlfTracker::Settings c, core::SccpTracker::Settings s,
          const std::shared_ptr<core::KeepaliveStreams>& streams)
        : registrations(r), crlf(c, streams), sccp(s, streams) {}
};
std::unique_ptr<State> state;
ws::FrameStore<Verdict> verdicts{proto, 2000000};
// Which frames have a verdict: a bit test instead of a hash look-up that misses on almost every frame.
std::vector<bool> has_verdict;

constexpr core::Nanos kSecond = core::kSecond;

// Table keys hold a tracker index in 28 bits: the tracking bound never exceeds that.
constexpr guint kMaxTracked = 0x0FFFFFFF;

void reset() {
    const std::size_t max_tracked = std::min<guint>(pref_max_tracked.value(), kMaxTracked);
    core::RegistrationTracker::Settings r;
    r.grace = static_cast<core::Nanos>(pref_grace.value()) * kSecond;
    r.late_delta = static_cast<core::Nanos>(pref_delta.value()) * kSecond;
    r.late_slack = static_cast<core::Nanos>(pref_slack.value()) * 1000000;
    r.max_bindings = max_tracked;
    r.max_records = pref_max_records.value();
    r.max_copies = std::max<guint>(pref_max_copies.value(), 1);
    core::CrlfTracker::Settings c;
    c.pong_timeout = static_cast<core::Nanos>(pref_pong_timeout.value()) * kSecond;
    c.max_connections = max_tracked;
    c.max_pings = pref_max_records.value();
    core::SccpTracker::Settings s;
    s.default_interval = pref_sccp_interval.value();
    s.max_connections = max_tracked;
    s.max_keepalives = pref_max_records.value();
    // As many streams as keepalive records (CRLF remembered that many SIP streams before).
    state = std::make_unique<State>(r, c, s, std::make_shared<core::KeepaliveStreams>(pref_max_records.value()));
    has_verdict.clear();
}
[[maybe_unused]] const bool hooks = [] {
    proto.on_init([] { reset(); });
    proto.on_cleanup([] {
        state.reset();
        has_verdict = {};
    });
    return true;
}();

// Table rows: the kind in the top bits of the key, the tracker's index below.
enum RowKind : guint { row_binding = 1, row_crlf = 2, row_sccp = 3 };
constexpr guint row_key(RowKind k, std::size_t i) { return (static_cast<guint>(k) << 28) | static_cast<guint>(i); }

double seconds(core::Nanos d) { return static_cast<double>(d) / static_cast<double>(kSecond); }

bool fetch_row(guint key, std::vector<ws::StatTable::Cell>& cells) {
    if (!state) return false;
    const guint kind = key >> 28;
    const std::size_t i = key & 0x0FFFFFFF;
    auto stats = [&](const core::IntervalStats& st, guint count) {
        cells.emplace_back(count);
        cells.emplace_back(st.count() ? seconds(st.min()) : 0.0);
        cells.emplace_back(st.count() ? seconds(st.median()) : 0.0);
        cells.emplace_back(st.count() ? seconds(st.max()) : 0.0);
    };
    if (kind == row_binding && i < state->registrations.bindings()) {
        const core::Binding& b = state->registrations.binding(i);
        const core::Device& d = state->registrations.device(b.device);
        cells.emplace_back(std::string(b.keepalives == b.registers ? "SIP backup keepalive" : "SIP REGISTER"));
        cells.emplace_back(b.device_address + " " + b.aor + " " + b.contact);
        cells.emplace_back(b.registrar);
        stats(b.intervals, b.registers);
        cells.emplace_back(guint{b.retransmissions});
        cells.emplace_back(guint{b.lapses});
        cells.emplace_back(guint{b.late});
        cells.emplace_back(guint{0});
        cells.emplace_back(guint{d.switches});
        return true;
    }
    if (kind == row_crlf && i < state->crlf.connections()) {
        const core::CrlfConnection& c = state->crlf.connection(i);
        if (c.pings == 0) return false;
        cells.emplace_back(std::string("CRLF keepalive (TCP stream ") + std::to_string(c.stream) + ")");
        cells.emplace_back(c.client);
        cells.emplace_back(c.server);
        stats(c.intervals, c.pings);
        cells.emplace_back(guint{0});
        cells.emplace_back(guint{0});
        cells.emplace_back(guint{c.late});
        cells.emplace_back(guint{c.missing});
        cells.emplace_back(guint{0});
        return true;
    }
    if (kind == row_sccp && i < state->sccp.connections()) {
        const core::SccpConnection& c = state->sccp.connection(i);
        if (c.keepalives == 0 && c.acks == 0) return false;
        const char* role = c.acks ? "primary" : (c.keepalives > 1 ? "backup" : "unknown");
        cells.emplace_back(std::string("SCCP ") + role + " (TCP stream " + std::to_string(c.stream) + ")");
        cells.emplace_back(c.phone);
        cells.emplace_back(c.cucm);
        stats(c.intervals, c.keepalives);
        cells.emplace_back(guint{0});
        cells.emplace_back(guint{0});
        cells.emplace_back(guint{0});
        cells.emplace_back(guint{c.unacked});
        cells.emplace_back(guint{0});
        return true;
    }
    return false;
}

ws::StatTable table{proto,
                    "siptrack,keepalives",
                    "SIPTrack keepalives",
                    {{"Keepalive", ws::StatTable::Kind::String},
                     {"Device", ws::StatTable::Kind::String},
                     {"Peer", ws::StatTable::Kind::String},
                     {"Count", ws::StatTable::Kind::Uint},
                     {"Min interval (s)", ws::StatTable::Kind::Float},
                     {"Median interval (s)", ws::StatTable::Kind::Float},
                     {"Max interval (s)", ws::StatTable::Kind::Float},
                     {"Retransmissions", ws::StatTable::Kind::Uint},
                     {"Lapses", ws::StatTable::Kind::Uint},
                     {"Late", ws::StatTable::Kind::Uint},
                     {"Missed answers", ws::StatTable::Kind::Uint},
                     {"Registrar switches", ws::StatTable::Kind::Uint}},
                    fetch_row};

// "address:port", IPv6 in brackets: how siptrack names connection ends and registrars.
std::string endpoint(const core::Endpoint& e) {
    std::string s;
    s.reserve(e.address.size() + 8);
    const bool v6 = e.address.find(':') != std::string::npos;
    if (v6) s += '[';
    s += e.address;
    if (v6) s += ']';
    s += ':';
    s += std::to_string(e.port);
    return s;
}

std::optional<guint32> uint_in(proto_tree* tree, const ws::ForeignField& f, const ws::Scope& scope) {
    field_info* fi = ws::Occurrences(tree, f).first_in(scope);
    if (!fi) return std::nullopt;
    return static_cast<guint32>(ws::uint_value(fi));
}

// First pass: every SIP message of the frame that is a REGISTER or answers one, with the suite's
// TransactionLayer verdict on it (which copies are retransmissions is its call).
void analyse_sip(const ws::Observation& o, std::optional<std::uint32_t> stream, Verdict& v) {
    State& st = *state;
    for (const ws::ObservedMessage& om : o.messages) {
        if (om.status == core::sip::ParseStatus::not_sip) continue;
        const core::sip::Message& m = om.message;
        if (stream && m.flow_timer) st.crlf.on_flow_timer(*stream, *m.flow_timer);
        if (m.cseq_method != "REGISTER") continue;
        if (m.request) {
            if (m.method != "REGISTER") continue;
            if (const auto ref = st.registrations.on_request(m, om.transaction))
                v.entries.push_back({What::register_copy, ref->record, ref->copy});
            continue;
        }
        if (m.status < 200) continue;
        if (const auto rec = st.registrations.on_response(m, om.transaction))
            v.entries.push_back({What::register_response, *rec, 0});
    }
}

// First pass: CRLF pings and pongs (TCP segments of exactly CRLFCRLF or CRLF on a SIP connection), read
// from the segment's payload: Wireshark shows them as TCP only.
void analyse_crlf(const core::sip::Frame& f, Verdict& v, std::vector<core::Learned>& learned) {
    State& st = *state;
    const std::uint32_t len = f.tcp->len;
    if ((len != 2 && len != 4) || f.payload.size() != len) return;
    const std::uint32_t stream = f.flow.stream;
    // A SIP connection: SIP seen on it before, or the SIP port.
    if (!st.crlf.known(stream) && f.flow.src.port != 5060 && f.flow.dst.port != 5060) return;
    if (f.payload == "\r\n\r\n") {
        if (const auto p = st.crlf.on_ping(stream, endpoint(f.flow.src), endpoint(f.flow.dst), f.number, f.time, learned))
            v.entries.push_back({What::crlf_ping, *p, 0});
    } else if (f.payload == "\r\n") {
        if (const auto p = st.crlf.on_pong(stream, endpoint(f.flow.src), f.number, f.time))
            v.entries.push_back({What::crlf_pong, *p, 0});
    }
}

// First pass: the Skinny PDUs of the frame (several per segment), from skinny.* fields; the TCP facts
// from the frame.
void analyse_skinny(proto_tree* tree, const core::sip::Frame& f, Verdict& v, std::vector<core::Learned>& learned) {
    State& st = *state;
    const core::sip::TcpFacts& tcp = *f.tcp;
    const std::uint32_t stream = f.flow.stream;
    // The segment's end as Wireshark's tcp.nxtseq, raw (SYN and FIN count one): the CUCM's raw
    // acknowledgement is compared with it (on_tcp_ack).
    const std::uint32_t nxtseq = tcp.seq + tcp.len + ((tcp.syn || tcp.fin) ? 1 : 0);
    bool keepalive_in_frame = false;
    ws::for_each_message(tree, ff_skinny, [&](const ws::Scope& scope, guint) {
        const std::optional<guint32> id = uint_in(tree, ff_skinny_id, scope);
        if (!id) return;
        switch (*id) {
        case core::kSkinnyKeepAlive:
            // Two KeepAlives in one segment are one keepalive (a phone never sends them so).
            if (keepalive_in_frame) return;
            keepalive_in_frame = true;
            if (const auto k = st.sccp.on_keepalive(stream, endpoint(f.flow.src), endpoint(f.flow.dst), f.number, f.time,
                                                    nxtseq, learned))
                v.entries.push_back({What::sccp_keepalive, *k, 0});
            return;
        case core::kSkinnyKeepAliveAck:
            if (const auto k = st.sccp.on_ack(stream, f.number, f.time)) v.entries.push_back({What::sccp_ack, *k, 0});
            return;
        case core::kSkinnyRegisterAck:
            st.sccp.on_register_ack(stream, f.flow.dst.address, uint_in(tree, ff_skinny_interval, scope).value_or(0),
                                    uint_in(tree, ff_skinny_secondary, scope).value_or(0));
            return;
        default:
            return;
        }
    });
}

// First pass: the TCP side of a frame (TCP retransmissions of REGISTERs, CRLF, SCCP).
void analyse_tcp(proto_tree* tree, const ws::Observation& o, bool sip, Verdict& v,
                 std::vector<core::Learned>& crlf_learned, std::vector<core::Learned>& sccp_learned) {
    State& st = *state;
    const core::sip::Frame& f = o.frame;
    const std::uint32_t stream = f.flow.stream;
    // A retransmission Wireshark did hand to SIP again was counted as a copy by analyse_sip (the layer's
    // verdict); one it did not is known by the messages of the same direction whose bytes it repeats.
    if (f.tcp->retransmission && !sip) {
        for (const core::RegisterRef& ref : st.registrations.on_tcp_retransmission(o.retransmitted, f.number, f.time))
            v.entries.push_back({What::register_copy, ref.record, ref.copy});
    } else if (!sip && !f.tcp->retransmission) {
        analyse_crlf(f, v, crlf_learned);
    }
    if (st.crlf.connection_of(stream)) st.crlf.on_traffic(stream, endpoint(f.flow.src));
    if (ws::Occurrences(tree, ff_skinny).size() > 0) analyse_skinny(tree, f, v, sccp_learned);
    if (const auto c = st.sccp.connection_of(stream)) {
        const core::SccpConnection& conn = st.sccp.connection(*c);
        if (f.tcp->ack_flag && !conn.cucm.empty() && endpoint(f.flow.src) == conn.cucm)
            st.sccp.on_tcp_ack(stream, f.tcp->ack, f.number, f.time);
    }
}

void analyse(proto_tree* tree, const ws::Observation& o) {
    State& st = *state;
    const core::sip::Frame& f = o.frame;
    Verdict v;
    std::vector<core::Learned> crlf_learned, sccp_learned;
    st.crlf.on_time(f.number, f.time, crlf_learned);
    st.sccp.on_time(f.number, f.time, sccp_learned);

    const std::optional<std::uint32_t> stream =
        o.has_flow && f.tcp ? std::optional<std::uint32_t>(f.flow.stream) : std::nullopt;
    const bool sip = !o.messages.empty();
    if (sip) {
        analyse_sip(o, stream, v);
        if (stream) st.crlf.on_sip(*stream);
    }
    if (stream) analyse_tcp(tree, o, sip, v, crlf_learned, sccp_learned);
    for (const core::Learned& l : crlf_learned) v.entries.push_back({What::crlf_missing, l.record, 0});
    for (const core::Learned& l : sccp_learned) v.entries.push_back({What::sccp_unacked, l.record, 0});
    const bool full = st.registrations.full() || st.crlf.full() || st.sccp.full() || verdicts.full();
    if (full && !st.full_reported) {
        st.full_reported = true;
        v.entries.push_back({What::full, 0, 0});
    }
    if (!v.entries.empty() && verdicts.put(f.number, 0, std::move(v))) {
        if (has_verdict.size() <= f.number) has_verdict.resize(f.number + 1 + f.number / 2);
        has_verdict[f.number] = true;
    }
}

// Rendering (every pass), from the records' current state.

void add_time(proto_tree* tree, int hf, core::Nanos d) {
    nstime_t t;
    t.secs = static_cast<time_t>(d / kSecond);
    t.nsecs = static_cast<int>(d % kSecond);
    proto_item_set_generated(proto_tree_add_time(tree, hf, nullptr, 0, 0, &t));
}
proto_item* add_uint(proto_tree* tree, int hf, guint32 value) {
    proto_item* it = proto_tree_add_uint(tree, hf, nullptr, 0, 0, value);
    proto_item_set_generated(it);
    return it;
}
// Strings reach epan as C strings only: no std::string may be alive (even a temporary) during an epan
// call, which may longjmp (too many tree items) past its destructor.
void add_string(proto_tree* tree, int hf, const char* value) {
    proto_item_set_generated(proto_tree_add_string(tree, hf, nullptr, 0, 0, value));
}
// A formatted std::string copied to packet memory; the temporary dies before the next epan call.
const char* packet_str(packet_info* pinfo, const std::string& s) { return wmem_strdup(pinfo->pool, s.c_str()); }
proto_tree* subtree(proto_tree* tree, int hf, int ett, const char* label, proto_item** item) {
    *item = proto_tree_add_none_format(tree, hf, nullptr, 0, 0, "%s", label);
    proto_item_set_generated(*item);
    return proto_item_add_subtree(*item, ett);
}

const char* kind_name(core::RegisterKind k) {
    switch (k) {
    case core::RegisterKind::registration: return "registration";
    case core::RegisterKind::refresh: return "refresh";
    case core::RegisterKind::backup_keepalive: return "backup keepalive";
    case core::RegisterKind::deregistration: return "de-registration";
    }
    return "registration";
}

// The back-offs of copies 2 .. upto + 1 that are listed, then how many are not.
std::string backoff_series(const core::RegisterRecord& rec, std::size_t upto) {
    std::string s;
    std::size_t i = 1;
    for (; i <= upto && i < rec.copies.size(); ++i) {
        if (!s.empty()) s += ", ";
        s += core::format_seconds(rec.copies[i].time - rec.copies[i - 1].time);
    }
    if (i <= upto) s += (s.empty() ? "" : ", ") + std::string("... and ") + std::to_string(upto + 1 - i) + " more";
    return s;
}

void render_register_copy(proto_tree* tree, packet_info* pinfo, std::size_t ri, std::size_t copy) {
    const core::RegistrationTracker& regs = state->registrations;
    const core::RegisterRecord& rec = regs.record(ri);
    const core::Binding& b = regs.binding(rec.binding);
    table.changed(pinfo, row_key(row_binding, rec.binding));
    proto_item* top;
    proto_tree* t = subtree(tree, hf_register, ett_register,
                            wmem_strdup_printf(pinfo->pool, "REGISTER %s of binding %zu to %s, copy %zu",
                                               kind_name(rec.kind), rec.binding + 1, b.registrar.c_str(), copy + 1),
                            &top);
    add_uint(t, hf_reg_binding, static_cast<guint32>(rec.binding + 1));
    add_string(t, hf_reg_kind, kind_name(rec.kind));
    add_string(t, hf_reg_aor, b.aor.c_str());
    add_string(t, hf_reg_contact, b.contact.c_str());
    add_string(t, hf_reg_registrar, b.registrar.c_str());
    add_uint(t, hf_reg_copy, static_cast<guint32>(copy + 1));
    if (copy > 0) proto_item_set_generated(proto_tree_add_uint(t, hf_reg_original, nullptr, 0, 0, rec.copies[0].frame));
    if (rec.interval) add_time(t, hf_reg_interval, *rec.interval);
    if (rec.expires_asked) add_uint(t, hf_reg_asked, *rec.expires_asked);
    if (rec.previous_grant) add_uint(t, hf_reg_previous_grant, *rec.previous_grant);
    if (rec.previous_grant && rec.interval)
        add_time(t, hf_reg_margin, static_cast<core::Nanos>(*rec.previous_grant) * kSecond - *rec.interval);
    add_uint(t, hf_reg_retrans, static_cast<guint32>(rec.copy_count - 1));
    for (std::size_t i = 1; i < rec.copies.size(); ++i) {
        proto_item_set_generated(proto_tree_add_uint(t, hf_reg_retrans_frame, nullptr, 0, 0, rec.copies[i].frame));
        add_time(t, hf_reg_backoff, rec.copies[i].time - rec.copies[i - 1].time);
    }
    if (rec.response_frame) {
        proto_item_set_generated(proto_tree_add_uint(t, hf_reg_response_in, nullptr, 0, 0, *rec.response_frame));
        add_time(t, hf_reg_response_time, rec.response_time);
    }
    if (rec.granted) add_uint(t, hf_reg_granted, *rec.granted);

    if (copy > 0) {
        const char* series = packet_str(pinfo, backoff_series(rec, copy));
        expert_add_info_format(pinfo, top, ei_retransmitted.get(),
                               "REGISTER CSeq %u (frame %u) retransmitted %zu time%s, back-off %s", rec.cseq,
                               rec.copies[0].frame, copy, copy == 1 ? "" : "s", series);
    }
    if (rec.copies_full && *rec.copies_full == copy)
        expert_add_info_format(pinfo, top, ei_copies_full.get(),
                               "REGISTER CSeq %u (frame %u) copy %zu is past siptrack.max_register_copies (%zu): it "
                               "and later copies are counted but their frames and back-offs are not listed",
                               rec.cseq, rec.copies[0].frame, copy + 1, rec.copies.size());
    if (rec.lapse && rec.lapse->copy == copy) {
        const core::Lapse& l = *rec.lapse;
        add_time(t, hf_reg_lapse, l.by);
        const char* by = packet_str(pinfo, core::format_seconds(l.by));
        const char* grace =
            l.past_grace
                ? wmem_strdup_printf(pinfo->pool, "past the %u s grace, the registrar has likely unregistered the device",
                                     pref_grace.value())
                : wmem_strdup_printf(pinfo->pool, "within the %u s grace", pref_grace.value());
        expert_add_info_format(pinfo, top, ei_lapsed.get(),
                               "Registration lapsed: refresh sent %s after the granted expiry (%u s granted in frame %u); %s",
                               by, l.granted, l.granted_frame, grace);
    }
    if (rec.late_copy && *rec.late_copy == copy) {
        const char* sent = packet_str(pinfo, core::format_seconds(rec.late_time - rec.granted_at));
        const char* late_by = packet_str(pinfo, core::format_seconds(rec.late_by));
        const char* schedule = packet_str(pinfo, core::format_seconds(rec.schedule));
        expert_add_info_format(pinfo, top, ei_late.get(),
                               "REGISTER refresh late: sent %s after the grant of frame %u, %s past the expected %s "
                               "(%u s granted minus %u s)",
                               sent, rec.granted_frame, late_by, schedule, rec.previous_grant.value_or(0),
                               pref_delta.value());
    }
    if (copy != 0) return;
    if (rec.kind == core::RegisterKind::backup_keepalive)
        expert_add_info_format(pinfo, top, ei_backup_keepalive.get(),
                               "Keepalive REGISTER to backup registrar %s (Expires 0 with cisco-keep-alive), not a "
                               "de-registration",
                               b.registrar.c_str());
    if (rec.kind == core::RegisterKind::deregistration)
        expert_add_info_format(pinfo, top, ei_deregistration.get(), "De-registration of %s from %s (Expires 0)",
                               b.aor.c_str(), b.registrar.c_str());
    if (rec.registrar_switch) {
        const core::Switch& sw = *rec.registrar_switch;
        add_string(t, hf_reg_switch_from, sw.previous.c_str());
        if (sw.since_switch) add_time(t, hf_reg_since_switch, *sw.since_switch);
        const char* since =
            sw.since_switch ? packet_str(pinfo, core::format_duration(*sw.since_switch) + " after switch " +
                                                    std::to_string(sw.number - 1) + " (frame " +
                                                    std::to_string(sw.switch_frame.value_or(0)) + ")")
                            : "first switch seen";
        expert_add_info_format(pinfo, top, ei_switch.get(),
                               "Registrar switch %u: %s registers with %s after %s (frame %u); %s", sw.number,
                               b.aor.c_str(), b.registrar.c_str(), sw.previous.c_str(), sw.previous_frame, since);
    }
}

void render_register_response(proto_tree* tree, packet_info* pinfo, std::size_t ri) {
    const core::RegisterRecord& rec = state->registrations.record(ri);
    table.changed(pinfo, row_key(row_binding, rec.binding));
    proto_item* top;
    proto_tree* t = subtree(tree, hf_register, ett_register,
                            wmem_strdup_printf(pinfo->pool, "Response to REGISTER %s of binding %zu",
                                               kind_name(rec.kind), rec.binding + 1),
                            &top);
    add_uint(t, hf_reg_binding, static_cast<guint32>(rec.binding + 1));
    add_string(t, hf_reg_kind, kind_name(rec.kind));
    proto_item_set_generated(proto_tree_add_uint(t, hf_reg_request_in, nullptr, 0, 0, rec.copies[0].frame));
    add_time(t, hf_reg_response_time, rec.response_time);
    add_uint(t, hf_reg_retrans, static_cast<guint32>(rec.copy_count - 1));
    if (rec.granted) add_uint(t, hf_reg_granted, *rec.granted);
}

void render_crlf(proto_tree* tree, packet_info* pinfo, const Entry& e) {
    const core::CrlfPing& p = state->crlf.ping(e.index);
    table.changed(pinfo, row_key(row_crlf, p.connection));
    proto_item* top;
    const char* label = e.what == What::crlf_ping ? "CRLF keepalive ping"
                        : e.what == What::crlf_pong ? "CRLF keepalive pong"
                                                    : "CRLF keepalive ping without pong";
    proto_tree* t = subtree(tree, hf_crlf, ett_crlf, label, &top);
    if (e.what == What::crlf_ping) {
        add_string(t, hf_crlf_type, "ping");
        if (p.interval) add_time(t, hf_crlf_interval, *p.interval);
        if (p.flow_timer) add_uint(t, hf_crlf_flow_timer, *p.flow_timer);
        if (p.pong_frame) {
            proto_item_set_generated(proto_tree_add_uint(t, hf_crlf_pong_in, nullptr, 0, 0, *p.pong_frame));
            add_time(t, hf_crlf_pong_delay, p.pong_delay);
        }
        if (p.late) {
            const char* interval = packet_str(pinfo, core::format_seconds(*p.interval));
            expert_add_info_format(pinfo, top, ei_ping_late.get(),
                                   "CRLF keepalive %s after the previous one, over the %u s Flow-Timer", interval,
                                   *p.flow_timer);
        }
        // Learnt later: shown here on revisits; on the first pass at the packet that showed it.
        if (p.missing && PINFO_FD_VISITED(pinfo))
            expert_add_info_format(pinfo, top, ei_pong_missing.get(),
                                   "CRLF keepalive not answered: no pong within %u s (known in frame %u)",
                                   pref_pong_timeout.value(), p.learned_frame);
        return;
    }
    proto_item_set_generated(proto_tree_add_uint(t, hf_crlf_ping_in, nullptr, 0, 0, p.frame));
    if (e.what == What::crlf_pong) {
        add_string(t, hf_crlf_type, "pong");
        add_time(t, hf_crlf_pong_delay, p.pong_delay);
        return;
    }
    if (!PINFO_FD_VISITED(pinfo))
        expert_add_info_format(pinfo, top, ei_pong_missing.get(),
                               "CRLF keepalive of frame %u not answered: no pong within %u s", p.frame,
                               pref_pong_timeout.value());
}

const char* role_name(core::SccpRole r) {
    switch (r) {
    case core::SccpRole::primary: return "primary";
    case core::SccpRole::backup: return "backup";
    case core::SccpRole::unknown: return nullptr;
    }
    return nullptr;
}

std::string unacked_message(const core::SccpKeepalive& k, const core::SccpConnection& c, bool here) {
    std::string m = here ? "SCCP KeepAlive of frame " + std::to_string(k.frame) + " not acknowledged by " + c.cucm
                         : "SCCP KeepAlive not acknowledged by " + c.cucm;
    m += " within " + std::to_string(k.expected / kSecond) + " s";
    if (!here) m += " (known in frame " + std::to_string(k.learned_frame) + ")";
    m += "; " + std::to_string(k.missed_in_row) + " in a row";
    return m;
}

void render_sccp(proto_tree* tree, packet_info* pinfo, const Entry& e) {
    const core::SccpKeepalive& k = state->sccp.keepalive(e.index);
    const core::SccpConnection& c = state->sccp.connection(k.connection);
    table.changed(pinfo, row_key(row_sccp, k.connection));
    proto_item* top;
    const char* label = e.what == What::sccp_keepalive ? "SCCP KeepAlive"
                        : e.what == What::sccp_ack     ? "SCCP KeepAliveAck"
                                                       : "SCCP KeepAlive without Ack";
    proto_tree* t = subtree(tree, hf_sccp, ett_sccp, label, &top);
    const auto failover = [&] {
        return packet_str(pinfo, "Third SCCP KeepAlive in a row unacknowledged by " + c.cucm + " (last in frame " +
                                     std::to_string(k.frame) + "): the phone fails over to its backup CUCM");
    };
    if (e.what == What::sccp_keepalive) {
        if (k.interval) add_time(t, hf_sccp_interval, *k.interval);
        add_uint(t, hf_sccp_expected, static_cast<guint32>(k.expected / kSecond));
        if (const char* role = role_name(k.role)) add_string(t, hf_sccp_role, role);
        if (k.ack_frame) {
            proto_item_set_generated(proto_tree_add_uint(t, hf_sccp_ack_in, nullptr, 0, 0, *k.ack_frame));
            add_time(t, hf_sccp_ack_delay, k.ack_delay);
        }
        if (k.tcp_ack_frame) proto_item_set_generated(proto_tree_add_uint(t, hf_sccp_tcp_ack_in, nullptr, 0, 0, *k.tcp_ack_frame));
        if (k.unacked) add_uint(t, hf_sccp_missed, k.missed_in_row);
        if (k.unacked && PINFO_FD_VISITED(pinfo)) {
            const char* message = packet_str(pinfo, unacked_message(k, c, false));
            expert_add_info_format(pinfo, top, ei_unacked.get(), "%s", message);
            if (k.failover_expected) {
                const char* text = failover();
                expert_add_info_format(pinfo, top, ei_failover.get(), "%s", text);
            }
        }
        return;
    }
    proto_item_set_generated(proto_tree_add_uint(t, hf_sccp_keepalive_in, nullptr, 0, 0, k.frame));
    if (e.what == What::sccp_ack) {
        add_time(t, hf_sccp_ack_delay, k.ack_delay);
        return;
    }
    add_uint(t, hf_sccp_missed, k.missed_in_row);
    if (!PINFO_FD_VISITED(pinfo)) {
        const char* message = packet_str(pinfo, unacked_message(k, c, true));
        expert_add_info_format(pinfo, top, ei_unacked.get(), "%s", message);
        if (k.failover_expected) {
            const char* text = failover();
            expert_add_info_format(pinfo, top, ei_failover.get(), "%s", text);
        }
    }
}

void render(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, const Verdict& v) {
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA);
    proto_item_append_text(top, ": keepalives");
    proto_tree* t = proto_item_add_subtree(top, ett_register);
    for (const Entry& e : v.entries) {
        switch (e.what) {
        case What::register_copy: render_register_copy(t, pinfo, e.index, e.extra); break;
        case What::register_response: render_register_response(t, pinfo, e.index); break;
        case What::crlf_ping:
        case What::crlf_pong:
        case What::crlf_missing: render_crlf(t, pinfo, e); break;
        case What::sccp_keepalive:
        case What::sccp_ack:
        case What::sccp_unacked: render_sccp(t, pinfo, e); break;
        case What::full:
            expert_add_info_format(pinfo, top, ei_full.get(),
                                   "Keepalive tracking limit reached (siptrack.keepalive_max_tracked %u, "
                                   "keepalive_max_records %u): later keepalives are not analysed",
                                   pref_max_tracked.value(), pref_max_records.value());
            break;
        }
    }
}

}  // namespace

std::vector<ws::ForeignField*> wanted() {
    std::vector<ws::ForeignField*> all = ws::SipObserver::instance().fields();
    const std::vector<ws::ForeignField*> skinny{&ff_skinny, &ff_skinny_id, &ff_skinny_interval, &ff_skinny_secondary};
    // Resolved here too, so reads work whatever the order the post-dissector resolves its list in.
    for (ws::ForeignField* f : skinny) f->resolve();
    all.insert(all.end(), skinny.begin(), skinny.end());
    return all;
}

void register_ui() { table.register_ui(); }

void dissect(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const ws::Observation* observation) {
    if (!state) return;
    // The observation exists on the first pass only (revisits render what it stored). A revisit may come
    // without a tree (the second pass of `tshark -2 -q -z expert`): rendering then still raises the
    // expert infos and feeds the table, which need no tree.
    if (observation && tree) ws::guard(proto, pinfo, nullptr, [&] { analyse(tree, *observation); });
    if (pinfo->num >= has_verdict.size() || !has_verdict[pinfo->num]) return;
    if (const Verdict* v = verdicts.find(pinfo->num)) ws::guard(proto, pinfo, nullptr, [&] { render(tree, tvb, pinfo, *v); });
}

}  // namespace sipsleuth::siptrack::keepalive
