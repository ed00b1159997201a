// SPDX-License-Identifier: GPL-2.0-or-later
// See registration.h. A lapse is named once per refresh, on the first copy of the REGISTER sent after
// the granted expiry and the registrar's grace: the copies before it were sent in time (and lost), every
// later copy is only more of the same lapse. A copy sent after the expiry but within the grace is named
// too, once, as the near miss it is; a later copy past the grace is then the lapse. A refresh is a REGISTER to the binding's registrar with the Call-ID of the grant in
// force (RFC 3261 section 10.2.4 asks UAs to keep the Call-ID); a REGISTER with another Call-ID, or after
// the device registered elsewhere, starts a new registration and is never called a lapse.
#include "sipsleuth/core/registration.h"

#include <algorithm>

#include "sipsleuth/core/sip_header.h"
#include "sipsleuth/core/text.h"

namespace sipsleuth::core {

namespace {

// Splits a header value at commas outside quotes and angle brackets.
std::vector<std::string_view> split_top_level(std::string_view v) {
    std::vector<std::string_view> out;
    bool quoted = false, escaped = false;
    int angle = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
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
            out.push_back(v.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(v.substr(start));
    return out;
}

// "address:port" of the registrar, IPv6 in brackets (as siptrack has always shown it).
std::string endpoint_text(const Endpoint& e) {
    std::string s;
    const bool v6 = e.address.find(':') != std::string::npos;
    if (v6) s += '[';
    s += e.address;
    if (v6) s += ']';
    s += ':';
    s += std::to_string(e.port);
    return s;
}


}  // namespace

std::vector<ContactInfo> parse_contacts(std::string_view value) {
    std::vector<ContactInfo> out;
    for (std::string_view part : split_top_level(value)) {
        part = trim(part);
        if (part.empty()) continue;
        ContactInfo c;
        if (part == "*") {
            c.uri = "*";
            out.push_back(c);
            continue;
        }
        const std::optional<NameAddr> na = parse_name_addr(part);
        if (!na) continue;
        c.uri = na->uri;
        if (const HeaderParam* p = find_param(na->params, "+sip.instance"); p && p->value) c.instance = *p->value;
        if (const HeaderParam* p = find_param(na->params, "expires"); p && p->value)
            if (const auto n = parse_decimal(*p->value, UINT32_MAX)) c.expires = static_cast<std::uint32_t>(*n);
        c.cisco_keep_alive = find_param(na->params, "cisco-keep-alive") != nullptr;
        out.push_back(std::move(c));
    }
    return out;
}

const std::vector<ContactInfo>& RegistrationTracker::contacts(const std::string& raw) {
    if (const auto it = contact_cache_.find(raw); it != contact_cache_.end()) return it->second;
    if (contact_cache_.size() >= kMaxCachedContacts) contact_cache_.clear();  // a bound; parsed again on demand
    return contact_cache_.emplace(raw, parse_contacts(raw)).first->second;
}

template <typename Fn>
bool RegistrationTracker::any_contact(const sip::Message& m, Fn&& fn) {
    for (const sip::Contact& c : m.contacts)
        for (const ContactInfo& i : contacts(c.raw))
            if (fn(i)) return true;
    return false;
}

std::optional<std::size_t> RegistrationTracker::binding_for(const sip::Message& m, const std::string& registrar,
                                                            const ContactInfo& c) {
    // RFC 5626: +sip.instance names the device whatever registrar it talks to; Cisco phones put the
    // registrar's address in the AoR's host part (sip:4563@<CUCM>), so only the AoR's user part tells
    // the lines of one device apart. Without an instance, the AoR and Contact URI are the device. The
    // sender's address is part of it: a proxy forwarding the phone's REGISTER (same instance) registers
    // a binding of its own and is no failover of the phone.
    const std::string& aor = m.to.uri;
    // Both keys are built in buffers kept from call to call: a REGISTER allocates no key.
    std::string& device_key = device_key_;
    if (!c.instance.empty()) {
        const std::size_t at = aor.find('@');
        device_key.assign(c.instance).push_back('\n');
        device_key.append(aor, 0, at);  // the whole AoR when it has no '@'
    } else {
        device_key.assign(aor).push_back('\n');
        device_key.append(c.uri);
    }
    device_key += '\n';
    device_key += m.flow.src.address;
    std::string& binding_key = binding_key_;
    binding_key.assign(device_key).push_back('\n');
    binding_key.append(registrar);
    if (const auto it = binding_index_.find(binding_key); it != binding_index_.end()) return it->second;
    if (bindings_.size() >= s_.max_bindings) {
        full_ = true;
        return std::nullopt;
    }
    auto dev = device_index_.find(device_key);
    if (dev == device_index_.end()) {
        devices_.emplace_back();
        devices_.back().key = device_key;
        dev = device_index_.emplace(device_key, devices_.size() - 1).first;
    }
    bindings_.emplace_back();
    Binding& b = bindings_.back();
    b.aor = aor;
    b.contact = c.instance.empty() ? c.uri : c.instance;
    b.registrar = registrar;
    b.device_address = m.flow.src.address;
    b.device = dev->second;
    binding_index_.emplace(binding_key, bindings_.size() - 1);
    return bindings_.size() - 1;
}

std::optional<RegisterRef> RegistrationTracker::on_request(const sip::Message& m, const sip::TxnVerdict& v) {
    // Copies are the TransactionLayer's call: the same transaction in the same direction. A reflection
    // (seen before only the other way) is no copy and no REGISTER of its own.
    if (v.id == 0 || v.reflected) return std::nullopt;
    if (v.retransmission) {
        const auto it = by_txn_.find(v.id);
        if (it == by_txn_.end()) return std::nullopt;  // its first copy was not tracked
        return RegisterRef{it->second, add_copy(it->second, {m.frame, m.index, m.time, v.tcp_duplicate})};
    }
    ContactInfo c;
    if (!any_contact(m, [&](const ContactInfo& i) {
            c = i;
            return true;
        }))
        return std::nullopt;  // a query for the bindings, not a registration
    if (records_.size() >= s_.max_records) {
        full_ = true;
        return std::nullopt;
    }
    const std::string registrar = endpoint_text(m.flow.dst);
    const auto bi = binding_for(m, registrar, c);
    if (!bi) return std::nullopt;
    Binding& b = bindings_[*bi];
    Device& d = devices_[b.device];

    RegisterRecord rec;
    rec.binding = *bi;
    rec.call_id = m.call_id;
    rec.cseq = m.cseq;
    rec.copies.push_back({m.frame, m.index, m.time, false});
    rec.copy_count = 1;
    rec.last = rec.copies.back();
    rec.expires_asked = c.expires ? c.expires : m.expires;
    rec.contact_uri = c.uri;
    rec.instance = c.instance;
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
    records_.push_back(std::move(rec));
    const std::size_t index = records_.size() - 1;
    ++b.registers;
    if (records_[index].kind == RegisterKind::backup_keepalive) ++b.keepalives;
    if (!b.last || records_[*b.last].call_id != records_[index].call_id) ++b.call_ids;
    b.last = index;
    by_txn_[v.id] = index;
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
        const auto it = by_txn_.find(h.id);
        if (it == by_txn_.end()) continue;
        // The hit must be the REGISTER itself (a copy listed as sent on the wire), not another message of
        // its transaction (a response goes the other way and is never a hit, but be exact).
        const RegisterRecord& rec = records_[it->second];
        const bool request = std::any_of(rec.copies.begin(), rec.copies.end(), [&](const RegisterCopy& c) {
            return !c.tcp && c.frame == h.frame && c.message == h.index;
        });
        if (!request) continue;
        if (std::any_of(out.begin(), out.end(), [&](const RegisterRef& r) { return r.record == it->second; })) continue;
        out.push_back({it->second, add_copy(it->second, {frame, h.index, time, true})});
    }
    return out;
}

std::optional<std::size_t> RegistrationTracker::on_response(const sip::Message& m, const sip::TxnVerdict& v) {
    if (v.id == 0 || v.reflected) return std::nullopt;
    const auto it = by_txn_.find(v.id);
    if (it == by_txn_.end()) return std::nullopt;
    const std::size_t ri = it->second;
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
    any_contact(m, [&](const ContactInfo& c) {
        if (c.expires &&
            ((!rec.instance.empty() && c.instance == rec.instance) || (rec.instance.empty() && c.uri == rec.contact_uri)))
            granted = c.expires;
        return granted.has_value();
    });
    if (!granted) granted = m.expires;
    if (!granted && rec.expires_asked) granted = rec.expires_asked;
    if (rec.kind == RegisterKind::deregistration || rec.kind == RegisterKind::backup_keepalive) granted = 0;
    rec.granted = granted;
    if ((rec.lapse || rec.within_grace) && rec.expiry) rec.expired_for = m.time - *rec.expiry;
    b.server_without_grace.clear();
    if (!m.server.empty() && ifind(m.server, "cisco") == std::string_view::npos)
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
