"""A newcomer's setup mistakes, made for real: futu-mcp spawned over stdio, futucli as a process,
the simulator as OpenD. Each mistake must end in a message that says what to do (issue 8)."""

import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from opend.protoids import ProtoId
from opend.sim import SimulatorThread
from opend.sim.handlers import LOGIN_FAILED_DESC, NOT_LOGGED_IN
from tests.conftest import console_script, missing_tool
from tests.e2e.conftest import FUTU_MCP, gateway_of, server_env

pytestmark = pytest.mark.slow

FUTUCLI = console_script("futucli")
ANY_TOKEN = "fc_anything"  # the keys file is looked at before the token is checked
CREATE = "futucli gen-key --id NAME --scopes qot:read"
RETRYING = (
    "is OpenD running and listening there? --gateway sets the address; retrying in the background"
)


def bound_by_file_modes() -> tuple[str, ...]:
    """A command prefix under which file modes bind: chmod 000 does not stop root, so as root the
    command runs without the two capabilities that let root ignore them (util-linux setpriv)."""
    if os.name != "posix" or os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        missing_tool("running as root without setpriv: root reads a file whatever its mode")
    caps = "-dac_override,-dac_read_search"
    return (setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}")


def start_up(
    token: str | None, *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """futu-mcp over stdio with no client input: what a refused start-up prints, and its exit."""
    return subprocess.run(
        [*prefix, FUTU_MCP, *args],
        input="",
        capture_output=True,
        text=True,
        env=env or server_env(token),
        timeout=60,
    )


def refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a start-up refused with exit 2 (nothing on stdout)."""
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("futu-mcp: ")
    return line.removeprefix("futu-mcp: ")


def futucli(
    *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """One futucli command as a process."""
    return subprocess.run(
        [*prefix, FUTUCLI, *args],
        capture_output=True,
        text=True,
        env=env or server_env(),
        timeout=60,
    )


class Session:
    """futu-mcp over stdio driven line by line, as an MCP client does; stderr kept whole."""

    def __init__(self, token: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [FUTU_MCP, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=server_env(token),
        )
        self._next_id = 0
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "newcomer", "version": "1"},
            },
        )
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its result (the server answers in order here)."""
        self._next_id += 1
        self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "futu-mcp closed stdout"
        reply = json.loads(line)
        assert reply["id"] == self._next_id, reply
        return reply["result"]

    def tool(self, name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        """(is_error, error text or structured content) of one tool call."""
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            return True, result["content"][0]["text"]
        return False, result["structuredContent"]

    def finish(self) -> tuple[int, str]:
        """Close stdin as a client does when it quits; (exit code, everything on stderr)."""
        _, err = self.proc.communicate(timeout=30)  # closes stdin first
        return self.proc.returncode, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def not_an_opend() -> Iterator[int]:
    """A port where something else listens: it reads the request and answers like a web
    server would, then hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.shutdown(socket.SHUT_RDWR)  # wakes the accept() in the thread
        server.close()
        thread.join(5)
        assert not thread.is_alive()


# ---- 1. keys file not found ------------------------------------------------------------------


def test_missing_keys_file_from_the_environment(keys_file: Path) -> None:
    text = refusal(start_up(ANY_TOKEN))
    assert text == (
        f"keys file not found: {keys_file} (from $FUTU_KEYS_FILE); create it with `{CREATE}` "
        "(with the same FUTU_KEYS_FILE), or set FUTU_KEYS_FILE (or --keys-file) to the path of "
        "your keys.json"
    )


def test_missing_keys_file_from_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "team" / "keys.json"
    text = refusal(start_up(ANY_TOKEN, "--keys-file", str(path)))
    assert text == (
        f"keys file not found: {path} (the path given with --keys-file); create it with "
        f"`{CREATE} --keys-file {path}`, or set --keys-file to the path of your keys.json"
    )


def test_missing_keys_file_from_the_config_file(tmp_path: Path) -> None:
    """A keys_file set in futu-mcp's TOML is named as that setting, not as a flag."""
    path = tmp_path / "team" / "keys.json"
    config = tmp_path / "futu-mcp.toml"
    config.write_text(f'keys_file = "{path}"\n', encoding="utf-8")
    text = refusal(start_up(ANY_TOKEN, "--config", str(config)))
    assert text == (
        f"keys file not found: {path} (the path given with keys_file in {config}); create it "
        f"with `{CREATE} --keys-file {path}`, or set keys_file in {config} to the path of your "
        "keys.json"
    )


def test_missing_keys_file_at_the_default_location(isolated_home: Path) -> None:
    env = server_env(ANY_TOKEN)
    del env["FUTU_KEYS_FILE"]
    text = refusal(start_up(None, env=env))
    default = Path(env["XDG_CONFIG_HOME"]) / "futu" / "keys.json"
    assert text.startswith(
        f"keys file not found: {default} (the default location on Linux: neither --keys-file "
        f"nor FUTU_KEYS_FILE is set); create it with `{CREATE}`"
    )
    # futucli looks in the same place and says the same.
    for args in (("list-keys",), ("list-keys", "--json"), ("revoke-key", "bot")):
        done = futucli(*args, env=env)
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        assert done.stderr.strip() == f"error: {text}"
    assert not default.parent.exists()  # revoke-key created nothing


def test_futucli_names_a_missing_flag_file(tmp_path: Path) -> None:
    path = tmp_path / "typo.json"
    done = futucli("revoke-key", "bot", "--keys-file", str(path))
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: keys file not found: {path} (the path given with --keys-file); "
    )


# ---- 2. unreadable or too-open keys file ----------------------------------------------------


def test_too_open_keys_file(make_key: Any, keys_file: Path) -> None:
    token = make_key("bot")
    keys_file.chmod(0o644)
    expected = (
        f"refusing to trust keys file {keys_file} can be read or written by other users "
        f"(mode 0644). Fix: chmod 600 {keys_file}"
    )
    assert refusal(start_up(token)) == expected
    done = futucli("list-keys")
    assert (done.returncode, done.stderr.strip()) == (1, f"error: {expected}")
    keys_file.chmod(0o600)  # the fix it named works
    assert futucli("list-keys", "--json").returncode == 0


def test_unreadable_keys_file(make_key: Any, keys_file: Path) -> None:
    token = make_key("bot")
    keys_file.chmod(0)
    prefix = bound_by_file_modes()
    expected = f"cannot read keys file {keys_file}: permission denied. Fix: chmod 600 {keys_file}"
    assert refusal(start_up(token, prefix=prefix)) == expected
    done = futucli("list-keys", prefix=prefix)
    assert (done.returncode, done.stderr.strip()) == (1, f"error: {expected}")


def test_unsearchable_keys_folder(make_key: Any, keys_file: Path) -> None:
    token = make_key("bot")
    keys_file.parent.chmod(0)
    try:
        prefix = bound_by_file_modes()
        text = refusal(start_up(token, prefix=prefix))
    finally:
        keys_file.parent.chmod(0o700)
    assert text == (
        f"cannot read keys file {keys_file}: permission denied. Fix: make its folder "
        f"{keys_file.parent} readable and searchable by you (chmod 700)"
    )


def test_a_folder_given_as_the_keys_file(make_key: Any, keys_file: Path) -> None:
    token = make_key("bot")
    folder = keys_file.parent
    text = refusal(start_up(token, "--keys-file", str(folder)))
    assert text == (
        f"keys file {folder} is a folder, not a file; point --keys-file or FUTU_KEYS_FILE at "
        f"the keys.json file (e.g. {folder / 'keys.json'})"
    )


# ---- 3. wrong gateway address ---------------------------------------------------------------


@pytest.mark.parametrize("mistake", ["nothing listening", "not an OpenD"])
def test_wrong_gateway_address(make_key: Any, mistake: str) -> None:
    token = make_key("bot")
    with not_an_opend() as other:
        port = free_port() if mistake == "nothing listening" else other
        why = (
            "connection refused"
            if mistake == "nothing listening"
            else "not an OpenD: it answered InitConnect in another protocol "
            "(28 bytes, then it closed the connection)"
        )
        session = Session(token, "--gateway", f"127.0.0.1:{port}")
        failed, text = session.tool("futu_get_quote", {"codes": "HK.00700"})
        assert (failed, text) == (True, f"gateway not connected: 127.0.0.1:{port} ({why})")
        failed, ping = session.tool("futu_ping", {})
        assert not failed and ping["connected"] is False
        advice = f"cannot reach OpenD at 127.0.0.1:{port} ({why}): is OpenD running and"
        assert ping["hint"].startswith(advice)
        # Still serving: the same answer again, while it keeps retrying.
        assert session.tool("futu_get_quote", {"codes": "HK.00700"})[1] == text
        code, err = session.finish()
    assert code == 0
    warned = [line for line in err.splitlines() if "cannot reach OpenD" in line]
    assert len(warned) == 1, err
    assert warned[0].endswith(
        f" WARNING opend.client: cannot reach OpenD at 127.0.0.1:{port} ({why}): {RETRYING}"
    )


# ---- 4. OpenD up but not logged in ----------------------------------------------------------


def test_opend_not_logged_in(make_key: Any) -> None:
    token = make_key("bot", "qot:read,acc:read")
    with SimulatorThread(seed=1, logged_in=False) as sim:
        gateway = gateway_of(sim)
        advice = (
            f"OpenD at {gateway} is not logged in to Futu (quotes and trading; program status "
            f"LOGIN_FAILED: {LOGIN_FAILED_DESC}): log in to OpenD (its window, or its "
            "-login_account and -login_pwd settings) and retry"
        )
        session = Session(token, "--gateway", gateway)
        assert session.tool("futu_get_snapshot", {"codes": "HK.00700"}) == (
            True,
            f"gateway error: {NOT_LOGGED_IN}; {advice}",
        )
        failed, text = session.tool("futu_list_accounts", {})
        assert failed and text == f"gateway error: {NOT_LOGGED_IN}; {advice}"
        failed, ping = session.tool("futu_ping", {})
        assert not failed and ping["connected"] is True and ping["hint"] == advice
        assert ping["global_state"]["qot_logined"] is False
        # Logging OpenD in is the whole fix: the same session then works, and a refusal for
        # another reason no longer blames the login.
        sim.set_logged_in(True)
        failed, text = session.tool("futu_get_snapshot", {"codes": "HK.99999"})
        assert failed and text == "gateway error: Unknown stock HK.99999"
        failed, data = session.tool("futu_get_snapshot", {"codes": "HK.00700"})
        assert not failed and data["snapshots"][0]["code"] == "HK.00700"
        assert "hint" not in session.tool("futu_ping", {})[1]
        code, err = session.finish()
    assert code == 0
    warned = [line for line in err.splitlines() if "is not logged in to Futu" in line]
    assert len(warned) == 1 and warned[0].endswith(f" WARNING opend.client: {advice}"), err


def test_a_logged_in_opend_costs_no_extra_round_trip(make_key: Any) -> None:
    token = make_key("bot")
    with SimulatorThread(seed=1) as sim:
        session = Session(token, "--gateway", gateway_of(sim))

        def global_states() -> int:
            return sim.call(lambda s: s.requests_seen[ProtoId.GET_GLOBAL_STATE])

        for _ in range(3):
            assert not session.tool("futu_get_snapshot", {"codes": "HK.00700"})[0]
            assert not session.tool("futu_get_quote", {"codes": "HK.00700"})[0]
        assert global_states() == 1  # the one check when the link came up
        # OpenD refusals (unknown codes) ask whether OpenD is logged in, a burst of them at most
        # once (the answer holds for a few seconds); it is, so the text is OpenD's alone.
        for _ in range(5):
            failed, text = session.tool("futu_get_snapshot", {"codes": "HK.99999"})
            assert failed and text == "gateway error: Unknown stock HK.99999"
        assert global_states() <= 2
        code, err = session.finish()
    assert code == 0 and "WARNING" not in err, err


# ---- 5. FUTU_MCP_API_KEY unset: tests/e2e/test_mcp_server.py::test_start_up_refusals_... ----


def test_unlock_trade_says_opend_is_not_logged_in(make_key: Any) -> None:
    """unlock-trade is often the first contact with a logged-out OpenD: it says so too."""
    with SimulatorThread(seed=1, logged_in=False) as sim:
        gateway = gateway_of(sim)
        done = subprocess.run(
            [FUTUCLI, "unlock-trade", "--gateway", gateway, "--password-stdin"],
            input="123456\n",
            capture_output=True,
            text=True,
            env=server_env(),
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert f"OpenD at {gateway} is not logged in to Futu" in done.stderr
    assert "log in to OpenD" in done.stderr
