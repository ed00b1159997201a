// SPDX-License-Identifier: GPL-2.0-or-later
// Unit tests for sipsleuth/core/xml_body.h, the hostile-input-safe wrapper over pugixml: byte spans of
// start tags, attribute values (double and single quotes, empty, entity-escaped) and text (empty
// elements, CDATA, escapes, CRLF), namespace prefixes, and every issue with its exact span and message:
// too large, malformed (a truncated body, whose part before the error is still walked), invalid UTF-8, a DTD (the billion-laughs body: reported, its
// entities left unexpanded), too deep (10,000 nested elements), too many nodes. Cases named "Bug..." pin
// a defect of the core found while writing these tests; they fail until the core is fixed.
#include "sipsleuth/core/xml_body.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace sipsleuth::core {
namespace {

std::string_view at(std::string_view doc, Span s) {
    EXPECT_LE(s.end(), doc.size());
    return doc.substr(s.offset, s.length);
}

// A dialog-info-like body with a namespace prefix and one of each kind of span.
constexpr std::string_view kDoc =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<d:dialog-info xmlns:d=\"urn:ietf:params:xml:ns:dialog-info\" version='3' state=\"\">\n"
    "<d:dialog id=\"a&amp;b\" call-id=\"c4b9@h\">confirmed</d:dialog>\n"
    "<empty/>\n"
    "<open></open>\n"
    "<cd><![CDATA[x<y&z]]></cd>\n"
    "<esc>1 &lt; 2</esc>\n"
    "<crlf>a\r\nb</crlf>\n"
    "</d:dialog-info>";

class XmlBodySpans : public ::testing::Test {
protected:
    XmlBody body = XmlBody::parse(kDoc);
    pugi::xml_node root = body.root();
};

TEST_F(XmlBodySpans, NormalDocumentIsUsableWithoutIssues) {
    EXPECT_TRUE(body.usable());
    EXPECT_TRUE(body.issues().empty());
    EXPECT_EQ(body.size(), kDoc.size());
    EXPECT_STREQ(root.name(), "d:dialog-info");
}

TEST_F(XmlBodySpans, StartTags) {
    struct Case {
        pugi::xml_node element;
        Span span;
        std::string_view bytes;
    };
    const Case cases[] = {
        {root, {39, 81},
         "<d:dialog-info xmlns:d=\"urn:ietf:params:xml:ns:dialog-info\" version='3' state=\"\">"},
        {root.child("d:dialog"), {121, 40}, "<d:dialog id=\"a&amp;b\" call-id=\"c4b9@h\">"},
        {root.child("empty"), {182, 8}, "<empty/>"},
        {root.child("open"), {191, 6}, "<open>"},
        {root.child("cd"), {205, 4}, "<cd>"},
        {root.child("esc"), {232, 5}, "<esc>"},
        {root.child("crlf"), {252, 6}, "<crlf>"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.bytes);
        ASSERT_TRUE(c.element);
        EXPECT_EQ(body.start_tag(c.element), c.span);
        EXPECT_EQ(at(kDoc, body.start_tag(c.element)), c.bytes);
    }
    EXPECT_EQ(body.start_tag(pugi::xml_node()), (Span{0, 0}));
}

TEST_F(XmlBodySpans, AttributeValues) {
    const pugi::xml_node dialog = root.child("d:dialog");
    struct Case {
        pugi::xml_node owner;
        const char* name;
        Span span;
        std::string_view raw;
        std::string_view decoded;
        bool verbatim;
    };
    const Case cases[] = {
        {root, "xmlns:d", {63, 34}, "urn:ietf:params:xml:ns:dialog-info", "urn:ietf:params:xml:ns:dialog-info", true},
        {root, "version", {108, 1}, "3", "3", true},  // single quotes
        {root, "state", {118, 0}, "", "", true},      // empty: just after the opening quote
        {dialog, "id", {135, 7}, "a&amp;b", "a&b", false},
        {dialog, "call-id", {153, 6}, "c4b9@h", "c4b9@h", true},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const pugi::xml_attribute attr = c.owner.attribute(c.name);
        ASSERT_TRUE(attr);
        const Span span = body.attribute_span(attr, c.owner);
        EXPECT_EQ(span, c.span);
        EXPECT_EQ(at(kDoc, span), c.raw);
        EXPECT_EQ(std::string_view(attr.value()), c.decoded);
        EXPECT_EQ(body.verbatim(span, attr.value()), c.verbatim);
    }
}

TEST_F(XmlBodySpans, TextSpans) {
    struct Case {
        const char* element;
        Span span;
        std::string_view raw;
        std::string_view decoded;
        bool verbatim;
    };
    const Case cases[] = {
        {"d:dialog", {161, 9}, "confirmed", "confirmed", true},
        {"empty", {190, 0}, "", "", true},  // no text: empty span just after the start tag
        {"open", {197, 0}, "", "", true},
        {"cd", {218, 5}, "x<y&z", "x<y&z", true},  // CDATA: the bytes between <![CDATA[ and ]]>
        {"esc", {237, 8}, "1 &lt; 2", "1 < 2", false},
        {"crlf", {258, 4}, "a\r\nb", "a\nb", false},  // pugixml folds CRLF to LF (XML 1.0 section 2.11)
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.element);
        const pugi::xml_node el = root.child(c.element);
        ASSERT_TRUE(el);
        const Span span = body.text_span(el);
        EXPECT_EQ(span, c.span);
        EXPECT_EQ(at(kDoc, span), c.raw);
        EXPECT_EQ(XmlBody::text(el), c.decoded);
        EXPECT_EQ(body.verbatim(span, XmlBody::text(el)), c.verbatim);
    }
}

