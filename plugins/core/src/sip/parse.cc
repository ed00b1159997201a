// SPDX-License-Identifier: GPL-2.0-or-later
// sip::parse(): one pass over a SIP message's bytes (RFC 3261 section 7), filling the one model of
// message.h. It runs on every SIP message of every capture, so it reads values in place: header
// lines are found with memchr, names are dispatched by length and first letter, values are walked
// by small cursors and only the fields of Message are copied (into strings and vectors whose
// capacity a reused Message keeps). Lenient where real agents are (bare LF line ends, folded lines,
// several values per line, missing space before '<'), and never throws: a value it cannot read is a
// HeaderProblem, not a failure of the message.
#include <cstring>

#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/text.h"

namespace sipsleuth::core::sip {
namespace {

constexpr std::size_t kMaxProblems = 16;  // a garbage header block must not grow the message without bound

// Character classes by table: one load per byte on the hot paths.
enum : std::uint8_t { kWs = 1, kToken = 2 };
// Where an unquoted parameter value ends (';' or white space), and where a Via host ends (':' too).
struct StopTable {
    bool value_end[256] = {}, host_end[256] = {};
    constexpr StopTable() {
        for (unsigned char c : {';', ' ', '\t', '\r', '\n'}) value_end[c] = host_end[c] = true;
        host_end[static_cast<unsigned char>(':')] = true;
    }
};
constexpr StopTable kStops;
struct CharTable {
    std::uint8_t c[256] = {};
    constexpr CharTable() {
        for (unsigned char w : {' ', '\t', '\r', '\n'}) c[w] = kWs;
        for (int i = 'a'; i <= 'z'; ++i) c[i] = kToken;
        for (int i = 'A'; i <= 'Z'; ++i) c[i] = kToken;
        for (int i = '0'; i <= '9'; ++i) c[i] = kToken;
        for (unsigned char t : {'-', '.', '!', '%', '*', '_', '+', '`', '\'', '~'}) c[t] = kToken;
    }
};
constexpr CharTable kChars;

inline bool is_ws(char c) { return kChars.c[static_cast<unsigned char>(c)] == kWs; }
inline bool is_token_char(char c) { return kChars.c[static_cast<unsigned char>(c)] == kToken; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// memchr that accepts an empty range (a default string_view's data() is null, which memchr forbids).
inline const void* find_byte(const char* p, char c, std::size_t n) { return n == 0 ? nullptr : std::memchr(p, c, n); }

template <class W>
inline W load(const char* p) {
    W w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

// `a` and `b` agree on [0, n) once bit 0x20 of each byte of `a` is set; n >= sizeof(W). Whole words,
// the last one overlapping the one before (a literal's length is a constant: the branches fold).
template <class W>
inline bool same_words(const char* a, const char* b, std::size_t n) {
    const W mask = static_cast<W>(0x2020202020202020ull);
    std::size_t i = 0;
    for (; i + sizeof(W) <= n; i += sizeof(W))
        if ((load<W>(a + i) | mask) != load<W>(b + i)) return false;
    return i == n || (load<W>(a + n - sizeof(W)) | mask) == load<W>(b + n - sizeof(W));
}

// ASCII case-insensitive comparison with a lower-case literal (header and parameter names): setting
// bit 0x20 lower-cases letters and keeps '-', '.', '+' and digits as they are. Compared a word at a
// time.
inline bool named(std::string_view n, std::string_view lower_literal) {
    const std::size_t len = lower_literal.size();
    if (n.size() != len) return false;
    if (len >= 8) return same_words<std::uint64_t>(n.data(), lower_literal.data(), len);
    if (len >= 4) return same_words<std::uint32_t>(n.data(), lower_literal.data(), len);
    if (len >= 2) return same_words<std::uint16_t>(n.data(), lower_literal.data(), len);
    return len == 0 || (n[0] | 0x20) == lower_literal[0];
}

inline std::string_view ltrim(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && is_ws(s[i])) ++i;
    return s.substr(i);
}

inline std::string_view rtrim(std::string_view s) {
    std::size_t n = s.size();
    while (n > 0 && is_ws(s[n - 1])) --n;
    return s.substr(0, n);
}

inline std::string_view trimmed(std::string_view s) { return rtrim(ltrim(s)); }

// clear() and append() rather than assign(): a Message's strings keep their capacity, and append's path
// (capacity check, copy) is a third of assign's (aliasing checks).
inline void copy(std::string& dst, std::string_view v) {
    dst.clear();
    if (!v.empty()) dst.append(v.data(), v.size());
}

void assign_folded(std::string& dst, std::string_view v) {
    if (find_byte(v.data(), '\n', v.size()) == nullptr) {
        copy(dst, v);
        return;
    }
    dst.clear();
    for (std::size_t i = 0; i < v.size();) {
        if (is_ws(v[i])) {
            std::size_t j = i;
            bool line_end = false;
            for (; j < v.size() && is_ws(v[j]); ++j) line_end = line_end || v[j] == '\r' || v[j] == '\n';
            if (line_end)
                dst.push_back(' ');
            else
                dst.append(v.data() + i, j - i);
            i = j;
        } else {
            dst.push_back(v[i++]);
        }
    }
}

// Copies a value; a folded value (CRLF followed by white space inside it) becomes one line, each run of
// white space holding a line end replaced by one space (RFC 3261 section 7.3.1).
// `folded`: the header spans several lines (otherwise a value holds no line end: the split ends at '\n').
inline void assign(std::string& dst, std::string_view v, bool folded) {
    if (folded)
        assign_folded(dst, v);
    else
        copy(dst, v);
}

void assign_lower(std::string& dst, std::string_view v) {
    copy(dst, v);
    for (char& c : dst) c = lower(c);
}

void assign_upper(std::string& dst, std::string_view v) {
    copy(dst, v);
    for (char& c : dst) c = upper(c);
}

// The inside of a quoted-string (quotes removed by the caller), quoted-pairs undone.
void assign_unescaped(std::string& dst, std::string_view v, bool folded) {
    if (find_byte(v.data(), '\\', v.size()) == nullptr) {
        assign(dst, v, folded);
        return;
    }
    dst.clear();
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        dst.push_back(v[i]);
    }
}

// Position just after the closing quote of the quoted-string starting at s[i] == '"', or npos.
std::size_t skip_quoted(std::string_view s, std::size_t i) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\')
            ++i;
        else if (s[i] == '"')
            return i + 1;
    }
    return std::string_view::npos;
}

