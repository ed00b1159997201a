-- SPDX-License-Identifier: GPL-2.0-or-later
-- Test fixture for the transaction, dialog and mssip tests: builds message tables of ss_sip's shape
-- (LUA.md) from short SIP texts ('\n' line ends), as the C++ tests' sip_test_util.h does with parse().
-- Only the headers those tests use are read (start line, Via, From, To, Call-ID, CSeq, Contact,
-- Record-Route, Event, Subscription-State, User-Agent, Server), in full or compact form; it is no SIP
-- parser (ss_sip is), just enough to write the C++ unit tests' messages as text.
local F = {}

local function trim(s)
    return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- name-addr: display, uri, params (lower-case names)
local function party(value)
    local p = { display = "", uri = "", tag = "", epid = "", has_epid = false }
    local rest
    local lt, gt = value:find("<", 1, true), value:find(">", 1, true)
    if lt and gt then
        p.display = trim(value:sub(1, lt - 1)):gsub('^"(.*)"$', "%1")
        p.uri = value:sub(lt + 1, gt - 1)
        rest = value:sub(gt + 1)
    else
        local semi = value:find(";", 1, true)
        p.uri = trim(semi and value:sub(1, semi - 1) or value)
        rest = semi and value:sub(semi) or ""
    end
    for name, v in rest:gmatch(";%s*([%w%-%.!%%%*_%+`'~]+)%s*=?%s*([^;]*)") do
        name = name:lower()
        v = trim(v):gsub('^"(.*)"$', "%1")
        if name == "tag" then p.tag = v end
        if name == "epid" then
            p.epid = v
            p.has_epid = true
        end
    end
    return p
end
F.party = party

local compact = { v = "via", f = "from", t = "to", i = "call-id", m = "contact", o = "event" }

-- msg(text, frame, time, flow [, seq]): flow = {transport, stream, src, sport, dst, dport}
function F.sip(text, frame, time, flow, seq)
    local bytes = text:gsub("\n", "\r\n") .. "\r\n"
    local m = {
        request = false, method = "", request_uri = "", status = 0, reason = "", call_id = "",
        from = party(""), to = party(""), has_cseq = false, cseq = 0, cseq_method = "",
        via = { transport = "", host = "", port = 0, branch = "", received = "", present = false },
        via_count = 0, contacts = {}, record_route = {}, user_agent = "", server = "", refer_to = "",
        content_type = "", content_length = 0, body_offset = 0, body_length = 0, problems = {},
        parse_status = "ok", bytes = bytes,
    }
    local lines = {}
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    local first = lines[1]
    local code, reason = first:match("^SIP/2%.0 (%d+) ?(.*)$")
    if code then
        m.status = tonumber(code)
        m.reason = reason
    else
        local method, uri = first:match("^(%S+) (%S+) SIP/2%.0$")
        assert(method, "not SIP: " .. first)
        m.request = true
        m.method = method
        m.request_uri = uri
    end
    for i = 2, #lines do
        local name, value = lines[i]:match("^([^:]+):%s*(.-)%s*$")
        if name then
            name = name:lower()
            name = compact[name] or name
            if name == "via" then
                for one in value:gmatch("[^,]+") do
                    m.via_count = m.via_count + 1
                    if not m.via.present then
                        local transport, host, rest = one:match("^%s*SIP/2%.0/(%S+)%s+([^;]+)(.*)$")
                        m.via.present = true
                        m.via.transport = transport:upper()
                        local h, port = host:match("^%[?([^%]]-)%]?:(%d+)$")
                        m.via.host = (h or host):lower()
                        m.via.port = tonumber(port or 0)
                        m.via.branch = rest:match(";%s*branch=([^;%s]+)") or ""
                        m.via.received = rest:match(";%s*received=([^;%s]+)") or ""
                    end
                end
            elseif name == "from" then
                m.from = party(value)
            elseif name == "to" then
                m.to = party(value)
            elseif name == "call-id" then
                m.call_id = value
            elseif name == "cseq" then
                local n, meth = value:match("^(%d+)%s+(%S+)$")
                m.has_cseq = true
                m.cseq = tonumber(n)
                m.cseq_method = meth
            elseif name == "contact" then
                local p = party(value)
                local gruu = p.uri:match("opaque=user:epid:([^;>?]+)") or ""
                m.contacts[#m.contacts + 1] = { raw = value, uri = p.uri, instance = "", gruu_epid = gruu,
                                                star = value == "*" }
            elseif name == "record-route" then
                for one in value:gmatch("<([^>]*)>") do m.record_route[#m.record_route + 1] = one end
            elseif name == "event" then
                m.event = value
            elseif name == "subscription-state" then
                m.subscription_state = value
            elseif name == "user-agent" then
                m.user_agent = value
            elseif name == "server" then
                m.server = value
            elseif name == "expires" then
                m.expires = tonumber(value)
            end
        end
    end
    m.frame = frame or 1
    m.index = 0
    m.time = time or 0
    m.flow = flow
    if flow and flow.transport == "tcp" then
        m.seq_begin = seq or 0
        m.seq_end = (seq or 0) + #bytes
    end
    return m
end

function F.flow(transport, stream, src, sport, dst, dport)
    return { transport = transport, stream = stream, src = src, sport = sport, dst = dst, dport = dport }
end

function F.reversed(f)
    return F.flow(f.transport, f.stream, f.dst, f.dport, f.src, f.sport)
end

-- Assertions with the values in the message.
function F.eq(got, want, what)
    if got ~= want then
        error((what or "value") .. ": expected " .. tostring(want) .. ", got " .. tostring(got), 2)
    end
end

function F.ref(got, frame, index, time, what)
    if got.frame ~= frame or got.index ~= index or got.time ~= time then
        error((what or "ref") .. ": expected {" .. frame .. "," .. index .. "," .. tostring(time) .. "}, got {" ..
            tostring(got.frame) .. "," .. tostring(got.index) .. "," .. tostring(got.time) .. "}", 2)
    end
end

return F
