-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of mssip_core.lualib: the C++ tests test_ms_diagnostics.cc, test_ms_epid.cc and
-- test_call_fork.cc value for value (field case 002, the broken values of mssip_bad_diagnostics and
-- mssip_bad_epid, the three-endpoint fork, CANCEL/B2BUA/PBX look-alikes, the bounds), and the texts the
-- compiled plugin renders (packet-mssip.cc) for each finding, cut to 200 bytes.
local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local core = require("mssip_core")
local txn = require("ss_txn")
local dialog = require("ss_dialog")
local F = require("fixture_sip")
local eq = F.eq

local function at(s, span)
    return s:sub(span.offset + 1, span.offset + span.length)
end

local function list_eq(got, want, what)
    eq(#got, #want, (what or "list") .. " size")
    for i = 1, #want do eq(got[i], want[i], (what or "list") .. "[" .. i .. "]") end
end

local T = {}

-- ms_diagnostics -----------------------------------------------------------------------------------

T.diag_progress_report_of_field_case_002 = function()
    local v = "13004;reason=\"Request was proxied to one or more registered endpoints\";" ..
        "source=\"R2EE01.uclab.org\";appName=\"InboundRouting\""
    local d = core.parse_ms_diagnostics(v)
    eq(#d.problems, 0)
    eq(d.has_code, true)
    eq(d.code, 13004)
    eq(d.sub_code, nil)
    eq(at(v, d.code_span), "13004")
    eq(#d.params, 3)
    eq(d.params[1].name, "reason")
    eq(d.params[1].value, "Request was proxied to one or more registered endpoints")
    eq(at(v, d.params[1].value_span), "\"Request was proxied to one or more registered endpoints\"")
    eq(d.params[2].name, "source")
    eq(d.params[2].value, "R2EE01.uclab.org")
    eq(at(v, d.params[3].name_span), "appName")
    eq(core.find_param(d.params, "APPNAME").value, "InboundRouting")
    eq(core.find_param(d.params, "missing"), nil)
    eq(core.label(d.code), "13004 (Request was proxied to one or more registered endpoints)")
end

T.diag_sub_code_leading_space_and_bare_params = function()
    local v = "  1003.2;source=edge.example.com;foo;reason=\"User does not exist\""
    local d = core.parse_ms_diagnostics(v)
    eq(#d.problems, 0)
    eq(d.code, 1003)
    eq(d.sub_code, 2)
    eq(at(v, d.code_span), "1003.2")
    eq(#d.params, 3)
    eq(d.params[1].value, "edge.example.com")
    eq(at(v, d.params[1].value_span), "edge.example.com")
    eq(d.params[2].name, "foo")
    eq(d.params[2].has_value, false)
    eq(d.params[3].value, "User does not exist")
end

T.diag_broken_values = function()
    local shape = "Not an ErrorId followed by ;name=value parameters (unclosed quote or stray text?)"
    local cases = {
        { "", false, 0, "empty", "Empty ms-diagnostics value" },
        { "   ", false, 0, "empty", "Empty ms-diagnostics value" },
        { "abc;reason=\"x\"", false, 0, "bad_code", "ErrorId \"abc\" is not a 32-bit number" },
        { "99999999999;reason=\"x\"", false, 0, "bad_code", "ErrorId \"99999999999\" is not a 32-bit number" },
        { "4294967296", false, 0, "bad_code", "ErrorId \"4294967296\" is not a 32-bit number" },
        { "13004.x;source=a", true, 13004, "bad_sub_code", "Sub-code \"x\" is not a 32-bit number" },
        { "13004;reason=\"unclosed", true, 13004, "bad_shape", shape },
        { "13004 junk", true, 13004, "bad_shape", shape },
    }
    for _, c in ipairs(cases) do
        local d = core.parse_ms_diagnostics(c[1])
        eq(d.has_code, c[2], c[1])
        eq(d.code, c[3], c[1])
        eq(#d.problems, 1, c[1])
        eq(d.problems[1].kind, c[4], c[1])
        eq(d.problems[1].message, c[5], c[1])
        if d.problems[1].where.offset + d.problems[1].where.length > #c[1] then error("span past the value") end
    end
    eq(core.parse_ms_diagnostics("4294967295").code, 4294967295)
end

T.diag_long_value_is_cut = function()
    local reason = string.rep("r", 5000)
    local v = "13004;reason=\"" .. reason .. "\""
    local d = core.parse_ms_diagnostics(v, 1024)
    eq(#d.params, 1)
    eq(#d.params[1].value, 1024)
    eq(#d.problems, 1)
    eq(d.problems[1].kind, "value_cut")
    eq(d.problems[1].message, "Value of reason of 5000 bytes shown cut to 1024 bytes")
    eq(at(v, d.problems[1].where), "\"" .. reason .. "\"")
end

T.diag_invalid_utf8_is_replaced = function()
    local d = core.parse_ms_diagnostics("13004;reason=\"a\255b\"")
    eq(d.params[1].value, "a\239\191\189b")
    -- a cut never splits a character
    local s, cut = core.sanitize_utf8("ab\195\169cd", 3)
    eq(s, "ab")
    eq(cut, true)
    eq(core.fit_message(string.rep("x", 201)), string.rep("x", 197) .. "...")
    eq(core.fit_message(string.rep("x", 200)), string.rep("x", 200))
end

T.diag_codes_documented_names_and_unknown = function()
    eq(#core.CODES, 47)
    eq(core.code_name(13006), "Request forwarded, any previous branches cancelled")
    eq(core.code_name(1003), "User does not exist")
    eq(core.code_name(4005), "Destination URI either not enabled for SIP or does not exist")
    eq(core.code_name(5001), "Request timed out")
    eq(core.code_name(13009), nil)
    eq(core.label(51004), "51004")
    for i = 2, #core.CODES do
        if core.CODES[i - 1][1] >= core.CODES[i][1] then error("codes not in order at " .. i) end
    end
end

T.diag_parameters_are_bounded = function()
    local parts = { "13004" }
    for i = 0, 999 do parts[#parts + 1] = ";p" .. i .. "=1" end
    local value = table.concat(parts)
    local d = core.parse_ms_diagnostics(value)
    eq(d.has_code, true)
    eq(#d.params, 128)
    eq(d.params[128].name, "p127")
    eq(#d.problems, 1)
    eq(d.problems[1].kind, "value_cut")
    eq(d.problems[1].message, "1000 parameters, the first 128 shown")
    eq(value:sub(d.problems[1].where.offset + 1, d.problems[1].where.offset + 6), "p128=1")
    eq(d.problems[1].where.offset + d.problems[1].where.length, #value)
end

T.message_diagnostics_pairs_each_code_with_its_reason = function()
    local bytes = ("SIP/2.0 404 Not Found\r\nVia: SIP/2.0/TLS a;branch=z9hG4bK1\r\n" ..
        "ms-diagnostics: 4005;reason=\"Destination URI either not enabled for SIP or does not exist\";source=\"fe\"\r\n" ..
        "MS-Diagnostics-Public: 1003;source=\"edge\"\r\n" ..
        "ms-diagnostics: abc;reason=\"orphan\"\r\n" ..
        "X: ms-diagnostics: 1;reason=\"no\"\r\n\r\nms-diagnostics: 2;reason=\"body\"\r\n")
    local d = core.message_diagnostics(bytes)
    eq(#d, 2)
    eq(d[1].code, 4005)
    eq(d[1].reason, "Destination URI either not enabled for SIP or does not exist")
    eq(d[2].code, 1003)
    eq(d[2].reason, "orphan")  -- the next reason item before any further code, as the compiled reader takes it
end

-- sip_header -----------------------------------------------------------------------------------------

T.name_addr_forms = function()
    local a = core.parse_name_addr("\"Marino \\\"F\\\"\" <sip:m@uclab.org;opaque=user:epid:X1;gruu>;tag=1;epid=2")
    eq(a.display_name, "Marino \"F\"")
    eq(a.uri, "sip:m@uclab.org;opaque=user:epid:X1;gruu")
    eq(core.gruu_epid(a), "X1")
    eq(core.find_param(a.params, "EPID").value, "2")
    local v = "Laurent Robert <sip:lr@x>"
    local b = core.parse_name_addr(v)
    eq(b.display_name, "Laurent Robert")
    eq(at(v, b.uri_span), "sip:lr@x")
    local c = core.parse_name_addr("sip:u@h;tag=9")
    eq(c.uri, "sip:u@h")
    eq(core.find_param(c.params, "tag").value, "9")
    eq(core.parse_name_addr("<sip:a@b"), nil)
    eq(core.parse_name_addr("<nouri>"), nil)
    eq(core.parse_name_addr("<sip:a@b>;x=\"open"), nil)
    eq(core.parse_name_addr("<sip:a@b> junk"), nil)
    local t = core.parse_token_params("active ; expires=3600")
    eq(t.token, "active")
    eq(t.params[1].value, "3600")
    eq(core.parse_token_params(";x"), nil)
end

T.scan_call_headers_first_occurrence_compact_and_folded = function()
    local h = core.scan_call_headers("SIP/2.0 487 Request Terminated\r\nv: SIP/2.0/UDP h;branch=z9hG4bKa, SIP/2.0/UDP x\r\n" ..
        "f: <sip:a@b>;tag=1\r\nFrom: <sip:other@b>\r\nTo: <sip:c@d>\r\n ;epid=7\r\nUser-Agent: UA\r\n\r\nm: body")
    eq(h.reason_phrase, "Request Terminated")
    eq(h.from, "<sip:a@b>;tag=1")
    eq(h.to, "<sip:c@d> ;epid=7")
    eq(h.user_agent, "UA")
    eq(h.via_branch, "z9hG4bKa")
    eq(h.contact, "")
end

-- ms_epid ---------------------------------------------------------------------------------------------

T.epid_from_to_field_case_002 = function()
    local from = core.from_to_epid("\"Marino Filipovic\"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028", "From")
    eq(from.epid, "1488039028")
    eq(from.tag, "0fae8454e3")
    eq(from.problem, "")
    local to = core.from_to_epid("<sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d", "To")
    eq(to.epid, "2798f0b3cc")
    eq(to.tag, "97a7d6045d")
    local plain = core.from_to_epid("<sip:izabelaf@uclab.org>", "To")
    eq(plain.epid, "")
    eq(plain.problem, "")
end

T.epid_broken_headers = function()
    local cases = {
        { "<sip:izabelaf@uclab.org>;epid;tag=c34587eaa8", "To header has an epid parameter without a value" },
        { "<sip:izabelaf@uclab.org>;epid=;tag=c34587eaa8", "To header has an epid parameter without a value" },
        { "<sip:izabelaf@uclab.org;epid=2798f0b3cc;tag=5f00ba11", "To header with an epid cannot be parsed as a SIP address" },
        { "<sip:a@b", "" },
        { "<sip:a@b; EPID = 7", "To header with an epid cannot be parsed as a SIP address" },
        { "Sepideh Karimi (HR) <sip:sepideh@example.com>;tag=9f1c", "" },
        { "<sip:sepideh@example.com>;tag=9f1c, junk", "" },
        { "<sip:epid@example.com", "" },
    }
    for _, c in ipairs(cases) do
        local r = core.from_to_epid(c[1], "To")
        eq(r.epid, "", c[1])
        eq(r.problem, c[2], c[1])
    end
    local big = core.from_to_epid("<sip:a@b>;epid=" .. string.rep("e", 300), "From")
    eq(big.epid, string.rep("e", 256))
    eq(big.problem, "From epid of 300 bytes shown cut to 256 bytes")
    eq(core.mentions_epid(";EPID=1"), true)
    eq(core.mentions_epid("xxEpId"), true)
    eq(core.mentions_epid("epi"), false)
    eq(core.mentions_epid(""), false)
end

T.epid_contact_gruu = function()
    eq(core.contact_epid("<sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>").epid,
        "uozeqPgOuFOVd0DaRpeFCgAA")
    eq(core.contact_epid("<sip:a@b;opaque=user:epid:X1;gruu>;expires=60, <sip:c@d>").epid, "X1")
    eq(core.contact_epid("<sip:bob@10.20.0.21:5060>").problem, "")
    eq(core.contact_epid("<sip:izabelaf@uclab.org;opaque=user:epid:;gruu>").problem,
        "Contact GRUU has opaque=user:epid: without an epid")
    eq(core.contact_epid("<sip:izabelaf@uclab.org;opaque=user:epid:abc").problem,
        "Contact header with a GRUU epid cannot be parsed as a SIP address")
    local reg = core.contact_epid("<sip:192.168.0.7:49861;transport=tls;ms-opaque=d3470f2e1d>;expires=7200;" ..
        "+sip.instance=\"<urn:uuid:0f6c7e41-5d2b-5a6b-9f3e-1a2b3c4d5e6f>\";" ..
        "gruu=\"sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu\"")
    eq(reg.epid, "uozeqPgOuFOVd0DaRpeFCgAA")
    eq(reg.problem, "")
    local list = core.contact_epid("<sip:a@b>, <sip:c@d;opaque=user:epid:X1;gruu>")
    eq(list.epid, "")
    eq(list.problem, "")
    eq(core.contact_epid("<sip:a@b>;gruu=\"sip:a@b;opaque=user:epid:;gruu\"").problem, "")
end

local FROM = "From: \"Marino Filipovic\"<sip:marinof@uclab.org>;tag=0fae8454e3;epid=1488039028\n"

-- A message as ss_sip would give it: the fixture's fields, and a parse problem for an unreadable header.
local function epids_of(text, unreadable_to, cut_after)
    local m = F.sip(text, 1, 0, nil)
    local bytes = m.bytes
    local truncated = false
    if cut_after then
        bytes = bytes:sub(1, (bytes:find(cut_after, 1, true)) + #cut_after - 1)
        truncated = true
    end
    if unreadable_to then
        m.to = F.party("")
        m.problems = { { header = "To", what = "not a name-addr" } }
    end
    return core.message_epids(m, truncated, bytes)
end

T.message_epids_field_case_and_broken_ones = function()
    local e = epids_of("SIP/2.0 183 Session Progress\n" .. FROM ..
        "To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d\n" ..
        "Contact: <sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>\n")
    eq(e.from, "1488039028")
    eq(e.to, "2798f0b3cc")
    eq(e.contact, "uozeqPgOuFOVd0DaRpeFCgAA")
    eq(#e.problems, 0)
    e = epids_of("SIP/2.0 183 Session Progress\n" .. FROM .. "To: <sip:izabelaf@uclab.org>;epid;tag=c34587eaa8\n" ..
        "Contact: <sip:izabelaf@uclab.org;opaque=user:epid:ATX04NzZClmCm9_s1BVjeAAA;gruu>\n")
    eq(e.to, "")
    eq(e.contact, "ATX04NzZClmCm9_s1BVjeAAA")
    list_eq(e.problems, { "To header has an epid parameter without a value" })
    e = epids_of("SIP/2.0 183 Session Progress\n" .. FROM .. "To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d\n" ..
        "Contact: <sip:izabelaf@uclab.org;opaque=user:epid:;gruu>\n")
    eq(e.to, "2798f0b3cc")
    eq(e.contact, "")
    list_eq(e.problems, { "Contact GRUU has opaque=user:epid: without an epid" })
    e = epids_of("SIP/2.0 183 Session Progress\n" .. FROM .. "To: <sip:izabelaf@uclab.org;epid=2798f0b3cc;tag=5f00ba11\n", true)
    eq(e.from, "1488039028")
    eq(e.to, "")
    list_eq(e.problems, { "To header with an epid cannot be parsed as a SIP address" })
    e = epids_of("SIP/2.0 183 Session Progress\n" .. FROM .. "To: <sip:sepideh@uclab.org\n", true)
    eq(#e.problems, 0)
    e = epids_of("SIP/2.0 200 OK\nFrom: <sip:alice@example.net>;tag=1\nTo: <sip:alice@example.net>;tag=2\n" ..
        "Contact: <sip:10.20.0.11:5060;transport=udp>;expires=3600;" ..
        "gruu=\"sip:alice@example.net;opaque=user:epid:Zk9x2Lw7QmSd3VbN1HcE4gAA;gruu\"\n")
    eq(e.contact, "Zk9x2Lw7QmSd3VbN1HcE4gAA")
    eq(#e.problems, 0)
    -- the snap length cut the To line: ignored, never malformed
    e = epids_of("SIP/2.0 183 Session Progress\n" .. FROM .. "To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d\n",
        false, "uclab.org>;epid")
    eq(e.from, "1488039028")
    eq(e.to, "")
    eq(#e.problems, 0)
end

-- call_fork ---------------------------------------------------------------------------------------------

local CALL = "e34305289c3b4c368c583f531fddeff3"
local CALLER, OC, PHONE = "0fae8454e3", "c34587eaa8", "97a7d6045d"
local OC_AGENT = "UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)"
local PHONE_AGENT = "CPE/3.5.6907.0 OCPhone/3.5.6907.0 (Office Communicator Phone 2007 R2)"
local UP = F.flow("udp", 0, "10.20.0.11", 5060, "10.20.0.1", 5060)
local DOWN = F.reversed(UP)

local function base(frame, cseq, method, to_tag, branch, from_tag)
    return {
        frame = frame, index = 0, call_id = CALL, from = { tag = from_tag, epid = "", has_epid = false, uri = "", display = "" },
        to = { tag = to_tag, epid = "", has_epid = false, uri = "", display = "" }, has_cseq = true, cseq = cseq,
        cseq_method = method, via = { present = true, transport = "UDP", host = "10.20.0.11", port = 5060,
        branch = branch == "" and "" or "z9hG4bK" .. branch }, via_count = 1, contacts = {}, record_route = {},
        user_agent = "", server = "", reason = "", status = 0, method = "", request = false, problems = {},
    }
end

local function req(frame, method, cseq, to_tag, branch, from_tag)
    local m = base(frame, cseq, method, to_tag, branch, from_tag or CALLER)
    m.request = true
    m.method = method
    m.flow = UP
    return m
end

local function resp(frame, status, reason, cseq, method, to_tag, branch, agent, epid, contact)
    local m = base(frame, cseq, method, to_tag, branch, CALLER)
    m.status = status
    m.reason = reason
    m.user_agent = agent or ""
    m.to.epid = epid or ""
    m.flow = DOWN
    contact = contact or ""
    if contact == "" and to_tag ~= "" then contact = "sip:ua@" .. to_tag .. ".example.net" end
    if contact ~= "" and contact ~= "-" then m.contacts[1] = { uri = contact, raw = "<" .. contact .. ">", gruu_epid = "" } end
    return m
end

local function feed(max_calls, limits)
    local f = { txns = txn.new(), dialogs = dialog.new(limits), tracker = core.new_tracker(max_calls),
                clock = 1000 * txn.SECOND }
    function f.go(m)
        f.clock = f.clock + txn.MILLI
        m.time = f.clock
        local t = f.txns:on_message(m)
        local d = f.dialogs:on_message(m, t)
        m.txn, m.dialog = t, d
        return f.tracker:observe(m, t, d)
    end
    return f
end

-- {endpoint, count, answered_by, transaction, request_frame, reveals_fork, answers_call, ends_branch}
local function check(v, e, what)
    what = what or ""
    eq(v.in_call, true, what .. " in_call")
    eq(v.endpoint, e[1], what .. " endpoint")
    eq(v.endpoint_count, e[2], what .. " count")
    eq(v.answered_by, e[3], what .. " answered_by")
    eq(v.transaction, e[4], what .. " transaction")
    eq(v.request_frame, e[5], what .. " request_frame")
    eq(v.reveals_fork, e[6] or false, what .. " reveals_fork")
    eq(v.answers_call, e[7] or false, what .. " answers_call")
    eq(v.ends_branch, e[8] or false, what .. " ends_branch")
end

local INITIAL = "initial INVITE (CSeq 1)"

T.fork_field_case_002 = function()
    local t = feed()
    local progress = resp(6, 101, "Progress Report", 1, "INVITE", "", "b1")
    progress.index = 1
    local flow = {
        { req(4, "INVITE", 1, "", "b1"), { 0, 0, 0, INITIAL, 0 } },
        { resp(6, 100, "Trying", 1, "INVITE", "", "b1"), { 0, 0, 0, INITIAL, 4 } },
        { progress, { 0, 0, 0, INITIAL, 4 } },
        { resp(9, 183, "Session Progress", 1, "INVITE", OC, "b1", OC_AGENT, "aad34505db"), { 1, 1, 0, INITIAL, 4 } },
        { req(11, "PRACK", 2, OC, "b2"), { 1, 1, 0, "PRACK (CSeq 2)", 0 } },
        { resp(13, 200, "OK", 2, "PRACK", OC, "b2", OC_AGENT), { 1, 1, 0, "PRACK (CSeq 2)", 11 } },
        { resp(15, 183, "Session Progress", 1, "INVITE", PHONE, "b1", PHONE_AGENT, "2798f0b3cc"), { 2, 2, 0, INITIAL, 4, true } },
        { req(17, "PRACK", 2, PHONE, "b3"), { 2, 2, 0, "PRACK (CSeq 2)", 0 } },
        { resp(19, 200, "OK", 2, "PRACK", PHONE, "b3", PHONE_AGENT), { 2, 2, 0, "PRACK (CSeq 2)", 17 } },
        { resp(22, 200, "OK", 1, "INVITE", PHONE, "b1", PHONE_AGENT), { 2, 2, 2, INITIAL, 4, false, true } },
        { req(24, "ACK", 1, PHONE, "b4"), { 2, 2, 2, "ACK (CSeq 1)", 0 } },
        { req(27, "INVITE", 3, PHONE, "b5"), { 2, 2, 2, "re-INVITE (CSeq 3)", 0 } },
        { resp(30, 200, "OK", 3, "INVITE", PHONE, "b5", PHONE_AGENT), { 2, 2, 2, "re-INVITE (CSeq 3)", 27 } },
    }
    for _, step in ipairs(flow) do check(t.go(step[1]), step[2], "frame " .. step[1].frame) end
    eq(t.tracker:size(), 1)
    local c = t.tracker:call(1)
    eq(c.invite_frame, 4)
    eq(c.answered_by, 2)
    eq(c.answer_frame, 22)
    eq(c.fork_frame, 15)
    eq(#c.endpoints, 2)
    eq(c.endpoints[1].epid, "aad34505db")
    eq(c.endpoints[1].agent, OC_AGENT)
    eq(c.endpoints[1].final_status, 0)
    eq(c.endpoints[1].last_frame, 13)
    eq(c.endpoints[2].epid, "2798f0b3cc")
    eq(c.endpoints[2].final_status, 200)
    eq(c.endpoints[2].last_frame, 30)
    eq(core.branch_ended_by(c, 1), 22)
    eq(core.branch_ended_by(c, 2), 0)
end

T.fork_responses_without_via_branch_name_their_calls_request = function()
    local t = feed()
    t.go(req(4, "INVITE", 1, "", "b1"))
    check(t.go(resp(9, 183, "Session Progress", 1, "INVITE", OC, "")), { 1, 1, 0, INITIAL, 4 })
    t.go(req(11, "PRACK", 2, OC, "b2"))
    check(t.go(resp(13, 200, "OK", 2, "PRACK", OC, "")), { 1, 1, 0, "PRACK (CSeq 2)", 11 })
    check(t.go(resp(15, 183, "Session Progress", 1, "INVITE", PHONE, "")), { 2, 2, 0, INITIAL, 4, true })
    t.go(req(17, "PRACK", 2, PHONE, "b3"))
    check(t.go(resp(19, 200, "OK", 2, "PRACK", PHONE, "")), { 2, 2, 0, "PRACK (CSeq 2)", 17 })
    check(t.go(resp(22, 200, "OK", 1, "INVITE", PHONE, "")), { 2, 2, 2, INITIAL, 4, false, true })
    t.go(req(27, "INVITE", 3, PHONE, "b5"))
    check(t.go(resp(30, 200, "OK", 3, "INVITE", PHONE, "")), { 2, 2, 2, "re-INVITE (CSeq 3)", 27 })
    check(t.go(resp(31, 200, "OK", 3, "INVITE", PHONE, "zz")), { 2, 2, 2, "re-INVITE (CSeq 3)", 0 })
end

T.fork_proxy_view_of_three_endpoints = function()
    local t = feed()
    t.go(req(1, "INVITE", 1, "", "a1"))
    for n = 1, 3 do t.go(req(2 + n, "INVITE", 1, "", "p" .. n)) end
    check(t.go(resp(6, 180, "Ringing", 1, "INVITE", "t1", "p1", "desk")), { 1, 1, 0, INITIAL, 3 })
    check(t.go(resp(7, 180, "Ringing", 1, "INVITE", "t1", "a1", "desk")), { 1, 1, 0, INITIAL, 1 })
    check(t.go(resp(8, 180, "Ringing", 1, "INVITE", "t2", "p2", "mobile")), { 2, 2, 0, INITIAL, 4, true })
    t.go(resp(9, 180, "Ringing", 1, "INVITE", "t2", "a1", "mobile"))
    check(t.go(resp(10, 180, "Ringing", 1, "INVITE", "t3", "p3", "soft")), { 3, 3, 0, INITIAL, 5 })
    t.go(resp(11, 180, "Ringing", 1, "INVITE", "t3", "a1", "soft"))
    check(t.go(resp(12, 200, "OK", 1, "INVITE", "t2", "p2", "mobile")), { 2, 3, 2, INITIAL, 4, false, true })
    check(t.go(resp(13, 200, "OK", 1, "INVITE", "t2", "a1", "mobile")), { 2, 3, 2, INITIAL, 1 })
    check(t.go(req(14, "CANCEL", 1, "", "p1")), { 1, 3, 2, "CANCEL (CSeq 1)", 0 })
    check(t.go(req(15, "CANCEL", 1, "", "p3")), { 3, 3, 2, "CANCEL (CSeq 1)", 0 })
    check(t.go(req(99, "CANCEL", 1, "", "a1")), { 0, 3, 2, "CANCEL (CSeq 1)", 0 })
    check(t.go(resp(16, 200, "OK", 1, "CANCEL", "t1", "p1", "desk", "", "-")), { 1, 3, 2, "CANCEL (CSeq 1)", 14 })
    check(t.go(resp(17, 487, "Request Terminated", 1, "INVITE", "t1", "p1", "desk")), { 1, 3, 2, INITIAL, 3, false, false, true })
    check(t.go(resp(20, 487, "Request Terminated", 1, "INVITE", "t3", "p3", "soft")), { 3, 3, 2, INITIAL, 5, false, false, true })
    eq(t.go(resp(21, 487, "Request Terminated", 1, "INVITE", "t3", "p3", "soft")).ends_branch, false)
    local c = t.tracker:call(1)
    eq(c.endpoints[1].final_status, 487)
    eq(c.endpoints[1].final_reason, "Request Terminated")
    eq(c.endpoints[1].final_frame, 17)
    eq(c.endpoints[3].final_frame, 20)
    eq(core.branch_ended_by(c, 1), 12)
    eq(core.branch_ended_by(c, 3), 12)
    eq(core.branch_ended_by(c, 2), 0)
    eq(core.branch_ended_by(c, 0), 0)
    eq(core.branch_ended_by(c, 4), 0)
end

T.branch_ended_by_only_branches_the_answer_ended = function()
    local function ep(status, frame) return { final_status = status, final_frame = frame } end
    local c = { endpoints = { ep(486, 8), ep(0, 0), ep(487, 9) }, answered_by = 0, answer_frame = 0 }
    eq(core.branch_ended_by(c, 1), 0)
    eq(core.branch_ended_by(c, 3), 0)
    c.answered_by, c.answer_frame = 2, 12
    c.endpoints[2] = ep(200, 12)
    eq(core.branch_ended_by(c, 1), 0)
    eq(core.branch_ended_by(c, 3), 0)
    c.endpoints[3].final_frame = 14
    eq(core.branch_ended_by(c, 3), 12)
end

T.fork_unforked_call_and_callee_bye = function()
    local t = feed()
    t.go(req(1, "INVITE", 1, "", "x1"))
    check(t.go(resp(3, 180, "Ringing", 1, "INVITE", "c1", "x1", "carol")), { 1, 1, 0, INITIAL, 1 })
    check(t.go(resp(4, 200, "OK", 1, "INVITE", "c1", "x1", "carol")), { 1, 1, 1, INITIAL, 1, false, true })
    local bye = req(6, "BYE", 7, CALLER, "y1", "c1")
    bye.flow = DOWN
    local by_callee = t.go(bye)
    check(by_callee, { 1, 1, 1, "BYE (CSeq 7)", 0 })
    eq(by_callee.from_endpoint, true)
    local ok = resp(7, 200, "OK", 7, "BYE", CALLER, "y1", "", "", "-")
    ok.from.tag = "c1"
    ok.flow = UP
    local v = t.go(ok)
    check(v, { 1, 1, 1, "BYE (CSeq 7)", 6 })
    eq(v.from_endpoint, false)
end

T.fork_proxy_responses_and_challenges_are_no_endpoint = function()
    local t = feed()
    t.go(req(1, "INVITE", 1, "", "x1"))
    local v = t.go(resp(2, 101, "Progress Report", 1, "INVITE", "proxytag", "x1", "InboundRouting/3.5.0.0"))
    eq(v.endpoint, 0)
    eq(v.endpoint_count, 0)
    t = feed()
    t.go(req(1, "INVITE", 1, "", "x1"))
    check(t.go(resp(2, 407, "Proxy Authentication Required", 1, "INVITE", "proxytag", "x1")), { 0, 0, 0, INITIAL, 1 })
    check(t.go(req(4, "INVITE", 2, "", "x2")), { 0, 0, 0, "initial INVITE (CSeq 2)", 0 })
    check(t.go(resp(6, 200, "OK", 2, "INVITE", "b1", "x2", "bob")), { 1, 1, 1, "initial INVITE (CSeq 2)", 4, false, true })
    eq(t.tracker:call(1).invite_cseq, 2)
end

T.fork_proxys_own_tag_on_the_cancel_response_is_no_endpoint = function()
    local t = feed()
    t.go(req(1, "INVITE", 1, "", "x1"))
    check(t.go(resp(3, 180, "Ringing", 1, "INVITE", "uas", "x1", "echo")), { 1, 1, 0, INITIAL, 1 })
    check(t.go(req(4, "CANCEL", 1, "", "x1")), { 1, 1, 0, "CANCEL (CSeq 1)", 0 })
    check(t.go(resp(5, 200, "canceling", 1, "CANCEL", "proxytag", "x1", "SER", "", "-")), { 0, 1, 0, "CANCEL (CSeq 1)", 4 })
    check(t.go(resp(6, 487, "Request Terminated", 1, "INVITE", "uas", "x1", "echo")), { 1, 1, 0, INITIAL, 1, false, false, true })
    eq(#t.tracker:call(1).endpoints, 1)
end

T.fork_b2bua_changing_its_to_tag_is_one_endpoint = function()
    local t = feed()
    t.go(req(1, "INVITE", 1, "", "x1"))
    local ringing = resp(8, 180, "Ringing", 1, "INVITE", "806d", "x1", "", "", "sip:10.186.205.131:5060;transport=tcp")
    ringing.record_route = { "sip:10.186.205.131:5060;transport=tcp;lr" }
    local answer = resp(12, 200, "OK", 1, "INVITE", "0603", "x1", "", "", "sip:10.186.205.131:5060;transport=tcp")
    answer.record_route = { "sip:10.186.205.131:5060;transport=tcp;lr" }
    check(t.go(ringing), { 1, 1, 0, INITIAL, 1 })
    local v = t.go(answer)
    check(v, { 1, 1, 1, INITIAL, 1, false, true })
    eq(v.tag_changed, true)
    check(t.go(req(13, "ACK", 1, "0603", "x2")), { 1, 1, 1, "ACK (CSeq 1)", 0 })
    check(t.go(req(14, "BYE", 2, "806d", "x3")), { 1, 1, 1, "BYE (CSeq 2)", 0 })
    list_eq(t.tracker:call(1).endpoints[1].tags, { "806d", "0603" })
    -- the twin: two Contacts behind one proxy are a fork
    t = feed()
    t.go(req(1, "INVITE", 1, "", "x1"))
    local desk = resp(8, 180, "Ringing", 1, "INVITE", "a1b2", "x1", "", "", "sip:4006@10.186.205.151:5060")
    local soft = resp(10, 180, "Ringing", 1, "INVITE", "9f8e", "x1", "", "", "sip:4006@10.186.205.152:5060")
    desk.record_route = { "sip:10.186.205.140:5060;transport=tcp;lr" }
    soft.record_route = { "sip:10.186.205.140:5060;transport=tcp;lr" }
    check(t.go(desk), { 1, 1, 0, INITIAL, 1 })
    v = t.go(soft)
    check(v, { 2, 2, 0, INITIAL, 1, true })
    eq(v.tag_changed, false)
end

T.fork_pbxs_own_ringing_without_contact_is_no_second_endpoint = function()
    local t = feed()
    t.go(req(581, "INVITE", 1, "", "x1"))
    local route = { "sip:192.168.5.11:7818;lr" }
    local pbx = resp(584, 180, "Ringing", 1, "INVITE", "8ff1eedd1f", "x1", "MSFTRP 2.0", "", "-")
    local phone = resp(596, 180, "Ringing", 1, "INVITE", "4918467", "x1", "YV5/1.1.4", "", "sip:204@192.168.5.20:5060")
    local other = resp(597, 180, "Ringing", 1, "INVITE", "77aa", "x1", "YV5/1.1.4", "", "sip:205@192.168.5.21:5060")
    pbx.record_route, phone.record_route, other.record_route = route, route, route
    check(t.go(pbx), { 1, 1, 0, INITIAL, 581 })
    local v = t.go(phone)
    check(v, { 1, 1, 0, INITIAL, 581 })
    eq(v.tag_changed, true)
    eq(t.tracker:call(1).endpoints[1].agent, "YV5/1.1.4")
    check(t.go(other), { 2, 2, 0, INITIAL, 581, true })
end

T.fork_ignores_other_messages_and_is_bounded = function()
    local t = feed(1)
    eq(t.go(resp(1, 200, "OK", 1, "INVITE", "z", "q")).in_call, false)
    eq(t.go(req(2, "REGISTER", 1, "", "r1")).in_call, false)
    eq(t.go(req(3, "INVITE", 1, "", "r2", "")).in_call, false)
    eq(t.go(req(4, "INVITE", 1, "", "r3")).in_call, true)
    local second = req(5, "INVITE", 1, "", "r4")
    second.call_id = "another"
    local v = t.go(second)
    eq(v.in_call, false)
    eq(v.not_tracked_full, true)
    eq(t.tracker:size(), 1)
    -- endpoints per call
    t = feed(20000, { max_forks = 1000 })
    t.go(req(1, "INVITE", 1, "", "x1"))
    for n = 0, core.MAX_ENDPOINTS + 2 do
        local w = t.go(resp(2 + n, 180, "Ringing", 1, "INVITE", "tag" .. n, "x1"))
        eq(w.endpoint, n < core.MAX_ENDPOINTS and n + 1 or 0, "endpoint of tag" .. n)
    end
    eq(#t.tracker:call(1).endpoints, core.MAX_ENDPOINTS)
    -- transactions per call
    t = feed()
    t.go(req(1, "INVITE", 1, "", "x1"))
    for n = 0, 512 + 9 do t.go(resp(2 + n, 180, "Ringing", 1, "INVITE", "t1", "b" .. n)) end
    eq(t.tracker:transactions(1), 512)
    eq(t.go(req(9000, "CANCEL", 1, "", "b0")).endpoint, 1)
end

T.fork_calls_sharing_a_call_id_are_found_by_tag = function()
    local t = feed(100000)
    local calls = 2000
    for i = 0, calls - 1 do
        local v = t.go(req(i + 1, "INVITE", 1, "", "b" .. i, "caller" .. i))
        if not v.in_call or v.call ~= i + 1 then error("call " .. i) end
    end
    local r = resp(calls + 1, 180, "Ringing", 1, "INVITE", "callee", "b7")
    r.from.tag = "caller7"
    local v = t.go(r)
    eq(v.call, 8)
    eq(v.endpoint, 1)
    eq(v.request_frame, 8)
    v = t.go(req(calls + 2, "BYE", 2, "caller12", "bx", "caller900"))
    eq(v.call, 13)
    v = t.go(req(calls + 3, "BYE", 3, "caller900", "by", "caller12"))
    eq(v.call, 13)
    eq(v.endpoint, 0)
    eq(v.endpoint_count, 0)
end

-- render: the compiled plugin's texts ----------------------------------------------------------------

local function experts(ops)
    local out = {}
    for _, op in ipairs(ops) do
        if op.op == "expert" or op.op == "tree_expert" then out[#out + 1] = op.name .. ": " .. op.text end
    end
    return out
end

local function fields(ops, name)
    local out = {}
    for _, op in ipairs(ops) do
        if op.op == "field" and op.name == name then out[#out + 1] = tostring(op.value) end
    end
    return table.concat(out, ",")
end

T.render_three_endpoint_fork_one_pass_and_revisit = function()
    local t = feed()
    local kept = {}
    local function go(m)
        local mv = core.analyse(m, nil, m.bytes, false)
        mv.view = t.go(m)
        kept[#kept + 1] = { m = m, mv = mv }
        return mv
    end
    go(req(1, "INVITE", 1, "", "a1"))
    for n = 1, 3 do go(req(2 + n, "INVITE", 1, "", "p" .. n)) end
    local polycom = "PolycomVVX-VVX_411-UA/6.4.3.5018"
    local yealink = "Yealink SIP-T46U 108.86.0.20"
    local bria = "Bria 6 release 6.5.1 stamp 109876"
    go(resp(6, 180, "Ringing", 1, "INVITE", "t1", "p1", polycom))
    local fork = go(resp(8, 180, "Ringing", 1, "INVITE", "t2", "p2", yealink))
    go(resp(10, 180, "Ringing", 1, "INVITE", "t3", "p3", bria))
    local answer = go(resp(12, 200, "OK", 1, "INVITE", "t2", "p2", yealink))
    local lose1 = go(resp(17, 487, "Request Terminated", 1, "INVITE", "t1", "p1", polycom))
    local ops = core.render(fork, t.tracker, false, 8, 20000)
    list_eq(experts(ops), { "mssip.forked_call: Call forked to 2 endpoints" })
    eq(fields(ops, "mssip.endpoint_count"), "2")
    eq(fields(ops, "mssip.forked"), "true")
    eq(fields(ops, "mssip.transaction.request_frame"), "4")
    -- a revisit knows the final count
    eq(fields(core.render(fork, t.tracker, true, 8, 20000), "mssip.endpoint_count"), "3")
    list_eq(experts(core.render(answer, t.tracker, false, 12, 20000)),
        { "mssip.answered: Forked call answered by endpoint 2 of 3 (" .. yealink .. ")" })
    ops = core.render(lose1, t.tracker, false, 17, 20000)
    list_eq(experts(ops), { "mssip.losing_branch: Losing branch: endpoint 1 of 3 (" .. polycom ..
        ") ended with 487 Request Terminated; endpoint 2 answered in frame 12" })
    eq(fields(ops, "mssip.caused_by"), "12")
    eq(fields(ops, "mssip.answered_by.frame"), "12")
    -- the never-answering branch is named on its last message, on revisits only
    local last3 = kept[7]
    eq(last3.m.frame, 10)
    eq(#experts(core.render(last3.mv, t.tracker, false, 10, 20000)), 0)
    list_eq(experts(core.render(last3.mv, t.tracker, true, 10, 20000)), { "mssip.losing_branch: Losing branch: endpoint 3 of 3 (" ..
        bria .. ") sent no final response; endpoint 2 answered in frame 12" })
    eq(fields(core.render(last3.mv, t.tracker, true, 10, 20000), "mssip.caused_by"), "12")
    local appended = {}
    for _, op in ipairs(core.render(answer, t.tracker, true, 12, 20000)) do
        if op.op == "append" then appended[#appended + 1] = op.text end
    end
    eq(table.concat(appended), ", endpoint 2 of 3, initial INVITE (CSeq 1)")
end

T.render_long_texts_are_cut = function()
    local t = feed()
    local long_agent = string.rep("A", 300)
    local function go(m)
        local mv = core.analyse(m, nil, nil, false)
        mv.view = t.go(m)
        return mv
    end
    go(req(1, "INVITE", 1, "", "a1"))
    local r = resp(2, 180, "Ringing", 1, "INVITE", "t1", "a1", long_agent)
    local m2 = go(r)
    go(resp(3, 180, "Ringing", 1, "INVITE", "t2", "a1", "B"))
    go(resp(4, 200, "OK", 1, "INVITE", "t2", "a1", "B"))
    local lose = go(resp(5, 486, string.rep("Busy ", 20), 1, "INVITE", "t1", "a1", long_agent))
    local e = experts(core.render(lose, t.tracker, false, 5, 20000))
    eq(#e, 1)
    local text = e[1]:sub(#"mssip.losing_branch: " + 1)
    eq(text, "Losing branch: endpoint 1 of 2 (" .. string.rep("A", 77) .. "...) ended with 486 " ..
        ("Busy "):rep(6):sub(1, 29) .. "...; endpoint 2 answered in frame 4")
    eq(fields(core.render(m2, t.tracker, false, 2, 20000), "mssip.endpoint.agent"), long_agent)
    eq(#experts(core.render(lose, t.tracker, false, 5, 20000)), 1)
end

T.render_diagnostics_errors_and_full_table = function()
    local bytes = ("SIP/2.0 404 Not Found\r\nms-diagnostics: 4005;reason=\"Destination URI either not enabled for SIP or does not exist.\"" ..
        ";source=\"fe\"\r\nms-diagnostics-public: 51004;reason=\"Action initiated by user\"\r\n\r\n")
    local m = F.sip("SIP/2.0 404 Not Found\nVia: SIP/2.0/TLS a;branch=z9hG4bK1\nCall-ID: x\nCSeq: 1 INVITE\n", 1, 0, UP)
    local mv = core.analyse(m, nil, bytes, false)
    eq(core.worth_keeping(mv), true)
    list_eq(experts(core.render(mv, nil, false, 1, 20000)), {
        "mssip.diagnostics_error: 404 Not Found with ms-diagnostics 4005 (Destination URI either not enabled for SIP or does not exist)",
        "mssip.diagnostics_error: 404 Not Found with ms-diagnostics 51004: reason \"Action initiated by user\"",
    })
    -- a 3xx with diagnostics is no error
    m.status = 302
    eq(#core.analyse(m, nil, bytes, false).diag_errors, 0)
    eq(core.worth_keeping(core.analyse(m, nil, bytes, false)), false)
    -- the call table full
    local t = feed(0)
    local inv = req(1, "INVITE", 1, "", "a1")
    local full = core.analyse(inv, nil, nil, false)
    full.view = t.go(inv)
    eq(core.worth_keeping(full), true)
    list_eq(experts(core.render(full, t.tracker, false, 1, 7)), {
        "mssip.call_table_full: Call not tracked: already tracking mssip.max_calls = 7 calls" })
end

return T
