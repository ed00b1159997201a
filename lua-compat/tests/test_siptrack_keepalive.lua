-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of siptrack_keepalive.lualib: tests/unit/test_registration.cc, test_keepalive.cc and
-- test_keepalive_sccp.cc cases value for value (field case 004: the 8961's REGISTER back-off lapsing past
-- CUCM's grace and the failover and fallback it causes; SCCP KeepAlive pairing and the third miss in a
-- row; RFC 5626 CRLF pings and pongs). Messages go through ss_txn first, as the glue feeds them.
local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local K = require("siptrack_keepalive")
local txn = require("ss_txn")
local C = require("siptrack_capture")
local eq = C.eq

local S = 1000000000
local T0 = 1000 * S

local T = {}

function T.format_seconds_and_duration()
    local cases = { { 0, "0.000 s" }, { S / 1000, "0.001 s" }, { S / 2000, "0.001 s" }, { 333333, "0.000 s" },
        { 23015060000, "23.015 s" }, { -1747040000, "-1.747 s" }, { -333333, "0.000 s" }, { 115 * S, "115.000 s" } }
    for _, c in ipairs(cases) do eq(K.format_seconds(c[1]), c[2], tostring(c[1])) end
    eq(K.format_duration(89 * S), "89.000 s")
    eq(K.format_duration(120562080000), "2 min 0.6 s")
    eq(K.format_duration(976831420000), "16 min 16.8 s")
    eq(K.format_duration(3600 * S), "60 min 0.0 s")
end

function T.interval_stats()
    local st = K.stats()
    eq(K.stats_median(st), 0)
    for _, v in ipairs({ 5, 1, 4, 2, 3, 100 }) do K.stats_add(st, v) end
    eq(st.count, 6)
    eq(st.min, 1)
    eq(st.max, 100)
    eq(K.stats_median(st), 3)
end

local SEED_CONTACT = "<sip:9e9e1ffb-0206-4ea1-6d77-ba04a72017f7@10.106.114.185:53006;transport=tcp>;" ..
    "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-0024142ddf24>\";" ..
    "+u.sip!devicename.ccm.cisco.com=\"SEP0024142DDF24\";+u.sip!model.ccm.cisco.com=\"437\""
local SEED_BACKUP = "<sip:e2b0f175-feae-d664-befa-b7cd0837fcc6@10.60.63.21:5060;transport=TCP>;" ..
    "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-e0d1730ac1b1>\";" ..
    "+u.sip!devicename.ccm.cisco.com=\"SEPE0D1730AC1B1\";+u.sip!model.ccm.cisco.com=\"592\";" ..
    "expires=0;cisco-keep-alive"

