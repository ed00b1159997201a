// SPDX-License-Identifier: GPL-2.0-or-later
// Unit tests for core/dialog_info.h (RFC 4235 bodies) and core/dialog_info_tracker.h (checks across
// the NOTIFYs of a subscription), on the bodies of field case 000 (Polycom 3.1 phone, sipX RLS).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sipsleuth/core/dialog_info.h"
#include "sipsleuth/core/dialog_info_tracker.h"

namespace {

using namespace sipsleuth::core;

// 208's NOTIFY to the RLS while an outgoing call rings (field case 000, as gen_dialoginfo.py writes it).
const char* const kPolycomEarly =
    "<?xml version=\"1.0\"?>\r\n"
    "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"2\" state=\"full\" "
    "entity=\"sip:208@victoria.pingtel.com\">\r\n"
    "<dialog id=\"idd0f631ca\" call-id=\"a@10.1.1.124\" local-tag=\"lt\" remote-tag=\"rt\" direction=\"initiator\">\r\n"
    "<state>early</state>\r\n"
    "<local>\r\n<identity>sip:208@victoria.pingtel.com</identity>\r\n<target uri=\"sip:208@10.1.1.124\"/>\r\n</local>\r\n"
    "<remote>\r\n<identity>sip:206@victoria.pingtel.com</identity>\r\n<target uri=\"sip:206@victoria.pingtel.com\"/>\r\n"
    "</remote>\r\n</dialog>\r\n</dialog-info>\r\n";

// sipXrls's consolidated part when 208 has no dialog (ResourceCached::generateBody).
const char* const kPlaceholder =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"12\" state=\"full\" "
    "entity=\"sip:208@victoria.pingtel.com\">\r\n"
    "<dialog id=\";\"><state>terminated</state><local><identity display=\"208\">sip:208@victoria.pingtel.com"
    "</identity></local></dialog>\r\n</dialog-info>\r\n";

std::string at(const std::string& body, Span s) { return body.substr(s.offset, s.length); }

std::vector<DocProblemKind> kinds(const DialogInfo& d) {
    std::vector<DocProblemKind> out;
    for (const DocProblem& p : d.problems) out.push_back(p.kind);
    return out;
}

TEST(DialogInfo, PolycomBodyEveryField) {
    const std::string body = kPolycomEarly;
    const DialogInfo d = parse_dialog_info(body);
    ASSERT_TRUE(d.decoded);
    EXPECT_TRUE(d.problems.empty());
    EXPECT_EQ(d.version_value, 2u);
    EXPECT_EQ(at(body, d.version.span), "2");
    EXPECT_EQ(d.doc_state, DocState::full);
    EXPECT_EQ(d.entity.value, "sip:208@victoria.pingtel.com");
    ASSERT_EQ(d.dialogs.size(), 1u);
    const DialogEntry& e = d.dialogs[0];
    EXPECT_EQ(e.id.value, "idd0f631ca");
    EXPECT_EQ(e.call_id.value, "a@10.1.1.124");
    EXPECT_EQ(e.local_tag.value, "lt");
    EXPECT_EQ(e.remote_tag.value, "rt");
    EXPECT_EQ(e.direction_kind, DialogDirection::initiator);
    EXPECT_EQ(e.state_kind, DialogState::early);
    EXPECT_EQ(at(body, e.state.span), "early");
    ASSERT_EQ(e.local.identities.size(), 1u);
    EXPECT_EQ(e.local.identities[0].uri.value, "sip:208@victoria.pingtel.com");
    EXPECT_EQ(e.local.target.value, "sip:208@10.1.1.124");
    EXPECT_EQ(e.remote.identities[0].uri.value, "sip:206@victoria.pingtel.com");
    EXPECT_FALSE(e.placeholder);
    EXPECT_EQ(dialog_info_summary(d), "dialog-info v2 full sip:208@victoria.pingtel.com: 1 dialog (initiator, early)");
}

TEST(DialogInfo, PlaceholderRecognised) {
    const DialogInfo d = parse_dialog_info(kPlaceholder);
    ASSERT_EQ(d.dialogs.size(), 1u);
    EXPECT_TRUE(d.dialogs[0].placeholder);
    EXPECT_EQ(d.dialogs[0].local.identities[0].display.value, "208");
    EXPECT_EQ(kinds(d), std::vector<DocProblemKind>{DocProblemKind::placeholder});
    EXPECT_EQ(d.problems[0].message,
              "Placeholder dialog id \";\" synthesized by the Resource List Server: sip:208@victoria.pingtel.com "
              "reports no current dialog, this is not a call");
    EXPECT_EQ(dialog_info_summary(d), "dialog-info v12 full sip:208@victoria.pingtel.com: 1 dialog (placeholder)");
}

TEST(DialogInfo, PrefixedNamespaceAndExtensions) {
    const std::string body =
        "<d:dialog-info xmlns:d=\"urn:ietf:params:xml:ns:dialog-info\" xmlns:sa=\"urn:ietf:params:xml:ns:sa-dialog-info\" "
        "version=\"7\" state=\"partial\" entity=\"sip:208@h\">"
        "<d:dialog id=\"x\"><sa:exclusive>false</sa:exclusive><d:state code=\"486\" event=\"rejected\">terminated</d:state>"
        "<d:local><d:target uri=\"sip:a@b\"><d:param pname=\"+sip.rendering\" pval=\"no\"/></d:target>"
        "<sa:appearance>1</sa:appearance></d:local></d:dialog>"
        "<pc:x xmlns:pc=\"urn:polycom\" a=\"1\"><pc:y>t</pc:y></pc:x></d:dialog-info>";
    const DialogInfo d = parse_dialog_info(body);
    ASSERT_TRUE(d.decoded);
    EXPECT_TRUE(d.problems.empty());
    EXPECT_EQ(d.doc_state, DocState::partial);
    const DialogEntry& e = d.dialogs.at(0);
    EXPECT_EQ(e.state_kind, DialogState::terminated);
    EXPECT_EQ(e.code, 486u);
    EXPECT_EQ(e.state_event.value, "rejected");
    ASSERT_EQ(e.local.params.size(), 1u);
    EXPECT_EQ(e.local.params[0].name.value, "+sip.rendering");
    EXPECT_EQ(e.local.params[0].value.value, "no");
    ASSERT_EQ(e.extensions.size(), 1u);
    EXPECT_EQ(e.extensions[0].name, "sa:exclusive");
    EXPECT_EQ(e.extensions[0].ns, "urn:ietf:params:xml:ns:sa-dialog-info");
    EXPECT_EQ(e.extensions[0].text.value, "false");
    ASSERT_EQ(e.local.extensions.size(), 1u);
    EXPECT_EQ(e.local.extensions[0].name, "sa:appearance");
    ASSERT_EQ(d.extensions.size(), 2u);
    EXPECT_EQ(d.extensions[0].name, "pc:x");
    EXPECT_EQ(d.extensions[0].level, 0u);
    ASSERT_EQ(d.extensions[0].attributes.size(), 1u);  // xmlns:pc left out
    EXPECT_EQ(d.extensions[0].attributes[0].first.value, "a");
    EXPECT_EQ(d.extensions[1].name, "pc:y");
    EXPECT_EQ(d.extensions[1].level, 1u);
    EXPECT_EQ(d.extensions[1].ns, "urn:polycom");
}

TEST(DialogInfo, DefaultNamespaceRedeclaredIsAnExtension) {
    // <dialog xmlns="urn:other"> is not RFC 4235's dialog: shown generically, not read as one.
    const DialogInfo d = parse_dialog_info(
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"e\">"
        "<dialog xmlns=\"urn:other\" id=\"z\"><state>early</state></dialog></dialog-info>");
    EXPECT_TRUE(d.dialogs.empty());
    ASSERT_EQ(d.extensions.size(), 2u);
    EXPECT_EQ(d.extensions[0].ns, "urn:other");
}

struct BadCase {
    const char* name;
    const char* body;
    std::vector<DocProblemKind> kinds;
    const char* first_message;
};

class DialogInfoBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(DialogInfoBad, Reported) {
    const BadCase& c = GetParam();
    const DialogInfo d = parse_dialog_info(c.body);
    EXPECT_EQ(kinds(d), c.kinds);
    ASSERT_FALSE(d.problems.empty());
    EXPECT_EQ(d.problems[0].message, c.first_message);
    for (const DocProblem& p : d.problems) EXPECT_LE(p.where.end(), std::string(c.body).size());
}

const char* const kNs = "xmlns=\"urn:ietf:params:xml:ns:dialog-info\"";

INSTANTIATE_TEST_SUITE_P(
    Cases, DialogInfoBad,
    ::testing::Values(
        BadCase{"missing_root_attributes", "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\"/>",
                {DocProblemKind::missing_attribute, DocProblemKind::missing_attribute, DocProblemKind::missing_attribute},
                "<dialog-info> has no state attribute"},
        BadCase{"partial_without_version",
                "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" state=\"partial\" entity=\"e\"/>",
                {DocProblemKind::partial_without_version},
                "Partial document without a version: a subscriber cannot tell which state it updates"},
        BadCase{"dialog_without_id_and_state",
                "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"e\">"
                "<dialog/></dialog-info>",
                {DocProblemKind::missing_attribute, DocProblemKind::missing_element}, "<dialog> has no id attribute"},
        BadCase{"unknown_state",
                "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"e\">"
                "<dialog id=\"1\"><state>ringing</state></dialog></dialog-info>",
                {DocProblemKind::unknown_value},
                "Dialog state \"ringing\" is not trying, proceeding, early, confirmed or terminated"},
        BadCase{"version_not_a_number",
                "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"-1\" state=\"full\" entity=\"e\"/>",
                {DocProblemKind::bad_value}, "Version \"-1\" is not a number from 0 to 4294967295"},
        BadCase{"no_namespace", "<dialog-info version=\"1\" state=\"full\" entity=\"e\"/>", {DocProblemKind::wrong_root},
                "Root element is <dialog-info> in no namespace, not <dialog-info> in "
                "urn:ietf:params:xml:ns:dialog-info (mislabelled body?)"},
        // The undeclared prefix is why the root is not read: one problem, not two.
        BadCase{"undeclared_prefix", "<x:dialog-info version=\"1\"/>", {DocProblemKind::namespace_error},
                "Namespace prefix \"x\" is not declared (first used by <x:dialog-info>): its elements are not read as "
                "the RFC's"},
        BadCase{"undeclared_prefix_once",
                "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"e\">"
                "<y:a/><y:b/><y:c/></dialog-info>",
                {DocProblemKind::namespace_error},
                "Namespace prefix \"y\" is not declared (first used by <y:a>): its elements are not read as the RFC's"},
        // Vertical Wave (wswiki__wireuploaded.pcap): pvalue= for RFC 4235's pval=, once per document.
        BadCase{"param_pvalue",
                "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"e\">"
                "<dialog id=\"1\"><state>trying</state><local><target uri=\"sip:215@h\">"
                "<param pname=\"x-line-id\" pvalue=\"0\"></param><param pname=\"+sip.rendering\" pvalue=\"yes\"></param>"
                "</target></local></dialog></dialog-info>",
                {DocProblemKind::nonstandard_attribute},
                "<param> has pvalue=, RFC 4235 says pval=: the value is read from pvalue"},
        BadCase{"same_problem_once",
                "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"e\">"
                "<dialog id=\"1\" direction=\"in\"><state>early</state></dialog>"
                "<dialog id=\"2\" direction=\"in\"><state>early</state></dialog></dialog-info>",
                {DocProblemKind::unknown_value}, "Dialog direction \"in\" is not initiator or recipient"},
        BadCase{"malformed", "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" "
                             "entity=\"e\"><dialog id=\"a\"><state>early</dialog>",
                {DocProblemKind::malformed_xml}, "Malformed XML at byte 121 of 128: Start-end tags mismatch"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(DialogInfo, DeepBodyCapped) {
    std::string body = std::string("<dialog-info ") + kNs + " version=\"1\" state=\"full\" entity=\"e\">";
    for (int i = 0; i < 5000; ++i) body += "<x>";
    for (int i = 0; i < 5000; ++i) body += "</x>";
    body += "</dialog-info>";
    const DialogInfo d = parse_dialog_info(body);
    EXPECT_FALSE(d.decoded);
    EXPECT_EQ(kinds(d), std::vector<DocProblemKind>{DocProblemKind::too_deep});
    EXPECT_EQ(dialog_info_summary(d), "dialog-info (not decoded)");
}

TEST(DialogInfo, LongValuesCutInMessages) {
    const std::string state(300, 'q');
    const DialogInfo d = parse_dialog_info(std::string("<dialog-info ") + kNs +
                                           " version=\"1\" state=\"full\" entity=\"e\"><dialog id=\"1\"><state>" + state +
                                           "</state></dialog></dialog-info>");
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].message, "Dialog state \"" + std::string(61, 'q') +
                                         "...\" is not trying, proceeding, early, confirmed or terminated");
}

// Tracker ---------------------------------------------------------------------------------------------

TrackedDocument doc(std::uint32_t version, DocState state, std::vector<TrackedDialog> dialogs,
                    const std::string& entity = "sip:208@h") {
    TrackedDocument d;
    d.entity = entity;
    d.version = version;
    d.state = state;
    d.dialogs = std::move(dialogs);
    return d;
}

TrackedDialog dlg(const std::string& id, DialogDirection dir, DialogState state, const std::string& call_id = "c1") {
    TrackedDialog t;
    t.id = id;
    t.call_id = call_id;
    t.direction = dir;
    t.state = state;
    return t;
}

std::vector<TrackFindingKind> kinds(const TrackResult& r) {
    std::vector<TrackFindingKind> out;
    for (const TrackFinding& f : r.findings) out.push_back(f.kind);
    return out;
}

// A NOTIFY's SIP dialog: Call-ID, From tag (the notifier's), To tag (the subscriber's).
struct Key {
    std::string call_id, from_tag, to_tag;
};

// The NOTIFY as the wsglue reader gives it: the tracker reads its Call-ID, tags, CSeq and frame.
sip::Message notify_of(const Key& k, std::uint32_t cseq, std::uint32_t frame) {
    sip::Message m;
    m.request = true;
    m.method = "NOTIFY";
    m.call_id = k.call_id;
    m.from.tag = k.from_tag;
    m.to.tag = k.to_tag;
    m.has_cseq = true;
    m.cseq = cseq;
    m.cseq_method = "NOTIFY";
    m.frame = frame;
    return m;
}

// An initial SUBSCRIBE (no To tag) for the dialog event.
sip::Message subscribe_of(const std::string& call_id, const std::string& subscriber_tag, std::uint32_t frame) {
    sip::Message m;
    m.request = true;
    m.method = "SUBSCRIBE";
    m.call_id = call_id;
    m.from.tag = subscriber_tag;
    m.event = "dialog";
    m.frame = frame;
    return m;
}

const Key kSub{"s-1", "n", "s"};
using K = TrackFindingKind;
const auto recipient = DialogDirection::recipient;

TEST(DialogInfoTracker, RingingNotReportedOncePerCall) {
    DialogInfoTracker t;
    EXPECT_TRUE(t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {})).findings.empty());
    const TrackResult r = t.notify(notify_of(kSub, 2, 55), doc(1, DocState::full, {dlg("a", recipient, DialogState::confirmed)}));
    ASSERT_EQ(kinds(r), std::vector<K>{K::ringing_not_reported});
    EXPECT_EQ(r.findings[0].dialog, 0u);
    EXPECT_EQ(r.findings[0].related_frame, 3u);
    EXPECT_EQ(r.findings[0].message,
              "Incoming call never reported ringing: dialog \"a\" of sip:208@h is confirmed, never trying, proceeding or "
              "early");
    EXPECT_EQ(r.findings[0].caused_by, 0u);  // a root cause
    EXPECT_FALSE(is_consequence(K::ringing_not_reported));
    // Terminated later: not reported again.
    EXPECT_TRUE(t.notify(notify_of(kSub, 3, 64), doc(2, DocState::full, {dlg("a", recipient, DialogState::terminated)})).findings.empty());
    // The same call relayed by an RLS in another subscription, under another dialog id: not again.
    const Key rls{"f8", "rls", "207"};
    t.notify(notify_of(rls, 0, 11), doc(12, DocState::full, {}));
    EXPECT_TRUE(t.notify(notify_of(rls, 1, 58), doc(13, DocState::full, {dlg("inst;a", recipient, DialogState::confirmed)}))
                    .findings.empty());
}

