// SPDX-License-Identifier: GPL-2.0-or-later
// See registration.h. A lapse is named once per refresh, on the first copy of the REGISTER sent after
// the granted expiry and the registrar's grace: the copies before it were sent in time (and lost), every
// later copy is only more of the same lapse. A copy sent after the expiry but within the grace is named
// too, once, as the near miss it is; a later copy past the grace is then the lapse. A refresh is a REGISTER to the binding's registrar with the Call-ID of the grant in
// force (RFC 3261 section 10.2.4 asks UAs to keep the Call-ID); a REGISTER with another Call-ID, or after
// the device registered elsewhere, starts a new registration and is never called a lapse.
#include "sipsleuth/core/registration.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <functional>

#include "sipsleuth/core/sip_header.h"
#include "sipsleuth/core/text.h"

namespace sipsleuth::core {

// One contact-param read in place: views into the value.
struct ContactView {
    std::string_view uri;
    std::string_view instance;  ///< as sent inside its quotes: instance_escaped says quoted-pairs are left
    bool instance_escaped = false;
    std::optional<std::uint32_t> expires;
    bool cisco_keep_alive = false;
};

namespace {

// The Contact grammar of sip_header.cc's parse_name_addr (RFC 3261 section 20.10), read in place: the
// tracker looks at a REGISTER's and its 2xx's Contacts on every message, and parse_name_addr builds a
// NameAddr with a string per part and parameter. Same acceptance, same answers (the first +sip.instance
// and expires parameter, any cisco-keep-alive): tests/unit/test_registration.cc checks it against
// parse_name_addr on mutated values.
//
// sip_header.cc's character classes, as a table (the reader looks at every byte of a Contact).
enum : std::uint8_t { kWs = 1, kToken = 2 };
constexpr std::array<std::uint8_t, 256> kClass = [] {
    std::array<std::uint8_t, 256> t{};
    for (const unsigned char c : {' ', '\t', '\r', '\n'}) t[c] = kWs;
    for (unsigned c = 0; c < 256; ++c)
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) t[c] = kToken;
    for (const unsigned char c : {'-', '.', '!', '%', '*', '_', '+', '`', '\'', '~'}) t[c] = kToken;
    return t;
}();
bool hdr_ws(char c) { return kClass[static_cast<unsigned char>(c)] == kWs; }
bool hdr_token(char c) { return kClass[static_cast<unsigned char>(c)] == kToken; }

// Just after the closing quote of the quoted-string at s[i] == '"' (quoted-pairs skipped), or npos.
std::size_t quoted_end(std::string_view s, std::size_t i) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size())
            ++i;
        else if (s[i] == '"')
            return i + 1;
    }
    return std::string_view::npos;
}

void skip_ws(std::string_view s, std::size_t& i) {
    while (i < s.size() && hdr_ws(s[i])) ++i;
}

// *( ";" generic-param ) from s[i]: fn(name, value, has_value, quoted) per parameter, the value without its
// quotes (quoted-pairs kept). stop ends an unquoted value besides ';' and white space. False on a
// parameter without a name or an unclosed quote; i is left after the last parameter.
template <typename Fn>
bool scan_params(std::string_view s, std::size_t& i, char stop, Fn&& fn) {
    for (skip_ws(s, i); i < s.size() && s[i] == ';'; skip_ws(s, i)) {
        ++i;
        skip_ws(s, i);
        const std::size_t name_at = i;
        while (i < s.size() && hdr_token(s[i])) ++i;
        const std::string_view name = s.substr(name_at, i - name_at);
        if (name.empty()) return false;
        skip_ws(s, i);
        std::string_view value;
        bool has_value = false, quoted = false;
        if (i < s.size() && s[i] == '=') {
            ++i;
            skip_ws(s, i);
            has_value = true;
            if (i < s.size() && s[i] == '"') {
                const std::size_t end = quoted_end(s, i);
                if (end == std::string_view::npos) return false;
                value = s.substr(i + 1, end - i - 2);
                quoted = true;
                i = end;
            } else {
                const std::size_t at = i;
                while (i < s.size() && s[i] != ';' && !hdr_ws(s[i]) && s[i] != stop) ++i;
                value = s.substr(at, i - at);
            }
        }
        fn(name, value, has_value, quoted);
    }
    return true;
}