// Decimal digits saturating at UINT32_MAX (RFC 3261 delta-seconds: larger values mean 2**32-1). False
// when the value is empty or not all digits.
bool parse_u32(std::string_view v, std::uint32_t& out, bool* saturated = nullptr) {
    if (v.empty()) return false;
    std::uint64_t n = 0;
    bool sat = false;
    for (char c : v) {
        if (!is_digit(c)) return false;
        n = n * 10 + static_cast<unsigned>(c - '0');
        if (n > UINT32_MAX) {
            n = UINT32_MAX;
            sat = true;
        }
    }
    out = static_cast<std::uint32_t>(n);
    if (saturated) *saturated = sat;
    return true;
}

// Splits a header value into its comma-separated values (Via, Contact, Record-Route): commas inside a
// quoted-string or between '<' and '>' do not split. Calls fn(value) for each non-empty value, trimmed;
// stops when fn returns false.
template <class Fn>
void for_each_value(std::string_view v, Fn fn) {
    if (find_byte(v.data(), ',', v.size()) == nullptr) {  // the common case: one value
        if (!v.empty()) fn(v);
        return;
    }
    std::size_t start = 0;
    bool angle = false;
    for (std::size_t i = 0; i <= v.size();) {
        if (i == v.size() || (v[i] == ',' && !angle)) {
            const std::string_view one = trimmed(v.substr(start, i - start));
            if (!one.empty() && !fn(one)) return;
            start = ++i;
            continue;
        }
        const char c = v[i];
        if (c == '"' && !angle) {
            const std::size_t end = skip_quoted(v, i);
            i = end == std::string_view::npos ? v.size() : end;
        } else {
            if (c == '<') angle = true;
            if (c == '>') angle = false;
            ++i;
        }
    }
}