TEST(DialogInfoTracker, RingingReportedIsHealthy) {
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}));
    t.notify(notify_of(kSub, 2, 53), doc(1, DocState::full, {dlg("a", recipient, DialogState::early)}));
    EXPECT_TRUE(t.notify(notify_of(kSub, 3, 62), doc(2, DocState::full, {dlg("a", recipient, DialogState::confirmed)})).findings.empty());
}

TEST(DialogInfoTracker, RelayThatCoalescedEarlyIsNotBlamed) {
    // The phone reported the call early; the RLS, publishing 250 ms later, relayed only confirmed.
    DialogInfoTracker t;
    const Key rls{"f8", "rls", "207"};
    t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}));
    t.notify(notify_of(rls, 0, 11), doc(12, DocState::full, {}));
    t.notify(notify_of(kSub, 2, 53), doc(1, DocState::full, {dlg("a", recipient, DialogState::early)}));
    t.notify(notify_of(kSub, 3, 55), doc(2, DocState::full, {dlg("a", recipient, DialogState::confirmed)}));
    EXPECT_TRUE(t.notify(notify_of(rls, 1, 58), doc(13, DocState::full, {dlg("inst;a", recipient, DialogState::confirmed)}))
                    .findings.empty());
}

TEST(DialogInfoTracker, DialogInFirstDocumentPredatesTheSubscription) {
    DialogInfoTracker t;
    EXPECT_TRUE(t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {dlg("a", recipient, DialogState::confirmed)})).findings.empty());
}

