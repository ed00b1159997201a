// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for registration.h: Contact parsing on field case 004's exact headers (the 7975G's Contact with
// +sip.instance, the backup keepalive's `expires=0;cisco-keep-alive`), and the REGISTER tracker on the
// 8961 story: refresh intervals, TCP and UDP retransmissions, lapses within and past the grace, late
// refreshes, keepalives, de-registrations and registrar switches. Messages go through the suite's
// TransactionLayer first, as siptrack feeds them (issue 15): a proxy's forward, a reflection and a TCP
// retransmission of a response are no copies.
#include "sipsleuth/core/registration.h"

#include <gtest/gtest.h>

#include "sipsleuth/core/sip/transaction.h"
#include "sipsleuth/core/sip_header.h"
#include "sipsleuth/core/text.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipsleuth::core {
namespace {

constexpr const char* kSeedContact =
    "<sip:9e9e1ffb-0206-4ea1-6d77-ba04a72017f7@10.106.114.185:53006;transport=tcp>;"
    "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-0024142ddf24>\";"
    "+u.sip!devicename.ccm.cisco.com=\"SEP0024142DDF24\";+u.sip!model.ccm.cisco.com=\"437\"";
constexpr const char* kSeedBackupContact =
    "<sip:e2b0f175-feae-d664-befa-b7cd0837fcc6@10.60.63.21:5060;transport=TCP>;"
    "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-e0d1730ac1b1>\";"
    "+u.sip!devicename.ccm.cisco.com=\"SEPE0D1730AC1B1\";+u.sip!model.ccm.cisco.com=\"592\";"
    "expires=0;cisco-keep-alive";

TEST(ParseContacts, SeedPrimaryContact) {
    const auto c = parse_contacts(kSeedContact);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].uri, "sip:9e9e1ffb-0206-4ea1-6d77-ba04a72017f7@10.106.114.185:53006;transport=tcp");
    EXPECT_EQ(c[0].instance, "<urn:uuid:00000000-0000-0000-0000-0024142ddf24>");
    EXPECT_FALSE(c[0].expires);
    EXPECT_FALSE(c[0].cisco_keep_alive);
}

TEST(ParseContacts, SeedBackupKeepalive) {
    const auto c = parse_contacts(kSeedBackupContact);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].expires, 0u);
    EXPECT_TRUE(c[0].cisco_keep_alive);
    EXPECT_EQ(c[0].instance, "<urn:uuid:00000000-0000-0000-0000-e0d1730ac1b1>");
}

TEST(ParseContacts, Table) {
    struct Case {
        const char* value;
        std::vector<std::string> uris;
        std::vector<long> expires;  // -1: absent
    };
    const Case cases[] = {
        {"*", {"*"}, {-1}},
        {"<sip:a@h>;expires=60, <sip:b@h>;expires=120", {"sip:a@h", "sip:b@h"}, {60, 120}},
        {"\"A, B\" <sip:a@h;x=\",\">;expires=5", {"sip:a@h;x=\",\""}, {5}},
        {"sip:c@h;expires=7", {"sip:c@h"}, {7}},
        {"<sip:a@h>;expires=99999999999", {"sip:a@h"}, {-1}},
        {"<sip:a@h>;expires=abc", {"sip:a@h"}, {-1}},
        {"<sip:a@h, <broken", {}, {}},
        {"", {}, {}},
        {" , ,", {}, {}},
    };
    for (const Case& k : cases) {
        const auto c = parse_contacts(k.value);
        ASSERT_EQ(c.size(), k.uris.size()) << k.value;
        for (std::size_t i = 0; i < c.size(); ++i) {
            EXPECT_EQ(c[i].uri, k.uris[i]) << k.value;
            EXPECT_EQ(c[i].expires ? static_cast<long>(*c[i].expires) : -1, k.expires[i]) << k.value;
        }
    }
}

// parse_contacts as it was before it read contacts in place (registration.cc): parse_name_addr on each
// top-level part, the first +sip.instance and expires parameters. The reader must agree with it on every
// value, malformed ones included (a contact it rejects is no binding).
std::vector<ContactInfo> reference_contacts(std::string_view value) {
    std::vector<std::string_view> parts;
    bool quoted = false, escaped = false;
    int angle = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
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
            parts.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(value.substr(start));
    std::vector<ContactInfo> out;
    for (std::string_view part : parts) {
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

void expect_same_contacts(std::string_view value) {
    const std::vector<ContactInfo> got = parse_contacts(value), want = reference_contacts(value);
    ASSERT_EQ(got.size(), want.size()) << value;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].uri, want[i].uri) << value;
        EXPECT_EQ(got[i].instance, want[i].instance) << value;
        EXPECT_EQ(got[i].expires, want[i].expires) << value;
        EXPECT_EQ(got[i].cisco_keep_alive, want[i].cisco_keep_alive) << value;
    }
}

