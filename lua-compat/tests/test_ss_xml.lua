-- SPDX-License-Identifier: GPL-2.0-or-later
-- Unit tests of ss_xml.lualib: tests/unit/test_xml_body.cc value for value (spans of start tags,
-- attribute values and text; local names; every issue with its exact span and message) and hostile
-- bodies: billion laughs (reported, never expanded), quadratic blow-up, 10,000 and 100,000 nested
-- elements, too many nodes, a huge body, invalid UTF-8, NUL bytes, every truncation of a real body.

local check = require("check")
local xml = require("ss_xml")

local eq = check.eq

local function span(o, l, wo, wl, what)
    if o ~= wo or l ~= wl then
        error((what or "span") .. ": expected {" .. wo .. "," .. wl .. "}, got {" .. tostring(o) .. "," .. tostring(l) .. "}", 2)
    end
end

local function child(node, name)
    for c in xml.elements(node) do
        if c.name == name then return c end
    end
    error("no child " .. name)
end

local function at(doc, o, l)
    return doc:sub(o + 1, o + l)
end

local function one_issue(doc, kind)
    eq(#doc.issues, 1, "issues")
    eq(doc.issues[1].kind, kind, "kind")
    return doc.issues[1]
end

local DOC = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" ..
    "<d:dialog-info xmlns:d=\"urn:ietf:params:xml:ns:dialog-info\" version='3' state=\"\">\n" ..
    "<d:dialog id=\"a&amp;b\" call-id=\"c4b9@h\">confirmed</d:dialog>\n" ..
    "<empty/>\n" ..
    "<open></open>\n" ..
    "<cd><![CDATA[x<y&z]]></cd>\n" ..
    "<esc>1 &lt; 2</esc>\n" ..
    "<crlf>a\r\nb</crlf>\n" ..
    "</d:dialog-info>"

local T = {}

T.normal_document_is_usable_without_issues = function()
    local doc = xml.parse(DOC)
    eq(doc.usable, true)
    eq(#doc.issues, 0)
    eq(doc.size, #DOC)
    eq(doc.root.name, "d:dialog-info")
    eq(doc.root.local_name, "dialog-info")
    eq(doc.root.prefix, "d")
    eq(doc.root.ns, "urn:ietf:params:xml:ns:dialog-info")
    eq(child(doc.root, "d:dialog").ns, "urn:ietf:params:xml:ns:dialog-info")
    eq(child(doc.root, "empty").ns, "")
end

T.start_tags = function()
    local root = xml.parse(DOC).root
    local cases = {
        { root, 39, 81, "<d:dialog-info xmlns:d=\"urn:ietf:params:xml:ns:dialog-info\" version='3' state=\"\">" },
        { child(root, "d:dialog"), 121, 40, "<d:dialog id=\"a&amp;b\" call-id=\"c4b9@h\">" },
        { child(root, "empty"), 182, 8, "<empty/>" },
        { child(root, "open"), 191, 6, "<open>" },
        { child(root, "cd"), 205, 4, "<cd>" },
        { child(root, "esc"), 232, 5, "<esc>" },
        { child(root, "crlf"), 252, 6, "<crlf>" },
    }
    for _, c in ipairs(cases) do
        span(c[1].tag_offset, c[1].tag_length, c[2], c[3], c[4])
        eq(at(DOC, c[1].tag_offset, c[1].tag_length), c[4])
    end
end

T.attribute_values = function()
    local doc = xml.parse(DOC)
    local root = doc.root
    local dialog = child(root, "d:dialog")
    local cases = {
        { root, "xmlns:d", 63, 34, "urn:ietf:params:xml:ns:dialog-info", "urn:ietf:params:xml:ns:dialog-info", true },
        { root, "version", 108, 1, "3", "3", true },
        { root, "state", 118, 0, "", "", true },
        { dialog, "id", 135, 7, "a&amp;b", "a&b", false },
        { dialog, "call-id", 153, 6, "c4b9@h", "c4b9@h", true },
    }
    for _, c in ipairs(cases) do
        local a = xml.attribute(c[1], c[2])
        span(a.offset, a.length, c[3], c[4], c[2])
        eq(at(DOC, a.offset, a.length), c[5])
        eq(a.value, c[6])
        eq(xml.verbatim(doc, a.offset, a.length, a.value), c[7], c[2] .. " verbatim")
    end
    eq(xml.attribute(root, "nope"), nil)
end

T.text_spans = function()
    local doc = xml.parse(DOC)
    local cases = {
        { "d:dialog", 161, 9, "confirmed", "confirmed", true },
        { "empty", 190, 0, "", "", true },
        { "open", 197, 0, "", "", true },
        { "cd", 218, 5, "x<y&z", "x<y&z", true },
        { "esc", 237, 8, "1 &lt; 2", "1 < 2", false },
        { "crlf", 258, 4, "a\r\nb", "a\nb", false },
    }
    for _, c in ipairs(cases) do
        local el = child(doc.root, c[1])
        span(el.text_offset, el.text_length, c[2], c[3], c[1])
        eq(at(DOC, el.text_offset, el.text_length), c[4])
        eq(el.text, c[5])
        eq(xml.verbatim(doc, el.text_offset, el.text_length, el.text), c[6], c[1] .. " verbatim")
    end
    -- whitespace-only text between children is dropped: the root has none
    eq(doc.root.text, "")
    span(doc.root.text_offset, doc.root.text_length, 120, 0)
    eq(xml.verbatim(doc, #DOC - 1, 2, "n>"), false)
    eq(xml.verbatim(doc, #DOC - 2, 2, "o>"), true)
end

T.local_names = function()
    local doc = xml.parse("<d:a xmlns:d='u'><b/><x:y:z/><:w/></d:a>")
    eq(doc.usable, true)
    eq(doc.root.local_name, "a")
    eq(child(doc.root, "b").local_name, "b")
    eq(child(doc.root, "x:y:z").local_name, "y:z")
    eq(child(doc.root, ":w").local_name, "w")
    eq(child(doc.root, "x:y:z").ns, nil, "undeclared prefix")
    eq(doc.root.ns, "u")
end

T.namespaces_nearest_declaration_wins = function()
    local doc = xml.parse("<r xmlns='a'><s xmlns=''><t/></s><p:u xmlns:p='b'><p:v xmlns:p='c'/><xml:w/></p:u></r>")
    eq(doc.root.ns, "a")
    local s = child(doc.root, "s")
    eq(s.ns, "")
    eq(child(s, "t").ns, "")
    local u = child(doc.root, "p:u")
    eq(u.ns, "b")
    eq(child(u, "p:v").ns, "c")
    eq(child(u, "xml:w").ns, "http://www.w3.org/XML/1998/namespace")
end

T.value_cuts_at_max_value_bytes_on_a_character_boundary = function()
    local doc = xml.parse("<a>caf\195\169</a>", { max_value_bytes = 4 })
    local v, cut = xml.value(doc, doc.root.text)
    eq(v, "caf")
    eq(cut, true)
    v, cut = xml.value(doc, "abcd")
    eq(v, "abcd")
    eq(cut, false)
    eq((xml.value(doc, "\255")), "\239\191\189")
end

T.too_large = function()
    local doc = xml.parse("<a/>", { max_bytes = 3 })
    eq(doc.usable, false)
    eq(doc.root, nil)
    local i = one_issue(doc, "too_large")
    span(i.offset, i.length, 0, 4)
    eq(i.message, "Body of 4 bytes is over the 3-byte limit: not parsed")
    eq(i.code, "too_large")
end

T.too_large_at_the_default_limit = function()
    local doc = "<a>" .. string.rep("x", 256 * 1024 - 7) .. "</a>"
    eq(#doc, 256 * 1024)
    eq(xml.parse(doc).usable, true)
    eq(one_issue(xml.parse(doc .. " "), "too_large").message,
        "Body of 262145 bytes is over the 262144-byte limit: not parsed")
end

T.malformed = function()
    local cases = {
        { "truncated after a closed child", "<a><b>x</b>", 10, 1,
          "Malformed XML at byte 10 of 11: Start-end tags mismatch (the body ends with elements still open: truncated?)", true },
        { "truncated, trailing CRLF", "<a><b>x</b>\r\n", 12, 1,
          "Malformed XML at byte 12 of 13: Start-end tags mismatch (the body ends with elements still open: truncated?)", true },
        { "truncated inside an end tag",
          "<x-cisco-alarm>\r\n<Alarm Name=\"DeviceTLInfo\">\r\n<ParameterList>\r\n" ..
          "<String name=\"DeviceName\">SEPC4B9CD808647</Str",
          106, 1, "Malformed XML at byte 106 of 109: Start-end tags mismatch", true },
        { "truncated inside an attribute", "<a><b c=\"x", 9, 1,
          "Malformed XML at byte 9 of 10: Error parsing element attribute", true },
        { "mismatched end tags", "<a><b></a></b>", 8, 1, "Malformed XML at byte 8 of 14: Start-end tags mismatch", true },
        { "bare less-than", "<a>1 < 2</a>", 6, 1, "Malformed XML at byte 6 of 12: Could not determine tag type", true },
        { "DOCTYPE inside an element", "<a><!DOCTYPE x></a>", 3, 1,
          "Malformed XML at byte 3 of 19: Error parsing document type declaration", true },
        { "not XML", "%CP-7821-3-ALARM: DeviceTLInfo\n", 31, 0,
          "Malformed XML at byte 31 of 31: No document element found", false },
        { "declaration only", "<?xml version=\"1.0\"?>", 21, 0,
          "Malformed XML at byte 21 of 21: No document element found", false },
        { "empty", "", 0, 0, "Malformed XML at byte 0 of 0: No document element found", false },
        -- Lua-only: more of pugixml's statuses, offsets checked against pugixml 1.13
        { "stray less-than at the end", "<a/><", 4, 1, "Malformed XML at byte 4 of 5: Could not determine tag type", true },
        { "attribute without a value", "<a b></a>", 5, 1, "Malformed XML at byte 5 of 9: Error parsing element attribute", true },
        { "unclosed comment", "<a><!-- x", 8, 1, "Malformed XML at byte 8 of 9: Error parsing comment", true },
        { "bad CDATA keyword", "<a><![CDAT x]]></a>", 10, 1, "Malformed XML at byte 10 of 19: Error parsing CDATA section", true },
        { "unclosed CDATA", "<a><![CDATA[xy", 12, 1, "Malformed XML at byte 12 of 14: Error parsing CDATA section", true },
        { "bad processing instruction", "<? x?><a/>", 2, 1,
          "Malformed XML at byte 2 of 10: Error parsing document declaration/processing instruction", false },
        { "junk after an attribute", "<a b='1'c='2'/>", 8, 1, "Malformed XML at byte 8 of 15: Error parsing element attribute", true },
        { "bad end tag", "<a></a x>", 7, 1, "Malformed XML at byte 7 of 9: Error parsing end element tag", true },
    }
    for _, c in ipairs(cases) do
        local doc = xml.parse(c[2])
        eq(doc.usable, c[6], c[1] .. " usable")
        eq(doc.root ~= nil, c[6], c[1] .. " root")
        local i = one_issue(doc, "malformed")
        span(i.offset, i.length, c[3], c[4], c[1])
        eq(i.message, c[5], c[1])
        eq(i.code, "malformed_xml")
    end
end

T.malformed_body_keeps_the_part_before_the_error = function()
    local text = "<a><b k='v'>x</b><c>y &amp; z"
    local doc = xml.parse(text)
    one_issue(doc, "malformed")
    eq(doc.usable, true)
    local b = child(doc.root, "b")
    span(b.tag_offset, b.tag_length, 3, 9)
    local k = xml.attribute(b, "k")
    span(k.offset, k.length, 9, 1)
    span(b.text_offset, b.text_length, 12, 1)
    local c = child(doc.root, "c")
    span(c.text_offset, c.text_length, 20, 9)
    eq(at(text, c.text_offset, c.text_length), "y &amp; z")
    eq(c.text, "y & z")
end

T.truncated_deep_body_is_still_capped = function()
    local doc = xml.parse(string.rep("<a>", 10000))
    eq(doc.usable, false)
    eq(#doc.issues, 2)
    eq(doc.issues[1].kind, "malformed")
    eq(doc.issues[2].kind, "too_deep")
    span(doc.issues[2].offset, doc.issues[2].length, 93, 3)
end

T.invalid_utf8_is_reported_and_the_document_still_read = function()
    local doc = xml.parse("<a>ok\192\128</a>")
    eq(doc.usable, true)
    local i = one_issue(doc, "invalid_utf8")
    span(i.offset, i.length, 5, 1)
    eq(i.message, "Invalid UTF-8 at byte 5: shown as U+FFFD")
    span(doc.root.text_offset, doc.root.text_length, 3, 4)
    eq((xml.value(doc, doc.root.text)), "ok\239\191\189\239\191\189")
end

T.invalid_utf8_and_malformed_are_both_reported = function()
    local doc = xml.parse("<a>\255")
    eq(#doc.issues, 2)
    eq(doc.issues[1].kind, "invalid_utf8")
    span(doc.issues[1].offset, doc.issues[1].length, 3, 1)
    eq(doc.issues[2].kind, "malformed")
    eq(doc.usable, true)
    eq((xml.value(doc, doc.root.text)), "\239\191\189")
end

local BILLION_LAUGHS = "<?xml version=\"1.0\"?>\n" ..
    "<!DOCTYPE lolz [\n" ..
    " <!ENTITY lol \"lol\">\n" ..
    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n" ..
    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n" ..
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n" ..
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n" ..
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n" ..
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n" ..
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n" ..
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n" ..
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n" ..
    "]>\n" ..
    "<lolz a=\"&lol9;\">&lol9;</lolz>"

T.hostile_billion_laughs_is_reported_and_not_expanded = function()
    local doc = xml.parse(BILLION_LAUGHS)
    local i = one_issue(doc, "doctype")
    span(i.offset, i.length, 22, 9)
    eq(at(BILLION_LAUGHS, i.offset, i.length), "<!DOCTYPE")
    eq(i.message, "Body declares a DTD: its entities are not expanded (entity-expansion attack?)")
    eq(doc.usable, true)
    eq(doc.root.name, "lolz")
    eq(doc.root.text, "&lol9;")
    span(doc.root.text_offset, doc.root.text_length, 781, 6)
    eq(xml.verbatim(doc, doc.root.text_offset, doc.root.text_length, doc.root.text), true)
    local a = xml.attribute(doc.root, "a")
    eq(a.value, "&lol9;")
    span(a.offset, a.length, 773, 6)
end

T.hostile_quadratic_blowup_entity_is_not_expanded = function()
    -- one 100 kB entity referenced 1,000 times: 100 MB if expanded
    local body = "<!DOCTYPE k [<!ENTITY x \"" .. string.rep("A", 100000) .. "\">]><k>" ..
        string.rep("&x;", 1000) .. "</k>"
    local doc = xml.parse(body)
    one_issue(doc, "doctype")
    eq(#doc.root.text, 3000)
end

local function nested(levels, inner)
    return string.rep("<a>", levels) .. (inner or "") .. string.rep("</a>", levels)
end

T.hostile_ten_thousand_nested_elements_are_too_deep = function()
    local doc = xml.parse(nested(10000))
    eq(doc.usable, false)
    local i = one_issue(doc, "too_deep")
    span(i.offset, i.length, 93, 3)
    eq(i.message, "Elements nested deeper than 32 levels: not decoded")
end

T.hostile_hundred_thousand_nested_elements_stay_bounded = function()
    local doc = xml.parse(nested(100000), { max_bytes = 1024 * 1024 })
    eq(doc.usable, false)
    one_issue(doc, "too_deep")
    -- no more than max_nodes + 1 elements became tables
    local count, n = 0, doc.root
    while n do
        count = count + 1
        n = n.children[1]
    end
    eq(count, 8193)
end

T.depth_limit_is_inclusive = function()
    eq(xml.parse(nested(4), { max_depth = 4 }).usable, true)
    local doc = xml.parse(nested(5), { max_depth = 4 })
    eq(doc.usable, false)
    local i = one_issue(doc, "too_deep")
    span(i.offset, i.length, 9, 3)
    eq(i.message, "Elements nested deeper than 4 levels: not decoded")
    -- text in the deepest allowed element is no level
    local ok = xml.parse(nested(4, "x"), { max_depth = 4 })
    eq(ok.usable, true)
    eq(#ok.issues, 0)
end

T.too_many_nodes = function()
    local doc = xml.parse("<a x=\"1\"><b/><c/></a>", { max_nodes = 3 })
    eq(doc.usable, false)
    local i = one_issue(doc, "too_many_nodes")
    span(i.offset, i.length, 13, 4)
    eq(i.message, "More than 3 XML nodes: not decoded")
    eq(xml.parse("<a x=\"1\"><b/><c/></a>", { max_nodes = 4 }).usable, true)
    -- text counts too, reported on its element
    local t = one_issue(xml.parse("<a><b>t</b></a>", { max_nodes = 2 }), "too_many_nodes")
    span(t.offset, t.length, 3, 3)
end

T.hostile_too_many_nodes_at_the_default_limit = function()
    local body = "<r>" .. string.rep("<b/>", 8192) .. "</r>"
    local doc = xml.parse(body)
    eq(doc.usable, false)
    local i = one_issue(doc, "too_many_nodes")
    span(i.offset, i.length, 3 + 8191 * 4, 4)
    eq(i.message, "More than 8192 XML nodes: not decoded")
    -- a 256 kB body of tiny elements: only max_nodes + 1 tables
    local many = xml.parse("<r>" .. string.rep("<b/>", 65000) .. "</r>")
    eq(#many.root.children, 8192)
end

T.start_tag_skips_greater_than_in_quoted_values = function()
    local text = "<a t=\"x>y\"><b u='>'/></a>"
    local doc = xml.parse(text)
    eq(doc.usable, true)
    eq(at(text, doc.root.tag_offset, doc.root.tag_length), "<a t=\"x>y\">")
    local b = child(doc.root, "b")
    eq(at(text, b.tag_offset, b.tag_length), "<b u='>'/>")
    span(b.text_offset, b.text_length, 21, 0)
end

T.depth_is_exact = function()
    eq(xml.parse("<a/>").depth, 1)
    eq(xml.parse("<a><b>text</b><c><d/></c></a>").depth, 3)
    local deep = nested(600)
    eq(xml.parse(deep, { max_depth = 1000 }).depth, 600)
    eq(xml.parse(deep, { max_depth = 1000 }).usable, true)
    eq(xml.parse(deep).usable, false)
    eq(xml.parse("not xml").depth, 0)
end

T.entities_as_pugixml_decodes_them = function()
    local doc = xml.parse("<a v='&#65;&#x42;&#x;&#X43;&bogus;&amp&lt;\t\r\nz'>&#233;&#x1F600;&#0;after</a>")
    eq(xml.attribute(doc.root, "v").value, "AB&#x;&#X43;&bogus;&amp<  z")
    eq(doc.root.text, "\195\169\240\159\152\128")  -- a decoded NUL ends the value, as in C
end

T.unclosed_cdata_keeps_pugixmls_unmoved_bytes = function()
    -- pugixml moves the text over a removed LF only when the section closes (checked with pugixml 1.13)
    local doc = xml.parse("<a><![CDATA[a\r\nbc")
    eq(doc.root.text, "a\n\nbc")
    eq(xml.parse("<a><![CDATA[xy").root.text, "xy")
end

T.nul_byte_ends_the_document = function()
    local doc = xml.parse("<a>x</a>\0<b>")
    eq(doc.usable, true)
    eq(#doc.issues, 0)
    local cut = xml.parse("<a>x\0</a>")
    eq(cut.issues[1].message, "Malformed XML at byte 4 of 9: Start-end tags mismatch")
end

T.hostile_every_truncation_of_a_real_body_is_safe = function()
    local body = "<?xml version=\"1.0\"?>\r\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"7\" " ..
        "state=\"full\" entity=\"sip:201@pbx\"><dialog id=\"d1\" call-id=\"c@h\" direction=\"recipient\">" ..
        "<state event=\"replaced\">terminated</state><local><identity display=\"A &amp; B\">sip:201@pbx</identity>" ..
        "<target uri=\"sip:201@10.0.0.5\"><param pname=\"+sip.rendering\" pvalue=\"no\"/></target></local>" ..
        "<![CDATA[ raw ]]><!-- note --></dialog></dialog-info>"
    for cut = 0, #body do
        local doc = xml.parse(body:sub(1, cut))
        if cut < #body then
            eq(doc.issues[#doc.issues].kind, "malformed", "cut " .. cut)
        else
            eq(#doc.issues, 0)
        end
        for _, i in ipairs(doc.issues) do
            if i.offset + i.length > cut then error("cut " .. cut .. ": span past the end") end
        end
    end
end

T.bom_is_skipped = function()
    local doc = xml.parse("\239\187\191<a>x</a>")
    eq(doc.usable, true)
    eq(doc.root.tag_offset, 3)
end

return T