TEST(DialogInfoTracker, OutgoingCallNeverChecked) {
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}));
    EXPECT_TRUE(t.notify(notify_of(kSub, 2, 9), doc(1, DocState::full, {dlg("a", DialogDirection::initiator, DialogState::confirmed)}))
                    .findings.empty());
}

TEST(DialogInfoTracker, VersionsSkippedAndBackwards) {
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(1, DocState::full, {}));
    // NOTIFYs CSeq 2 and 3 never seen: the CSeq gap counts them.
    TrackResult r = t.notify(notify_of(kSub, 4, 5), doc(4, DocState::partial, {}));
    ASSERT_EQ(kinds(r), std::vector<K>{K::version_skipped});
    EXPECT_EQ(r.findings[0].message,
              "Version 4 of sip:208@h follows version 1 and NOTIFY CSeq 4 follows 1: 2 NOTIFYs missing (lost, or not "
              "captured)");
    EXPECT_EQ(r.findings[0].missing, 2u);
    EXPECT_EQ(r.findings[0].related_frame, 3u);
    EXPECT_EQ(r.previous_cseq, 1u);
    EXPECT_EQ(r.full_state_frame, 3u);
    r = t.notify(notify_of(kSub, 5, 7), doc(3, DocState::partial, {}));
    EXPECT_EQ(kinds(r), std::vector<K>{K::version_backwards});
    EXPECT_EQ(r.findings[0].message,
              "Partial document version 3 of sip:208@h after version 4 without a full state: a subscriber discards it "
              "(RFC 4235 section 4.4)");
    EXPECT_EQ(r.findings[0].related_frame, 5u);
    // The discarded document does not move the version: 5 follows 4.
    EXPECT_TRUE(t.notify(notify_of(kSub, 6, 9), doc(5, DocState::partial, {})).findings.empty());
    // A full state may restart the numbering.
    EXPECT_TRUE(t.notify(notify_of(kSub, 7, 11), doc(0, DocState::full, {})).findings.empty());
}