TEST(ParseContacts, InPlaceReaderAgreesWithNameAddrParser) {
    const std::vector<std::string> seeds = {
        kSeedContact,
        kSeedBackupContact,
        "*",
        " * ",
        "<sip:a@h>;expires=60, <sip:b@h>;expires=120",
        "\"A, B\" <sip:a@h;x=\",\">;expires=5",
        "\"A \\\" B\" <sip:a@h>;+sip.instance=\"<urn:\\\"x\\\\y>\";expires=1",
        "sip:c@h;expires=7",
        "<sip:a@h>;expires=99999999999",
        "<sip:a@h>;expires=4294967295",
        "<sip:a@h>;expires=4294967296",
        "<sip:a@h>;expires=000000000000000000007",
        "<sip:a@h>;expires=abc",
        "<sip:a@h>;Expires=5;EXPIRES=6;+SIP.Instance=\"i1\";+sip.instance=\"i2\"",
        "<sip:a@h>;+sip.instance;+sip.instance=\"i2\"",
        "<sip:a@h>;expires;expires=9",
        "<sip:a@h>;+sip.instance=plain;cisco-keep-alive=1",
        "<sip:a@h, <broken",
        "Bob Smith <sip:a@h>",
        "Bob@Smith <sip:a@h>",
        "<sip:a@h;transport=tcp;lr?x=1;y>",
        "<sip:a@h;=bad>",
        "<sip:a@h;p=\"open>",
        "<1sip:a@h>",
        "<:a@h>",
        "< sip:a@h >  ;  expires = 3 ; cisco-keep-alive ",
        "<sip:a@h> garbage",
        "<sip:a@h>;p=1,x",
        "sip:a@h ;expires=2",
        "",
        " , ,",
        "<tel:+1234>;expires=0",
        "<sip:a@h>>;expires=1",
        "<<sip:a@h>;expires=1",
        "\"unclosed <sip:a@h>",
        "<sip:a@h>;+sip.instance=\"a\\",
    };
    for (const std::string& s : seeds) expect_same_contacts(s);
    // Mutations: every seed with bytes replaced, inserted and removed (a fixed pseudo-random sequence).
    const std::string alphabet = "<>\";,=\\ \t*:@?aAsS+.-0123456789exiprstnc";
    std::uint32_t x = 12345;
    auto next = [&] {
        x = x * 1103515245u + 12345u;
        return x >> 8;
    };
    for (int round = 0; round < 40000; ++round) {
        std::string s = seeds[next() % seeds.size()];
        const int edits = 1 + static_cast<int>(next() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = s.empty() ? 0 : next() % (s.size() + 1);
            const char c = alphabet[next() % alphabet.size()];
            switch (next() % 3) {
            case 0: s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c); break;
            case 1: if (at < s.size()) s[at] = c; break;
            default: if (at < s.size()) s.erase(at, 1); break;
            }
        }
        expect_same_contacts(s);
        if (HasFailure()) return;
    }
}

constexpr Nanos S = kSecond;
constexpr Nanos T0 = 1435876800 * S;
const std::string kPrimary = "178.215.139.22:5060", kSecondary = "178.215.139.23:5060";
const std::string kInstance = "<sip:u@10.147.230.189:50708;transport=tcp>;+sip.instance=\"<urn:uuid:1>\"";

const std::string kPhone = "10.147.230.189";

Endpoint endpoint_of(const std::string& address_port) {
    const std::size_t colon = address_port.rfind(':');
    return Endpoint{address_port.substr(0, colon),
                         static_cast<std::uint16_t>(std::stoul(address_port.substr(colon + 1)))};
}

// The phone's side of the registrar's connection: stream 1 to the primary, 0 to the secondary.
FlowRef flow_to(const std::string& registrar, bool up = true) {
    FlowRef f;
    f.transport = Transport::tcp;
    f.stream = registrar == kPrimary ? 1u : 0u;
    f.src = Endpoint{kPhone, 50708};
    f.dst = endpoint_of(registrar);
    if (!up) std::swap(f.src, f.dst);
    return f;
}

// A REGISTER as the wsglue reader gives it: top Via branch per Call-ID and CSeq (one transaction each),
// its bytes at [frame * 1000, frame * 1000 + 900) of the phone's direction.
sip::Message reg(std::uint32_t frame, Nanos t, const std::string& registrar, const std::string& call, std::uint32_t cseq,
                 const std::string& contact = kInstance, std::uint32_t expires = 3600) {
    sip::Message m;
    m.frame = frame;
    m.time = t;
    m.flow = flow_to(registrar);
    m.seq_begin = frame * 1000;
    m.seq_end = frame * 1000 + 900;
    m.request = true;
    m.method = "REGISTER";
    m.request_uri = "sip:" + registrar;
    m.call_id = call;
    m.from.uri = m.to.uri = "sip:4563@" + registrar.substr(0, registrar.find(':'));
    m.from.tag = "ft";
    m.has_cseq = true;
    m.cseq = cseq;
    m.cseq_method = "REGISTER";
    m.via.present = true;
    m.via.transport = "TCP";
    m.via.host = kPhone;
    m.via.port = 50708;
    m.via.branch = "z9hG4bK" + call + "-" + std::to_string(cseq);
    m.via_count = 1;
    if (!contact.empty()) {
        sip::Contact c;
        c.raw = contact;
        m.contacts.push_back(c);
    }
    m.expires = expires;
    return m;
}

// The registrar's response to reg(..., call, cseq).
sip::Message ok(std::uint32_t frame, Nanos t, const std::string& call, std::uint32_t cseq, std::uint32_t granted = 120,
                std::uint32_t status = 200, const std::string& registrar = kPrimary) {
    sip::Message m = reg(frame, t, registrar, call, cseq, kInstance + ";expires=" + std::to_string(granted), granted);
    m.flow = flow_to(registrar, false);
    m.seq_begin = m.seq_end = 0;
    m.request = false;
    m.method.clear();
    m.status = status;
    m.to.tag = "registrar";
    return m;
}

// The same message over UDP (datagrams: no sequence range).
sip::Message udp(sip::Message m) {
    m.flow.transport = Transport::udp;
    m.via.transport = "UDP";
    m.seq_begin = m.seq_end = 0;
    return m;
}

// The tracker fed as siptrack feeds it: each message through the suite's TransactionLayer first.
struct Fixture {
    sip::TransactionLayer layer;
    RegistrationTracker t;
    explicit Fixture(RegistrationTracker::Settings s = {}) : t(s) {}
    std::optional<RegisterRef> on_request(const sip::Message& m) { return t.on_request(m, layer.on_message(m)); }
    std::optional<std::size_t> on_response(const sip::Message& m) { return t.on_response(m, layer.on_message(m)); }
    // Wireshark's TCP retransmission at frame, time of the bytes at seq on the phone's stream to registrar.
    std::vector<RegisterRef> retransmission(const std::string& registrar, std::uint32_t seq, std::uint32_t frame, Nanos time,
                                            bool up = true) {
        sip::Frame f;
        f.number = frame;
        f.time = time;
        const FlowRef flow = flow_to(registrar, up);
        f.flow.transport = flow.transport;
        f.flow.stream = flow.stream;
        f.flow.src = flow.src;
        f.flow.dst = flow.dst;
        f.tcp = sip::TcpFacts{};
        f.tcp->seq = seq;
        f.tcp->len = 100;
        f.tcp->retransmission = true;
        return t.on_tcp_retransmission(layer.on_tcp_retransmission(f), frame, time);
    }
};

