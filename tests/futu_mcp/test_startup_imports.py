"""What futu-mcp imports before its first tools/list, a measured goal (bench/bench_mcp.py).

Each probe runs in a fresh interpreter, the only place `sys.modules` says what an import costs.
"""

import subprocess
import sys

NON_DEFAULT_SETS = ("history", "calendar", "derivatives", "research", "watchlist")


def _probe(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_config_and_the_key_check_come_before_the_sdk() -> None:
    """Checking `--toolsets` names and the stdio key imports neither the MCP SDK nor a tool
    module: the key's argon2 run happens while the process is small (peak RSS goal)."""
    out = _probe(
        "import sys\n"
        "from futu_mcp.config import load_config\n"
        "import futu_mcp.startup\n"
        "config = load_config(None, {'toolsets': 'all'})\n"
        "assert len(config.toolsets) == 8, config.toolsets\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', "
        "'futu_mcp.tools.'))))\n"
    )
    assert out == "['futu_mcp.tools.registry']"


def test_a_server_imports_only_the_toolsets_it_serves() -> None:
    out = _probe(
        "import sys\n"
        "from futu_mcp.tools.registry import tools_of\n"
        "from futu_mcp.config import DEFAULT_TOOLSETS\n"
        "names = {t.toolset for t in tools_of(DEFAULT_TOOLSETS)}\n"
        "print(sorted(names), sorted(m for m in sys.modules if m.startswith('futu_mcp.tools.')))\n"
    )
    served, modules = out.split("] [")
    assert served == "['account', 'quote', 'trade'"
    for name in NON_DEFAULT_SETS:
        assert f"futu_mcp.tools.{name}" not in modules
    assert "'futu_mcp.tools.account'" in modules


def test_the_opend_client_without_an_rsa_key_does_not_load_the_crypto() -> None:
    out = _probe(
        "import sys\n"
        "import opend.client\n"
        "opend.client.OpenDClient('127.0.0.1', 1)\n"
        "print('opend.crypto' in sys.modules)\n"
    )
    assert out == "False"
