// SPDX-License-Identifier: GPL-2.0-or-later
// See dialog_info_tracker.h. Version rules: RFC 4235 section 4.1 (the version is incremented by one
// for each NOTIFY of a subscription) and section 4.4 (a subscriber discards a partial document whose
// version is not above its own, and a missing version means a lost update). Dialogs first seen in the
// subscription's first document predate it, so only dialogs that appear later are checked for a
// missing early state; a call seen through several subscriptions (a phone's own and an RLS relaying
// it) is reported once, on the first NOTIFY that shows it. A call is known by its Call-ID (per entity),
// not by its tags or dialog id: a forked call's early dialogs and its confirmed one share it. Calls
// that never alert are left out: a dialog with <replaces> (RFC 3891 answers it at once) and one
// rejected or failed before any answer; so are dialogs first seen after lost versions (the lost
// NOTIFY may be the one that reported them early).
#include "sipsleuth/core/dialog_info_tracker.h"

#include <string_view>
#include <unordered_set>

namespace sipsleuth::core {
namespace {

constexpr std::size_t kMaxCallsReported = 100000;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Values quoted in messages are cut: Wireshark keeps 240 bytes of an expert message.
// Control characters are escaped: a message is one line.
std::string shorten(const std::string& s, std::size_t max = 64) {
    if (s.size() <= max) return escape_controls(s);
    std::size_t cut = max - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    return escape_controls(s.substr(0, cut)) + "...";
}

}  // namespace

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
    if (starts_.size() < max_tracked_) starts_.insert({subscribe.call_id, subscribe.from.tag});
}

