// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for parse_rlmi and link_instances, under the default limits and small ones. Aborts
// when a span leaves the input, a string meant for the tree is not valid UTF-8 or longer than
// max_value_bytes, a problem message is empty, or the links name a part that does not exist or the
// root part.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/rlmi.h"

namespace {

using namespace sipsleuth::core;
using fuzz::require;
using fuzz::require_utf8;

void value(std::string_view input, const XmlValue& v, const XmlLimits& limits) {
    if (!v) return;
    fuzz::inside(input, v.span, "value span outside the input");
    require_utf8(v.value, "value is not valid UTF-8");
    require(v.value.size() <= limits.max_value_bytes, "value longer than max_value_bytes");
}

void exercise(std::string_view input, const XmlLimits& limits) {
    const Rlmi r = parse_rlmi(input, limits);
    require(r.decoded || r.resources.empty(), "resources without a decoded document");
    value(input, r.uri, limits);
    value(input, r.version, limits);
    value(input, r.full_state, limits);
    for (const RlmiName& n : r.names) value(input, n.text, limits);
    for (const RlmiResource& res : r.resources) {
        fuzz::inside(input, res.span, "resource span outside the input");
        value(input, res.uri, limits);
        for (const RlmiName& n : res.names) {
            value(input, n.text, limits);
            value(input, n.lang, limits);
        }
        for (const RlmiInstance& in : res.instances) {
            fuzz::inside(input, in.span, "instance span outside the input");
            for (const XmlValue* v : {&in.id, &in.state, &in.reason, &in.cid}) value(input, *v, limits);
        }
    }
    for (const DocProblem& p : r.problems) {
        fuzz::inside(input, p.where, "problem span outside the input");
        require(!p.message.empty(), "problem without a message");
        require_utf8(p.message, "problem message is not valid UTF-8");
    }
    const std::string summary = rlmi_summary(r);
    require_utf8(summary, "summary is not valid UTF-8");
    for (const char c : summary)  // the Info column is one line
        require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control character in the summary");

    // Parts named after the first instances' cids, plus a root: every link must point at a real part.
    std::vector<RlmiPart> parts(1);
    parts[0].is_root = true;
    parts[0].content_id = "<rlmi@x>";
    for (const RlmiResource& res : r.resources)
        for (const RlmiInstance& in : res.instances)
            if (in.cid && parts.size() < 4) parts.push_back({"<" + in.cid.value + ">", "application/dialog-info+xml", "", false});
    const RlmiLinks l = link_instances(r, parts, true);
    require(l.instance_part.size() == r.instance_count() && l.missing.size() == r.instance_count(), "links per instance");
    require(l.unreferenced.size() == parts.size() && l.unreferenced[0].empty(), "links per part");
    for (const auto& p : l.instance_part) require(!p || (*p > 0 && *p < parts.size()), "link to no part or to the root");
    for (const std::string& m : l.missing) require_utf8(m, "missing message is not valid UTF-8");
    for (const std::string& m : l.unreferenced) require_utf8(m, "unreferenced message is not valid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::with_default_and_small_limits(std::string_view(reinterpret_cast<const char*>(data), size), exercise);
    return 0;
}
