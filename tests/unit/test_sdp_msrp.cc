// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for sdp_msrp.h: MSRP URIs (RFC 4975 section 9), the MSRP media of SDP bodies (field case 001's
// Blink offers and the SBC's rewritten answers), hostile bodies, and the connection model of every
// a=setup pair (RFC 4975 section 5.4, RFC 6135 section 4, RFC 4145 section 4.1).
#include "sipsleuth/core/sdp_msrp.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sipsleuth::core {
namespace {

std::string_view at(std::string_view s, Span span) { return s.substr(span.offset, span.length); }

struct UriCase {
    const char* text;
    bool ok;
    bool secure;
    const char* host;
    std::uint16_t port;
    const char* session_id;
    const char* transport;
};

TEST(ParseMsrpUri, Table) {
    const UriCase cases[] = {
        {"msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp", true, false, "10.207.1.100", 15002,
         "8e943e31a8e49a6597f0", "tcp"},
        {"msrps://alice@atlanta.example.com:7654/jshA7weztas;tcp", true, true, "atlanta.example.com", 7654,
         "jshA7weztas", "tcp"},
        {"MSRP://relay.example.net;tcp", true, false, "relay.example.net", 0, "", "tcp"},
        {"msrp://[2001:db8::1]:2855/s1;tcp;x=y", true, false, "2001:db8::1", 2855, "s1", "tcp"},
        {"http://198.51.100.66/evil;tcp", false, false, "", 0, "", ""},
        {"msrp://host:99999/s;tcp", false, false, "", 0, "", ""},
        {"msrp://host:12/s", false, false, "", 0, "", ""},    // no transport
        {"msrp://host:/s;tcp", false, false, "", 0, "", ""},  // empty port
        {"msrp://[::1", false, false, "", 0, "", ""},
        {"msrp:///s;tcp", false, false, "", 0, "", ""},
        {"msrp://h o/s;tcp", false, false, "", 0, "", ""},
        {"msrp://h/s;", false, false, "", 0, "", ""},
    };
    for (const UriCase& c : cases) {
        SCOPED_TRACE(c.text);
        const auto u = parse_msrp_uri(c.text);
        ASSERT_EQ(u.has_value(), c.ok);
        if (!c.ok) continue;
        EXPECT_EQ(u->secure, c.secure);
        EXPECT_EQ(u->host, c.host);
        EXPECT_EQ(u->port, c.port);
        EXPECT_EQ(u->session_id, c.session_id);
        EXPECT_EQ(u->transport, c.transport);
    }
}

TEST(ParseMsrpPath, RelayThenEndpointWithSpans) {
    constexpr std::string_view v = "msrps://relay.example.net:2855/r1;tcp  msrp://10.0.0.1:5000/abc;tcp";
    std::optional<Span> bad;
    const auto path = parse_msrp_path(v, &bad);
    EXPECT_FALSE(bad);
    ASSERT_EQ(path.size(), 2u);
    EXPECT_EQ(at(v, path[0].span), "msrps://relay.example.net:2855/r1;tcp");
    EXPECT_EQ(at(v, path[1].span), "msrp://10.0.0.1:5000/abc;tcp");
    EXPECT_EQ(path[1].session_id, "abc");
}

TEST(ParseMsrpPath, StopsAtFirstBadToken) {
    constexpr std::string_view v = "msrp://a:1/x;tcp garbage msrp://b:2/y;tcp";
    std::optional<Span> bad;
    const auto path = parse_msrp_path(v, &bad);
    ASSERT_EQ(path.size(), 1u);
    ASSERT_TRUE(bad);
    EXPECT_EQ(at(v, *bad), "garbage");
}

// Field case 001: what Blink-1 offers (as gen_msrpa.py writes it).
constexpr std::string_view kBlinkOffer =
    "v=0\r\n"
    "o=- 3510055004 3510055004 IN IP4 10.201.1.152\r\n"
    "s=Blink 0.2.5 (MacOSX)\r\n"
    "c=IN IP4 10.201.1.152\r\n"
    "t=0 0\r\n"
    "m=message 53502 TCP/MSRP *\r\n"
    "a=path:msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp\r\n"
    "a=accept-types:message/cpim text/* application/im-iscomposing+xml\r\n"
    "a=accept-wrapped-types:*\r\n"
    "a=setup:active\r\n";

TEST(ParseSdpMsrp, FieldCaseBlinkOffer) {
    const SdpMsrp s = parse_sdp_msrp(kBlinkOffer);
    EXPECT_TRUE(s.problems.empty());
    ASSERT_EQ(s.media.size(), 1u);
    const SdpMsrpMedia& m = s.media[0];
    EXPECT_EQ(m.port, 53502);
    EXPECT_EQ(m.proto, "TCP/MSRP");
    EXPECT_EQ(m.address, "10.201.1.152");
    ASSERT_EQ(m.path.size(), 1u);
    EXPECT_EQ(at(kBlinkOffer, m.path[0].span), "msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp");
    EXPECT_EQ(m.setup, SetupRole::active);
    EXPECT_EQ(at(kBlinkOffer, m.setup_span), "active");
    EXPECT_EQ(m.accept_types, "message/cpim text/* application/im-iscomposing+xml");
    EXPECT_EQ(m.endpoint_host(), "10.201.1.152");
    EXPECT_EQ(m.endpoint_port(), 53502);
    EXPECT_EQ(m.session_id(), "d3b7e1a04c9f2e6b8a15");
}

TEST(ParseSdpMsrp, AudioSkippedSessionSetupAppliesAndLfLines) {
    const SdpMsrp s = parse_sdp_msrp(
        "v=0\nc=IN IP4 192.0.2.1\na=setup:passive\nm=audio 4000 RTP/AVP 0\na=setup:active\n"
        "m=message 7394 TCP/TLS/MSRP *\nc=IN IP4 192.0.2.7\na=path:msrps://192.0.2.7:7394/z;tcp\n");
    EXPECT_TRUE(s.problems.empty());
    ASSERT_EQ(s.media.size(), 1u);
    EXPECT_EQ(s.media[0].proto, "TCP/TLS/MSRP");
    EXPECT_EQ(s.media[0].address, "192.0.2.7");
    EXPECT_EQ(s.media[0].setup, SetupRole::passive);  // session level, not the audio's
}

TEST(ParseSdpMsrp, NoPathFallsBackToConnectionAndPort) {
    const SdpMsrp s = parse_sdp_msrp("c=IN IP4 192.0.2.9\r\nm=message 2855 TCP/MSRP *\r\n");
    ASSERT_EQ(s.media.size(), 1u);
    EXPECT_EQ(s.media[0].endpoint_host(), "192.0.2.9");
    EXPECT_EQ(s.media[0].endpoint_port(), 2855);
    EXPECT_EQ(s.media[0].setup, SetupRole::absent);
    ASSERT_EQ(s.problems.size(), 1u);
    EXPECT_EQ(s.problems[0].kind, SdpProblemKind::missing_path);
    EXPECT_EQ(s.problems[0].message, "m=message media without a=path (RFC 4975 section 8.1)");
}

TEST(ParseSdpMsrp, GarbageLinesReported) {
    const std::string body =
        "this line is not SDP\r\nm=message notaport TCP/MSRP *\r\nm=message 49160 TCP/MSRP *\r\n"
        "a=path:http://198.51.100.66/evil;tcp msrp://[::1\r\na=setup:sideways\r\n";
    const SdpMsrp s = parse_sdp_msrp(body);
    ASSERT_EQ(s.media.size(), 1u);
    EXPECT_EQ(s.media[0].setup, SetupRole::unknown);
    ASSERT_EQ(s.problems.size(), 4u);
    EXPECT_EQ(s.problems[0].message, "SDP line is not <type>=<value>: \"this line is not SDP\"");
    EXPECT_EQ(s.problems[1].message, "m=message port \"notaport\" is not a port number");
    EXPECT_EQ(s.problems[2].message, "a=path holds \"http://198.51.100.66/evil;tcp\", not an MSRP URI");
    EXPECT_EQ(at(body, s.problems[2].where), "http://198.51.100.66/evil;tcp");
    EXPECT_EQ(s.problems[3].message, "a=setup value \"sideways\" is none of active, passive, actpass, holdconn");
}

TEST(ParseSdpMsrp, Limits) {
    const std::string big(100, 'x');
    SdpLimits small;
    small.max_bytes = 50;
    const SdpMsrp s = parse_sdp_msrp(big, small);
    ASSERT_EQ(s.problems.size(), 1u);
    EXPECT_EQ(s.problems[0].message, "SDP body of 100 bytes is over the 50-byte limit: not parsed");
    std::string many;
    for (int i = 0; i < 30; ++i) many += "a=x\r\n";
    small.max_bytes = 1 << 20;
    small.max_lines = 10;
    const SdpMsrp t = parse_sdp_msrp(many, small);
    ASSERT_EQ(t.problems.size(), 1u);
    EXPECT_EQ(t.problems[0].message, "More than 10 SDP lines: the rest is not parsed");
}

struct ModelCase {
    SetupRole offer, answer;
    ConnectionModel model;
    bool offerer_connects, answerer_connects;
};

TEST(ConnectionModel, EverySetupPair) {
    using R = SetupRole;
    using M = ConnectionModel;
    const ModelCase cases[] = {
        {R::absent, R::absent, M::rfc4975, true, false},
        {R::active, R::active, M::both_active, true, true},  // field case 001
        {R::actpass, R::passive, M::comedia_offerer, true, false},
        {R::actpass, R::active, M::comedia_answerer, false, true},
        {R::passive, R::active, M::comedia_answerer, false, true},
        {R::active, R::passive, M::comedia_offerer, true, false},
        {R::active, R::absent, M::comedia_offerer, true, false},
        {R::passive, R::passive, M::both_passive, false, false},
        {R::passive, R::absent, M::both_passive, false, false},
        {R::actpass, R::holdconn, M::holdconn, false, false},
        {R::holdconn, R::absent, M::holdconn, false, false},
        {R::actpass, R::actpass, M::comedia_offerer, true, false},  // invalid answer read as passive
        {R::unknown, R::unknown, M::rfc4975, true, false},
    };
    for (const ModelCase& c : cases) {
        SCOPED_TRACE(std::string(setup_role_name(c.offer)) + "/" + setup_role_name(c.answer));
        const ConnectionVerdict v = connection_model(c.offer, c.answer);
        EXPECT_EQ(v.model, c.model);
        EXPECT_EQ(v.offerer_connects, c.offerer_connects);
        EXPECT_EQ(v.answerer_connects, c.answerer_connects);
        EXPECT_EQ(v.message.empty(), c.model != M::both_active && c.model != M::both_passive && c.model != M::holdconn);
    }
    EXPECT_STREQ(connection_models().name(4), "Both active (RFC 6135 alternative connection model)");
    EXPECT_EQ(connection_model(R::active, R::active).message,
              "Offer and answer both say a=setup:active (RFC 6135 ACM): both ends connect and neither listens, which "
              "works only through a relay that splices the two TCP connections");
    // Bug: an offer without a=setup was said to say a=setup:active.
    const ConnectionVerdict v = connection_model(R::absent, R::active);
    EXPECT_EQ(v.model, M::both_active);
    EXPECT_EQ(v.message,
              "The offer has no a=setup, so the offerer connects (RFC 4975 section 5.4), and the answer says "
              "a=setup:active: both ends connect and neither listens, which works only through a splicing relay");
    // Every verdict fits the GUI's expert label (200 characters).
    for (R o : {R::absent, R::active, R::passive, R::actpass, R::holdconn, R::unknown})
        for (R a : {R::absent, R::active, R::passive, R::actpass, R::holdconn, R::unknown})
            EXPECT_LE(connection_model(o, a).message.size(), 200u);
}

// The SDP of a SIP body: the body itself, or the application/sdp part of a multipart body (RFC 2046).
TEST(SdpInBody, PlainAndMultipart) {
    constexpr std::string_view sdp = "v=0\r\nm=message 7394 TCP/MSRP *\r\n";
    EXPECT_EQ(sdp_in_body(sdp, "application/sdp"), (Span{0, sdp.size()}));
    EXPECT_FALSE(sdp_in_body(sdp, "text/plain"));
    const std::string multi = std::string("preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\n") +
                              "content-type: Application/SDP; charset=utf-8\r\n\r\n" + std::string(sdp) +
                              "\r\n--b1--\r\n";
    const auto found = sdp_in_body(multi, "multipart/mixed");
    ASSERT_TRUE(found);
    EXPECT_EQ(multi.substr(found->offset, found->length), sdp);
    // Compact c:, LF line ends, no close delimiter: to the body's end.
    const std::string lf = "--x\nc: application/sdp\n\nv=0\nm=message 1 TCP/MSRP *\n";
    const auto tail = sdp_in_body(lf, "multipart/related");
    ASSERT_TRUE(tail);
    EXPECT_EQ(lf.substr(tail->offset), "v=0\nm=message 1 TCP/MSRP *\n");
    EXPECT_FALSE(sdp_in_body("--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1--\r\n", "multipart/mixed"));
    EXPECT_FALSE(sdp_in_body("no delimiter at all", "multipart/mixed"));
    EXPECT_FALSE(sdp_in_body("", "multipart/mixed"));
}

}  // namespace
}  // namespace sipsleuth::core