function T.parse_contacts_seed()
    local c = K.parse_contacts(SEED_CONTACT)
    eq(#c, 1)
    eq(c[1].uri, "sip:9e9e1ffb-0206-4ea1-6d77-ba04a72017f7@10.106.114.185:53006;transport=tcp")
    eq(c[1].instance, "<urn:uuid:00000000-0000-0000-0000-0024142ddf24>")
    eq(c[1].expires, nil)
    eq(c[1].cisco_keep_alive, false)
    c = K.parse_contacts(SEED_BACKUP)
    eq(#c, 1)
    eq(c[1].expires, 0)
    eq(c[1].cisco_keep_alive, true)
    eq(c[1].instance, "<urn:uuid:00000000-0000-0000-0000-e0d1730ac1b1>")
end

function T.parse_contacts_table()
    local cases = {
        { "*", { "*" }, { -1 } },
        { "<sip:a@h>;expires=60, <sip:b@h>;expires=120", { "sip:a@h", "sip:b@h" }, { 60, 120 } },
        { "\"A, B\" <sip:a@h;x=\",\">;expires=5", { "sip:a@h;x=\",\"" }, { 5 } },
        { "sip:c@h;expires=7", { "sip:c@h" }, { 7 } },
        { "<sip:a@h>;expires=99999999999", { "sip:a@h" }, { -1 } },
        { "<sip:a@h>;expires=abc", { "sip:a@h" }, { -1 } },
        { "<sip:a@h, <broken", {}, {} },
        { "", {}, {} },
        { " , ,", {}, {} },
    }
    for _, k in ipairs(cases) do
        local c = K.parse_contacts(k[1])
        eq(#c, #k[2], k[1])
        for i = 1, #c do
            eq(c[i].uri, k[2][i], k[1])
            eq(c[i].expires or -1, k[3][i], k[1])
        end
    end
end

-- The REGISTER fixture of test_registration.cc.
local PRIMARY, SECONDARY = { "178.215.139.22", 5060 }, { "178.215.139.23", 5060 }
local PHONE = "10.147.230.189"
local INSTANCE = "<sip:u@10.147.230.189:50708;transport=tcp>;+sip.instance=\"<urn:uuid:1>\""

local function flow_to(registrar, up)
    local stream = registrar == PRIMARY and 1 or 0
    if up == false then
        return { transport = "tcp", stream = stream, src = registrar[1], sport = registrar[2], dst = PHONE, dport = 50708 }
    end
    return { transport = "tcp", stream = stream, src = PHONE, sport = 50708, dst = registrar[1], dport = registrar[2] }
end

local function reg(frame, t, registrar, call, cseq, contact, expires)
    contact = contact or INSTANCE
    local uri = "sip:4563@" .. registrar[1]
    local m = C.message({ frame = frame, time = t, flow = flow_to(registrar), seq_begin = frame * 1000,
        seq_end = frame * 1000 + 900, request = true, method = "REGISTER", request_uri = "sip:" .. registrar[1],
        call_id = call, from = C.party(uri, "ft"), to = C.party(uri), cseq = cseq, cseq_method = "REGISTER",
        via = { present = true, transport = "TCP", host = PHONE, port = 50708, branch = "z9hG4bK" .. call .. "-" .. cseq,
                received = "" }, via_count = 1, expires = expires or 3600 })
    if contact ~= "" then m.contacts = { { raw = contact, uri = "", instance = "", gruu_epid = "", star = false } } end
    return m
end

local function ok(frame, t, call, cseq, granted, status, registrar)
    granted = granted or 120
    registrar = registrar or PRIMARY
    local m = reg(frame, t, registrar, call, cseq, INSTANCE .. ";expires=" .. granted, granted)
    m.flow = flow_to(registrar, false)
    m.seq_begin, m.seq_end = 0, 0
    m.request = false
    m.method = ""
    m.status = status or 200
    m.to.tag = "registrar"
    return m
end

local function fixture(settings)
    local x = { layer = txn.new(), t = K.registrations(settings) }
    function x.on_request(m) return x.t:on_request(m, x.layer:on_message(m)) end
    function x.on_response(m) return x.t:on_response(m, x.layer:on_message(m)) end
    function x.retransmission(registrar, seq, frame, time, up)
        local f = { number = frame, time = time, flow = flow_to(registrar, up),
                    tcp = { seq = seq, len = 100, retransmission = true } }
        return x.t:on_tcp_retransmission(x.layer:on_tcp_retransmission(f), frame, time)
    end
    return x
end

function T.on_time_refreshes_are_quiet()
    local x = fixture()
    assert(x.on_request(reg(1, T0, PRIMARY, "c", 1)))
    eq(x.on_response(ok(2, T0 + S / 100, "c", 1)), 1)
    eq(x.t.records[1].granted, 120)
    eq(x.t.records[1].kind, "registration")
    local ri = x.on_request(reg(3, T0 + S / 100 + 115 * S, PRIMARY, "c", 2))
    local r = x.t.records[ri]
    eq(r.kind, "refresh")
    eq(r.interval, 115 * S + S / 100)
    eq(r.previous_grant, 120)
    eq(r.lapse, nil)
    eq(r.late_copy, nil)
    eq(x.t.bindings[1].intervals.count, 1)
end

function T.backoff_lapse_within_and_past_grace()
    local x = fixture()
    local t = x.t
    x.on_request(reg(1, T0, PRIMARY, "c", 1))
    x.on_response(ok(2, T0, "c", 1))
    local granted_at = T0
    local steps = { { S / 5, false, false }, { S * 17 / 10, false, false }, { S * 67 / 10, true, false },
        { 14 * S, true, false }, { 28 * S, true, true } }
    local frame, cseq, ok_frame = 10, 2, 2
    for _, s in ipairs(steps) do
        local backoff, lapse, past = s[1], s[2], s[3]
        local sent = granted_at + 115 * S
        local ri = x.on_request(reg(frame, sent, PRIMARY, "c", cseq))
        assert(ri)
        eq(t.records[ri].lapse, nil)
        local again = x.retransmission(PRIMARY, frame * 1000, frame + 1, sent + backoff)
        eq(#again, 1)
        eq(again[1][1], ri)
        eq(again[1][2], 1)
        local r = t.records[ri]
        local l = past and r.lapse or r.within_grace
        eq(l ~= nil, lapse, "lapse " .. backoff)
        local other
        if past then other = r.within_grace else other = r.lapse end
        eq(other, nil)
        if lapse then
            eq(l.copy, 1)
            eq(l.frame, frame + 1)
            eq(l.by, backoff - 5 * S)
            eq(l.past_grace, past)
            eq(l.granted_frame, ok_frame)
            eq(l.granted, 120)
        end
        eq(r.late_copy, nil)
        granted_at = sent + backoff + S / 100
        x.on_response(ok(frame + 2, granted_at, "c", cseq))
        ok_frame = frame + 2
        frame = frame + 10
        cseq = cseq + 1
    end
    eq(t.bindings[1].lapses, 3)
    eq(t.bindings[1].late, 0)
    eq(t.bindings[1].retransmissions, 5)
    eq(#x.retransmission(PRIMARY, 5, 999, T0), 0)
    eq(#x.retransmission(PRIMARY, 10000, 999, T0, false), 0)
end

local function kinds(fs)
    local out = {}
    for _, f in ipairs(fs) do out[#out + 1] = f.kind .. (f.caused_by and "@" .. f.caused_by or "") end
    return table.concat(out, ",")
end

function T.lapse_past_grace_causes_the_failover_and_fallback()
    local x = fixture()
    local t = x.t
    x.on_request(reg(1, T0, PRIMARY, "c", 1))
    x.on_response(ok(2, T0, "c", 1))
    eq(kinds(t:findings(1, 0)), "")
    local granted_at = T0
    local frame, cseq = 10, 2
    local records = {}
    for _, backoff in ipairs({ S / 5, S * 17 / 10, S * 67 / 10 }) do
        local sent = granted_at + 115 * S
        records[#records + 1] = x.on_request(reg(frame, sent, PRIMARY, "c", cseq))
        x.retransmission(PRIMARY, frame * 1000, frame + 1, sent + backoff)
        granted_at = sent + backoff + S / 100
        x.on_response(ok(frame + 2, granted_at, "c", cseq))
        frame = frame + 10
        cseq = cseq + 1
    end
    eq(kinds(t:findings(records[1], 1)), "register_retransmitted")
    eq(kinds(t:findings(records[2], 1)), "register_retransmitted")
    eq(kinds(t:findings(records[3], 1)), "register_retransmitted,register_within_grace")
    eq(t.records[records[3]].retransmitted_in_row, 3)
    eq(t.records[records[3]].row_first_frame, 10)
    local sent = granted_at + 115 * S
    local lapsed = x.on_request(reg(40, sent, PRIMARY, "c", cseq))
    eq(kinds(t:findings(lapsed, 0)), "")
    x.retransmission(PRIMARY, 40000, 41, sent + 28 * S)
    x.retransmission(PRIMARY, 40000, 42, sent + 56 * S)
    eq(kinds(t:findings(lapsed, 1)), "register_retransmitted,registration_lapsed")
    eq(kinds(t:findings(lapsed, 2)), "register_retransmitted@41")
    eq(t.records[lapsed].retransmitted_in_row, 4)
    eq(t.records[lapsed].lapse.frame, 41)
    local fail = x.on_request(reg(50, sent + 60 * S, SECONDARY, "b", 10))
    eq(kinds(t:findings(fail, 0)), "registrar_switch@41")
    eq(t.records[fail].registrar_switch.fallback, false)
    x.on_response(ok(51, sent + 60 * S, "b", 10, 120, 200, SECONDARY))
    local back = x.on_request(reg(60, sent + 180 * S, PRIMARY, "c2", 11))
    eq(kinds(t:findings(back, 0)), "registrar_switch@41")
    eq(t.records[back].registrar_switch.fallback, true)
    x.on_response(ok(61, sent + 180 * S, "c2", 11))
    local moved = x.on_request(reg(70, sent + 400 * S, SECONDARY, "b", 12))
    eq(kinds(t:findings(moved, 0)), "registrar_switch")
end

local PHONE_EP, PRIMARY_EP = "10.10.10.130:49612", "10.10.10.202:2000"

function T.sccp_pairs_acks_and_predicts_failover()
    local t = K.sccp({})
    local learned = {}
    t:on_register_ack(0, "10.10.10.130", 30, 60)
    local k1 = t:on_keepalive(0, PHONE_EP, PRIMARY_EP, 11, T0 + 30 * S, 13, learned)
    assert(k1)
    eq(t:on_ack(0, 12, T0 + 30 * S + S / 1000), k1)
    t:on_tcp_ack(0, 13, 12, T0 + 30 * S + S / 1000)
    eq(t.keepalives[k1].role, "primary")
    eq(t.keepalives[k1].ack_delay, S / 1000)
    eq(t.keepalives[k1].tcp_ack_frame, 12)
    local lost = {}
    for n = 2, 4 do
        local k = t:on_keepalive(0, PHONE_EP, PRIMARY_EP, 10 * n, T0 + 30 * n * S, 13 * n, learned)
        eq(t.keepalives[k].interval, 30 * S)
        lost[#lost + 1] = k
    end
    eq(#learned, 2)
    t:on_time(45, T0 + 150 * S, learned)
    eq(#learned, 2)
    t:on_time(46, T0 + 150 * S + 1, learned)
    eq(#learned, 3)
    for i = 1, 3 do
        local k = t.keepalives[lost[i]]
        eq(learned[i], lost[i])
        eq(k.unacked, true)
        eq(k.missed_in_row, i)
        eq(k.failover_expected, i == 3)
    end
    eq(t.keepalives[lost[3]].learned_frame, 46)
    eq(t.connections[1].unacked, 3)
    eq(t.connections[1].failovers, 1)
end

function T.sccp_the_first_of_a_row_is_the_cause()
    local t = K.sccp({})
    local learned = {}
    t:on_register_ack(0, "10.10.10.130", 30, 60)
    local answered = t:on_keepalive(0, PHONE_EP, PRIMARY_EP, 11, T0, 1, learned)
    t:on_ack(0, 12, T0 + S / 100)
    eq(kinds(K.sccp_findings(t.keepalives[answered])), "")
    local lost = {}
    for n = 1, 3 do lost[n] = t:on_keepalive(0, PHONE_EP, PRIMARY_EP, 20 + n, T0 + 30 * n * S, 2 + n, learned) end
    t:on_time(30, T0 + 121 * S, learned)
    eq(kinds(K.sccp_findings(t.keepalives[lost[1]])), "sccp_keepalive_unacked")
    eq(kinds(K.sccp_findings(t.keepalives[lost[2]])), "sccp_keepalive_unacked_again@21")
    eq(kinds(K.sccp_findings(t.keepalives[lost[3]])), "sccp_keepalive_unacked_again@21,sccp_failover_expected@21")
    eq(t.keepalives[lost[2]].previous_frame, 21)
    t:on_keepalive(0, PHONE_EP, PRIMARY_EP, 40, T0 + 130 * S, 10, learned)
    t:on_ack(0, 41, T0 + 130 * S)
    local again = t:on_keepalive(0, PHONE_EP, PRIMARY_EP, 50, T0 + 160 * S, 11, learned)
    t:on_time(51, T0 + 191 * S, learned)
    eq(kinds(K.sccp_findings(t.keepalives[again])), "sccp_keepalive_unacked")
end

function T.crlf_ping_pong_and_missing_pong()
    local UA, EDGE = "192.0.2.10:5070", "198.51.100.1:5060"
    local t = K.crlf({})
    local learned = {}
    t:on_sip(3)
    t:on_flow_timer(3, 30)
    eq(t:known(3), true)
    local p1 = t:on_ping(3, UA, EDGE, 8, T0 + 25 * S, learned)
    eq(t.pings[p1].flow_timer, 30)
    eq(t:on_pong(3, UA, 9, T0 + 25 * S), nil)
    eq(t:on_pong(3, EDGE, 10, T0 + 25 * S + S / 100), p1)
    eq(t.pings[p1].pong_frame, 10)
    eq(t.pings[p1].pong_delay, S / 100)
    local p2 = t:on_ping(3, UA, EDGE, 16, T0 + 50 * S, learned)
    t:on_traffic(3, EDGE)
    t:on_time(17, T0 + 59 * S, learned)
    eq(#learned, 0)
    t:on_time(18, T0 + 60 * S + 1, learned)
    eq(#learned, 1)
    eq(learned[1], p2)
    eq(t.pings[p2].missing, true)
    eq(t.pings[p2].learned_frame, 18)
    eq(t:on_pong(3, EDGE, 19, T0 + 61 * S), nil)
    local p3 = t:on_ping(3, UA, EDGE, 20, T0 + 90 * S, learned)
    eq(t.pings[p3].interval, 40 * S)
    eq(t.pings[p3].late, true)
    eq(t.connections[1].missing, 1)
    eq(t.connections[1].late, 1)
    eq(t.connections[1].pings, 3)
    eq(t.connections[1].pongs, 1)
end

return T
