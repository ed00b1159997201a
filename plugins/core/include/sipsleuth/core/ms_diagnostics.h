// SPDX-License-Identifier: GPL-2.0-or-later
// Microsoft's ms-diagnostics and ms-diagnostics-public SIP headers ([MS-OCER] section 2.2.1.1, and the
// OCS 2007 "Ms-Diagnostics Header" page): `<ErrorId>[.<SubCode>];reason="...";source="..."[;name="v"]*`.
// Office Communications Server and Lync add them to responses (and some CANCEL/BYE requests) to say
// why a request failed or how it progressed; field case 002 shows
// `13004;reason="Request was proxied to one or more registered endpoints";source="R2EE01.uclab.org";
// appName="InboundRouting"` on a 101 Progress Report. Names of error ids come from [MS-OCER] section 8
// (see ms_diagnostics_codes()); unknown ids stay numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/codes.h"
#include "sipsleuth/core/sip_header.h"
#include "sipsleuth/core/text.h"

namespace sipsleuth::core {

/// Why an ms-diagnostics value could not be fully decoded.
enum class MsDiagProblemKind { empty, bad_shape, bad_code, bad_sub_code, value_cut };

struct MsDiagProblem {
    MsDiagProblemKind kind;
    Span where;           ///< into the header value
    std::string message;  ///< sentence case, no period
};

/// One parameter, its value made printable (valid UTF-8, at most the value cap).
struct MsDiagParam {
    std::string name, value;
    bool has_value = false;
    Span name_span, value_span;
};

/// A decoded header value. Spans are offsets into the value given to parse_ms_diagnostics().
struct MsDiagnostics {
    bool has_code = false;  ///< the ErrorId parsed as a number
    std::uint32_t code = 0;
    std::optional<std::uint32_t> sub_code;
    Span code_span;  ///< ErrorId and sub-code together
    std::vector<MsDiagParam> params;
    std::vector<MsDiagProblem> problems;

    /// Value of the first parameter named name (case-insensitive), or nullptr.
    const MsDiagParam* param(std::string_view name) const;
};

/// Most parameters decoded per header: each becomes several tree items, and a hostile header of
/// hundreds of thousands of `;a` would fill the tree.
inline constexpr std::size_t kMsDiagMaxParams = 128;

/// Parses one header value; never throws on any input, values longer than max_value_bytes are cut
/// (with a value_cut problem), parameters past kMsDiagMaxParams are dropped (with a value_cut problem).
/// A value that is not `token *(;param)` keeps a leading ErrorId when it
/// has one, and reports bad_shape.
MsDiagnostics parse_ms_diagnostics(std::string_view value, std::size_t max_value_bytes = 1024);

/// Error ids named in [MS-OCER] section 8 (the releases up to OCS 2007 R2), in code order.
CodeTable ms_diagnostics_codes();

/// "13004 (Request was proxied to one or more registered endpoints)" or "4711" when undocumented.
std::string ms_diagnostics_label(std::uint32_t code);

}  // namespace sipsleuth::core
