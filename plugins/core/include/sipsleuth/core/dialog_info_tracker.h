// SPDX-License-Identifier: GPL-2.0-or-later
// Checks across the NOTIFYs of one dialog-event subscription (RFC 4235 section 4.4 and RFC 6665):
// per subscription (its SIP dialog, from the NOTIFY's core::sip::Message: Call-ID, From tag (the
// notifier's), To tag (the subscriber's), RFC 6665 section 4.4.1) and per entity (an RLS NOTIFY
// carries one dialog-info document per resource), it follows the document version and the state of
// every dialog, and reports versions skipped (NOTIFYs lost: the version and the NOTIFY CSeq both skip,
// on a partial document), versions going backwards without a full state, partial state before any full
// state, a terminated dialog id reused, and an incoming dialog that reaches confirmed or terminated
// without ever being reported trying, proceeding or early (field case 000: a Polycom phone never
// reports the incoming call ringing, so BLF lamps do not flash). Each finding is a root cause, except
// ringing_discarded: the ringing was reported in a document the subscriber discards, a consequence of
// that document's version_backwards (TrackFinding::caused_by). Messages fit in 200 bytes; the frames
// they refer to are TrackFinding members, rendered as link fields.
// Bounded: at most max_tracked (subscription, entity) pairs and max_dialogs dialogs each.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sipsleuth/core/dialog_info.h"
#include "sipsleuth/core/sip/flat_index.h"
#include "sipsleuth/core/sip/message.h"

namespace sipsleuth::core {

/// What the tracker needs of one dialog of a document.
struct TrackedDialog {
    std::string id, call_id, local_tag, remote_tag;
    DialogDirection direction = DialogDirection::absent;
    DialogState state = DialogState::absent;
    bool placeholder = false;
    /// Carries <replaces>: established by an INVITE with Replaces (attended transfer, call pickup), which
    /// RFC 3891 section 3 answers without alerting, so it never rings.
    bool replaces = false;
    /// Terminated by a rejection or an error (state event rejected or error, or a failure code other
    /// than 487 and 408): a call refused without alerting (do not disturb, busy) never rang.
    bool rejected = false;
    /// Frame and code of a 180/183 the capture shows for this dialog's Call-ID (0: none seen); quoted
    /// as evidence when the dialog is never reported ringing.
    std::uint32_t provisional_frame = 0;
    unsigned provisional_code = 0;
};

/// What the tracker needs of one document.
struct TrackedDocument {
    std::string entity;
    std::optional<std::uint32_t> version;
    DocState state = DocState::absent;
    std::vector<TrackedDialog> dialogs;
    /// A part of a resource list NOTIFY (multipart/related): the RLS numbers these documents its own
    /// way (sipXrls uses one version counter for every resource it serves, ResourceCached::generateBody)
    /// or coalesces changes, so a version gap there is no evidence of a lost NOTIFY and is not reported.
    bool in_list = false;
};

/// Extracts the tracked facts of a parsed document.
TrackedDocument tracked_document(const DialogInfo& info);

enum class TrackFindingKind {
    /// version > previous + 1 on a partial document, and the NOTIFY CSeq skips too (or is unknown); not
    /// for documents in a resource list NOTIFY. A notifier counting versions in steps (consecutive
    /// CSeqs) lost nothing, and a full-state document needs no earlier one.
    version_skipped,
    version_backwards,     ///< version <= previous in a partial document
    partial_before_full,   ///< the subscription's first document (its start seen) is partial
    ringing_not_reported,  ///< incoming dialog confirmed/terminated, never trying/proceeding/early
    /// Consequence: as ringing_not_reported, but the dialog was reported trying, proceeding or early
    /// in a document the subscriber discarded (version_backwards, caused_by that frame).
    ringing_discarded,
    dialog_id_reused,      ///< a terminated dialog id reported again, not terminated
    tracker_full,          ///< max_tracked reached: this subscription is not followed
};

/// Whether a finding kind is a consequence of another finding (it then carries caused_by).
bool is_consequence(TrackFindingKind kind);

struct TrackFinding {
    TrackFindingKind kind;
    std::optional<std::size_t> dialog;  ///< index of the dialog in the document, when about one
    std::string message;                ///< sentence case, at most 200 bytes; frames are in the members below
    std::uint32_t related_frame = 0;    ///< the earlier frame the finding compares with (0: none)
    std::uint32_t caused_by = 0;        ///< the frame of the finding this one is a consequence of (0: a cause)
    std::uint32_t missing = 0;          ///< version_skipped: NOTIFYs missing
    std::uint32_t terminated_frame = 0; ///< dialog_id_reused: where the id was reported terminated
    std::uint32_t first_frame = 0;      ///< ringing: the NOTIFY that first reported the dialog, when earlier
    std::uint32_t provisional_frame = 0;  ///< ringing: a 180/183 of the dialog's call in the capture
    unsigned provisional_code = 0;
};

/// The result for one document of one NOTIFY.
struct TrackResult {
    bool tracked = false;         ///< the document was followed (a NOTIFY with Call-ID and tags)
    /// CSeq not above the previous NOTIFY's of this subscription: a retransmission, or a NOTIFY that arrives
    /// out of order, which the subscriber rejects (RFC 3261 section 12.2.2). Not counted.
    bool retransmission = false;
    std::uint32_t previous_frame = 0;    ///< previous NOTIFY of this subscription and entity
    std::optional<std::uint32_t> previous_version;
    std::optional<std::uint32_t> previous_cseq;  ///< its CSeq number, when it had one
    /// The subscription's latest full-state document for this entity before this one (0: none seen).
    std::uint32_t full_state_frame = 0;
    std::vector<TrackFinding> findings;
};

class DialogInfoTracker {
public:
    explicit DialogInfoTracker(std::size_t max_tracked = 10000, std::size_t max_dialogs = 256)
        : max_tracked_(max_tracked), max_dialogs_(max_dialogs) {}

