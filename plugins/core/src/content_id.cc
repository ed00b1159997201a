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

// An id inside a message: 64 bytes at most, so two fit in the GUI's 200 (the fields hold 512).
std::string id_text(const std::string& id) { return id.size() <= 64 ? id : sanitize_utf8(id, 61) + "..."; }

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

CidCheck check_refer_to_cid(std::string_view refer_to, std::string_view content_id) {
    const auto refer_cid = cid_url_target(refer_to);
    const auto body_cid = content_id_value(content_id);
    CidCheck out{CidVerdict::neither, {}, {}, {}};
    if (refer_cid) out.refer_cid = sanitize_utf8(*refer_cid, 512);
    if (body_cid) out.body_cid = sanitize_utf8(*body_cid, 512);
    if (refer_cid && body_cid) {
        out.verdict = *refer_cid == *body_cid ? CidVerdict::match : CidVerdict::mismatch;
        if (out.verdict == CidVerdict::mismatch)
            out.message = "Refer-To names cid:" + id_text(out.refer_cid) + " but this body's Content-ID is <" +
                          id_text(out.body_cid) + ">";
    } else if (refer_cid) {
        out.verdict = CidVerdict::no_content_id;
        out.message = "Refer-To names cid:" + id_text(out.refer_cid) + " but this body has no Content-ID";
    } else if (body_cid) {
        out.verdict = CidVerdict::no_refer_cid;
        out.message = "This body's Content-ID is <" + id_text(out.body_cid) + "> but Refer-To is not a cid: URL naming it";
    } else {
        out.message = "Neither a Refer-To cid: URL nor a Content-ID names this body";
    }
    return out;
}

}  // namespace sipsleuth::core