// *( ";" generic-param ) from s[i]: fn(name, value, quoted) per parameter (value without its quotes).
// False when a parameter has no name or a quote never closes.
template <class Fn>
bool for_each_param(std::string_view s, std::size_t i, Fn fn) {
    for (;;) {
        while (i < s.size() && is_ws(s[i])) ++i;
        if (i >= s.size()) return true;
        if (s[i] != ';') return false;
        ++i;
        while (i < s.size() && is_ws(s[i])) ++i;
        const std::size_t name_at = i;
        while (i < s.size() && is_token_char(s[i])) ++i;
        const std::string_view name = s.substr(name_at, i - name_at);
        if (name.empty()) return false;
        while (i < s.size() && is_ws(s[i])) ++i;
        std::string_view value;
        bool quoted = false;
        if (i < s.size() && s[i] == '=') {
            ++i;
            while (i < s.size() && is_ws(s[i])) ++i;
            if (i < s.size() && s[i] == '"') {
                const std::size_t end = skip_quoted(s, i);
                if (end == std::string_view::npos) return false;
                value = s.substr(i + 1, end - i - 2);
                quoted = true;
                i = end;
            } else {
                const std::size_t at = i;
                while (i < s.size() && !kStops.value_end[static_cast<unsigned char>(s[i])]) ++i;
                value = s.substr(at, i - at);
            }
        }
        fn(name, value, quoted);
    }
}

// A name-addr or addr-spec read in place.
struct NameAddrView {
    std::string_view display;  // quoted content (escapes kept) or the tokens before '<'
    bool display_quoted = false;
    std::string_view uri;
    std::string_view rest;  // the header parameters, from the first ';' after the URI
};

bool read_name_addr(std::string_view v, NameAddrView& out) {
    std::size_t i = 0;
    if (!v.empty() && v[0] == '"') {
        const std::size_t end = skip_quoted(v, 0);
        if (end == std::string_view::npos) return false;
        out.display = v.substr(1, end - 2);
        out.display_quoted = true;
        i = end;
        while (i < v.size() && is_ws(v[i])) ++i;
        if (i >= v.size() || v[i] != '<') return false;
    } else {
        const void* lt = find_byte(v.data(), '<', v.size());
        if (lt != nullptr) {
            i = static_cast<std::size_t>(static_cast<const char*>(lt) - v.data());
            out.display = rtrim(v.substr(0, i));
        }
    }
    if (i < v.size() && v[i] == '<') {
        const void* gt = find_byte(v.data() + i, '>', v.size() - i);
        if (gt == nullptr) return false;
        const std::size_t g = static_cast<std::size_t>(static_cast<const char*>(gt) - v.data());
        out.uri = trimmed(v.substr(i + 1, g - i - 1));
        out.rest = v.substr(g + 1);
    } else {
        // addr-spec: every ';' after the URI starts a header parameter (RFC 3261 section 20.10).
        std::size_t e = 0;
        while (e < v.size() && v[e] != ';' && !is_ws(v[e])) ++e;
        out.uri = v.substr(0, e);
        out.rest = v.substr(e);
    }
    return !out.uri.empty();
}

// The epid of a Microsoft GRUU: the URI parameter opaque=user:epid:<epid> (up to '?' or ';').
std::string_view uri_gruu_epid(std::string_view uri) {
    static constexpr std::string_view kOpaque = "opaque=user:epid:";
    for (std::size_t semi = uri.find(';'); semi != std::string_view::npos; semi = uri.find(';', semi + 1)) {
        const std::string_view p = uri.substr(semi + 1);
        if (p.size() > kOpaque.size() && iequals(p.substr(0, 7), kOpaque.substr(0, 7)) &&
            p.compare(7, kOpaque.size() - 7, kOpaque.substr(7)) == 0) {
            std::size_t e = kOpaque.size();
            while (e < p.size() && p[e] != ';' && p[e] != '?' && p[e] != '>') ++e;
            return p.substr(kOpaque.size(), e - kOpaque.size());
        }
        if (uri.find('?', semi) == semi) break;
    }
    return {};
}

enum class Header : std::uint8_t {
    other,
    call_id,
    from,
    to,
    via,
    cseq,
    contact,
    content_length,
    content_type,
    expires,
    flow_timer,
    event,
    subscription_state,
    user_agent,
    server,
    record_route,
    refer_to,
};

