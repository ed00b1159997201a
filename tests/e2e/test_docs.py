# SPDX-License-Identifier: GPL-2.0-or-later
"""The field references in docs/fields/ are what the built plugins register (tshark -G fields)."""
import os
import re
import subprocess
from urllib.parse import unquote

import pytest

from conftest import ROOT


def test_field_reference_up_to_date(staged):
    proc = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "docs", "gen_field_reference.py"),
                           "--plugin-dir", os.path.join(staged, "plugins"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# Markdown links: [text](target "title"), ![alt](target), and reference definitions [id]: target.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)


def markdown_files():
    """README.md and every .md under docs/, as paths relative to the checkout."""
    found = ["README.md"]
    for base, _dirs, files in os.walk(os.path.join(ROOT, "docs")):
        found += [os.path.relpath(os.path.join(base, f), ROOT) for f in files if f.endswith(".md")]
    return sorted(found)


def without_code(text):
    """The text with fenced code blocks and inline code spans blanked (links there are not links)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.M | re.S)
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", text)


def anchors(path):
    """GitHub's heading anchors of a Markdown file: lower case, punctuation but - and _ dropped,
    spaces as -, repeated headings numbered -1, -2, ..."""
    seen, found = {}, set()
    with open(path, encoding="utf-8") as f:
        for line in without_code(f.read()).splitlines():
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def broken_links(relpath):
    """(link, reason) of every relative link of one Markdown file that does not resolve."""
    path = os.path.join(ROOT, relpath)
    with open(path, encoding="utf-8") as f:
        text = without_code(f.read())
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
    broken = []
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), unquote(file_part))) if file_part else path
        if not resolved.startswith(ROOT + os.sep):
            broken.append((target, "outside the checkout (a clone does not have it)"))
        elif not os.path.exists(resolved):
            broken.append((target, "no such file"))
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            broken.append((target, "no such heading"))
    return broken


@pytest.mark.parametrize("relpath", markdown_files())
def test_relative_links_resolve(relpath):
    assert broken_links(relpath) == []


def test_link_check_finds_broken_links(tmp_path):
    """The check itself: a missing file, a missing heading and a path out of the checkout are caught,
    links in code and to the web are not links to check."""
    doc = os.path.join(ROOT, "docs", f".test_docs_{os.getpid()}.md")
    with open(doc, "w", encoding="utf-8") as f:
        f.write("# A heading\n\n[ok](#a-heading) [ok2](siptrack.md#keepalives) [web](https://example.org/x)\n"
                "[gone](siptrack-keepalives.md) [anchor](siptrack.md#no-such) ![img](../../shared/x.png)\n"
                "`[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n```\n\n[ref]: missing.md\n")
    try:
        assert broken_links(os.path.relpath(doc, ROOT)) == [
            ("siptrack-keepalives.md", "no such file"), ("siptrack.md#no-such", "no such heading"),
            ("../../shared/x.png", "outside the checkout (a clone does not have it)"),
            ("missing.md", "no such file")]
    finally:
        os.remove(doc)