TEST(DialogInfoTracker, VersionsInStepsWithConsecutiveCSeqsLoseNothing) {
    // Vertical Wave (wswiki__wireuploaded.pcap, 215's line): versions 3479, 3481 (partial), 3483 (full) in
    // NOTIFYs CSeq 2073625169, 170, 171, each answered 200 OK. The notifier counts in steps of 2.
    DialogInfoTracker t;
    EXPECT_TRUE(t.notify(notify_of(kSub, 2073625169, 215), doc(3479, DocState::partial, {})).findings.empty());
    const TrackResult r = t.notify(notify_of(kSub, 2073625170, 463), doc(3481, DocState::partial, {}));
    EXPECT_TRUE(r.findings.empty());
    EXPECT_EQ(r.previous_cseq, 2073625169u);
    EXPECT_EQ(r.full_state_frame, 0u);
    EXPECT_TRUE(t.notify(notify_of(kSub, 2073625171, 1103), doc(3483, DocState::full, {})).findings.empty());
}

TEST(DialogInfoTracker, FullStateAfterACSeqGapIsNoLoss) {
    // NOTIFY CSeq 2 is missing, but the full-state document needs no earlier one: nothing to report.
    // A dialog it first reports is still not blamed for a missing early state (the lost NOTIFY may have
    // reported it).
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(1, DocState::full, {}));
    EXPECT_TRUE(t.notify(notify_of(kSub, 3, 7), doc(3, DocState::full, {dlg("e", recipient, DialogState::confirmed)}))
                    .findings.empty());
}