// Header names are case-insensitive (RFC 3261 section 7.3.1); compact forms from RFC 3261 section 20
// and RFC 6665 section 8.4 (o = Event, u = Allow-Events), RFC 3515 (r = Refer-To).
Header lookup(std::string_view n) {
    if (n.size() == 1) {
        switch (lower(n[0])) {
        case 'i': return Header::call_id;
        case 'f': return Header::from;
        case 't': return Header::to;
        case 'v': return Header::via;
        case 'm': return Header::contact;
        case 'l': return Header::content_length;
        case 'c': return Header::content_type;
        case 'o': return Header::event;
        case 'r': return Header::refer_to;
        default: return Header::other;  // e k s x u b y a j d n: not in Message
        }
    }
    const auto is = [&](std::string_view lower_name) { return named(n, lower_name); };
    switch (n.size()) {
    case 2: return is("to") ? Header::to : Header::other;
    case 3: return is("via") ? Header::via : Header::other;
    case 4: return is("from") ? Header::from : is("cseq") ? Header::cseq : Header::other;
    case 5: return is("event") ? Header::event : Header::other;
    case 6: return is("server") ? Header::server : Header::other;
    case 7:
        switch (lower(n[0])) {
        case 'c': return is("call-id") ? Header::call_id : is("contact") ? Header::contact : Header::other;
        case 'e': return is("expires") ? Header::expires : Header::other;
        default: return Header::other;
        }
    case 8: return is("refer-to") ? Header::refer_to : Header::other;
    case 10:
        return is("user-agent") ? Header::user_agent : is("flow-timer") ? Header::flow_timer : Header::other;
    case 12:
        return is("content-type") ? Header::content_type : is("record-route") ? Header::record_route : Header::other;
    case 14: return is("content-length") ? Header::content_length : Header::other;
    case 18: return is("subscription-state") ? Header::subscription_state : Header::other;
    default: return Header::other;
    }
}

class Parser {
public:
    explicit Parser(Message& m) : m_(m) {}

    void header(Header h, std::string_view v, bool folded) {
        folded_ = folded;
        header(h, v);
    }
    void problem(const char* header, const char* what) {
        if (m_.problems.size() < kMaxProblems) m_.problems.push_back({header, what});
    }
    void finish();

    bool content_length_seen = false;

private:
    void header(Header h, std::string_view v);
    bool once(bool& seen, const char* name) {
        if (seen) {
            problem(name, "repeated");
            return false;
        }
        seen = true;
        return true;
    }
    void party(std::string_view v, Party& p, const char* name);
    void via(std::string_view v);
    void top_via(std::string_view v);
    void contact(std::string_view v);
    void cseq(std::string_view v);
    void number(std::string_view v, std::optional<std::uint32_t>& out, const char* name);

    Message& m_;
    std::size_t contacts_ = 0, routes_ = 0;
    bool call_id_ = false, from_ = false, to_ = false, cseq_ = false;
    bool folded_ = false;  // the current header spans several lines
};

void Parser::party(std::string_view v, Party& p, const char* name) {
    NameAddrView na;
    if (!read_name_addr(v, na)) {
        problem(name, "not a name-addr");
        return;
    }
    if (na.display_quoted)
        assign_unescaped(p.display, na.display, folded_);
    else
        assign(p.display, na.display, folded_);
    assign(p.uri, na.uri, folded_);
    const bool ok = for_each_param(na.rest, 0, [&](std::string_view n, std::string_view val, bool) {
        if (named(n, "tag"))
            assign(p.tag, val, folded_);
        else if (named(n, "epid")) {
            assign(p.epid, val, folded_);
            p.has_epid = true;
        }
    });
    if (!ok) problem(name, "bad parameter");
}