// parse_name_addr's acceptance on one trimmed, non-empty contact-param ("*" excepted).
bool read_contact(std::string_view v, ContactView& out) {
    out = ContactView{};
    std::size_t i = 0;
    skip_ws(v, i);
    const std::size_t lt = v.find('<');
    std::string_view uri;
    if ((i < v.size() && v[i] == '"') || lt != std::string_view::npos) {
        if (i < v.size() && v[i] == '"') {
            i = quoted_end(v, i);
            if (i == std::string_view::npos) return false;
            skip_ws(v, i);
            if (i >= v.size() || v[i] != '<') return false;
        } else {
            // display-name = *(token LWS)
            for (const char ch : trim(v.substr(i, lt - i)))
                if (!hdr_token(ch) && !hdr_ws(ch)) return false;
            i = lt;
        }
        const std::size_t gt = v.find('>', i);
        if (gt == std::string_view::npos) return false;
        uri = trim(v.substr(i + 1, gt - i - 1));
        i = gt + 1;
        // URI parameters, up to the URI's headers ('?'), must read as parameters.
        if (const std::size_t semi = uri.find(';'); semi != std::string_view::npos) {
            const std::string_view params = uri.substr(0, uri.find('?', semi));
            std::size_t j = semi;
            if (!scan_params(params, j, '?', [](std::string_view, std::string_view, bool, bool) {}) || j < params.size())
                return false;
        }
    } else {
        // addr-spec: every ';' after the URI starts a header parameter (RFC 3261 section 20.10).
        const std::size_t from = i;
        while (i < v.size() && v[i] != ';' && !hdr_ws(v[i])) ++i;
        uri = v.substr(from, i - from);
    }
    if (!has_scheme(uri)) return false;
    out.uri = uri;
    bool instance_seen = false, expires_seen = false;
    const bool ok = scan_params(v, i, ',', [&](std::string_view name, std::string_view value, bool has_value, bool quoted) {
        if (!instance_seen && iequals(name, "+sip.instance")) {
            instance_seen = true;
            if (has_value) {
                out.instance = value;
                out.instance_escaped = quoted && value.find('\\') != std::string_view::npos;
            }
        } else if (!expires_seen && iequals(name, "expires")) {
            expires_seen = true;
            if (has_value)
                if (const auto n = parse_decimal(value, UINT32_MAX)) out.expires = static_cast<std::uint32_t>(*n);
        } else if (iequals(name, "cisco-keep-alive")) {
            out.cisco_keep_alive = true;
        }
    });
    if (!ok) return false;
    skip_ws(v, i);
    return i >= v.size();
}

// The inside of a quoted-string with its quoted-pairs undone, into buf.
std::string_view unescaped(std::string_view v, std::string& buf) {
    buf.clear();
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        buf.push_back(v[i]);
    }
    return buf;
}

// The characters that split or stop splitting a Contact value outside quotes.
constexpr std::array<bool, 256> kSplitStop = [] {
    std::array<bool, 256> t{};
    for (const unsigned char c : {'"', '<', '>', ','}) t[c] = true;
    return t;
}();

// The contacts of a Contact header value in order (split at commas outside quotes and angle brackets,
// trimmed, unparsable ones skipped), each as a ContactInfo-like view (instance unescaped into buf),
// until fn returns true; whether it did.
template <typename Fn>
bool for_each_contact(std::string_view value, std::string& buf, Fn&& fn) {
    auto one = [&](std::string_view part) {
        part = trim(part);
        if (part.empty()) return false;
        ContactView c;
        if (part == "*") {
            c.uri = part;
        } else {
            if (!read_contact(part, c)) return false;
            if (c.instance_escaped) c.instance = unescaped(c.instance, buf);
        }
        return static_cast<bool>(fn(static_cast<const ContactView&>(c)));
    };
    // The common case, one contact per value: nothing to split at.
    if (value.find(',') == std::string_view::npos) return one(value);
    bool quoted = false, escaped = false;
    int angle = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (!quoted)  // to the next character that matters outside quotes
            while (i < value.size() && !kSplitStop[static_cast<unsigned char>(value[i])]) ++i;
        if (i == value.size()) break;
        const char c = value[i];
        if (quoted) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') quoted = false;
            continue;
        }
        if (c == '"') quoted = true;
        else if (c == '<') ++angle;
        else if (c == '>' && angle > 0) --angle;
        else if (c == ',' && angle == 0) {
            if (one(value.substr(start, i - start))) return true;
            start = i + 1;
        }
    }
    return one(value.substr(start));
}

