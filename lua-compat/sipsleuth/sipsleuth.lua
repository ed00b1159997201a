-- SPDX-License-Identifier: GPL-2.0-or-later
-- sipsleuth for Wireshark's Lua (lua-compat): the one file Wireshark loads from this folder.
--
-- Copy the whole `sipsleuth` folder into your personal Lua plugins folder. Wireshark loads every
-- `*.lua` file it finds there, recursively, so the modules live in lib/ as `*.lualib`: this file puts
-- lib/ on package.path and requires each protocol's glue module. A protocol whose compiled plugin
-- (sipsleuth.so) is loaded steps aside (see lib/ss_stepaside.lualib).

local here = debug.getinfo(1, "S").source
here = here:sub(1, 1) == "@" and here:sub(2) or here
local dir = here:match("^(.*)[/\\][^/\\]*$") or "."
package.path = dir .. "/lib/?.lualib;" .. package.path

local stepaside = require("ss_stepaside")

-- The six protocols, in the compiled suite's registration order. Each `<name>_ws.lualib` registers
-- its Proto, fields, expert fields and (post-)dissector when required.
for _, name in ipairs({ "ciscoalarm", "dialoginfo", "rlmi", "mssip", "msrpa", "siptrack" }) do
    if stepaside.compiled_loaded(name) then
        stepaside.announce(name)
    else
        local ok, err = pcall(require, name .. "_ws")
        if not ok and not tostring(err):find("module '" .. name .. "_ws' not found", 1, true) then
            error(err, 0)
        end
    end
end
