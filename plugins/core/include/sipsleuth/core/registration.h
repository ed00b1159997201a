// SPDX-License-Identifier: GPL-2.0-or-later
// SIP registrations followed per binding (RFC 3261 section 10; RFC 5626 instance ids): each REGISTER's
// interval since the previous one, the expiry asked (Contact expires parameter, else Expires) and granted
// (the 2xx's Contact for this binding, else its Expires), the refresh margin, retransmissions (UDP copies
// of the same transaction, TCP retransmissions of the segment that carried it) and the time to the final
// response. Findings: a refresh that reached the registrar after the granted expiry (with the registrar's
// grace period, 15 s on CUCM), a refresh later than the phone's own schedule (expiry minus the 5 s delta
// of Cisco phones), Cisco keepalives to a backup registrar (Expires 0 with the `cisco-keep-alive` Contact
// parameter, field case 004) told apart from de-registrations, and a device registering with another
// registrar (failover and fallback), with the time since its previous switch so a cycle shows. A lapse
// past the grace is the root cause of the drop in field case 004 (keepalives lost, the TCP back-off grown
// past CUCM's grace); the failover and fallback that follow are its consequences (findings()).
//
// Which messages are copies of one REGISTER is the suite's TransactionLayer's call (RFC 3261 section
// 17.1.3, core/sip/transaction.h), never Call-ID and CSeq alone: a proxy's forward (its own top Via
// branch) is a REGISTER of its own, sent by the proxy for its own binding at the registrar it was sent
// to; a copy reflected back (source and destination swapped) is no copy; a TCP retransmission counts
// only when it repeats the REGISTER's own bytes in the REGISTER's direction (a retransmitted 200 OK
// never does). The device is what sends the REGISTER (its instance or Contact and its address), so a
// proxy forwarding a phone's REGISTER is no registrar switch of the phone.
//
// The registrar starts a binding's expiry when it accepts the REGISTER; seen from the capture point that
// is the 2xx, so expiry = time of the 2xx + granted seconds (a phone-side capture sees the 2xx half a round
// trip after the registrar sent it: the lapse is understated by that much, never invented).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sipsleuth/core/keepalive.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"

