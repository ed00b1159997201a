// SPDX-License-Identifier: GPL-2.0-or-later
#include "sipsleuth/core/content_id.h"

#include "sipsleuth/core/text.h"

namespace sipsleuth::core {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> content_id_value(std::string_view header_value) {
    std::string_view v = trim(header_value);
    if (!v.empty() && v.front() == '<') {
        const std::size_t close = v.find('>');
        v = v.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
    }
    v = trim(v);
    if (v.empty()) return std::nullopt;
    return std::string(v);
}

std::optional<std::string> cid_url_target(std::string_view uri) {
    std::string_view v = trim(uri);
    if (!v.empty() && v.front() == '<') {
        const std::size_t close = v.find('>');
        if (close == std::string_view::npos) return std::nullopt;
        v = v.substr(1, close - 1);
    } else {
        // Header parameters follow ';' only outside angle brackets.
        v = v.substr(0, v.find(';'));
    }
    v = trim(v);
    if (v.size() < 4 || !iequals(v.substr(0, 4), "cid:")) return std::nullopt;
    v.remove_prefix(4);
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
            const int hi = hex_digit(v[i + 1]), lo = hex_digit(v[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(v[i]);
    }
    if (out.empty()) return std::nullopt;
    return out;
}

}  // namespace sipsleuth::core
