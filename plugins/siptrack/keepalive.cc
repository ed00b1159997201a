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
#include <array>
#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "siptrack.h"
#include "sipsleuth/core/keepalive.h"
#include "sipsleuth/core/registration.h"
#include "sipsleuth/core/sccp.h"
#include "sipsleuth/core/text.h"
#include "sipsleuth/wsglue/sip_observer.h"
#include "sipsleuth/wsglue/stat_table.h"
#include "sipsleuth/wsglue/store.h"

namespace core = sipsleuth::core;
namespace ws = sipsleuth::wsglue;
using namespace std::string_view_literals;

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
ws::Field hf_reg_grant_in{proto, "siptrack.register.grant_in", "Grant in", FT_FRAMENUM, BASE_NONE, nullptr,
                          "The 2xx that granted the registration this REGISTER refreshes (its expiry is counted from it)."};
ws::Field hf_reg_in_row{proto, "siptrack.register.retransmitted_in_row", "Retransmitted in a row", FT_UINT32, BASE_DEC,
                        nullptr, "REGISTERs of this binding in a row, this one included, that needed a retransmission."};
ws::Field hf_reg_row_first{proto, "siptrack.register.first_retransmitted", "First of the row in", FT_FRAMENUM, BASE_NONE,
                           nullptr, "The first REGISTER of the row of REGISTERs that each needed a retransmission."};
ws::Field hf_reg_grace{proto, "siptrack.register.grace", "Registrar grace (s)", FT_UINT32, BASE_DEC, nullptr,
                      "Seconds the registrar was taken to tolerate a refresh after the expiry: siptrack.register_grace, "
                      "or 0 when its 2xx names a Server other than Cisco's."};
ws::Field hf_reg_expired_for{proto, "siptrack.register.expired_for", "Expired for", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                            "A refresh after the expiry: from the expiry to the 2xx that took it, as captured (the "
                            "time the binding was gone, or would have been without the registrar's grace)."};
ws::Field hf_reg_switch_from{proto, "siptrack.register.previous_registrar", "Previous registrar", FT_STRING, BASE_NONE,
                             nullptr, "The registrar the device registered with before this one."};
ws::Field hf_reg_previous_register{proto, "siptrack.register.previous_registration_in", "Previous registration in",
                                  FT_FRAMENUM, BASE_NONE, nullptr,
                                  "The device's last REGISTER to the registrar it switched from."};
ws::Field hf_reg_previous_switch{proto, "siptrack.register.previous_switch_in", "Previous switch in", FT_FRAMENUM,
                                 BASE_NONE, nullptr, "The REGISTER of the device's previous registrar switch."};
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
ws::Field hf_crlf_previous{proto, "siptrack.crlf.previous_ping", "Previous ping in", FT_FRAMENUM, BASE_NONE, nullptr,
                           "The previous ping on this connection."};
ws::Field hf_crlf_missed{proto, "siptrack.crlf.missed_in_row", "Missed in a row", FT_UINT32, BASE_DEC, nullptr,
                         "Consecutive pings without pong on this connection, this one included."};
ws::Field hf_crlf_pong_delay{proto, "siptrack.crlf.pong_delay", "Pong delay", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                             "Time from the ping to its pong."};

// SCCP KeepAlive.
ws::Field hf_sccp{proto, "siptrack.sccp", "SCCP keepalive", FT_NONE, BASE_NONE, nullptr,
                  "Pairing of a Skinny KeepAlive with its KeepAliveAck."};
ws::Field hf_sccp_interval{proto, "siptrack.sccp.interval", "Interval", FT_RELATIVE_TIME, BASE_NONE, nullptr,
                           "Time since the previous KeepAlive on this connection."};
ws::Field hf_sccp_previous{proto, "siptrack.sccp.previous_keepalive", "Previous KeepAlive in", FT_FRAMENUM, BASE_NONE,
                           nullptr, "The previous KeepAlive on this connection."};
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

// Causes keep their incident's severity; consequences (with siptrack.caused_by) are notes (issue 11).
ws::Expert ei_lapsed{proto, "siptrack.registration_lapsed", PI_SEQUENCE, PI_WARN,
                     "Registration lapsed: refresh sent after the granted expiry and the registrar's grace"};
ws::Expert ei_within_grace{proto, "siptrack.register_within_grace", PI_SEQUENCE, PI_NOTE,
                           "REGISTER refresh sent after the granted expiry, within the registrar's grace"};
ws::Expert ei_retransmitted{proto, "siptrack.register_retransmitted", PI_SEQUENCE, PI_NOTE, "REGISTER retransmitted"};
ws::Expert ei_late{proto, "siptrack.register_late", PI_SEQUENCE, PI_NOTE, "REGISTER refresh later than expected"};
ws::Expert ei_backup_keepalive{proto, "siptrack.backup_keepalive", PI_SEQUENCE, PI_CHAT,
                               "Keepalive REGISTER to a backup registrar"};