void Parser::top_via(std::string_view v) {
    // sent-protocol = name "/" version "/" transport, LWS allowed around the slashes.
    Via& via = m_.via;
    via.present = true;
    std::size_t i = 0;
    for (int slash = 0; slash < 2; ++slash) {
        while (i < v.size() && v[i] != '/') ++i;
        if (i >= v.size()) {
            problem("Via", "no sent-protocol");
            return;
        }
        ++i;
    }
    while (i < v.size() && is_ws(v[i])) ++i;
    const std::size_t t = i;
    while (i < v.size() && is_token_char(v[i])) ++i;
    assign_upper(via.transport, v.substr(t, i - t));
    while (i < v.size() && is_ws(v[i])) ++i;
    std::string_view host;
    if (i < v.size() && v[i] == '[') {
        const std::size_t close = v.find(']', i);
        if (close == std::string_view::npos) {
            problem("Via", "unclosed IPv6 reference");
            return;
        }
        host = v.substr(i + 1, close - i - 1);
        i = close + 1;
    } else {
        const std::size_t h = i;
        while (i < v.size() && !kStops.host_end[static_cast<unsigned char>(v[i])]) ++i;
        host = v.substr(h, i - h);
    }
    if (via.transport.empty() || host.empty()) problem("Via", "no sent-by");
    assign_lower(via.host, host);
    while (i < v.size() && is_ws(v[i])) ++i;
    if (i < v.size() && v[i] == ':') {
        ++i;
        while (i < v.size() && is_ws(v[i])) ++i;
        const std::size_t p = i;
        while (i < v.size() && is_digit(v[i])) ++i;
        std::uint32_t port = 0;
        if (!parse_u32(v.substr(p, i - p), port) || port > 65535)
            problem("Via", "bad port");
        else
            via.port = static_cast<std::uint16_t>(port);
    }
    // A comment after the sent-by is legal (RFC 3261 section 20.42) but nobody sends one: stop there.
    const std::size_t paren = v.find('(', i);
    const bool ok = for_each_param(v.substr(0, paren), i, [&](std::string_view n, std::string_view val, bool) {
        if (named(n, "branch"))
            assign(via.branch, val, folded_);
        else if (named(n, "received"))
            assign(via.received, val, folded_);
    });
    if (!ok) problem("Via", "bad parameter");
}

void Parser::via(std::string_view v) {
    for_each_value(v, [&](std::string_view one) {
        if (m_.via_count++ == 0) top_via(one);
        return true;
    });
}

void Parser::contact(std::string_view v) {
    for_each_value(v, [&](std::string_view one) {
        if (contacts_ == m_.contacts.size()) m_.contacts.emplace_back();
        Contact& c = m_.contacts[contacts_++];
        assign(c.raw, one, folded_);
        c.uri.clear();
        c.expires.reset();
        c.instance.clear();
        c.gruu_epid.clear();
        c.star = one == "*";
        if (c.star) return true;
        NameAddrView na;
        if (!read_name_addr(one, na)) {
            problem("Contact", "not a name-addr");
            return true;
        }
        assign(c.uri, na.uri, folded_);
        const std::string_view epid = uri_gruu_epid(na.uri);
        if (!epid.empty()) assign(c.gruu_epid, epid, folded_);
        const bool ok = for_each_param(na.rest, 0, [&](std::string_view n, std::string_view val, bool) {
            if (named(n, "expires")) {
                std::uint32_t e = 0;
                if (parse_u32(val, e))
                    c.expires = e;
                else
                    problem("Contact", "expires not a number");
            } else if (named(n, "+sip.instance")) {
                assign_unescaped(c.instance, val, folded_);
            }
        });
        if (!ok) problem("Contact", "bad parameter");
        return true;
    });
}

void Parser::cseq(std::string_view v) {
    std::size_t i = 0;
    while (i < v.size() && is_digit(v[i])) ++i;
    std::uint32_t n = 0;
    bool sat = false;
    if (!parse_u32(v.substr(0, i), n, &sat) || (i < v.size() && !is_ws(v[i]))) {
        problem("CSeq", "not a number");
        return;
    }
    if (sat || n >= 0x80000000u) {
        // RFC 3261 section 8.1.1.5: the sequence number MUST be less than 2**31.
        problem("CSeq", "number out of range");
        if (sat) return;
    }
    const std::string_view method = ltrim(v.substr(i));
    std::size_t e = 0;
    while (e < method.size() && is_token_char(method[e])) ++e;
    if (e == 0 || e != method.size()) {
        problem("CSeq", "no method");
        return;
    }
    m_.has_cseq = true;
    m_.cseq = n;
    assign(m_.cseq_method, method, folded_);
}

void Parser::number(std::string_view v, std::optional<std::uint32_t>& out, const char* name) {
    std::uint32_t n = 0;
    // Expires and Flow-Timer are delta-seconds; Expires may be a date in RFC 2543 agents: a problem.
    if (parse_u32(v, n))
        out = n;
    else
        problem(name, "not a number");
}

