-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of dialoginfo_core (parser and tracker), outside Wireshark. Expected texts are the compiled
-- suite's (plugins/core dialog_info.cc, dialog_info_tracker.cc). Returns a table of name -> function.

local check = require("check")
local D = require("dialoginfo_core")

local eq = check.eq

local problems = check.problems

local NS = 'xmlns="urn:ietf:params:xml:ns:dialog-info"'
local E208 = "sip:208@victoria.pingtel.com"

local function doc(version, state, dialogs)
    return '<?xml version="1.0"?>\n<dialog-info ' .. NS .. ' version="' .. version .. '" state="' .. state
        .. '" entity="' .. E208 .. '">\n' .. (dialogs or "") .. '</dialog-info>\n'
end

local function dialog(id, direction, state, extra)
    return '<dialog id="' .. id .. '" call-id="call-' .. id .. '" direction="' .. direction .. '"><state>' .. state
        .. '</state>' .. (extra or "") .. '</dialog>\n'
end

local T = {}

T.healthy_document = function()
    local info = D.parse(doc(7, "partial", dialog("a1", "recipient", "early",
        '<local><identity display="Bob">sip:208@x</identity><target uri="sip:208@10.1.1.124">'
        .. '<param pname="+sip.rendering" pval="yes"/></target><cseq>12</cseq></local>'
        .. '<remote><identity>sip:206@x</identity></remote><duration>30</duration>'
        .. '<replaces call-id="c0" local-tag="l0" remote-tag="r0"/><route-set><hop>sip:p1</hop></route-set>')))
    eq(problems(info), "")
    eq(info.decoded, true)
    eq(info.version_value, 7)
    eq(info.doc_state, "partial")
    eq(D.summary(info), "dialog-info v7 partial " .. E208 .. ": 1 dialog (recipient, early)")
    local d = info.dialogs[1]
    eq(d.call_id.value, "call-a1")
    eq(d.local_.identities[1].display.value, "Bob")
    eq(d.local_.params[1].value.value, "yes")
    eq(d.local_.cseq_value, 12)
    eq(d.duration_value, 30)
    eq(d.has_replaces, true)
    eq(d.replaces_remote_tag.value, "r0")
    eq(d.route_set[1].value, "sip:p1")
end

T.rfc_violations = function()
    local info = D.parse('<dialog-info ' .. NS .. ' state="delta">'
        .. '<dialog id="x" direction="incoming"><state event="hangup" code="abc">ringing</state>'
        .. '<target><param pname="p" pvalue="v"/></target></dialog><dialog call-id="y"/><ringing/></dialog-info>')
    eq(problems(info), table.concat({
        "missing_attribute: <dialog-info> has no entity attribute",
        'unknown_value: Document state "delta" is not full or partial',
        "missing_attribute: <dialog-info> has no version attribute",
        'unknown_value: Dialog direction "incoming" is not initiator or recipient',
        'unknown_value: Dialog state "ringing" is not trying, proceeding, early, confirmed or terminated',
        'unknown_value: State event "hangup" is not cancelled, rejected, replaced, local-bye, remote-bye, error or timeout',
        'bad_value: State code "abc" is not a number from 0 to 4294967295',
        "unknown_element: Element <target> is not defined in <dialog> by RFC 4235: shown generically",
        "missing_attribute: <dialog> has no id attribute",
        "missing_element: <dialog> has no <state> element",
        "unknown_element: Element <ringing> is not defined in <dialog-info> by RFC 4235: shown generically",
    }, "\n"))
    eq(D.summary(info), "dialog-info delta: 2 dialogs (incoming, ringing; no state)")
    eq(problems(D.parse('<dialog-info ' .. NS .. ' state="partial" entity="e"/>')),
        "partial_without_version: Partial document without a version: a subscriber cannot tell which state it updates")
    local pv = D.parse(doc(1, "full", '<dialog id="d"><state>confirmed</state><local><target uri="u">'
        .. '<param pname="n" pvalue="v"/></target></local></dialog>'))
    eq(problems(pv), "nonstandard_attribute: <param> has pvalue=, RFC 4235 says pval=: the value is read from pvalue")
