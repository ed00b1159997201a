-- SPDX-License-Identifier: GPL-2.0-or-later
-- Floor 0: a post-dissector that wants nothing and does nothing.
local p = Proto("floor0", "floor nothing")
function p.dissector(tvb, pinfo, tree) end
register_postdissector(p)
