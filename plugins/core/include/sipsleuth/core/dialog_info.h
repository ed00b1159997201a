// SPDX-License-Identifier: GPL-2.0-or-later
// Parser for application/dialog-info+xml bodies (RFC 4235, the dialog event package that drives
// busy-lamp-field lamps). Reads the document's version, state and entity and, per <dialog>, its ids,
// direction, state (with event and code), duration, replaces, referred-by, route set and both
// participants (identities, target with params, session description, cseq). Only elements in
// urn:ietf:params:xml:ns:dialog-info are read as RFC 4235 elements; every other element (Polycom,
// Cisco, sipX, BroadSoft extensions) is kept as an XmlExtension. Also recognises the placeholder dialog
// that sipX's Resource List Server synthesizes when a monitored phone has no dialog (id ";",
// terminated: sipXrls ResourceCached::generateBody, field case 000).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipsleuth/core/codes.h"
#include "sipsleuth/core/dialog_info_xml.h"

namespace sipsleuth::core {

inline constexpr std::string_view kDialogInfoNamespace = "urn:ietf:params:xml:ns:dialog-info";

/// <dialog-info state=...> (RFC 4235 section 4.1).
enum class DocState { absent, full, partial, unknown };
/// <state> text of a dialog (RFC 4235 section 3.7.1).
enum class DialogState { absent, trying, proceeding, early, confirmed, terminated, unknown };
/// direction attribute of a dialog.
enum class DialogDirection { absent, initiator, recipient, unknown };

const char* dialog_state_name(DialogState s);
const char* dialog_direction_name(DialogDirection d);

/// One <identity> of a participant.
struct DialogIdentity {
    XmlValue uri;      ///< element text
    XmlValue display;  ///< display attribute
};

/// One <param pname= pval=> of a target.
struct DialogTargetParam {
    XmlValue name, value;
};

/// <local> or <remote> (RFC 4235 section 4.1.6).
struct DialogParticipant {
    bool present = false;
    Span span;  ///< start tag
    std::vector<DialogIdentity> identities;
    XmlValue target;  ///< target uri attribute
    std::vector<DialogTargetParam> params;
    XmlValue session_description, session_description_type;
    XmlValue cseq;
    std::optional<std::uint32_t> cseq_value;
    std::vector<XmlExtension> extensions;  ///< extension elements inside the participant
};

/// One <dialog>.
struct DialogEntry {
    Span span;  ///< start tag
    XmlValue id, call_id, local_tag, remote_tag, direction;
    DialogDirection direction_kind = DialogDirection::absent;
    XmlValue state, state_event, state_code;
    DialogState state_kind = DialogState::absent;
    std::optional<std::uint32_t> code;
    XmlValue duration;
    std::optional<std::uint32_t> duration_value;
    bool has_replaces = false;
    Span replaces_span;
    XmlValue replaces_call_id, replaces_local_tag, replaces_remote_tag;
    XmlValue referred_by, referred_by_display;
    std::vector<XmlValue> route_set;  ///< <route-set><hop> texts
    DialogParticipant local, remote;
    bool placeholder = false;  ///< sipX RLS placeholder: id ";" and terminated
    std::vector<XmlExtension> extensions;
};

struct DialogInfo {
    bool decoded = false;  ///< the root is <dialog-info> in the RFC 4235 namespace
    Span root_span;
    XmlValue version, state, entity;
    std::optional<std::uint32_t> version_value;
    DocState doc_state = DocState::absent;
    std::vector<DialogEntry> dialogs;
    std::vector<XmlExtension> extensions;  ///< extension elements outside any dialog (or the whole root)
    std::vector<DocProblem> problems;
    std::size_t xml_depth = 0;
};

/// Parses one body. Never throws except std::bad_alloc; problems say what was wrong and where.
DialogInfo parse_dialog_info(std::string_view body, const XmlLimits& limits = {});

/// Info column text: "dialog-info v12 full sip:208@host: 1 dialog (recipient, early)".
std::string dialog_info_summary(const DialogInfo& info);

/// One dialog as "recipient, early" (or "placeholder"), for summaries.
std::string dialog_brief(const DialogEntry& dialog);

/// Dialog states and events of RFC 4235, for value_strings and docs.
CodeTable dialog_states();

}  // namespace sipsleuth::core
