// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for parse_dialog_info and the subscription tracker, under the default limits and
// small ones. Aborts when a span of the document, a dialog, a value, an extension or a problem leaves
// the input, a string meant for the tree is not valid UTF-8 or longer than max_value_bytes, or a
// problem message is empty; the tracker is fed the document twice (as two NOTIFYs) and its messages
// must be valid UTF-8 and, as Wireshark keeps 240 bytes, built from shortened values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "sipsleuth/core/dialog_info.h"
#include "sipsleuth/core/dialog_info_tracker.h"

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

void extensions(std::string_view input, const std::vector<XmlExtension>& ext, const XmlLimits& limits) {
    std::size_t previous = 0;
    for (std::size_t i = 0; i < ext.size(); ++i) {
        const XmlExtension& e = ext[i];
        require(e.level <= (i ? previous + 1 : 0), "extension level jumps");
        previous = e.level;
        fuzz::inside(input, e.tag, "extension tag outside the input");
        require_utf8(e.name, "extension name is not valid UTF-8");
        require_utf8(e.ns, "extension namespace is not valid UTF-8");
        value(input, e.text, limits);
        for (const auto& a : e.attributes) {
            require_utf8(a.first.value, "attribute name is not valid UTF-8");
            value(input, a.second, limits);
        }
    }
}

void participant(std::string_view input, const DialogParticipant& p, const XmlLimits& limits) {
    for (const DialogIdentity& id : p.identities) {
        value(input, id.uri, limits);
        value(input, id.display, limits);
    }
    value(input, p.target, limits);
    for (const DialogTargetParam& param : p.params) {
        value(input, param.name, limits);
        value(input, param.value, limits);
    }
    value(input, p.session_description, limits);
    value(input, p.cseq, limits);
    extensions(input, p.extensions, limits);
}

void exercise(std::string_view input, const XmlLimits& limits) {
    const DialogInfo d = parse_dialog_info(input, limits);
    require(d.decoded || d.dialogs.empty(), "dialogs without a decoded document");
    value(input, d.version, limits);
    value(input, d.state, limits);
    value(input, d.entity, limits);
    for (const DialogEntry& e : d.dialogs) {
        fuzz::inside(input, e.span, "dialog span outside the input");
        for (const XmlValue* v : {&e.id, &e.call_id, &e.local_tag, &e.remote_tag, &e.direction, &e.state,
                                  &e.state_event, &e.state_code, &e.duration, &e.referred_by})
            value(input, *v, limits);
        for (const XmlValue& hop : e.route_set) value(input, hop, limits);
        participant(input, e.local, limits);
        participant(input, e.remote, limits);
        extensions(input, e.extensions, limits);
        require_utf8(dialog_brief(e), "brief is not valid UTF-8");
    }
    extensions(input, d.extensions, limits);
    for (const DocProblem& p : d.problems) {
        fuzz::inside(input, p.where, "problem span outside the input");
        require(!p.message.empty(), "problem without a message");
        require_utf8(p.message, "problem message is not valid UTF-8");
    }
    const std::string summary = dialog_info_summary(d);
    require_utf8(summary, "summary is not valid UTF-8");
    for (const char c : summary)  // the Info column is one line
        require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control character in the summary");

    DialogInfoTracker tracker(4, 8);
    const TrackedDocument doc = tracked_document(d);
    sip::Message notify;
    notify.request = true;
    notify.method = "NOTIFY";
    notify.call_id = "c";
    notify.from.tag = "f";
    notify.to.tag = "t";
    for (std::uint32_t n = 1; n <= 2; ++n) {
        notify.cseq = notify.frame = n;
        const TrackResult r = tracker.notify(notify, doc);
        for (const TrackFinding& f : r.findings) {
            require_utf8(f.message, "finding is not valid UTF-8");
            require(!f.dialog || *f.dialog < doc.dialogs.size(), "finding names a dialog that is not there");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::with_default_and_small_limits(std::string_view(reinterpret_cast<const char*>(data), size), exercise);
    return 0;
}