end

T.namespaces_and_extensions = function()
    local info = D.parse('<d:dialog-info xmlns:d="urn:ietf:params:xml:ns:dialog-info" xmlns:pc="urn:x-polycom" '
        .. 'version="1" state="full" entity="e"><d:dialog id="1"><d:state>trying</d:state>'
        .. '<pc:line-seize pc:a="1">txt</pc:line-seize><zz:q/></d:dialog></d:dialog-info>')
    eq(problems(info), 'namespace_error: Namespace prefix "zz" is not declared (first used by <zz:q>): '
        .. "its elements are not read as the RFC's")
    local ext = info.dialogs[1].extensions
    eq(#ext, 2)
    eq(ext[1].name, "pc:line-seize")
    eq(ext[1].ns, "urn:x-polycom")
    eq(ext[1].text.value, "txt")
    eq(ext[1].attributes[1][1].value, "pc:a")
    eq(ext[2].ns, "")
    eq(problems(D.parse('<dialog-info version="1" state="full" entity="e"/>')),
        "wrong_root: Root element is <dialog-info> in no namespace, not <dialog-info> in "
        .. "urn:ietf:params:xml:ns:dialog-info (mislabelled body?)")
end

T.placeholder = function()
    local info = D.parse(doc(3, "full", dialog(";", "recipient", "terminated")))
    eq(problems(info), 'placeholder: Placeholder dialog id ";" synthesized by the Resource List Server: '
        .. E208 .. " reports no current dialog, this is not a call")
    eq(D.summary(info), "dialog-info v3 full " .. E208 .. ": 1 dialog (placeholder)")
end

T.xml_problems = function()
    -- the error is at the first character of the end tag's name that differs (pugixml)
    local bad = '<?xml version="1.0"?>\n<dialog-info ' .. NS .. ' version="5" state="full" entity="e">'
        .. '<dialog id="i"><state>early</dialog></dialog-info>'
    local at = bad:find("early</dialog>", 1, true) + #"early</" - 1
    local info = D.parse(bad)
    eq(problems(info), "malformed_xml: Malformed XML at byte " .. at .. " of " .. #bad .. ": Start-end tags mismatch")
    eq(info.dialogs[1].state.value, "early", "the part read before the error is decoded")
    eq(problems(D.parse("<dialog-info " .. NS .. ">" .. string.rep("<a>", 40) .. string.rep("</a>", 40) .. "</dialog-info>")),
        "too_deep: Elements nested deeper than 32 levels: not decoded")
    eq(D.summary(D.parse("")), "dialog-info (not decoded)")
end

-- The tracker, driven like the glue drives it: one NOTIFY per document.
local function run(docs, subscribe)
    local tr = D.Tracker()
    if subscribe then tr:subscribe({ call_id = "c", from_tag = "sub" }) end
    local out = {}
    for i, x in ipairs(docs) do
        local info = D.parse(x[2])
        local r = tr:notify({ call_id = "c", from_tag = "ntf", to_tag = "sub", cseq = x[1], has_cseq = true, frame = i * 2 },
            D.tracked_document(info))
        for _, f in ipairs(r.findings) do out[#out + 1] = i .. " " .. f.kind .. ": " .. f.message end
        if r.retransmission then out[#out + 1] = i .. " retransmission" end
    end
    return table.concat(out, "\n")
end

T.tracker_versions = function()
    eq(run({ { 1, doc(1, "full") }, { 2, doc(2, "partial") }, { 5, doc(5, "partial") } }),
        "3 version_skipped: Version 5 of " .. E208 .. " follows version 2 and NOTIFY CSeq 5 follows 2: 2 NOTIFYs missing (lost, or not captured)")
    -- versions in steps of 2 with consecutive CSeqs: nothing lost
    eq(run({ { 1, doc(1, "full") }, { 2, doc(3, "partial") }, { 3, doc(5, "partial") } }), "")
    eq(run({ { 1, doc(4, "full") }, { 2, doc(3, "partial") } }),
        "2 version_backwards: Partial document version 3 of " .. E208 .. " after version 4 without a full state: "
        .. "a subscriber discards it (RFC 4235 section 4.4)")
    eq(run({ { 1, doc(1, "full") }, { 1, doc(1, "full") } }), "2 retransmission")
    eq(run({ { 1, doc(1, "partial") } }, true), "1 partial_before_full: Partial document of " .. E208
        .. " before any full state in this subscription: the subscriber has no state to apply it to (RFC 4235 section 4.4)")
    eq(run({ { 1, doc(1, "partial") } }, false), "")
end

T.tracker_dialogs = function()
    local ringing = run({ { 1, doc(1, "full") }, { 2, doc(2, "partial", dialog("d1", "recipient", "confirmed")) } })
    eq(ringing, '2 ringing_not_reported: Incoming call never reported ringing: dialog "d1" of ' .. E208
        .. " is confirmed, never trying, proceeding or early")
    eq(run({ { 1, doc(1, "full") }, { 2, doc(2, "partial", dialog("d1", "recipient", "early")) },
        { 3, doc(3, "partial", dialog("d1", "recipient", "confirmed")) } }), "")
    eq(run({ { 1, doc(4, "full") }, { 2, doc(3, "partial", dialog("d1", "recipient", "early")) },
        { 3, doc(5, "partial", dialog("d1", "recipient", "confirmed")) } }),
        "2 version_backwards: Partial document version 3 of " .. E208 .. " after version 4 without a full state: "
        .. "a subscriber discards it (RFC 4235 section 4.4)\n"
        .. '3 ringing_discarded: Incoming call reported ringing only in a discarded document: dialog "d1" of '
        .. E208 .. " is confirmed")
    eq(run({ { 1, doc(1, "full") }, { 2, doc(2, "partial", dialog("d1", "initiator", "terminated")) },
        { 3, doc(3, "partial", dialog("d1", "initiator", "early")) } }),
        '3 dialog_id_reused: Dialog id "d1" of ' .. E208 .. " was reported terminated and is reported again as early: "
        .. "a terminated dialog id is reused")
    -- rejected calls and replacing dialogs never ring
    eq(run({ { 1, doc(1, "full") }, { 2, doc(2, "partial", '<dialog id="d" direction="recipient"><state event="rejected">'
        .. "terminated</state></dialog>") } }), "")
end

T.tracker_bounded = function()
    local tr = D.Tracker(1)
    local d = D.tracked_document(D.parse(doc(1, "full")))
    tr:notify({ call_id = "a", from_tag = "f", to_tag = "t", cseq = 1, has_cseq = true, frame = 1 }, d)
    local r = tr:notify({ call_id = "b", from_tag = "f", to_tag = "t", cseq = 1, has_cseq = true, frame = 2 }, d)
    eq(r.findings[1].message, "Most subscriptions tracked (1) reached: this and later new subscriptions are not checked")
    r = tr:notify({ call_id = "c", from_tag = "f", to_tag = "t", cseq = 1, has_cseq = true, frame = 3 }, d)
    eq(#r.findings, 0, "reported once")
end

T.hostile_bodies_never_raise = function()
    local seed = doc(2, "partial", dialog("a", "recipient", "early", '<local><identity>x</identity></local>'))
    local pieces = { "<", ">", "</", "/>", "<!--", "<![CDATA[", "<!DOCTYPE", "xmlns:p=\"u\"", "p:", "&#x41;", "\255",
        "\0", "=\"" }
    local seedn = 4242
    local function rnd(n)
        seedn = (seedn * 1103515245 + 12345) % 2147483648
        return seedn % n + 1
    end
    local tr = D.Tracker()
    for i = 1, 300 do
        local s = seed
        for _ = 1, rnd(5) do
            local at = rnd(#s)
            if rnd(2) == 1 then s = s:sub(1, at) .. pieces[rnd(#pieces)] .. s:sub(at + 1)
            else s = s:sub(1, at) .. s:sub(at + rnd(30)) end
        end
        local info = D.parse(s)
        D.summary(info)
        tr:notify({ call_id = "c", from_tag = "f", to_tag = "t", cseq = i, has_cseq = true, frame = i },
            D.tracked_document(info))
    end
end

return T
