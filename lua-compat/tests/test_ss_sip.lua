-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of ss_sip.lualib: tests/unit/test_sip_parse.cc value for value (start lines, every header
-- in full and compact form, folding, several values per line, IPv6 Via, Contacts with expires,
-- +sip.instance and GRUU epids, body spans, missing headers, truncation, garbage), plus Lua-only cases.
local check = require("check")
local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local sip = require("ss_sip")

local function crlf(s)
    return (s:gsub("\n", "\r\n"))
end

local eq = check.eq

local function has_problem(m, header, what)
    for _, p in ipairs(m.problems) do
        if p.header == header and p.what == what then return true end
    end
    return false
end

local function parse_ok(bytes, want)
    local st, m = sip.parse(bytes)
    eq(st, want or "ok", "status")
    eq(m.parse_status, st, "parse_status")
    return m
end

local T = {}

T.register_full_form = function()
    local bytes = crlf(
        "REGISTER sip:example.com SIP/2.0\n" ..
        "Via: SIP/2.0/TCP 10.1.1.5:5060;branch=z9hG4bK776asdhds;rport;received=192.0.2.7\n" ..
        "Max-Forwards: 70\n" ..
        "To: \"Bob \\\"B\\\"\" <sip:bob@example.com>\n" ..
        "From: Bob <sip:bob@example.com>;tag=456248;epid=ab12cd\n" ..
        "Call-ID: 843817637684230@998sdasdh09\n" ..
        "CSeq: 1826 REGISTER\n" ..
        "Contact: <sip:bob@10.1.1.5:5060;transport=tcp;ob>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"\n" ..
        "Expires: 7200\n" ..
        "Flow-Timer: 120\n" ..
        "User-Agent: Polycom/5.9  VVX\n" ..
        "Content-Length: 0\n" ..
        "\n")
    local m = parse_ok(bytes)
    eq(m.request, true)
    eq(m.method, "REGISTER")
    eq(m.request_uri, "sip:example.com")
    eq(m.status, 0)
    eq(m.call_id, "843817637684230@998sdasdh09")
    eq(m.to.display, "Bob \"B\"")
    eq(m.to.uri, "sip:bob@example.com")
    eq(m.to.tag, "")
    eq(m.from.display, "Bob")
    eq(m.from.tag, "456248")
    eq(m.from.epid, "ab12cd")
    eq(m.has_cseq, true)
    eq(m.cseq, 1826)
    eq(m.cseq_method, "REGISTER")
    eq(m.via.present, true)
    eq(m.via.transport, "TCP")
    eq(m.via.host, "10.1.1.5")
    eq(m.via.port, 5060)
    eq(m.via.branch, "z9hG4bK776asdhds")
    eq(m.via.received, "192.0.2.7")
    eq(sip.rfc3261_branch(m.via), true)
    eq(m.via_count, 1)
    eq(#m.contacts, 1)
    eq(m.contacts[1].uri, "sip:bob@10.1.1.5:5060;transport=tcp;ob")
    eq(m.contacts[1].expires, 3600)
    eq(m.contacts[1].instance, "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>")
    eq(m.contacts[1].star, false)
    eq(m.contacts[1].gruu_epid, "")
    eq(m.expires, 7200)
    eq(m.flow_timer, 120)
    eq(m.user_agent, "Polycom/5.9  VVX")
    eq(m.content_length, 0)
    eq(m.body_offset, #bytes)
    eq(m.body_length, 0)
    eq(m.event, nil)
    eq(#m.problems, 0)
end

T.compact_forms_and_case_insensitive_names = function()
    local bytes = crlf(
        "NOTIFY sip:alice@10.0.0.9:5060 SIP/2.0\n" ..
        "v: SIP/2.0/UDP [2001:DB8::9]:5070;BRANCH=z9hG4bKnotify1\n" ..
        "f: <sip:pres@example.com>;tag=srv1\n" ..
        "t: <sip:alice@example.com>;tag=ua1\n" ..
        "i: notify-call-id\n" ..
        "CSEQ: 7 NOTIFY\n" ..
        "m: <sip:pres@192.0.2.1>\n" ..
        "o: presence;id=7\n" ..
        "u: presence, dialog\n" ..
        "k: eventlist\n" ..
        "SUBSCRIPTION-state: active;expires=599\n" ..
        "c: Application/PIDF+XML ; charset=utf-8\n" ..
        "l: 5\n" ..
        "e: gzip\n" ..
        "s: hello\n" ..
        "x: 1800\n" ..
        "\n" ..
        "<x/>\n")
    local m = parse_ok(bytes)
    eq(m.method, "NOTIFY")
    eq(m.via.transport, "UDP")
    eq(m.via.host, "2001:db8::9")
    eq(m.via.port, 5070)
    eq(m.via.branch, "z9hG4bKnotify1")
    eq(m.from.uri, "sip:pres@example.com")
    eq(m.from.tag, "srv1")
    eq(m.to.tag, "ua1")
    eq(m.call_id, "notify-call-id")
    eq(m.cseq, 7)
    eq(m.cseq_method, "NOTIFY")
    eq(#m.contacts, 1)
    eq(m.contacts[1].uri, "sip:pres@192.0.2.1")
    eq(m.event, "presence;id=7")
    eq(m.subscription_state, "active;expires=599")
    eq(m.content_type, "application/pidf+xml")
    eq(m.content_length, 5)
    eq(m.body_offset, #bytes - 6)
    eq(m.body_length, 5)
    eq(sip.body(bytes, m), "<x/>\r")
    eq(#m.problems, 0)
end

T.response_with_several_vias_contacts_and_routes = function()
    local m = parse_ok(crlf(
        "SIP/2.0 200 OK Fine\n" ..
        "Via: SIP/2.0/UDP Proxy.Example.COM;branch=z9hG4bKp1, SIP/2.0/TCP 10.0.0.1:5061;branch=z9hG4bKua\n" ..
        "Via: SIP/2.0/TLS 10.0.0.2;branch=z9hG4bKx\n" ..
        "Record-Route: <sip:p1.example.com;lr>, \"a, b\" <sip:p2.example.com;lr>\n" ..
        "Record-Route: <sip:p3.example.com;lr;x=\"1,2\">\n" ..
        "From: \"Doe, Jane\" <sip:jane@example.com>;tag=a\n" ..
        "To: sip:bob@example.com;tag=b\n" ..
        "Call-ID: c1\n" ..
        "CSeq: 2 INVITE\n" ..
        "Contact: \"One, Two\" <sip:bob@10.0.0.3>;expires=60, <sip:bob@10.0.0.4;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>\n" ..
        "m: sip:bob@10.0.0.5;expires=30\n" ..
        "Server: Asterisk PBX 18\n" ..
        "Content-Length: 0\n" ..
        "\n"))
    eq(m.request, false)
    eq(m.status, 200)
    eq(m.reason, "OK Fine")
    eq(m.via_count, 3)
    eq(m.via.transport, "UDP")
    eq(m.via.host, "proxy.example.com")
    eq(m.via.port, 0)
    eq(m.via.branch, "z9hG4bKp1")
    eq(#m.record_route, 3)
    eq(m.record_route[1], "sip:p1.example.com;lr")
    eq(m.record_route[2], "sip:p2.example.com;lr")
    eq(m.record_route[3], "sip:p3.example.com;lr;x=\"1,2\"")
    eq(m.from.display, "Doe, Jane")
    eq(m.to.uri, "sip:bob@example.com")
    eq(m.to.tag, "b")
    eq(#m.contacts, 3)
    eq(m.contacts[1].raw, "\"One, Two\" <sip:bob@10.0.0.3>;expires=60")
    eq(m.contacts[1].uri, "sip:bob@10.0.0.3")
    eq(m.contacts[1].expires, 60)
    eq(m.contacts[2].uri, "sip:bob@10.0.0.4;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu")
    eq(m.contacts[2].gruu_epid, "uozeqPgOuFOVd0DaRpeFCgAA")
    eq(m.contacts[2].expires, nil)
    eq(m.contacts[3].uri, "sip:bob@10.0.0.5")  -- addr-spec: ;expires is a header parameter
    eq(m.contacts[3].expires, 30)
    eq(m.server, "Asterisk PBX 18")
    eq(m.cseq_method, "INVITE")
    eq(sip.final_response(m), true)
    eq(sip.txn_method(m), "INVITE")
    eq(#m.problems, 0)
end

T.folded_lines_and_bare_line_feeds = function()
    local m = parse_ok(
        "SUBSCRIBE sip:b@x SIP/2.0\n" ..
        "Via: SIP/2.0/UDP\n" ..
        "  10.9.9.9:5062\n" ..
        "\t;branch=z9hG4bKfold\n" ..
        "From: <sip:a@x>\n" ..
        " ;tag=f1\n" ..
        "To: <sip:b@x>\n" ..
        "Call-ID: fold\n" ..
        "CSeq: 1\n" ..
        "   SUBSCRIBE\n" ..
        "Event: dialog\n" ..
        "User-Agent: Some\n" ..
        "  Agent/1.0\n" ..
        "\n")
    eq(m.via.host, "10.9.9.9")
    eq(m.via.port, 5062)
    eq(m.via.branch, "z9hG4bKfold")
    eq(m.from.tag, "f1")
    eq(m.cseq, 1)
    eq(m.cseq_method, "SUBSCRIBE")
    eq(m.user_agent, "Some Agent/1.0")
    eq(m.event, "dialog")
    eq(m.body_length, 0)
    eq(#m.problems, 0)
end

T.contact_star_and_leading_crlf = function()
    local m = parse_ok(crlf(
        "\n\nREGISTER sip:r SIP/2.0\n" ..
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n" ..
        "From: <sip:a@r>;tag=1\nTo: <sip:a@r>\nCall-ID: s\nCSeq: 3 REGISTER\n" ..
        "Contact: *\nExpires: 0\n\n"))
    eq(#m.contacts, 1)
    eq(m.contacts[1].star, true)
    eq(m.contacts[1].uri, "")
    eq(m.expires, 0)
end

T.missing_headers_are_problems = function()
    local m = parse_ok(crlf("OPTIONS sip:x SIP/2.0\nMax-Forwards: 70\n\n"))
    eq(m.method, "OPTIONS")
    eq(m.has_cseq, false)
    eq(m.via.present, false)
    eq(m.via_count, 0)
    eq(m.call_id, "")
    eq(#m.problems, 5)
    for _, h in ipairs({ "Call-ID", "From", "To", "CSeq", "Via" }) do
        eq(has_problem(m, h, "missing"), true, h)
    end
end

T.bad_values_are_problems = function()
    local m = parse_ok(crlf(
        "INVITE sip:x SIP/2.0\n" ..
        "Via: SIP/2.0/UDP h:99999;branch=1\n" ..
        "From: <sip:a@x;tag=1\n" ..
        "To: <sip:b@x>\n" ..
        "Call-ID: c\n" ..
        "CSeq: 12a INVITE\n" ..
        "Contact: <sip:c@x>;expires=soon\n" ..
        "Expires: Thu, 01 Dec 1994 16:00:00 GMT\n" ..
        "Content-Length: lots\n" ..
        "garbage line\n" ..
        "\n"))
    eq(has_problem(m, "Via", "bad port"), true)
    eq(m.via.port, 0)
    eq(m.via.host, "h")
    eq(m.via.branch, "1")
    eq(sip.rfc3261_branch(m.via), false)
    eq(has_problem(m, "From", "not a name-addr"), true)
    eq(has_problem(m, "CSeq", "not a number"), true)
    eq(m.has_cseq, false)
    eq(has_problem(m, "Contact", "expires not a number"), true)
    eq(m.contacts[1].expires, nil)
    eq(has_problem(m, "Expires", "not a number"), true)
    eq(m.expires, nil)
    eq(has_problem(m, "Content-Length", "not a number"), true)
    eq(has_problem(m, "", "header line without a colon"), true)
    eq(#m.problems, 7)
end

T.cseq_rules_and_repeats = function()
    local m = parse_ok(crlf("BYE sip:x SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\nFrom: <sip:a@x>;tag=1\n" ..
                            "To: <sip:b@x>;tag=2\nCall-ID: c\nCall-ID: d\nCSeq: 2147483648 INVITE\n\n"))
    eq(m.call_id, "c")
    eq(has_problem(m, "Call-ID", "repeated"), true)
    eq(has_problem(m, "CSeq", "number out of range"), true)
    eq(has_problem(m, "CSeq", "method differs from the request's"), true)
    eq(m.has_cseq, true)
    eq(m.cseq, 2147483648)
    eq(#m.problems, 3)
    m = parse_ok(crlf("SIP/2.0 100 Trying\nCSeq: 5\n\n"))
    eq(has_problem(m, "CSeq", "no method"), true)
    eq(m.has_cseq, false)
    m = parse_ok(crlf("SIP/2.0 100 Trying\nCSeq: 99999999999 INVITE\n\n"))
    eq(m.has_cseq, false)
end

T.body_and_truncation = function()
    local head = crlf("MESSAGE sip:x SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bKm\nFrom: <sip:a@x>;tag=1\n" ..
                      "To: <sip:b@x>\nCall-ID: c\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n")
    -- Content-Length longer than the bytes: truncated, the body is what there is.
    local m = parse_ok(head .. "Content-Length: 10\r\n\r\nhello", "truncated")
    eq(m.content_type, "text/plain")
    eq(m.content_length, 10)
    eq(m.body_offset, #head + 22)
    eq(m.body_length, 5)
    -- Shorter: the body is Content-Length bytes.
    m = parse_ok(head .. "Content-Length: 3\r\n\r\nhello")
    eq(m.body_length, 3)
    eq(m.has_content_length, true)
    -- No Content-Length: the rest.
    m = parse_ok(head .. "\r\nhello")
    eq(m.has_content_length, false)
    eq(m.body_offset, #head + 2)
    eq(m.body_length, 5)
    -- The header block never ends: what was found is kept.
    m = parse_ok(head .. "User-Agent: x", "truncated")
    eq(m.user_agent, "x")
    eq(m.call_id, "c")
    eq(m.body_offset, 0)
    eq(m.body_length, 0)
    -- Cut inside the top Via.
    m = parse_ok("INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UD", "truncated")
    eq(m.via.present, true)
    eq(m.via.transport, "UD")
    eq(has_problem(m, "Via", "no sent-by"), true)
end

T.not_sip = function()
    for _, bad in ipairs({ "", "\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "SIP/2.0 OK\r\n\r\n", "SIP/2.0 099 x\r\n",
                           "INVITE sip:x\r\n", "INVITE  SIP/2.0\r\n", "INV<ITE sip:x SIP/2.0\r\n",
                           "MSRP a786hjs2 SEND\r\n", "GET / HTTP/1.1\r\n", "\22\3\1\2\0", "garbage" }) do
        local st, m = sip.parse(bad)
        eq(st, "not_sip", bad)
        eq(#m.problems, 0)
        eq(m.call_id, "")
        eq(#m.contacts, 0)
        eq(m.status, 0)
    end
end

-- mssip reports an epid parameter without a value (captures/mssip_bad_epid.pcap, frame 6).
T.epid_parameter_without_value_is_seen = function()
    local m = parse_ok(crlf("SIP/2.0 183 Session Progress\nFrom: <sip:a@b>;tag=1;epid=ab12\nTo: <sip:c@d>;epid;tag=2\n\n"))
    eq(m.from.has_epid, true)
    eq(m.from.epid, "ab12")
    eq(m.to.has_epid, true)
    eq(m.to.epid, "")
    eq(m.to.tag, "2")
    m = parse_ok(crlf("SIP/2.0 183 Session Progress\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;EPID=;tag=2\n\n"))
    eq(m.from.has_epid, false)
    eq(m.from.epid, "")
    eq(m.to.has_epid, true)
    eq(m.to.epid, "")
end

T.refer_to_full_and_compact = function()
    local head = "REFER sip:b@x SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=1\n" ..
                 "To: <sip:b@x>\nCall-ID: r\nCSeq: 1 REFER\n"
    eq(parse_ok(crlf(head .. "Refer-To: <cid:alarm@10.0.0.1>\nrefer-to: <sip:second>\n\n")).refer_to, "<cid:alarm@10.0.0.1>")
    eq(parse_ok(crlf(head .. "r: cid:x\n\n")).refer_to, "cid:x")
    eq(parse_ok(crlf(head .. "\n")).refer_to, "")
end

T.garbage_never_raises_and_problems_are_bounded = function()
    local parts = { "INVITE sip:x SIP/2.0\r\n" }
    for _ = 1, 100 do parts[#parts + 1] = "no colon here\r\nVia: ;;;\r\nContact: <\r\nCSeq: x\r\n" end
    local m = parse_ok(table.concat(parts), "truncated")
    eq(#m.problems, 16)
    eq(m.via_count, 100)
    for c = 0, 255 do
        eq((sip.parse(string.char(c))), "not_sip", "byte " .. c)
    end
end

-- Lua-only: the port's own edges.
T.quoted_pair_at_the_end_is_kept = function()
    local m = parse_ok(crlf("SIP/2.0 200 OK\nFrom: \"a\\\\b\" <sip:a@b>;tag=1\nContact: <sip:c@d>;+sip.instance=\"x\\\"y\"\n\n"))
    eq(m.from.display, "a\\b")
    eq(m.contacts[1].instance, "x\"y")
end

T.header_lines_without_colons_stay_linear = function()
    -- 20,000 header lines and no colon anywhere: one scan for ':' in all, not one per line.
    local bytes = "INVITE sip:x SIP/2.0\r\n" .. string.rep("abcdefgh\r\n", 20000) .. "\r\n"
    local m = parse_ok(bytes)
    eq(#m.problems, 16)
end

T.status_line_forms = function()
    local m = parse_ok("sip/2.0   404\r\n\r\n")
    eq(m.status, 404)
    eq(m.reason, "")
    eq((sip.parse("SIP/2.0 4040 x\r\n\r\n")), "not_sip")
    eq((sip.parse("SIP/2.0 40\r\n\r\n")), "not_sip")
    m = parse_ok("OPTIONS  sip:x   sip/2.0\r\n\r\n")
    eq(m.method, "OPTIONS")
    eq(m.request_uri, "sip:x")
end

return T
