-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of ciscoalarm_core (and the XML layer it reads through), outside Wireshark. Expected
-- values are the compiled suite's (plugins/core cisco_alarm.cc, content_id.cc) on the same bodies.
-- Returns a table of name -> function; a failing check raises.

local check = require("check")
local here = (debug.getinfo(1, "S").source:sub(2):match("^(.*)[/\\]") or ".")
package.path = here .. "/../sipsleuth/lib/?.lualib;" .. package.path
local C = require("ciscoalarm_core")

local eq = check.eq

local function read(name)
    local f = assert(io.open(here .. "/../../captures/bodies/" .. name, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

local function kinds(alarm)
    local out = {}
    for _, p in ipairs(alarm.problems) do out[#out + 1] = p.kind .. ": " .. p.message end
    return table.concat(out, "\n")
end

local T = {}

T.seed_last_out_of_service = function()
    local a = C.parse(read("seed003_last_out_of_service_information.xml"))
    eq(a.decoded, true)
    eq(a.name, "LastOutOfServiceInformation")
    eq(#a.params, 27, "parameters")
    eq(kinds(a), "", "problems")
    eq(C.summary(a), "Cisco alarm LastOutOfServiceInformation: ReasonForOutOfService 25 (LastTimeInitialized)")
    eq(C.out_of_service_note(a),
        "Phone was out of service: reason 25 (Phone initialized), phone's text \"LastTimeInitialized\"")
    local ip = C.find(a, "ipv4_address")
    eq(ip.typed.kind, "ipv4")
    eq(ip.typed.address, "192.168.15.20")
    eq(ip.typed.prefix_length, 24)
    eq(C.find(a, "ipv6_address").typed.kind, "none", "empty IPv6 address")
    eq(C.find(a, "timestamp").typed.number, 1579128304808)
    local sent = C.find(a, "last_event_sent").event
    eq(sent.direction, "Sent")
    eq(sent.method, "REGISTER")
    eq(sent.request_uri, "sip:192.168.110.100")
    eq(sent.cseq, 336)
    eq(sent.cseq_method, "REGISTER")
    eq(sent.call_id, "c4b9cd80-86470022-467f1380-3b60328a@192.168.15.20")
    local rcvd = C.find(a, "last_event_received").event
    eq(rcvd.is_response, true)
    eq(rcvd.status_code, 200)
    eq(rcvd.reason, "OK")
    -- spans point at the value's bytes
    local body = read("seed003_last_out_of_service_information.xml")
    local p = C.find(a, "device_name")
    eq(body:sub(p.value_span[1] + 1, p.value_span[1] + p.value_span[2]), "SEPC4B9CD808647")
end

T.seed_device_tl_info = function()
    local a = C.parse(read("seed003_device_tl_info.xml"))
    eq(a.name, "DeviceTLInfo")
    eq(C.summary(a), "Cisco alarm DeviceTLInfo: StatusCode 3")
    eq(C.find(a, "ctl_signature").typed.kind, "not_installed")
    local itl = C.find(a, "itl_signature").typed
    eq(itl.kind, "bytes")
    eq(#itl.bytes, 20)
    eq(itl.bytes:byte(1), 0x3e)
    eq(C.out_of_service_note(a), nil)
end

T.bad_values_and_unknowns = function()
    local a = C.parse('<x-cisco-alarm><Alarm Name="X"><ParameterList>'
        .. '<String name="VoiceVLAN">4096</String><Enum name="IPv4Address">1.2.3</Enum>'
        .. '<Blob name="IPv6Address">fe80::1/64</Blob><String>nameless</String>'
        .. '<String name="LastProtocolEventSent">garbage</String>'
        .. '<String name="CTL_Signature">3E 9</String>'
        .. '</ParameterList><Extra/></Alarm><Alarm Name="Y"/></x-cisco-alarm>')
    eq(kinds(a), table.concat({
        'bad_value: VoiceVLAN value "4096" is not a number in range',
        'bad_value: IPv4Address value "1.2.3" is not an IPv4 address',
        "unknown_element: Unknown parameter type <Blob>: shown as text",
        "missing_name: <String> parameter has no name attribute",
        'bad_value: LastProtocolEventSent value "garbage" is not a "Sent:/Rcvd:<start line> Cseq:<n> <method> CallId:<id>" event',
        'bad_value: CTL_Signature value "3E 9" is not a hex signature or "Not Installed"',
        "unknown_element: Unknown element <Extra> in <Alarm>",
        "unknown_element: Unexpected element <Alarm> in <x-cisco-alarm>",
    }, "\n"))
    local v6 = C.find(a, "ipv6_address").typed
    eq(v6.kind, "ipv6")
    eq(v6.prefix_length, 64)
    eq(#v6.address, 16)
    eq(v6.address:byte(1), 0xfe)
    eq(v6.address:byte(16), 1)
end

T.not_an_alarm = function()
    eq(kinds(C.parse('<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info"/>')),
        "not_an_alarm: Root element is <dialog-info>, not <x-cisco-alarm>: body mislabelled as application/x-cisco-alarm+xml?")
    eq(kinds(C.parse("<x-cisco-alarm/>")), "not_an_alarm: No <Alarm> element in <x-cisco-alarm>")
    eq(C.summary(C.parse("<x-cisco-alarm/>")), "Cisco alarm (not decoded)")
end

T.xml_problems = function()
    eq(kinds(C.parse("%CP-7821-3-ALARM: not xml\n")),
        "malformed_xml: Malformed XML at byte 26 of 26: No document element found")
    local body = read("seed003_last_out_of_service_information.xml")
    local cut = body:find("3560_DC_SW", 1, true) + #"3560_DC" - 1
    local a = C.parse(body:sub(1, cut))
    eq(kinds(a), "malformed_xml: Malformed XML at byte " .. (cut - 1) .. " of " .. cut
        .. ": Start-end tags mismatch (the body ends with elements still open: truncated?)")
    eq(a.decoded, true, "the part before the cut is read")
    eq(a.params[#a.params].value, "3560_DC")
    eq(kinds(C.parse("<x-cisco-alarm>" .. string.rep("<a>", 40) .. string.rep("</a>", 40) .. "</x-cisco-alarm>")),
        "too_deep: Elements nested deeper than 32 levels: not decoded")
    eq(kinds(C.parse('<!DOCTYPE x [<!ENTITY a "b">]><x-cisco-alarm><Alarm Name="&a;"/></x-cisco-alarm>')),
        "doctype: Body declares a DTD: its entities are not expanded (entity-expansion attack?)")
    eq(kinds(C.parse("<x-cisco-alarm><Alarm Name=\"\255\"/></x-cisco-alarm>")),
        "invalid_utf8: Invalid UTF-8 at byte 28: shown as U+FFFD")
    eq(kinds(C.parse(string.rep(" ", 300), { max_bytes = 100 })),
        "too_large: Body of 300 bytes is over the 100-byte limit: not parsed")
    eq(kinds(C.parse("<x-cisco-alarm>" .. string.rep("<Alarm/>", 9000) .. "</x-cisco-alarm>")),
        "too_many_nodes: More than 8192 XML nodes: not decoded")
    eq(kinds(C.parse("<x-cisco-alarm><Alarm Name=\"" .. string.rep("n", 3000) .. "\"/></x-cisco-alarm>")),
        "value_cut: Alarm name of 3000 bytes shown cut to 2048 bytes")
end

T.protocol_event_spans = function()
    local t = "Rcvd:SIP/2.0 200 OK Cseq:122 REGISTER CallId:abc@h "
    local ev = C.parse_protocol_event(t)
    eq(t:sub(ev.start_line[1] + 1, ev.start_line[1] + ev.start_line[2]), "SIP/2.0 200 OK")
    eq(t:sub(ev.cseq_span[1] + 1, ev.cseq_span[1] + ev.cseq_span[2]), "122 REGISTER")
    eq(t:sub(ev.call_id_span[1] + 1, ev.call_id_span[1] + ev.call_id_span[2]), "abc@h")
    eq(C.parse_protocol_event("Sent:SIP/2.0 99 Early"), nil)
    eq(C.parse_protocol_event(":REGISTER x"), nil)
end

T.refer_to_cid = function()
    local c = C.check_refer_to_cid("cid:082f1702@192.168.15.20", "<082f1702@192.168.15.20>")
    eq(c.verdict, "match")
    c = C.check_refer_to_cid("<cid:a%40b>;x=1", "<c@d>")
    eq(c.verdict, "mismatch")
    eq(c.message, "Refer-To names cid:a@b but this body's Content-ID is <c@d>")
    eq(C.check_refer_to_cid("cid:x", "").message, "Refer-To names cid:x but this body has no Content-ID")
    eq(C.check_refer_to_cid("sip:x@y", "<x>").message,
        "This body's Content-ID is <x> but Refer-To is not a cid: URL naming it")
    eq(C.check_refer_to_cid("", "").message, "Neither a Refer-To cid: URL nor a Content-ID names this body")
end

T.hostile_bodies_never_raise = function()
    local seed = read("seed003_device_tl_info.xml")
    local pieces = { "<", ">", "</", "/>", "<!--", "-->", "<![CDATA[", "]]>", "<!DOCTYPE", "<?", "?>", "=\"",
        "'", "&#x110000;", "&#0;", "&amp;", "\255", "\0", ":" }
    local seedn = 12345
    local function rnd(n)
        seedn = (seedn * 1103515245 + 12345) % 2147483648
        return seedn % n + 1
    end
    for _ = 1, 300 do
        local s = seed
        for _ = 1, rnd(6) do
            local at = rnd(#s)
            if rnd(2) == 1 then
                s = s:sub(1, at) .. pieces[rnd(#pieces)] .. s:sub(at + 1)
            else
                s = s:sub(1, at) .. s:sub(at + rnd(40))
            end
        end
        local a = C.parse(s)
        C.summary(a)
        C.out_of_service_note(a)
    end
    C.parse(string.rep("<a>", 20000))
    C.parse(string.rep("<a b='1' ", 5000))
end

return T
