-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of siptrack_sub.lualib (and siptrack_flow, siptrack_util): tests/unit/test_subscription.cc's
-- field case 000 traces (polycom_repro: the NOTIFY down the abandoned connection, its RST, the recovery;
-- pcom310: the unanswered NOTIFY, the 481, the recovery on a new Call-ID), a healthy twin, the incident
-- findings (orphaned, rejected, un-SUBSCRIBE unconfirmed), with the exact messages of the C++ tests.
local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local U = require("siptrack_util")
local C = require("siptrack_capture")
local eq, kinds, us, ms, sec = C.eq, C.kinds, C.us, C.ms, C.sec

local PHONE1033, PHONE1034, PHONE1035 = { "10.1.1.171", 1033 }, { "10.1.1.171", 1034 }, { "10.1.1.171", 1035 }
local RLS = { "10.1.1.68", 5060 }
local SUBSCRIBER, LIST = "sip:207@victoria.pingtel.com", "sip:~~rl~C~207@victoria.pingtel.com"

local function subscribe(call_id, cseq, expires, to_tag, event)
    return C.message({ request = true, method = "SUBSCRIBE", call_id = call_id,
        from = C.party(SUBSCRIBER, "sub-" .. call_id), to = C.party(LIST, to_tag or ""), cseq = cseq,
        cseq_method = "SUBSCRIBE", event = event or "dialog", expires = expires })
end

local function notify(call_id, cseq, state, event)
    return C.message({ request = true, method = "NOTIFY", call_id = call_id, from = C.party(LIST, "rls"),
        to = C.party(SUBSCRIBER, "sub-" .. call_id), cseq = cseq, cseq_method = "NOTIFY", event = event or "dialog",
        subscription_state = state })
end

local function response(req, status, expires)
    local to = C.party(req.to.uri, req.to.tag ~= "" and req.to.tag or "rls")
    return C.message({ status = status, reason = status == 200 and "OK" or "", call_id = req.call_id,
        from = req.from, to = to, cseq = req.cseq, cseq_method = req.cseq_method, expires = expires })
end

local function request(method, from_uri)
    return C.message({ request = true, method = method, call_id = "reg", from = C.party(from_uri or SUBSCRIBER, "reg"),
        to = C.party(from_uri or SUBSCRIBER), cseq = 1, cseq_method = method })
end

local T = {}

function T.seconds_text_units()
    eq(U.seconds_text(us(820)), "0.8 ms")
    eq(U.seconds_text(sec(32)), "32.0 s")
    eq(U.seconds_text(ms(1799997)), "1800.0 s (30.0 min)")
    eq(U.seconds_text(us(850)), "0.9 ms")
    eq(U.seconds_text(us(849)), "0.8 ms")
    eq(U.seconds_text(-ms(29500)), "-29.5 s")
    -- Under 0.05 ms, whole microseconds (tenths of a millisecond would read "0.0 ms").
    eq(U.seconds_text(-us(40)), "-40 \194\181s")
    eq(U.seconds_text(0), "0 \194\181s")
    eq(U.seconds_text(49999), "50 \194\181s")
    eq(U.seconds_text(us(50)), "0.1 ms")
    eq(U.seconds_text(ms(999970)), "1000.0 s (16.7 min)")
end

function T.token_params_and_quoted()
    local tp = U.token_params("Active ; expires=3600;reason=\"a b\"")
    eq(tp.token, "Active")
    eq(tp.params[1].name, "expires")
    eq(tp.params[1].value, "3600")
    eq(tp.params[2].value, "a b")
    eq(U.token_params("dialog;id=\"unclosed"), nil)
    eq(U.token_params("dialog, presence"), nil)
    eq(U.token_params(""), nil)
    eq(U.quoted("a\fb"), '"a\\x0cb"')
    eq(U.quoted(string.rep("x", 90)), '"' .. string.rep("x", 80) .. '..."')
end

