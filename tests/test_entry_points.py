"""The two console scripts start and identify themselves."""

import subprocess
from importlib.metadata import version

import pytest

from tests.conftest import console_script


@pytest.mark.parametrize("name", ["futucli", "futu-mcp"])
def test_console_script_prints_version(name: str) -> None:
    done = subprocess.run(
        [console_script(name), "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{name} {version('futu-mcp')}"


@pytest.mark.parametrize("name", ["futucli", "futu-mcp"])
def test_console_script_help(name: str) -> None:
    done = subprocess.run(
        [console_script(name), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout or "usage" in done.stdout