void Parser::header(Header h, std::string_view v) {
    switch (h) {
    case Header::other: return;
    case Header::call_id:
        if (once(call_id_, "Call-ID")) assign(m_.call_id, v, folded_);
        return;
    case Header::from:
        if (once(from_, "From")) party(v, m_.from, "From");
        return;
    case Header::to:
        if (once(to_, "To")) party(v, m_.to, "To");
        return;
    case Header::via: via(v); return;
    case Header::cseq:
        if (once(cseq_, "CSeq")) cseq(v);
        return;
    case Header::contact: contact(v); return;
    case Header::record_route:
        for_each_value(v, [&](std::string_view one) {
            NameAddrView na;
            if (!read_name_addr(one, na)) {
                problem("Record-Route", "not a name-addr");
                return true;
            }
            if (routes_ == m_.record_route.size()) m_.record_route.emplace_back();
            assign(m_.record_route[routes_++], na.uri, folded_);
            return true;
        });
        return;
    case Header::content_length: {
        std::uint32_t n = 0;
        if (content_length_seen) {
            problem("Content-Length", "repeated");
        } else if (parse_u32(v, n)) {
            m_.content_length = n;
            content_length_seen = true;
        } else {
            problem("Content-Length", "not a number");
        }
        return;
    }
    case Header::content_type: {
        std::size_t e = 0;
        while (e < v.size() && v[e] != ';') ++e;
        const std::string_view type = rtrim(v.substr(0, e));
        std::string& out = m_.content_type;
        copy(out, type);
        std::size_t n = 0;
        for (char c : out)
            if (!is_ws(c)) out[n++] = lower(c);
        out.resize(n);
        return;
    }
    case Header::expires: number(v, m_.expires, "Expires"); return;
    case Header::flow_timer: number(v, m_.flow_timer, "Flow-Timer"); return;
    case Header::event:
        if (!m_.event) assign(m_.event.emplace(), v, folded_);
        return;
    case Header::subscription_state:
        if (!m_.subscription_state) assign(m_.subscription_state.emplace(), v, folded_);
        return;
    case Header::user_agent: assign(m_.user_agent, v, folded_); return;
    case Header::server: assign(m_.server, v, folded_); return;
    case Header::refer_to:
        if (m_.refer_to.empty()) assign(m_.refer_to, v, folded_);
        return;
    }
}

void Parser::finish() {
    m_.contacts.resize(contacts_);
    m_.record_route.resize(routes_);
    if (!call_id_) problem("Call-ID", "missing");
    if (!from_) problem("From", "missing");
    if (!to_) problem("To", "missing");
    if (!cseq_) problem("CSeq", "missing");
    if (m_.via_count == 0) problem("Via", "missing");
    if (m_.has_cseq && m_.request && m_.cseq_method != m_.method) problem("CSeq", "method differs from the request's");
}

void reset(Message& m) {
    m.request = false;
    m.method.clear();
    m.request_uri.clear();
    m.status = 0;
    m.reason.clear();
    m.call_id.clear();
    for (Party* p : {&m.from, &m.to}) {
        p->display.clear();
        p->uri.clear();
        p->tag.clear();
        p->epid.clear();
        p->has_epid = false;
    }
    m.has_cseq = false;
    m.cseq = 0;
    m.cseq_method.clear();
    m.via.transport.clear();
    m.via.host.clear();
    m.via.port = 0;
    m.via.branch.clear();
    m.via.received.clear();
    m.via.present = false;
    m.via_count = 0;
    m.expires.reset();
    m.flow_timer.reset();
    m.event.reset();
    m.subscription_state.reset();
    m.user_agent.clear();
    m.server.clear();
    m.refer_to.clear();
    m.content_type.clear();
    m.content_length = 0;
    m.body_offset = 0;
    m.body_length = 0;
    m.problems.clear();
}

// The end of the line starting at `at`: the position of its '\n', or the size.
std::size_t line_end(std::string_view b, std::size_t at) {
    const void* nl = find_byte(b.data() + at, '\n', b.size() - at);
    return nl == nullptr ? b.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - b.data());
}

