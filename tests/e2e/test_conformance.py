"""The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
tests/node_packages.txt, on Node 22) against futu-mcp over HTTP with a real key.

The suite's CLI cannot send a header, so it talks to futu-mcp through `bearer_proxy`, which adds
the key as any configured client would; Host and Origin pass unchanged, so the DNS-rebinding
scenario meets the real check. A scenario passes when no check it reports fails or warns.

Scenarios that apply to futu-mcp, run here, each at every protocol era it covers:
  server-initialize, ping, tools-list, dns-rebinding-protection, server-sse-multiple-streams,
  server-session-lifecycle, http-header-validation.

Scenarios not run, because they call fixture tools, prompts or resources of the suite's own
reference server that futu-mcp does not have (and must not: its tools are the trading tools):
  tools-call-* (test_simple_text, test_image_content, test_audio_content,
  test_embedded_resource, test_multiple_content_types, test_tool_with_logging,
  test_error_handling, test_tool_with_progress, test_sampling, test_elicitation),
  json-schema-2020-12 (json_schema_2020_12_tool), elicitation-sep1034-defaults and
  elicitation-sep1330-enums (their elicitation test tools), logging-set-level and
  completion-complete (capabilities we do not offer), resources-*, prompts-* and
  sep-2164-resource-not-found (we offer neither), server-sse-polling (test_reconnection),
  server-stateless (test_missing_capability and list-change notifications), caching,
  http-custom-header-server-validation (a tool with x-mcp-header parameters),
  input-required-result-* (their test tools), and the tasks-* extension.
"""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keystore.issuing import issue_key
from keystore.records import Limits
from keystore.store import KeyStore
from opend.sim import SimulatorThread
from tests.e2e.bearer_proxy import bearer_proxy
from tests.e2e.conftest import HttpServer, gateway_of
from tests.e2e.npm import bin_path, installed

pytestmark = pytest.mark.slow

# (scenario, spec version): the handshake era 2025-11-25, and 2026-07-28 where the scenario
# covers it too.
SCENARIOS = [
    ("server-initialize", "2025-11-25"),
    ("ping", "2025-11-25"),
    ("tools-list", "2025-11-25"),
    ("tools-list", "2026-07-28"),
    ("dns-rebinding-protection", "2025-11-25"),
    ("dns-rebinding-protection", "2026-07-28"),
    ("server-sse-multiple-streams", "2025-11-25"),
    ("server-sse-multiple-streams", "2026-07-28"),
    ("server-session-lifecycle", "2025-11-25"),
    ("http-header-validation", "2026-07-28"),
]


@pytest.fixture(scope="module")
def conformance() -> list[str]:
    """The command that runs the suite's CLI on Node 22."""
    node = bin_path("node", "node")
    cli = installed("@modelcontextprotocol/conformance") / "dist" / "index.js"
    return [str(node), str(cli)]


@pytest.fixture(scope="module")
def served(
    conformance: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, HttpServer, str]]:
    """futu-mcp over HTTP with a qot:read key, behind the Bearer proxy, shared by the
    scenarios: (the proxy's URL, the server, the key)."""
    home = tmp_path_factory.mktemp("conformance")
    with pytest.MonkeyPatch.context() as env, SimulatorThread(seed=1) as sim:
        env.setenv("HOME", str(home))
        env.setenv("FUTU_KEYS_FILE", str(home / "keys.json"))
        token, _ = issue_key(
            KeyStore(home / "keys.json"),
            key_id="conformance",
            scopes=frozenset({"qot:read"}),
            limits=Limits.from_json({}),
            confirm_orders=None,
            expires_at=None,
        )
        server = HttpServer("--gateway", gateway_of(sim))
        host, port = server.base.removeprefix("http://").rsplit(":", 1)
        try:
            with bearer_proxy((host, int(port)), token) as proxy_port:
                yield f"http://localhost:{proxy_port}/mcp", server, token
        finally:
            server.stop()


@pytest.mark.parametrize(("scenario", "spec"), SCENARIOS)
def test_conformance_scenario(
    conformance: list[str], served: Any, scenario: str, spec: str, tmp_path: Path
) -> None:
    url, server, token = served
    done = subprocess.run(
        [
            *conformance,
            "server",
            "--url",
            url,
            "--scenario",
            scenario,
            "--spec-version",
            spec,
            "-o",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    (checks_file,) = tmp_path.glob("*/checks.json")
    checks = json.loads(checks_file.read_text(encoding="utf-8"))
    # INFO notes a choice the spec leaves open (e.g. JSON replies rather than SSE streams).
    failed = [c for c in checks if c["status"] in ("FAILURE", "WARNING")]
    passed = [c for c in checks if c["status"] == "SUCCESS"]
    assert passed and not failed and done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert token not in server.logs()