// "address:port" of the registrar, IPv6 in brackets (as siptrack has always shown it), into s.
void endpoint_text(const Endpoint& e, std::string& s) {
    const bool v6 = e.address.find(':') != std::string::npos;
    s.clear();
    if (v6) s += '[';
    s += e.address;
    if (v6) s += ']';
    s += ':';
    char port[8];
    const auto r = std::to_chars(port, port + sizeof port, e.port);
    s.append(port, r.ptr);
}


// A binding's key: device (instance and AoR user part, else AoR and Contact URI; then the sender's
// address) and registrar, newline-separated. Equal keys are equal byte strings, whatever the parts.
constexpr std::size_t kDeviceParts = 5;
using KeyParts = std::array<std::string_view, 7>;

KeyParts key_parts(std::string_view first, std::string_view second, std::string_view address,
                   std::string_view registrar) {
    return {first, "\n", second, "\n", address, "\n", registrar};
}

std::string_view user_part(std::string_view aor) { return aor.substr(0, aor.find('@')); }  // whole without '@'

KeyParts binding_key(const Binding& b) {
    return b.by_instance ? key_parts(b.contact, user_part(b.aor), b.device_address, b.registrar)
                         : key_parts(b.aor, b.contact, b.device_address, b.registrar);
}

// Whether the first na parts of a and the first nb parts of b make the same bytes.
bool same_bytes(const KeyParts& a, std::size_t na, const KeyParts& b, std::size_t nb) {
    std::size_t ia = 0, oa = 0, ib = 0, ob = 0;
    for (;;) {
        while (ia < na && oa == a[ia].size()) ++ia, oa = 0;
        while (ib < nb && ob == b[ib].size()) ++ib, ob = 0;
        if (ia == na || ib == nb) return ia == na && ib == nb;
        const std::size_t n = std::min(a[ia].size() - oa, b[ib].size() - ob);
        if (std::memcmp(a[ia].data() + oa, b[ib].data() + ob, n) != 0) return false;
        oa += n;
        ob += n;
    }
}

// Whether s names Cisco, ASCII case-insensitive (ifind(s, "cisco") != npos, without a comparison at
// every byte).
bool names_cisco(std::string_view s) {
    for (std::size_t i = 0; i + 5 <= s.size(); ++i)
        if ((s[i] | 0x20) == 'c' && iequals(s.substr(i, 5), "cisco")) return true;
    return false;
}

}  // namespace

std::vector<ContactInfo> parse_contacts(std::string_view value) {
    std::vector<ContactInfo> out;
    std::string buf;
    for_each_contact(value, buf, [&](const ContactView& v) {
        ContactInfo& c = out.emplace_back();
        c.uri = v.uri;
        c.instance = v.instance;
        c.expires = v.expires;
        c.cisco_keep_alive = v.cisco_keep_alive;
        return false;
    });
    return out;
}

// Each Contact value of the message as parse_contacts reads it (not the Message's own reading, which is
// more lenient and keeps the last of a repeated parameter), read in place: no string is built.
template <typename Fn>
bool RegistrationTracker::any_contact(const sip::Message& m, Fn&& fn) {
    for (const sip::Contact& c : m.contacts)
        if (for_each_contact(c.raw, instance_buf_, fn)) return true;
    return false;
}

std::optional<std::size_t> RegistrationTracker::binding_for(const sip::Message& m, const std::string& registrar,
                                                            const ContactView& c) {
    // RFC 5626: +sip.instance names the device whatever registrar it talks to; Cisco phones put the
    // registrar's address in the AoR's host part (sip:4563@<CUCM>), so only the AoR's user part tells
    // the lines of one device apart. Without an instance, the AoR and Contact URI are the device. The
    // sender's address is part of it: a proxy forwarding the phone's REGISTER (same instance) registers
    // a binding of its own and is no failover of the phone.
    const std::string& aor = m.to.uri;
    const bool by_instance = !c.instance.empty();
    const KeyParts parts = by_instance ? key_parts(c.instance, user_part(aor), m.flow.src.address, registrar)
                                       : key_parts(aor, c.uri, m.flow.src.address, registrar);
    // The key is built in a buffer kept from call to call and hashed there; a binding stores no key, it
    // is compared with the binding's own fields.
    std::string& key = key_;
    key.clear();
    std::size_t device_length = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i == kDeviceParts) device_length = key.size();
        key.append(parts[i].data(), parts[i].size());
    }
    const KeyParts whole{key};
    const std::uint64_t hash = std::hash<std::string_view>{}(key);
    for (auto [it, end] = binding_index_.equal_range(hash); it != end; ++it)
        if (same_bytes(whole, 1, binding_key(bindings_[it->second]), parts.size())) return it->second;
    if (bindings_.size() >= s_.max_bindings) {
        full_ = true;
        return std::nullopt;
    }
    const std::size_t index = bindings_.size();
    std::optional<std::size_t> dev;
    const KeyParts device{std::string_view(key).substr(0, device_length)};
    const std::uint64_t dh = std::hash<std::string_view>{}(device[0]);
    for (auto [it, end] = device_index_.equal_range(dh); it != end && !dev; ++it)
        if (same_bytes(device, 1, binding_key(bindings_[devices_[it->second].first_binding]), kDeviceParts))
            dev = it->second;
    if (!dev) {
        devices_.emplace_back().first_binding = index;
        dev = devices_.size() - 1;
        device_index_.emplace(dh, *dev);
    }
    Binding& b = bindings_.emplace_back();
    b.aor = aor;
    b.contact = by_instance ? c.instance : c.uri;
    b.by_instance = by_instance;
    b.registrar = registrar;
    b.device_address = m.flow.src.address;
    b.device = *dev;
    binding_index_.emplace(hash, index);
    return index;
}

