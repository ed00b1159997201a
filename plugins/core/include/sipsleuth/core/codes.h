// SPDX-License-Identifier: GPL-2.0-or-later
// Documented code tables (enum values with names), kept in the core so unit tests, docs and the
// Wireshark value_strings all read the same list.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sipsleuth::core {

/// A documented enum value.
struct CodeName {
    std::uint32_t code;
    const char* name;
};

/// A static table of CodeName; the data outlives every caller.
struct CodeTable {
    const CodeName* data;
    std::size_t size;
    /// Name of code, or nullptr when undocumented.
    const char* name(std::uint64_t code) const {
        for (std::size_t i = 0; i < size; ++i)
            if (data[i].code == code) return data[i].name;
        return nullptr;
    }
};

}  // namespace sipsleuth::core