TEST_F(XmlBodySpans, TextOfAnElementWithOnlyChildElementsIsEmpty) {
    // Whitespace-only text between the children is dropped by pugixml: the root has no text, and its
    // text span is empty, right after its start tag.
    EXPECT_EQ(XmlBody::text(root), "");
    EXPECT_EQ(body.text_span(root), (Span{120, 0}));
}

TEST_F(XmlBodySpans, VerbatimRejectsSpansPastTheEnd) {
    EXPECT_FALSE(body.verbatim({kDoc.size() - 1, 2}, "n>"));
    EXPECT_TRUE(body.verbatim({kDoc.size() - 2, 2}, "o>"));
}

TEST_F(XmlBodySpans, SpansSurviveAMove) {
    XmlBody moved = std::move(body);
    const pugi::xml_node dialog = moved.root().child("d:dialog");
    EXPECT_EQ(moved.start_tag(dialog), (Span{121, 40}));
    EXPECT_EQ(moved.attribute_span(dialog.attribute("call-id"), dialog), (Span{153, 6}));
    EXPECT_EQ(moved.text_span(dialog), (Span{161, 9}));
    EXPECT_TRUE(moved.verbatim({161, 9}, XmlBody::text(dialog)));
}

TEST(XmlBodyLocalName, Table) {
    const XmlBody body = XmlBody::parse("<d:a xmlns:d='u'><b/><x:y:z/><:w/></d:a>");
    ASSERT_TRUE(body.usable());
    const pugi::xml_node root = body.root();
    EXPECT_EQ(XmlBody::local_name(root), "a");
    EXPECT_EQ(XmlBody::local_name(root.child("b")), "b");
    EXPECT_EQ(XmlBody::local_name(root.child("x:y:z")), "y:z");  // only the first colon
    EXPECT_EQ(XmlBody::local_name(root.child(":w")), "w");
    EXPECT_EQ(XmlBody::local_name(pugi::xml_node()), "");
}

