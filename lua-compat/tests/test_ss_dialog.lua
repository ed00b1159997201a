-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of ss_dialog.lualib, fed through ss_txn as the analyzers do: the C++
-- tests/unit/test_sip_dialog.cc cases value for value (a CANCEL answered with the proxy's own To tag, a
-- genuine fork, a B2BUA changing its To tag, BYE/481/non-2xx/Subscription-State termination, a NOTIFY
-- with a corrupt To tag and its healthy twins, the bounds, 10,000 calls forgotten with bounded work),
-- and run_layers on frame tables.
local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local txn = require("ss_txn")
local dialog = require("ss_dialog")
local F = require("fixture_sip")
local eq = F.eq
local S, MS = txn.SECOND, txn.MILLI

local UP = F.flow("udp", 0, "10.0.0.10", 5060, "10.0.0.1", 5060)
local DOWN = F.reversed(UP)

local function layers(limits)
    local l = { txn = txn.new(), dialogs = dialog.new(limits), frame = 0, time = 0 }
    function l.feed(text, f)
        l.frame = l.frame + 1
        l.time = l.time + 10 * MS
        local m = F.sip(text, l.frame, l.time, f)
        local t = l.txn:on_message(m)
        return l.dialogs:on_message(m, t), t
    end
    return l
end

local function msg(start, cseq, to_tag, extra, branch)
    return start .. "\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=" .. (branch or "z9hG4bKinv1") ..
        "\nFrom: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>" ..
        ((to_tag or "") == "" and "" or ";tag=" .. to_tag) .. "\nCall-ID: c1\nCSeq: " .. cseq .. "\n" .. (extra or "")
end

local INVITE = "INVITE sip:bob@example.com SIP/2.0"

local T = {}

