# SPDX-License-Identifier: GPL-2.0-or-later
"""The field references in docs/fields/ are what the built plugins register (tshark -G fields)."""
import os
import subprocess

from conftest import ROOT


def test_field_reference_up_to_date(staged):
    proc = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "docs", "gen_field_reference.py"),
                           "--plugin-dir", os.path.join(staged, "plugins"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
