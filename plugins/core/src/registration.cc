// SPDX-License-Identifier: GPL-2.0-or-later
// See registration.h. A lapse is named once per refresh, on the first copy of the REGISTER sent after
// the granted expiry: the copies before it were sent in time (and lost), every later copy is only more
// of the same lapse. A refresh is a REGISTER to the binding's registrar with the Call-ID of the grant in
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

std::string key_of(std::string_view call_id, std::uint32_t cseq) {
    std::string k(call_id);
    k += '\n';
    k += std::to_string(cseq);
    return k;
}

std::uint64_t segment_key(std::uint32_t stream, std::uint32_t seq) {
    return (static_cast<std::uint64_t>(stream) << 32) | seq;
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

std::optional<std::size_t> RegistrationTracker::binding_for(const RegisterRequest& r, const ContactInfo* c) {
    // RFC 5626: +sip.instance names the device whatever registrar it talks to; Cisco phones put the
    // registrar's address in the AoR's host part (sip:4563@<CUCM>), so only the AoR's user part tells
    // the lines of one device apart. Without an instance, the AoR and Contact URI are the device.
    std::string device_key;
    if (!c->instance.empty()) {
        const std::size_t at = r.aor.find('@');
        device_key = c->instance + "\n" + (at == std::string::npos ? r.aor : r.aor.substr(0, at));
    } else {
        device_key = r.aor + "\n" + c->uri;
    }
    const std::string binding_key = device_key + "\n" + r.registrar;
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
    b.aor = r.aor;
    b.contact = c->instance.empty() ? c->uri : c->instance;
    b.registrar = r.registrar;
    b.device_address = r.device;
    b.device = dev->second;
    binding_index_.emplace(binding_key, bindings_.size() - 1);
    return bindings_.size() - 1;
}

std::optional<RegisterRef> RegistrationTracker::on_request(const RegisterRequest& r) {
    const std::string key = key_of(r.call_id, r.cseq);
    if (const auto open = open_.find(key); open != open_.end()) {
        // The same transaction again (a UDP retransmission, or a SIP-level resend).
        return RegisterRef{open->second, add_copy(open->second, {r.frame, r.time, false})};
    }
    std::vector<ContactInfo> contacts;
    for (const std::string& v : r.contacts)
        for (ContactInfo& c : parse_contacts(v)) contacts.push_back(std::move(c));
    if (contacts.empty()) return std::nullopt;  // a query for the bindings, not a registration
    const ContactInfo& c = contacts.front();
    if (records_.size() >= s_.max_records) {
        full_ = true;
        return std::nullopt;
    }
    const auto bi = binding_for(r, &c);
    if (!bi) return std::nullopt;
    Binding& b = bindings_[*bi];
    Device& d = devices_[b.device];

    RegisterRecord rec;
    rec.binding = *bi;
    rec.call_id = r.call_id;
    rec.cseq = r.cseq;
    rec.copies.push_back({r.frame, r.time, false});
    rec.copy_count = 1;
    rec.last = rec.copies.back();
    rec.expires_asked = c.expires ? c.expires : r.expires_header;
    rec.contact_uri = c.uri;
    rec.instance = c.instance;
    if (c.uri == "*" || (rec.expires_asked && *rec.expires_asked == 0))
        rec.kind = c.cisco_keep_alive ? RegisterKind::backup_keepalive : RegisterKind::deregistration;
    if (b.last) {
        rec.interval = r.time - records_[*b.last].copies.front().time;
        b.intervals.add(*rec.interval);
    }
    if (rec.kind == RegisterKind::registration) {
        if (b.granted && b.granted_call_id == r.call_id && d.current == *bi) {
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
            if (d.last_switch) sw.since_switch = r.time - *d.last_switch;
            sw.switch_frame = d.last_switch_frame;
            sw.number = ++d.switches;
            d.last_switch = r.time;
            d.last_switch_frame = r.frame;
            rec.registrar_switch = sw;
        }
        d.current = *bi;
    }
    records_.push_back(std::move(rec));
    const std::size_t index = records_.size() - 1;
    ++b.registers;
    if (records_[index].kind == RegisterKind::backup_keepalive) ++b.keepalives;
    b.last = index;
    open_[key] = index;
    if (r.stream && r.end != r.seq) {
        auto& seg = segments_[segment_key(*r.stream, r.seq)];
        seg.first = r.end;
        seg.second.push_back(index);
    }
    check_copy(index, 0, r.time);
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
    check_copy(ri, copy, c.time);
    return copy;
}

void RegistrationTracker::check_copy(std::size_t ri, std::size_t copy, Nanos t) {
    RegisterRecord& rec = records_[ri];
    if (rec.kind != RegisterKind::refresh || !rec.expiry || rec.response_frame) return;
    Binding& b = bindings_[rec.binding];
    if (rec.lapse) return;
    if (t > *rec.expiry) {
        Lapse l;
        l.copy = copy;
        l.by = t - *rec.expiry;
        l.expiry = *rec.expiry;
        l.granted = rec.previous_grant.value_or(0);
        l.granted_frame = rec.granted_frame;
        l.past_grace = l.by > s_.grace;
        rec.lapse = l;
        ++b.lapses;
        return;
    }
    if (!rec.late_copy && t - rec.granted_at > rec.schedule + s_.late_slack) {
        rec.late_copy = copy;
        rec.late_time = t;
        rec.late_by = t - rec.granted_at - rec.schedule;
        ++b.late;
    }
}

std::vector<RegisterRef> RegistrationTracker::on_tcp_retransmission(std::uint32_t stream, std::uint32_t seq,
                                                                    std::uint32_t frame, Nanos time) {
    std::vector<RegisterRef> out;
    auto it = segments_.upper_bound(segment_key(stream, seq));
    if (it == segments_.begin()) return out;
    --it;
    if (static_cast<std::uint32_t>(it->first >> 32) != stream) return out;
    const std::uint32_t start = static_cast<std::uint32_t>(it->first);
    // Within [start, end), with sequence-number wrap-around.
    if (seq - start >= it->second.first - start) return out;
    for (const std::size_t ri : it->second.second) out.push_back({ri, add_copy(ri, {frame, time, true})});
    return out;
}

std::optional<std::size_t> RegistrationTracker::on_response(const RegisterResponse& r) {
    const auto open = open_.find(key_of(r.call_id, r.cseq));
    if (open == open_.end()) return std::nullopt;
    const std::size_t ri = open->second;
    if (r.status < 200) return ri;
    open_.erase(open);
    RegisterRecord& rec = records_[ri];
    rec.response_frame = r.frame;
    rec.status = r.status;
    rec.response_time = r.time - rec.copies.front().time;
    if (r.status >= 300) return ri;
    Binding& b = bindings_[rec.binding];
    // RFC 3261 section 10.3 step 8: the 2xx lists every binding with its expires parameter.
    std::optional<std::uint32_t> granted;
    for (const std::string& v : r.contacts)
        for (const ContactInfo& c : parse_contacts(v))
            if (!granted && c.expires &&
                ((!rec.instance.empty() && c.instance == rec.instance) || (rec.instance.empty() && c.uri == rec.contact_uri)))
                granted = c.expires;
    if (!granted) granted = r.expires_header;
    if (!granted && rec.expires_asked) granted = rec.expires_asked;
    if (rec.kind == RegisterKind::deregistration || rec.kind == RegisterKind::backup_keepalive) granted = 0;
    rec.granted = granted;
    if (granted && *granted > 0) {
        b.granted = granted;
        b.granted_at = r.time;
        b.granted_frame = r.frame;
        b.granted_call_id = rec.call_id;
    } else {
        b.granted.reset();
    }
    return ri;
}

}  // namespace sipsleuth::core
