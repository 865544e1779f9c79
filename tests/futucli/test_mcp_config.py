"""`futucli mcp-config` prints a snippet that points at this installation and never leaks via argv,
and `--install` merges it into a client's config without losing or breaking anything there."""

import hashlib
import json
import os
import platform
import pty
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from futucli import clientconfig
from keystore.hashing import TEST_ONLY_CHEAP_PARAMS
from keystore.issuing import issue_key, new_key_id
from keystore.paths import resolve_keys_file
from keystore.records import Limits
from keystore.store import KeyStore
from keystore.tokens import generate_token
from keystore.verify import KeyVerifier
from tests.conftest import console_script
from tests.ptyhelpers import read_to_end, read_until, reap

OTHER_SERVERS = {
    "github": {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-github"],
        "env": {"GITHUB_TOKEN": "ghp_other_secret"},
    },
    "remote": {"type": "http", "url": "https://mcp.example.com/mcp", "timeout": 1.5e3},
}
# read(2)'s number in /proc/PID/syscall, by CPU.
READ_SYSCALL = {"x86_64": 0, "aarch64": 63}.get(platform.machine())
EXTRA_TOP_LEVEL = {"globalShortcut": "Ctrl+Space", "preferences": {"theme": "dark", "n": [1, None]}}


def run_mcp_config(
    *args: str,
    stdin: str = "",
    env_key: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    if env_key is not None:
        full_env["FUTU_MCP_API_KEY"] = env_key
    full_env.update(env or {})
    return subprocess.run(
        [console_script("futucli"), "mcp-config", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        cwd=cwd,
    )


def issued(key_id: str | None = None) -> tuple[str, str]:
    """A key (token, kid) issued into the keys.json mcp-config pins, as gen-key would issue it."""
    token, record = issue_key(
        KeyStore(resolve_keys_file()),
        key_id=key_id or new_key_id(),
        scopes=frozenset({"qot:read"}),
        limits=Limits(),
        argon2_params=TEST_ONLY_CHEAP_PARAMS,  # the hash is not what these tests look at
    )
    return token, record.kid


def snippet(*args: str, **kwargs: object) -> str:
    done = run_mcp_config(*args, **kwargs)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    return done.stdout


def install(
    config: Path | None, key: str, *args: str, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    """Install with the key on stdin; the key must never come back on stdout or stderr."""
    file_args = ["--config-file", str(config)] if config is not None else []
    done = run_mcp_config("--install", "--key-stdin", *file_args, *args, stdin=key + "\n")
    assert done.returncode == expect, done.stdout + done.stderr
    assert key not in done.stdout
    assert key not in done.stderr
    return done


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A folder beside the temporary HOME that holds only what a test puts there."""
    folder = tmp_path / "cfg"
    folder.mkdir()
    return folder


def write_existing(path: Path) -> bytes:
    data = json.dumps({**EXTRA_TOP_LEVEL, "mcpServers": OTHER_SERVERS}, indent=4).encode()
    path.write_bytes(data)
    path.chmod(0o600)
    return data


def state_folder() -> Path:
    """futu's state folder under the temporary HOME (conftest sets XDG_STATE_HOME)."""
    return Path(os.environ["XDG_STATE_HOME"]) / "futu"


def backups(path: Path) -> list[Path]:
    """The backups of the file `path` leads to: in the state folder, named by its real path."""
    real = os.path.realpath(path)
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:12]
    return sorted((state_folder() / "backups").glob(f"{Path(real).name}.{digest}.bak-*"))


def test_stdio_snippet_uses_absolute_command_and_placeholder() -> None:
    done = run_mcp_config(
        "--gateway", "127.0.0.1:22222", "--keys-file", "/tmp/k.json", "--audit-log", "/tmp/a.jsonl"
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)["mcpServers"]["futu"]
    assert Path(entry["command"]) == Path(console_script("futu-mcp")).resolve()
    assert Path(entry["command"]).exists()
    assert entry["args"] == [
        "--gateway",
        "127.0.0.1:22222",
        "--keys-file",
        "/tmp/k.json",
        "--audit-log",
        "/tmp/a.jsonl",
    ]
    assert entry["env"]["FUTU_MCP_API_KEY"].startswith("<paste")
    assert "no API key" in done.stderr and "--key-stdin" in done.stderr


def test_snippet_pins_the_keys_file_the_shell_would_use(tmp_path: Path) -> None:
    """A GUI client inherits neither FUTU_KEYS_FILE nor the shell's cwd: the path is spelled out."""
    default = json.loads(snippet())["mcpServers"]["futu"]["args"]
    assert default[:4] == [
        "--gateway",
        "127.0.0.1:11111",
        "--keys-file",
        os.environ["FUTU_KEYS_FILE"],
    ]
    relative = json.loads(snippet("--keys-file", "mine/keys.json", cwd=tmp_path))
    assert relative["mcpServers"]["futu"]["args"][3] == str(tmp_path / "mine" / "keys.json")


def test_snippet_turns_the_audit_log_on_where_audit_tail_looks(
    tmp_path: Path, isolated_home: Path
) -> None:
    """Audit is on by default, at the path `futucli audit tail` reads without arguments."""
    from futu_mcp.audit import default_audit_path

    args = json.loads(snippet())["mcpServers"]["futu"]["args"]
    assert args[4:] == ["--audit-log", str(default_audit_path())]
    assert str(default_audit_path()).startswith(str(isolated_home))
    relative = json.loads(snippet("--audit-log", "logs/a.jsonl", cwd=tmp_path))
    assert relative["mcpServers"]["futu"]["args"][4:] == [
        "--audit-log",
        str(tmp_path / "logs" / "a.jsonl"),
    ]
    off = json.loads(snippet("--no-audit-log"))["mcpServers"]["futu"]["args"]
    assert "--audit-log" not in off
    both = run_mcp_config("--audit-log", "a.jsonl", "--no-audit-log")
    assert both.returncode == 2 and "contradict" in both.stderr
    http = run_mcp_config("--client", "http", "--audit-log", "a.jsonl")
    assert http.returncode == 2 and "--audit-log does not apply to --client http" in http.stderr


def test_toolsets_go_into_the_entry_as_futu_mcp_reads_them() -> None:
    """`--toolsets` is written into the client's entry in the form futu-mcp's own settings
    loader reads; without it the entry leaves futu-mcp's default alone."""
    args = json.loads(snippet("--toolsets", " default, history "))["mcpServers"]["futu"]["args"]
    assert args[-2:] == ["--toolsets", "default,history"]
    assert "--toolsets" not in json.loads(snippet())["mcpServers"]["futu"]["args"]
    from futu_mcp.config import load_config

    flag = dict(zip(args[::2], args[1::2], strict=True))["--toolsets"]
    assert load_config(None, {"toolsets": flag}).toolsets == {
        "quote",
        "account",
        "trade",
        "history",
    }


def test_key_from_stdin_or_environment() -> None:
    from_stdin = json.loads(snippet("--key-stdin", stdin="fc_canary_from_stdin\n"))
    assert from_stdin["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == "fc_canary_from_stdin"
    from_env = json.loads(snippet(env_key="fc_canary_from_env"))
    assert from_env["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == "fc_canary_from_env"


def test_key_env_names_the_variable_read() -> None:
    key, _ = generate_token()
    config = json.loads(
        snippet("--key-env", "MYKEY", env_key="fc_not_this_one", env={"MYKEY": key})
    )
    # futu-mcp itself always reads FUTU_MCP_API_KEY: --key-env only says where the key comes from.
    assert config["mcpServers"]["futu"]["env"] == {"FUTU_MCP_API_KEY": key}
    unset = run_mcp_config("--key-env", "MYKEY", env_key=key)
    assert json.loads(unset.stdout)["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"].startswith(
        "<paste"
    )
    assert "MYKEY is not set" in unset.stderr


def test_malformed_key_is_printed_with_a_warning() -> None:
    key, _ = generate_token()
    typo = key[:-1] + ("A" if key[-1] != "A" else "B")
    done = run_mcp_config(env_key=typo)
    assert done.returncode == 0
    assert json.loads(done.stdout)["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == typo
    assert "checksum does not match" in done.stderr


def test_http_snippet_carries_bearer_header() -> None:
    config = json.loads(
        snippet(
            "--client",
            "http",
            "--url",
            "https://mcp.example.com/mcp",
            "--name",
            "desk",
            env_key="k",
        )
    )
    assert config["mcpServers"]["desk"] == {
        "type": "http",
        "url": "https://mcp.example.com/mcp",
        "headers": {"Authorization": "Bearer k"},
    }
    default = json.loads(snippet("--client", "http", env_key="k"))["mcpServers"]["futu"]
    assert default["url"] == "http://127.0.0.1:38765/mcp"


def test_http_to_another_host_in_clear_text_warns() -> None:
    done = run_mcp_config("--client", "http", "--url", "http://10.1.2.3:38765/mcp", env_key="k")
    assert done.returncode == 0
    assert "unencrypted" in done.stderr
    for local in ("http://127.0.0.1:38765/mcp", "http://localhost:38765/mcp", "http://[::1]:1/mcp"):
        quiet = run_mcp_config("--client", "http", "--url", local, env_key="k")
        assert quiet.returncode == 0 and "unencrypted" not in quiet.stderr, local


def test_continue_yaml() -> None:
    text = snippet("--client", "continue", env_key="fc_k")
    assert text.splitlines()[:2] == ["mcpServers:", "  - name: futu"]
    assert '      FUTU_MCP_API_KEY: "fc_k"' in text.splitlines()


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["--install", "--client", "http"], "needs --config-file"),
        (["--client", "claude", "--url", "http://127.0.0.1:1/mcp"], "--url applies to"),
        (["--client", "http", "--gateway", "127.0.0.1:1"], "--gateway does not apply"),
        (["--client", "http", "--keys-file", "k.json"], "--keys-file does not apply"),
        (["--client", "http", "--url", "ftp://host/mcp"], "not an http(s) URL"),
        (["--name", "../evil"], "--name"),
        (["--key-env", ""], "--key-env needs"),
        (["--gateway", "localhost"], "--gateway: expected HOST:PORT, got 'localhost'"),
        (["--gateway", "127.0.0.1:99999"], "futu-mcp would not start with it"),
        (["--client", "vscode", "--key-stdin"], "--key-stdin does not apply to --client vscode"),
        (["--client", "vscode", "--key-env", "K"], "--key-env does not apply to --client vscode"),
        (
            ["--client", "vscode", "--url", "http://127.0.0.1:1/mcp", "--gateway", "h:1"],
            "--gateway does not apply to --client vscode --url",
        ),
        (["--client", "vscode", "--url", "ftp://host/mcp"], "not an http(s) URL"),
        (["--client", "windsurf"], "windsurf"),
        (["--toolsets", "quote,histroy"], "--toolsets: unknown toolset 'histroy' (valid: quote"),
        (["--client", "http", "--toolsets", "all"], "--toolsets does not apply to --client http"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(
    args: list[str], wanted: str, isolated_home: Path
) -> None:
    key, _ = generate_token()
    done = run_mcp_config(*args, env_key=key)
    assert done.returncode == 2
    assert wanted in done.stderr
    assert done.stdout == ""
    assert list(isolated_home.rglob("*")) == []


def test_install_keeps_other_servers_and_settings(cfg: Path) -> None:
    config = cfg / "claude_desktop_config.json"
    old = write_existing(config)
    key, kid = issued()
    done = install(config, key, "--gateway", "127.0.0.1:22222")
    merged = json.loads(config.read_text())
    assert {k: v for k, v in merged.items() if k != "mcpServers"} == EXTRA_TOP_LEVEL
    assert {k: v for k, v in merged["mcpServers"].items() if k != "futu"} == OTHER_SERVERS
    futu = merged["mcpServers"]["futu"]
    assert futu["env"] == {"FUTU_MCP_API_KEY": key}
    assert futu["args"][:2] == ["--gateway", "127.0.0.1:22222"]
    assert Path(futu["command"]) == Path(console_script("futu-mcp")).resolve()
    [backup] = backups(config)
    assert backup.read_bytes() == old
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert str(backup) in done.stdout
    assert f"fc_{kid}_" in done.stdout
    assert "restart Claude Desktop" in done.stdout
    assert [p.name for p in cfg.iterdir()] == [config.name]


@pytest.mark.parametrize(
    ("content", "wanted"),
    [
        ('{\n  "mcpServers": {\n    "a": {"command": "x",}\n  }\n}', "line 3 column 26"),
        ('{\n  // mine\n  "mcpServers": {}\n}', "line 2 column 3 (a comment"),
        ("[1, 2]", "JSON list, not an object"),
        ('{"mcpServers": []}', '"mcpServers" is not an object'),
        ('{"mcpServers": {"a": {}, "a": {"command": "x"}}}', 'the name "a" appears twice'),
        ('{"mcpServers": {}, "limit": NaN}', "NaN is not a JSON value"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_install_refuses_a_file_it_cannot_merge(
    content: str | bytes, wanted: str, cfg: Path
) -> None:
    config = cfg / "mcp.json"
    data = content.encode() if isinstance(content, str) else content
    config.write_bytes(data)
    key, kid = issued("cur")
    done = install(config, key, "--client", "cursor", expect=1)
    assert str(config) in done.stderr
    assert wanted in done.stderr
    assert "Nothing was changed" in done.stderr
    # The key came from stdin and is gone with this process: the user is told, with the re-run.
    assert f"The key fc_{kid}_… read from standard input was NOT installed" in done.stderr
    assert (
        f"`futucli rotate-key cur | futucli mcp-config --client cursor --config-file {config} "
        "--install --key-stdin`" in done.stderr
    )
    assert "futucli revoke-key cur" in done.stderr
    assert config.read_bytes() == data
    assert [p.name for p in cfg.iterdir()] == ["mcp.json"]


def test_install_creates_a_missing_file_private(isolated_home: Path) -> None:
    key, _ = issued()
    done = install(None, key, "--client", "cursor")
    config = isolated_home / ".cursor" / "mcp.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text())["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == key
    assert backups(config) == []
    assert "created" in done.stdout and "restart Cursor" in done.stdout


def test_rerun_replaces_only_the_futu_entry(cfg: Path) -> None:
    config = cfg / "mcp.json"
    write_existing(config)
    first_key, _ = issued()
    install(config, first_key, "--gateway", "127.0.0.1:1111")
    after_first = config.read_bytes()
    second_key, _ = issued()
    done = install(config, second_key, "--gateway", "127.0.0.1:2222")
    merged = json.loads(config.read_text())
    assert list(merged["mcpServers"]) == [*OTHER_SERVERS, "futu"]
    assert {k: v for k, v in merged["mcpServers"].items() if k != "futu"} == OTHER_SERVERS
    assert merged["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == second_key
    assert merged["mcpServers"]["futu"]["args"][1] == "127.0.0.1:2222"
    command = json.dumps(merged["mcpServers"]["futu"]["command"])
    assert (
        f'replaced the existing "futu" entry (fields: command, args, env; command {command})'
        in done.stdout
    )
    # Argument values are never shown: they can hold secrets (the backup keeps them).
    assert "127.0.0.1:1111" not in done.stdout
    assert first_key not in done.stdout
    assert any(b.read_bytes() == after_first for b in backups(config))
    assert len(backups(config)) == 2


def test_http_install_writes_the_bearer_entry(cfg: Path) -> None:
    config = cfg / ".mcp.json"
    key, _ = generate_token()
    install(config, key, "--client", "http", "--url", "http://127.0.0.1:40000/mcp")
    assert json.loads(config.read_text())["mcpServers"]["futu"] == {
        "type": "http",
        "url": "http://127.0.0.1:40000/mcp",
        "headers": {"Authorization": f"Bearer {key}"},
    }


def test_install_needs_a_valid_key(cfg: Path) -> None:
    config = cfg / "mcp.json"
    missing = run_mcp_config("--install", "--config-file", str(config))
    assert missing.returncode == 2
    assert "no API key to install" in missing.stderr and "--key-stdin" in missing.stderr
    key, _ = generate_token()
    typo = key[:20] + key[21:]
    bad = install(config, typo, expect=2)
    assert "not a futu-mcp API key" in bad.stderr
    assert list(cfg.iterdir()) == []


def test_continue_install_writes_json_into_mcpservers(isolated_home: Path) -> None:
    key, _ = issued()
    install(None, key, "--client", "continue")
    config = isolated_home / ".continue" / "mcpServers" / "futu.json"
    assert json.loads(config.read_text())["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == key


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="Linux location of Claude's file")
def test_claude_default_path_honours_xdg_config_home(tmp_path: Path, isolated_home: Path) -> None:
    xdg = tmp_path / "xdg"
    key, _ = issued()
    done = run_mcp_config(
        "--install", "--key-stdin", stdin=key + "\n", env={"XDG_CONFIG_HOME": str(xdg)}
    )
    assert done.returncode == 0, done.stderr
    config = xdg / "Claude" / "claude_desktop_config.json"
    assert json.loads(config.read_text())["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == key
    assert not (isolated_home / ".config" / "Claude").exists()


@pytest.mark.parametrize("mode", [0o644, 0o666, 0o640, 0o604])
def test_install_makes_a_shared_file_private_and_says_so(cfg: Path, mode: int) -> None:
    """The clients create their files 0644; once it holds the key, nobody else may read it."""
    config = cfg / "mcp.json"
    write_existing(config)
    config.chmod(mode)
    key, _ = issued()
    done = install(config, key)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert f"tightened {config} from {mode:04o} to 0600: it now holds your API key" in done.stdout
    assert done.stderr == ""


def test_install_into_a_private_file_does_not_claim_to_tighten(cfg: Path) -> None:
    config = cfg / "mcp.json"
    write_existing(config)
    config.chmod(0o400)
    key, _ = issued()
    done = install(config, key)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert "tightened" not in done.stdout


def test_install_writes_through_a_symlink(cfg: Path) -> None:
    real = cfg / "dotfiles" / "claude.json"
    real.parent.mkdir()
    write_existing(real)
    link = cfg / "claude_desktop_config.json"
    link.symlink_to(real)
    real.chmod(0o666)
    key, _ = issued()
    done = install(link, key)
    assert link.is_symlink()
    assert json.loads(real.read_text())["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == key
    # The file the link points at is the one that holds the key: it is the one made private.
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert f"tightened {link} from 0666 to 0600" in done.stdout


def test_backup_never_overwrites_an_earlier_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> "FrozenClock":
            return cls(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    monkeypatch.setattr(clientconfig, "datetime", FrozenClock)
    config = tmp_path / "mcp.json"
    first = clientconfig._backup(config, b"first")
    second = clientconfig._backup(config, b"second")
    other = clientconfig._backup(tmp_path / "elsewhere" / "mcp.json", b"other")
    digest = hashlib.sha256(os.fsencode(config)).hexdigest()[:12]
    assert first == state_folder() / "backups" / f"mcp.json.{digest}.bak-20260102T030405Z"
    assert second == first.with_name(f"{first.name}-1")
    assert other.parent == first.parent and other.name.startswith("mcp.json.")
    assert other.name not in (first.name, second.name)
    assert (first.read_bytes(), second.read_bytes()) == (b"first", b"second")
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_state_dir_is_where_the_audit_log_always_was(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from futu_mcp.audit import default_audit_path
    from keystore.paths import state_dir

    monkeypatch.setenv("XDG_STATE_HOME", str(isolated_home / "xdg-state"))
    assert state_dir() == isolated_home / "xdg-state" / "futu"
    assert default_audit_path() == isolated_home / "xdg-state" / "futu" / "audit.jsonl"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_audit_path() == isolated_home / ".local" / "state" / "futu" / "audit.jsonl"
    assert clientconfig.lock_path(Path("/x")).parent == state_dir() / "locks"


@pytest.mark.parametrize("folder", [".cursor", ".vscode"])
def test_backups_stay_out_of_a_project(folder: str, tmp_path: Path) -> None:
    """A project's config is often git-ignored while a backup beside it would not be: the old
    file (maybe holding a key) goes to the state folder, and the project gains no file."""
    project = tmp_path / "project"
    config = project / folder / "mcp.json"
    config.parent.mkdir(parents=True)
    old = json.dumps({"servers": OTHER_SERVERS, "mcpServers": OTHER_SERVERS}).encode()
    config.write_bytes(old)
    key, _ = issued()
    if folder == ".vscode":
        done = install_vscode(project)
    else:
        done = install(config, key, "--client", "cursor")
    [backup] = backups(config)
    assert backup.read_bytes() == old
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert backup.is_relative_to(state_folder() / "backups")
    assert f"backed up {config} to {backup}" in done.stdout
    assert [p.relative_to(project) for p in sorted(project.rglob("*"))] == [
        Path(folder),
        Path(folder) / "mcp.json",
    ]


def test_merge_keeps_order_and_values() -> None:
    config = {"a": 1, "mcpServers": {"x": {"command": "x"}, "futu": {"old": True}}, "z": [2]}
    merged, replaced = clientconfig.merge_entry(config, "futu", {"command": "new"})
    assert replaced == {"old": True}
    assert list(merged) == ["a", "mcpServers", "z"]
    assert list(merged["mcpServers"]) == ["x", "futu"]
    assert merged["mcpServers"]["futu"] == {"command": "new"}
    assert config["mcpServers"]["futu"] == {"old": True}


def test_key_typed_at_a_terminal_is_not_echoed(cfg: Path) -> None:
    """At a terminal --key-stdin prompts with echo off, so the key never shows on screen."""
    config = cfg / "mcp.json"
    key, kid = issued()
    argv = [console_script("futucli"), "mcp-config", "--install", "--key-stdin"]
    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as in a real shell
        try:
            os.execve(argv[0], [*argv, "--config-file", str(config)], dict(os.environ))
        finally:
            os._exit(127)
    deadline = time.monotonic() + 60
    try:
        screen = read_until(master, b"(input hidden): ", deadline)
        os.write(master, key.encode() + b"\n")
        screen += read_to_end(master, deadline)
    finally:
        status = reap(pid, deadline)
        os.close(master)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert key.encode() not in screen
    assert f"fc_{kid}_".encode() in screen
    assert json.loads(config.read_text())["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == key


def run_shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command line as a user types it, with this installation's scripts on PATH."""
    env = {**os.environ, "PATH": f"{Path(console_script('futucli')).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def issued_kid(key_id: str) -> str:
    record = KeyStore(resolve_keys_file()).read().by_id(key_id)
    assert record is not None
    return record.kid


def test_the_rerun_a_failed_pipe_suggests_installs_the_key(cfg: Path) -> None:
    """gen-key | mcp-config into a broken file: the key exists but was not installed, and the
    command the error gives, run as printed once the file is fixed, installs a working key."""
    config = cfg / "mcp.json"
    config.write_text('{"mcpServers": {"x": {"command": "y"},}}')
    pipe = "futucli gen-key --id cur | futucli mcp-config --client cursor --install --key-stdin"
    failed = run_shell(f"{pipe} --config-file {config}", cfg)
    assert failed.returncode == 1
    assert "Nothing was changed" in failed.stderr and "was NOT installed" in failed.stderr
    assert "fc_" not in failed.stderr.replace(f"fc_{issued_kid('cur')}_…", "")
    [rerun] = [part for part in failed.stderr.split("`") if part.startswith("futucli rotate-key")]
    config.write_text('{"mcpServers": {"x": {"command": "y"}}}')
    done = run_shell(rerun, cfg)
    assert done.returncode == 0, done.stderr
    installed = json.loads(config.read_text())["mcpServers"]
    assert installed["x"] == {"command": "y"}
    key = installed["futu"]["env"]["FUTU_MCP_API_KEY"]
    assert KeyVerifier(resolve_keys_file()).verify(key).id == "cur"


def test_a_key_from_the_environment_is_still_there_for_a_rerun(cfg: Path) -> None:
    config = cfg / "mcp.json"
    config.write_text("[")
    key, _ = issued()
    done = run_mcp_config("--install", "--config-file", str(config), env_key=key)
    assert done.returncode == 1
    assert "Nothing was changed" in done.stderr
    assert "NOT installed" not in done.stderr and "rotate-key" not in done.stderr


def test_install_refuses_a_keys_file_that_does_not_exist(cfg: Path, isolated_home: Path) -> None:
    config = cfg / "mcp.json"
    key, _ = generate_token()
    done = install(config, key, expect=1)
    assert f"keys file not found: {os.environ['FUTU_KEYS_FILE']}" in done.stderr
    assert "futu-mcp would stop at the client's start" in done.stderr
    assert "was NOT installed" in done.stderr and "rotate-key <id> |" in done.stderr
    assert list(cfg.iterdir()) == []


def test_install_refuses_a_key_the_keys_file_does_not_hold(cfg: Path, tmp_path: Path) -> None:
    """`gen-key --keys-file X | mcp-config --install` without the same --keys-file pins a file
    that does not know the key: refused, saying to repeat --keys-file; with it, installed."""
    issued()  # the default keys.json exists, with another key
    other = tmp_path / "other" / "keys.json"
    made = run_shell(f"futucli gen-key --id elsewhere --keys-file {other}", tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    config = cfg / "mcp.json"
    done = install(config, key, expect=1)
    assert f"is not in {os.environ['FUTU_KEYS_FILE']} (from $FUTU_KEYS_FILE)" in done.stderr
    assert "give mcp-config the same --keys-file" in done.stderr
    assert "futucli rotate-key <id> --keys-file FILE |" in done.stderr
    assert list(cfg.iterdir()) == []
    install(config, key, "--keys-file", str(other))
    args = json.loads(config.read_text())["mcpServers"]["futu"]["args"]
    assert args[2:4] == ["--keys-file", str(other)]


@pytest.mark.parametrize("status", ["revoked", "expired"])
def test_install_refuses_a_revoked_or_expired_key(status: str, cfg: Path) -> None:
    """futu-mcp would refuse the key at the client's start; rotate-key cannot revive it."""
    store = KeyStore(resolve_keys_file())
    if status == "revoked":
        key, kid = issued("dead")
        store.revoke("dead")
    else:
        created = datetime(2026, 1, 1, tzinfo=UTC)
        key, record = issue_key(
            store,
            key_id="dead",
            scopes=frozenset({"qot:read"}),
            limits=Limits(),
            expires_at=created + timedelta(hours=1),
            now=created,
            argon2_params=TEST_ONLY_CHEAP_PARAMS,
        )
        kid = record.kid
    config = cfg / "mcp.json"
    old = write_existing(config)
    done = install(config, key, "--client", "cursor", expect=1)
    assert f"the key dead (fc_{kid}_…) in {os.environ['FUTU_KEYS_FILE']} is {status}" in done.stderr
    assert (
        f"`futucli gen-key --id NEW_ID | futucli mcp-config --client cursor --config-file {config}"
        " --install --key-stdin`" in done.stderr
    )
    assert "rotate-key" not in done.stderr
    assert config.read_bytes() == old
    assert backups(config) == []
    assert [p.name for p in cfg.iterdir()] == ["mcp.json"]


def test_the_replaced_entry_is_described_without_its_secrets(cfg: Path) -> None:
    config = cfg / "mcp.json"
    old = {
        "type": "http",
        "url": "https://u:s3cr3t@h.example:8443/mcp?token=abc123#frag",
        "args": ["--api-key", "sk-live-xyz"],
        "headers": {"Authorization": "Bearer hdr-secret"},
    }
    config.write_text(json.dumps({"mcpServers": {"futu": old}}))
    key, _ = issued()
    done = install(config, key)
    assert (
        'replaced the existing "futu" entry (fields: type, url, args, headers; type "http"; '
        'url "https://h.example:8443/mcp")' in done.stdout
    )
    for secret in ("s3cr3t", "abc123", "frag", "sk-live-xyz", "--api-key", "hdr-secret", "u:"):
        assert secret not in done.stdout + done.stderr
    [backup] = backups(config)
    assert json.loads(backup.read_text())["mcpServers"]["futu"] == old


@pytest.mark.parametrize(
    ("entry", "wanted"),
    [
        ("fc_plain_string", "a JSON str"),
        ({"command": ["not", "a", "string"], "url": "u:pw@host/x"}, "fields: command, url"),
        ({}, "fields: none"),
    ],
)
def test_describe_entry_shows_only_names_for_odd_values(entry: object, wanted: str) -> None:
    described = clientconfig.describe_entry(entry)
    assert described == wanted
    assert "pw" not in described and "fc_plain" not in described


def waiting_for_stdin(pid: int) -> bool:
    """True while the process is blocked in read(0, ...) (Linux: /proc/PID/syscall)."""
    fields = Path(f"/proc/{pid}/syscall").read_text().split()
    return fields[:2] == [str(READ_SYSCALL), "0x0"]


@pytest.mark.skipif(
    sys.platform != "linux" or READ_SYSCALL is None, reason="/proc/PID/syscall tells when all wait"
)
def test_concurrent_installs_keep_every_entry(cfg: Path) -> None:
    """Installs of different --name into one file at once: each one's entry survives."""
    config = cfg / "mcp.json"
    write_existing(config)
    key, _ = issued()
    names = [f"n{i}" for i in range(6)]
    argv = [console_script("futucli"), "mcp-config", "--install", "--key-stdin"]
    procs = [
        subprocess.Popen(
            [*argv, "--config-file", str(config), "--name", name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    # All of them at the starting line (blocked reading the key) before any gets its key, so
    # that they read, merge and write the file at the same moment.
    deadline = time.monotonic() + 60
    for proc in procs:
        while not waiting_for_stdin(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, "never asked for the key"
            time.sleep(0.01)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(key + "\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out + err
    servers = json.loads(config.read_text())["mcpServers"]
    assert sorted(servers) == sorted([*OTHER_SERVERS, *names])
    assert len(backups(config)) == len(names)


def test_a_file_changed_during_the_update_is_not_overwritten(cfg: Path) -> None:
    """The client saving its settings between our read and our replace: we write nothing."""
    config = cfg / "mcp.json"
    write_existing(config)
    config.chmod(0o644)
    read, old_data, old_st = clientconfig.read_config(config)
    merged, _ = clientconfig.merge_entry(read, "futu", {"command": "x"})
    saved_by_client = b'{"mcpServers": {"new": {"command": "client"}}}'
    config.write_bytes(saved_by_client)
    with pytest.raises(clientconfig.ConfigFileError, match="changed while it was being updated"):
        clientconfig.replace_config(config, merged, old_data, old_st)
    assert config.read_bytes() == saved_by_client
    assert stat.S_IMODE(config.stat().st_mode) == 0o644
    assert [p.name for p in cfg.iterdir()] == ["mcp.json"]  # no temp file
    assert backups(config) == []  # the backup made before the replace was taken back


def test_a_file_created_during_the_update_is_not_overwritten(cfg: Path) -> None:
    config = cfg / "mcp.json"
    read, old_data, old_st = clientconfig.read_config(config)
    assert (read, old_data, old_st) == ({}, None, None)
    config.write_text("{}")
    with pytest.raises(clientconfig.ConfigFileError, match="is the client running"):
        clientconfig.replace_config(config, {"mcpServers": {}}, old_data, old_st)
    assert config.read_text() == "{}"


def test_the_lock_does_not_litter_the_clients_folder(cfg: Path, isolated_home: Path) -> None:
    config = cfg / "mcp.json"
    link = cfg / "link.json"
    link.symlink_to(config)
    lock = clientconfig.lock_path(Path(os.path.realpath(link)))
    assert lock == clientconfig.lock_path(config)
    assert lock != clientconfig.lock_path(cfg / "other.json")
    assert lock.is_relative_to(Path(os.environ["XDG_STATE_HOME"]) / "futu")
    key, _ = issued()
    install(link, key)
    assert lock.exists()
    assert sorted(p.name for p in cfg.iterdir()) == ["link.json", "mcp.json"]


# --- VS Code: "servers" and "inputs", the key typed into VS Code's own prompt -------------------

VSCODE_OTHER_INPUTS = [
    {"type": "promptString", "id": "gh-token", "description": "GitHub", "password": True},
    "not an object, kept as it is",
]


def vscode_snippet(*args: str) -> dict:
    """The printed VS Code config; a key in the environment must not show up anywhere in it."""
    key, _ = generate_token()
    done = run_mcp_config("--client", "vscode", *args, env_key=key)
    assert done.returncode == 0, done.stderr
    assert key not in done.stdout + done.stderr
    assert "fc_" not in done.stdout.replace("the fc_... line", "")
    return json.loads(done.stdout)


def prompted_input(config: dict, reference: str) -> dict:
    """The one input a `${input:ID}` reference names: what VS Code prompts with."""
    assert reference.startswith("${input:") and reference.endswith("}")
    [found] = [i for i in config["inputs"] if isinstance(i, dict) and i["id"] == reference[8:-1]]
    return found


def install_vscode(project: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """Install into VS Code's file from `project`, with a key in the environment to show that
    the key is not what gets written."""
    key, _ = generate_token()
    done = run_mcp_config("--client", "vscode", "--install", *args, env_key=key, cwd=project)
    assert done.returncode == expect, done.stdout + done.stderr
    assert key not in done.stdout + done.stderr
    for written in project.rglob("*"):
        assert not written.is_file() or key.encode() not in written.read_bytes()
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A workspace folder, the current directory of `mcp-config --client vscode --install`."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def write_vscode_existing(project: Path, inputs: list[object]) -> Path:
    config = project / ".vscode" / "mcp.json"
    config.parent.mkdir()
    text = json.dumps({**EXTRA_TOP_LEVEL, "servers": OTHER_SERVERS, "inputs": inputs}, indent=4)
    config.write_text(text)
    return config


def test_vscode_snippet_names_an_input_instead_of_the_key() -> None:
    config = vscode_snippet("--gateway", "127.0.0.1:22222")
    assert list(config) == ["servers", "inputs"]
    entry = config["servers"]["futu"]
    assert entry["type"] == "stdio"
    assert Path(entry["command"]) == Path(console_script("futu-mcp")).resolve()
    assert Path(entry["command"]).is_absolute()
    assert entry["args"][:4] == [
        "--gateway",
        "127.0.0.1:22222",
        "--keys-file",
        os.environ["FUTU_KEYS_FILE"],
    ]
    assert list(entry["env"]) == ["FUTU_MCP_API_KEY"]
    prompt = prompted_input(config, entry["env"]["FUTU_MCP_API_KEY"])
    assert prompt["type"] == "promptString" and prompt["password"] is True


def test_vscode_http_snippet_puts_the_input_in_the_bearer_header() -> None:
    config = vscode_snippet("--url", "https://mcp.example.com/mcp", "--name", "desk")
    entry = config["servers"]["desk"]
    assert set(entry) == {"type", "url", "headers"}
    assert (entry["type"], entry["url"]) == ("http", "https://mcp.example.com/mcp")
    scheme, reference = entry["headers"]["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert prompted_input(config, reference)["password"] is True


def test_vscode_servers_of_different_names_get_different_prompts() -> None:
    """Two futu servers (two keys, e.g. read-only and trading) must not share one prompt."""
    first = vscode_snippet("--name", "futu-read")
    second = vscode_snippet("--name", "futu-trade")
    assert first["inputs"][0]["id"] != second["inputs"][0]["id"]


def test_vscode_install_writes_the_workspace_file(project: Path, isolated_home: Path) -> None:
    issued()
    done = install_vscode(project)
    config = project / ".vscode" / "mcp.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    written = json.loads(config.read_text())
    entry = written["servers"]["futu"]
    prompted_input(written, entry["env"]["FUTU_MCP_API_KEY"])
    assert f"created {config} (mode 0600, readable by you only)" in done.stdout
    assert f"open {project} in VS Code" in done.stdout
    assert "holds the key" not in done.stdout
    # Nothing in the user's VS Code folder, and no other file in the project.
    assert not (isolated_home / ".config" / "Code").exists()
    assert [p.relative_to(project) for p in project.rglob("*")] == [
        Path(".vscode"),
        Path(".vscode/mcp.json"),
    ]


def test_vscode_install_keeps_other_servers_inputs_and_settings(project: Path) -> None:
    issued()
    config = write_vscode_existing(project, VSCODE_OTHER_INPUTS)
    old = config.read_bytes()
    done = install_vscode(project, "--gateway", "127.0.0.1:22222")
    merged = json.loads(config.read_text())
    assert {k: v for k, v in merged.items() if k not in ("servers", "inputs")} == EXTRA_TOP_LEVEL
    assert list(merged["servers"]) == [*OTHER_SERVERS, "futu"]
    assert {k: v for k, v in merged["servers"].items() if k != "futu"} == OTHER_SERVERS
    assert merged["inputs"][:2] == VSCODE_OTHER_INPUTS
    assert len(merged["inputs"]) == 3
    futu = merged["servers"]["futu"]
    assert futu["args"][:2] == ["--gateway", "127.0.0.1:22222"]
    assert prompted_input(merged, futu["env"]["FUTU_MCP_API_KEY"]) == merged["inputs"][2]
    [backup] = backups(config)
    assert backup.read_bytes() == old
    assert "mcpServers" not in merged
    assert "tightened" in done.stdout and "no key was written" in done.stdout


def test_vscode_rerun_replaces_only_its_server_and_its_input(project: Path) -> None:
    issued()
    ours = {"type": "promptString", "id": "futu-api-key", "description": "old", "password": False}
    config = write_vscode_existing(project, [VSCODE_OTHER_INPUTS[0], ours, VSCODE_OTHER_INPUTS[1]])
    install_vscode(project, "--gateway", "127.0.0.1:1111")
    done = install_vscode(project, "--gateway", "127.0.0.1:2222")
    merged = json.loads(config.read_text())
    assert list(merged["servers"]) == [*OTHER_SERVERS, "futu"]
    assert {k: v for k, v in merged["servers"].items() if k != "futu"} == OTHER_SERVERS
    assert merged["servers"]["futu"]["args"][1] == "127.0.0.1:2222"
    # Replaced where it was, once; the inputs around it untouched.
    assert merged["inputs"][0] == VSCODE_OTHER_INPUTS[0]
    assert merged["inputs"][2] == VSCODE_OTHER_INPUTS[1]
    assert len(merged["inputs"]) == 3
    assert merged["inputs"][1]["id"] == "futu-api-key"
    assert merged["inputs"][1]["password"] is True
    assert 'replaced the existing "futu" entry (fields: type, command, args, env;' in done.stdout
    assert "127.0.0.1:1111" not in done.stdout
    assert len(backups(config)) == 2


def test_vscode_install_of_an_http_entry_into_the_user_file(cfg: Path) -> None:
    """An http entry needs no keys.json here (the running server has its own)."""
    config = cfg / "Code" / "User" / "mcp.json"
    done = install_vscode(cfg, "--url", "http://127.0.0.1:40000/mcp", "--config-file", str(config))
    written = json.loads(config.read_text())
    entry = written["servers"]["futu"]
    assert entry["url"] == "http://127.0.0.1:40000/mcp"
    prompted_input(written, entry["headers"]["Authorization"].removeprefix("Bearer "))
    assert "reload the VS Code window" in done.stdout


@pytest.mark.parametrize(
    ("content", "wanted"),
    [
        ('{"servers": []}', '"servers" is not an object'),
        ('{"servers": {}, "inputs": {}}', '"inputs" is not a list'),
        (
            '{"inputs": [{"id": "futu-api-key"}, {"id": "gh"}, {"id": "futu-api-key"}]}',
            'the input id "futu-api-key" appears 2 times',
        ),
        ('{\n  // mine\n  "servers": {}\n}', "(a comment"),
    ],
)
def test_vscode_install_refuses_a_file_it_cannot_merge(
    content: str, wanted: str, project: Path
) -> None:
    issued()
    config = project / ".vscode" / "mcp.json"
    config.parent.mkdir()
    config.write_text(content)
    done = install_vscode(project, expect=1)
    assert wanted in done.stderr and "Nothing was changed" in done.stderr
    assert "NOT installed" not in done.stderr  # no key was read, so none is lost
    assert config.read_text() == content
    assert [p.name for p in config.parent.iterdir()] == ["mcp.json"]


def test_vscode_install_refuses_a_keys_file_futu_mcp_could_not_use(project: Path) -> None:
    done = install_vscode(project, expect=1)
    assert f"keys file not found: {os.environ['FUTU_KEYS_FILE']}" in done.stderr
    assert "futu-mcp would stop at the client's start" in done.stderr
    assert list(project.iterdir()) == []


def vscode_with_stdin(project: Path, stdin: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script("futucli"), "mcp-config", "--client", "vscode", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=project,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="the check is POSIX-only")
@pytest.mark.parametrize("args", [["--install"], []])
def test_vscode_refuses_a_key_piped_in_without_key_stdin(args: list[str], project: Path) -> None:
    """`gen-key | mcp-config --client vscode --install`: the key would be lost unseen while VS
    Code asks for it later, so the pipe is refused and the key's fate explained."""
    issued()
    key, _ = generate_token()
    read_end, write_end = os.pipe()
    os.write(write_end, (key + "\n").encode())
    os.close(write_end)
    try:
        done = vscode_with_stdin(project, read_end, *args)
    finally:
        os.close(read_end)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "a key was piped into standard input, but --client vscode does not read it" in (
        done.stderr
    )
    assert "`futucli rotate-key ID` gives it a new secret" in done.stderr
    assert "`futucli revoke-key ID` ends it" in done.stderr
    assert key not in done.stdout + done.stderr
    assert done.stdout == ""
    assert list(project.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="the check is POSIX-only")
def test_the_gen_key_pipeline_into_vscode_is_refused(project: Path) -> None:
    """The pipeline as a person types it: gen-key prints only after hashing, so the check must
    wait for the pipe, not just look at it."""
    issued()
    done = subprocess.run(
        f"{console_script('futucli')} gen-key --id vs --scopes qot:read | "
        f"{console_script('futucli')} mcp-config --client vscode --install",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=project,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "a key was piped into standard input, but --client vscode does not read it" in (
        done.stderr
    )
    assert not (project / ".vscode").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="the check is POSIX-only")
def test_vscode_install_with_an_open_pipe_that_holds_nothing_goes_ahead(
    project: Path,
) -> None:
    """A pipe that stays open and empty is nothing piped: after the short wait, the install
    goes ahead."""
    issued()
    read_end, write_end = os.pipe()
    try:
        done = vscode_with_stdin(project, read_end, "--install")
    finally:
        os.close(read_end)
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert (project / ".vscode" / "mcp.json").is_file()


def test_vscode_install_from_the_home_folder_is_refused(isolated_home: Path) -> None:
    """~/.vscode is VS Code's extensions folder, not a workspace's settings."""
    issued()
    before = sorted(isolated_home.rglob("*"))
    done = install_vscode(isolated_home, expect=2)
    assert "~/.vscode is VS Code's extensions folder" in done.stderr
    assert "Run the command in the project folder, or give --config-file" in done.stderr
    assert "~/.config/Code/User/mcp.json on Linux" in done.stderr
    assert "%APPDATA%\\Code\\User\\mcp.json on Windows" in done.stderr
    assert sorted(isolated_home.rglob("*")) == before
    user_file = isolated_home / ".config" / "Code" / "User" / "mcp.json"
    install_vscode(isolated_home, "--config-file", str(user_file))
    assert "futu" in json.loads(user_file.read_text())["servers"]


def test_merge_of_inputs_by_id() -> None:
    config = {"servers": {"x": {}}, "inputs": [{"id": "a"}, 7, {"id": "futu-api-key", "v": 1}]}
    new = {"id": "futu-api-key", "v": 2}
    merged, replaced = clientconfig.merge_entry(
        config, "futu", {"command": "c"}, servers_key="servers", inputs=[new, {"id": "b"}]
    )
    assert replaced is None
    assert merged["inputs"] == [{"id": "a"}, 7, new, {"id": "b"}]
    assert list(merged["servers"]) == ["x", "futu"]
    assert "mcpServers" not in merged
    assert config["inputs"][2] == {"id": "futu-api-key", "v": 1}
