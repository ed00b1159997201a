-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of msrpa's pure-Lua core (msrpa_text, msrpa_sdp, msrpa_core): the C++ tests of
-- tests/unit/test_sdp_msrp.cc and test_msrp_session.cc, value for value: MSRP URIs, the SDP of field
-- case 001 and hostile SDP, the connection models, MSRP messages (the field case's binding SEND, chunks,
-- hostile messages), and the tracker on field case 001 reduced to one leg (both active, SEND
-- unacknowledged and retransmitted, no 200 OK, bind timeout, BYE), the B2BUA's second leg as one
-- incident, a healthy RFC 4975 chat (every SEND answered, chunks, REPORT, nothing reported), COMEDIA with
-- the wrong opener and a path mismatch, a duplicate transaction id, an incomplete message, the limits.
local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local text = require("msrpa_text")
local sdpm = require("msrpa_sdp")
local core = require("msrpa_core")

local T = {}

local function eq(got, want, what)
    if got ~= want then
        error((what and what .. ": " or "") .. "expected " .. tostring(want) .. ", got " .. tostring(got), 2)
    end
end

local function of(out, kind)
    local r = {}
    for _, n in ipairs(out) do
        if n.kind == kind then r[#r + 1] = n end
    end
    return r
end

local function ns(seconds)
    return math.floor(seconds * 1e9 + 0.5)
end

-- ---------------------------------------------------------------------------------------------------
-- text

T.text_sanitize_and_fit = function()
    eq(text.sanitize_utf8("abc"), "abc")
    eq(text.sanitize_utf8("a\255b"), "a\239\191\189b")
    eq(text.sanitize_utf8("h\195\169llo", 2), "h")  -- the 2-byte character does not fit
    eq(text.sanitize_utf8("\237\160\128"), "\239\191\189\239\191\189\239\191\189")  -- a surrogate: 3 bad bytes
    eq(text.fit_message(string.rep("x", 200)), string.rep("x", 200))
    eq(text.fit_message(string.rep("x", 201)), string.rep("x", 197) .. "...")
    eq(text.printable(string.rep("y", 70)), string.rep("y", 64) .. "...")
    eq(text.parse_decimal("65535", 65535), 65535)
    eq(text.parse_decimal("65536", 65535), nil)
    eq(text.parse_decimal("12a"), nil)
    eq(text.parse_decimal(""), nil)
    eq(core.seconds_text(ns(10.0505)), "10.051")
    eq(core.seconds_text(-ns(0.2804)), "-0.280")
end

-- ---------------------------------------------------------------------------------------------------
-- SDP

T.msrp_uri = function()
    local u = sdpm.parse_msrp_uri("msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp")
    eq(u.host, "10.207.1.100")
    eq(u.port, 15002)
    eq(u.session_id, "8e943e31a8e49a6597f0")
    eq(u.transport, "tcp")
    eq(u.secure, false)
    u = sdpm.parse_msrp_uri("MSRPS://bob@[2001:db8::1]:2855/s1;tcp;x=1")
    eq(u.secure, true)
    eq(u.host, "2001:db8::1")
    eq(u.port, 2855)
    eq(sdpm.parse_msrp_uri("msrp://relay.example.com;tcp").host, "relay.example.com")
    eq(sdpm.parse_msrp_uri("msrp://h:70000/s;tcp"), nil)
    eq(sdpm.parse_msrp_uri("msrp://h:/s;tcp"), nil)
    eq(sdpm.parse_msrp_uri("msrp://h:1/s"), nil)         -- no transport
    eq(sdpm.parse_msrp_uri("http://h:1/s;tcp"), nil)
    eq(sdpm.parse_msrp_uri("msrp://h!x:1/s;tcp"), nil)
    eq(sdpm.parse_msrp_uri("msrp://h:1/s\255;tcp"), nil)
    local path, bad = sdpm.parse_msrp_path("msrp://a:1/x;tcp  msrp://b:2/y;tcp junk msrp://c:3/z;tcp")
    eq(#path, 2)
    eq(path[2].session_id, "y")
    eq(bad, "junk")
end

local FIELD_OFFER = table.concat({
    "v=0", "o=- 3510056204 3510056204 IN IP4 10.201.1.152", "s=Blink 0.2.8 (MacOSX)",
    "c=IN IP4 10.201.1.152", "t=0 0", "m=message 53502 TCP/MSRP *",
    "a=path:msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp", "a=accept-types:message/cpim text/* application/im-iscomposing+xml",
    "a=accept-wrapped-types:*", "a=setup:active", "" }, "\r\n")

T.sdp_field_case_offer = function()
    local s = sdpm.parse_sdp_msrp(FIELD_OFFER)
    eq(#s.problems, 0)
    eq(#s.media, 1)
    local m = s.media[1]
    eq(m.port, 53502)
    eq(m.proto, "TCP/MSRP")
    eq(m.address, "10.201.1.152")
    eq(m.setup, "active")
    eq(m.accept_types, "message/cpim text/* application/im-iscomposing+xml")
    eq(sdpm.endpoint_host(m), "10.201.1.152")
    eq(sdpm.endpoint_port(m), 53502)
    eq(sdpm.session_id(m), "d3b7e1a04c9f2e6b8a15")
end

T.sdp_session_level_and_audio_skipped = function()
    local s = sdpm.parse_sdp_msrp("v=0\nc=IN IP4 192.0.2.1\na=setup:passive\nm=audio 4000 RTP/AVP 0\n" ..
        "a=path:msrp://ignored:1/x;tcp\nm=message 7000 TCP/TLS/MSRP *\nc=IN IP4 192.0.2.9/127\n")
    eq(#s.media, 1)
    eq(s.media[1].setup, "passive")
    eq(s.media[1].address, "192.0.2.9")
    eq(#s.media[1].path, 0)
    eq(#s.problems, 1)
    eq(s.problems[1].message, "m=message media without a=path (RFC 4975 section 8.1)")
    eq(sdpm.endpoint_host(s.media[1]), "192.0.2.9")
    eq(sdpm.endpoint_port(s.media[1]), 7000)
end

T.sdp_hostile = function()
    local s = sdpm.parse_sdp_msrp("v=0\nthis is no sdp\nm=message notaport TCP/MSRP *\nm=message 9 TCP/MSRP *\n" ..
        "a=path:http://198.51.100.66/evil;tcp\na=setup:sideways\nc=IN\nm=message\n")
    local msgs = {}
    for _, p in ipairs(s.problems) do msgs[#msgs + 1] = p.message end
    eq(msgs[1], "SDP line is not <type>=<value>: \"this is no sdp\"")
    eq(msgs[2], "m=message port \"notaport\" is not a port number")
    eq(msgs[3], "a=path holds \"http://198.51.100.66/evil;tcp\", not an MSRP URI")
    eq(msgs[4], "a=setup value \"sideways\" is none of active, passive, actpass, holdconn")
    eq(msgs[5], "c= line without an address: \"c=IN\"")
    eq(msgs[6], "m=message line without port and transport: \"m=message\"")
    eq(#msgs, 6)  -- the media has an a=path value (not a URI): not also "without a=path"
    eq(s.media[1].setup, "unknown")
    local big = sdpm.parse_sdp_msrp(string.rep("a", 70000))
    eq(big.problems[1].message, "SDP body of 70000 bytes is over the 65536-byte limit: not parsed")
    local lines = sdpm.parse_sdp_msrp(string.rep("a=x\n", 2001))
    eq(lines.problems[1].message, "More than 2000 SDP lines: the rest is not parsed")
    local many = sdpm.parse_sdp_msrp(string.rep("garbage\n", 40))
    eq(#many.problems, 16)
end

T.sdp_in_multipart = function()
    local body = "preamble\r\n--b1\r\nContent-Type: application/resource-lists+xml\r\n\r\n<x/>\r\n" ..
        "--b1\r\nContent-Type: application/sdp;charset=x\r\n\r\nv=0\r\nm=message 1 TCP/MSRP *\r\n--b1--\r\n"
    local a, b = sdpm.sdp_in_body(body, "multipart/mixed")
    eq(body:sub(a, b), "v=0\r\nm=message 1 TCP/MSRP *")
    a, b = sdpm.sdp_in_body("v=0\r\n", "application/sdp")
    eq(a, 1)
    eq(b, 5)
    eq(sdpm.sdp_in_body("x", "text/plain"), nil)
    eq(sdpm.sdp_in_body("no delimiter", "multipart/mixed"), nil)
end

T.connection_models = function()
    local cases = {
        { "absent", "absent", 1, true, false },
        { "active", "passive", 2, true, false },
        { "actpass", "active", 3, false, true },
        { "actpass", "passive", 2, true, false },
        { "passive", "active", 3, false, true },
        { "active", "active", 4, true, true },
        { "absent", "active", 4, true, true },
        { "passive", "passive", 5, false, false },
        { "active", "holdconn", 6, false, false },
        { "unknown", "unknown", 1, true, false },
        { "active", "actpass", 2, true, false },
    }
    for _, c in ipairs(cases) do
        local v = sdpm.connection_model(c[1], c[2])
        eq(v.model, c[3], c[1] .. "/" .. c[2])
        eq(v.offerer_connects, c[4], c[1] .. "/" .. c[2])
        eq(v.answerer_connects, c[5], c[1] .. "/" .. c[2])
    end
    eq(sdpm.connection_model("active", "active").message, "Offer and answer both say a=setup:active (RFC 6135 ACM): " ..
        "both ends connect and neither listens, which works only through a relay that splices the two TCP connections")
    eq(sdpm.connection_model("absent", "active").message, "The offer has no a=setup, so the offerer connects " ..
        "(RFC 4975 section 5.4), and the answer says a=setup:active: both ends connect and neither listens, which " ..
        "works only through a splicing relay")
    eq(sdpm.connection_model("passive", "passive").message,
        "Offer and answer both end up passive: both ends wait for a connection and nobody connects")
    eq(sdpm.connection_model("holdconn", "active").message,
        "Nobody connects: the offer says a=setup:holdconn, so no MSRP connection is opened for this session")
    eq(sdpm.MODELS[4], "Both active (RFC 6135 alternative connection model)")
end

-- ---------------------------------------------------------------------------------------------------
-- MSRP messages

local BIND_SEND = "MSRP 745f0cb1fb640e52 SEND\r\n" ..
    "To-Path: msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp\r\n" ..
    "From-Path: msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp\r\n" ..
    "Message-ID: 647872e5647872e\r\n" ..
    "Byte-Range: 1-0/0\r\n" ..
    "-------745f0cb1fb640e52$\r\n"

T.msrp_field_case_binding_send = function()
    local m = core.parse_msrp_message(BIND_SEND)
    eq(m.valid, true)
    eq(#m.problems, 0)
    eq(m.transaction_id, "745f0cb1fb640e52")
    eq(m.is_response, false)
    eq(m.method, "SEND")
    eq(core.to_session_id(m), "8e943e31a8e49a6597f0")
    eq(core.from_session_id(m), "d3b7e1a04c9f2e6b8a15")
    eq(m.message_id, "647872e5647872e")
    eq(m.byte_range.start, 1)
    eq(m.byte_range.stop, 0)
    eq(m.byte_range.total, 0)
    eq(m.flag, "$")
    eq(m.length, 226)  -- the seed's segment length
    eq(m.body_length, 0)
end

T.msrp_chunk_and_response = function()
    local chunk = "MSRP d93kswow SEND\r\nTo-Path: msrp://198.51.100.20:7394/x9f2ka3nd8rt4;tcp\r\n" ..
        "From-Path: msrp://192.0.2.10:49152/iau39soe2843z;tcp\r\nMessage-ID: 12339sdqwer\r\n" ..
        "Failure-Report: no\r\nByte-Range: 1-30/59\r\nContent-Type: text/plain\r\n\r\n" ..
        "Hello Bob, are you there? This\r\n-------d93kswow+\r\nMSRP next SEND\r\n"
    local m = core.parse_msrp_message(chunk)
    eq(#m.problems, 0)
    eq(m.body_length, #"Hello Bob, are you there? This")
    eq(m.flag, "+")
    eq(m.content_type, "text/plain")
    eq(m.failure_report, "no")
    eq(m.byte_range.stop, 30)
    eq(m.byte_range.total, 59)
    eq(chunk:sub(m.length + 1), "MSRP next SEND\r\n")
    local r = core.parse_msrp_message("MSRP d93kswow 200 OK\r\nTo-Path: msrp://192.0.2.10:49152/iau39soe2843z;tcp\r\n" ..
        "From-Path: msrp://198.51.100.20:7394/x9f2ka3nd8rt4;tcp\r\n-------d93kswow$\r\n")
    eq(#r.problems, 0)
    eq(r.is_response, true)
    eq(r.status, 200)
    eq(r.reason, "OK")
end

T.msrp_hostile = function()
    local paths = "To-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\n"
    local many = "MSRP abcd SEND\r\n" .. paths .. string.rep("X-H: v\r\n", 70)
    local t40 = string.rep("t", 40)
    local cases = {
        { "MSRP abcd\r\n", false, "bad_start_line", "MSRP start line without transaction id and method: \"MSRP abcd\"" },
        { "MSRP " .. t40 .. " SEND\r\n" .. paths .. "-------" .. t40 .. "$\r\n", true, "bad_start_line",
          "Transaction id \"" .. t40 .. "\" is not 4 to 32 letters, digits or .-+%= (RFC 4975 section 9)" },
        { "MSRP abcd send\r\n" .. paths .. "-------abcd$\r\n", true, "bad_start_line",
          "\"send\" is neither a method (upper-case letters) nor a status code" },
        { "MSRP abcd SEND\r\nTo-Path: garbage\r\nFrom-Path: msrp://b:2/y;tcp\r\n-------abcd$\r\n", true, "bad_path",
          "To-Path \"garbage\" is not a list of MSRP URIs" },
        { "MSRP abcd SEND\r\n" .. paths .. "Byte-Range: 9-3/2\r\n-------abcd$\r\n", true, "bad_byte_range",
          "Byte-Range \"9-3/2\" is not start-end/total (RFC 4975 section 7.1.1)" },
        { "MSRP abcd SEND\r\n" .. paths .. "no colon here\r\n-------abcd$\r\n", true, "bad_header",
          "Header line without a name and colon: \"no colon here\"" },
        { "MSRP abcd SEND\r\n" .. paths .. "Byte-Range: 1-4/4\r\n\r\nab", true, "no_end_line",
          "No end-line -------abcd: message truncated or continued in a later segment" },
        { many, true, "too_many_headers", "More than 64 header lines: the rest is not decoded" },
        { "MSRP abcd SEND\r\nTo-Path: msrp://a:1/x;tcp\r\n-------abcd$\r\n", true, "missing_header",
          "Request without From-Path (RFC 4975 section 7.1)" },
    }
    for i, c in ipairs(cases) do
        local m = core.parse_msrp_message(c[1])
        eq(m.valid, c[2], "case " .. i)
        eq(m.problems[1].kind, c[3], "case " .. i)
        eq(m.problems[1].message, c[4], "case " .. i)
        assert(m.length <= #c[1])
    end
    eq(core.parse_msrp_message("GET / HTTP/1.1\r\n").valid, false)
    eq(core.parse_msrp_message("").valid, false)
    -- A huge Byte-Range total is kept as written (no wrap on Lua 5.3+ integers).
    local big = core.parse_msrp_message("MSRP abcd SEND\r\n" .. paths ..
        "Byte-Range: 1-*/9223372036854775807\r\n-------abcd+\r\n")
    eq(#big.problems, 0)
    eq(big.byte_range.total_text, "9223372036854775807")
end

-- ---------------------------------------------------------------------------------------------------
-- The tracker

local function media(host, port, sid, setup)
    local body = "c=IN IP4 " .. host .. "\r\nm=message " .. port .. " TCP/MSRP *\r\na=path:msrp://" .. host .. ":" ..
        port .. "/" .. sid .. ";tcp\r\n"
    if setup then body = body .. "a=setup:" .. setup .. "\r\n" end
    return sdpm.parse_sdp_msrp(body)
end

-- A SIP message as the SIP reader gives it (Call-ID call-1, From tag t1); no transaction (offers and
-- answers matched by Call-ID, From tag and CSeq).
local function sip(frame, time, method, status, call_id)
    return {
        frame = frame, time = ns(time), request = method ~= nil, method = method or "", status = status or 0,
        call_id = call_id or "call-1", from = { tag = "t1" }, cseq = method == "BYE" and 2 or 1,
    }
end

local function feed(t, m, sdp, out, txn)
    t:on_sip(m, txn or { id = 0 }, sdp, out)
end

-- One TCP segment of stream 0 between Blink-1 (10.201.1.152:53502) and the SBC (10.207.1.100:15002).
local function seg(frame, time, from_blink1, seq, ack, len, flags)
    local a, ap, b, bp = "10.201.1.152", 53502, "10.207.1.100", 15002
    local f = {
        number = frame, time = ns(time),
        flow = { transport = "tcp", stream = 0, src = from_blink1 and a or b, sport = from_blink1 and ap or bp,
                 dst = from_blink1 and b or a, dport = from_blink1 and bp or ap },
        tcp = { seq = seq % 4294967296, ack = ack % 4294967296, len = len, syn = flags:find("S") ~= nil,
                ack_flag = flags:find("A") ~= nil, fin = flags:find("F") ~= nil, rst = flags:find("X") ~= nil,
                retransmission = flags:find("R") ~= nil, spurious = false },
    }
    return f
end

local function msgs_of(m)
    return m and { m } or {}
end

T.tracker_field_case_both_active_one_leg = function()
    local t = core.new_tracker()
    local out = {}
    feed(t, sip(1, 0.0, "INVITE"), media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "active"), out)
    feed(t, sip(8, 3.0, nil, 200), media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", "active"), out)
    local ba = of(out, "both_active")
    eq(#ba, 1)
    eq(ba[1].frame, 8)
    eq(ba[1].cause, 0)
    eq(#ba[1].links, 1)
    eq(ba[1].links[1].kind, "sdp_offer")
    eq(ba[1].links[1].frame, 1)
    eq(of(out, "offer_in")[1].number, 1)
    eq(of(out, "answer_in")[1].frame, 1)
    eq(of(out, "connection_model")[1].number, 4)
    eq(of(out, "sdp_setup")[1].text, "active")
    eq(of(out, "sdp_path")[1].text, "msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp")
    local syn = seg(11, 3.17, true, 1000, 0, 0, "S")
    eq(t:wants_segment(syn), true)
    syn.flow.dport = 15003
    eq(t:wants_segment(syn), false)
    out = {}

    local i1, i2 = 1000, 5000
    local send = core.parse_msrp_message(BIND_SEND)
    t:tick(11, ns(3.17), out)
    t:on_tcp(seg(11, 3.17, true, i1, 0, 0, "S"), {}, out)
    t:on_tcp(seg(13, 3.171, false, i2, i1 + 1, 0, "SA"), {}, out)
    t:on_tcp(seg(19, 3.19, true, i1 + 1, i2 + 1, 226, "PA"), { send }, out)
    eq(of(out, "conn_opened_by")[1].text, "offerer 10.201.1.152:53502")
    eq(of(out, "conn_sdp_answer")[1].number, 8)
    eq(of(out, "conn_call_id")[1].text, "call-1")
    eq(#of(out, "path_mismatch"), 0)
    eq(#of(out, "unexpected_opener"), 0)
    t:on_tcp(seg(22, 3.192, false, i2 + 1, i1 + 1, 0, "A"), {}, out)  -- Ack=1: not taken
    -- Blink-2's SEND, relayed to Blink-1, which acknowledges it: Blink-1's session is bound.
    local other = core.parse_msrp_message(
        "MSRP 6ed1199a610a6a7d SEND\r\nTo-Path: msrp://10.201.1.152:53502/d3b7e1a04c9f2e6b8a15;tcp\r\n" ..
        "From-Path: msrp://10.207.1.100:15002/8e943e31a8e49a6597f0;tcp\r\nMessage-ID: 5\r\n" ..
        "Byte-Range: 1-0/0\r\n-------6ed1199a610a6a7d$\r\n")
    local len = other.length
    t:on_tcp(seg(24, 3.193, false, i2 + 1, i1 + 1, len, "PA"), { other }, out)
    t:on_tcp(seg(25, 3.194, true, i1 + 227, i2 + 1 + len, 0, "A"), {}, out)
    t:on_tcp(seg(31, 3.47, true, i1 + 1, i2 + 1, 226, "PAR"), {}, out)
    eq(#of(out, "retransmission_of"), 1)
    eq(of(out, "retransmission_of")[1].number, 19)
    local retrans = of(out, "send_retransmitted")
    eq(#retrans, 2)
    eq(retrans[1].frame, 31)
    eq(retrans[1].text, "TCP retransmission 1 of SEND 745f0cb1fb640e52 (frame 19), 0.280 s after it, still " ..
        "unanswered; caused by both ends active (frame 8)")
    eq(retrans[1].cause, 8)
    eq(retrans[2].frame, 19)
    eq(retrans[2].upsert, true)
    eq(retrans[2].cause, 8)
    eq(retrans[2].links[1].kind, "last_retransmission")
    eq(retrans[2].links[1].frame, 31)
    eq(of(out, "send_retransmissions")[1].number, 1)
    out = {}

    t:tick(60, ns(12.9), out)
    eq(#out, 0)
    t:tick(67, ns(13.05), out)
    local bind = of(out, "bind_timeout")
    eq(#bind, 2)  -- where it became known, and on the answer
    eq(bind[1].frame, 67)
    eq(bind[2].frame, 8)
    eq(bind[1].text, "MSRP session 8e943e31a8e49a6597f0 of 10.207.1.100:15002 (SDP in frame 8) got no SEND in 10 s " ..
        "(10.050 s elapsed): 1 SEND to it neither acknowledged nor answered; caused by both ends active (frame 8)")
    eq(bind[1].cause, 8)
    eq(bind[2].cause, 8)
    eq(#bind[1].links, 2)
    eq(bind[1].links[1].kind, "sdp_answer")
    eq(bind[1].links[1].frame, 8)
    eq(bind[1].links[2].kind, "send")
    eq(bind[1].links[2].frame, 19)
    eq(of(out, "bind_elapsed")[1].duration, 10050 * 1000000)
    out = {}

    feed(t, sip(68, 14.02, "BYE"), nil, out)
    local ended = of(out, "session_ended_unbound")
    eq(#ended, 1)
    eq(ended[1].text, "BYE 11.020 s after the SDP answer (frame 8) and no SEND of this session got a 200 OK; " ..
        "caused by both ends active (frame 8)")
    eq(ended[1].cause, 8)
    local un = of(out, "send_unanswered")
    eq(#un, 4)  -- both SENDs, each on the BYE and written back
    eq(un[1].frame, 68)
    eq(un[2].frame, 19)
    eq(un[4].frame, 24)
    eq(un[3].text, "SEND 6ed1199a610a6a7d (frame 24) got no response: the session ended (BYE) 10.827 s after it; " ..
        "acknowledged by the peer's TCP; caused by both ends active (frame 8)")
    eq(un[1].text, "SEND 745f0cb1fb640e52 (frame 19) got no response: the session ended (BYE) 10.830 s after it; " ..
        "retransmitted 1 time, never acknowledged by the peer's TCP; caused by both ends active (frame 8)")
    for _, n in ipairs(un) do
        eq(n.cause, 8)
        eq(#n.links, 1)
        eq(n.links[1].kind, "send")
    end
    eq(un[1].links[1].frame, 19)
    eq(un[3].links[1].frame, 24)
end

T.tracker_relayed_leg_is_one_incident = function()
    local t = core.new_tracker()
    local out = {}
    feed(t, sip(1, 0.0, "INVITE"), media("10.201.1.152", 53502, "d3b7e1a04c9f2e6b8a15", "active"), out)
    feed(t, sip(3, 0.1, "INVITE", 0, "leg-b"), media("10.207.1.100", 15000, "d3b7e1a04c9f2e6b8a15", "active"), out)
    feed(t, sip(7, 2.9, nil, 200, "leg-b"), media("10.201.1.99", 49838, "8e943e31a8e49a6597f0", "active"), out)
    feed(t, sip(8, 3.0, nil, 200), media("10.207.1.100", 15002, "8e943e31a8e49a6597f0", "active"), out)
    local cause = of(out, "both_active")
    eq(#cause, 1)
    eq(cause[1].frame, 7)
    local relayed = of(out, "both_active_relayed")
    eq(#relayed, 1)
    eq(relayed[1].frame, 8)
    eq(relayed[1].cause, 7)
    eq(relayed[1].text, "Both ends a=setup:active on this leg too: the same MSRP session (a=path session ids) as " ..
        "the answer in frame 7, where it is reported")
    eq(relayed[1].links[1].frame, 1)
    out = {}
    feed(t, sip(72, 14.0, "BYE"), nil, out)
    local ended = of(out, "session_ended_unbound")
    eq(#ended, 1)
    eq(ended[1].cause, 7)
end

-- A healthy RFC 4975 chat: no a=setup, the offerer connects, every SEND answered, a two-chunk message
-- and a REPORT on it; nothing is reported, not even at the BYE.
T.tracker_healthy_rfc4975_chat = function()
    local t = core.new_tracker()
    local out = {}
    local A, AP, B, BP = "192.0.2.10", 49152, "198.51.100.20", 7394
    feed(t, sip(1, 0.0, "INVITE"), media(A, AP, "iau39soe2843z", nil), out)
    feed(t, sip(3, 0.5, nil, 200), media(B, BP, "x9f2ka3nd8rt4", nil), out)
    eq(of(out, "connection_model")[1].number, 1)
    eq(of(out, "sdp_setup")[1].text, "absent")
    local function s(frame, time, from_a, seq, ack, flags, m)
        return { number = frame, time = ns(time),
            flow = { transport = "tcp", stream = 7, src = from_a and A or B, sport = from_a and AP or BP,
                     dst = from_a and B or A, dport = from_a and BP or AP },
            tcp = { seq = seq, ack = ack, len = m and m.length or 0, syn = flags:find("S") ~= nil,
                    ack_flag = flags:find("A") ~= nil, fin = flags:find("F") ~= nil, rst = false,
                    retransmission = false, spurious = false } }
    end
    local paths_ab = "To-Path: msrp://" .. B .. ":" .. BP .. "/x9f2ka3nd8rt4;tcp\r\nFrom-Path: msrp://" .. A .. ":" ..
        AP .. "/iau39soe2843z;tcp\r\n"
    local paths_ba = "To-Path: msrp://" .. A .. ":" .. AP .. "/iau39soe2843z;tcp\r\nFrom-Path: msrp://" .. B .. ":" ..
        BP .. "/x9f2ka3nd8rt4;tcp\r\n"
    local c1 = core.parse_msrp_message("MSRP a786hjs2 SEND\r\n" .. paths_ab .. "Message-ID: 87652491\r\n" ..
        "Byte-Range: 1-5/10\r\nContent-Type: text/plain\r\n\r\nHello\r\n-------a786hjs2+\r\n")
    local c2 = core.parse_msrp_message("MSRP a786hjs3 SEND\r\n" .. paths_ab .. "Message-ID: 87652491\r\n" ..
        "Byte-Range: 6-10/10\r\nContent-Type: text/plain\r\n\r\nWorld\r\n-------a786hjs3$\r\n")
    local r1 = core.parse_msrp_message("MSRP a786hjs2 200 OK\r\n" .. paths_ba .. "-------a786hjs2$\r\n")
    local r2 = core.parse_msrp_message("MSRP a786hjs3 200 OK\r\n" .. paths_ba .. "-------a786hjs3$\r\n")
    local rep = core.parse_msrp_message("MSRP dkei38sd REPORT\r\n" .. paths_ba .. "Message-ID: 87652491\r\n" ..
        "Byte-Range: 1-10/10\r\nStatus: 000 200 OK\r\n-------dkei38sd$\r\n")
    t:on_tcp(s(4, 0.6, true, 100, 0, "S"), {}, out)
    t:on_tcp(s(5, 0.61, false, 900, 101, "SA"), {}, out)
    eq(of(out, "conn_opened_by")[1], nil)  -- no MSRP yet
    t:on_tcp(s(6, 0.7, true, 101, 901, "PA", c1), { c1 }, out)
    eq(of(out, "conn_opened_by")[1].text, "offerer 192.0.2.10:49152")
    eq(of(out, "chunk_number")[1].number, 1)
    t:on_tcp(s(7, 0.75, false, 901, 101 + c1.length, "PA", r1), { r1 }, out)
    eq(of(out, "request_in")[1].number, 6)
    eq(of(out, "response_time")[1].duration, ns(0.05))
    eq(of(out, "response_in")[1].frame, 6)
    eq(of(out, "response_in")[1].number, 7)
    -- the second chunk and its 200 back to back in one segment from B's side: a 200 then the REPORT
    t:on_tcp(s(8, 0.8, true, 101 + c1.length, 901 + r1.length, "PA", c2), { c2 }, out)
    eq(of(out, "chunk_number")[2].number, 2)
    eq(of(out, "message_complete")[1].number, 1)
    eq(of(out, "message_chunks")[1].number, 2)
    eq(of(out, "message_bytes")[1].number, 10)
    eq(of(out, "message_content_type")[1].text, "text/plain")
    local seg9 = s(9, 0.85, false, 901 + r1.length, 101 + c1.length + c2.length, "PA")
    seg9.tcp.len = r2.length + rep.length
    t:on_tcp(seg9, { r2, rep }, out)
    eq(of(out, "request_in")[2].number, 8)
    eq(of(out, "report_of")[1].number, 8)
    eq(of(out, "report_in")[1].frame, 8)
    eq(of(out, "report_in")[1].number, 9)
    t:tick(20, ns(100), out)
    feed(t, sip(20, 100, "BYE"), nil, out)
    t:on_tcp(s(21, 100.1, true, 101 + c1.length + c2.length, 901, "FA"), {}, out)
    for _, kind in ipairs({ "send_unanswered", "bind_timeout", "session_ended_unbound", "message_incomplete",
        "path_mismatch", "unexpected_opener", "both_active", "nobody_connects", "duplicate_tid", "tracking_full" }) do
        eq(#of(out, kind), 0, kind)
    end
end

T.tracker_comedia_wrong_opener_and_path_mismatch = function()
    local t = core.new_tracker()
    local out = {}
    local A, AP, B, BP = "10.0.0.1", 5000, "10.0.0.2", 6000
    feed(t, sip(1, 0.0, "INVITE"), media(A, AP, "offer-sid", "active"), out)
    feed(t, sip(4, 0.2, nil, 200), media(B, BP, "answer-sid", "passive"), out)
    eq(of(out, "connection_model")[1].number, 2)
    -- the answerer connects to the offerer, who was to connect
    local syn = { number = 5, time = ns(0.3), flow = { transport = "tcp", stream = 2, src = B, sport = BP, dst = A,
        dport = AP }, tcp = { seq = 1, ack = 0, len = 0, syn = true, ack_flag = false } }
    eq(t:wants_segment(syn), true)
    t:on_tcp(syn, {}, out)
    local m = core.parse_msrp_message("MSRP tid00001 SEND\r\nTo-Path: msrp://" .. A .. ":" .. AP ..
        "/wrong;tcp\r\nFrom-Path: msrp://" .. B .. ":" .. BP .. "/answer-sid;tcp\r\n-------tid00001$\r\n")
    local send = { number = 7, time = ns(0.4), flow = syn.flow, tcp = { seq = 2, ack = 1, len = m.length,
        ack_flag = true } }
    t:on_tcp(send, { m }, out)
    eq(of(out, "unexpected_opener")[1].text, "The answerer 10.0.0.2:6000 opened this connection, but the SDP " ..
        "(frames 1, 4) says the offerer connects")
    eq(of(out, "unexpected_opener")[1].links[2].frame, 4)
    eq(of(out, "path_mismatch")[1].text, "To-Path session id \"wrong\" is not the offer's a=path session id " ..
        "\"offer-sid\"")
    eq(of(out, "conn_opened_by")[1].text, "answerer 10.0.0.2:6000")
    -- the same transaction id again on this connection
    local again = { number = 8, time = ns(0.5), flow = syn.flow, tcp = { seq = 2 + m.length, ack = 1,
        len = m.length, ack_flag = true } }
    t:on_tcp(again, { m }, out)
    eq(of(out, "duplicate_tid")[1].text, "Transaction id tid00001 was already used by the SEND in frame 7 on " ..
        "this connection")
    eq(of(out, "duplicate_tid")[1].links[1].kind, "first_use")
    -- the RST ends the SEND unanswered, as a warning of its own (no cause)
    local rst = { number = 9, time = ns(1.5), flow = syn.flow, tcp = { seq = 0, ack = 0, len = 0, rst = true } }
    t:on_tcp(rst, {}, out)
    local un = of(out, "send_unanswered")
    eq(#un, 2)
    eq(un[1].text, "SEND tid00001 (frame 7) got no response: the connection was reset 1.100 s after it; never " ..
        "acknowledged by the peer's TCP")
    eq(un[1].cause, 0)
end

T.tracker_both_passive_and_send_timeout = function()
    local t = core.new_tracker({ send_timeout = 5 * core.SECOND })
    local out = {}
    feed(t, sip(1, 0.0, "INVITE"), media("10.0.0.1", 5000, "o", "passive"), out)
    feed(t, sip(2, 0.1, nil, 200), media("10.0.0.2", 6000, "a", "passive"), out)
    eq(of(out, "nobody_connects")[1].text,
        "Offer and answer both end up passive: both ends wait for a connection and nobody connects")
    t:tick(3, ns(30), out)
    eq(#of(out, "bind_timeout"), 0)  -- nothing to watch where nobody connects
    feed(t, sip(4, 31, "BYE"), nil, out)
    eq(#of(out, "session_ended_unbound"), 0)
    -- an unanswered SEND past msrpa.send_timeout, on an RFC 4975 session
    local t2 = core.new_tracker({ send_timeout = 5 * core.SECOND })
    out = {}
    feed(t2, sip(1, 0.0, "INVITE"), media("10.0.0.1", 5000, "o", nil), out)
    feed(t2, sip(2, 0.1, nil, 200), media("10.0.0.2", 6000, "a", nil), out)
    local m = core.parse_msrp_message("MSRP tid00001 SEND\r\nTo-Path: msrp://10.0.0.2:6000/a;tcp\r\n" ..
        "From-Path: msrp://10.0.0.1:5000/o;tcp\r\n-------tid00001$\r\n")
    local f = { number = 3, time = ns(1), flow = { transport = "tcp", stream = 0, src = "10.0.0.1", sport = 5000,
        dst = "10.0.0.2", dport = 6000 }, tcp = { seq = 1, ack = 1, len = m.length, ack_flag = true } }
    t2:on_tcp(f, { m }, out)
    t2:tick(4, ns(5.9), out)
    eq(#of(out, "send_unanswered"), 0)
    t2:tick(5, ns(6.25), out)
    local un = of(out, "send_unanswered")
    eq(#un, 2)
    eq(un[1].frame, 5)
    eq(un[2].frame, 3)
    eq(un[1].text, "SEND tid00001 (frame 3) got no response: none within msrpa.send_timeout (5 s), checked " ..
        "5.250 s after it; never acknowledged by the peer's TCP")
end

T.tracker_incomplete_message_at_bye = function()
    local t = core.new_tracker()
    local out = {}
    feed(t, sip(1, 0.0, "INVITE"), media("10.0.0.1", 5000, "o", nil), out)
    feed(t, sip(2, 0.1, nil, 200), media("10.0.0.2", 6000, "a", nil), out)
    local m = core.parse_msrp_message("MSRP tid00001 SEND\r\nTo-Path: msrp://10.0.0.2:6000/a;tcp\r\n" ..
        "From-Path: msrp://10.0.0.1:5000/o;tcp\r\nMessage-ID: k4\r\nByte-Range: 1-10/20\r\n\r\n0123456789\r\n" ..
        "-------tid00001+\r\n")
    local f = { number = 28, time = ns(1), flow = { transport = "tcp", stream = 0, src = "10.0.0.1", sport = 5000,
        dst = "10.0.0.2", dport = 6000 }, tcp = { seq = 1, ack = 1, len = m.length, ack_flag = true } }
    t:on_tcp(f, { m }, out)
    out = {}
    feed(t, sip(30, 2, "BYE"), nil, out)
    local inc = of(out, "message_incomplete")
    eq(#inc, 2)
    eq(inc[1].frame, 30)
    eq(inc[2].frame, 28)
    eq(inc[1].text, "Message k4 ended incomplete: 1 chunk, 10 of 20 bytes (last chunk in frame 28); the session " ..
        "ended (BYE)")
    eq(inc[1].links[1].kind, "last_chunk")
end

T.tracker_limits = function()
    local t = core.new_tracker({ max_sessions = 2 })
    local out = {}
    for i = 1, 4 do
        local m = sip(i, i, "INVITE", 0, "c" .. i)
        feed(t, m, media("10.0.0.1", 5000 + i, "o" .. i, nil), out)
    end
    local full = of(out, "tracking_full")
    eq(#full, 1)  -- once
    eq(full[1].frame, 3)
    eq(full[1].text, "Tracking limit reached (msrpa.max_sessions): later MSRP sessions or transactions are not analysed")
    -- a retransmitted or reflected INVITE starts no second session
    local t2 = core.new_tracker()
    out = {}
    feed(t2, sip(1, 0, "INVITE"), media("10.0.0.1", 5000, "o", nil), out, { id = 5 })
    feed(t2, sip(2, 0.5, "INVITE"), media("10.0.0.1", 5000, "o", nil), out, { id = 5, retransmission = true })
    eq(#t2.sessions, 1)
    -- many SENDs, bounded work at the connection's close (its own open items only)
    local t3 = core.new_tracker({ max_transactions = 50 })
    out = {}
    feed(t3, sip(1, 0.0, "INVITE"), media("10.0.0.1", 5000, "o", nil), out)
    feed(t3, sip(2, 0.1, nil, 200), media("10.0.0.2", 6000, "a", nil), out)
    local seq = 1
    for i = 1, 60 do
        local tid = string.format("tid%05d", i)
        local m = core.parse_msrp_message("MSRP " .. tid .. " SEND\r\nTo-Path: msrp://10.0.0.2:6000/a;tcp\r\n" ..
            "From-Path: msrp://10.0.0.1:5000/o;tcp\r\n-------" .. tid .. "$\r\n")
        t3:on_tcp({ number = 2 + i, time = ns(1 + i / 100), flow = { transport = "tcp", stream = 0, src = "10.0.0.1",
            sport = 5000, dst = "10.0.0.2", dport = 6000 }, tcp = { seq = seq, ack = 1, len = m.length,
            ack_flag = true } }, { m }, out)
        seq = seq + m.length
    end
    eq(#of(out, "tracking_full"), 1)
    eq(of(out, "tracking_full")[1].text, "Tracking limit reached (msrpa.max_transactions): later MSRP sessions or " ..
        "transactions are not analysed")
end

T.sequence_numbers_wrap = function()
    local t = core.new_tracker()
    local out = {}
    feed(t, sip(1, 0.0, "INVITE"), media("10.0.0.1", 5000, "o", nil), out)
    feed(t, sip(2, 0.1, nil, 200), media("10.0.0.2", 6000, "a", nil), out)
    local m = core.parse_msrp_message("MSRP tid00001 SEND\r\nTo-Path: msrp://10.0.0.2:6000/a;tcp\r\n" ..
        "From-Path: msrp://10.0.0.1:5000/o;tcp\r\n-------tid00001$\r\n")
    local flow = { transport = "tcp", stream = 0, src = "10.0.0.1", sport = 5000, dst = "10.0.0.2", dport = 6000 }
    local back = { transport = "tcp", stream = 0, src = "10.0.0.2", sport = 6000, dst = "10.0.0.1", dport = 5000 }
    local start = 4294967296 - 10
    t:on_tcp({ number = 3, time = ns(1), flow = flow, tcp = { seq = start, ack = 1, len = m.length, ack_flag = true } },
        { m }, out)
    -- the peer acknowledges past the wrap: delivered, so the session is bound (no bind timeout)
    t:on_tcp({ number = 4, time = ns(1.1), flow = back, tcp = { seq = 1, ack = (start + m.length) % 4294967296,
        len = 0, ack_flag = true } }, {}, out)
    t:tick(5, ns(20), out)
    eq(#of(out, "bind_timeout"), 0)
end

return T