std::optional<std::size_t> RegistrationTracker::record_of(sip::TxnId id) const {
    const auto it = std::lower_bound(by_txn_.begin(), by_txn_.end(), id,
                                     [](const std::pair<sip::TxnId, std::uint32_t>& e, sip::TxnId k) { return e.first < k; });
    if (it != by_txn_.end() && it->first == id) return it->second;
    if (by_txn_late_.empty()) return std::nullopt;
    const auto late = by_txn_late_.find(id);
    return late == by_txn_late_.end() ? std::nullopt : std::optional<std::size_t>(late->second);
}

void RegistrationTracker::set_record(sip::TxnId id, std::size_t record) {
    if (by_txn_.empty() || by_txn_.back().first < id) {
        by_txn_.emplace_back(id, static_cast<std::uint32_t>(record));
        return;
    }
    const auto it = std::lower_bound(by_txn_.begin(), by_txn_.end(), id,
                                     [](const std::pair<sip::TxnId, std::uint32_t>& e, sip::TxnId k) { return e.first < k; });
    if (it != by_txn_.end() && it->first == id)
        it->second = static_cast<std::uint32_t>(record);
    else
        by_txn_late_[id] = record;
}

std::optional<RegisterRef> RegistrationTracker::on_request(const sip::Message& m, const sip::TxnVerdict& v) {
    // Copies are the TransactionLayer's call: the same transaction in the same direction. A reflection
    // (seen before only the other way) is no copy and no REGISTER of its own.
    if (v.id == 0 || v.reflected) return std::nullopt;
    if (v.retransmission) {
        const auto ri = record_of(v.id);
        if (!ri) return std::nullopt;  // its first copy was not tracked
        return RegisterRef{*ri, add_copy(*ri, {m.frame, m.index, m.time, v.tcp_duplicate})};
    }
    ContactView c;  // views into m (the instance perhaps into instance_buf_), valid for this call
    if (!any_contact(m, [&](const ContactView& i) {
            c = i;
            return true;
        }))
        return std::nullopt;  // a query for the bindings, not a registration
    if (records_.size() >= s_.max_records) {
        full_ = true;
        return std::nullopt;
    }
    endpoint_text(m.flow.dst, registrar_);
    const auto bi = binding_for(m, registrar_, c);
    if (!bi) return std::nullopt;
    Binding& b = bindings_[*bi];
    Device& d = devices_[b.device];

    RegisterRecord& rec = records_.emplace_back();  // built in place
    const std::size_t index = records_.size() - 1;
    rec.binding = *bi;
    rec.call_id = m.call_id;
    rec.cseq = m.cseq;
    rec.copies.push_back({m.frame, m.index, m.time, false});
    rec.copy_count = 1;
    rec.last = rec.copies.back();
    rec.expires_asked = c.expires ? c.expires : m.expires;
    rec.by_instance = !c.instance.empty();
    if (const std::string_view contact = rec.by_instance ? c.instance : c.uri;
        rec.by_instance != b.by_instance || contact != b.contact)
        rec.contact.emplace(contact);
    if (c.uri == "*" || (rec.expires_asked && *rec.expires_asked == 0))
        rec.kind = c.cisco_keep_alive ? RegisterKind::backup_keepalive : RegisterKind::deregistration;
    if (b.last) {
        rec.interval = m.time - records_[*b.last].copies.front().time;
        b.intervals.add(*rec.interval);
    }
    rec.previous = b.last;
    if (rec.kind == RegisterKind::registration) {
        if (b.granted && b.granted_call_id == m.call_id && d.current == *bi) {
            rec.kind = RegisterKind::refresh;
            rec.previous_grant = b.granted;
            rec.granted_at = b.granted_at;
            rec.granted_frame = b.granted_frame;
            rec.expiry = b.granted_at + static_cast<Nanos>(*b.granted) * kSecond;
            rec.schedule = static_cast<Nanos>(*b.granted) * kSecond - s_.late_delta;
        }
        if (d.current && *d.current != *bi) {
            Switch sw;
            const Binding& prev = bindings_[*d.current];
            sw.previous = prev.registrar;
            if (prev.last) sw.previous_frame = records_[*prev.last].copies.front().frame;
            if (d.last_switch) sw.since_switch = m.time - *d.last_switch;
            sw.switch_frame = d.last_switch_frame;
            sw.number = ++d.switches;
            // Failover: the binding left was dropped by the lapse of its last REGISTER past the grace.
            // Fallback: back to the binding the device left at a failover with a cause.
            if (prev.last && records_[*prev.last].lapse) {
                sw.caused_by = records_[*prev.last].lapse->frame;
            } else if (d.last_switch_cause && d.left_binding == *bi) {
                sw.caused_by = d.last_switch_cause;
                sw.fallback = true;
            }
            d.last_switch = m.time;
            d.last_switch_frame = m.frame;
            d.last_switch_cause = sw.fallback ? std::nullopt : sw.caused_by;
            d.left_binding = *d.current;
            rec.registrar_switch = sw;
        }
        d.current = *bi;
    }
    ++b.registers;
    if (records_[index].kind == RegisterKind::backup_keepalive) ++b.keepalives;
    if (!b.last || records_[*b.last].call_id != records_[index].call_id) ++b.call_ids;
    b.last = index;
    set_record(v.id, index);
    check_copy(index, 0, m.time);
    return RegisterRef{index, 0};
}