TEST(XmlBodyValue, CutsAtMaxValueBytesOnACharacterBoundary) {
    XmlLimits limits;
    limits.max_value_bytes = 4;
    const XmlBody body = XmlBody::parse("<a>caf\xC3\xA9</a>", limits);
    bool cut = false;
    EXPECT_EQ(body.value(XmlBody::text(body.root()), &cut), "caf");
    EXPECT_TRUE(cut);
    EXPECT_EQ(body.value("abcd", &cut), "abcd");
    EXPECT_FALSE(cut);
    EXPECT_EQ(body.value("\xFF"), "\xEF\xBF\xBD");
}

TEST(XmlBodyIssues, TooLarge) {
    XmlLimits limits;
    limits.max_bytes = 3;
    const XmlBody body = XmlBody::parse("<a/>", limits);
    EXPECT_FALSE(body.usable());
    EXPECT_FALSE(body.root());
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::too_large);
    EXPECT_EQ(body.issues()[0].where, (Span{0, 4}));
    EXPECT_EQ(body.issues()[0].message, "Body of 4 bytes is over the 3-byte limit: not parsed");
}

TEST(XmlBodyIssues, TooLargeAtTheDefaultLimit) {
    const std::string doc = "<a>" + std::string(256 * 1024 - 7, 'x') + "</a>";
    ASSERT_EQ(doc.size(), 256u * 1024u);
    EXPECT_TRUE(XmlBody::parse(doc).usable());
    const XmlBody body = XmlBody::parse(doc + " ");
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].message, "Body of 262145 bytes is over the 262144-byte limit: not parsed");
}

struct MalformedCase {
    const char* label;
    std::string_view doc;
    Span where;
    std::string_view message;
    bool usable;  // the part parsed before the error has a root element within the caps
};

TEST(XmlBodyIssues, Malformed) {
    const MalformedCase cases[] = {
        {"truncated after a closed child", "<a><b>x</b>", {10, 1},
         "Malformed XML at byte 10 of 11: Start-end tags mismatch (the body ends with elements still open: "
         "truncated?)",
         true},
        {"truncated, trailing CRLF", "<a><b>x</b>\r\n", {12, 1},
         "Malformed XML at byte 12 of 13: Start-end tags mismatch (the body ends with elements still open: "
         "truncated?)",
         true},
        // Cut inside an end tag, as a lost TCP segment leaves it: pugixml stops at the partial name,
        // before the last byte, so no truncation hint.
        {"truncated inside an end tag",
         "<x-cisco-alarm>\r\n<Alarm Name=\"DeviceTLInfo\">\r\n<ParameterList>\r\n"
         "<String name=\"DeviceName\">SEPC4B9CD808647</Str",
         {106, 1}, "Malformed XML at byte 106 of 109: Start-end tags mismatch", true},
        {"truncated inside an attribute", "<a><b c=\"x", {9, 1},
         "Malformed XML at byte 9 of 10: Error parsing element attribute", true},
        {"mismatched end tags", "<a><b></a></b>", {8, 1}, "Malformed XML at byte 8 of 14: Start-end tags mismatch",
         true},
        {"bare less-than", "<a>1 < 2</a>", {6, 1}, "Malformed XML at byte 6 of 12: Could not determine tag type",
         true},
        {"DOCTYPE inside an element", "<a><!DOCTYPE x></a>", {3, 1},
         "Malformed XML at byte 3 of 19: Error parsing document type declaration", true},
        // No element at all: pugixml reads to the end, so the error is at the end, an empty span.
        {"not XML", "%CP-7821-3-ALARM: DeviceTLInfo\n", {31, 0},
         "Malformed XML at byte 31 of 31: No document element found", false},
        {"declaration only", "<?xml version=\"1.0\"?>", {21, 0},
         "Malformed XML at byte 21 of 21: No document element found", false},
        {"empty", "", {0, 0}, "Malformed XML at byte 0 of 0: No document element found", false},
    };
    for (const MalformedCase& c : cases) {
        SCOPED_TRACE(c.label);
        const XmlBody body = XmlBody::parse(c.doc);
        EXPECT_EQ(body.usable(), c.usable);
        EXPECT_EQ(static_cast<bool>(body.root()), c.usable);
        ASSERT_EQ(body.issues().size(), 1u);
        EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::malformed);
        EXPECT_EQ(body.issues()[0].where, c.where);
        EXPECT_EQ(body.issues()[0].message, c.message);
    }
}

