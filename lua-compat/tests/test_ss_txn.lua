-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of ss_txn.lualib: the C++ tests/unit/test_sip_transaction.cc cases, value for value (UDP
-- back-off, a proxy's forward as a new transaction, a reflected REGISTER, response retransmissions and
-- forks past 16, TCP retransmissions mapped to their own direction, TCP duplicates, sequence wrap,
-- CANCEL and ACK rules, RFC 2543 fallback, sent-by, lingering, the full table, 10,000 transactions
-- bounded with the work counted).
local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local txn = require("ss_txn")
local F = require("fixture_sip")
local sip, flow, reversed, eq, ref = F.sip, F.flow, F.reversed, F.eq, F.ref
local S, MS = txn.SECOND, txn.MILLI

local PHONE, PROXY, REGISTRAR = "10.0.0.10", "10.0.0.1", "10.0.0.2"

local function register_from_phone(transport, cseq)
    transport = transport or "UDP"
    cseq = cseq or 1
    return "REGISTER sip:example.com SIP/2.0\n" ..
        "Via: SIP/2.0/" .. transport .. " 10.0.0.10:5060;branch=z9hG4bKphone" .. cseq .. "\n" ..
        "From: <sip:100@example.com>;tag=ph1\n" ..
        "To: <sip:100@example.com>\n" ..
        "Call-ID: reg-1@10.0.0.10\n" ..
        "CSeq: " .. cseq .. " REGISTER\n" ..
        "Contact: <sip:100@10.0.0.10:5060>\n" ..
        "Content-Length: 0\n"
end

local function ok_to_phone(cseq, transport)
    transport = transport or "UDP"
    cseq = cseq or 1
    return "SIP/2.0 200 OK\n" ..
        "Via: SIP/2.0/" .. transport .. " 10.0.0.10:5060;branch=z9hG4bKphone" .. cseq .. "\n" ..
        "From: <sip:100@example.com>;tag=ph1\n" ..
        "To: <sip:100@example.com>;tag=reg9\n" ..
        "Call-ID: reg-1@10.0.0.10\n" ..
        "CSeq: " .. cseq .. " REGISTER\n" ..
        "Content-Length: 0\n"
end

local T = {}

T.udp_retransmission_with_backoff = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local t0 = 1000 * S
    local at = { t0, t0 + 500 * MS, t0 + 1500 * MS, t0 + 3500 * MS }
    for i = 1, 4 do
        local v = layer:on_message(sip(register_from_phone(), i, at[i], up))
        eq(v.id, 1, "id")
        eq(v.created, i == 1, "created")
        eq(v.retransmission, i > 1, "retransmission")
        eq(v.reflected, false, "reflected")
        eq(v.copy, i, "copy")
        eq(v.previous_time, i == 1 and 0 or at[i - 1], "previous_time")
        ref(v.first, 1, 0, t0, "first")
        ref(v.request, 1, 0, t0, "request")
        eq(v.response, false)
    end
    local ok = layer:on_message(sip(ok_to_phone(), 5, t0 + 3600 * MS, reversed(up)))
    eq(ok.id, 1)
    eq(ok.response, true)
    eq(ok.first_final, true)
    eq(ok.retransmission, false)
    ref(ok.request, 1, 0, t0)
    eq(ok.final_status, 200)
    local t = layer:find(1)
    eq(t.method, "REGISTER")
    eq(t.request_copies, 4)
    ref(t.last_request, 4, 0, at[4])
    ref(t.final_response, 5, 0, t0 + 3600 * MS)
    eq(t.final_status, 200)
    local late = layer:on_message(sip(register_from_phone(), 6, t0 + 3700 * MS, up))
    eq(late.retransmission, true)
    eq(late.copy, 5)
    ref(late.final_response, 5, 0, t0 + 3600 * MS)
end

