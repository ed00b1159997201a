// SPDX-License-Identifier: GPL-2.0-or-later
// SIP dialogs as RFC 3261 section 12 and RFC 6665 define them, seen from a capture point. A dialog is
// (Call-ID, the two tags); the capture has no "local" side, so a dialog is found by Call-ID and its tag
// pair in either orientation. Dialogs are created by a 1xx with a To tag (early) or a 2xx (confirmed) to
// an out-of-dialog INVITE, SUBSCRIBE or REFER, and by a NOTIFY for a SUBSCRIBE (RFC 6665 section 4.4.1:
// its To tag is the SUBSCRIBE's From tag, its Event the SUBSCRIBE's). Never by a response to CANCEL: a
// proxy answers CANCEL itself with its own To tag (RFC 3261 section 16.10), which is no UAS's dialog.
//
// Each dialog-creating request keeps the dialogs of its transaction (the forks: distinct To tags) with
// the evidence of the response that created each, so an analyzer can tell a forking proxy (several UASs:
// distinct Contacts or Record-Route sets) from a B2BUA that changes its To tag between 180 and 200 (one
// UAS: the same Contact and route). See distinct_endpoints().
//
// Terminated by a 2xx (or 481/408, RFC 3261 section 12.2.1.2) to BYE, by a non-2xx final to the
// initial request (its early dialogs), by a NOTIFY with Subscription-State: terminated. Forgotten lazily
// (time-ordered queue, message times): `linger` after termination, `early_linger` after an early
// dialog's last message, `idle` after a confirmed dialog's last message. Bounded; a full table says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipsleuth/core/sip/expiry.h"
#include "sipsleuth/core/sip/flat_index.h"
#include "sipsleuth/core/sip/message.h"
#include "sipsleuth/core/sip/transaction.h"
#include "sipsleuth/core/time.h"

namespace sipsleuth::core::sip {

/// A dialog's id: from 1 in creation order, never reused; 0 means none.
using DialogId = std::uint32_t;

struct DialogLimits {
    std::size_t max_dialogs = 65536;
    /// Dialog-creating requests remembered (for their forks and for NOTIFYs creating subscriptions).
    std::size_t max_origins = 65536;
    /// Dialogs one request may create (distinct To tags); more are not tracked (`full`).
    std::size_t max_forks = 16;
    Nanos linger = 32 * kSecond;          ///< after termination (64*T1)
    Nanos early_linger = 180 * kSecond;   ///< after an early dialog's last message (Timer C)
    Nanos idle = 24 * 3600 * kSecond;     ///< after a confirmed dialog's last message
};

enum class DialogState : std::uint8_t { early, confirmed, terminated };
enum class DialogUsage : std::uint8_t { invite, subscribe, refer };

/// The response (or NOTIFY) that created a dialog, as a fork's evidence.
struct DialogEvidence {
    MessageRef message;
    std::uint32_t status = 0;        ///< 0 for a NOTIFY
    std::string contact;             ///< its first Contact URI; empty when none
    std::vector<std::string> record_route;  ///< its Record-Route URIs, top first
    std::uint32_t via_count = 0;     ///< Vias of the response
    std::string via_host;            ///< its top Via sent-by host (lower case)
    std::uint16_t via_port = 0;
};

struct Dialog {
    DialogId id = 0;
    DialogUsage usage = DialogUsage::invite;
    DialogState state = DialogState::early;
    std::string call_id;
    std::string uac_tag;   ///< the creating request's From tag
    std::string uas_tag;   ///< the To tag of the response (or the From tag of the NOTIFY) that created it
    TxnId origin = 0;      ///< the creating request's transaction (0: not seen or not tracked)
    MessageRef request;    ///< the creating request's first copy (unknown when not seen)
    DialogEvidence created;          ///< the message that created it
    MessageRef confirmed;            ///< the first 2xx (or NOTIFY) confirming it
    MessageRef terminated;           ///< the message that terminated it
    Nanos last_activity = 0;
};

/// The rule for forks: two dialogs of one request come from distinct endpoints (a forking proxy reached
/// several UASs) when their creating responses' Contact URIs are both present and differ (ASCII case-
/// insensitively: a Microsoft GRUU differs only in its opaque=user:epid parameter), or their
/// Record-Route sets differ (another path). The same Contact and the same route: one UAS, or a B2BUA
/// that changed its To tag (RFC 3261 section 12.1.2 expects one tag per UAS), not a fork. Without any
/// Contact and with the same route: false (no evidence of a second endpoint).
bool distinct_endpoints(const Dialog& a, const Dialog& b);

/// The layer's verdict on one message: plain values, valid after later calls.
struct DialogVerdict {
    DialogId id = 0;          ///< the dialog the message belongs to, created or updated; 0: none
    bool created = false;     ///< this message created it
    bool confirmed = false;   ///< this message moved it to confirmed (created confirmed included)
    bool terminated = false;  ///< this message terminated it (or, for a non-2xx final, its early dialogs)
    /// A message with both tags (in-dialog request or response, or a NOTIFY) that matches no dialog and
    /// creates none: e.g. a NOTIFY whose To tag is no known subscriber's tag.
    bool unmatched = false;
    bool full = false;        ///< a dialog (or an origin) could not be tracked: table or fork bound reached
    std::uint32_t fork = 0;   ///< a creating request's response: which of its dialogs (1-based)
    std::uint32_t forks = 0;  ///< dialogs of the creating request so far
    TxnId origin = 0;         ///< the creating request's transaction of `id`
};

class DialogLayer {
public:
    explicit DialogLayer(DialogLimits limits = {});