TEST(XmlBodyIssues, MalformedBodyKeepsThePartBeforeTheError) {
    constexpr std::string_view doc = "<a><b k='v'>x</b><c>y &amp; z";
    const XmlBody body = XmlBody::parse(doc);
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::malformed);
    EXPECT_TRUE(body.usable());
    const pugi::xml_node b = body.root().child("b");
    EXPECT_EQ(body.start_tag(b), (Span{3, 9}));
    EXPECT_EQ(body.attribute_span(b.attribute("k"), b), (Span{9, 1}));
    EXPECT_EQ(body.text_span(b), (Span{12, 1}));
    // The text being read when the body ended runs to the last byte, which pugixml keeps.
    const pugi::xml_node c = body.root().child("c");
    EXPECT_EQ(body.text_span(c), (Span{20, 9}));
    EXPECT_EQ(at(doc, body.text_span(c)), "y &amp; z");
    EXPECT_EQ(XmlBody::text(c), "y & z");
}

TEST(XmlBodyIssues, TruncatedDeepBodyIsStillCapped) {
    std::string doc;
    for (int i = 0; i < 10000; ++i) doc += "<a>";
    const XmlBody body = XmlBody::parse(doc);
    EXPECT_FALSE(body.usable());
    ASSERT_EQ(body.issues().size(), 2u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::malformed);
    EXPECT_EQ(body.issues()[1].kind, XmlIssueKind::too_deep);
    EXPECT_EQ(body.issues()[1].where, (Span{93, 3}));
}

TEST(XmlBodyIssues, InvalidUtf8IsReportedAndTheDocumentStillRead) {
    const std::string_view doc = "<a>ok\xC0\x80</a>";
    const XmlBody body = XmlBody::parse(doc);
    EXPECT_TRUE(body.usable());
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::invalid_utf8);
    EXPECT_EQ(body.issues()[0].where, (Span{5, 1}));
    EXPECT_EQ(body.issues()[0].message, "Invalid UTF-8 at byte 5: shown as U+FFFD");
    EXPECT_EQ(body.text_span(body.root()), (Span{3, 4}));
    EXPECT_EQ(body.value(XmlBody::text(body.root())), "ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(XmlBodyIssues, InvalidUtf8AndMalformedAreBothReported) {
    const XmlBody body = XmlBody::parse("<a>\xFF");
    ASSERT_EQ(body.issues().size(), 2u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::invalid_utf8);
    EXPECT_EQ(body.issues()[0].where, (Span{3, 1}));
    EXPECT_EQ(body.issues()[1].kind, XmlIssueKind::malformed);
    EXPECT_TRUE(body.usable());
    EXPECT_EQ(body.value(XmlBody::text(body.root())), "\xEF\xBF\xBD");
}

