// SPDX-License-Identifier: GPL-2.0-or-later
// Microsoft endpoint ids: the `epid` header parameter of From and To (each registered endpoint of a user
// has its own, field case 002: `To: <sip:izabelaf@uclab.org>;epid=2798f0b3cc;tag=97a7d6045d`) and the
// epid inside a Contact GRUU (`<sip:izabelaf@uclab.org;opaque=user:epid:uozeqPgOuFOVd0DaRpeFCgAA;gruu>`).
// Values are made printable and capped; a header that shows an epid but cannot carry one usefully (no
// value, empty, unparsable header) is reported so the analyst does not trust a missing id.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/sip/message.h"

namespace sipsleuth::core {

/// The epid of one header value, the tag alongside (From/To), and what was wrong, if anything.
struct EpidResult {
    std::string epid;     ///< printable; empty when absent
    std::string tag;      ///< From/To tag parameter, when the header parsed
    std::string problem;  ///< sentence case, empty when none
};

/// Whether bytes contain "epid" in any letter case: a fast first test run on every SIP message's headers.
bool mentions_epid(std::string_view bytes);

/// epid and tag of a From or To value; header names the header in problem messages ("From", "To").
EpidResult from_to_epid(std::string_view value, std::string_view header);

/// epid of a Contact value's GRUU (`opaque=user:epid:...`): in the URI, else in a gruu or pub-gruu
/// parameter (a registrar's 200 OK, RFC 5627 section 5.1). Only an empty epid in the URI is a problem.
EpidResult contact_epid(std::string_view value);

/// The epids of one parsed message, printable and capped, and what was wrong with them.
struct MessageEpids {
    std::string from, to;  ///< epid parameters of From and To
    std::string contact;   ///< the first Contact's GRUU epid
    std::vector<std::string> problems;
};

/// Reads the epids of a message parsed by sip::parse() from its fields (From/To epid parameters, the
/// first Contact as sent). `bytes`, the message as parsed, is scanned again only when parse() could not
/// read From or To (then only a header with an epid parameter is a problem) or when the message is cut
/// (`truncated`: the snap length), where a header line cut by the end of the bytes is ignored, never
/// called malformed.
MessageEpids message_epids(const sip::Message& m, bool truncated, std::string_view bytes);

}  // namespace sipsleuth::core