function T.field_case_000_polycom_repro_stale_flow_reset_recovered()
    local c = C.capture()
    local s1 = subscribe("A", 1, 3600)
    local r = c:sip(s1, ms(200), 0, PHONE1033, RLS) -- 1
    eq(r.subscription, 1)
    eq(r.kind, "initial")
    eq(kinds(r.notes), "subscription_created")
    eq(r.notes[1].message, "Subscription 1 (dialog) created by SUBSCRIBE")
    r = c:sip(response(s1, 202, 3600), ms(205), 0, RLS, PHONE1033) -- 2
    eq(r.request_in, 1)
    eq(#c.out.write_backs, 1)
    eq(c.out.write_backs[1].frame, 1)
    eq(c.out.write_backs[1].response_in, 2)
    eq(r.response_time, ms(5))
    eq(r.expiry, ms(3600205))
    local n1 = notify("A", 1, "active;expires=3600")
    r = c:sip(n1, ms(250), 0, RLS, PHONE1033) -- 3
    eq(r.notify_count, 1)
    eq(r.first_notify_delay, ms(50))
    eq(r.state, "active")
    eq(U.describe(r.flow), "tcp.stream 0 10.1.1.68:5060 -> 10.1.1.171:1033")
    eq(U.describe(r.subscription_flow), "tcp.stream 0 10.1.1.171:1033 -> 10.1.1.68:5060")
    eq(c.tracker:facts(1).subscriber, SUBSCRIBER)
    eq(c.tracker:facts(1).notifier, LIST)
    eq(c.tracker:facts(1).subscriber_address, "10.1.1.171")
    eq(c.tracker:facts(1).notifier_address, "10.1.1.68")
    eq(c.tracker:facts(2), nil)
    eq(#r.notes, 0)
    c:sip(response(n1, 200), ms(255), 0, PHONE1033, RLS) -- 4
    local unsub = subscribe("A", 2, 0, "rls")
    r = c:sip(unsub, ms(125000), 0, PHONE1033, RLS) -- 5
    eq(r.kind, "unsubscribe")
    c:sip(response(unsub, 202, 0), ms(125005), 0, RLS, PHONE1033) -- 6
    local n2 = notify("A", 2, "terminated;reason=timeout")
    r = c:sip(n2, ms(125026), 0, RLS, PHONE1033) -- 7
    eq(r.state, "terminated")
    eq(r.reason, "timeout")
    eq(kinds(r.notes), "subscription_terminated")
    eq(r.notes[1].message, "Subscription 1 terminated: reason timeout")
    c:sip(response(n2, 200), ms(125031), 0, PHONE1033, RLS) -- 8
    r = c:sip(request("REGISTER"), ms(165011), 1, PHONE1034, RLS) -- 9
    eq(kinds(r.notes), "unsubscribe_without_close")
    eq(r.notes[1].message, "New connection tcp.stream 1 from the subscriber 40.0 s after its un-SUBSCRIBE (frame 5) " ..
        "on tcp.stream 0 10.1.1.171:1033 -> 10.1.1.68:5060, which it never closed")
    eq(#c.out.write_backs, 1)
    eq(c.out.write_backs[1].frame, 5)
    eq(c.out.write_backs[1].note.message, "The subscriber never closed tcp.stream 0 after this un-SUBSCRIBE and " ..
        "opened tcp.stream 1 10.1.1.171:1034 -> 10.1.1.68:5060 (frame 9, 40.0 s later)")
    local s2 = subscribe("B", 1, 3600)
    r = c:sip(s2, ms(165317), 1, PHONE1034, RLS) -- 10
    eq(r.subscription, 2)
    c:sip(response(s2, 202, 3600), ms(165322), 1, RLS, PHONE1034) -- 11
    local stale = notify("B", 0, "active;expires=3600")
    r = c:sip(stale, ms(165343), 0, RLS, PHONE1033) -- 12
    eq(kinds(r.notes), "notify_on_stale_flow")
    eq(r.notes[1].message, "NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last traffic " ..
        "here 40.3 s earlier); use tcp.stream 1 10.1.1.68:5060 -> 10.1.1.171:1034")
    eq(r.notes[1].consequence, false)
    eq(r.notes[1].links.last_traffic_frame, 8)
    eq(r.notes[1].links.new_flow_frame, 9)
    eq(r.notes[1].links.subscribe_frame, 10)
    c:segment(us(165343800), 0, PHONE1033, RLS, true) -- 13: RST
    eq(#c.out.frame_notes, 1)
    local fnote = c.out.frame_notes[1]
    eq(fnote.kind, "notify_reset")
    eq(fnote.message, "RST from the subscriber on tcp.stream 0, 0.8 ms after NOTIFY frame 12 (subscription 2): the " ..
        "NOTIFY is lost")
    eq(fnote.consequence, true)
    eq(fnote.caused_by, 12)
    eq(fnote.links.notify_frame, 12)
    eq(#c.out.write_backs, 1)
    eq(c.out.write_backs[1].frame, 12)
    local wb = c.out.write_backs[1].note
    eq(wb.message, "The subscriber reset this NOTIFY's connection 0.8 ms later: the NOTIFY is lost")
    eq(wb.consequence, true)
    eq(wb.caused_by, 0)
    eq(wb.links.rst_frame, 13)
    c:segment(ms(225500), 1, RLS, PHONE1034, false, true) -- 14: FIN; Timer F of 12 ran out, reset already
    eq(#c.out.frame_notes, 0)
    local refresh = subscribe("B", 2, 3600, "rls")
    r = c:sip(refresh, ms(1965011), 2, PHONE1035, RLS) -- 15
    eq(r.kind, "refresh")
    c:sip(response(refresh, 202, 3600), ms(1965016), 2, RLS, PHONE1035) -- 16
    local good = notify("B", 1, "active;expires=3600")
    r = c:sip(good, ms(1965340), 2, RLS, PHONE1035) -- 17
    eq(#r.notes, 0)
    r = c:sip(response(good, 200), ms(1965345), 2, PHONE1035, RLS) -- 18
    eq(kinds(r.notes), "subscription_recovered")
    eq(r.notes[1].message, "Subscription 2 recovered: NOTIFY frame 17 accepted 1800.0 s (30.0 min) after NOTIFY " ..
        "frame 12 was reset by the subscriber (RST in frame 13)")
    local sum = c.tracker:summary(2)
    eq(table.concat(sum.flows, ","), "tcp.stream 1,tcp.stream 0,tcp.stream 2")
    eq(sum.notifies, 2)
    eq(sum.answered, 1)
    eq(table.concat(sum.findings, ","), "notify_on_stale_flow,notify_reset,subscription_recovered")
    eq(sum.outage, ms(1799997))
    eq(sum.state, "active")
end

function T.field_case_000_pcom310_unanswered_481_recovery()
    local c = C.capture()
    local s1 = subscribe("A", 1, 3600)
    c:sip(s1, ms(10207), 1, PHONE1033, RLS) -- 1
    c:sip(response(s1, 202, 3600), ms(10212), 1, RLS, PHONE1033) -- 2
    local n1 = notify("A", 1, "active;expires=3600")
    c:sip(n1, ms(10243), 1, RLS, PHONE1033) -- 3
    c:segment(ms(10244), 1, PHONE1033, RLS) -- 4: ACK only
    eq(#c.out.frame_notes, 0)
    c:segment(ms(60000), 7, { "10.1.1.124", 1026 }, RLS) -- 5: after Timer F
    eq(#c.out.frame_notes, 1)
    eq(c.out.frame_notes[1].kind, "notify_unanswered")
    eq(c.out.frame_notes[1].message, "NOTIFY frame 3 (subscription 1, tcp.stream 1 10.1.1.68:5060 -> " ..
        "10.1.1.171:1033) got no response within 32.0 s (Timer F)")
    eq(c.out.frame_notes[1].moved_on_revisit, true)
    eq(c.out.frame_notes[1].caused_by, 3)
    eq(#c.out.write_backs, 1)
    eq(c.out.write_backs[1].frame, 3)
    eq(c.out.write_backs[1].note.message, "No response to this NOTIFY within 32.0 s (Timer F): subscription 1 is broken")
    local refresh = subscribe("A", 2, 3600, "rls")
    c:sip(refresh, ms(1810000), 1, PHONE1033, RLS) -- 6
    local r = c:sip(response(refresh, 481), ms(1810005), 1, RLS, PHONE1033) -- 7
    eq(kinds(r.notes), "subscription_481")
    eq(r.notes[1].message, "481 to SUBSCRIBE refresh frame 6: subscription 1 had been broken for 1799.8 s " ..
        "(30.0 min), since NOTIFY frame 3 went unanswered")
    eq(r.notes[1].consequence, true)
    eq(r.notes[1].caused_by, 3)
    eq(r.state, "terminated")
    local s2 = subscribe("B", 1, 3600)
    r = c:sip(s2, ms(1810056), 1, PHONE1033, RLS) -- 8
    eq(r.subscription, 2)
    c:sip(response(s2, 202, 3600), ms(1810061), 1, RLS, PHONE1033) -- 9
    local n2 = notify("B", 1, "active;expires=3600")
    c:sip(n2, ms(1810092), 1, RLS, PHONE1033) -- 10
    r = c:sip(response(n2, 200), ms(1810097), 1, PHONE1033, RLS) -- 11
    eq(kinds(r.notes), "subscription_recovered")
    eq(r.notes[1].message, "Subscription 2 recovered: NOTIFY frame 10 accepted 1799.8 s (30.0 min) after NOTIFY " ..
        "frame 3 went unanswered")
    eq(#c.out.write_backs, 2)
    eq(c.out.write_backs[2].frame, 10)
end

function T.healthy_long_connection_with_refreshes_is_quiet()
    local c = C.capture()
    for k = 0, 6 do
        local t = sec(1) + sec(1800) * k
        local s = subscribe("H", k + 1, 3600, k > 0 and "rls" or "")
        local r = c:sip(s, t, 0, PHONE1033, RLS)
        eq(r.kind, k > 0 and "refresh" or "initial")
        c:sip(response(s, 202, 3600), t + ms(5), 0, RLS, PHONE1033)
        local n = notify("H", k + 1, "active;expires=3600")
        r = c:sip(n, t + ms(30), 0, RLS, PHONE1033)
        eq(#r.notes, 0, "notes")
        eq(r.notify_count, k + 1)
        r = c:sip(response(n, 200), t + ms(35), 0, PHONE1033, RLS)
        eq(#r.notes, 0, "notes")
    end
    local out = { frame_notes = {}, frame_subscriptions = {}, write_backs = {} }
    c.tracker:finish(out)
    eq(#out.write_backs, 0)
    eq(table.concat(c.tracker:summary(1).findings, ","), "")
end

function T.notify_unanswered_at_capture_end()
    local c = C.capture()
    local s = subscribe("E", 1, 3600)
    c:sip(s, sec(1), 0, PHONE1033, RLS)
    c:sip(response(s, 200, 3600), sec(1) + ms(5), 0, RLS, PHONE1033)
    c:sip(notify("E", 1, "active;expires=3600"), sec(2), 0, RLS, PHONE1033) -- 3
    local out = { frame_notes = {}, frame_subscriptions = {}, write_backs = {} }
    c.tracker:finish(out)
    eq(#out.write_backs, 1)
    eq(out.write_backs[1].frame, 3)
    eq(out.write_backs[1].note.message, "No response to this NOTIFY before the capture ended (subscription 1)")
    eq(out.write_backs[1].note.consequence, false)
end

function T.bad_input_event_and_subscription_state()
    local cases = {
        { "@@ ;;==", "active", "bad_event" },
        { nil, "active", "missing_event" },
        { "presence", "act ive;expires=soon", "bad_subscription_state" },
        { "presence", "active;expires=soon", "bad_subscription_state" },
        { "presence", nil, "notify_without_state" },
        { "presence", "active;expires=99999999999", "bad_subscription_state" },
        { "presence;x=" .. string.rep("A", 5000), "active;expires=60", "" },
        { "presence", "pending;reason=\"x", "bad_subscription_state" },
    }
    for i, case in ipairs(cases) do
        local c = C.capture()
        local n = notify("Z" .. i, 1, case[2])
        n.event = case[1]
        local r = c:sip(n, 0, 0, RLS, PHONE1033, "udp")
        eq(kinds(r.notes), case[3], "case " .. i)
    end
    local c = C.capture()
    local n = notify("Q", 1, "active")
    n.event = "\255\254 garbage"
    local r = c:sip(n, 0, 0, RLS, PHONE1033, "udp")
    eq(#r.notes, 1)
    eq(r.notes[1].message, "Event header \"\239\191\189\239\191\189 garbage\" is not an event package with " ..
        "parameters: not followed")
end

function T.incident_unanswered_notify_is_the_cause_of_481_and_recovery()
    local c = C.capture()
    local s1 = subscribe("A", 1, 3600)
    c:sip(s1, ms(10207), 1, PHONE1033, RLS) -- 1
    c:sip(response(s1, 202, 3600), ms(10212), 1, RLS, PHONE1033) -- 2
    c:sip(notify("A", 1, "active;expires=3600"), ms(10243), 1, RLS, PHONE1033) -- 3
    c:segment(ms(10244), 1, PHONE1033, RLS) -- 4
    c:segment(ms(60000), 1, PHONE1033, RLS) -- 5
    eq(#c.out.frame_notes, 1)
    eq(c.out.frame_notes[1].consequence, false)
    eq(c.out.frame_notes[1].moved_on_revisit, true)
    eq(c.out.frame_notes[1].caused_by, 3)
    eq(c.out.frame_notes[1].links.notify_frame, 3)
    eq(#c.out.write_backs, 1)
    eq(c.out.write_backs[1].note.consequence, false)
    local refresh = subscribe("A", 2, 3600, "rls")
    c:sip(refresh, ms(1810000), 1, PHONE1033, RLS) -- 6
    local r = c:sip(response(refresh, 481), ms(1810005), 1, RLS, PHONE1033) -- 7
    eq(#r.notes, 1)
    eq(r.notes[1].consequence, true)
    eq(r.notes[1].caused_by, 3)
    local s2 = subscribe("B", 1, 3600)
    c:sip(s2, ms(1810100), 1, PHONE1033, RLS) -- 8
    c:sip(response(s2, 202, 3600), ms(1810105), 1, RLS, PHONE1033) -- 9
    local n2 = notify("B", 1, "active;expires=3600")
    c:sip(n2, ms(1810110), 1, RLS, PHONE1033) -- 10
    r = c:sip(response(n2, 200), ms(1810115), 1, PHONE1033, RLS) -- 11
    eq(kinds(r.notes), "subscription_recovered")
    eq(r.notes[1].consequence, true)
    eq(r.notes[1].caused_by, 3)
    eq(r.notes[1].links.recovered_in, 10)
end

function T.incident_orphaned_subscription_notify_is_no_outage()
    local c = C.capture()
    local s1 = subscribe("A", 1, 3600)
    c:sip(s1, 0, 0, PHONE1033, RLS) -- 1
    c:sip(response(s1, 202, 3600), ms(5), 0, RLS, PHONE1033) -- 2
    local n1 = notify("A", 1, "active;expires=3600")
    c:sip(n1, ms(10), 0, RLS, PHONE1033) -- 3
    c:sip(response(n1, 200), ms(15), 0, PHONE1033, RLS) -- 4
    local s2 = subscribe("B", 1, 3600)
    c:sip(s2, sec(60), 1, PHONE1034, RLS) -- 5
    c:sip(response(s2, 202, 3600), sec(60) + ms(5), 1, RLS, PHONE1034) -- 6
    local n2 = notify("B", 1, "active;expires=3600")
    c:sip(n2, sec(60) + ms(10), 1, RLS, PHONE1034) -- 7
    c:sip(response(n2, 200), sec(60) + ms(15), 1, PHONE1034, RLS) -- 8
    local r = c:sip(notify("A", 2, "active;expires=3540"), sec(70), 0, RLS, PHONE1033) -- 9
    eq(kinds(r.notes), "notify_orphaned")
    eq(r.notes[1].message, "NOTIFY on tcp.stream 0, abandoned by the subscriber for tcp.stream 1 (its last traffic " ..
        "here 70.0 s (1.2 min) earlier); subscription 1 is orphaned: subscription 2 replaced it")
    eq(r.notes[1].links.replaced_by, 5)
    eq(r.notes[1].links.last_traffic_frame, 4)
    eq(r.notes[1].links.new_flow_frame, 5)
    c:segment(sec(70) + ms(1), 0, PHONE1033, RLS, true) -- 10: RST
    eq(#c.out.frame_notes, 1)
    eq(c.out.frame_notes[1].consequence, true)
    eq(c.out.frame_notes[1].caused_by, 9)
    local n3 = notify("B", 2, "active;expires=3540")
    c:sip(n3, sec(120), 1, RLS, PHONE1034) -- 11
    r = c:sip(response(n3, 200), sec(120) + ms(5), 1, PHONE1034, RLS) -- 12
    eq(#r.notes, 0)
    eq(c.tracker:summary(2).outage, 0)
    eq(#c.tracker:summary(2).findings, 0)
end

function T.incident_notify_rejected_and_its_healthy_challenge()
    local c = C.capture()
    local s1 = subscribe("A", 1, 3600)
    c:sip(s1, 0, 1, PHONE1033, RLS, "udp")
    c:sip(response(s1, 202, 3600), ms(5), 1, RLS, PHONE1033, "udp")
    local n1 = notify("A", 1, "active;expires=3600")
    c:sip(n1, ms(10), 1, RLS, PHONE1033, "udp") -- 3
    local rejected = response(n1, 488)
    rejected.reason = "Not Acceptable Here"
    local r = c:sip(rejected, ms(15), 1, PHONE1033, RLS, "udp") -- 4
    eq(kinds(r.notes), "notify_rejected")
    eq(r.notes[1].message, "NOTIFY frame 3 of subscription 1 rejected with 488 Not Acceptable Here")
    eq(r.notes[1].consequence, false)
    eq(r.notes[1].links.notify_frame, 3)
    eq(c.tracker:summary(1).state, "active, NOTIFY rejected with 488")
    local n2 = notify("A", 2, "active;expires=3500")
    c:sip(n2, ms(20), 1, RLS, PHONE1033, "udp") -- 5
    r = c:sip(response(n2, 488), ms(25), 1, PHONE1033, RLS, "udp") -- 6
    eq(#r.notes, 1)
    eq(r.notes[1].consequence, true)
    eq(r.notes[1].caused_by, 3)
    do
        local h = C.capture()
        local hs = subscribe("H", 1, 3600)
        h:sip(hs, 0, 1, PHONE1033, RLS, "udp")
        h:sip(response(hs, 202, 3600), ms(5), 1, RLS, PHONE1033, "udp")
        local early = notify("H", 2, "active;expires=3600")
        h:sip(early, ms(10), 1, RLS, PHONE1033, "udp")
        local confirmed = notify("H", 3, "active;expires=3600")
        h:sip(confirmed, ms(1010), 1, RLS, PHONE1033, "udp")
        h:sip(response(confirmed, 200), ms(1015), 1, PHONE1033, RLS, "udp")
        local late = h:sip(response(early, 500), ms(1600), 1, PHONE1033, RLS, "udp")
        eq(#late.notes, 0)
    end
    local n3 = notify("A", 3, "active;expires=3400")
    c:sip(n3, ms(30), 1, RLS, PHONE1033, "udp") -- 7
    r = c:sip(response(n3, 401), ms(35), 1, PHONE1033, RLS, "udp") -- 8
    eq(#r.notes, 0)
    c:segment(sec(40), 5, PHONE1034, RLS) -- 9
    eq(#c.out.frame_notes, 1)
    eq(c.out.frame_notes[1].kind, "notify_rejected")
    eq(c.out.frame_notes[1].message, "NOTIFY frame 7 of subscription 1 challenged with 401 and not sent again with " ..
        "credentials within 32.0 s")
    eq(c.out.frame_notes[1].consequence, true)
    eq(c.out.frame_notes[1].caused_by, 3)
    eq(#c.out.write_backs, 1)
    eq(c.out.write_backs[1].frame, 8)
end

function T.incident_unsubscribe_unconfirmed_and_its_healthy_twin()
    for _, confirmed in ipairs({ false, true }) do
        local c = C.capture()
        local s1 = subscribe("A", 1, 3600)
        c:sip(s1, 0, 0, PHONE1033, RLS)
        c:sip(response(s1, 202, 3600), ms(5), 0, RLS, PHONE1033)
        local n1 = notify("A", 1, "active;expires=3600")
        c:sip(n1, ms(10), 0, RLS, PHONE1033)
        c:sip(response(n1, 200), ms(15), 0, PHONE1033, RLS)
        local unsub = subscribe("A", 2, 0, "rls")
        c:sip(unsub, sec(10), 0, PHONE1033, RLS) -- 5
        if confirmed then
            local last = notify("A", 2, "terminated;reason=timeout")
            c:sip(last, sec(10) + ms(2), 0, RLS, PHONE1033)
            c:sip(response(last, 200), sec(10) + ms(4), 0, PHONE1033, RLS)
        end
        c:sip(response(unsub, 202, 0), sec(10) + ms(6), 0, RLS, PHONE1033)
        c:segment(sec(41), 0, PHONE1033, RLS)
        eq(#c.out.frame_notes, 0)
        c:segment(sec(43), 0, PHONE1033, RLS)
        if confirmed then
            eq(#c.out.frame_notes, 0)
            eq(#c.out.write_backs, 0)
        else
            eq(kinds(c.out.frame_notes), "unsubscribe_unconfirmed")
            eq(c.out.frame_notes[1].message, "No terminating NOTIFY for subscription 1 within 32.0 s of the 2xx to " ..
                "its un-SUBSCRIBE (RFC 6665 section 4.2.2)")
            eq(c.out.frame_notes[1].moved_on_revisit, true)
            eq(c.out.frame_notes[1].caused_by, 5)
            eq(#c.out.write_backs, 1)
            eq(c.out.write_backs[1].frame, 5)
            eq(c.out.write_backs[1].note.message, "The notifier accepted this un-SUBSCRIBE but sent no terminating " ..
                "NOTIFY within 32.0 s (RFC 6665 section 4.2.2)")
        end
    end
end

function T.scale_each_rst_resets_only_its_own_connections_notify()
    -- Bounded work: each RST looks at its own connection's open NOTIFYs only; timers drain as they run out.
    local c = C.capture()
    for k = 1, 1000 do
        local id = "S" .. k
        local phone = { "10.2." .. math.floor(k / 250) .. "." .. (k % 250), 1033 }
        local s = subscribe(id, 1, 3600)
        c:sip(s, sec(k), k, phone, RLS)
        c:sip(response(s, 202, 3600), sec(k) + ms(1), k, RLS, phone)
        c:sip(notify(id, 1, "active;expires=3600"), sec(k) + ms(2), k, RLS, phone)
        c:segment(sec(k) + ms(3), k, phone, RLS, true)
        eq(#c.out.frame_notes, 1)
        eq(c.out.frame_notes[1].kind, "notify_reset")
    end
    eq(c.tracker:size(), 1000)
    eq(c.tracker.live_txns < 100, true, "live transactions drained")
end

return T
