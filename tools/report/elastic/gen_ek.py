#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the `tshark -T ek -e ...` field set of sipsleuth and the Elasticsearch/OpenSearch index template
and ingest pipeline that type it (docs/report.md), from `tshark -G fields` with the plugins loaded.

    /usr/bin/python3 tools/report/elastic/gen_ek.py --plugin-dir build/plugins

The field set: a few of Wireshark's own fields (frame, addresses, streams, SIP method, status and
Call-ID, the expert item's message, severity and group) and every field of our six protocols but the
subtree labels, absolute times (tshark prints them as "Jun 10, 2008 16:22:45.343220000 UTC") and bytes;
each expert item of ours is a flag (tshark -T ek -e prints "1" where it fires).

Types: frame numbers and counters integers, durations (FT_RELATIVE_TIME, seconds) doubles, flags and
FT_BOOLEAN booleans, addresses ip, strings keyword. tshark prints every value as a string and booleans
as "1"/"0", which Elasticsearch refuses for a boolean: the pipeline turns them into true/false, names
the expert severity and group, and splits each siptrack flow ("tcp.stream 0 10.1.1.68:5060 ->
10.1.1.171:1033") into transport, stream, source and destination.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import sipsleuth_examine  # noqa: E402

PROTOCOLS = sipsleuth_examine.PROTOCOLS
WIRESHARK_FIELDS = ("frame.number", "frame.time_epoch", "frame.time_relative", "frame.len", "ip.src", "ip.dst",
                    "ipv6.src", "ipv6.dst", "tcp.stream", "tcp.srcport", "tcp.dstport", "udp.stream",
                    "udp.srcport", "udp.dstport", "sip.Method", "sip.Status-Code", "sip.Call-ID", "sip.CSeq.seq",
                    "_ws.expert.message", "_ws.expert.severity", "_ws.expert.group")
FLOWS = ("siptrack.flow", "siptrack.subscription_flow")
SKIPPED_TYPES = ("FT_ABSOLUTE_TIME", "FT_BYTES", "FT_PROTOCOL")
# Wireshark's expert severities and groups (epan/proto.h), as tshark prints them.
SEVERITIES = {"1048576": "Comment", "2097152": "Chat", "4194304": "Note", "6291456": "Warning", "8388608": "Error"}
GROUPS = {str(code << 24): name for code, name in enumerate(
    ("", "Checksum", "Sequence", "Response code", "Request code", "Undecoded", "Reassemble", "Malformed", "Debug",
     "Protocol", "Security", "Comment", "Decryption", "Assumption", "Deprecated", "Receive", "Interface",
     "Dissector bug"), 0) if code}
INDEX_PATTERN = "packets-*"          # tshark -T ek names its indexes packets-YYYY-MM-DD
PIPELINE = "sipsleuth-ek"


def es_type(ftype, is_expert=False):
    """The index type of a field of this Wireshark type, or None when the field set leaves it out."""
    if is_expert or ftype == "FT_BOOLEAN":
        return "boolean"
    if ftype == "FT_FRAMENUM" or ftype in ("FT_UINT8", "FT_UINT16", "FT_INT8", "FT_INT16"):
        return "integer"
    if ftype.startswith(("FT_UINT", "FT_INT")):
        return "long"
    if ftype in ("FT_RELATIVE_TIME", "FT_DOUBLE", "FT_FLOAT"):
        return "double"
    if ftype in ("FT_IPv4", "FT_IPv6"):
        return "ip"
    if ftype in ("FT_STRING", "FT_STRINGZ", "FT_STRINGZPAD", "FT_STRINGZTRUNC", "FT_UINT_STRING", "FT_ETHER"):
        return "keyword"
    return None


def field_table(plugin_dir):
    """{filter name: (type, is expert item)} from tshark -G fields."""
    import shutil
    import subprocess
    root = os.geteuid() == 0
    home = sipsleuth_examine._private_dir(root)
    try:
        staged = sipsleuth_examine._stage_plugins(plugin_dir) if (plugin_dir and root) else plugin_dir
        argv, env = sipsleuth_examine.tshark_command(["-G", "fields"], staged, home)
        out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True, errors="replace").stdout
    finally:
        shutil.rmtree(home, ignore_errors=True)
    table = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if cols[0] == "F" and len(cols) >= 8:
            # Expert items register FT_NONE fields without a blurb (docs/gen_field_reference.py).
            table[cols[2]] = (cols[3], cols[3] == "FT_NONE" and not cols[7])
    return table


