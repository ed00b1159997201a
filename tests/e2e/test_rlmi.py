# SPDX-License-Identifier: GPL-2.0-or-later
"""rlmi end to end: field case 000 (sipX Resource List Server relaying 208's dialog events to 207 in
multipart/related NOTIFYs whose root part is RLMI).

Captures come from captures/gen_dialoginfo.py (see captures/README.md). Checked: every field, every
instance linked to its part (one pass and -2), Wireshark's own list.* fields identical with and
without the plugins, broken links and bad bodies named without crash.
"""
import pytest

FIELD = "dialoginfo_blf_ringing_not_reported.pcap"
HEALTHY = "dialoginfo_blf_healthy.pcap"
LIST = "sip:~~rl~C~207@victoria.pingtel.com"
E208 = "sip:208@victoria.pingtel.com"
BOTH = pytest.mark.parametrize("two_pass", [False, True])
LIST_FIELDS = ["frame.number", "list.uri", "list.version", "list.fullstate", "list.resource.uri",
               "list.resource.name", "list.resource.instance.id", "list.resource.instance.state",
               "list.resource.instance.cid", "xml.tag", "xml.attribute", "_ws.col.Protocol"]


def test_plugin_is_listed(ws):
    proc = ws.run(["-G", "plugins"])
    assert any(line.split()[:3] == ["sipsleuth.so", "0.1.0", "dissector"] for line in proc.stdout.splitlines())
    protocols = ws.run(["-G", "protocols"]).stdout.splitlines()
    assert "Resource List Meta-Information (RFC 4662)\tRLMI\trlmi" in protocols


@BOTH
def test_field_case_every_instance_linked_to_its_part(ws, two_pass):
    fields = ["frame.number", "rlmi.uri", "rlmi.version", "rlmi.full_state", "rlmi.resource.uri",
              "rlmi.resource.name", "rlmi.instance.id", "rlmi.instance.state", "rlmi.instance.cid",
              "rlmi.instance.part", "rlmi.instance.part_frame", "rlmi.instance.part_type",
              "rlmi.instance.part_summary"]
    rows = ws.fields(FIELD, fields, dfilter="rlmi", two_pass=two_pass)
    states = ["placeholder", "initiator, trying", "initiator, early", "initiator, confirmed",
              "initiator, terminated", "recipient, confirmed", "recipient, terminated", "placeholder"]
    frames = ["11", "20", "28", "37", "46", "58", "67", "74"]
    assert rows == [[frame, LIST, str(n), "1", E208, "208", "consolidated", "active", "1@victoria.pingtel.com",
                     "2", frame, "application/dialog-info+xml",
                     f"dialog-info v{12 + n} full {E208}: 1 dialog ({state})"]
                    for n, (frame, state) in enumerate(zip(frames, states))]


@BOTH
def test_field_case_and_healthy_twin_have_no_rlmi_finding(ws, two_pass):
    for cap in (FIELD, HEALTHY):
        assert ws.experts(cap, "RLMI", two_pass=two_pass) == {}, cap
    assert ws.fields(HEALTHY, ["frame.number", "rlmi.instance.part_summary"], dfilter="rlmi.version == 5",
                     two_pass=two_pass) == [["56", f"dialog-info v17 full {E208}: 1 dialog (recipient, early)"]]


@pytest.mark.parametrize("capture", [FIELD, HEALTHY, "rlmi_bad_links.pcap", "rlmi_bad_malformed.pcap",
                                     "rlmi_bad_missing_attributes.pcap", "rlmi_nested_list.pcap"])
def test_list_fields_unchanged_with_and_without_sipsleuth(ws, plain, capture):
    # shared/DESIGN.md rule 7: the plugin takes application/rlmi+xml over from the XML dissector and
    # calls it on the same body, so Wireshark's own list.* and xml.* fields stay what they were.
    with_plugins = ws.fields(capture, LIST_FIELDS, dfilter="sip")
    without = plain.fields(capture, LIST_FIELDS, dfilter="sip")
    assert with_plugins == without
    assert any(LIST in row[1].split(",") for row in without)


def test_info_column(ws):
    rows = ws.fields(FIELD, ["_ws.col.Info"], dfilter="frame.number == 58")
    assert rows == [["Request: NOTIFY sip:207@10.1.1.171;transport=tcp | RLMI v5 full "
                     "sip:~~rl~C~207@victoria.pingtel.com: 1 resource, 1 instance | dialog-info v17 full "
                     "sip:208@victoria.pingtel.com: 1 dialog (recipient, confirmed) (application/dialog-info+xml) | "]]


