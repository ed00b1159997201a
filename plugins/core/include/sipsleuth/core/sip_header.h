// SPDX-License-Identifier: GPL-2.0-or-later
// SIP header values the coming plugins read (RFC 3261 section 25.1): name-addr / addr-spec values with
// URI and header parameters (From/To tags and Microsoft's epid, Contact GRUUs with
// opaque=user:epid:..., Refer-To), and "token;param=value" values (Event, Subscription-State,
// ms-diagnostics: 13004;reason="...";source="..."). Quoted strings keep their escapes undone; every
// part carries its byte span in the value it came from. Field case 002 (OCS 2007 R2 forked call) shows
// the Microsoft forms.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/text.h"

namespace sipsleuth::core {

/// One generic-param: `name` or `name=value` (token, host or quoted-string).
struct HeaderParam {
    std::string name;
    std::optional<std::string> value;  ///< unquoted and unescaped when quoted
    bool quoted = false;
    Span name_span, value_span;  ///< value_span covers the quotes when quoted
};

/// First parameter named name (ASCII case-insensitive, as RFC 3261 compares them), or nullptr.
const HeaderParam* find_param(const std::vector<HeaderParam>& params, std::string_view name);

/// A name-addr (`"Name" <sip:u@h;p=1>;tag=x`) or addr-spec (`sip:u@h;tag=x`) header value.
struct NameAddr {
    std::string display_name;  ///< unquoted; empty when absent
    std::string uri;           ///< without angle brackets, URI parameters included
    Span uri_span;
    std::vector<HeaderParam> uri_params;  ///< parameters inside the URI (only with angle brackets)
    std::vector<HeaderParam> params;      ///< header parameters (tag, epid, expires, ...)
};

/// Parses one name-addr or addr-spec; nullopt when the value is not one (no URI, unclosed quote or
/// angle bracket, garbage after the parameters).
std::optional<NameAddr> parse_name_addr(std::string_view value);

/// A leading token with parameters: `13004;reason="..."`, `active;expires=3600`, `dialog;id=7`.
struct TokenParams {
    std::string token;
    Span token_span;
    std::vector<HeaderParam> params;
};

/// Parses `token *(;generic-param)`; nullopt when the value does not have that shape.
std::optional<TokenParams> parse_token_params(std::string_view value);

/// One generic-param read in place, valid as long as the value it was read from.
struct ParamView {
    std::string_view name;
    std::optional<std::string_view> value;  ///< a quoted value without its quotes, quoted-pairs kept
    bool quoted = false;
    /// The value as parse_token_params gives it: quoted-pairs undone; empty without a value.
    std::string text() const;
};

/// Reads `token *(;generic-param)` in place: the shape parse_token_params accepts, without a heap block
/// once `params` (cleared first) has grown. False when the value does not have that shape.
bool read_token_params(std::string_view value, std::string_view& token, std::vector<ParamView>& params);

/// First parameter named name (ASCII case-insensitive), or nullptr.
const ParamView* find_param(const std::vector<ParamView>& params, std::string_view name);

/// A URI starts with a scheme and ':' (RFC 3261 section 25.1: `sip:`, `tel:`, `urn:`...).
bool has_scheme(std::string_view uri);

/// Microsoft endpoint id of a Contact GRUU (`opaque=user:epid:NFExHZ6mj1yDHREOYWtdYQAA`), or nullopt.
std::optional<std::string> gruu_epid(const NameAddr& contact);

}  // namespace sipsleuth::core
