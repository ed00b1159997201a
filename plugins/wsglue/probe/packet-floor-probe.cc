// SPDX-License-Identifier: GPL-2.0-or-later
// A bench-only plugin: one post-dissector that wants the fields named in the environment variable
// SIPSLEUTH_FLOOR_FIELDS (comma-separated; names Wireshark does not know are skipped) and does nothing
// with them. tests/bench/c_floors.py runs it beside plain tshark to measure what wanting the suite's
// fields costs before any analysis: the floor of any suite that reads SIP through wanted fields. Built
// into build/floor-plugins, never installed, never loaded by the tests.
#include <cstdlib>

#include <glib.h>

#include <epan/packet.h>
#include <epan/proto.h>

extern "C" {
// Exported (extern: a C++ const has internal linkage otherwise), as Wireshark's plugin loader wants.
extern WS_DLL_PUBLIC_DEF const gchar plugin_version[] = "0.0.1";
extern WS_DLL_PUBLIC_DEF const int plugin_want_major = 4;
extern WS_DLL_PUBLIC_DEF const int plugin_want_minor = 0;
WS_DLL_PUBLIC void plugin_register(void);
}

namespace {

int proto_floor = -1;

int dissect_floor(tvbuff_t*, packet_info*, proto_tree*, void*) { return 0; }

void register_floor() {
    proto_floor = proto_register_protocol("sipsleuth bench floor probe", "FloorProbe", "sipsleuth_floor_probe");
}

void handoff_floor() {
    dissector_handle_t handle = create_dissector_handle(dissect_floor, proto_floor);
    register_postdissector(handle);
    const char* names = std::getenv("SIPSLEUTH_FLOOR_FIELDS");
    if (names == nullptr || *names == '\0') return;
    GArray* wanted = g_array_new(FALSE, FALSE, static_cast<guint>(sizeof(int)));
    gchar** list = g_strsplit(names, ",", -1);
    for (gchar** name = list; *name != nullptr; ++name) {
        const int id = proto_registrar_get_id_byname(*name);
        if (id > 0) g_array_append_val(wanted, id);
    }
    g_strfreev(list);
    set_postdissector_wanted_hfids(handle, wanted);
}

}  // namespace

void plugin_register(void) {
    static proto_plugin plugin;
    plugin.register_protoinfo = register_floor;
    plugin.register_handoff = handoff_floor;
    proto_register_plugin(&plugin);
}