T.proxy_forward_tcp_to_udp_is_a_new_transaction = function()
    local layer = txn.new()
    local phone_tcp = flow("tcp", 4, PHONE, 5060, PROXY, 5060)
    local proxy_udp = flow("udp", 9, PROXY, 5060, REGISTRAR, 5060)
    local t0 = 10 * S
    local forwarded = "REGISTER sip:example.com SIP/2.0\n" ..
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxyA\n" ..
        "Via: SIP/2.0/TCP 10.0.0.10:5060;branch=z9hG4bKphone1;received=10.0.0.10\n" ..
        "From: <sip:100@example.com>;tag=ph1\nTo: <sip:100@example.com>\n" ..
        "Call-ID: reg-1@10.0.0.10\nCSeq: 1 REGISTER\nContent-Length: 0\n"
    local a = layer:on_message(sip(register_from_phone("TCP"), 1, t0, phone_tcp, 1000))
    local b = layer:on_message(sip(forwarded, 2, t0 + 2 * MS, proxy_udp))
    eq(a.id, 1)
    eq(b.id, 2)
    eq(b.created, true)
    eq(b.retransmission, false)
    eq(b.reflected, false)
    eq(b.copy, 1)
    local ok_to_proxy = "SIP/2.0 200 OK\n" ..
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxyA\n" ..
        "Via: SIP/2.0/TCP 10.0.0.10:5060;branch=z9hG4bKphone1;received=10.0.0.10\n" ..
        "From: <sip:100@example.com>;tag=ph1\nTo: <sip:100@example.com>;tag=reg9\n" ..
        "Call-ID: reg-1@10.0.0.10\nCSeq: 1 REGISTER\nContent-Length: 0\n"
    local c = layer:on_message(sip(ok_to_proxy, 3, t0 + 5 * MS, reversed(proxy_udp)))
    local d = layer:on_message(sip(ok_to_phone(1, "TCP"), 4, t0 + 6 * MS, reversed(phone_tcp), 7000))
    eq(c.id, 2)
    ref(c.request, 2, 0, t0 + 2 * MS)
    eq(d.id, 1)
    ref(d.request, 1, 0, t0)
    eq(c.first_final and d.first_final, true)
    eq(c.retransmission or d.retransmission, false)
    eq(layer:size(), 2)
end

T.reflected_register_is_no_retransmission = function()
    local layer = txn.new()
    local up = flow("udp", 2, PHONE, 5060, PROXY, 5060)
    local t0 = 50 * S
    eq(layer:on_message(sip(register_from_phone(), 1, t0, up)).copy, 1)
    local r = layer:on_message(sip(register_from_phone(), 2, t0 + 100000, reversed(up)))
    eq(r.id, 1)
    eq(r.retransmission, false)
    eq(r.reflected, true)
    eq(r.copy, 1)
    ref(r.first, 1, 0, t0)
    local again = layer:on_message(sip(register_from_phone(), 3, t0 + 500 * MS, up))
    eq(again.retransmission, true)
    eq(again.reflected, false)
    eq(again.copy, 2)
    eq(again.previous_time, t0)
    eq(layer:find(1).request_copies, 2)
end

local INVITE7 = "INVITE sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n" ..
    "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: call-7\nCSeq: 1 INVITE\n"

T.response_retransmission_and_forked_responses = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local invite = "INVITE sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv1\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: call-1\nCSeq: 1 INVITE\n"
    local function response(status, tag)
        return "SIP/2.0 " .. status .. " X\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv1\n" ..
            "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=" .. tag ..
            "\nCall-ID: call-1\nCSeq: 1 INVITE\n"
    end
    layer:on_message(sip(invite, 1, 0, up))
    local r1 = layer:on_message(sip(response(180, "b1"), 2, 1 * S, reversed(up)))
    local r2 = layer:on_message(sip(response(180, "b2"), 3, 2 * S, reversed(up)))
    local ok = layer:on_message(sip(response(200, "b2"), 4, 3 * S, reversed(up)))
    local ok2 = layer:on_message(sip(response(200, "b2"), 5, 3500 * MS, reversed(up)))
    local ok3 = layer:on_message(sip(response(200, "b2"), 6, 4500 * MS, reversed(up)))
    eq(r1.retransmission, false)
    eq(r2.retransmission, false)
    eq(r1.first_final or r2.first_final, false)
    eq(ok.first_final, true)
    eq(ok.retransmission, false)
    eq(ok2.retransmission, true)
    eq(ok2.first_final, false)
    eq(ok2.copy, 2)
    eq(ok2.previous_time, 3 * S)
    ref(ok2.first, 4, 0, 3 * S)
    eq(ok3.copy, 3)
    eq(ok3.previous_time, 3500 * MS)
    for _, v in ipairs({ r1, r2, ok, ok2, ok3 }) do
        eq(v.id, 1)
        ref(v.request, 1, 0, 0)
    end
    local t = layer:find(1)
    ref(t.first_response, 2, 0, 1 * S)
    ref(t.final_response, 4, 0, 3 * S)