TEST(RegistrationTracker, OnTimeRefreshesAreQuiet) {
    Fixture x;
    const RegistrationTracker& t = x.t;
    ASSERT_TRUE(x.on_request(reg(1, T0, kPrimary, "c", 1)));
    ASSERT_EQ(x.on_response(ok(2, T0 + S / 100, "c", 1)), 0u);
    EXPECT_EQ(t.record(0).granted, 120u);
    EXPECT_EQ(t.record(0).kind, RegisterKind::registration);
    const Nanos second = T0 + S / 100 + 115 * S;
    const auto ref = x.on_request(reg(3, second, kPrimary, "c", 2));
    ASSERT_TRUE(ref);
    const RegisterRecord& r = t.record(ref->record);
    EXPECT_EQ(r.kind, RegisterKind::refresh);
    EXPECT_EQ(r.interval, 115 * S + S / 100);
    EXPECT_EQ(r.previous_grant, 120u);
    EXPECT_FALSE(r.lapse);
    EXPECT_FALSE(r.late_copy);
    EXPECT_EQ(t.binding(0).intervals.count(), 1u);
}

TEST(RegistrationTracker, BackoffLapseWithinAndPastGrace) {
    // The 8961: each refresh sent 115 s after the last 200 OK is lost and retransmitted by TCP.
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c", 1));
    x.on_response(ok(2, T0, "c", 1));
    Nanos granted_at = T0;
    struct Step {
        Nanos backoff;
        bool lapse, past_grace;
    };
    const Step steps[] = {{S / 5, false, false},   {S * 17 / 10, false, false}, {S * 67 / 10, true, false},
                          {14 * S, true, false}, {28 * S, true, true}};
    std::uint32_t frame = 10, cseq = 2, ok_frame = 2;
    for (const Step& s : steps) {
        const Nanos sent = granted_at + 115 * S;
        const auto first = x.on_request(reg(frame, sent, kPrimary, "c", cseq));
        ASSERT_TRUE(first);
        EXPECT_FALSE(t.record(first->record).lapse);
        const auto again = x.retransmission(kPrimary, frame * 1000, frame + 1, sent + s.backoff);
        ASSERT_EQ(again.size(), 1u);
        EXPECT_EQ(again[0].record, first->record);
        EXPECT_EQ(again[0].copy, 1u);
        const RegisterRecord& r = t.record(first->record);
        // Past the grace: the lapse; after the expiry but within the grace: the near miss.
        const std::optional<Lapse>& l = s.past_grace ? r.lapse : r.within_grace;
        ASSERT_EQ(l.has_value(), s.lapse) << s.backoff;
        EXPECT_EQ((s.past_grace ? r.within_grace : r.lapse).has_value(), false) << s.backoff;
        if (s.lapse) {
            EXPECT_EQ(l->copy, 1u);
            EXPECT_EQ(l->frame, frame + 1);
            EXPECT_EQ(l->by, s.backoff - 5 * S);
            EXPECT_EQ(l->past_grace, s.past_grace);
            EXPECT_EQ(l->granted_frame, ok_frame);
            EXPECT_EQ(l->granted, 120u);
        }
        // A copy past the phone's schedule is no late refresh: the first copy was on time
        // (captures/real/real_register_backoff.pcap: the kernel's back-off made copy 5 late).
        EXPECT_FALSE(r.late_copy) << s.backoff;
        granted_at = sent + s.backoff + S / 100;
        x.on_response(ok(frame + 2, granted_at, "c", cseq));
        ok_frame = frame + 2;
        frame += 10;
        ++cseq;
    }
    EXPECT_EQ(t.binding(0).lapses, 3u);
    EXPECT_EQ(t.binding(0).late, 0u);
    EXPECT_EQ(t.binding(0).retransmissions, 5u);
    // A retransmission of a segment no REGISTER used maps to nothing.
    EXPECT_TRUE(x.retransmission(kPrimary, 5, 999, T0).empty());
    // Nor does one of the same numbers in the registrar's direction.
    EXPECT_TRUE(x.retransmission(kPrimary, 10000, 999, T0, false).empty());
}

TEST(RegistrationTracker, UdpRetransmissionIsACopy) {
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(udp(reg(1, T0, kPrimary, "c", 1)));
    const auto again = x.on_request(udp(reg(2, T0 + S / 2, kPrimary, "c", 1)));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->record, 0u);
    EXPECT_EQ(again->copy, 1u);
    EXPECT_FALSE(t.record(0).copies[1].tcp);
    EXPECT_EQ(x.on_response(udp(ok(3, T0 + S, "c", 1))), 0u);
    EXPECT_EQ(t.record(0).response_time, S);
    // Its final response retransmitted: nothing new.
    EXPECT_FALSE(x.on_response(udp(ok(4, T0 + 2 * S, "c", 1))));
    // A copy after the final response is still the same transaction (its 200 OK was lost on the way back).
    const auto late = x.on_request(udp(reg(5, T0 + 3 * S, kPrimary, "c", 1)));
    ASSERT_TRUE(late);
    EXPECT_EQ(late->record, 0u);
    EXPECT_EQ(late->copy, 2u);
    // Once the transaction is over (64*T1 after the final response), the same CSeq and branch again is a
    // new REGISTER: the TransactionLayer forgot it.
    EXPECT_EQ(x.on_request(udp(reg(6, T0 + 100 * S, kPrimary, "c", 1)))->record, 1u);
}