TEST(DialogInfoTracker, VersionGapWithoutCSeqIsALoss) {
    // A NOTIFY without a readable CSeq: the gap cannot be checked against CSeqs, so it counts.
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(1, DocState::full, {}));
    sip::Message m = notify_of(kSub, 0, 5);
    m.has_cseq = false;
    m.cseq = 2;
    const TrackResult r = t.notify(m, doc(3, DocState::partial, {}));
    ASSERT_EQ(kinds(r), std::vector<K>{K::version_skipped});
    EXPECT_EQ(r.findings[0].message,
              "Version 3 of sip:208@h follows version 1: 1 NOTIFY missing (lost, or not captured; CSeq unknown)");
}

TEST(DialogInfoTracker, RingingInADiscardedDocumentIsAConsequence) {
    // The phone reports call "r" early in a document whose version went backwards (discarded), then
    // confirmed: the lamp never flashed, because of the discarded document (the cause, frame 7).
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(1, DocState::full, {}));
    t.notify(notify_of(kSub, 2, 5), doc(2, DocState::partial, {}));
    TrackResult r = t.notify(notify_of(kSub, 3, 7), doc(2, DocState::partial, {dlg("r", recipient, DialogState::early)}));
    ASSERT_EQ(kinds(r), std::vector<K>{K::version_backwards});
    r = t.notify(notify_of(kSub, 4, 9), doc(3, DocState::partial, {dlg("r", recipient, DialogState::confirmed)}));
    ASSERT_EQ(kinds(r), std::vector<K>{K::ringing_discarded});
    EXPECT_TRUE(is_consequence(K::ringing_discarded));
    EXPECT_EQ(r.findings[0].caused_by, 7u);
    EXPECT_EQ(r.findings[0].first_frame, 7u);
    EXPECT_EQ(r.findings[0].message,
              "Incoming call reported ringing only in a discarded document: dialog \"r\" of sip:208@h is confirmed");
}