// The start line (RFC 3261 section 7.1, 7.2). False when it is none.
bool start_line(std::string_view line, Message& m) {
    static constexpr std::string_view kVersion = "sip/2.0";  // compared case-insensitively by named()
    line = rtrim(line);
    if (line.size() >= 12 && named(line.substr(0, 7), kVersion) && line[7] == ' ') {
        std::size_t i = 8;
        while (i < line.size() && line[i] == ' ') ++i;
        if (i + 3 > line.size() || !is_digit(line[i]) || !is_digit(line[i + 1]) || !is_digit(line[i + 2]) ||
            (i + 3 < line.size() && line[i + 3] != ' '))
            return false;
        m.status = static_cast<std::uint32_t>((line[i] - '0') * 100 + (line[i + 1] - '0') * 10 + (line[i + 2] - '0'));
        if (m.status < 100) return false;
        assign(m.reason, ltrim(line.substr(i + 3)), false);
        m.request = false;
        return true;
    }
    std::size_t i = 0;
    while (i < line.size() && is_token_char(line[i])) ++i;
    if (i == 0 || i >= line.size() || line[i] != ' ') return false;
    const std::string_view method = line.substr(0, i);
    const std::size_t last_sp = line.rfind(' ');
    if (last_sp <= i || !named(line.substr(last_sp + 1), kVersion)) return false;
    const std::string_view uri = trimmed(line.substr(i + 1, last_sp - i - 1));
    if (uri.empty() || uri.find(' ') != std::string_view::npos) return false;
    m.request = true;
    assign(m.method, method, false);
    assign(m.request_uri, uri, false);
    return true;
}

}  // namespace

ParseStatus parse(std::string_view bytes, Message& out) {
    reset(out);
    // RFC 3261 section 7.5: CRLFs before the start line are ignored.
    std::size_t at = 0;
    while (at < bytes.size() && (bytes[at] == '\r' || bytes[at] == '\n')) ++at;
    std::size_t eol = line_end(bytes, at);
    if (!start_line(bytes.substr(at, eol - at), out)) {
        reset(out);
        out.contacts.clear();
        out.record_route.clear();
        return ParseStatus::not_sip;
    }
    Parser p(out);
    bool ended = false;
    // Header lines by pointers (no bounds-checked substr on this path, which runs for every line).
    const char* const base = bytes.data();
    const char* const stop = base + bytes.size();
    at = eol + 1;
    while (at < bytes.size()) {
        const char* const first = base + at;
        const char* nl = static_cast<const char*>(std::memchr(first, '\n', static_cast<std::size_t>(stop - first)));
        const char* const line_stop = nl != nullptr ? nl : stop;
        const char* content_stop = line_stop;
        if (content_stop > first && content_stop[-1] == '\r') --content_stop;
        if (content_stop == first) {
            ended = true;
            at = static_cast<std::size_t>(line_stop - base) + 1;
            break;
        }
        // A header continues on lines starting with white space (folding, RFC 3261 section 7.3.1).
        const char* end = line_stop;
        while (end + 1 < stop && (end[1] == ' ' || end[1] == '\t')) {
            const char* more = static_cast<const char*>(std::memchr(end + 1, '\n', static_cast<std::size_t>(stop - end - 1)));
            end = more != nullptr ? more : stop;
        }
        at = static_cast<std::size_t>(end - base) + 1;
        if (*first == ' ' || *first == '\t') continue;  // continuation of the start line: nothing to read
        const auto* colon = static_cast<const char*>(std::memchr(first, ':', static_cast<std::size_t>(end - first)));
        if (colon == nullptr) {
            p.problem("", "header line without a colon");
            continue;
        }
        const char* name_stop = colon;
        while (name_stop > first && is_ws(name_stop[-1])) --name_stop;
        const Header which = lookup(std::string_view(first, static_cast<std::size_t>(name_stop - first)));
        if (which == Header::other) continue;  // a header no field of Message needs: not read further
        p.header(which, trimmed(std::string_view(colon + 1, static_cast<std::size_t>(end - colon - 1))), end != line_stop);
    }
    p.finish();
    if (!ended) return ParseStatus::truncated;
    const std::size_t available = at <= bytes.size() ? bytes.size() - at : 0;
    out.body_offset = static_cast<std::uint32_t>(at <= bytes.size() ? at : bytes.size());
    if (p.content_length_seen) {
        out.body_length = static_cast<std::uint32_t>(out.content_length < available ? out.content_length : available);
        if (out.content_length > available) return ParseStatus::truncated;
    } else {
        out.body_length = static_cast<std::uint32_t>(available);
    }
    return ParseStatus::ok;
}

}  // namespace sipsleuth::core::sip