@BOTH
def test_missing_part_and_unnamed_part(ws, two_pass):
    cap = "rlmi_bad_links.pcap"
    # One mismatch between a cid and a Content-ID is one incident: the warning is on the instance whose
    # cid names no part (the cause); the part left over is a note linked to it (rlmi.caused_by).
    assert ws.experts(cap, "RLMI", two_pass=two_pass) == {
        ("Warns", "Protocol", 'Instance "consolidated" names cid 2@victoria.pingtel.com, which no part of this '
                              "multipart body has as Content-ID"): 1,
        ("Notes", "Protocol", "Part 3 (application/dialog-info+xml, Content-ID <3@victoria.pingtel.com>) is named "
                              "by no RLMI instance, and an instance's cid names no part (the same mismatch?)"): 1,
    }
    assert ws.fields(cap, ["frame.number", "rlmi.caused_by"], dfilter="rlmi.part_unmatched",
                     two_pass=two_pass) == [["5", "5"]]
    assert ws.fields(cap, ["frame.number"], dfilter="rlmi.part_unreferenced", two_pass=two_pass) == []
    rows = ws.fields(cap, ["rlmi.resource.uri", "rlmi.instance.cid", "rlmi.instance.part",
                           "rlmi.instance.part_summary"], dfilter="rlmi", two_pass=two_pass)
    assert rows == [[f"{E208},sip:209@victoria.pingtel.com", "1@victoria.pingtel.com,2@victoria.pingtel.com", "2",
                     f"dialog-info v20 full {E208}: 1 dialog (placeholder)"]]
    assert ws.fields(cap, ["frame.number"], dfilter="rlmi.part_missing && rlmi.part_unmatched",
                     two_pass=two_pass) == [["5"]]


BAD_INPUT = {
    "rlmi_bad_malformed.pcap": {("Errors", "Malformed", "Malformed XML at byte 292 of 311: Start-end tags mismatch"): 1},
    "rlmi_bad_missing_attributes.pcap": {
        # A well-formed document breaking RFC 4662's schema: protocol warnings, not errors.
        ("Warns", "Protocol", "<list> has no version attribute"): 1,
        ("Warns", "Protocol", "<list> has no fullState attribute"): 1,
        ("Warns", "Protocol", "<instance> has no id attribute"): 1,
        ("Warns", "Protocol", "<instance> has no state attribute"): 1,
        ("Warns", "Protocol", "<resource> has no uri attribute"): 1,
        ("Warns", "Protocol", 'Instance state "open" is not active, pending or terminated'): 1,
    },
    "rlmi_bad_deep_nesting.pcap": {("Errors", "Undecoded", "Elements nested deeper than 32 levels: not decoded"): 1},
}


@pytest.mark.parametrize("capture", sorted(BAD_INPUT))
def test_bad_input_named_without_crash(ws, capture):
    for two_pass in (False, True):
        assert ws.experts(capture, "RLMI", two_pass=two_pass) == BAD_INPUT[capture]
    proc = ws.run(["-r", ws.capture(capture), "-V"], timeout=30)
    assert proc.returncode == 0
    assert "[Malformed Packet" not in proc.stdout


# Only bytes that cannot be parsed are in the Malformed group, the one that sets _ws.malformed
# (Wireshark's "malformed" filter): a well-formed document that breaks RFC 4662 is a Protocol warning, so
# the filter matches the frames it matches without the plugin (none here). Both captures have their
# error on frame 5.
MALFORMED_FRAMES = {
    "rlmi_bad_malformed.pcap": [["5"]],
    "rlmi_bad_missing_attributes.pcap": [],
}


@pytest.mark.parametrize("capture", sorted(MALFORMED_FRAMES))
@BOTH
def test_only_unparseable_bytes_are_malformed(ws, plain, capture, two_pass):
    frame = ["frame.number"]
    assert ws.fields(capture, frame, dfilter="rlmi && _ws.expert.severity >= warning", two_pass=two_pass) == [["5"]]
    assert ws.fields(capture, frame, dfilter="_ws.malformed", two_pass=two_pass) == MALFORMED_FRAMES[capture]
    assert plain.fields(capture, frame, dfilter="_ws.malformed", two_pass=two_pass) == []


def test_malformed_rlmi_still_links_what_it_read(ws):
    # The cut comes after the instance: it is read and linked; the XML dissector still runs.
    rows = ws.fields("rlmi_bad_malformed.pcap", ["rlmi.instance.cid", "rlmi.instance.part", "list.resource.instance.cid"],
                     dfilter="rlmi")
    assert rows == [["1@victoria.pingtel.com", "2", "1@victoria.pingtel.com"]]


def test_deep_document_never_reaches_the_xml_dissector(ws):
    rows = ws.fields("rlmi_bad_deep_nesting.pcap", ["frame.number", "rlmi.uri", "xml.tag"], dfilter="rlmi")
    assert rows == [["76", "", ""]]


def test_links_without_the_dialoginfo_plugin(ws):
    # rlmi alone (dialoginfo disabled): the link is made all the same; the part is described by its content type.
    off = ["--disable-protocol", "dialoginfo"]
    rows = ws.fields(HEALTHY, ["frame.number", "rlmi.instance.part", "rlmi.instance.part_type",
                               "rlmi.instance.part_summary"], dfilter="rlmi.version == 5", extra=off)
    assert rows == [["56", "2", "application/dialog-info+xml", ""]]
    proc = ws.run(["-r", ws.capture(HEALTHY), "-Y", "rlmi.version == 5", "-V"] + off)
    assert "Instance consolidated: active -> part 2: application/dialog-info+xml" in proc.stdout