end

T.many_forked_responses_each_count_their_copies = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local function response(status, fork)
        return "SIP/2.0 " .. status .. " X\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n" ..
            "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=f" .. fork ..
            "\nCall-ID: call-7\nCSeq: 1 INVITE\n"
    end
    layer:on_message(sip(INVITE7, 1, 0, up))
    local frame = 2
    for fork = 1, 17 do
        local v = layer:on_message(sip(response(180, fork), frame, frame * MS, reversed(up)))
        eq(v.retransmission, false)
        ref(v.first, frame, 0, frame * MS)
        frame = frame + 1
    end
    for fork = 1, 17 do
        local v = layer:on_message(sip(response(180, fork), frame, frame * MS, reversed(up)))
        local first = 1 + fork
        if fork <= 16 then
            eq(v.retransmission, true)
            eq(v.copy, 2)
            eq(v.previous_time, first * MS)
            ref(v.first, first, 0, first * MS)
        else
            eq(v.retransmission, false)
            ref(v.first, frame, 0, frame * MS)
        end
        eq(v.id, 1)
        frame = frame + 1
    end
    local ok = layer:on_message(sip(response(200, 6), frame, frame * MS, reversed(up)))
    eq(ok.first_final, true)
    eq(ok.retransmission, false)
    local ok2 = layer:on_message(sip(response(200, 6), frame + 1, (frame + 1) * MS, reversed(up)))
    eq(ok2.retransmission, false)
end

local function tcp_frame(number, time, stream, src, sport, dst, dport, seq, len)
    return { number = number, time = time, flow = flow("tcp", stream, src, sport, dst, dport),
             tcp = { seq = seq, len = len, retransmission = true } }
end