// The classic entity-expansion attack: 10^9 "lol"s if a parser expanded it.
constexpr std::string_view kBillionLaughs =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE lolz [\n"
    " <!ENTITY lol \"lol\">\n"
    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
    "]>\n"
    "<lolz a=\"&lol9;\">&lol9;</lolz>";

TEST(XmlBodyIssues, BillionLaughsIsReportedAndNotExpanded) {
    const XmlBody body = XmlBody::parse(kBillionLaughs);
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::doctype);
    EXPECT_EQ(body.issues()[0].where, (Span{22, 9}));
    EXPECT_EQ(at(kBillionLaughs, body.issues()[0].where), "<!DOCTYPE");
    EXPECT_EQ(body.issues()[0].message,
              "Body declares a DTD: its entities are not expanded (entity-expansion attack?)");
    // The document is still walked; pugixml leaves an undeclared-to-it entity reference as written.
    EXPECT_TRUE(body.usable());
    const pugi::xml_node root = body.root();
    EXPECT_STREQ(root.name(), "lolz");
    EXPECT_EQ(XmlBody::text(root), "&lol9;");
    EXPECT_EQ(body.text_span(root), (Span{781, 6}));
    EXPECT_TRUE(body.verbatim(body.text_span(root), XmlBody::text(root)));
    EXPECT_STREQ(root.attribute("a").value(), "&lol9;");
    EXPECT_EQ(body.attribute_span(root.attribute("a"), root), (Span{773, 6}));
}

std::string nested(std::size_t levels, std::string_view inner = "") {
    std::string doc;
    for (std::size_t i = 0; i < levels; ++i) doc += "<a>";
    doc += inner;
    for (std::size_t i = 0; i < levels; ++i) doc += "</a>";
    return doc;
}

TEST(XmlBodyIssues, TenThousandNestedElementsAreTooDeep) {
    const std::string doc = nested(10000);
    const XmlBody body = XmlBody::parse(doc);
    EXPECT_FALSE(body.usable());
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::too_deep);
    // The start tag of the 32nd <a>, the deepest one allowed.
    EXPECT_EQ(body.issues()[0].where, (Span{93, 3}));
    EXPECT_EQ(body.issues()[0].message, "Elements nested deeper than 32 levels: not decoded");
}

TEST(XmlBodyIssues, HundredThousandNestedElementsDoNotExhaustTheStack) {
    XmlLimits limits;
    limits.max_bytes = 1024 * 1024;
    const XmlBody body = XmlBody::parse(nested(100000), limits);
    EXPECT_FALSE(body.usable());
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::too_deep);
}

TEST(XmlBodyIssues, DepthLimitIsInclusive) {
    XmlLimits limits;
    limits.max_depth = 4;
    EXPECT_TRUE(XmlBody::parse(nested(4), limits).usable());
    const XmlBody body = XmlBody::parse(nested(5), limits);
    EXPECT_FALSE(body.usable());
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].where, (Span{9, 3}));
    EXPECT_EQ(body.issues()[0].message, "Elements nested deeper than 4 levels: not decoded");
}

// max_depth is documented as element nesting, but check_structure counts text nodes as a level:
// four nested elements with text in the innermost are reported "nested deeper than 4 levels".
TEST(XmlBodyIssues, BugTextInTheDeepestAllowedElementCountsAsALevel) {
    XmlLimits limits;
    limits.max_depth = 4;
    const XmlBody body = XmlBody::parse(nested(4, "x"), limits);
    EXPECT_TRUE(body.usable());
    EXPECT_TRUE(body.issues().empty());
}

TEST(XmlBodyIssues, TooManyNodes) {
    XmlLimits limits;
    limits.max_nodes = 3;
    // <a>, its attribute x, <b> and <c>: the fourth node is <c>.
    const XmlBody body = XmlBody::parse("<a x=\"1\"><b/><c/></a>", limits);
    EXPECT_FALSE(body.usable());
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::too_many_nodes);
    EXPECT_EQ(body.issues()[0].where, (Span{13, 4}));
    EXPECT_EQ(body.issues()[0].message, "More than 3 XML nodes: not decoded");

    limits.max_nodes = 4;
    EXPECT_TRUE(XmlBody::parse("<a x=\"1\"><b/><c/></a>", limits).usable());
}

TEST(XmlBodyIssues, TooManyNodesCountsTextToo) {
    XmlLimits limits;
    limits.max_nodes = 2;
    // <a>, the text "t" of <b>... : the third node is the text, reported on its element <b>.
    const XmlBody body = XmlBody::parse("<a><b>t</b></a>", limits);
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].where, (Span{3, 3}));
}