TrackResult DialogInfoTracker::notify(const sip::Message& notify, const TrackedDocument& doc) {
    TrackResult result;
    const SubKey key{notify.call_id, notify.from.tag, notify.to.tag};
    const std::uint32_t cseq = notify.cseq, frame = notify.frame;
    auto k = std::make_pair(key, doc.entity);
    auto it = subs_.find(k);
    if (it == subs_.end()) {
        if (subs_.size() >= max_tracked_) {
            if (!reported_full_) {
                reported_full_ = true;
                result.findings.push_back({TrackFindingKind::tracker_full, std::nullopt,
                                           "Most subscriptions tracked (" + std::to_string(max_tracked_) +
                                               ") reached: this and later new subscriptions are not checked",
                                           0});
            }
            return result;
        }
        it = subs_.emplace(std::move(k), Sub{}).first;
        it->second.start_seen = starts_.count({key.call_id, key.to_tag}) > 0;
    }
    Sub& sub = it->second;
    result.tracked = true;
    if (sub.documents > 0 && cseq <= sub.last_cseq) {
        result.retransmission = true;
        return result;
    }
    result.previous_frame = sub.last_frame;
    result.previous_version = sub.last_version;

    bool discarded = false, skipped = false;
    if (doc.version && sub.last_version) {
        const std::uint64_t v = *doc.version, last = *sub.last_version;
        if (v > last + 1 && !doc.in_list) {
            skipped = true;
            const std::uint64_t lost = v - last - 1;
            result.findings.push_back(
                {TrackFindingKind::version_skipped, std::nullopt,
                 "Version " + std::to_string(v) + " of " + shorten(doc.entity) + " follows version " + std::to_string(last) +
                     " (frame " + std::to_string(sub.last_frame) + "): " + std::to_string(lost) +
                     (lost == 1 ? " NOTIFY" : " NOTIFYs") + " of this subscription missing (lost, or not captured)",
                 sub.last_frame});
        } else if (v <= last && doc.state != DocState::full) {
            discarded = true;
            result.findings.push_back(
                {TrackFindingKind::version_backwards, std::nullopt,
                 "Partial document version " + std::to_string(v) + " of " + shorten(doc.entity) + " after version " +
                     std::to_string(last) + " (frame " + std::to_string(sub.last_frame) +
                     ") without a full state: a subscriber discards it (RFC 4235 section 4.4)",
                 sub.last_frame});
        }
    }
    if (discarded) {
        // The subscriber drops this document: its version and dialogs change nothing.
        ++sub.documents;
        sub.last_frame = frame;
        sub.last_cseq = cseq;
        return result;
    }
    if (doc.version) sub.last_version = doc.version;

    if (doc.state == DocState::partial && !sub.seen_full && sub.start_seen) {
        sub.seen_full = true;  // reported once per subscription
        result.findings.push_back({TrackFindingKind::partial_before_full, std::nullopt,
                                   "Partial document of " + shorten(doc.entity) +
                                       " before any full state in this subscription: the subscriber has no state to "
                                       "apply it to (RFC 4235 section 4.4 wants full state first)",
                                   0});
    }
    if (doc.state == DocState::full) {
        sub.seen_full = true;
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
            fresh.after_gap = skipped;
            fresh.first_frame = frame;
            d = sub.dialogs.emplace(t.id, fresh).first;
        }
        DialogState_& ds = d->second;
        const bool active = t.state != DialogState::terminated && t.state != DialogState::absent &&
                            t.state != DialogState::unknown;
        if (active) {
            auto term = sub.terminated.find(t.id);
            if (term != sub.terminated.end()) {
                result.findings.push_back({TrackFindingKind::dialog_id_reused, i,
                                           "Dialog id " + quoted(shorten(t.id)) + " of " + shorten(doc.entity) +
                                               " was reported terminated in frame " + std::to_string(term->second) +
                                               " and is reported again as " + dialog_state_name(t.state) +
                                               ": a terminated dialog id is reused",
                                           term->second});
                sub.terminated.erase(term);
                ds = DialogState_{};
                ds.eligible = true;
                ds.after_gap = skipped;
                ds.first_frame = frame;
            }
        }
        if (t.direction == DialogDirection::initiator || t.direction == DialogDirection::recipient)
            ds.direction = t.direction;
        ds.replaces = ds.replaces || t.replaces;
        // The call this dialog reports, the same in every subscription that relays it and for every
        // early dialog of a forked call.
        const std::string call = doc.entity + "\n" +
                                 (t.call_id.empty() ? key.call_id + "\n" + key.from_tag + "\n" + key.to_tag + "\n" + t.id
                                                    : t.call_id);
        if (t.state == DialogState::trying || t.state == DialogState::proceeding || t.state == DialogState::early) {
            ds.ringing_seen = true;
            if (ringing_calls_.size() < kMaxCallsReported) ringing_calls_.insert(call);
        }
        if ((t.state == DialogState::confirmed || t.state == DialogState::terminated) &&
            ds.direction == DialogDirection::recipient && !ds.ringing_seen && ds.eligible && !ds.replaces &&
            !t.rejected && !ds.after_gap) {
            ds.ringing_seen = true;  // once per dialog
            // Seen ringing through another subscription (a relay that coalesced early into confirmed):
            // the phone did report it.
            if (!ringing_reported_.count(call) && !ringing_calls_.count(call) &&
                ringing_reported_.size() < kMaxCallsReported) {
                ringing_reported_.insert(call);
                // Expert messages are cut at 240 bytes by Wireshark: facts first, long ids shortened.
                std::string msg = "Incoming call never reported ringing: dialog " + quoted(shorten(t.id)) + " of " +
                                  shorten(doc.entity) + " is " + dialog_state_name(t.state) +
                                  ", never trying, proceeding or early (";
                if (!t.call_id.empty()) msg += "call-id " + shorten(t.call_id) + "; ";
                if (t.provisional_frame)
                    msg += std::to_string(t.provisional_code) + " sent in frame " + std::to_string(t.provisional_frame) + "; ";
                if (ds.first_frame != frame) msg += "first reported in frame " + std::to_string(ds.first_frame) + "; ";
                msg += sub.last_frame ? "previous NOTIFY: frame " + std::to_string(sub.last_frame) + ")"
                                      : std::string("no previous NOTIFY)");
                result.findings.push_back({TrackFindingKind::ringing_not_reported, i, msg, sub.last_frame});
            }
        }
        if (t.state == DialogState::terminated) {
            if (sub.terminated.size() >= max_dialogs_) sub.terminated.erase(sub.terminated.begin());
            sub.terminated[t.id] = frame;
        }
        ds.state = t.state;
    }
    ++sub.documents;
    sub.last_frame = frame;
    sub.last_cseq = cseq;
    return result;
}

}  // namespace sipsleuth::core
