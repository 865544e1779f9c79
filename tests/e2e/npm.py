"""Node programs the end-to-end tests drive, pinned in tests/node_packages.txt (the one list
that .ci/run installs from too) and installed into .ci/node.

Unpinned, npm picks by the running Node's version: the Inspector on Node 20 resolves to an old
release without --header. The conformance suite needs Node 22, which npm serves as the `node`
package, so it runs on that Node whatever the machine has.
"""

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / ".ci" / "node"
PINNED = ROOT / "tests" / "node_packages.txt"


def pinned(name: str) -> str:
    """`name@version` as tests/node_packages.txt pins it."""
    for spec in PINNED.read_text(encoding="utf-8").split():
        if spec.rpartition("@")[0] == name:
            return spec
    raise KeyError(f"{name} is not pinned in {PINNED}")


def installed(name: str) -> Path:
    """The folder of npm package `name` in .ci/node at its pinned version, installed there if
    it is missing or another version (skipped, or failed under CI=true, without npm)."""
    spec = pinned(name)
    folder = NODE_DIR / "node_modules" / name
    try:
        version = json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        version = None
    if version != spec.rpartition("@")[2]:
        npm = shutil.which("npm")
        if npm is None:
            missing_tool(f"npm is not installed: {name} (a Node program) cannot run here")
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--save-exact", spec],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return folder


def bin_path(name: str, program: str) -> Path:
    """`.ci/node/node_modules/.bin/<program>`, from npm package `name` at its pinned version."""
    installed(name)
    return NODE_DIR / "node_modules" / ".bin" / program
