// SPDX-License-Identifier: GPL-2.0-or-later
// The one place that includes Wireshark's C headers. Most epan headers carry their own extern "C"
// guards; packet-sip.h and packet-xml.h do not (Wireshark 4.0), so they are wrapped here.
#pragma once

#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/proto_data.h>
#include <epan/tvbuff.h>
#include <epan/tap.h>
#include <epan/stat_tap_ui.h>
#include <epan/ftypes/ftypes.h>
#include <epan/dissectors/packet-http.h>

extern "C" {
#include <epan/dissectors/packet-sip.h>
}