ws::Expert ei_deregistration{proto, "siptrack.deregistration", PI_SEQUENCE, PI_CHAT, "De-registration"};
ws::Expert ei_switch{proto, "siptrack.registrar_switch", PI_SEQUENCE, PI_NOTE, "Device registered with another registrar"};
ws::Expert ei_pong_missing{proto, "siptrack.crlf_pong_missing", PI_SEQUENCE, PI_WARN, "CRLF keepalive not answered"};
ws::Expert ei_pong_missing_again{proto, "siptrack.crlf_pong_missing_again", PI_SEQUENCE, PI_NOTE,
                                 "CRLF keepalive not answered again, in a row since an earlier ping"};
ws::Expert ei_ping_late{proto, "siptrack.crlf_ping_late", PI_SEQUENCE, PI_NOTE, "CRLF keepalive later than the Flow-Timer"};
ws::Expert ei_unacked{proto, "siptrack.sccp_keepalive_unacked", PI_SEQUENCE, PI_WARN, "SCCP KeepAlive not acknowledged"};
ws::Expert ei_unacked_again{proto, "siptrack.sccp_keepalive_unacked_again", PI_SEQUENCE, PI_NOTE,
                            "SCCP KeepAlive not acknowledged again, in a row since an earlier KeepAlive"};
ws::Expert ei_failover{proto, "siptrack.sccp_failover_expected", PI_SEQUENCE, PI_NOTE,
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
    What what = What::full;
    std::size_t index = 0, extra = 0;
};
// A frame's entries: almost always one (a REGISTER, its response, a ping), kept inline; more move to the
// heap. A vector per frame cost an allocation on the first pass and a free at capture close.
class Entries {
public:
    void push_back(const Entry& e) {
        if (more_.empty() && count_ < kInline) {
            inline_[count_++] = e;
            return;
        }
        if (more_.empty()) more_.assign(inline_.begin(), inline_.end());
        more_.push_back(e);
    }
    const Entry* begin() const { return more_.empty() ? inline_.data() : more_.data(); }
    const Entry* end() const { return more_.empty() ? inline_.data() + count_ : more_.data() + more_.size(); }
    bool empty() const { return count_ == 0 && more_.empty(); }

private:
    static constexpr std::size_t kInline = 2;
    std::array<Entry, kInline> inline_{};
    std::size_t count_ = 0;
    std::vector<Entry> more_;  ///< all entries once there are more than kInline
};
struct Verdict {
    Entries entries;
};

// Tracker state, created per capture.
struct State {
    core::RegistrationTracker registrations;
    core::CrlfTracker crlf;
    core::SccpTracker sccp;
    // One table of TCP connections for CRLF and SCCP (issue 15), looked up here once per TCP packet.
    std::shared_ptr<core::KeepaliveStreams> streams;
    bool full_reported = false;
    State(core::RegistrationTracker::Settings r, core::CrlfTracker::Settings c, core::SccpTracker::Settings s,
          const std::shared_ptr<core::KeepaliveStreams>& table)
        : registrations(r), crlf(c, table), sccp(s, table), streams(table) {}
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
        std::string call_id = b.last ? state->registrations.record(*b.last).call_id : std::string();
        if (b.call_ids > 1) call_id += " (latest of " + std::to_string(b.call_ids) + ")";
        cells.emplace_back(std::move(call_id));
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
        cells.emplace_back(std::string());
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
        cells.emplace_back(std::string());
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
                     {"Call-ID", ws::StatTable::Kind::String},
                     {"Count", ws::StatTable::Kind::Uint},
                     {"Min interval (s)", ws::StatTable::Kind::Float},
                     {"Median interval (s)", ws::StatTable::Kind::Float},
                     {"Max interval (s)", ws::StatTable::Kind::Float},
                     {"Retransmissions", ws::StatTable::Kind::Uint},
                     {"Lapses", ws::StatTable::Kind::Uint},
                     {"Late", ws::StatTable::Kind::Uint},
                     {"Missed answers", ws::StatTable::Kind::Uint},
                     {"Registrar switches", ws::StatTable::Kind::Uint}},
                    fetch_row,
                    ws::StatTable::FrameRange::shown};

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