namespace sipsleuth::core {

/// What one Contact header value says about a binding.
struct ContactInfo {
    std::string uri;                       ///< the Contact URI ("*" for a wildcard)
    std::string instance;                  ///< +sip.instance, unquoted; empty when absent
    std::optional<std::uint32_t> expires;  ///< the expires parameter
    bool cisco_keep_alive = false;         ///< the `cisco-keep-alive` parameter of Cisco phones
};

/// Contacts of a Contact header value (comma-separated name-addrs, RFC 3261 section 20.10); unparsable
/// entries are skipped.
std::vector<ContactInfo> parse_contacts(std::string_view value);

enum class RegisterKind { registration, refresh, backup_keepalive, deregistration };

/// One copy of a REGISTER on the wire: the first (index 0) or a retransmission.
struct RegisterCopy {
    std::uint32_t frame = 0;
    std::uint32_t message = 0;  ///< which SIP message of the frame (TCP retransmissions: of the frame repeated)
    Nanos time = 0;
    bool tcp = false;  ///< a TCP retransmission (not dissected as SIP by Wireshark)
};

/// A lapse: the refresh copy sent after the granted expiry.
struct Lapse {
    std::size_t copy = 0;
    std::uint32_t frame = 0;      ///< the frame of that copy
    Nanos by = 0;                 ///< how long after the expiry
    Nanos expiry = 0;
    std::uint32_t granted = 0;
    std::uint32_t granted_frame = 0;  ///< the 2xx that granted it
    Nanos grace = 0;                  ///< the registrar's grace applied (Settings::grace, or 0: see Binding)
    std::string server;               ///< the non-Cisco Server of the registrar's 2xx that took the grace away
    bool past_grace = false;
};

/// A registrar switch: this REGISTER registers the device with another registrar than its last one.
struct Switch {
    std::string previous;
    std::uint32_t previous_frame = 0;        ///< the device's previous registration REGISTER
    std::optional<Nanos> since_switch;       ///< time since the device's previous switch
    std::optional<std::uint32_t> switch_frame;
    std::uint32_t number = 0;                ///< 1 for the device's first switch
    /// The copy that lapsed past the grace and dropped the device (Lapse::frame): set on the failover
    /// from the binding whose last REGISTER lapsed so, and on the fallback that returns to that binding.
    std::optional<std::uint32_t> caused_by;
    bool fallback = false;                   ///< caused, and back to the binding left at the failover
};

/// One REGISTER transaction and what became of it.
struct RegisterRecord {
    std::size_t binding = 0;
    RegisterKind kind = RegisterKind::registration;
    std::string call_id;
    std::uint32_t cseq = 0;
    /// The copies listed: copies[0] is the first; at most Settings::max_copies (later ones are only counted).
    std::vector<RegisterCopy> copies;
    std::size_t copy_count = 0;           ///< every copy seen, listed or not
    RegisterCopy last;                    ///< the latest copy, listed or not
    std::optional<std::size_t> copies_full;  ///< the first copy not listed (index Settings::max_copies)
    std::optional<std::uint32_t> expires_asked;
    std::optional<Nanos> interval;     ///< since the previous REGISTER of the binding
    std::optional<std::uint32_t> previous_grant;  ///< granted to the previous registration of the binding
    std::optional<std::uint32_t> response_frame, status;
    Nanos response_time = 0;           ///< first copy to final response
    std::optional<std::uint32_t> granted;
    /// The first copy sent after the expiry plus the grace (the registrar dropped the binding), and the
    /// first sent after the expiry but within the grace (a near miss): a refresh whose back-off carries
    /// it from one to the other has both (captures/real/real_register_backoff.pcap under CUCM's grace).
    std::optional<Lapse> lapse, within_grace;
    std::optional<Nanos> expired_for;  ///< expiry to the 2xx that took the lapsed refresh (as captured)
    /// The first copy (late_copy 0) sent later than the phone's schedule. A retransmission past the
    /// schedule is no late refresh: the phone sent the refresh on time, the back-off made the copy late.
    std::optional<std::size_t> late_copy;
    Nanos late_by = 0;
    Nanos late_time = 0;                   ///< when the late copy was sent
    Nanos schedule = 0;                ///< the expected refresh interval (granted - delta)
    std::optional<Switch> registrar_switch;
    std::optional<std::size_t> previous;   ///< the binding's REGISTER before this one
    /// Set at the first retransmission: how many REGISTERs of the binding in a row, this one included,
    /// needed one (the 8961's lost keepalives), and the first of them.
    std::uint32_t retransmitted_in_row = 0;
    std::uint32_t row_first_frame = 0;
    // The grant in force when the REGISTER was sent (refreshes only).
    std::optional<Nanos> expiry;
    Nanos granted_at = 0;
    std::uint32_t granted_frame = 0;
    /// The contact its 2xx is matched on: the +sip.instance when by_instance, else the Contact URI. Kept
    /// only when it is not its binding's (Binding::contact, by_instance), which the bytes of a binding key
    /// allow (binding_for); otherwise the binding's.
    bool by_instance = false;
    std::optional<std::string> contact;
};

/// One binding: a device (AoR + instance, else Contact URI) at one registrar.
struct Binding {
    std::string aor, contact, registrar, device_address;
    bool by_instance = false;  ///< contact is the +sip.instance (the device is instance and AoR user part)
    std::size_t device = 0;
    std::uint32_t registers = 0, retransmissions = 0, lapses = 0, late = 0, keepalives = 0;
    /// Call-IDs its REGISTERs used: one more each time a REGISTER's differs from the one before (RFC
    /// 3261 section 10.2 asks for one Call-ID per registrar; some phones take a new one per boot).
    std::uint32_t call_ids = 0;
    IntervalStats intervals;
    std::optional<std::size_t> last;   ///< latest REGISTER record
    // The grant in force: set by a 2xx, cleared by a de-registration.
    std::optional<std::uint32_t> granted;
    Nanos granted_at = 0;
    std::uint32_t granted_frame = 0;
    std::string granted_call_id;
    /// The Server header of the registrar's latest 2xx when it names a registrar other than Cisco's
    /// (cut to 64 bytes): such a registrar gets no grace. The grace is CUCM's; Kamailio (the lab's
    /// real_register_lapse.pcap: a 404 two seconds after the expiry) and Asterisk drop a binding at its
    /// expiry.
    std::string server_without_grace;
};

/// A device (AoR + instance or Contact URI) across registrars.
struct Device {
    /// The binding it was first seen with: the device is that binding's AoR (or its user part), contact
    /// and address.
    std::size_t first_binding = 0;
    std::optional<std::size_t> current;  ///< binding of its latest registration
    std::uint32_t switches = 0;
    std::optional<Nanos> last_switch;
    std::optional<std::uint32_t> last_switch_frame;
    std::optional<std::uint32_t> last_switch_cause;  ///< Switch::caused_by of its latest switch
    std::optional<std::size_t> left_binding;         ///< the binding its latest switch left
};

/// One Contact as parse_contacts reads it, in place (registration.cc).
struct ContactView;

/// A copy of a REGISTER found in the current packet.
struct RegisterRef {
    std::size_t record = 0;
    std::size_t copy = 0;  ///< 0 for the first; counts on past the copies listed
};

/// Elements by index, kept in chunks of Chunk default-constructed elements: references stay valid as it
/// grows, and one allocation serves Chunk elements (a std::deque of RegisterRecords makes one per record).
template <typename T, std::size_t Chunk = 64>
class ChunkedStore {
public:
    T& emplace_back() {
        if (size_ % Chunk == 0) chunks_.push_back(std::make_unique<T[]>(Chunk));
        const std::size_t i = size_++;
        return (*this)[i];
    }
    T& operator[](std::size_t i) { return chunks_[i / Chunk][i % Chunk]; }
    const T& operator[](std::size_t i) const { return chunks_[i / Chunk][i % Chunk]; }
    T& back() { return (*this)[size_ - 1]; }
    std::size_t size() const { return size_; }

private:
    std::vector<std::unique_ptr<T[]>> chunks_;
    std::size_t size_ = 0;
};

class RegistrationTracker {
public:
    struct Settings {
        /// Registrar's tolerance after expiry (CUCM: 15 s); none for a registrar whose 2xx names another
        /// Server (Binding::server_without_grace).
        Nanos grace = 15 * kSecond;
        Nanos late_delta = 5 * kSecond;   ///< the phone refreshes at granted - delta (Cisco: 5 s)
        Nanos late_slack = 1 * kSecond;   ///< timer jitter tolerated before calling a refresh late
        std::size_t max_bindings = 10000;
        std::size_t max_records = 1000000;
        /// Copies listed per REGISTER (the first included, at least 1); later copies are only counted, so
        /// a REGISTER retransmitted without end costs bounded memory.
        std::size_t max_copies = 64;
    };
    explicit RegistrationTracker(Settings s) : s_(s) {}

