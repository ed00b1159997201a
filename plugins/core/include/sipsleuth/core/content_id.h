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

/// How a REFER's Refer-To relates to the body it carries (the Cisco alarm REFERs of field case 003).
enum class CidVerdict {
    match,          ///< Refer-To cid: names the body's Content-ID
    mismatch,       ///< both present, naming different ids
    no_content_id,  ///< Refer-To is a cid: URL, the body has no Content-ID
    no_refer_cid,   ///< the body has a Content-ID, Refer-To is not a cid: URL naming it
    neither,        ///< no cid: URL and no Content-ID
};

struct CidCheck {
    CidVerdict verdict;
    std::string refer_cid;  ///< decoded cid: target, valid UTF-8, at most 512 bytes; empty when none
    std::string body_cid;   ///< Content-ID without brackets, same limits
    std::string message;    ///< expert text for every verdict but match
};

/// Compares a Refer-To header value with the body's Content-ID header value (either may be empty).
CidCheck check_refer_to_cid(std::string_view refer_to, std::string_view content_id);

}  // namespace sipsleuth::core
