-- SPDX-License-Identifier: GPL-2.0-or-later
-- Assertions shared by the unit-test files (run.lua puts this folder on package.path).
local M = {}

--- Raises "<what>: got <got>, want <want>" when got ~= want, naming the caller's line.
function M.eq(got, want, what)
    if got ~= want then
        error((what or "value") .. ": got " .. tostring(got) .. ", want " .. tostring(want), 2)
    end
end

--- A parse result's problems (kind: message), one per line, for comparing with expected text.
function M.problems(result)
    local out = {}
    for _, p in ipairs(result.problems) do out[#out + 1] = p.kind .. ": " .. p.message end
    return table.concat(out, "\n")
end

return M
