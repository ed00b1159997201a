// SPDX-License-Identifier: GPL-2.0-or-later
// See sip_header.h. A hand-written cursor over RFC 3261's grammar: name-addr, addr-spec, generic-param,
// quoted-string with quoted-pair. Lenient where real agents are (missing space before '<', host
// values with ':' and brackets), strict where a mistake would mislead (unclosed quote or bracket).
#include "sipsleuth/core/sip_header.h"

namespace sipsleuth::core {
namespace {

bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'': case '~':
        return true;
    default:
        return false;
    }
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct Cursor {
    std::string_view s;
    std::size_t base;  // offset of s in the caller's value
    std::size_t i = 0;

    bool eof() const { return i >= s.size(); }
    char peek() const { return eof() ? '\0' : s[i]; }
    void skip_ws() {
        while (!eof() && is_ws(s[i])) ++i;
    }
    Span span(std::size_t from) const { return {base + from, i - from}; }
    std::string_view token() {
        const std::size_t from = i;
        while (!eof() && is_token_char(s[i])) ++i;
        return s.substr(from, i - from);
    }
    // Past the quoted-string at the cursor (which is on '"'); false when it never closes.
    bool skip_quoted() {
        for (++i; !eof(); ++i) {
            if (s[i] == '\\' && i + 1 < s.size()) {
                ++i;
            } else if (s[i] == '"') {
                ++i;
                return true;
            }
        }
        return false;
    }
    // A quoted-string at the cursor (which is on '"'); nullopt when it never closes.
    std::optional<std::string> quoted() {
        std::string out;
        for (++i; !eof(); ++i) {
            if (s[i] == '\\' && i + 1 < s.size()) {
                out.push_back(s[++i]);
            } else if (s[i] == '"') {
                ++i;
                return out;
            } else {
                out.push_back(s[i]);
            }
        }
        return std::nullopt;
    }
};

// One generic-param as read in place: a quoted value without its quotes, quoted-pairs kept.
struct RawParam {
    std::size_t name_at = 0, value_at = 0;  // value_at: where the value starts (its opening quote)
    std::string_view name, value;
    bool has_value = false, quoted = false;
};

// The inside of a quoted-string with its quoted-pairs undone (as Cursor::quoted reads it).
std::string unescape(std::string_view inner) {
    std::string out;
    out.reserve(inner.size());
    for (std::size_t i = 0; i < inner.size(); ++i) {
        if (inner[i] == '\\' && i + 1 < inner.size()) ++i;
        out.push_back(inner[i]);
    }
    return out;
}

// *( ";" generic-param ) at the cursor, each read in place: fn(param, cursor) with the cursor just after
// it. stop lists the characters that end an unquoted value besides ';' and white space. False on a
// malformed parameter (fn has seen the ones before it).
template <class Fn>
bool scan_params(Cursor& c, std::string_view stop, Fn fn) {
    for (c.skip_ws(); c.peek() == ';'; c.skip_ws()) {
        ++c.i;
        c.skip_ws();
        RawParam p;
        p.name_at = c.i;
        p.name = c.token();
        if (p.name.empty()) return false;
        c.skip_ws();
        if (c.peek() == '=') {
            ++c.i;
            c.skip_ws();
            p.has_value = true;
            p.value_at = c.i;
            if (c.peek() == '"') {
                if (!c.skip_quoted()) return false;
                p.quoted = true;
                p.value = c.s.substr(p.value_at + 1, c.i - p.value_at - 2);
            } else {
                while (!c.eof() && c.peek() != ';' && !is_ws(c.peek()) && stop.find(c.peek()) == std::string_view::npos)
                    ++c.i;
                p.value = c.s.substr(p.value_at, c.i - p.value_at);
            }
        }
        fn(p, c);
    }
    return true;
}

// *( ";" generic-param ) at the cursor into out, values unquoted and unescaped.
bool parse_params(Cursor& c, std::vector<HeaderParam>& out, std::string_view stop) {
    return scan_params(c, stop, [&](const RawParam& raw, const Cursor& at) {
        HeaderParam p;
        p.name = std::string(raw.name);
        p.name_span = {at.base + raw.name_at, raw.name.size()};
        if (raw.has_value) {
            p.value = raw.quoted ? unescape(raw.value) : std::string(raw.value);
            p.quoted = raw.quoted;
            p.value_span = at.span(raw.value_at);
        }
        out.push_back(std::move(p));
    });
}

}  // namespace

const HeaderParam* find_param(const std::vector<HeaderParam>& params, std::string_view name) {
    for (const HeaderParam& p : params)
        if (iequals(p.name, name)) return &p;
    return nullptr;
}