def field_set(table):
    """[(filter name, index type)] of the documented field set."""
    # seconds since 1970; searchable words; a frame number (FT_UINT32) like the FT_FRAMENUM links
    special = {"frame.time_epoch": "double", "_ws.expert.message": "text", "frame.number": "integer"}
    out = [(name, special.get(name) or es_type(table[name][0])) for name in WIRESHARK_FIELDS]
    for name, (ftype, is_expert) in table.items():
        if name.split(".", 1)[0] not in PROTOCOLS or ftype in SKIPPED_TYPES:
            continue
        kind = es_type(ftype, is_expert)
        if kind:
            out.append((name, kind))
    return out


def ek_name(field):
    return field.replace(".", "_")      # as tshark -T ek names it (a "-" stays)


def template(fields):
    props = {}
    for name, kind in fields:
        mapping = {"type": kind}
        if kind == "keyword":
            mapping["ignore_above"] = 1024
        if kind == "text":
            mapping["fields"] = {"keyword": {"type": "keyword", "ignore_above": 1024}}
        props[ek_name(name)] = mapping
    props["_ws_expert_severity_name"] = {"type": "keyword"}
    props["_ws_expert_group_name"] = {"type": "keyword"}
    for flow in FLOWS:
        base = ek_name(flow)
        props[base + "_transport"] = {"type": "keyword"}
        props[base + "_stream"] = {"type": "long"}
        props[base + "_source"] = {"type": "keyword"}
        props[base + "_destination"] = {"type": "keyword"}
    return {
        "index_patterns": [INDEX_PATTERN],
        "priority": 200,
        "_meta": {"description": "sipsleuth: tshark -T ek -e with the field set of tools/report/elastic/ek-fields.txt"
                                 " (docs/report.md)"},
        "template": {
            "settings": {"index.default_pipeline": PIPELINE, "index.mapping.total_fields.limit": 2000},
            "mappings": {
                "properties": {
                    "timestamp": {"type": "date", "format": "epoch_millis"},
                    "layers": {"properties": dict(sorted(props.items()))},
                }
            },
        },
    }


SCRIPT = """
def L = ctx.layers;
if (L == null) { return; }
for (def f : params.booleans) {
  if (L.containsKey(f)) {
    def out = [];
    for (def v : L[f]) { out.add(v == '1' || v == 'true' || v == 'True'); }
    L[f] = out;
  }
}
if (L.containsKey('_ws_expert_severity')) {
  def names = [];
  for (def v : L['_ws_expert_severity']) { names.add(params.severities.getOrDefault(v, v)); }
  L['_ws_expert_severity_name'] = names;
}
if (L.containsKey('_ws_expert_group')) {
  def names = [];
  for (def v : L['_ws_expert_group']) { names.add(params.groups.getOrDefault(v, v)); }
  L['_ws_expert_group_name'] = names;
}
for (def f : params.flows) {
  if (L.containsKey(f)) {
    def transport = []; def stream = []; def source = []; def destination = [];
    for (def v : L[f]) {
      def p = v.splitOnToken(' ');
      if (p.length == 5 && p[3] == '->') {
        transport.add(p[0].substring(0, p[0].indexOf('.')));
        stream.add(Long.parseLong(p[1]));
        source.add(p[2]);
        destination.add(p[4]);
      }
    }
    L[f + '_transport'] = transport; L[f + '_stream'] = stream;
    L[f + '_source'] = source; L[f + '_destination'] = destination;
  }
}
""".strip()


def pipeline(fields):
    return {
        "description": "sipsleuth: types tshark -T ek -e output (booleans, expert severity and group names, "
                       "siptrack flows split); docs/report.md",
        "processors": [{"script": {
            "lang": "painless",
            "source": SCRIPT,
            "params": {"booleans": [ek_name(n) for n, k in fields if k == "boolean"],
                       "flows": [ek_name(f) for f in FLOWS],
                       "severities": SEVERITIES, "groups": GROUPS},
        }}],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugin-dir", help="folder with 4.0/epan/sipsleuth.so (default: the installed plugins)")
    parser.add_argument("--out", default=HERE, help="folder to write to (default: %(default)s)")
    args = parser.parse_args()
    fields = field_set(field_table(os.path.abspath(args.plugin_dir) if args.plugin_dir else None))
    with open(os.path.join(args.out, "ek-fields.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"{name}\t{kind}\n" for name, kind in fields))
    with open(os.path.join(args.out, "index-template.json"), "w", encoding="utf-8") as f:
        json.dump(template(fields), f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "ingest-pipeline.json"), "w", encoding="utf-8") as f:
        json.dump(pipeline(fields), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
