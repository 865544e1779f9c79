"""`futucli demo` runs the whole path (sim, key, futu-mcp over stdio, audit) and cleans up."""

import re
import subprocess
from pathlib import Path

from tests.conftest import console_script

TOKEN = re.compile(r"fc_[0-9A-Za-z]{8}_[0-9A-Za-z]{40,}")


def test_demo_tour(isolated_home: Path) -> None:
    done = subprocess.run(
        [console_script("futucli"), "demo", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(isolated_home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "with 19 tools for this key" in out
    assert re.search(r"HK\.00700\s+│\s+TENCENT", out)
    assert "'status': 'SUBMITTED'" in out
    assert re.search(r"refused: limit check failed: order value [\d.]+ exceeds 100000", out)
    assert "refused: missing scope: trade:real" in out
    assert "CANCEL" in out
    assert re.search(r"\d+ hash-chained lines, chain intact", out)
    assert not TOKEN.search(out + done.stderr)
    # Everything lived in a temporary folder: the user's home is untouched.
    assert list(isolated_home.iterdir()) == []