    /// A REGISTER request with the TransactionLayer's verdict on it: a new REGISTER (a new transaction,
    /// or its first copy in this direction), another copy (v.retransmission: same transaction, same
    /// direction) or nothing (reflected, no transaction, a query without Contact, a bound reached).
    std::optional<RegisterRef> on_request(const sip::Message& m, const sip::TxnVerdict& v);
    /// A response whose CSeq method is REGISTER, with its verdict: the record of its transaction (nullopt:
    /// none, reflected, or a final response already seen); only the first final response updates it.
    std::optional<std::size_t> on_response(const sip::Message& m, const sip::TxnVerdict& v);
    /// A TCP retransmission at frame, time, with the earlier messages of the same direction whose bytes
    /// it repeats (wsglue Observation::retransmitted): one more copy of each REGISTER among them.
    std::vector<RegisterRef> on_tcp_retransmission(const std::vector<sip::TcpRetransmissionHit>& hits,
                                                   std::uint32_t frame, Nanos time);

    /// The findings of copy `copy` of REGISTER `record`, as far as known now (issue 11): a lapse past
    /// the grace is the cause of its incident; a later copy of that REGISTER and the registrar switches it
    /// leads to are its consequences; a lapse within the grace, a late refresh and other retransmissions
    /// stand alone; backup keepalives and de-registrations are lifecycle.
    std::vector<Finding> findings(std::size_t record, std::size_t copy) const;

    const RegisterRecord& record(std::size_t i) const { return records_[i]; }
    const Binding& binding(std::size_t i) const { return bindings_[i]; }
    const Device& device(std::size_t i) const { return devices_[i]; }
    std::size_t bindings() const { return bindings_.size(); }
    bool full() const { return full_; }

private:
    std::size_t add_copy(std::size_t record, const RegisterCopy& c);
    void check_copy(std::size_t record, std::size_t copy, Nanos time);
    std::optional<std::size_t> binding_for(const sip::Message& m, const std::string& registrar, const ContactView& c);
    /// The contacts of the message in order (each Contact value as parse_contacts reads it, in place: the
    /// views live as long as m, an escaped instance until the next call) until fn returns true; whether
    /// it did.
    template <typename Fn>
    bool any_contact(const sip::Message& m, Fn&& fn);

    Settings s_;
    ChunkedStore<RegisterRecord> records_;
    ChunkedStore<Binding> bindings_;
    std::deque<Device> devices_;
    /// Bindings and devices by the hash of their key (binding_for), compared in full on a hit.
    std::unordered_multimap<std::uint64_t, std::size_t> binding_index_, device_index_;
    std::string key_;                       ///< binding_for's key, reused
    std::string instance_buf_;              ///< any_contact's unescaped +sip.instance, reused
    std::string registrar_;                 ///< on_request's registrar text, reused
    /// The record of a TransactionLayer transaction, nullopt when none.
    std::optional<std::size_t> record_of(sip::TxnId id) const;
    void set_record(sip::TxnId id, std::size_t record);
    /// The TransactionLayer's transaction of each record (at most max_records entries, one per record):
    /// transaction ids grow as transactions are created, so records come in id order, kept in a sorted
    /// vector (no node per record); a record whose transaction is older than the latest one's goes to
    /// by_txn_late_.
    std::vector<std::pair<sip::TxnId, std::uint32_t>> by_txn_;
    std::unordered_map<sip::TxnId, std::size_t> by_txn_late_;
    bool full_ = false;
};

}  // namespace sipsleuth::core