// Whether `name` is endpoint(e), without building it (a string per TCP packet before).
bool is_endpoint(std::string_view name, const core::Endpoint& e) {
    const bool v6 = e.address.find(':') != std::string::npos;
    if (v6) {
        if (name.size() < 2 || name.front() != '[') return false;
        name.remove_prefix(1);
    }
    if (name.size() <= e.address.size() || name.compare(0, e.address.size(), e.address) != 0) return false;
    name.remove_prefix(e.address.size());
    if (v6) {
        if (name.front() != ']') return false;
        name.remove_prefix(1);
    }
    if (name.size() < 2 || name.front() != ':') return false;
    name.remove_prefix(1);
    char digits[8];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, e.port);
    return ec == std::errc() && name == std::string_view(digits, static_cast<std::size_t>(end - digits));
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
        if (std::string_view(m.cseq_method) != "REGISTER"sv) continue;
        if (m.request) {
            if (std::string_view(m.method) != "REGISTER"sv) continue;
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
// `known`: the stream's entry, when it has one. Returns whether the frame was a ping or pong.
bool analyse_crlf(const core::sip::Frame& f, const core::KeepaliveStreams::Entry* known, Verdict& v,
                  std::vector<core::Learned>& learned) {
    State& st = *state;
    const std::uint32_t len = f.tcp->len;
    if ((len != 2 && len != 4) || f.payload.size() != len) return false;
    const std::uint32_t stream = f.flow.stream;
    // A SIP connection: SIP seen on it before, or the SIP port (CrlfTracker::known).
    if (!(known && (known->sip || known->crlf)) && f.flow.src.port != 5060 && f.flow.dst.port != 5060) return false;
    if (f.payload == "\r\n\r\n") {
        if (const auto p = st.crlf.on_ping(stream, endpoint(f.flow.src), endpoint(f.flow.dst), f.number, f.time, learned))
            v.entries.push_back({What::crlf_ping, *p, 0});
        return true;
    }
    if (f.payload == "\r\n") {
        if (const auto p = st.crlf.on_pong(stream, endpoint(f.flow.src), f.number, f.time))
            v.entries.push_back({What::crlf_pong, *p, 0});
        return true;
    }
    return false;
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

// First pass: the TCP side of a frame (TCP retransmissions of REGISTERs, CRLF, SCCP). `e` is the
// stream's entry in the keepalive stream table (nullptr: none yet), looked up once by analyse(); it is
// looked up again only after a ping, pong or Skinny PDU, which may have made it.
void analyse_tcp(proto_tree* tree, const ws::Observation& o, bool sip, const core::KeepaliveStreams::Entry* e,
                 Verdict& v, std::vector<core::Learned>& crlf_learned, std::vector<core::Learned>& sccp_learned) {
    State& st = *state;
    const core::sip::Frame& f = o.frame;
    const std::uint32_t stream = f.flow.stream;
    // A retransmission Wireshark did hand to SIP again was counted as a copy by analyse_sip (the layer's
    // verdict); one it did not is known by the messages of the same direction whose bytes it repeats.
    if (f.tcp->retransmission && !sip) {
        for (const core::RegisterRef& ref : st.registrations.on_tcp_retransmission(o.retransmitted, f.number, f.time))
            v.entries.push_back({What::register_copy, ref.record, ref.copy});
    } else if (!sip && !f.tcp->retransmission) {
        if (analyse_crlf(f, e, v, crlf_learned)) e = st.streams->find(stream);
    }
    if (e && e->crlf) {
        // CrlfTracker::on_traffic, its string made only for a side not seen yet (at most two per connection).
        const std::vector<std::string>& sides = st.crlf.connection(*e->crlf).sides;
        if (sides.size() < 2 && std::none_of(sides.begin(), sides.end(), [&](const std::string& side) {
                return is_endpoint(side, f.flow.src);
            }))
            st.crlf.on_traffic(stream, endpoint(f.flow.src));
    }
    if (ws::Occurrences(tree, ff_skinny).size() > 0) {
        analyse_skinny(tree, f, v, sccp_learned);
        e = st.streams->find(stream);
    }
    if (e && e->sccp) {
        const core::SccpConnection& conn = st.sccp.connection(*e->sccp);
        if (f.tcp->ack_flag && !conn.cucm.empty() && is_endpoint(conn.cucm, f.flow.src))
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
    if (sip) analyse_sip(o, stream, v);
    if (stream) {
        // One look-up of the stream's entry for the whole TCP side; a SIP message makes it (CrlfTracker::on_sip).
        core::KeepaliveStreams::Entry* e = sip ? st.streams->get(*stream) : st.streams->find(*stream);
        if (sip && e) e->sip = true;
        analyse_tcp(tree, o, sip, e, v, crlf_learned, sccp_learned);
    }
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
proto_tree* subtree(proto_item* item, int ett) {
    proto_item_set_generated(item);
    return proto_item_add_subtree(item, ett);
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

// Messages and the Info column (issue 11). The GUI cuts an expert item's label at 240 characters and the
// label is "Expert Info (Note/Sequence): " plus the message: every message is cut to 200 bytes (never inside
// a UTF-8 character), and the texts that come from the wire (an address of record) are shortened first,
// so the cut is a last resort. The frames a message names are link fields too.
constexpr std::size_t kMaxMessage = 200;
constexpr std::size_t kMaxAor = 48;

std::string fit(const std::string& m) {
    bool cut = false;
    std::string s = core::sanitize_utf8(m, kMaxMessage - 3, &cut);
    if (cut) s += "...";
    return s;
}

std::string short_text(const std::string& text, std::size_t max_bytes) {
    bool cut = false;
    std::string s = core::sanitize_utf8(text, max_bytes, &cut);
    if (cut) s += "...";
    return s;
}
std::string short_aor(const std::string& aor) { return short_text(aor, kMaxAor); }

// Raises ei on item with message, fitted; the message is copied to packet memory before the epan call.
void raise_expert(packet_info* pinfo, proto_item* item, ws::Expert& ei, const std::string& message) {
    const char* m = packet_str(pinfo, fit(message));
    expert_add_info_format(pinfo, item, ei.get(), "%s", m);
}

// What a frame's keepalive findings add to the Info column: the label of the most important one.
struct InfoTag {
    const char* label = nullptr;
    int rank = 0;
    void offer(core::KeepaliveFinding k);
};

void InfoTag::offer(core::KeepaliveFinding k) {
    using K = core::KeepaliveFinding;
    const char* l = nullptr;
    int r = 0;
    switch (k) {
    case K::registration_lapsed: l = "REGISTER lapsed", r = 10; break;
    case K::sccp_keepalive_unacked: l = "KeepAlive unacknowledged", r = 9; break;
    case K::crlf_pong_missing: l = "CRLF pong missing", r = 9; break;
    case K::sccp_failover_expected: l = "SCCP failover", r = 7; break;
    case K::registrar_switch: l = "registrar switch", r = 6; break;
    case K::sccp_keepalive_unacked_again: l = "KeepAlive unacknowledged", r = 5; break;
    case K::crlf_pong_missing_again: l = "CRLF pong missing", r = 5; break;
    case K::register_within_grace: l = "REGISTER after expiry", r = 4; break;
    case K::register_late: l = "REGISTER late", r = 3; break;
    case K::crlf_ping_late: l = "CRLF ping late", r = 3; break;
    case K::register_retransmitted: l = "REGISTER retransmitted", r = 2; break;
    case K::backup_keepalive:
    case K::deregistration: return;  // lifecycle: nothing to point at
    }
    if (r > rank) label = l, rank = r;
}

// The consequence's link to its cause (siptrack.caused_by), once per subtree.
struct CauseLinks {
    proto_tree* tree;
    std::optional<std::uint32_t> last;
    void add(const core::Finding& f) {
        if (!tree || !f.caused_by || last == f.caused_by) return;
        last = f.caused_by;
        add_caused_by(tree, nullptr, *f.caused_by);
    }
};

void add_frame(proto_tree* tree, int hf, guint32 frame) {
    proto_item_set_generated(proto_tree_add_uint(tree, hf, nullptr, 0, 0, frame));
}

// The back-offs of copies 2 .. upto + 1 that are listed (at most kShownBackoffs: the fields list them
// all), then how many are not.
constexpr std::size_t kShownBackoffs = 6;
std::string backoff_series(const core::RegisterRecord& rec, std::size_t upto) {
    std::string s;
    std::size_t i = 1;
    for (; i <= upto && i < rec.copies.size() && i <= kShownBackoffs; ++i) {
        if (!s.empty()) s += ", ";
        s += core::format_seconds(rec.copies[i].time - rec.copies[i - 1].time);
    }
    if (i <= upto) s += (s.empty() ? "" : ", ") + std::string("... and ") + std::to_string(upto + 1 - i) + " more";
    return s;
}

std::string register_message(const core::Finding& f, const core::RegisterRecord& rec, const core::Binding& b,
                             std::size_t copy) {
    using K = core::KeepaliveFinding;
    const std::string cseq = "CSeq " + std::to_string(rec.cseq);
    switch (f.kind) {
    case K::register_retransmitted:
        return "REGISTER " + cseq + " (frame " + std::to_string(rec.copies[0].frame) + ") retransmitted " +
               std::to_string(copy) + (copy == 1 ? " time" : " times") + ", back-off " + backoff_series(rec, copy) +
               (f.caused_by ? "; a copy of the lapsed refresh" : "");
    case K::registration_lapsed: {
        const core::Lapse& l = *rec.lapse;
        std::string m = "Registration lapsed: ";
        m += copy > 0 ? "copy " + std::to_string(copy + 1) + " of refresh " + cseq : "refresh " + cseq;
        m += " sent " + core::format_seconds(l.by) + " after the expiry";
        if (l.server.empty()) m += ", past the " + std::to_string(l.grace / kSecond) + " s grace";
        if (copy > 0 && rec.retransmitted_in_row > 1)
            m += "; " + std::to_string(rec.retransmitted_in_row) + " REGISTERs in a row retransmitted";
        if (!l.server.empty()) return m + "; registrar " + short_text(l.server, 32) + " allows no grace, likely dropped it";
        return m + "; the registrar likely dropped the device";
    }
    case K::register_within_grace:
        return "REGISTER refresh " + cseq + (copy > 0 ? " (copy " + std::to_string(copy + 1) + ")" : "") + " sent " +
               core::format_seconds(rec.within_grace->by) + " after the granted expiry, within the " +
               std::to_string(rec.within_grace->grace / kSecond) + " s grace";
    case K::register_late:
        return "REGISTER refresh late: sent " + core::format_seconds(rec.late_time - rec.granted_at) +
               " after the grant of frame " + std::to_string(rec.granted_frame) + ", " +
               core::format_seconds(rec.late_by) + " past the expected " + core::format_seconds(rec.schedule) + " (" +
               std::to_string(rec.previous_grant.value_or(0)) + " s granted minus " +
               std::to_string(pref_delta.value()) + " s)";
    case K::backup_keepalive:
        return "Keepalive REGISTER to backup registrar " + b.registrar +
               " (Expires 0 with cisco-keep-alive), not a de-registration";
    case K::deregistration:
        return "De-registration of " + short_aor(b.aor) + " from " + b.registrar + " (Expires 0)";
    case K::registrar_switch: {
        const core::Switch& sw = *rec.registrar_switch;
        std::string m = "Registrar switch " + std::to_string(sw.number);
        if (sw.caused_by) m += sw.fallback ? " (fallback after the lapse)" : " (failover after the lapse)";
        m += ": " + short_aor(b.aor) + " registers with " + b.registrar + " after " + sw.previous + " (frame " +
             std::to_string(sw.previous_frame) + "); ";
        if (!sw.since_switch) return m + "first switch seen";
        return m + core::format_duration(*sw.since_switch) + " after switch " + std::to_string(sw.number - 1) +
               " (frame " + std::to_string(sw.switch_frame.value_or(0)) + ")";
    }
    default:
        return {};
    }
}

ws::Expert& register_expert(core::KeepaliveFinding k) {
    using K = core::KeepaliveFinding;
    switch (k) {
    case K::registration_lapsed: return ei_lapsed;
    case K::register_within_grace: return ei_within_grace;
    case K::register_late: return ei_late;
    case K::backup_keepalive: return ei_backup_keepalive;
    case K::deregistration: return ei_deregistration;
    case K::registrar_switch: return ei_switch;
    default: return ei_retransmitted;
    }
}

// The fields of a REGISTER copy under t.
void add_register_copy(proto_tree* t, const core::RegisterRecord& rec, const core::Binding& b, std::size_t copy) {
    add_uint(t, hf_reg_binding, static_cast<guint32>(rec.binding + 1));
    add_string(t, hf_reg_kind, kind_name(rec.kind));
    add_string(t, hf_reg_aor, b.aor.c_str());
    add_string(t, hf_reg_contact, b.contact.c_str());
    add_string(t, hf_reg_registrar, b.registrar.c_str());
    add_uint(t, hf_reg_copy, static_cast<guint32>(copy + 1));
    if (copy > 0) add_frame(t, hf_reg_original, rec.copies[0].frame);
    if (rec.interval) add_time(t, hf_reg_interval, *rec.interval);
    if (rec.expires_asked) add_uint(t, hf_reg_asked, *rec.expires_asked);
    if (rec.previous_grant) add_uint(t, hf_reg_previous_grant, *rec.previous_grant);
    if (rec.kind == core::RegisterKind::refresh && rec.granted_frame) add_frame(t, hf_reg_grant_in, rec.granted_frame);
    if (rec.previous_grant && rec.interval)
        add_time(t, hf_reg_margin, static_cast<core::Nanos>(*rec.previous_grant) * kSecond - *rec.interval);
    add_uint(t, hf_reg_retrans, static_cast<guint32>(rec.copy_count - 1));
    for (std::size_t i = 1; i < rec.copies.size(); ++i) {
        add_frame(t, hf_reg_retrans_frame, rec.copies[i].frame);
        add_time(t, hf_reg_backoff, rec.copies[i].time - rec.copies[i - 1].time);
    }
    if (rec.retransmitted_in_row) {
        add_uint(t, hf_reg_in_row, rec.retransmitted_in_row);
        add_frame(t, hf_reg_row_first, rec.row_first_frame);
    }
    if (rec.response_frame) {
        add_frame(t, hf_reg_response_in, *rec.response_frame);
        add_time(t, hf_reg_response_time, rec.response_time);
    }
    if (rec.granted) add_uint(t, hf_reg_granted, *rec.granted);
    for (const std::optional<core::Lapse>* l : {&rec.within_grace, &rec.lapse})
        if (*l && (*l)->copy == copy) {
            add_time(t, hf_reg_lapse, (*l)->by);
            add_uint(t, hf_reg_grace, static_cast<guint32>((*l)->grace / kSecond));
        }
    if (rec.expired_for) add_time(t, hf_reg_expired_for, *rec.expired_for);
    if (copy == 0 && rec.registrar_switch) {
        const core::Switch& sw = *rec.registrar_switch;
        add_string(t, hf_reg_switch_from, sw.previous.c_str());
        if (sw.previous_frame) add_frame(t, hf_reg_previous_register, sw.previous_frame);
        if (sw.switch_frame) add_frame(t, hf_reg_previous_switch, *sw.switch_frame);
        if (sw.since_switch) add_time(t, hf_reg_since_switch, *sw.since_switch);
    }
}

// `tree` null: nothing references siptrack's fields (render()); `top` then takes the expert infos.
void render_register_copy(proto_tree* tree, proto_item* top, packet_info* pinfo, std::size_t ri, std::size_t copy,
                          InfoTag& tag) {
    const core::RegistrationTracker& regs = state->registrations;
    const core::RegisterRecord& rec = regs.record(ri);
    const core::Binding& b = regs.binding(rec.binding);
    table.changed(pinfo, row_key(row_binding, rec.binding));
    proto_tree* t = nullptr;
    if (tree) {
        // The label is formatted by epan, and only when the tree is visible; b outlives the call.
        top = proto_tree_add_none_format(tree, hf_register, nullptr, 0, 0, "REGISTER %s of binding %zu to %s, copy %zu",
                                         kind_name(rec.kind), rec.binding + 1, b.registrar.c_str(), copy + 1);
        t = subtree(top, ett_register);
        add_register_copy(t, rec, b, copy);
    }
    CauseLinks links{t, std::nullopt};
    for (const core::Finding& f : regs.findings(ri, copy)) {
        links.add(f);
        tag.offer(f.kind);
        raise_expert(pinfo, top, register_expert(f.kind), register_message(f, rec, b, copy));
        if (f.kind == core::KeepaliveFinding::register_retransmitted && rec.copies_full && *rec.copies_full == copy)
            raise_expert(pinfo, top, ei_copies_full,
                  "REGISTER CSeq " + std::to_string(rec.cseq) + " (frame " + std::to_string(rec.copies[0].frame) +
                      ") copy " + std::to_string(copy + 1) + " is past siptrack.max_register_copies (" +
                      std::to_string(rec.copies.size()) +
                      "): it and later copies are counted but their frames and back-offs are not listed");
    }
}

void render_register_response(proto_tree* tree, packet_info* pinfo, std::size_t ri) {
    const core::RegisterRecord& rec = state->registrations.record(ri);
    table.changed(pinfo, row_key(row_binding, rec.binding));
    if (!tree) return;
    proto_tree* t = subtree(proto_tree_add_none_format(tree, hf_register, nullptr, 0, 0,
                                                       "Response to REGISTER %s of binding %zu", kind_name(rec.kind),
                                                       rec.binding + 1),
                            ett_register);
    add_uint(t, hf_reg_binding, static_cast<guint32>(rec.binding + 1));
    add_string(t, hf_reg_kind, kind_name(rec.kind));
    add_frame(t, hf_reg_request_in, rec.copies[0].frame);
    add_time(t, hf_reg_response_time, rec.response_time);
    add_uint(t, hf_reg_retrans, static_cast<guint32>(rec.copy_count - 1));
    if (rec.granted) add_uint(t, hf_reg_granted, *rec.granted);
    if (rec.expired_for) add_time(t, hf_reg_expired_for, *rec.expired_for);
}

// Findings learnt on a later packet (a pong or an Ack that never came): on the first pass named where they
// became known, with the frame they are about; on revisits (-2, the GUI) on that frame itself.
bool learned_later(core::KeepaliveFinding k) {
    using K = core::KeepaliveFinding;
    return k == K::crlf_pong_missing || k == K::crlf_pong_missing_again || k == K::sccp_keepalive_unacked ||
           k == K::sccp_keepalive_unacked_again || k == K::sccp_failover_expected;
}

// Whether a finding is raised on this entry: on the packet it is about unless learnt later, where the
// first pass names it on the packet that showed it instead.
bool raised_here(core::KeepaliveFinding k, bool about_here, packet_info* pinfo) {
    if (!learned_later(k)) return about_here;
    return about_here == static_cast<bool>(PINFO_FD_VISITED(pinfo));
}

std::string in_row(std::uint32_t n, std::uint32_t first, bool again) {
    std::string m = "; " + std::to_string(n) + " in a row";
    if (again) m += " since frame " + std::to_string(first);
    return m;
}

std::string crlf_message(const core::Finding& f, const core::CrlfPing& p, bool about_here) {
    using K = core::KeepaliveFinding;
    const std::string timeout = std::to_string(pref_pong_timeout.value());
    if (f.kind == K::crlf_ping_late)
        return "CRLF keepalive " + core::format_seconds(*p.interval) + " after the previous one, over the " +
               std::to_string(p.flow_timer.value_or(0)) + " s Flow-Timer";
    std::string m = about_here ? "CRLF keepalive not answered: no pong within " + timeout + " s (known in frame " +
                                     std::to_string(p.learned_frame) + ")"
                               : "CRLF keepalive of frame " + std::to_string(p.frame) +
                                     " not answered: no pong within " + timeout + " s";
    if (f.kind == K::crlf_pong_missing_again) m += in_row(p.missed_in_row, p.row_first_frame, true);
    return m;
}

// The fields of a CRLF ping or pong under t.
void add_crlf(proto_tree* t, const Entry& e, const core::CrlfPing& p) {
    if (e.what == What::crlf_ping) {
        add_string(t, hf_crlf_type, "ping");
        if (p.interval) add_time(t, hf_crlf_interval, *p.interval);
        if (p.previous_frame) add_frame(t, hf_crlf_previous, *p.previous_frame);
        if (p.flow_timer) add_uint(t, hf_crlf_flow_timer, *p.flow_timer);
        if (p.pong_frame) {
            add_frame(t, hf_crlf_pong_in, *p.pong_frame);
            add_time(t, hf_crlf_pong_delay, p.pong_delay);
        }
    } else {
        add_frame(t, hf_crlf_ping_in, p.frame);
        if (e.what == What::crlf_pong) {
            add_string(t, hf_crlf_type, "pong");
            add_time(t, hf_crlf_pong_delay, p.pong_delay);
            return;
        }
    }
    if (p.missing) add_uint(t, hf_crlf_missed, p.missed_in_row);
}

void render_crlf(proto_tree* tree, proto_item* top, packet_info* pinfo, const Entry& e, InfoTag& tag) {
    const core::CrlfPing& p = state->crlf.ping(e.index);
    table.changed(pinfo, row_key(row_crlf, p.connection));
    proto_tree* t = nullptr;
    if (tree) {
        const char* label = e.what == What::crlf_ping ? "CRLF keepalive ping"
                            : e.what == What::crlf_pong ? "CRLF keepalive pong"
                                                        : "CRLF keepalive ping without pong";
        top = proto_tree_add_none_format(tree, hf_crlf, nullptr, 0, 0, "%s", label);
        t = subtree(top, ett_crlf);
        add_crlf(t, e, p);
    }
    if (e.what == What::crlf_pong) return;  // its findings are the ping's
    const bool about_here = e.what == What::crlf_ping;
    CauseLinks links{t, std::nullopt};
    for (const core::Finding& f : p.findings()) {
        if (!raised_here(f.kind, about_here, pinfo)) continue;
        links.add(f);
        tag.offer(f.kind);
        const bool again = f.kind == core::KeepaliveFinding::crlf_pong_missing_again;
        raise_expert(pinfo, top,
              f.kind == core::KeepaliveFinding::crlf_ping_late ? ei_ping_late
              : again                                          ? ei_pong_missing_again
                                                               : ei_pong_missing,
              crlf_message(f, p, about_here));
    }
}

const char* role_name(core::SccpRole r) {
    switch (r) {
    case core::SccpRole::primary: return "primary";
    case core::SccpRole::backup: return "backup";
    case core::SccpRole::unknown: return nullptr;
    }
    return nullptr;
}

std::string sccp_message(const core::Finding& f, const core::SccpKeepalive& k, const core::SccpConnection& c,
                         bool about_here) {
    using K = core::KeepaliveFinding;
    if (f.kind == K::sccp_failover_expected)
        return "Third SCCP KeepAlive in a row unacknowledged by " + c.cucm + " (last in frame " +
               std::to_string(k.frame) + "): the phone fails over to its backup CUCM";
    std::string m = about_here ? "SCCP KeepAlive not acknowledged by " + c.cucm
                               : "SCCP KeepAlive of frame " + std::to_string(k.frame) + " not acknowledged by " + c.cucm;
    m += " within " + std::to_string(k.expected / kSecond) + " s";
    if (about_here) m += " (known in frame " + std::to_string(k.learned_frame) + ")";
    return m + in_row(k.missed_in_row, k.row_first_frame, f.kind == K::sccp_keepalive_unacked_again);
}

// The fields of an SCCP KeepAlive or Ack under t.
void add_sccp(proto_tree* t, const Entry& e, const core::SccpKeepalive& k) {
    if (e.what == What::sccp_keepalive) {
        if (k.interval) add_time(t, hf_sccp_interval, *k.interval);
        if (k.previous_frame) add_frame(t, hf_sccp_previous, *k.previous_frame);
        add_uint(t, hf_sccp_expected, static_cast<guint32>(k.expected / kSecond));
        if (const char* role = role_name(k.role)) add_string(t, hf_sccp_role, role);
        if (k.ack_frame) {
            add_frame(t, hf_sccp_ack_in, *k.ack_frame);
            add_time(t, hf_sccp_ack_delay, k.ack_delay);
        }
        if (k.tcp_ack_frame) add_frame(t, hf_sccp_tcp_ack_in, *k.tcp_ack_frame);
    } else {
        add_frame(t, hf_sccp_keepalive_in, k.frame);
        if (e.what == What::sccp_ack) {
            add_time(t, hf_sccp_ack_delay, k.ack_delay);
            return;
        }
    }
    if (k.unacked) add_uint(t, hf_sccp_missed, k.missed_in_row);
}

void render_sccp(proto_tree* tree, proto_item* top, packet_info* pinfo, const Entry& e, InfoTag& tag) {
    const core::SccpKeepalive& k = state->sccp.keepalive(e.index);
    const core::SccpConnection& c = state->sccp.connection(k.connection);
    table.changed(pinfo, row_key(row_sccp, k.connection));
    proto_tree* t = nullptr;
    if (tree) {
        const char* label = e.what == What::sccp_keepalive ? "SCCP KeepAlive"
                            : e.what == What::sccp_ack     ? "SCCP KeepAliveAck"
                                                           : "SCCP KeepAlive without Ack";
        top = proto_tree_add_none_format(tree, hf_sccp, nullptr, 0, 0, "%s", label);
        t = subtree(top, ett_sccp);
        add_sccp(t, e, k);
    }
    if (e.what == What::sccp_ack) return;  // its findings are the KeepAlive's
    const bool about_here = e.what == What::sccp_keepalive;
    CauseLinks links{t, std::nullopt};
    for (const core::Finding& f : k.findings()) {
        if (!raised_here(f.kind, about_here, pinfo)) continue;
        links.add(f);
        tag.offer(f.kind);
        raise_expert(pinfo, top,
              f.kind == core::KeepaliveFinding::sccp_failover_expected         ? ei_failover
              : f.kind == core::KeepaliveFinding::sccp_keepalive_unacked_again ? ei_unacked_again
                                                                               : ei_unacked,
              sccp_message(f, k, c, about_here));
    }
}

// When nothing references siptrack's fields (Protocol::referenced), epan would fake every item under the
// top one: only the top item (which the expert infos attach to, as a faked item would have), the expert
// infos, the table rows and the Info-column tag are made.
void render(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, const Verdict& v) {
    proto_item* top = proto_tree_add_item(tree, proto.id(), tvb, 0, 0, ENC_NA);
    proto_item_append_text(top, ": keepalives");
    proto_tree* t = proto.referenced(tree) ? proto_item_add_subtree(top, ett_register) : nullptr;
    InfoTag tag;
    for (const Entry& e : v.entries) {
        switch (e.what) {
        case What::register_copy: render_register_copy(t, top, pinfo, e.index, e.extra, tag); break;
        case What::register_response: render_register_response(t, pinfo, e.index); break;
        case What::crlf_ping:
        case What::crlf_pong:
        case What::crlf_missing: render_crlf(t, top, pinfo, e, tag); break;
        case What::sccp_keepalive:
        case What::sccp_ack:
        case What::sccp_unacked: render_sccp(t, top, pinfo, e, tag); break;
        case What::full:
            expert_add_info_format(pinfo, top, ei_full.get(),
                                   "Keepalive tracking limit reached (siptrack.keepalive_max_tracked %u, "
                                   "keepalive_max_records %u): later keepalives are not analysed",
                                   pref_max_tracked.value(), pref_max_records.value());
            break;
        }
    }
    if (tag.label) info_tag(pinfo, tag.label);
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
