// SPDX-License-Identifier: GPL-2.0-or-later
// See dialog_info_tracker.h. Version rules: RFC 4235 section 4.1 (the version is incremented by one
// for each NOTIFY of a subscription) and section 4.4 (a subscriber discards a partial document whose
// version is not above its own, and a missing version means a lost update). A version gap is taken for
// a lost NOTIFY only when the NOTIFY's CSeq skips too (or either CSeq is unknown) and the document is
// partial: some notifiers count versions in steps of 2, and a full state needs no earlier document.
// Dialogs first seen in the subscription's first document predate it, so only dialogs that appear
// later are checked for a missing early state; a call seen through several subscriptions (a phone's own and an RLS relaying
// it) is reported once, on the first NOTIFY that shows it. A call is known by its Call-ID (per entity),
// not by its tags or dialog id: a forked call's early dialogs and its confirmed one share it. Calls
// that never alert are left out: a dialog with <replaces> (RFC 3891 answers it at once) and one
// rejected or failed before any answer; so are dialogs first seen after lost versions (the lost
// NOTIFY may be the one that reported them early).
#include "sipsleuth/core/dialog_info_tracker.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace sipsleuth::core {
namespace {

constexpr std::size_t kMaxCallsReported = 100000;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Values quoted in messages are cut so that every message fits in 200 bytes (the GUI cuts an expert
// item's label, "Expert Info (Warning/Sequence): " plus the message, at 240). Control characters are
// escaped: a message is one line.
std::string shorten(const std::string& s, std::size_t max = 64) { return short_value(s, max); }

constexpr std::size_t kEntityMax = 48, kIdMax = 32;

std::string entity_text(const std::string& entity) { return shorten(entity, kEntityMax); }

bool ringing_state(DialogState s) {
    return s == DialogState::trying || s == DialogState::proceeding || s == DialogState::early;
}

}  // namespace

bool is_consequence(TrackFindingKind kind) { return kind == TrackFindingKind::ringing_discarded; }

TrackedDocument tracked_document(const DialogInfo& info) {
    TrackedDocument doc;
    doc.entity = info.entity.value;
    doc.version = info.version_value;
    doc.state = info.doc_state;
    for (const DialogEntry& d : info.dialogs) {
        TrackedDialog t;
        t.id = d.id.value;
        t.call_id = d.call_id.value;
        t.local_tag = d.local_tag.value;
        t.remote_tag = d.remote_tag.value;
        t.direction = d.direction_kind;
        t.state = d.state_kind;
        t.placeholder = d.placeholder;
        t.replaces = d.has_replaces;
        if (d.state_kind == DialogState::terminated) {
            const std::string& event = d.state_event.value;
            const bool failure_code = d.code && *d.code >= 300 && *d.code != 487 && *d.code != 408;
            t.rejected = event == "rejected" || event == "error" || (!d.state_event && failure_code);
        }
        doc.dialogs.push_back(std::move(t));
    }
    return doc;
}

void DialogInfoTracker::subscribe(const sip::Message& subscribe) {
    if (starts_.size() < max_tracked_)
        starts_.insert(sip::detail::fingerprint({subscribe.call_id, subscribe.from.tag}));
}

void DialogInfoTracker::note_discarded(Sub& sub, const TrackedDocument& doc, std::uint32_t frame) {
    for (const TrackedDialog& t : doc.dialogs) {
        if (t.placeholder || t.id.empty() || !ringing_state(t.state)) continue;
        auto d = sub.dialogs.find(t.id);
        if (d == sub.dialogs.end()) {
            if (sub.dialogs.size() >= max_dialogs_) continue;
            DialogState_ fresh;
            fresh.eligible = sub.documents > 0;
            fresh.first_frame = frame;
            d = sub.dialogs.emplace(t.id, fresh).first;
        }
        if (!d->second.ringing_seen && !d->second.ringing_discarded) d->second.ringing_discarded = frame;
    }
}

void DialogInfoTracker::check_ringing(Sub& sub, DialogState_& ds, const TrackedDialog& t, std::size_t index,
                                      const std::string& entity, const std::string& call, std::uint32_t frame,
                                      TrackResult& result) {
    if (!(t.state == DialogState::confirmed || t.state == DialogState::terminated) ||
        ds.direction != DialogDirection::recipient || ds.ringing_seen || !ds.eligible || ds.replaces || t.rejected ||
        ds.after_gap)
        return;
    ds.ringing_seen = true;  // once per dialog
    // Seen ringing through another subscription (a relay that coalesced early into confirmed): the
    // phone did report it.
    if (ringing_reported_.count(call) || ringing_calls_.count(call) || ringing_reported_.size() >= kMaxCallsReported)
        return;
    ringing_reported_.insert(call);
    TrackFinding f{TrackFindingKind::ringing_not_reported, index, {}, sub.last_frame};
    const std::string what = "dialog " + quoted(shorten(t.id, kIdMax)) + " of " + entity_text(entity) + " is " +
                             dialog_state_name(t.state);
    if (ds.ringing_discarded) {
        // The phone did report it ringing, in a document the subscriber discards: that document's
        // version_backwards is the cause.
        f.kind = TrackFindingKind::ringing_discarded;
        f.caused_by = ds.ringing_discarded;
        f.related_frame = ds.ringing_discarded;
        f.message = "Incoming call reported ringing only in a discarded document: " + what;
    } else {
        f.message = "Incoming call never reported ringing: " + what + ", never trying, proceeding or early";
        if (t.provisional_frame) f.message += " (" + std::to_string(t.provisional_code) + " sent)";
    }
    if (ds.first_frame != frame) f.first_frame = ds.first_frame;
    f.provisional_frame = t.provisional_frame;
    f.provisional_code = t.provisional_code;
    result.findings.push_back(std::move(f));
}

TrackResult DialogInfoTracker::notify(const sip::Message& notify, const TrackedDocument& doc) {
    TrackResult result;
    const std::uint32_t cseq = notify.cseq, frame = notify.frame;
    const sip::detail::Fingerprint sub_key =
        sip::detail::fingerprint({notify.call_id, notify.from.tag, notify.to.tag, doc.entity});
    auto it = subs_.find(sub_key);
    if (it == subs_.end()) {
        if (subs_.size() >= max_tracked_) {
            if (!reported_full_) {
                reported_full_ = true;
                result.findings.push_back({TrackFindingKind::tracker_full, std::nullopt,
                                           "Most subscriptions tracked (" + std::to_string(max_tracked_) +
                                               ") reached: this and later new subscriptions are not checked"});
            }
            return result;
        }
        it = subs_.emplace(sub_key, Sub{}).first;
        it->second.start_seen = starts_.count(sip::detail::fingerprint({notify.call_id, notify.to.tag})) > 0;
    }
    Sub& sub = it->second;
    result.tracked = true;
    if (sub.documents > 0 && cseq <= sub.last_cseq) {
        result.retransmission = true;
        return result;
    }
    result.previous_frame = sub.last_frame;
    result.previous_version = sub.last_version;
    if (sub.documents > 0 && sub.last_has_cseq) result.previous_cseq = sub.last_cseq;
    result.full_state_frame = sub.full_frame;

    bool discarded = false, lost = false;
    if (doc.version && sub.last_version) {
        const std::uint64_t v = *doc.version, last = *sub.last_version;
        if (v > last + 1 && !doc.in_list) {
            // A version gap is a lost NOTIFY only when the NOTIFY CSeqs skip too (RFC 3261 section 12.2.1.1:
            // one more per request of the dialog): a notifier may count versions in steps (Vertical Wave,
            // wswiki__wireuploaded.pcap: 3479, 3481, 3483 in CSeqs ...169, 170, 171, each answered 200).
            const bool cseq_known = notify.has_cseq && sub.last_has_cseq;
            const std::uint64_t cseq_gap = cseq_known ? std::uint64_t{cseq} - sub.last_cseq : 0;
            lost = !cseq_known || cseq_gap > 1;
            // A full-state document replaces whatever was missed: nothing is lost to the subscriber.
            if (lost && doc.state != DocState::full) {
                TrackFinding f{TrackFindingKind::version_skipped, std::nullopt, {}, sub.last_frame};
                const std::uint64_t missing = cseq_known ? cseq_gap - 1 : v - last - 1;
                f.missing = static_cast<std::uint32_t>(std::min<std::uint64_t>(missing, UINT32_MAX));
                f.message = "Version " + std::to_string(v) + " of " + entity_text(doc.entity) + " follows version " +
                            std::to_string(last);
                if (cseq_known)
                    f.message += " and NOTIFY CSeq " + std::to_string(cseq) + " follows " + std::to_string(sub.last_cseq);
                f.message += ": " + std::to_string(missing) + (missing == 1 ? " NOTIFY" : " NOTIFYs") +
                             (cseq_known ? " missing (lost, or not captured)" : " missing (lost, or not captured; CSeq unknown)");
                result.findings.push_back(std::move(f));
            }
        } else if (v <= last && doc.state != DocState::full) {
            discarded = true;
            result.findings.push_back(
                {TrackFindingKind::version_backwards, std::nullopt,
                 "Partial document version " + std::to_string(v) + " of " + entity_text(doc.entity) + " after version " +
                     std::to_string(last) + " without a full state: a subscriber discards it (RFC 4235 section 4.4)",
                 sub.last_frame});
        }
    }
    if (discarded) {
        // The subscriber drops this document: its version and dialogs change nothing, but a ringing it
        // reported is remembered, so that the missing early state is told as its consequence.
        note_discarded(sub, doc, frame);
        ++sub.documents;
        sub.last_frame = frame;
        sub.last_cseq = cseq;
        sub.last_has_cseq = notify.has_cseq;
        return result;
    }
    if (doc.version) sub.last_version = doc.version;

    if (doc.state == DocState::partial && !sub.seen_full && sub.start_seen) {
        sub.seen_full = true;  // reported once per subscription
        result.findings.push_back({TrackFindingKind::partial_before_full, std::nullopt,
                                   "Partial document of " + entity_text(doc.entity) +
                                       " before any full state in this subscription: the subscriber has no state to "
                                       "apply it to (RFC 4235 section 4.4)"});
    }
    if (doc.state == DocState::full) {
        sub.seen_full = true;
        sub.full_frame = frame;
        // Full state replaces the dialog list: dialogs it leaves out are gone (one pass over each list,
        // not one over the document per tracked dialog).
        if (!sub.dialogs.empty()) {
            std::unordered_set<std::string_view> listed;
            listed.reserve(doc.dialogs.size());
            for (const TrackedDialog& t : doc.dialogs) listed.insert(t.id);
            for (auto d = sub.dialogs.begin(); d != sub.dialogs.end();)
                d = listed.count(d->first) ? std::next(d) : sub.dialogs.erase(d);
        }
    }

    for (std::size_t i = 0; i < doc.dialogs.size(); ++i) {
        const TrackedDialog& t = doc.dialogs[i];
        if (t.placeholder || t.id.empty()) continue;
        auto d = sub.dialogs.find(t.id);
        if (d == sub.dialogs.end()) {
            if (sub.dialogs.size() >= max_dialogs_) continue;
            DialogState_ fresh;
            fresh.eligible = sub.documents > 0;
            fresh.after_gap = lost;
            fresh.first_frame = frame;
            d = sub.dialogs.emplace(t.id, fresh).first;
        }
        DialogState_& ds = d->second;
        const bool active = t.state != DialogState::terminated && t.state != DialogState::absent &&
                            t.state != DialogState::unknown;
        if (active) {
            auto term = sub.terminated.find(t.id);
            if (term != sub.terminated.end()) {
                TrackFinding f{TrackFindingKind::dialog_id_reused, i,
                               "Dialog id " + quoted(shorten(t.id, kIdMax)) + " of " + entity_text(doc.entity) +
                                   " was reported terminated and is reported again as " + dialog_state_name(t.state) +
                                   ": a terminated dialog id is reused",
                               term->second};
                f.terminated_frame = term->second;
                result.findings.push_back(std::move(f));
                sub.terminated.erase(term);
                ds = DialogState_{};
                ds.eligible = true;
                ds.after_gap = lost;
                ds.first_frame = frame;
            }
        }
        if (t.direction == DialogDirection::initiator || t.direction == DialogDirection::recipient)
            ds.direction = t.direction;
        ds.replaces = ds.replaces || t.replaces;
        // The call this dialog reports, the same in every subscription that relays it and for every
        // early dialog of a forked call.
        const std::string call = doc.entity + "\n" +
                                 (t.call_id.empty() ? notify.call_id + "\n" + notify.from.tag + "\n" + notify.to.tag + "\n" + t.id
                                                    : t.call_id);
        if (ringing_state(t.state)) {
            ds.ringing_seen = true;
            if (ringing_calls_.size() < kMaxCallsReported) ringing_calls_.insert(call);
        }
        check_ringing(sub, ds, t, i, doc.entity, call, frame, result);
        if (t.state == DialogState::terminated) {
            if (sub.terminated.size() >= max_dialogs_) sub.terminated.erase(sub.terminated.begin());
            sub.terminated[t.id] = frame;
        }
        ds.state = t.state;
    }
    ++sub.documents;
    sub.last_frame = frame;
    sub.last_cseq = cseq;
    sub.last_has_cseq = notify.has_cseq;
    return result;
}

}  // namespace sipsleuth::core