TEST(RegistrationTracker, ProxyForwardIsARegisterOfItsOwn) {
    // heplify sip_ipv4_tcp_retrans: the proxy forwards the phone's REGISTER (same Call-ID, CSeq, instance)
    // from its own address with its own branch: no copy of the phone's, no registrar switch of the phone.
    Fixture x;
    const RegistrationTracker& t = x.t;
    ASSERT_TRUE(x.on_request(reg(1, T0, kPrimary, "c", 1)));
    sip::Message fwd = udp(reg(2, T0 + S / 1000, kSecondary, "c", 1));
    fwd.flow.src = Endpoint{"178.215.139.22", 5160};
    fwd.via.host = "178.215.139.22";
    fwd.via.port = 5160;
    fwd.via.branch = "z9hG4bKproxy1";
    const auto ref = x.on_request(fwd);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->record, 1u);
    EXPECT_EQ(ref->copy, 0u);
    EXPECT_EQ(t.record(1).binding, 1u);
    EXPECT_EQ(t.binding(1).registrar, kSecondary);
    EXPECT_EQ(t.binding(1).device_address, "178.215.139.22");
    EXPECT_FALSE(t.record(1).registrar_switch);
    EXPECT_EQ(t.record(0).copy_count, 1u);
    EXPECT_EQ(t.binding(0).retransmissions, 0u);
}

TEST(RegistrationTracker, ReflectedRegisterIsNoCopy) {
    // goffinet private-test-sip: the REGISTER comes back to the phone 0.1 ms later, addresses swapped.
    Fixture x;
    const RegistrationTracker& t = x.t;
    ASSERT_TRUE(x.on_request(udp(reg(1, T0, kPrimary, "c", 1))));
    sip::Message back = udp(reg(2, T0 + S / 10000, kPrimary, "c", 1));
    std::swap(back.flow.src, back.flow.dst);
    EXPECT_FALSE(x.on_request(back));
    EXPECT_EQ(t.record(0).copy_count, 1u);
    // The genuine retransmission 0.5 s later is copy 2, its back-off measured from the first.
    const auto again = x.on_request(udp(reg(3, T0 + S / 2, kPrimary, "c", 1)));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->copy, 1u);
    EXPECT_EQ(t.record(0).copies[1].time - t.record(0).copies[0].time, S / 2);
    EXPECT_EQ(t.bindings(), 1u);
}

TEST(RegistrationTracker, TcpRetransmittedResponseIsNoCopy) {
    // heplify sip_ipv4_tcp_retrans frame 38: the proxy's 200 OK retransmitted by TCP; its sequence numbers
    // fall inside the REGISTER's range, but in the other direction.
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c", 1));  // phone's bytes [1000, 1900)
    sip::Message answer = ok(2, T0 + S / 100, "c", 1);
    answer.seq_begin = 1500;
    answer.seq_end = 1900;
    x.on_response(answer);
    EXPECT_TRUE(x.retransmission(kPrimary, 1500, 3, T0 + S / 5, false).empty());
    EXPECT_EQ(t.record(0).copy_count, 1u);
    // Its twin: the REGISTER's own segment retransmitted.
    ASSERT_EQ(x.retransmission(kPrimary, 1000, 4, T0 + S / 5).size(), 1u);
    EXPECT_EQ(t.record(0).copy_count, 2u);
}

TEST(RegistrationTracker, ProvisionalResponseDoesNotClose) {
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c", 1));
    EXPECT_EQ(x.on_response(ok(2, T0, "c", 1, 0, 100)), 0u);
    EXPECT_FALSE(t.record(0).response_frame);
    EXPECT_EQ(x.on_response(ok(3, T0 + S, "c", 1, 60)), 0u);
    EXPECT_EQ(t.record(0).response_frame, 3u);
    EXPECT_EQ(t.record(0).granted, 60u);
    EXPECT_FALSE(x.on_response(ok(4, T0 + S, "other", 1)));
}

TEST(RegistrationTracker, KeepaliveDeregistrationAndSwitches) {
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "p", 1));
    x.on_response(ok(2, T0, "p", 1));
    const auto ka = x.on_request(reg(3, T0 + S, kSecondary, "b", 2, kInstance + ";expires=0;cisco-keep-alive", 0));
    ASSERT_TRUE(ka);
    EXPECT_EQ(t.record(ka->record).kind, RegisterKind::backup_keepalive);
    EXPECT_FALSE(t.record(ka->record).registrar_switch);
    x.on_response(ok(4, T0 + S, "b", 2, 0, 200, kSecondary));
    EXPECT_EQ(t.record(ka->record).granted, 0u);
    // Failover: the same device (same instance and line, other AoR host) registers with the secondary.
    const auto fail = x.on_request(reg(5, T0 + 1000 * S, kSecondary, "b", 3));
    ASSERT_TRUE(fail);
    const RegisterRecord& f = t.record(fail->record);
    EXPECT_EQ(f.kind, RegisterKind::registration);
    ASSERT_TRUE(f.registrar_switch);
    EXPECT_EQ(f.registrar_switch->previous, kPrimary);
    EXPECT_EQ(f.registrar_switch->previous_frame, 1u);
    EXPECT_EQ(f.registrar_switch->number, 1u);
    EXPECT_FALSE(f.registrar_switch->since_switch);
    x.on_response(ok(6, T0 + 1000 * S, "b", 3, 120, 200, kSecondary));
    // Fallback two minutes later: a new registration, never a lapse of the primary's old grant.
    const auto back = x.on_request(reg(7, T0 + 1120 * S, kPrimary, "p2", 4));
    const RegisterRecord& b = t.record(back->record);
    EXPECT_EQ(b.kind, RegisterKind::registration);
    EXPECT_FALSE(b.lapse);
    ASSERT_TRUE(b.registrar_switch);
    EXPECT_EQ(b.registrar_switch->since_switch, 120 * S);
    EXPECT_EQ(b.registrar_switch->switch_frame, 5u);
    EXPECT_EQ(b.registrar_switch->number, 2u);
    EXPECT_EQ(t.device(0).switches, 2u);
    // A plain Expires 0 is a de-registration.
    const auto de = x.on_request(reg(9, T0 + 1200 * S, kPrimary, "p2", 5, kInstance, 0));
    EXPECT_EQ(t.record(de->record).kind, RegisterKind::deregistration);
    const auto star = x.on_request(reg(10, T0 + 1300 * S, kPrimary, "p2", 6, "*", 0));
    EXPECT_EQ(t.record(star->record).kind, RegisterKind::deregistration);
}