TEST(DialogInfoTracker, MessagesFitIn200Bytes) {
    // The GUI shows 240 bytes of "Expert Info (Warning/Sequence): " plus the message.
    const std::string entity = "sip:" + std::string(300, 'e') + "@h", id(300, 'i'), ctl(300, '\x01');
    const std::uint32_t big = 4294967295u;
    std::vector<TrackFinding> all;
    auto keep = [&all](const TrackResult& r) { all.insert(all.end(), r.findings.begin(), r.findings.end()); };
    for (const std::string& e : {entity, ctl}) {
        DialogInfoTracker t(10);
        sip::Message m = notify_of(kSub, 1, 3);
        keep(t.notify(m, doc(0, DocState::full, {}, e)));
        keep(t.notify(notify_of(kSub, big - 1, 5), doc(big - 1, DocState::partial, {}, e)));
        keep(t.notify(notify_of(kSub, big, 7), doc(big - 2, DocState::partial, {dlg(id, recipient, DialogState::early)}, e)));
        DialogInfoTracker u(10);
        u.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}, e));
        TrackedDialog d = dlg(id, recipient, DialogState::terminated, "call");
        d.provisional_frame = big;
        d.provisional_code = 183;
        keep(u.notify(notify_of(kSub, 2, 5), doc(1, DocState::full, {dlg(id, recipient, DialogState::terminated)}, e)));
        keep(u.notify(notify_of(kSub, 3, 7), doc(2, DocState::full, {dlg(id, recipient, DialogState::proceeding)}, e)));
        TrackedDialog other = dlg(ctl, recipient, DialogState::terminated, "call2");
        other.provisional_frame = big;
        other.provisional_code = 183;
        keep(u.notify(notify_of(kSub, 4, 9), doc(3, DocState::full, {other}, e)));
    }
    std::vector<K> seen;
    for (const TrackFinding& f : all) {
        EXPECT_LE(f.message.size(), 200u) << f.message;
        seen.push_back(f.kind);
    }
    for (K k : {K::version_skipped, K::version_backwards, K::ringing_not_reported, K::dialog_id_reused})
        EXPECT_NE(std::find(seen.begin(), seen.end(), k), seen.end()) << static_cast<int>(k);
}

TEST(DialogInfoTracker, RetransmissionNotCountedTwice) {
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(1, DocState::full, {}));
    t.notify(notify_of(kSub, 2, 5), doc(2, DocState::partial, {}));
    const TrackResult r = t.notify(notify_of(kSub, 2, 6), doc(2, DocState::partial, {}));
    EXPECT_TRUE(r.retransmission);
    EXPECT_TRUE(r.findings.empty());
}

TEST(DialogInfoTracker, PartialBeforeFullOnlyWhenTheStartIsSeen) {
    DialogInfoTracker t;
    EXPECT_TRUE(t.notify(notify_of(kSub, 1, 3), doc(5, DocState::partial, {})).findings.empty());  // capture began mid-way
    const Key fresh{"s-2", "n2", "s2"};
    t.subscribe(subscribe_of("s-2", "s2", 10));
    EXPECT_EQ(kinds(t.notify(notify_of(fresh, 1, 12), doc(0, DocState::partial, {}))), std::vector<K>{K::partial_before_full});
}

TEST(DialogInfoTracker, TerminatedIdReused) {
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(1, DocState::full, {}));
    t.notify(notify_of(kSub, 2, 5), doc(2, DocState::partial, {dlg("a", recipient, DialogState::early)}));
    t.notify(notify_of(kSub, 3, 7), doc(3, DocState::partial, {dlg("a", recipient, DialogState::terminated)}));
    const TrackResult r = t.notify(notify_of(kSub, 4, 9), doc(4, DocState::partial, {dlg("a", recipient, DialogState::early)}));
    ASSERT_EQ(kinds(r), std::vector<K>{K::dialog_id_reused});
    EXPECT_EQ(r.findings[0].related_frame, 7u);
    EXPECT_EQ(r.findings[0].terminated_frame, 7u);
    EXPECT_EQ(r.findings[0].message,
              "Dialog id \"a\" of sip:208@h was reported terminated and is reported again as early: a terminated dialog "
              "id is reused");
}

TEST(DialogInfoTracker, PlaceholderNeverReused) {
    DialogInfoTracker t;
    TrackedDialog p = dlg(";", DialogDirection::absent, DialogState::terminated);
    p.placeholder = true;
    for (std::uint32_t v = 0; v < 3; ++v) EXPECT_TRUE(t.notify(notify_of(kSub, v, v + 1), doc(v, DocState::full, {p})).findings.empty());
}

