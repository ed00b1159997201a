-- SPDX-License-Identifier: GPL-2.0-or-later
-- Loaded by gui.py into the Wireshark GUI with -X lua_script:probe.lua. It tells the script, through
-- the file named by SIPSLEUTH_GUI_PROBE, whether our plugins are loaded (their fields exist) and how
-- many frames carry a siptrack or msrpa tree, so that the script knows the capture has been read and
-- dissected with our plugins, without looking at pixels. It also reports the preference
-- gui.window_title, which the sipsleuth profile sets (read once the preferences are: at the first
-- packet), so that the script knows which profile's preferences Wireshark read.
local out = os.getenv("SIPSLEUTH_GUI_PROBE")

local function title_line()
    local ok, title = pcall(get_preference, "gui.window_title")
    return "window_title " .. ((ok and title) or "?") .. "\n"
end

local function write(text)
    if not out then return end
    text = text .. title_line()
    local f = io.open(out, "w")
    if f then
        f:write(text)
        f:close()
    end
end

local loaded = pcall(Field.new, "siptrack.subscription") and pcall(Field.new, "msrpa.connection_model")
if not loaded then
    write("plugins missing\n")
    return
end
write("plugins loaded\nframes 0\n")

local frames = 0
local tap = Listener.new("frame", "siptrack || msrpa")
function tap.reset() frames = 0 end
local function report() write("plugins loaded\nframes " .. frames .. "\n") end
function tap.packet()
    frames = frames + 1
    report()
end
tap.draw = report