TEST(XmlBodyIssues, TooManyNodesAtTheDefaultLimit) {
    std::string doc = "<r>";
    for (int i = 0; i < 8192; ++i) doc += "<b/>";
    doc += "</r>";
    const XmlBody body = XmlBody::parse(doc);
    EXPECT_FALSE(body.usable());
    ASSERT_EQ(body.issues().size(), 1u);
    EXPECT_EQ(body.issues()[0].kind, XmlIssueKind::too_many_nodes);
    // <r> is node 1, so the 8192nd <b/> is node 8193.
    EXPECT_EQ(body.issues()[0].where, (Span{3 + 8191 * 4, 4}));
    EXPECT_EQ(body.issues()[0].message, "More than 8192 XML nodes: not decoded");
}

// start_tag ends at the first '>' after the name, even inside a quoted attribute value, where XML 1.0
// (section 2.3, AttValue) allows a literal '>'. The span then ends inside the attribute.
TEST(XmlBodyStartTag, BugEndsAtGreaterThanInsideAnAttributeValue) {
    constexpr std::string_view doc = "<a t=\"x>y\"><b u='>'/></a>";
    const XmlBody body = XmlBody::parse(doc);
    ASSERT_TRUE(body.usable());
    EXPECT_EQ(at(doc, body.start_tag(body.root())), std::string_view("<a t=\"x>y\">"));
    EXPECT_EQ(at(doc, body.start_tag(body.root().child("b"))), std::string_view("<b u='>'/>"));
    EXPECT_EQ(body.text_span(body.root().child("b")), (Span{21, 0}));
}

}  // namespace
}  // namespace sipsleuth::core

namespace sipsleuth::core {
namespace {

// The plugin hands a body to Wireshark's XML dissector only when it is shallow: depth() must be exact.
TEST(XmlBodyDepth, DeepestElementNesting) {
    EXPECT_EQ(XmlBody::parse("<a/>").depth(), 1u);
    EXPECT_EQ(XmlBody::parse("<a><b>text</b><c><d/></c></a>").depth(), 3u);
    std::string deep;
    for (int i = 0; i < 600; ++i) deep += "<a>";
    for (int i = 0; i < 600; ++i) deep += "</a>";
    XmlLimits roomy;
    roomy.max_depth = 1000;
    EXPECT_EQ(XmlBody::parse(deep, roomy).depth(), 600u);
    EXPECT_TRUE(XmlBody::parse(deep, roomy).usable());
    EXPECT_FALSE(XmlBody::parse(deep).usable());  // 600 > 32
    EXPECT_EQ(XmlBody::parse("not xml").depth(), 0u);
}

// pugixml's pages are kept and handed out again (xml_body.cc, page_cache): bodies parsed one after the
// other, several alive at once, small and over a page (a large document takes pages of its own), each
// keeps its own nodes.
TEST(XmlBodyPages, BodiesAliveTogetherKeepTheirOwnNodes) {
    std::string big = "<r>";
    for (int i = 0; i < 3000; ++i) big += "<e a=\"" + std::to_string(i) + "\"/>";
    big += "</r>";
    for (int round = 0; round < 3; ++round) {
        const XmlBody a = XmlBody::parse("<a x=\"1\"><b/></a>");
        const XmlBody b = XmlBody::parse(big, XmlLimits{1 << 20, 32, 1 << 20, 2048});
        const XmlBody c = XmlBody::parse("<c y=\"2\"/>");
        ASSERT_TRUE(a.usable() && b.usable() && c.usable());
        EXPECT_STREQ(a.root().name(), "a");
        EXPECT_STREQ(a.root().attribute("x").value(), "1");
        EXPECT_STREQ(b.root().last_child().attribute("a").value(), "2999");
        EXPECT_STREQ(c.root().attribute("y").value(), "2");
    }
}

}  // namespace
}  // namespace sipsleuth::core