TEST(DialogInfoTracker, BoundedWithOneNote) {
    DialogInfoTracker t(2);
    t.notify(notify_of(Key{"a", "1", "2"}, 1, 1), doc(0, DocState::full, {}));
    t.notify(notify_of(Key{"b", "1", "2"}, 1, 2), doc(0, DocState::full, {}));
    const TrackResult r = t.notify(notify_of(Key{"c", "1", "2"}, 1, 3), doc(0, DocState::full, {}));
    EXPECT_FALSE(r.tracked);
    EXPECT_EQ(kinds(r), std::vector<K>{K::tracker_full});
    EXPECT_TRUE(t.notify(notify_of(Key{"d", "1", "2"}, 1, 4), doc(0, DocState::full, {})).findings.empty());
    EXPECT_EQ(t.tracked(), 2u);
}

// Review fixes: false positives on healthy BLF traces, and one-line texts -----------------------------

TEST(DialogInfoTracker, UdpRetransmissionAfterALaterNotifyIsNotApplied) {
    // NOTIFY 5 (early) is retransmitted after NOTIFY 6 (terminated) because its 200 OK was lost: the
    // subscriber rejects the older CSeq (RFC 3261 section 12.2.2); no reused id, no skipped version.
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 4, 1), doc(4, DocState::full, {}));
    t.notify(notify_of(kSub, 5, 3), doc(5, DocState::full, {dlg("a", recipient, DialogState::early)}));
    t.notify(notify_of(kSub, 6, 5), doc(6, DocState::full, {dlg("a", recipient, DialogState::terminated)}));
    const TrackResult r = t.notify(notify_of(kSub, 5, 6), doc(5, DocState::full, {dlg("a", recipient, DialogState::early)}));
    EXPECT_TRUE(r.retransmission);
    EXPECT_TRUE(r.findings.empty());
    const TrackResult next = t.notify(notify_of(kSub, 7, 8), doc(7, DocState::full, {}));
    EXPECT_TRUE(next.findings.empty());
    EXPECT_EQ(next.previous_version, 6u);
    EXPECT_EQ(next.previous_frame, 5u);
}

TEST(DialogInfoTracker, PickupOrTransferWithReplacesNeverRings) {
    // An INVITE with Replaces is answered without alerting (RFC 3891 section 3): the caller whose call
    // another phone picked up gets a recipient dialog that is confirmed at once.
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}));
    TrackedDialog d = dlg("b", recipient, DialogState::confirmed, "pickup");
    d.replaces = true;
    EXPECT_TRUE(t.notify(notify_of(kSub, 2, 9), doc(1, DocState::full, {d})).findings.empty());
}

TEST(DialogInfoTracker, CallRejectedWithoutAlertingIsNotBlamed) {
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}));
    TrackedDialog dnd = dlg("c", recipient, DialogState::terminated, "dnd");
    dnd.rejected = true;
    EXPECT_TRUE(t.notify(notify_of(kSub, 2, 9), doc(1, DocState::full, {dnd})).findings.empty());
    // A call cancelled by the caller had to ring: still reported.
    EXPECT_EQ(kinds(t.notify(notify_of(kSub, 3, 11), doc(2, DocState::full, {dlg("d", recipient, DialogState::terminated, "cancel")}))),
              std::vector<K>{K::ringing_not_reported});
}

TEST(DialogInfoTracker, RejectedFromEventOrCode) {
    const auto rejected = [](const std::string& state) {
        const std::string body = "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" "
                                 "entity=\"sip:208@h\"><dialog id=\"x\" direction=\"recipient\">" + state +
                                 "</dialog></dialog-info>";
        const TrackedDocument d = tracked_document(parse_dialog_info(body));
        return d.dialogs.at(0).rejected;
    };
    EXPECT_TRUE(rejected("<state event=\"rejected\" code=\"486\">terminated</state>"));
    EXPECT_TRUE(rejected("<state event=\"error\">terminated</state>"));
    EXPECT_TRUE(rejected("<state code=\"480\">terminated</state>"));
    EXPECT_FALSE(rejected("<state event=\"cancelled\" code=\"487\">terminated</state>"));
    EXPECT_FALSE(rejected("<state code=\"487\">terminated</state>"));
    EXPECT_FALSE(rejected("<state event=\"remote-bye\">terminated</state>"));
    EXPECT_FALSE(rejected("<state>terminated</state>"));
    EXPECT_FALSE(rejected("<state code=\"486\">confirmed</state>"));
}

TEST(DialogInfoTracker, ForkedCallRingingUnderAnotherDialogId) {
    // A notifier that sees the forks reports each early dialog; the answered one has its own id and tags.
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}));
    TrackedDialog fork = dlg("fork1", recipient, DialogState::early, "forked");
    fork.local_tag = "t1";
    t.notify(notify_of(kSub, 2, 5), doc(1, DocState::full, {fork}));
    TrackedDialog answered = dlg("fork2", recipient, DialogState::confirmed, "forked");
    answered.local_tag = "t2";
    EXPECT_TRUE(t.notify(notify_of(kSub, 3, 7), doc(2, DocState::full, {answered})).findings.empty());
}

