"""Replays the README's Python example (section "In Python and Spark") and compares its output
with the one the README shows."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def test_readme_python_demo(support_desk_bundle):
    readme = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- python-demo[^>]*-->\s*```python\n(.*?)```\s*```text\n(.*?)```\s*<!-- /python-demo -->",
        readme,
        re.S,
    )
    assert block, "the README has no python-demo block"
    code, expected = block.group(1), block.group(2)
    target = ROOT / "target" / "support-desk.polb"
    target.write_bytes(support_desk_bundle.read_bytes())
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    assert out == expected