T.tcp_retransmissions_map_to_their_own_direction = function()
    local layer = txn.new()
    local up = flow("tcp", 7, PHONE, 5060, PROXY, 5060)
    local reg = sip(register_from_phone("TCP"), 1, 0, up, 1000)
    local ok = sip(ok_to_phone(1, "TCP"), 2, 10 * MS, reversed(up), 1200)
    eq(layer:on_message(reg).id, 1)
    eq(layer:on_message(ok).id, 1)
    eq(layer:tcp_ranges(), 2)
    local again = tcp_frame(3, 300 * MS, 7, PROXY, 5060, PHONE, 5060, 1200, ok.seq_end - ok.seq_begin)
    local hits = layer:on_tcp_retransmission(again)
    eq(#hits, 1)
    eq(hits[1].frame, 2)  -- the 200 OK, never the REGISTER
    eq(hits[1].id, 1)
    eq(hits[1].index, 0)
    local reg_again = tcp_frame(4, 300 * MS, 7, PHONE, 5060, PROXY, 5060, 1000, reg.seq_end - reg.seq_begin)
    hits = layer:on_tcp_retransmission(reg_again)
    eq(#hits, 1)
    eq(hits[1].frame, 1)
    reg_again.flow.stream = 8
    eq(#layer:on_tcp_retransmission(reg_again), 0)
    again.tcp.seq = ok.seq_end
    eq(#layer:on_tcp_retransmission(again), 0)
    again.tcp = nil
    eq(#layer:on_tcp_retransmission(again), 0)
end

T.tcp_copy_dissected_again_is_a_tcp_duplicate = function()
    local layer = txn.new()
    local up = flow("tcp", 1, PHONE, 5060, PROXY, 5060)
    layer:on_message(sip(register_from_phone("TCP"), 1, 0, up, 5000))
    local v = layer:on_message(sip(register_from_phone("TCP"), 2, 200 * MS, up, 5000))
    eq(v.retransmission, true)
    eq(v.tcp_duplicate, true)
    local w = layer:on_message(sip(register_from_phone("TCP"), 3, 500 * MS, up, 5600))
    eq(w.retransmission, true)
    eq(w.tcp_duplicate, false)
end

T.sequence_numbers_wrap = function()
    local layer = txn.new()
    local up = flow("tcp", 1, PHONE, 5060, PROXY, 5060)
    local reg = sip(register_from_phone("TCP"), 1, 0, up, 0xFFFFFFF0)
    -- ss_frame gives seq_end modulo 2^32 or not: both must work
    layer:on_message(reg)
    local f = tcp_frame(2, 0, 1, PHONE, 5060, PROXY, 5060, 0x10, 10)
    eq(#layer:on_tcp_retransmission(f), 1)
    local layer2 = txn.new()
    reg.seq_end = reg.seq_end % 4294967296
    layer2:on_message(reg)
    eq(#layer2:on_tcp_retransmission(f), 1)
    -- and a segment before the message: nothing
    f.tcp.seq = 0xFFFFFF00
    f.tcp.len = 0x10
    eq(#layer2:on_tcp_retransmission(f), 0)
end

T.cancel_is_its_own_transaction_linked_to_the_invite = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local cancel = "CANCEL sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: call-7\nCSeq: 1 CANCEL\n"
    local cancel_ok = "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=proxy55\nCall-ID: call-7\nCSeq: 1 CANCEL\n"
    local terminated = "SIP/2.0 487 Request Terminated\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 INVITE\n"
    local ack = "ACK sip:200@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 ACK\n"
    eq(layer:on_message(sip(INVITE7, 1, 0, up)).id, 1)
    local c = layer:on_message(sip(cancel, 2, 2 * S, up))
    eq(c.id, 2)
    eq(c.created, true)
    eq(c.retransmission, false)
    eq(c.cancels, 1)
    local cok = layer:on_message(sip(cancel_ok, 3, 2010 * MS, reversed(up)))
    eq(cok.id, 2)
    eq(cok.first_final, true)
    eq(cok.cancels, 1)
    ref(cok.request, 2, 0, 2 * S)
    local t487 = layer:on_message(sip(terminated, 4, 2020 * MS, reversed(up)))
    eq(t487.id, 1)
    eq(t487.first_final, true)
    local a = layer:on_message(sip(ack, 5, 2030 * MS, up))
    eq(a.id, 1)
    eq(a.ack_of_non2xx, true)
    eq(a.retransmission, false)
    ref(a.request, 1, 0, 0)
    eq(a.final_status, 487)
    local a2 = layer:on_message(sip(ack, 6, 2530 * MS, up))
    eq(a2.retransmission, true)
    eq(a2.copy, 2)
    eq(a2.previous_time, 2030 * MS)
    ref(a2.first, 5, 0, 2030 * MS)
    local inv = layer:find(1)
    eq(inv.cancelled_by, 2)
    ref(inv.ack, 5, 0, 2030 * MS)
    eq(inv.request_copies, 1)
    eq(layer:find(2).cancels, 1)
    eq(layer:find(2).method, "CANCEL")
    eq(layer:size(), 2)
end

T.ack_to_a_2xx_is_its_own_transaction = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local ok = "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKinv7\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 INVITE\n"
    local ack = "ACK sip:200@10.0.0.20 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKack99\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=uas1\nCall-ID: call-7\nCSeq: 1 ACK\n"
    layer:on_message(sip(INVITE7, 1, 0, up))
    layer:on_message(sip(ok, 2, S, reversed(up)))
    local a = layer:on_message(sip(ack, 3, 1100 * MS, up))
    eq(a.id, 2)
    eq(a.created, true)
    eq(a.ack_of_non2xx, false)
    eq(layer:find(2).method, "ACK")
    eq(txn.known(layer:find(1).ack), false)
    local a2 = layer:on_message(sip(ack, 4, 1600 * MS, up))
    eq(a2.id, 2)
    eq(a2.retransmission, true)
end

T.rfc2543_fallback = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local function req(uri, cseq)
        return "INVITE " .. uri .. " SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.10:5060\n" ..
            "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>\nCall-ID: old-1\nCSeq: " ..
            (cseq or 4) .. " INVITE\n"
    end
    local resp = "SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP 10.0.0.10:5060\n" ..
        "From: <sip:100@example.com>;tag=a1\nTo: <sip:200@example.com>;tag=b\nCall-ID: old-1\nCSeq: 4 INVITE\n"
    local a = layer:on_message(sip(req("sip:200@example.com"), 1, 0, up))
    local b = layer:on_message(sip(req("sip:200@example.com"), 2, 500 * MS, up))
    local r = layer:on_message(sip(resp, 3, 600 * MS, reversed(up)))
    eq(a.id, 1)
    eq(b.id, 1)
    eq(b.retransmission, true)
    eq(r.id, 1)
    eq(layer:find(1).rfc3261, false)
    local c = layer:on_message(sip(req("sip:300@example.com"), 4, 700 * MS, up))
    eq(c.id, 2)
    eq(c.retransmission, false)
    eq(layer:on_message(sip(req("sip:200@example.com", 5), 5, 800 * MS, up)).id, 3)
end

T.same_branch_other_sent_by_or_method_is_another_transaction = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local a = register_from_phone()
    local b = a:gsub("10%.0%.0%.10:5060;", "10.0.0.11:5060;", 1)
    local c = a:gsub("REGISTER sip", "OPTIONS sip", 1):gsub("1 REGISTER", "1 OPTIONS", 1)
    eq(layer:on_message(sip(a, 1, 0, up)).id, 1)
    eq(layer:on_message(sip(b, 2, 1, up)).id, 2)
    eq(layer:on_message(sip(c, 3, 2, up)).id, 3)
end

T.response_with_rewritten_sent_by_matches_its_request = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local down = flow("udp", 0, PROXY, 5060, PHONE, 5060)
    local ok = ok_to_phone():gsub("10%.0%.0%.10:5060;", "10.0.0.10:5860;", 1)
    local rq = layer:on_message(sip(register_from_phone(), 1, 0, up))
    local rsp = layer:on_message(sip(ok, 2, 20 * MS, down))
    eq(rsp.id, rq.id)
    eq(rsp.created, false)
    eq(rsp.request.frame, 1)
    eq(layer:size(), 1)
end

T.messages_without_via_or_cseq_have_no_transaction = function()
    local layer = txn.new()
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    local v = layer:on_message(sip("OPTIONS sip:x SIP/2.0\nCall-ID: z\n", 1, 0, up))
    eq(v.id, 0)
    eq(v.full, false)
    eq(layer:size(), 0)
end

T.response_without_captured_request = function()
    local layer = txn.new()
    local down = flow("udp", 0, PROXY, 5060, PHONE, 5060)
    local a = layer:on_message(sip(ok_to_phone(), 1, 0, down))
    local b = layer:on_message(sip(ok_to_phone(), 2, 500 * MS, down))
    eq(a.id, 1)
    eq(a.created, true)
    eq(txn.known(a.request), false)
    eq(a.request_seen, false)
    eq(b.retransmission, true)
    local r = layer:on_message(sip(register_from_phone(), 3, 600 * MS, reversed(down)))
    eq(r.id, 1)
    eq(r.retransmission, false)
    eq(layer:find(1).request_seen, true)
end

T.forgotten_after_linger = function()
    local layer = txn.new({ linger = 32 * S, pending_linger = 180 * S })
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    layer:on_message(sip(register_from_phone(), 1, 0, up))
    layer:on_message(sip(ok_to_phone(), 2, S, reversed(up)))
    eq(layer:on_message(sip(register_from_phone(), 3, 32900 * MS, up)).retransmission, true)
    local v = layer:on_message(sip(register_from_phone(), 4, 65 * S, up))
    eq(v.id, 2)
    eq(v.created, true)
    eq(layer:find(1), nil)
    eq(layer:on_message(sip(register_from_phone("UDP", 2), 5, 100 * S, up)).id, 3)
    eq(layer:on_message(sip(register_from_phone("UDP", 2), 6, 279 * S, up)).id, 3)
    eq(layer:on_message(sip(register_from_phone("UDP", 2), 7, 460 * S, up)).id, 4)
end

T.table_full_tracks_nothing_new_and_says_so = function()
    local layer = txn.new({ max_transactions = 3 })
    local up = flow("udp", 0, PHONE, 5060, PROXY, 5060)
    for i = 1, 3 do eq(layer:on_message(sip(register_from_phone("UDP", i), i, i, up)).id, i) end
    local v = layer:on_message(sip(register_from_phone("UDP", 4), 4, 4, up))
    eq(v.id, 0)
    eq(v.full, true)
    eq(layer:overflowed(), true)
    eq(layer:on_message(sip(register_from_phone("UDP", 2), 5, 5, up)).id, 2)
    eq(layer:size(), 3)
end

T.ten_thousand_transactions_stay_bounded = function()
    local layer = txn.new()
    local up = flow("tcp", 0, PHONE, 5060, PROXY, 5060)
    local max_size, max_ranges = 0, 0
    local frame, seq = 0, 0
    for i = 1, 10000 do
        local t = i * 100 * MS
        frame = frame + 1
        local reg = sip(register_from_phone("TCP", i), frame, t, up, seq)
        seq = reg.seq_end
        local a = layer:on_message(reg)
        frame = frame + 1
        local b = layer:on_message(sip(ok_to_phone(i, "TCP"), frame, t + MS, reversed(up), seq))
        if a.id ~= i or b.id ~= i then error("transaction " .. i .. ": ids " .. a.id .. ", " .. b.id) end
        if layer:size() > max_size then max_size = layer:size() end
        if layer:tcp_ranges() > max_ranges then max_ranges = layer:tcp_ranges() end
    end
    eq(max_size, 320, "max transactions remembered")
    eq(max_ranges, 640, "max TCP ranges")
    if layer:work_done() > 4 * 20000 or layer:work_done() < 20000 then
        error("work " .. layer:work_done())
    end
end

T.tcp_ranges_bounded_oldest_dropped_first = function()
    local layer = txn.new({ max_tcp_ranges = 2 })
    local up = flow("tcp", 3, PHONE, 5060, PROXY, 5060)
    local r1 = sip(register_from_phone("TCP", 1), 1, 0, up, 100)
    local r2 = sip(register_from_phone("TCP", 2), 2, MS, up, r1.seq_end)
    local r3 = sip(register_from_phone("TCP", 3), 3, 2 * MS, up, r2.seq_end)
    layer:on_message(r1)
    layer:on_message(r2)
    layer:on_message(r3)
    eq(layer:tcp_ranges(), 2)
    -- the first message's bytes are forgotten, the later two are found
    eq(#layer:on_tcp_retransmission(tcp_frame(4, 3 * MS, 3, PHONE, 5060, PROXY, 5060, 100, r1.seq_end - 100)), 0)
    local hits = layer:on_tcp_retransmission(tcp_frame(5, 3 * MS, 3, PHONE, 5060, PROXY, 5060, 100, r3.seq_end - 100))
    eq(#hits, 2)
    eq(hits[1].frame, 2)
    eq(hits[2].frame, 3)
end

return T
