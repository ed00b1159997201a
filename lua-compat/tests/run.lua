-- SPDX-License-Identifier: GPL-2.0-or-later
-- The unit-test runner of lua-compat's pure-Lua modules (no Wireshark): runs every test file given on
-- the command line (CTest passes lua-compat/tests/test_*.lua, one CTest test per interpreter: lua5.1,
-- lua5.2, lua5.4), or every test_*.lua next to this file when none is given.
--
-- A test file returns a table of name -> function; a test fails by raising an error (assert, error).
-- Tests run in name order, each in its own pcall; package.path already holds this folder and
-- ../sipsleuth/lib/?.lualib. `lua run.lua [-k SUBSTRING] [FILE...]` runs only the tests whose
-- "file:name" contains SUBSTRING. Exit status 0 when every test passed, 1 otherwise.

local here = (debug.getinfo(1, "S").source:match("^@(.*)[/\\][^/\\]*$")) or "."
package.path = here .. "/?.lua;" .. here .. "/../sipsleuth/lib/?.lualib;" .. package.path

local filter, files = nil, {}
local i = 1
while arg[i] do
    if arg[i] == "-k" then
        filter = arg[i + 1]
        i = i + 2
    else
        files[#files + 1] = arg[i]
        i = i + 1
    end
end
if #files == 0 then
    local ls = io.popen('ls "' .. here .. '"')
    for name in ls:lines() do
        if name:match("^test_.*%.lua$") then files[#files + 1] = here .. "/" .. name end
    end
    ls:close()
end
table.sort(files)

local clock = os.clock
local passed, failed, failures = 0, 0, {}
for _, file in ipairs(files) do
    local short = file:match("([^/\\]+)%.lua$") or file
    local ok, tests = pcall(dofile, file)
    if not ok or type(tests) ~= "table" then
        failed = failed + 1
        failures[#failures + 1] = short .. ": cannot load: " .. tostring(tests)
    else
        local names = {}
        for name in pairs(tests) do names[#names + 1] = name end
        table.sort(names)
        local started, count = clock(), 0
        for _, name in ipairs(names) do
            local id = short .. ":" .. name
            if not filter or id:find(filter, 1, true) then
                count = count + 1
                local good, err = xpcall(tests[name], debug.traceback)
                if good then
                    passed = passed + 1
                else
                    failed = failed + 1
                    failures[#failures + 1] = id .. ": " .. tostring(err)
                end
            end
        end
        print(string.format("%-28s %4d tests %6.2f s", short, count, clock() - started))
    end
end
for _, f in ipairs(failures) do
    io.stderr:write("FAIL " .. f .. "\n")
end
print(string.format("%s: %d passed, %d failed", _VERSION, passed, failed))
os.exit(failed == 0 and passed > 0 and 0 or 1)
