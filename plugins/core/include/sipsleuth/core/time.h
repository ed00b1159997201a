// SPDX-License-Identifier: GPL-2.0-or-later
// Time in the core: integer nanoseconds, exact to the capture's resolution (a pcap's microseconds, a
// pcapng's nanoseconds). Never a double: 26.080 ms must print as 0.026080000, not 0.026079893.
#pragma once

#include <cstdint>

namespace sipsleuth::core {

/// Nanoseconds: a point in time since the epoch, or a signed duration.
using Nanos = std::int64_t;
constexpr Nanos kSecond = 1000000000;
constexpr Nanos kMilli = 1000000;

}  // namespace sipsleuth::core