TEST(RegistrationTracker, NewCallIdIsNotARefresh) {
    // A phone that rebooted registers with a new Call-ID long after its grant: not a lapse.
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c1", 1));
    x.on_response(ok(2, T0, "c1", 1));
    const auto r = x.on_request(reg(3, T0 + 4000 * S, kPrimary, "c2", 1));
    EXPECT_EQ(t.record(r->record).kind, RegisterKind::registration);
    EXPECT_FALSE(t.record(r->record).lapse);
}

TEST(RegistrationTracker, BindingCountsItsCallIds) {
    // The keepalives table's Call-ID column says how many a binding used: a refresh keeps its Call-ID,
    // a reboot takes a new one, a return to an old one counts again (a change, not a distinct id).
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c1", 1));
    EXPECT_EQ(t.binding(0).call_ids, 1u);
    x.on_response(ok(2, T0, "c1", 1));
    x.on_request(reg(3, T0 + 115 * S, kPrimary, "c1", 2));
    EXPECT_EQ(t.binding(0).call_ids, 1u);
    x.on_request(reg(4, T0 + 4000 * S, kPrimary, "c2", 1));
    x.on_request(reg(5, T0 + 8000 * S, kPrimary, "c1", 3));
    EXPECT_EQ(t.bindings(), 1u);
    EXPECT_EQ(t.binding(0).call_ids, 3u);
    EXPECT_EQ(t.record(*t.binding(0).last).call_id, "c1");
}

// Bindings and devices are found by their keys hashed in place (issue 15): the same binding and device
// as the key strings "<instance>\n<AoR user>\n<address>[\n<registrar>]" or "<AoR>\n<Contact URI>\n..."
// would give, over many bindings of both forms, including keys whose parts split the same bytes
// differently.
TEST(RegistrationTracker, BindingsFoundByTheirKeys) {
    RegistrationTracker::Settings s;
    Fixture x(s);
    std::map<std::string, std::size_t> bindings, devices;
    std::uint32_t frame = 0;
    const std::string registrars[] = {kPrimary, kSecondary};
    for (int round = 0; round < 2; ++round)
        for (int i = 0; i < 600; ++i) {
            const std::string& registrar = registrars[i % 2];
            // Contacts: by instance (i % 3 == 0), else by URI; AoRs with and without '@'; i / 5 repeats.
            const int k = i / 5;
            std::string contact = "<sip:c" + std::to_string(k % 7) + "@h>";
            if (i % 3 == 0) contact += ";+sip.instance=\"<urn:uuid:" + std::to_string(k % 11) + ">\"";
            ++frame;
            sip::Message m = reg(frame, T0 + frame * S, registrar, "call" + std::to_string(frame), 1, contact);
            m.to.uri = k % 4 == 0 ? "sip:u" + std::to_string(k % 13) : "sip:u" + std::to_string(k % 13) + "@r" +
                                                                         std::to_string(i % 2);
            // Parts that make the same bytes: an instance equal to another binding's AoR, an AoR user part
            // equal to its Contact URI.
            if (i % 50 == 7) {
                m.to.uri = "sip:u1@x";
                m.contacts[0].raw = "<sip:c1@h>;+sip.instance=\"sip:u2\"";
            }
            if (i % 50 == 8 || i % 50 == 9) {
                m.to.uri = "sip:u2";
                m.contacts[0].raw = "<sip:u1>";
            }
            const auto ref = x.on_request(m);
            ASSERT_TRUE(ref);
            const ContactInfo c = parse_contacts(m.contacts[0].raw).front();
            const std::string device = (c.instance.empty() ? m.to.uri + "\n" + c.uri
                                                           : c.instance + "\n" + m.to.uri.substr(0, m.to.uri.find('@'))) +
                                       "\n" + m.flow.src.address;
            const std::size_t b = x.t.record(ref->record).binding;
            const auto [bi, new_binding] = bindings.emplace(device + "\n" + registrar, b);
            EXPECT_EQ(bi->second, b) << i;
            const auto [di, new_device] = devices.emplace(device, x.t.binding(b).device);
            EXPECT_EQ(di->second, x.t.binding(b).device) << i;
            if (HasFailure()) return;
        }
    EXPECT_EQ(x.t.bindings(), bindings.size());
}

// A REGISTER whose key bytes are those of a binding made by the other form (instance and AoR user part
// against AoR and Contact URI) joins that binding, and its 2xx is still matched on its own Contact.
TEST(RegistrationTracker, GrantMatchedOnTheRegistersOwnContact) {
    Fixture x;
    sip::Message a = reg(1, T0, kPrimary, "a", 1, "<sip:c1@h>;+sip.instance=\"sip:u2\"");
    a.to.uri = "sip:u1@x";
    sip::Message b = reg(3, T0 + 10 * S, kPrimary, "b", 1, "<sip:u1>");
    b.to.uri = "sip:u2";
    const auto ra = x.on_request(a);
    const auto rb = x.on_request(b);
    ASSERT_TRUE(ra && rb);
    EXPECT_EQ(x.t.record(ra->record).binding, x.t.record(rb->record).binding);
    sip::Message answer = ok(4, T0 + 11 * S, "b", 1, 90);
    answer.contacts[0].raw = "<sip:c1@h>;+sip.instance=\"sip:u2\";expires=50, <sip:u1>;expires=70";
    ASSERT_TRUE(x.on_response(answer));
    EXPECT_EQ(x.t.record(rb->record).granted, 70u);
}