T.cancel_answered_with_proxy_to_tag_creates_nothing = function()
    local l = layers()
    local v, inv = l.feed(msg(INVITE, "1 INVITE", ""), UP)
    eq(v.id, 0)
    eq(l.feed(msg("SIP/2.0 100 Trying", "1 INVITE", ""), DOWN).id, 0)
    local ringing = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "uas1", "Contact: <sip:bob@10.0.0.21>\n"), DOWN)
    eq(ringing.id, 1)
    eq(ringing.created, true)
    eq(ringing.confirmed, false)
    eq(ringing.fork, 1)
    eq(ringing.forks, 1)
    eq(ringing.origin, inv.id)
    eq(l.feed(msg("CANCEL sip:bob@example.com SIP/2.0", "1 CANCEL", ""), UP).id, 0)
    local cancel_ok = l.feed(msg("SIP/2.0 200 OK", "1 CANCEL", "proxy55"), DOWN)
    eq(cancel_ok.id, 0)
    eq(cancel_ok.created, false)
    eq(cancel_ok.unmatched, false)
    eq(l.dialogs:size(), 1)
    local terminated = l.feed(msg("SIP/2.0 487 Request Terminated", "1 INVITE", "uas1"), DOWN)
    eq(terminated.id, 1)
    eq(terminated.terminated, true)
    local forks = l.dialogs:forks(inv.id)
    eq(#forks, 1)
    eq(forks[1].uas_tag, "uas1")
    eq(forks[1].state, "terminated")
    eq(forks[1].terminated.frame, 6)
    eq(forks[1].created.message.frame, 3)
    eq(forks[1].created.contact, "sip:bob@10.0.0.21")
    eq(forks[1].request.frame, 1)
end

T.genuine_fork_has_two_endpoints = function()
    local l = layers()
    local _, inv = l.feed(msg(INVITE, "1 INVITE", ""), UP)
    local rr = "Record-Route: <sip:10.0.0.1;lr>\n"
    local a = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "ta", rr .. "Contact: <sip:bob@10.0.0.21>\n"), DOWN)
    local b = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "tb", rr .. "Contact: <sip:bob@10.0.0.22>\n"), DOWN)
    eq(a.created and b.created, true)
    eq(a.id, 1)
    eq(b.id, 2)
    eq(b.fork, 2)
    eq(b.forks, 2)
    local ok = l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "tb", rr .. "Contact: <sip:bob@10.0.0.22>\n"), DOWN)
    eq(ok.id, 2)
    eq(ok.created, false)
    eq(ok.confirmed, true)
    eq(ok.fork, 2)
    eq(ok.forks, 2)
    local forks = l.dialogs:forks(inv.id)
    eq(#forks, 2)
    eq(forks[1].state, "early")
    eq(forks[2].state, "confirmed")
    eq(forks[2].confirmed.frame, 4)
    eq(#forks[1].created.record_route, 1)
    eq(forks[1].created.record_route[1], "sip:10.0.0.1;lr")
    eq(forks[1].created.via_count, 1)
    eq(forks[1].created.via_host, "10.0.0.10")
    eq(forks[1].created.via_port, 5060)
    eq(dialog.distinct_endpoints(forks[1], forks[2]), true)
end

local function with_created(d, changes)
    local c = {}
    for k, v in pairs(d.created) do c[k] = v end
    for k, v in pairs(changes) do c[k] = v end
    return { created = c }
end

T.b2bua_changing_its_to_tag_is_one_endpoint = function()
    local l = layers()
    local _, inv = l.feed(msg(INVITE, "1 INVITE", ""), UP)
    local contact = "Contact: <sip:b2bua@10.0.0.5:5060>\n"
    local early = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "x1", contact), DOWN)
    local ok = l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "y2", contact), DOWN)
    eq(early.created, true)
    eq(ok.created, true)
    eq(ok.confirmed, true)
    eq(ok.fork, 2)
    local forks = l.dialogs:forks(inv.id)
    eq(#forks, 2)
    eq(dialog.distinct_endpoints(forks[1], forks[2]), false)
    eq(dialog.distinct_endpoints(forks[1], with_created(forks[2], { contact = "sip:b2bua@10.0.0.6:5060" })), true)
    local other = with_created(forks[2], { contact = "SIP:B2BUA@10.0.0.5:5060" })
    eq(dialog.distinct_endpoints(forks[1], other), false)
    other.created.record_route = { "sip:p2;lr" }
    eq(dialog.distinct_endpoints(forks[1], other), true)
    eq(dialog.distinct_endpoints(forks[1], with_created(forks[2], { contact = "" })), false)
end

T.bye_ends_the_dialog_and_in_dialog_messages_match_both_ways = function()
    local l = layers()
    l.feed(msg(INVITE, "1 INVITE", ""), UP)
    l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "b1", "Contact: <sip:bob@10.0.0.21>\n"), DOWN)
    eq(l.feed(msg("ACK sip:bob@10.0.0.21 SIP/2.0", "1 ACK", "b1", "", "z9hG4bKack"), UP).id, 1)
    local re = l.feed(msg("SIP/2.0 200 OK", "2 INVITE", "b1", "", "z9hG4bKre"), DOWN)
    eq(re.id, 1)
    eq(re.created or re.confirmed or re.terminated, false)
    local bye = "BYE sip:alice@10.0.0.10 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.21:5060;branch=z9hG4bKbye\n" ..
        "From: <sip:bob@example.com>;tag=b1\nTo: <sip:alice@example.com>;tag=a1\nCall-ID: c1\nCSeq: 9 BYE\n"
    local b = l.feed(bye, DOWN)
    eq(b.id, 1)
    eq(b.terminated, false)
    local ok = "SIP/2.0 200 OK" .. bye:sub((bye:find("\n", 1, true)))
    local done = l.feed(ok, UP)
    eq(done.id, 1)
    eq(done.terminated, true)
    eq(l.dialogs:find(1).state, "terminated")
    eq(l.dialogs:find(1).terminated.frame, l.frame)
    eq(l.dialogs:find_tags("c1", "a1", "b1"), l.dialogs:find(1))
    eq(l.dialogs:find_tags("c1", "b1", "a1"), l.dialogs:find(1))
    eq(l.dialogs:find_tags("c1", "b1", "zz"), nil)
    eq(l.feed(ok, UP).terminated, false)
end

T.response_481_ends_the_dialog = function()
    local l = layers()
    l.feed(msg(INVITE, "1 INVITE", ""), UP)
    l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "b1"), DOWN)
    l.feed(msg("INFO sip:bob@example.com SIP/2.0", "2 INFO", "b1", "", "z9hG4bKinfo"), UP)
    local v = l.feed(msg("SIP/2.0 481 Call Does Not Exist", "2 INFO", "b1", "", "z9hG4bKinfo"), DOWN)
    eq(v.id, 1)
    eq(v.terminated, true)
end