@BOTH
def test_nested_list_parts_linked_within_their_own_body(ws, two_pass):
    # RFC 4662 nested lists (review of issue 3): the sub-list's part is itself multipart/related. Its
    # inner parts belong to the inner RLMI document, not to the outer one: the outer instances link to
    # outer parts 2 and 3, the inner instance to inner part 2, and no part is unreferenced.
    cap = "rlmi_nested_list.pcap"
    rows = ws.fields(cap, ["frame.number", "rlmi.uri", "rlmi.instance.cid", "rlmi.instance.part",
                           "rlmi.instance.part_type"], dfilter="rlmi", two_pass=two_pass)
    inner_type = ('multipart/related;type="application/rlmi+xml";start="<sub@victoria.pingtel.com>";'
                  'boundary="3b7e0c914d2a6f58"')
    assert rows == [["5", f"{LIST},sip:~~rl~F~207@victoria.pingtel.com",
                     "1@victoria.pingtel.com,2@victoria.pingtel.com,3@victoria.pingtel.com", "2,3,2",
                     f"application/dialog-info+xml,{inner_type},application/dialog-info+xml"]]
    assert ws.experts(cap, "RLMI", two_pass=two_pass) == {}
    assert ws.fields(cap, ["frame.number"], dfilter="_ws.expert.severity >= warning || _ws.malformed",
                     two_pass=two_pass) == []


def test_store_bound_is_named_on_every_body_past_it(ws):
    # DESIGN rule 4: the per-capture body store is bounded by rlmi.max_stored; past it, bodies are still
    # decoded, and each says it is not kept for the checks that span packets.
    proc = ws.run(["-r", ws.capture("dialoginfo_blf_healthy.pcap"), "-o", "rlmi.max_stored:3", "-q", "-z", "expert,note"])
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 3) for line in proc.stdout.splitlines() if "Body store full" in line]
    assert rows == [["6", "Undecoded", "RLMI", "Body store full (3 bodies, preference rlmi.max_stored): this body is decoded but not linked to its parts"]]


@pytest.mark.parametrize("cap_pref", ["rlmi.max_body:100", "rlmi.max_depth:2"])
def test_list_fields_kept_for_bodies_over_our_caps(ws, plain, cap_pref):
    # Issue 14: a body over rlmi.max_body or rlmi.max_depth is not decoded by rlmi (rlmi.limit says so)
    # but still goes to Wireshark's XML dissector: list.* and xml.* as without the plugin.
    cap = "dialoginfo_blf_healthy.pcap"
    extra = ("-o", cap_pref)
    assert ws.fields(cap, ["frame.number"], dfilter="rlmi.limit", extra=extra) == [
        ["11"], ["20"], ["28"], ["37"], ["46"], ["56"], ["65"], ["74"], ["81"]]
    assert ws.fields(cap, LIST_FIELDS, dfilter="sip", extra=extra) == plain.fields(cap, LIST_FIELDS, dfilter="sip")


LINK_FIELDS = ["frame.number", "rlmi.version", "rlmi.instance.part", "rlmi.instance.part_frame",
               "rlmi.instance.part_type", "rlmi.instance.part_summary"]


def test_store_bound_in_bytes(ws):
    # Issue 14: rlmi.max_store_kib bounds the store in bytes. With 4 KiB on the healthy BLF capture the
    # bodies from frame 37 on are not kept (each says so) and not linked; before it, compacted or
    # whole, -2 shows exactly the default store's links. The frame follows from the verdicts' sizes.
    cap = "dialoginfo_blf_healthy.pcap"
    extra = ("-o", "rlmi.max_store_kib:4")
    proc = ws.run(["-r", ws.capture(cap), *extra, "-q", "-z", "expert,note"])
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(None, 3) for line in proc.stdout.splitlines() if "Body store full" in line]
    assert rows == [["6", "Undecoded", "RLMI", "Body store full (4 KiB, preference rlmi.max_store_kib): this body "
                     "is decoded but not linked to its parts"]]
    assert ws.fields(cap, ["frame.number"], dfilter="rlmi.store_full", extra=extra) == [
        ["37"], ["46"], ["56"], ["65"], ["74"], ["81"]]
    assert ws.fields(cap, ["frame.number"], dfilter="rlmi.instance.part", extra=extra) == [["11"], ["20"], ["28"]]
    before = "rlmi && frame.number < 37"
    kept = ws.fields(cap, LINK_FIELDS, dfilter=before, two_pass=True, extra=extra)
    assert kept == ws.fields(cap, LINK_FIELDS, dfilter=before, two_pass=True)
    assert [row[:5] for row in kept] == [["11", "0", "2", "11", "application/dialog-info+xml"],
                                         ["20", "1", "2", "20", "application/dialog-info+xml"],
                                         ["28", "2", "2", "28", "application/dialog-info+xml"]]