// A retransmission: listed while the record holds fewer than max_copies, counted (and checked) always.
std::size_t RegistrationTracker::add_copy(std::size_t ri, const RegisterCopy& c) {
    RegisterRecord& rec = records_[ri];
    const std::size_t copy = rec.copy_count++;
    rec.last = c;
    if (rec.copies.size() < std::max<std::size_t>(s_.max_copies, 1)) rec.copies.push_back(c);
    else if (!rec.copies_full) rec.copies_full = copy;
    ++bindings_[rec.binding].retransmissions;
    if (copy == 1) {
        const RegisterRecord* prev = rec.previous ? &records_[*rec.previous] : nullptr;
        if (prev && prev->retransmitted_in_row) {
            rec.retransmitted_in_row = prev->retransmitted_in_row + 1;
            rec.row_first_frame = prev->row_first_frame;
        } else {
            rec.retransmitted_in_row = 1;
            rec.row_first_frame = rec.copies.front().frame;
        }
    }
    check_copy(ri, copy, c.time);
    return copy;
}

void RegistrationTracker::check_copy(std::size_t ri, std::size_t copy, Nanos t) {
    RegisterRecord& rec = records_[ri];
    if (rec.kind != RegisterKind::refresh || !rec.expiry || rec.response_frame || rec.lapse) return;
    Binding& b = bindings_[rec.binding];
    if (t > *rec.expiry) {
        Lapse l;
        l.copy = copy;
        l.frame = rec.last.frame;
        l.by = t - *rec.expiry;
        l.expiry = *rec.expiry;
        l.granted = rec.previous_grant.value_or(0);
        l.granted_frame = rec.granted_frame;
        l.server = b.server_without_grace;
        l.grace = l.server.empty() ? s_.grace : 0;
        l.past_grace = l.by > l.grace;
        if (!rec.within_grace) ++b.lapses;  // one lapse per refresh, whichever copies show it
        if (l.past_grace) rec.lapse = l;
        else if (!rec.within_grace) rec.within_grace = l;
        return;
    }
    if (copy == 0 && !rec.late_copy && t - rec.granted_at > rec.schedule + s_.late_slack) {
        rec.late_copy = copy;
        rec.late_time = t;
        rec.late_by = t - rec.granted_at - rec.schedule;
        ++b.late;
    }
}