// A REGISTER whose transaction is older than the latest tracked one (its 200 OK captured before it, as
// captures merged from two interfaces show): its record is found again by its transaction.
TEST(RegistrationTracker, RecordOfAnOlderTransaction) {
    Fixture x;
    EXPECT_FALSE(x.on_response(ok(1, T0, "a", 1)));
    const auto rb = x.on_request(reg(2, T0 + 1 * S, kPrimary, "b", 1));
    const auto ra = x.on_request(reg(3, T0 + 2 * S, kPrimary, "a", 1));
    ASSERT_TRUE(ra && rb);
    EXPECT_NE(ra->record, rb->record);
    const auto again = x.on_request(reg(4, T0 + 3 * S, kPrimary, "a", 1));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->record, ra->record);
    EXPECT_EQ(again->copy, 1u);
    const auto b_again = x.on_request(reg(5, T0 + 4 * S, kPrimary, "b", 1));
    ASSERT_TRUE(b_again);
    EXPECT_EQ(b_again->record, rb->record);
}

TEST(RegistrationTracker, QueryWithoutContactIgnored) {
    Fixture x;
    sip::Message q = reg(1, T0, kPrimary, "c", 1);
    q.contacts.clear();
    EXPECT_FALSE(x.on_request(q));
}

TEST(RegistrationTracker, Bounded) {
    RegistrationTracker::Settings s;
    s.max_bindings = 2;
    s.max_records = 3;
    Fixture x(s);
    const RegistrationTracker& t = x.t;
    EXPECT_TRUE(x.on_request(reg(1, T0, kPrimary, "a", 1, "<sip:a@h>")));
    EXPECT_TRUE(x.on_request(reg(2, T0, kPrimary, "b", 1, "<sip:b@h>")));
    EXPECT_FALSE(t.full());
    EXPECT_FALSE(x.on_request(reg(3, T0, kPrimary, "c", 1, "<sip:c@h>")));
    EXPECT_TRUE(t.full());
    EXPECT_TRUE(x.on_request(reg(4, T0, kPrimary, "a", 2, "<sip:a@h>")));
    EXPECT_FALSE(x.on_request(reg(5, T0, kPrimary, "a", 3, "<sip:a@h>")));
    EXPECT_EQ(t.bindings(), 2u);
}

TEST(RegistrationTracker, CopiesBeyondTheBoundAreCountedNotListed) {
    // A refresh retransmitted 200 times (a TCP connection that never recovers): three copies listed, every
    // copy counted and checked, so the late copy (11) and the lapse (51) are found past the bound.
    RegistrationTracker::Settings s;
    s.max_copies = 3;
    Fixture x(s);
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c", 1));
    x.on_response(ok(2, T0, "c", 1));
    const Nanos sent = T0 + 115 * S;
    const auto first = x.on_request(reg(10, sent, kPrimary, "c", 2));
    ASSERT_TRUE(first);
    for (std::uint32_t i = 1; i <= 200; ++i) {
        const auto again = x.retransmission(kPrimary, 10000 + i % 900, 10 + i, sent + i * (S / 10));
        ASSERT_EQ(again.size(), 1u);
        EXPECT_EQ(again[0].record, first->record);
        EXPECT_EQ(again[0].copy, i);
    }
    const RegisterRecord& r = t.record(first->record);
    ASSERT_EQ(r.copies.size(), 3u);
    EXPECT_EQ(r.copies[0].frame, 10u);
    EXPECT_EQ(r.copies[1].frame, 11u);
    EXPECT_EQ(r.copies[2].frame, 12u);
    EXPECT_EQ(r.copies[2].time, sent + 2 * (S / 10));
    EXPECT_TRUE(r.copies[2].tcp);
    EXPECT_EQ(r.copy_count, 201u);
    EXPECT_EQ(r.last.frame, 210u);
    EXPECT_EQ(r.last.time, sent + 20 * S);
    EXPECT_TRUE(r.last.tcp);
    EXPECT_EQ(r.copies_full, 3u);
    EXPECT_FALSE(r.late_copy);  // copies past the schedule: the back-off, not a late refresh
    ASSERT_TRUE(r.within_grace);
    EXPECT_EQ(r.within_grace->copy, 51u);
    EXPECT_EQ(r.within_grace->by, S / 10);
    EXPECT_FALSE(r.within_grace->past_grace);
    EXPECT_FALSE(r.lapse);
    EXPECT_EQ(t.binding(0).retransmissions, 200u);
    EXPECT_EQ(t.binding(0).lapses, 1u);
    EXPECT_EQ(t.binding(0).late, 0u);
    x.on_response(ok(300, sent + 21 * S, "c", 2));
    EXPECT_EQ(t.record(first->record).response_time, 21 * S);
    EXPECT_EQ(t.record(first->record).expired_for, 16 * S);
}

TEST(RegistrationTracker, UdpCopiesBoundOfZeroKeepsTheFirst) {
    // Timer E resends over UDP; a bound of 0 still lists the first copy (every record has one).
    RegistrationTracker::Settings s;
    s.max_copies = 0;
    Fixture x(s);
    const RegistrationTracker& t = x.t;
    x.on_request(udp(reg(1, T0, kPrimary, "c", 1)));
    for (std::uint32_t i = 1; i <= 4; ++i) {
        const auto again = x.on_request(udp(reg(1 + i, T0 + i * (S / 2), kPrimary, "c", 1)));
        ASSERT_TRUE(again);
        EXPECT_EQ(again->copy, i);
    }
    const RegisterRecord& r = t.record(0);
    ASSERT_EQ(r.copies.size(), 1u);
    EXPECT_EQ(r.copies[0].frame, 1u);
    EXPECT_EQ(r.copy_count, 5u);
    EXPECT_EQ(r.last.frame, 5u);
    EXPECT_EQ(r.last.time, T0 + 2 * S);
    EXPECT_FALSE(r.last.tcp);
    EXPECT_EQ(r.copies_full, 1u);
}