std::optional<NameAddr> parse_name_addr(std::string_view value) {
    NameAddr out;
    Cursor c{value, 0};
    c.skip_ws();
    const std::size_t lt = value.find('<');
    if (c.peek() == '"' || lt != std::string_view::npos) {
        if (c.peek() == '"') {
            auto q = c.quoted();
            if (!q) return std::nullopt;
            out.display_name = std::move(*q);
            c.skip_ws();
            if (c.peek() != '<') return std::nullopt;
        } else {
            // display-name = *(token LWS): "Laurent Robert <sip:...>"
            const std::string_view words = trim(value.substr(c.i, lt - c.i));
            for (char ch : words)
                if (!is_token_char(ch) && !is_ws(ch)) return std::nullopt;
            out.display_name = std::string(words);
            c.i = lt;
        }
        const std::size_t gt = value.find('>', c.i);
        if (gt == std::string_view::npos) return std::nullopt;
        const std::size_t uri_at = c.i + 1;
        out.uri = std::string(trim(value.substr(uri_at, gt - uri_at)));
        out.uri_span = {value.find(out.uri, uri_at), out.uri.size()};
        c.i = gt + 1;
        // URI parameters: from the first ';' of the URI to its headers ('?').
        const std::size_t semi = out.uri.find(';');
        if (semi != std::string::npos) {
            const std::string_view uri(value.substr(out.uri_span.offset, out.uri_span.length));
            const std::size_t q = uri.find('?', semi);
            Cursor u{uri.substr(0, q), out.uri_span.offset, semi};
            if (!parse_params(u, out.uri_params, "?") || !u.eof()) return std::nullopt;
        }
    } else {
        // addr-spec: every ';' after the URI starts a header parameter (RFC 3261 section 20.10).
        const std::size_t from = c.i;
        while (!c.eof() && c.peek() != ';' && !is_ws(c.peek())) ++c.i;
        out.uri = std::string(value.substr(from, c.i - from));
        out.uri_span = c.span(from);
    }
    if (!has_scheme(out.uri)) return std::nullopt;
    if (!parse_params(c, out.params, ",")) return std::nullopt;
    c.skip_ws();
    if (!c.eof()) return std::nullopt;
    return out;
}

std::optional<TokenParams> parse_token_params(std::string_view value) {
    TokenParams out;
    Cursor c{value, 0};
    c.skip_ws();
    const std::size_t at = c.i;
    out.token = std::string(c.token());
    out.token_span = c.span(at);
    if (out.token.empty()) return std::nullopt;
    if (!parse_params(c, out.params, ",")) return std::nullopt;
    c.skip_ws();
    if (!c.eof()) return std::nullopt;
    return out;
}

bool read_token_params(std::string_view value, std::string_view& token, std::vector<ParamView>& params) {
    params.clear();
    Cursor c{value, 0};
    c.skip_ws();
    token = c.token();
    if (token.empty()) return false;
    const bool ok = scan_params(c, ",", [&](const RawParam& raw, const Cursor&) {
        params.push_back({raw.name, raw.has_value ? std::optional<std::string_view>(raw.value) : std::nullopt, raw.quoted});
    });
    if (!ok) return false;
    c.skip_ws();
    return c.eof();
}

const ParamView* find_param(const std::vector<ParamView>& params, std::string_view name) {
    for (const ParamView& p : params)
        if (iequals(p.name, name)) return &p;
    return nullptr;
}

std::string ParamView::text() const {
    if (!value) return {};
    return quoted ? unescape(*value) : std::string(*value);
}

std::optional<std::string> gruu_epid(const NameAddr& contact) {
    const HeaderParam* opaque = find_param(contact.uri_params, "opaque");
    static constexpr std::string_view kPrefix = "user:epid:";
    if (!opaque || !opaque->value || opaque->value->size() <= kPrefix.size() ||
        opaque->value->compare(0, kPrefix.size(), kPrefix) != 0)
        return std::nullopt;
    return opaque->value->substr(kPrefix.size());
}

// RFC 3261 section 25.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), before the first ':'.
bool has_scheme(std::string_view uri) {
    const std::size_t colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    for (std::size_t k = 0; k < colon; ++k)
        if (!((uri[k] >= 'a' && uri[k] <= 'z') || (uri[k] >= 'A' && uri[k] <= 'Z') ||
              (k > 0 && ((uri[k] >= '0' && uri[k] <= '9') || uri[k] == '+' || uri[k] == '-' || uri[k] == '.'))))
            return false;
    return true;
}

}  // namespace sipsleuth::core
