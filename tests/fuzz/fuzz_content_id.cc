// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for content_id_value and cid_url_target (RFC 2392) on the same input, taken once as a
// Content-ID header value and once as a Refer-To URL. Aborts when a result is empty, a Content-ID is not
// a piece of its input, or a decoded cid: target is longer than the URL it came from.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/content_id.h"

using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (const auto id = sipsleuth::core::content_id_value(input)) {
        require(!id->empty(), "empty Content-ID");
        require(input.find(*id) != std::string_view::npos, "Content-ID is not taken from its input");
    }
    if (const auto target = sipsleuth::core::cid_url_target(input)) {
        require(!target->empty(), "empty cid: target");
        require(target->size() + 4 <= input.size(), "cid: target longer than its URL");
    }
    return 0;
}
