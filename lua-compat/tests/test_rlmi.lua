-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of rlmi_core (parser, summary, link_instances), outside Wireshark. Expected texts are the
-- compiled suite's (plugins/core rlmi.cc). Returns a table of name -> function.

local check = require("check")
local R = require("rlmi_core")

local eq = check.eq

local problems = check.problems

local LIST = "sip:~~rl~C~207@victoria.pingtel.com"
local function body(resources)
    return '<?xml version="1.0" encoding="UTF-8"?>\n<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="' .. LIST
        .. '" version="4" fullState="true">\n<name xml:lang="en">BLF</name>\n' .. resources .. '</list>\n'
end
local function resource(uri, id, state, cid)
    return '<resource uri="' .. uri .. '"><name>' .. uri .. '</name><instance id="' .. id .. '" state="' .. state .. '"'
        .. (cid and (' cid="' .. cid .. '"') or "") .. '/></resource>\n'
end

local T = {}

T.healthy_list = function()
    local r = R.parse(body(resource("sip:208@v", "consolidated", "active", "1@v") .. resource("sip:210@v", "c2", "pending", "2@v")))
    eq(problems(r), "")
    eq(r.decoded, true)
    eq(r.version_value, 4)
    eq(r.full, true)
    eq(r.names[1].lang.value, "en")
    eq(R.summary(r), "RLMI v4 full " .. LIST .. ": 2 resources, 2 instances")
    eq(r.resources[2].instances[1].cid.value, "2@v")
end

T.rfc_violations = function()
    local r = R.parse('<list xmlns="urn:ietf:params:xml:ns:rlmi" version="x" fullState="maybe">'
        .. '<resource><instance state="gone"><foo/></instance><extra/></resource><x:y xmlns:x="urn:v"/></list>')
    eq(problems(r), table.concat({
        "missing_attribute: <list> has no uri attribute",
        'bad_value: Version "x" is not a number from 0 to 4294967295',
        'unknown_value: fullState "maybe" is not true or false',
        "missing_attribute: <resource> has no uri attribute",
        "missing_attribute: <instance> has no id attribute",
        'unknown_value: Instance state "gone" is not active, pending or terminated',
        "unknown_element: Element <foo> is not defined in <instance> by RFC 4662: shown generically",
        "unknown_element: Element <extra> is not defined in <resource> by RFC 4662: shown generically",
    }, "\n"))
    eq(r.extensions[1].name, "x:y")
    eq(R.summary(r), "RLMI vx: 1 resource, 1 instance")
    eq(problems(R.parse("<list/>")), "wrong_root: Root element is <list> in no namespace, not <list> in "
        .. "urn:ietf:params:xml:ns:rlmi (mislabelled body?)")
end

T.links = function()
    local r = R.parse(body(resource("sip:208@v", "consolidated", "active", "1@v") .. resource("sip:210@v", "c2", "active", "cid:2%40v")))
    local parts = {
        { content_id = "", content_type = "application/rlmi+xml", summary = "", is_root = true },
        { content_id = "<1@v>", content_type = "application/dialog-info+xml", summary = "s1", is_root = false },
        { content_id = "<2@v>", content_type = "application/dialog-info+xml", summary = "s2", is_root = false },
    }
    local l = R.link_instances(r, parts, true)
    eq(l.instance_part[1], 2)
    eq(l.instance_part[2], 3, "a cid: URL is read as its Content-ID")
    eq(l.missing[1] .. l.missing[2], "")
    eq(table.concat(l.unreferenced), "")

    parts[3].content_id = "<3@v>"
    l = R.link_instances(r, parts, true)
    eq(l.instance_part[2], false)
    eq(l.missing[2], 'Instance "c2" names cid cid:2%40v, which no part of this multipart body has as Content-ID')
    eq(l.unreferenced[3], "Part 3 (application/dialog-info+xml, Content-ID <3@v>) is named by no RLMI instance, "
        .. "and an instance's cid names no part (the same mismatch?)")
    eq(l.unreferenced_consequence[3], true)

    l = R.link_instances(r, {}, false)
    eq(l.missing[1], "RLMI document names parts by cid (2 instances) but is not in a multipart/related body")
    eq(l.missing[2], "", "one incident")

    local lone = R.parse(body(resource("sip:208@v", "i", "active")))
    l = R.link_instances(lone, { { content_id = "", content_type = "", summary = "", is_root = true },
        { content_id = "", content_type = "", summary = "", is_root = false } }, true)
    eq(l.unreferenced[2], "Part 2 (no Content-Type, no Content-ID) is named by no RLMI instance")
    eq(l.unreferenced_consequence[2], false)
end

T.hostile_bodies_never_raise = function()
    local seed = body(resource("sip:208@v", "consolidated", "active", "1@v"))
    local pieces = { "<", ">", "</", "/>", "<![CDATA[", "<!DOCTYPE", "xmlns=\"\"", "&#0;", "\255", "\0", "=\"" }
    local seedn = 777
    local function rnd(n)
        seedn = (seedn * 1103515245 + 12345) % 2147483648
        return seedn % n + 1
    end
    for _ = 1, 300 do
        local s = seed
        for _ = 1, rnd(5) do
            local at = rnd(#s)
            if rnd(2) == 1 then s = s:sub(1, at) .. pieces[rnd(#pieces)] .. s:sub(at + 1)
            else s = s:sub(1, at) .. s:sub(at + rnd(30)) end
        end
        local r = R.parse(s)
        R.summary(r)
        R.link_instances(r, { { content_id = "<1@v>", content_type = "t", summary = "", is_root = false } }, true)
    end
end

return T
