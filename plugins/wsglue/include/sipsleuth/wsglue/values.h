// SPDX-License-Identifier: GPL-2.0-or-later
// Wireshark value_string tables built from the core's code tables, so names live in one place.
#pragma once

#include <vector>

#include "sipsleuth/core/codes.h"
#include "sipsleuth/wsglue/epan.h"

namespace sipsleuth::wsglue {

/// A terminated value_string array for table; keep the vector alive as long as the field (static).
inline std::vector<value_string> value_strings(core::CodeTable table) {
    std::vector<value_string> out;
    out.reserve(table.size + 1);
    for (std::size_t i = 0; i < table.size; ++i) out.push_back({table.data[i].code, table.data[i].name});
    out.push_back({0, nullptr});
    return out;
}

}  // namespace sipsleuth::wsglue