TEST(RegistrationTracker, CopiesWithinTheBoundAreAllListed) {
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(udp(reg(1, T0, kPrimary, "c", 1)));
    for (std::uint32_t i = 1; i <= 63; ++i) x.on_request(udp(reg(1 + i, T0 + i * S, kPrimary, "c", 1)));
    EXPECT_EQ(t.record(0).copies.size(), 64u);
    EXPECT_EQ(t.record(0).copy_count, 64u);
    EXPECT_FALSE(t.record(0).copies_full);
    x.on_request(udp(reg(65, T0 + 64 * S, kPrimary, "c", 1)));
    EXPECT_EQ(t.record(0).copies.size(), 64u);
    EXPECT_EQ(t.record(0).copies_full, 64u);
}

// Issue 11: findings as incidents. The 8961's drop: refreshes retransmitted in a row, the first two within
// the phone's schedule, then late, then within the grace, then past it; the lapse past the grace is the
// cause (on the copy that showed it), the copy after it, the failover and the fallback its consequences.
TEST(RegistrationFindings, LapsePastGraceCausesTheFailoverAndFallback) {
    using K = KeepaliveFinding;
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c", 1));
    x.on_response(ok(2, T0, "c", 1));
    EXPECT_EQ(t.findings(0, 0), std::vector<Finding>{});
    Nanos granted_at = T0;
    std::uint32_t frame = 10, cseq = 2;
    std::vector<std::size_t> records;
    for (const Nanos backoff : {S / 5, S * 17 / 10, S * 67 / 10}) {
        const Nanos sent = granted_at + 115 * S;
        records.push_back(x.on_request(reg(frame, sent, kPrimary, "c", cseq))->record);
        x.retransmission(kPrimary, frame * 1000, frame + 1, sent + backoff);
        granted_at = sent + backoff + S / 100;
        x.on_response(ok(frame + 2, granted_at, "c", cseq));
        frame += 10;
        ++cseq;
    }
    EXPECT_EQ(t.findings(records[0], 1), (std::vector<Finding>{{K::register_retransmitted, std::nullopt}}));
    // Copy 2 of the second refresh is 1.7 s past the phone's schedule: the back-off, not a late refresh.
    EXPECT_EQ(t.findings(records[1], 1), (std::vector<Finding>{{K::register_retransmitted, std::nullopt}}));
    // 1.7 s after the expiry: within the 15 s grace, a note of its own (the registrar kept the binding).
    EXPECT_EQ(t.findings(records[2], 1), (std::vector<Finding>{{K::register_retransmitted, std::nullopt},
                                                               {K::register_within_grace, std::nullopt}}));
    EXPECT_EQ(t.record(records[2]).retransmitted_in_row, 3u);
    EXPECT_EQ(t.record(records[2]).row_first_frame, 10u);
    // The refresh lost and retransmitted 28 s later, 23 s past the expiry: the cause, on frame 41.
    const Nanos sent = granted_at + 115 * S;
    const std::size_t lapsed = x.on_request(reg(40, sent, kPrimary, "c", cseq))->record;
    EXPECT_EQ(t.findings(lapsed, 0), std::vector<Finding>{});
    x.retransmission(kPrimary, 40000, 41, sent + 28 * S);
    x.retransmission(kPrimary, 40000, 42, sent + 56 * S);
    EXPECT_EQ(t.findings(lapsed, 1), (std::vector<Finding>{{K::register_retransmitted, std::nullopt},
                                                          {K::registration_lapsed, std::nullopt}}));
    EXPECT_EQ(t.findings(lapsed, 2), (std::vector<Finding>{{K::register_retransmitted, 41u}}));
    EXPECT_EQ(t.record(lapsed).retransmitted_in_row, 4u);
    EXPECT_EQ(t.record(lapsed).row_first_frame, 10u);
    EXPECT_EQ(t.record(lapsed).lapse->frame, 41u);
    // Failover to the secondary and fallback two minutes later: consequences of frame 41.
    const auto fail = x.on_request(reg(50, sent + 60 * S, kSecondary, "b", 10));
    EXPECT_EQ(t.findings(fail->record, 0), (std::vector<Finding>{{K::registrar_switch, 41u}}));
    EXPECT_FALSE(t.record(fail->record).registrar_switch->fallback);
    x.on_response(ok(51, sent + 60 * S, "b", 10, 120, 200, kSecondary));
    const auto back = x.on_request(reg(60, sent + 180 * S, kPrimary, "c2", 11));
    EXPECT_EQ(t.findings(back->record, 0), (std::vector<Finding>{{K::registrar_switch, 41u}}));
    EXPECT_TRUE(t.record(back->record).registrar_switch->fallback);
    x.on_response(ok(61, sent + 180 * S, "c2", 11));
    // A later switch with no lapse behind it (an administrator's move): a note of its own.
    const auto moved = x.on_request(reg(70, sent + 400 * S, kSecondary, "b", 12));
    EXPECT_EQ(t.findings(moved->record, 0), (std::vector<Finding>{{K::registrar_switch, std::nullopt}}));
}

TEST(RegistrationFindings, SwitchWithoutLapseHasNoCause) {
    // The primary closed the connection (a restart): the phone registers with the secondary in time.
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c", 1));
    x.on_response(ok(2, T0, "c", 1));
    const auto fail = x.on_request(reg(3, T0 + 30 * S, kSecondary, "b", 2));
    EXPECT_EQ(t.findings(fail->record, 0),
              (std::vector<Finding>{{KeepaliveFinding::registrar_switch, std::nullopt}}));
    x.on_response(ok(4, T0 + 30 * S, "b", 2, 120, 200, kSecondary));
    const auto back = x.on_request(reg(5, T0 + 150 * S, kPrimary, "c2", 3));
    EXPECT_EQ(t.findings(back->record, 0),
              (std::vector<Finding>{{KeepaliveFinding::registrar_switch, std::nullopt}}));
    EXPECT_FALSE(t.record(back->record).registrar_switch->fallback);
}

