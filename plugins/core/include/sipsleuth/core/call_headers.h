// SPDX-License-Identifier: GPL-2.0-or-later
// The few header values call tracking needs, read straight from one SIP message's bytes: start line,
// top Via branch, From, To, Contact, User-Agent and Server (RFC 3261 section 7.3: case-insensitive names,
// compact forms v/f/t/m, values continued on lines that start with white space). Reading them here
// instead of asking Wireshark's SIP dissector for them keeps mssip cheap: a post-dissector that wants a
// SIP field makes the SIP dissector build and format that item on every message (measured: +6 % of
// tshark's instructions for these seven fields on the benchmark capture).
#pragma once

#include <string>
#include <string_view>

namespace sipsleuth::core {

/// First occurrence of each header in the header section (values unfolded and trimmed; empty when absent).
struct CallHeaders {
    std::string start_line;
    std::string from, to, contact, user_agent, server, top_via;
    std::string via_branch;     ///< branch parameter of the first Via value
    std::string reason_phrase;  ///< of a status line ("SIP/2.0 487 Request Terminated")
};

/// Scans message (a SIP message, or its first bytes) up to the empty line that ends its headers.
/// Never reads past message; stops at max_headers header lines.
CallHeaders scan_call_headers(std::string_view message, std::size_t max_headers = 256);

}  // namespace sipsleuth::core