T.non_success_final_ends_the_early_dialogs = function()
    local l = layers()
    local _, inv = l.feed(msg(INVITE, "1 INVITE", ""), UP)
    l.feed(msg("SIP/2.0 183 Session Progress", "1 INVITE", "ta"), DOWN)
    l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "tb"), DOWN)
    local busy = l.feed(msg("SIP/2.0 486 Busy Here", "1 INVITE", "tc"), DOWN)
    eq(busy.id, 0)
    eq(busy.terminated, true)
    eq(busy.unmatched, false)
    local forks = l.dialogs:forks(inv.id)
    eq(#forks, 2)
    for _, d in ipairs(forks) do
        eq(d.state, "terminated")
        eq(d.terminated.frame, 4)
    end
    eq(l.dialogs:size(), 2)
end

local function subscribe_msg(start, to_tag, extra)
    return start .. "\nVia: SIP/2.0/TCP 10.0.0.10:5060;branch=z9hG4bKsub1\n" ..
        "From: <sip:alice@example.com>;tag=s1\nTo: <sip:bob@example.com>" ..
        ((to_tag or "") == "" and "" or ";tag=" .. to_tag) .. "\nCall-ID: sub-1\nCSeq: 1 SUBSCRIBE\nEvent: dialog\n" ..
        (extra or "")
end

local function notify_msg(from_tag, to_tag, state, cseq)
    state = state or "active;expires=3600"
    cseq = cseq or 1
    return "NOTIFY sip:alice@10.0.0.10 SIP/2.0\nVia: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKn" .. cseq .. from_tag ..
        "\nFrom: <sip:bob@example.com>;tag=" .. from_tag .. "\nTo: <sip:alice@example.com>;tag=" .. to_tag ..
        "\nCall-ID: sub-1\nCSeq: " .. cseq .. " NOTIFY\nEvent: Dialog\nSubscription-State: " .. state ..
        "\nContact: <sip:bob@10.0.0.1>\n"
end

T.notify_with_corrupt_to_tag_matches_nothing = function()
    local l = layers()
    l.feed(subscribe_msg("SUBSCRIBE sip:bob@example.com SIP/2.0", ""), UP)
    local ok = l.feed(subscribe_msg("SIP/2.0 200 OK", "n1"), DOWN)
    eq(ok.created and ok.confirmed, true)
    eq(l.dialogs:find(ok.id).usage, "subscribe")
    eq(l.feed(notify_msg("n1", "s1"), DOWN).id, ok.id)
    local corrupt = l.feed(notify_msg("n1", "s1\255", "active;expires=3600", 2), DOWN)
    eq(corrupt.id, 0)
    eq(corrupt.unmatched, true)
    eq(corrupt.created, false)
    eq(l.dialogs:size(), 1)
    local reply = notify_msg("n1", "s1\255", "active", 2)
    reply = "SIP/2.0 481 Subscription Does Not Exist" .. reply:sub((reply:find("\n", 1, true)))
    local r = l.feed(reply, UP)
    eq(r.id, 0)
    eq(r.unmatched, true)
    eq(l.dialogs:find(ok.id).state, "confirmed")
end

T.notify_before_the_success_response_creates_the_dialog = function()
    local l = layers()
    local _, sub = l.feed(subscribe_msg("SUBSCRIBE sip:bob@example.com SIP/2.0", ""), UP)
    local n = l.feed(notify_msg("n1", "s1"), DOWN)
    eq(n.id, 1)
    eq(n.created and n.confirmed, true)
    eq(n.unmatched, false)
    eq(n.origin, sub.id)
    local d = l.dialogs:find(1)
    eq(d.uac_tag, "s1")
    eq(d.uas_tag, "n1")
    eq(d.created.status, 0)
    eq(d.created.contact, "sip:bob@10.0.0.1")
    local ok = l.feed(subscribe_msg("SIP/2.0 202 Accepted", "n1"), DOWN)
    eq(ok.id, 1)
    eq(ok.created, false)
    local second = l.feed(notify_msg("n2", "s1"), DOWN)
    eq(second.id, 2)
    eq(second.created, true)
    eq(second.fork, 2)
    local presence = notify_msg("n3", "s1"):gsub("Event: Dialog", "Event: presence", 1)
    eq(l.feed(presence, DOWN).unmatched, true)
    local done = l.feed(notify_msg("n1", "s1", "terminated;reason=timeout", 2), DOWN)
    eq(done.id, 1)
    eq(done.terminated, true)
end

T.event_key_type_lower_case_id_as_sent = function()
    eq(dialog._event_key(nil), "")
    eq(dialog._event_key(" Dialog "), "dialog")
    eq(dialog._event_key("Presence;foo=1; ID=Ab7 ;x"), "presence;Ab7")
    eq(dialog._event_key("refer;id=93809824"), "refer;93809824")
end

T.in_dialog_request_without_dialog_is_unmatched = function()
    local l = layers()
    local v = l.feed(msg("BYE sip:bob@example.com SIP/2.0", "5 BYE", "gone", "", "z9hG4bKb"), UP)
    eq(v.id, 0)
    eq(v.unmatched, true)
    local r = l.feed(msg("SIP/2.0 481 Call Does Not Exist", "5 BYE", "gone", "", "z9hG4bKb"), DOWN)
    eq(r.unmatched, true)
    local orphan = l.feed(msg("SIP/2.0 200 OK", "1 INVITE", "b9", "", "z9hG4bKother"), DOWN)
    eq(orphan.created, true)
    eq(orphan.origin, 0)
    eq(orphan.forks, 0)
end

T.bounds_say_full = function()
    local l = layers({ max_dialogs = 2, max_forks = 16 })
    l.feed(msg(INVITE, "1 INVITE", ""), UP)
    eq(l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t1"), DOWN).created, true)
    eq(l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t2"), DOWN).created, true)
    local third = l.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t3"), DOWN)
    eq(third.id, 0)
    eq(third.full, true)
    eq(l.dialogs:overflowed(), true)
    eq(l.dialogs:size(), 2)
    local f = layers({ max_forks = 1 })
    f.feed(msg(INVITE, "1 INVITE", ""), UP)
    eq(f.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t1"), DOWN).created, true)
    eq(f.feed(msg("SIP/2.0 180 Ringing", "1 INVITE", "t2"), DOWN).full, true)
    local o = layers({ max_origins = 1 })
    o.feed(msg(INVITE, "1 INVITE", ""), UP)
    eq(o.feed(msg(INVITE, "1 INVITE", "", "", "z9hG4bKinv2"), UP).full, true)
    eq(o.dialogs:origins(), 1)
end

T.forgotten_after_their_linger_and_work_stays_bounded = function()
    local l = layers()
    local max_dialogs, max_origins = 0, 0
    for i = 0, 9999 do
        local n = tostring(i)
        local function call(start, cseq, to_tag, branch)
            return start .. "\nVia: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bK" .. branch .. n ..
                "\nFrom: <sip:a@x>;tag=a" .. n .. "\nTo: <sip:b@x>" .. (to_tag == "" and "" or ";tag=" .. to_tag) ..
                "\nCall-ID: call" .. n .. "\nCSeq: " .. cseq .. "\n"
        end
        l.time = i * S
        l.feed(call(INVITE, "1 INVITE", "", "i"), UP)
        if not l.feed(call("SIP/2.0 200 OK", "1 INVITE", "b", "i"), DOWN).created then error("call " .. n) end
        l.feed(call("BYE sip:b@x SIP/2.0", "2 BYE", "b", "b"), UP)
        if not l.feed(call("SIP/2.0 200 OK", "2 BYE", "b", "b"), DOWN).terminated then error("bye " .. n) end
        if l.dialogs:size() > max_dialogs then max_dialogs = l.dialogs:size() end
        if l.dialogs:origins() > max_origins then max_origins = l.dialogs:origins() end
    end
    eq(max_dialogs, 32, "dialogs remembered")
    eq(max_origins, 32, "origins remembered")
    if l.dialogs:work_done() > 4 * 40000 then error("work " .. l.dialogs:work_done()) end
end

T.run_layers_feeds_the_shared_layers_once_per_frame = function()
    local tl, dl = dialog.reset_shared()
    local inv = F.sip(msg(INVITE, "1 INVITE", ""), 1, 0, UP)
    local ok = F.sip(msg("SIP/2.0 200 OK", "1 INVITE", "b1", "Contact: <sip:bob@10.0.0.21>\n"), 2, 10 * MS, DOWN)
    local junk = { parse_status = "not_sip", frame = 2, index = 1, time = 10 * MS }
    local f1 = { number = 1, time = 0, flow = UP, sip = { inv } }
    local f2 = { number = 2, time = 10 * MS, flow = DOWN, sip = { ok, junk } }
    dialog.run_layers(f1)
    dialog.run_layers(f1)  -- a second protocol asking: nothing fed again
    dialog.run_layers(f2)
    eq(inv.txn.id, 1)
    eq(inv.txn.retransmission, false)
    eq(ok.txn.id, 1)
    eq(ok.txn.first_final, true)
    eq(ok.dialog.id, 1)
    eq(ok.dialog.created and ok.dialog.confirmed, true)
    eq(junk.txn.id, 0)
    eq(junk.dialog.id, 0)
    eq(tl:find(1).request_copies, 1)
    eq(dl:size(), 1)
    local a, b = dialog.shared_layers()
    eq(a, tl)
    eq(b, dl)
    -- a TCP retransmission frame maps back to its message
    local tcp_up = F.flow("tcp", 3, "10.0.0.10", 5060, "10.0.0.1", 5060)
    local reg = F.sip(msg(INVITE, "1 INVITE", "", "", "z9hG4bKtcp"), 3, 20 * MS, tcp_up, 500)
    dialog.run_layers({ number = 3, time = 20 * MS, flow = tcp_up, tcp = { seq = 500, len = 10 }, sip = { reg } })
    local f4 = { number = 4, time = 30 * MS, flow = tcp_up, tcp = { seq = 500, len = reg.seq_end - 500,
                 retransmission = true }, sip = {} }
    dialog.run_layers(f4)
    eq(#f4.retransmitted, 1)
    eq(f4.retransmitted[1].frame, 3)
    eq(f4.retransmitted[1].id, reg.txn.id)
    local fresh_t = dialog.reset_shared()
    eq(fresh_t:size(), 0)
end

return T
