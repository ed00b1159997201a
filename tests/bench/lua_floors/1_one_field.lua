-- SPDX-License-Identifier: GPL-2.0-or-later
-- Floor 1: a post-dissector that wants one SIP field (sip.Call-ID) and counts it.
local f = Field.new("sip.Call-ID")
local p = Proto("floor1", "floor one field")
local n = 0
function p.dissector(tvb, pinfo, tree)
  local v = f()
  if v then n = n + 1 end
end
register_postdissector(p)
