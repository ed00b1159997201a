-- SPDX-License-Identifier: GPL-2.0-or-later
-- Floor 3: a post-dissector that wants the `sip` item, takes each message's bytes as a Lua string and
-- finds its Call-ID with one string.find: the least a Lua SIP analysis must do per message.
local f = Field.new("sip")
local p = Proto("floor3", "floor sip items")
local n = 0
function p.dissector(tvb, pinfo, tree)
  local all = { f() }
  for i = 1, #all do
    local s = all[i].range:raw()
    local a, b, cid = string.find(s, "\r\n[Cc][Aa][Ll][Ll]%-[Ii][Dd]:%s*([^\r\n]*)")
    if cid then n = n + 1 end
  end
end
register_postdissector(p)
