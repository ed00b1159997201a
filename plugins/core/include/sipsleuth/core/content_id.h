// SPDX-License-Identifier: GPL-2.0-or-later
// Content-ID and cid: URL matching (RFC 2392): a REFER's Refer-To "cid:X" or an RLMI instance's cid
// names the body part whose Content-ID header is "<X>". The URL form is percent-encoded, the header
// form is not, and both compare case-sensitively except for nothing (RFC 2392 section 2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sipsleuth::core {

/// The addr-spec of a Content-ID header value: "<a@b>" -> "a@b"; trims spaces; nullopt when empty.
std::optional<std::string> content_id_value(std::string_view header_value);

/// The Content-ID a cid: URL names, percent-decoded: "cid:a%40b" -> "a@b". Accepts the URL with or
/// without angle brackets and header parameters ("<cid:x>;p=1"); nullopt when it is not a cid: URL.
std::optional<std::string> cid_url_target(std::string_view uri);

}  // namespace sipsleuth::core