TEST(RegistrationFindings, LifecycleAndTheRowRestarts) {
    using K = KeepaliveFinding;
    Fixture x;
    const RegistrationTracker& t = x.t;
    const auto ka = x.on_request(reg(1, T0, kSecondary, "b", 1, kInstance + ";expires=0;cisco-keep-alive", 0));
    EXPECT_EQ(t.findings(ka->record, 0), (std::vector<Finding>{{K::backup_keepalive, std::nullopt}}));
    x.on_request(reg(2, T0, kPrimary, "c", 2));
    x.on_response(ok(3, T0, "c", 2));
    // Retransmitted, then on time, then retransmitted: two rows of one.
    const auto a = x.on_request(reg(10, T0 + 115 * S, kPrimary, "c", 3));
    x.retransmission(kPrimary, 10000, 11, T0 + 115 * S + S / 5);
    x.on_response(ok(12, T0 + 116 * S, "c", 3));
    const auto b = x.on_request(reg(20, T0 + 231 * S, kPrimary, "c", 4));
    x.on_response(ok(21, T0 + 231 * S, "c", 4));
    const auto c = x.on_request(reg(30, T0 + 346 * S, kPrimary, "c", 5));
    x.retransmission(kPrimary, 30000, 31, T0 + 346 * S + S / 5);
    EXPECT_EQ(t.record(a->record).retransmitted_in_row, 1u);
    EXPECT_EQ(t.record(b->record).retransmitted_in_row, 0u);
    EXPECT_EQ(t.record(c->record).retransmitted_in_row, 1u);
    EXPECT_EQ(t.record(c->record).row_first_frame, 30u);
    const auto de = x.on_request(reg(40, T0 + 400 * S, kPrimary, "c", 6, kInstance, 0));
    EXPECT_EQ(t.findings(de->record, 0), (std::vector<Finding>{{K::deregistration, std::nullopt}}));
}

// Kamailio drops a binding at its expiry (captures/real/real_register_lapse.pcap: a MESSAGE to the phone
// answered 404 two seconds after it): the grace is CUCM's, so a registrar whose 2xx names another Server
// gets none, and a refresh 2 s late is the lapse that dropped the device.
TEST(RegistrationFindings, RegistrarNamingAnotherServerHasNoGrace) {
    for (const char* server : {"kamailio (lab)", "Cisco-CUCM11.5", ""}) {
        Fixture x;
        const RegistrationTracker& t = x.t;
        x.on_request(reg(1, T0, kPrimary, "c", 1));
        sip::Message granted = ok(2, T0, "c", 1, 10);
        granted.server = server;
        x.on_response(granted);
        const auto r = x.on_request(reg(3, T0 + 12 * S, kPrimary, "c", 2));
        const bool kamailio = std::string(server) == "kamailio (lab)";
        const Lapse& l = kamailio ? *t.record(r->record).lapse : *t.record(r->record).within_grace;
        EXPECT_EQ(l.by, 2 * S) << server;
        EXPECT_EQ(l.grace, kamailio ? 0 : 15 * S) << server;
        EXPECT_EQ(l.server, kamailio ? "kamailio (lab)" : "") << server;
        EXPECT_EQ(l.past_grace, kamailio) << server;
        EXPECT_EQ(t.findings(r->record, 0),
                  (std::vector<Finding>{{kamailio ? KeepaliveFinding::registration_lapsed
                                                  : KeepaliveFinding::register_within_grace,
                                         std::nullopt}}))
            << server;
    }
}

// captures/real/real_register_backoff.pcap under CUCM's grace: the refresh's copies go out after the
// expiry, first within the grace (a note), then past it (the lapse): the back-off carried it past the
// grace, and the copy that went out past it is named as the drop. The first copy late by the phone's own
// schedule is a late refresh; a copy made late by the back-off is not.
TEST(RegistrationFindings, BackoffCarriesTheRefreshPastTheGrace) {
    using K = KeepaliveFinding;
    Fixture x;
    const RegistrationTracker& t = x.t;
    x.on_request(reg(1, T0, kPrimary, "c", 1));
    x.on_response(ok(2, T0, "c", 1, 10));
    const auto r = x.on_request(reg(11, T0 + 7 * S, kPrimary, "c", 2));  // 2 s past the 5 s schedule
    EXPECT_EQ(t.findings(r->record, 0), (std::vector<Finding>{{K::register_late, std::nullopt}}));
    x.retransmission(kPrimary, 11000, 12, T0 + 12 * S);      // copy 2: 2 s after the expiry
    x.retransmission(kPrimary, 11000, 13, T0 + 20 * S);      // copy 3: 10 s after it
    x.retransmission(kPrimary, 11000, 14, T0 + 36 * S);      // copy 4: 26 s after it, past the grace
    x.retransmission(kPrimary, 11000, 15, T0 + 68 * S);      // copy 5: more of the same lapse
    EXPECT_EQ(t.findings(r->record, 1), (std::vector<Finding>{{K::register_retransmitted, std::nullopt},
                                                              {K::register_within_grace, std::nullopt}}));
    EXPECT_EQ(t.findings(r->record, 2), (std::vector<Finding>{{K::register_retransmitted, std::nullopt}}));
    EXPECT_EQ(t.findings(r->record, 3), (std::vector<Finding>{{K::register_retransmitted, std::nullopt},
                                                              {K::registration_lapsed, std::nullopt}}));
    EXPECT_EQ(t.findings(r->record, 4), (std::vector<Finding>{{K::register_retransmitted, 14u}}));
    EXPECT_EQ(t.record(r->record).lapse->by, 26 * S);
    EXPECT_EQ(t.binding(0).lapses, 1u);
    x.on_response(ok(16, T0 + 68 * S + S / 100, "c", 2, 10));
    EXPECT_EQ(t.record(r->record).expired_for, 58 * S + S / 100);
}

}  // namespace
}  // namespace sipsleuth::core