    /// One message with the transaction layer's verdict on it (call TransactionLayer::on_message first).
    DialogVerdict on_message(const Message& m, const TxnVerdict& txn);

    /// The dialogs (forks) of a dialog-creating request's transaction while it is remembered, in
    /// creation order, as copies.
    std::vector<Dialog> forks(TxnId origin) const;
    /// The dialog with that id while remembered, or nullptr; valid until the next on_message call.
    const Dialog* find(DialogId id) const;
    /// The dialog of (Call-ID, tag, tag) in either orientation, or nullptr; valid as find()'s.
    const Dialog* find(std::string_view call_id, std::string_view tag_a, std::string_view tag_b) const;
    std::size_t size() const { return dialogs_live_; }
    std::size_t origins() const { return origins_live_; }
    bool overflowed() const { return overflowed_; }
    std::uint64_t work_done() const { return work_; }
    const DialogLimits& limits() const { return limits_; }

private:
    // An origin's dialogs in creation order: almost always one or two, kept inline; more move to the heap
    // (a vector per origin cost an allocation for its first dialog).
    class DialogIds {
    public:
        void push_back(DialogId id) {
            if (more_.empty() && count_ < kInline) {
                inline_[count_++] = id;
                return;
            }
            if (more_.empty()) more_.assign(inline_, inline_ + count_);
            more_.push_back(id);
        }
        const DialogId* begin() const { return more_.empty() ? inline_ : more_.data(); }
        const DialogId* end() const { return begin() + size(); }
        std::size_t size() const { return more_.empty() ? count_ : more_.size(); }
        DialogId operator[](std::size_t i) const { return begin()[i]; }
        void clear() {
            count_ = 0;
            more_.clear();
        }

    private:
        static constexpr std::size_t kInline = 4;
        DialogId inline_[kInline] = {};
        std::size_t count_ = 0;
        std::vector<DialogId> more_;  // all of them once there are more than kInline
    };
    // Both pooled: a forgotten item's slot is reused with the capacity of its strings and vectors.
    struct Origin {  // one out-of-dialog INVITE, SUBSCRIBE or REFER
        TxnId txn = 0;  // 0: a free slot
        DialogUsage usage = DialogUsage::invite;
        std::string event;  // SUBSCRIBE, REFER: the Event's type and id, for NOTIFY matching
        MessageRef request;
        DialogIds dialogs;
        bool by_tag = false;  // SUBSCRIBE, REFER: in by_tag_ under tag_key
        detail::Fingerprint tag_key;
        Nanos forget_at = 0;
    };
    struct Entry {
        Dialog dialog;  // dialog.id 0: a free slot
        detail::Fingerprint key;
        Nanos forget_at = 0;
    };

    void expire(Nanos now);
    Entry* entry(DialogId id) const;
    Origin* origin(TxnId txn) const;
    Entry* lookup(const detail::Fingerprint& key);
    Entry* create(const Message& m, Origin* origin, DialogUsage usage, std::string_view uac_tag,
                  std::string_view uas_tag, const detail::Fingerprint& key, DialogVerdict& v);
    void schedule(Entry& e, Nanos t);
    void schedule(Origin& o, Nanos at, bool final);

    DialogLimits limits_;
    DialogId next_id_ = 1;
    bool overflowed_ = false;
    mutable std::uint64_t work_ = 0;
    std::string event_;  // scratch, reused
    mutable detail::ChunkedPool<Entry> dialog_pool_;
    std::vector<std::uint32_t> dialog_free_;
    std::size_t dialogs_live_ = 0;
    detail::FlatIndex dialog_by_id_;  // id -> slot + 1
    detail::FlatIndex by_key_;        // Call-ID and the two tags -> slot + 1
    mutable detail::ChunkedPool<Origin> origin_pool_;
    std::vector<std::uint32_t> origin_free_;
    std::size_t origins_live_ = 0;
    detail::FlatIndex origin_by_txn_;  // transaction id -> slot + 1
    detail::FlatIndex by_tag_;         // Call-ID and From tag -> latest SUBSCRIBE/REFER origin's transaction id
    detail::ExpiryQueues<3> expiry_;         // by DialogState
    detail::ExpiryQueues<2> origin_expiry_;  // without, with a final response
};

}  // namespace sipsleuth::core::sip
