-- SPDX-License-Identifier: GPL-2.0-or-later
-- Test helper of the siptrack unit tests: feeds siptrack_sub as the glue does (each frame to the
-- tracker, each message first to the suite's transaction and dialog layers ss_txn and ss_dialog), with
-- message tables of ss_sip's shape built as tests/unit/test_subscription.cc builds sip::Message.
local sub = require("siptrack_sub")
local txn = require("ss_txn")
local dialog = require("ss_dialog")

local C = {}
C.SECOND, C.MILLI = txn.SECOND, txn.MILLI
function C.us(n) return n * 1000 end
function C.ms(n) return n * 1000000 end
function C.sec(n) return n * 1000000000 end

local function party(uri, tag) return { display = "", uri = uri or "", tag = tag or "", epid = "", has_epid = false } end

function C.message(t)
    local m = {
        request = false, method = "", request_uri = "sip:x@example.com", status = 0, reason = "", call_id = "",
        from = party(), to = party(), has_cseq = true, cseq = 0, cseq_method = "",
        via = { transport = "", host = "", port = 0, branch = "", received = "", present = false },
        via_count = 0, contacts = {}, record_route = {}, user_agent = "", server = "", refer_to = "",
        content_type = "", content_length = 0, body_offset = 0, body_length = 0, problems = {}, index = 0,
    }
    for k, v in pairs(t) do m[k] = v end
    return m
end
C.party = party

local Capture = {}
Capture.__index = Capture

function C.capture(limits)
    return setmetatable({ tracker = sub.new(limits), txns = txn.new(), dialogs = dialog.new(), frame = 0,
                          vias = {}, out = sub.output() }, Capture)
end

local function txn_key(m, addr, port)
    return m.call_id .. "|" .. m.cseq .. "|" .. m.cseq_method .. "|" .. addr .. ":" .. port
end

-- A TCP segment without SIP (ACK, FIN, RST). src/dst: {address, port}.
function Capture:segment(time, stream, src, dst, rst, fin)
    self.out = sub.output()
    self.frame = self.frame + 1
    local f = { number = self.frame, time = time,
                flow = { transport = "tcp", stream = stream, src = src[1], sport = src[2], dst = dst[1], dport = dst[2] },
                tcp = { rst = rst or false, fin = fin or false } }
    self.tracker:advance(time, self.frame, self.out)
    self.tracker:packet(f, self.out)
end

function Capture:sip(m, time, stream, src, dst, transport)
    transport = transport or "tcp"
    self.out = sub.output()
    self.frame = self.frame + 1
    m.frame = self.frame
    m.time = time
    m.flow = { transport = transport, stream = stream, src = src[1], sport = src[2], dst = dst[1], dport = dst[2] }
    if transport == "tcp" then
        m.seq_begin = self.frame * 10000
        m.seq_end = m.seq_begin + 100
    end
    if m.request then
        m.via = { present = true, transport = transport:upper(), host = src[1], port = src[2], received = "",
                  branch = "z9hG4bK-" .. m.method .. "-" .. m.call_id .. "-" .. m.cseq .. "-" .. src[1] .. ":" .. src[2] }
        m.via_count = 1
        self.vias[txn_key(m, dst[1], dst[2])] = m.via
    else
        local v = self.vias[txn_key(m, src[1], src[2])]
        if v then
            m.via = v
            m.via_count = 1
        end
    end
    local f = { number = self.frame, time = time, flow = m.flow, tcp = transport == "tcp" and {} or nil }
    self.tracker:advance(time, self.frame, self.out)
    self.tracker:packet(f, self.out)
    local tv = self.txns:on_message(m)
    local dv = self.dialogs:on_message(m, tv)
    return self.tracker:message(m, tv, dv, self.out)
end

function C.kinds(notes)
    local out = {}
    for _, n in ipairs(notes) do out[#out + 1] = n.kind end
    return table.concat(out, ",")
end

function C.eq(got, want, what)
    if got ~= want then
        error((what or "value") .. ":\n expected " .. tostring(want) .. "\n got      " .. tostring(got), 2)
    end
end

return C