std::vector<Finding> RegistrationTracker::findings(std::size_t ri, std::size_t copy) const {
    const RegisterRecord& rec = records_[ri];
    std::vector<Finding> out;
    const std::optional<Lapse>& lapse = rec.lapse;
    if (copy > 0) {
        // A copy after the one that lapsed past the grace repeats a REGISTER the registrar has dropped.
        std::optional<std::uint32_t> cause;
        if (lapse && copy > lapse->copy) cause = lapse->frame;
        out.push_back({KeepaliveFinding::register_retransmitted, cause});
    }
    if (rec.within_grace && rec.within_grace->copy == copy)
        out.push_back({KeepaliveFinding::register_within_grace, std::nullopt});
    if (lapse && lapse->copy == copy) out.push_back({KeepaliveFinding::registration_lapsed, std::nullopt});
    if (rec.late_copy && *rec.late_copy == copy) out.push_back({KeepaliveFinding::register_late, std::nullopt});
    if (copy != 0) return out;
    if (rec.kind == RegisterKind::backup_keepalive) out.push_back({KeepaliveFinding::backup_keepalive, std::nullopt});
    if (rec.kind == RegisterKind::deregistration) out.push_back({KeepaliveFinding::deregistration, std::nullopt});
    if (rec.registrar_switch) out.push_back({KeepaliveFinding::registrar_switch, rec.registrar_switch->caused_by});
    return out;
}

std::vector<RegisterRef> RegistrationTracker::on_tcp_retransmission(const std::vector<sip::TcpRetransmissionHit>& hits,
                                                                    std::uint32_t frame, Nanos time) {
    std::vector<RegisterRef> out;
    for (const sip::TcpRetransmissionHit& h : hits) {
        const auto ri = record_of(h.id);
        if (!ri) continue;
        // The hit must be the REGISTER itself (a copy listed as sent on the wire), not another message of
        // its transaction (a response goes the other way and is never a hit, but be exact).
        const RegisterRecord& rec = records_[*ri];
        const bool request = std::any_of(rec.copies.begin(), rec.copies.end(), [&](const RegisterCopy& c) {
            return !c.tcp && c.frame == h.frame && c.message == h.index;
        });
        if (!request) continue;
        if (std::any_of(out.begin(), out.end(), [&](const RegisterRef& r) { return r.record == *ri; })) continue;
        out.push_back({*ri, add_copy(*ri, {frame, h.index, time, true})});
    }
    return out;
}

std::optional<std::size_t> RegistrationTracker::on_response(const sip::Message& m, const sip::TxnVerdict& v) {
    if (v.id == 0 || v.reflected) return std::nullopt;
    const auto found = record_of(v.id);
    if (!found) return std::nullopt;
    const std::size_t ri = *found;
    if (m.status < 200) return ri;
    if (!v.first_final || records_[ri].response_frame) return std::nullopt;  // a retransmitted final response
    RegisterRecord& rec = records_[ri];
    rec.response_frame = m.frame;
    rec.status = m.status;
    rec.response_time = m.time - rec.copies.front().time;
    if (m.status >= 300) return ri;
    Binding& b = bindings_[rec.binding];
    // RFC 3261 section 10.3 step 8: the 2xx lists every binding with its expires parameter.
    std::optional<std::uint32_t> granted;
    const std::string_view contact = rec.contact ? std::string_view(*rec.contact) : std::string_view(b.contact);
    any_contact(m, [&](const ContactView& c) {
        if (c.expires && (rec.by_instance ? c.instance : c.uri) == contact) granted = c.expires;
        return granted.has_value();
    });
    if (!granted) granted = m.expires;
    if (!granted && rec.expires_asked) granted = rec.expires_asked;
    if (rec.kind == RegisterKind::deregistration || rec.kind == RegisterKind::backup_keepalive) granted = 0;
    rec.granted = granted;
    if ((rec.lapse || rec.within_grace) && rec.expiry) rec.expired_for = m.time - *rec.expiry;
    b.server_without_grace.clear();
    if (!m.server.empty() && !names_cisco(m.server))
        b.server_without_grace = sanitize_utf8(m.server, 64);
    if (granted && *granted > 0) {
        b.granted = granted;
        b.granted_at = m.time;
        b.granted_frame = m.frame;
        b.granted_call_id = rec.call_id;
    } else {
        b.granted.reset();
    }
    return ri;
}

}  // namespace sipsleuth::core