    /// An initial SUBSCRIBE (no To tag) for the dialog event: the subscription's start is in the capture.
    void subscribe(const sip::Message& subscribe);
    /// One document of a NOTIFY (its Call-ID, tags, CSeq number and frame). Call in frame order, once per
    /// document.
    TrackResult notify(const sip::Message& notify, const TrackedDocument& doc);

    std::size_t tracked() const { return subs_.size(); }

private:
    struct DialogState_ {
        DialogDirection direction = DialogDirection::absent;
        bool ringing_seen = false;  // trying, proceeding or early
        std::uint32_t ringing_discarded = 0;  // frame of a discarded document that reported it ringing
        bool eligible = false;      // first seen after the subscription's first document
        bool after_gap = false;     // first seen in a document that follows lost versions
        bool replaces = false;      // reported with <replaces> at least once
        std::uint32_t first_frame = 0;
        DialogState state = DialogState::absent;
    };
    struct Sub {
        std::uint32_t documents = 0;
        std::uint32_t last_frame = 0;
        std::uint32_t last_cseq = 0;
        bool last_has_cseq = false;
        std::uint32_t full_frame = 0;  // latest full-state document
        std::optional<std::uint32_t> last_version;
        bool seen_full = false;
        bool start_seen = false;
        std::map<std::string, DialogState_> dialogs;
        std::map<std::string, std::uint32_t> terminated;  // id -> frame it was reported terminated
    };

    /// A document the subscriber discards (version_backwards): its dialogs reported ringing are
    /// remembered, so that their missing early state is told as a consequence, not a cause.
    void note_discarded(Sub& sub, const TrackedDocument& doc, std::uint32_t frame);
    /// The ringing check of one dialog (ringing_not_reported or ringing_discarded), appended to result.
    void check_ringing(Sub& sub, DialogState_& ds, const TrackedDialog& t, std::size_t index,
                       const std::string& entity, const std::string& call, std::uint32_t frame, TrackResult& result);

    std::size_t max_tracked_, max_dialogs_;
    bool reported_full_ = false;
    struct KeyHash {
        std::size_t operator()(const sip::detail::Fingerprint& f) const { return static_cast<std::size_t>(f.a); }
    };

    // A subscription and entity: sip::detail::fingerprint(Call-ID, From tag (the notifier's), To tag (the
    // subscriber's), entity), as the transaction layer's keys (distinct keys merge only when both 64-bit
    // hashes collide); hashed, not ordered (never iterated).
    std::unordered_map<sip::detail::Fingerprint, Sub, KeyHash> subs_;
    std::unordered_set<sip::detail::Fingerprint, KeyHash> starts_;  // fingerprint(Call-ID, subscriber tag)
    std::set<std::string> ringing_reported_;                // one finding per call, across subscriptions
    std::set<std::string> ringing_calls_;                   // calls some subscription saw ringing
};

}  // namespace sipsleuth::core
