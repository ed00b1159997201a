// SPDX-License-Identifier: GPL-2.0-or-later
// The suite's one shared object, sipsleuth.so: its plugin_register() registers one proto_plugin whose
// callbacks register and hand off every protocol listed with SIPSLEUTH_PROTOCOL (ciscoalarm,
// dialoginfo, msrpa, mssip, rlmi, siptrack, in link order). One shared object lets the protocols share
// per-frame state; each stays a protocol of its own, enabled and disabled on its own.
#include "sipsleuth/wsglue/registry.h"

SIPSLEUTH_PLUGIN(sipsleuth::wsglue::register_protocols, sipsleuth::wsglue::handoff_protocols)