TEST(DialogInfoTracker, DialogFirstSeenAfterLostVersionsIsNotBlamed) {
    // Versions 1 and 2 are missing (CSeqs 2 and 3 too): one of them may have reported the call early.
    DialogInfoTracker t;
    t.notify(notify_of(kSub, 1, 3), doc(0, DocState::full, {}));
    EXPECT_EQ(kinds(t.notify(notify_of(kSub, 4, 9), doc(3, DocState::partial, {dlg("e", recipient, DialogState::confirmed)}))),
              std::vector<K>{K::version_skipped});
    EXPECT_TRUE(t.notify(notify_of(kSub, 5, 11), doc(4, DocState::partial, {dlg("e", recipient, DialogState::terminated)}))
                    .findings.empty());
}

TEST(DialogInfoTracker, ResourceListPartsNumberedByTheRls) {
    // sipXrls numbers consolidated parts from one counter for every resource it serves: gaps are healthy.
    DialogInfoTracker t;
    TrackedDocument first = doc(40, DocState::full, {});
    first.in_list = true;
    t.notify(notify_of(kSub, 0, 7), first);
    TrackedDocument later = doc(45, DocState::full, {});
    later.in_list = true;
    const TrackResult r = t.notify(notify_of(kSub, 1, 17), later);
    EXPECT_TRUE(r.findings.empty());
    EXPECT_EQ(r.previous_version, 40u);
}

TEST(DialogInfo, PvalueReadAsTheParamValue) {
    const DialogInfo d = parse_dialog_info(
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"e\">"
        "<dialog id=\"1\"><state>trying</state><local><target uri=\"sip:215@h\">"
        "<param pname=\"x-line-id\" pvalue=\"0\"/><param pname=\"a\" pval=\"b\"/><param pname=\"c\"/></target></local>"
        "</dialog></dialog-info>");
    ASSERT_EQ(d.dialogs.size(), 1u);
    const auto& params = d.dialogs[0].local.params;
    ASSERT_EQ(params.size(), 3u);
    EXPECT_EQ(params[0].name.value, "x-line-id");
    EXPECT_EQ(params[0].value.value, "0");
    EXPECT_EQ(params[1].value.value, "b");
    EXPECT_FALSE(params[2].value);
    EXPECT_EQ(kinds(d), (std::vector<DocProblemKind>{DocProblemKind::nonstandard_attribute,
                                                     DocProblemKind::missing_attribute}));
    EXPECT_EQ(d.problems[1].message, "<param> has no pval attribute");
}

TEST(DialogInfo, ProblemMessagesFitIn200Bytes) {
    const std::string longname(300, 'n'), longns = "urn:" + std::string(300, 's'), ctl(300, '\x02');
    const std::vector<std::string> bodies = {
        "<" + longname + " xmlns=\"" + longns + "\"/>",
        "<dialog-info xmlns=\"" + longns + "\"/>",
        "<" + longname + ":dialog-info/>",
        std::string("<dialog-info ") + kNs + " version=\"" + ctl + "\" state=\"" + ctl + "\" entity=\"" + ctl + "\">"
            "<dialog id=\"" + ctl + "\" direction=\"" + ctl + "\"><state event=\"" + ctl + "\" code=\"" + ctl + "\">" + ctl +
            "</state><duration>" + ctl + "</duration><" + longname + "/></dialog><dialog id=\"" + ctl + "\"/>"
            "<dialog id=\";\"><state>terminated</state></dialog></dialog-info>",
    };
    for (const std::string& body : bodies) {
        const DialogInfo d = parse_dialog_info(body);
        ASSERT_FALSE(d.problems.empty()) << body;
        for (const DocProblem& p : d.problems) EXPECT_LE(p.message.size(), 200u) << p.message;
    }
}

TEST(DialogInfo, ControlCharactersEscapedInOneLineTexts) {
    // Decoded &#10; in the entity would break the Info column and tshark's one-line output.
    const DialogInfo d = parse_dialog_info(
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" "
        "entity=\"sip:208@h&#10;X: y&#13;\"><dialog id=\";\"><state>terminated</state></dialog></dialog-info>");
    EXPECT_EQ(d.entity.value, "sip:208@h\nX: y\r");
    EXPECT_EQ(dialog_info_summary(d), "dialog-info v1 full sip:208@h\\nX: y\\r: 1 dialog (placeholder)");
    ASSERT_EQ(d.problems.size(), 1u);
    EXPECT_EQ(d.problems[0].message,
              "Placeholder dialog id \";\" synthesized by the Resource List Server: sip:208@h\\nX: y\\r reports no "
              "current dialog, this is not a call");
    EXPECT_EQ(escape_controls(std::string("a\tb\x01\x7f", 5)), "a\\tb\\x01\\x7f");
}

}  // namespace
