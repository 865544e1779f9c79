"""`futucli mcp-config`: the client config that connects an MCP client to futu-mcp.

Most first-run failures of peer servers are client-config mistakes ("command not found" because
a GUI client does not see the virtualenv's PATH, keys pasted into the wrong place, a trailing
comma), so the snippet uses the absolute path of this installation's `futu-mcp` and of
keys.json (a GUI client inherits neither the shell's PATH nor its FUTU_KEYS_FILE), and
`--install` writes it into the client's file for the user.

Decisions beyond the contract:
- The key never comes from a flag value (it would show in the process list): `--key-stdin`
  (a hidden prompt at a terminal), else the variable `--key-env` names (default
  FUTU_MCP_API_KEY). Printing without a key prints a placeholder; installing without a key is
  refused (exit 2), because a config holding a placeholder fails only when the client starts
  the server, where a newcomer does not look. A key that fails the format or checksum check is
  a warning when printing and a refusal when installing, for the same reason.
- What would make the installed server exit at the client's start is refused for the same
  reason: a `--gateway` futu-mcp's own parser rejects (a usage error, exit 2, printing too)
  and, with `--install` (exit 1), a keys.json that is missing or unusable or does not hold the
  key's kid (`gen-key --keys-file X | mcp-config --install` without the same `--keys-file`),
  or holds it revoked or expired (the fix is a new key: rotate-key does not revive either).
  The kid lookup is a plain read of keys.json, never a hash.
- In the recommended pipe, `futucli gen-key ... | futucli mcp-config --install --key-stdin`,
  the key exists before mcp-config reads the client's file, and standard input cannot be read
  twice; re-running the same pipe fails on gen-key's duplicate id. So when an install fails
  after reading the key from standard input, the error says that key fc_<kid>_… was NOT
  installed and gives the re-run that works (`futucli rotate-key ID | ...`: a new secret for
  the same key) or the revoke, never "Nothing was changed" alone. Checking the client's file
  before reading stdin would not help: gen-key has already run by then.
- A re-run replaces the entry of the same `--name` without `--force`: that is what re-running
  wants; what was replaced is described without its values and the old file is in the backup.
- How the client's file is merged and written (refusals, 0600, backup, lock, symlinks) is
  futucli/clientconfig.py's job.
- `--name` is limited to letters, digits, `.`, `_` and `-`: it is a key in the client's
  config, a YAML scalar for Continue and, for Continue's install, a file name.
- For Continue, printing gives the YAML block for config.yaml, while `--install` writes
  `~/.continue/mcpServers/<name>.json` in the Claude Desktop format, which Continue loads too.
- `--url` belongs to `--client http` and `--client vscode` (an http entry) only, `--gateway`,
  `--keys-file` and `--audit-log` to the stdio entries only; mixing them is a usage error, so
  nobody believes a flag took effect when it did not.

VS Code (GitHub Copilot agent mode), `--client vscode`:
- Its mcp.json keeps the servers under `"servers"` (each with `"type": "stdio"`, or `"http"`
  with `"url"` and `"headers"`) beside an `"inputs"` list. The key is never written: the entry
  says `${input:NAME-api-key}` and the input is a `promptString` with `"password": true`, so
  VS Code asks for the key (hidden) when it first starts the server and keeps it in its own
  secret storage. The file then holds no secret (only this machine's paths), which is what
  makes a workspace file fit to commit.
- So no key is read for vscode: `--key-stdin` and `--key-env` are usage errors (exit 2),
  rather than flags that silently do nothing, and FUTU_MCP_API_KEY is not looked at. Standard
  input that is not a terminal and already holds data (`gen-key | mcp-config --client vscode`)
  is refused the same way, so the key gen-key printed is not lost unseen; that check never
  waits (a writer that has not written yet goes unnoticed) and is skipped on Windows. Both
  errors say to rotate or revoke that key. Writing the
  key into the file (as for the other clients) is not offered: the default file is a project
  file people commit, and VS Code's prompt keeps the key out of every file.
- `--install` writes the workspace file `.vscode/mcp.json` under the current directory by
  default, not the user-level mcp.json: that path is the same on every OS, while the user file
  moves with the OS, the VS Code flavour (Insiders, VSCodium), the profile
  (`User/profiles/<id>/mcp.json`) and remote hosts, and a guessed path VS Code does not read
  fails only when the user looks for the tools. It also keeps brokerage tools out of the
  other workspaces the agent works in. Run from the home folder, that default would be
  `~/.vscode/mcp.json`, inside VS Code's extensions folder, so it is a usage error there
  (exit 2) asking for the project folder or --config-file. The user-level file is one `--config-file` away
  (Linux `~/.config/Code/User/mcp.json`, macOS `~/Library/Application Support/Code/User/mcp.json`,
  Windows `%APPDATA%\\Code\\User\\mcp.json`).
- An input with the same id is replaced (a re-run), other inputs and servers stay. Installing
  still refuses a keys.json futu-mcp could not use, since that fails at VS Code's start; whether
  it holds the key cannot be checked, as the key is typed into VS Code later.
- With `--url`, the entry is VS Code's http form with `"Authorization": "Bearer ${input:...}"`.
"""

import getpass
import json
import os
import re
import select
import shlex
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import typer

from futucli import clientconfig

if TYPE_CHECKING:
    from keystore.records import KeyRecord

PLACEHOLDER = "<paste the key printed by futucli gen-key>"
DEFAULT_GATEWAY = "127.0.0.1:11111"
DEFAULT_URL = "http://127.0.0.1:38765/mcp"
DEFAULT_KEY_ENV = "FUTU_MCP_API_KEY"
SERVER_KEY_ENV = "FUTU_MCP_API_KEY"  # what futu-mcp itself reads on stdio, whatever --key-env says
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# How long --client vscode waits for a pipe on standard input to say whether a key came in
# (gen-key hashes for a fraction of a second before it prints).
PIPE_WAIT_S = 2.0
VSCODE_USER_FILES = (
    "~/.config/Code/User/mcp.json on Linux, ~/Library/Application Support/Code/User/mcp.json on "
    "macOS, %APPDATA%\\Code\\User\\mcp.json on Windows"
)
# What becomes of a key gen-key printed into a pipe whose reader is --client vscode.
PIPED_KEY_ADVICE = (
    "If futucli gen-key printed a key into this pipe, it was not read: `futucli rotate-key ID` "
    "gives it a new secret to paste into VS Code, `futucli revoke-key ID` ends it."
)


class ClientKind(StrEnum):
    """MCP clients whose configuration format the snippet follows."""

    claude = "claude"
    cursor = "cursor"
    continue_ = "continue"
    vscode = "vscode"
    http = "http"


CLIENT_NAMES = {
    ClientKind.claude: "Claude Desktop",
    ClientKind.cursor: "Cursor",
    ClientKind.continue_: "Continue (reload the editor window)",
    ClientKind.http: "the MCP client that reads it",
}


def futu_mcp_command() -> str:
    """Absolute path of the futu-mcp script next to the running futucli."""
    name = "futu-mcp.exe" if sys.platform == "win32" else "futu-mcp"
    return str(Path(sys.argv[0]).resolve().parent / name)


def stdio_entry(
    command: str,
    gateway: str,
    keys_file: str | None,
    key: str,
    audit_log: str | None = None,
    toolsets: str | None = None,
) -> dict[str, object]:
    """The server entry of a stdio client config."""
    args = ["--gateway", gateway]
    if keys_file:
        args += ["--keys-file", keys_file]
    if audit_log:
        args += ["--audit-log", audit_log]
    if toolsets:
        args += ["--toolsets", toolsets]
    return {"command": command, "args": args, "env": {SERVER_KEY_ENV: key}}


def http_entry(url: str, key: str) -> dict[str, object]:
    """The server entry for a futu-mcp already running with --http-listen."""
    return {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {key}"}}


def key_input(name: str) -> dict[str, object]:
    """VS Code's hidden prompt for server `name`'s key; one per server name, so two servers never
    share a key by accident."""
    return {
        "type": "promptString",
        "id": f"{name}-api-key",
        "description": f"futu-mcp API key for server {name} (the fc_... line futucli gen-key "
        "printed)",
        "password": True,
    }


def key_reference(name: str) -> str:
    """What stands for the key in a VS Code entry: the value typed at key_input(name)'s prompt."""
    return "${input:" + str(key_input(name)["id"]) + "}"


def vscode_entry(entry: dict[str, object]) -> dict[str, object]:
    """`entry` as VS Code wants it: a stdio entry gains `"type": "stdio"`, first."""
    return entry if "type" in entry else {"type": "stdio", **entry}


def render(client: ClientKind, name: str, entry: dict[str, object]) -> str:
    """The snippet as the client's config file wants it."""
    if client is ClientKind.vscode:
        return json.dumps({"servers": {name: entry}, "inputs": [key_input(name)]}, indent=2)
    if client is ClientKind.continue_:
        lines = ["mcpServers:", f"  - name: {name}"]
        for field, value in entry.items():
            if isinstance(value, dict):
                lines.append(f"    {field}:")
                lines += [f"      {k}: {json.dumps(v)}" for k, v in value.items()]
            else:
                lines.append(f"    {field}: {json.dumps(value)}")
        return "\n".join(lines)
    return json.dumps({"mcpServers": {name: entry}}, indent=2)


def default_config_file(client: ClientKind, name: str) -> Path | None:
    """The file `--install` edits when no --config-file is given; None for HTTP (no one file).
    For VS Code, the workspace file of the current directory (see the module docstring)."""
    # Claude Desktop keeps its file in the platform config folder, the one keys.json defaults to.
    from keystore.paths import config_dir

    home = Path.home()
    if client is ClientKind.claude:
        return config_dir() / "Claude" / "claude_desktop_config.json"
    if client is ClientKind.cursor:
        return home / ".cursor" / "mcp.json"
    if client is ClientKind.continue_:
        return home / ".continue" / "mcpServers" / f"{name}.json"
    if client is ClientKind.vscode:
        return Path.cwd() / ".vscode" / "mcp.json"
    return None


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def _read_key(key_stdin: bool, key_env: str) -> tuple[str | None, str]:
    """The key and where it came from; None when there is none."""
    if key_stdin:
        if sys.stdin.isatty():
            key = getpass.getpass("futu-mcp API key (input hidden): ")
        else:
            key = sys.stdin.readline()
        return key.strip() or None, "standard input"
    return os.environ.get(key_env, "").strip() or None, key_env


def _nothing_from(source: str) -> str:
    return "standard input is empty" if source == "standard input" else f"{source} is not set"


def _refuse_key_flags(key_stdin: bool, key_env: str | None) -> None:
    """Exit 2 when a key flag is given for VS Code, which is never given the key."""
    flag = "--key-stdin" if key_stdin else "--key-env" if key_env is not None else None
    if flag is None:
        return
    piped = f" {PIPED_KEY_ADVICE}" if key_stdin else ""
    _fail(
        f"{flag} does not apply to --client vscode: VS Code asks for the key itself (a hidden "
        "prompt when it first starts the server) and keeps it in its secret storage, so the key "
        f"is never written to mcp.json. Run the command without {flag}.{piped}",
        2,
    )


def _stdin_holds_data() -> bool:
    """True when standard input is not a terminal and holds bytes (a key piped in).

    A pipe's writer may still be busy (`futucli gen-key` hashes the key before it prints it),
    so a pipe is given up to PIPE_WAIT_S to deliver data or close; a file or an empty, closed
    pipe answers at once, a terminal is never read. Not checked on Windows, whose select()
    takes sockets only.
    """
    if sys.platform == "win32" or sys.stdin is None:
        return False
    try:
        if sys.stdin.isatty():
            return False
        is_pipe = stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode)
        ready, _, _ = select.select([sys.stdin], [], [], PIPE_WAIT_S if is_pipe else 0)
        return bool(ready) and os.read(sys.stdin.fileno(), 1) != b""
    except (OSError, ValueError):  # closed or not a real file: nothing can have been piped
        return False


def _refuse_piped_key() -> None:
    """Exit 2 when something was piped into --client vscode, which reads no key: the key
    gen-key printed into the pipe would be lost unseen while VS Code later asks for it."""
    if _stdin_holds_data():
        _fail(
            "a key was piped into standard input, but --client vscode does not read it: VS "
            "Code's entry never holds the key, VS Code asks for it (a hidden prompt when it first "
            "starts the server) and keeps it in its secret storage. Run the command without the "
            f"pipe. {PIPED_KEY_ADVICE}",
            2,
        )


def _refuse_home_workspace() -> None:
    """Exit 2 when the default vscode target would be ~/.vscode/mcp.json: that folder holds VS
    Code's extensions, and VS Code reads an mcp.json there only for a workspace opened at ~."""
    if Path.cwd().resolve() == Path.home().resolve():
        _fail(
            "--client vscode --install writes .vscode/mcp.json under the current folder, which is "
            "your home folder: ~/.vscode is VS Code's extensions folder, not a place VS Code "
            "reads mcp.json from. Run the command in the project folder, or give --config-file "
            f"with the user-level mcp.json: {VSCODE_USER_FILES}.",
            2,
        )


def _key(install_it: bool, key_stdin: bool, key_env: str | None) -> str | None:
    """The key to write (None: print the placeholder); exits 2 when installing without a valid
    key, and warns when printing without one."""
    key, source = _read_key(key_stdin, key_env or DEFAULT_KEY_ENV)
    if key is None:
        if install_it:
            _fail(
                f"no API key to install: {_nothing_from(source)}"
                + ("" if key_stdin else " and --key-stdin was not given")
                + ". Pipe the key in, e.g. `futucli gen-key --id claude | futucli mcp-config "
                "--install --key-stdin` (for a key that exists already, `futucli rotate-key "
                "claude | ...` gives it a new secret), or leave out --install to print the "
                "snippet with a placeholder to paste the key into.",
                2,
            )
        _warn(
            f"no API key ({_nothing_from(source)}): paste the key futucli gen-key printed in "
            "place of the placeholder, or re-run with --key-stdin."
        )
        return None
    problem = _key_problem(key)
    if problem and install_it:
        _fail(
            f"the key from {source} is not a futu-mcp API key: {problem}. Give the whole "
            "fc_... line futucli gen-key printed. Nothing was changed.",
            2,
        )
    if problem:
        _warn(
            f"the key from {source} is not a futu-mcp API key: {problem}. The client will "
            "be refused until you paste the whole fc_... line futucli gen-key printed."
        )
    return key


def _key_problem(key: str) -> str | None:
    """Why `key` cannot be a futu-mcp key (format and checksum only, never the store)."""
    from keystore.errors import Unauthorized
    from keystore.tokens import parse_token

    try:
        parse_token(key)
    except Unauthorized as exc:
        if exc.reason == "checksum":
            return "its checksum does not match: a character was mistyped or cut off"
        return "it does not have the fc_<kid>_<secret> form"
    return None


def _redacted(key: str) -> str:
    """The key as it may be shown: the public kid at most."""
    from keystore.tokens import parse_token

    kid = parse_token(key).kid
    return f"fc_{kid}_…" if kid else "fc_…"


def _check_gateway(gateway: str) -> None:
    """Refuse (exit 2) an address futu-mcp itself would refuse at the client's start."""
    from futu_mcp.config import ConfigError, split_host_port

    try:
        split_host_port(gateway)
    except ConfigError as exc:
        _fail(
            f"--gateway: {exc}; futu-mcp would not start with it. Give OpenD's address as "
            f"HOST:PORT, e.g. {DEFAULT_GATEWAY}",
            2,
        )


_KEYS_FILE_SOURCES = {
    "flag": "given with --keys-file",
    "env": "from $FUTU_KEYS_FILE",
    "default": "the default location",
}


@dataclass(frozen=True)
class _Install:
    """An install under way: how to refuse it so that a key read from stdin is not lost unseen."""

    key: str
    from_stdin: bool
    # mcp-config's own flags as given, without --keys-file, --install and --key-stdin.
    flags: tuple[str, ...]
    keys_file: str | None

    def refuse(
        self, message: str, key_id: str | None = None, keys_file: str | None = None
    ) -> NoReturn:
        """Exit 1 with `message`; after --key-stdin, also say the key is NOT installed and how to
        re-run (rotate-key with the same --keys-file, `keys_file` overriding it) or revoke it."""
        if not self.from_stdin:
            _fail(message, 1)
        keys_file = keys_file or self.keys_file
        with_file = f" --keys-file {shlex.quote(keys_file)}" if keys_file else ""
        who = shlex.quote(key_id) if key_id else "<id>"
        rerun = (
            f"futucli rotate-key {who}{with_file} | futucli mcp-config {shlex.join(self.flags)}"
            f"{with_file} --install --key-stdin"
        )
        _fail(
            f"{message} The key {_redacted(self.key)} read from standard input was NOT "
            "installed. If futucli gen-key printed it, that key now exists unused: once the "
            f"problem is fixed, run `{rerun}` (rotate-key gives the key a new secret; the one "
            f"read here then stops working), or revoke it with `futucli revoke-key {who}"
            f"{with_file}`.",
            1,
        )


def _find_record(keys_path: Path, key: str) -> "KeyRecord | None":
    """The record of `key` in keys.json by its kid (a plain read, no hash); None when the file
    does not hold it or the key is a legacy one, which names no kid. Raises KeysFileError."""
    from keystore.store import read_keys_file
    from keystore.tokens import parse_token

    kid = parse_token(key).kid
    records = read_keys_file(keys_path).records
    return next((r for r in records if kid is not None and r.kid == kid), None)


def _issued_key_id(install: _Install) -> str | None:
    """The id of the key in the keys.json the installed futu-mcp will read; refuses the install
    when that file is unusable or does not hold the key (futu-mcp would refuse it at start)."""
    from keystore.errors import KeysFileError
    from keystore.paths import locate_keys_file
    from keystore.tokens import parse_token

    where = locate_keys_file(install.keys_file)
    try:
        record = _find_record(where.path, install.key)
    except KeysFileError as exc:
        install.refuse(
            f"{exc}. The installed futu-mcp would stop at the client's start. Nothing was changed."
        )
    if record is None and parse_token(install.key).kid is not None:
        shown = f"{os.path.abspath(where.path)} ({_KEYS_FILE_SOURCES[where.source]})"
        install.refuse(
            f"the key {_redacted(install.key)} is not in {shown}, "
            "the keys file the installed futu-mcp would read, so it would refuse the key. If "
            "futucli gen-key wrote the key to another file with --keys-file, give mcp-config "
            "the same --keys-file. Nothing was changed.",
            keys_file="FILE",
        )
    if record is not None and record.status() != "active":
        _refuse_dead_key(install, record, where.path)
    return None if record is None else record.id


def _refuse_dead_key(install: _Install, record: "KeyRecord", keys_path: Path) -> NoReturn:
    """Exit 1: a revoked or expired key would be refused by the installed futu-mcp at the
    client's start. Rotation does not bring it back, so the fix is a new key (gen-key)."""
    from keystore.records import format_time

    status = record.status()
    when = record.revoked_at if status == "revoked" else record.expires_at
    assert when is not None
    with_file = f" --keys-file {shlex.quote(install.keys_file)}" if install.keys_file else ""
    _fail(
        f"the key {record.id} ({_redacted(install.key)}) in {os.path.abspath(keys_path)} is "
        f"{status} (since {format_time(when)}): the installed futu-mcp would refuse it at the "
        "client's start. Nothing was changed. Create a new key and install it: "
        f"`futucli gen-key --id NEW_ID{with_file} | futucli mcp-config "
        f"{shlex.join(install.flags)}{with_file} --install --key-stdin`.",
        1,
    )


def _install_entry(
    target: Path,
    name: str,
    entry: dict[str, object],
    refuse: Callable[[str], NoReturn],
    vscode: bool = False,
) -> list[str]:
    """clientconfig.install, with what it refuses passed to `refuse` (which exits) as one message:
    `install.refuse` when a key read here could be lost, a plain exit 1 for VS Code."""
    try:
        if vscode:
            return clientconfig.install(
                target,
                name,
                entry,
                servers_key="servers",
                inputs=[key_input(name)],
                holds_key=False,
            )
        return clientconfig.install(target, name, entry)
    except clientconfig.ConfigFileError as exc:
        refuse(str(exc))
    except OSError as exc:
        refuse(
            f"cannot update {target}: {exc.strerror or exc}. Nothing was changed. Fix the "
            "permissions (or give another --config-file) and run the command again."
        )


def _check_keys_file_usable(keys_file: str | None) -> None:
    """Refuse (exit 1) an install whose keys.json futu-mcp could not use at the client's start,
    when the key itself is not known here (VS Code asks for it later)."""
    from keystore.errors import KeysFileError
    from keystore.paths import locate_keys_file
    from keystore.store import read_keys_file

    try:
        read_keys_file(locate_keys_file(keys_file).path)
    except KeysFileError as exc:
        _fail(
            f"{exc}. The installed futu-mcp would stop at the client's start. Nothing was changed.",
            1,
        )


def _key_id_for_message(key: str) -> str | None:
    """The key's id in the default keys.json, for a message only (None when not found there)."""
    from keystore.errors import KeystoreError
    from keystore.paths import resolve_keys_file

    try:
        record = _find_record(resolve_keys_file(), key)
    except (KeystoreError, OSError):
        return None
    return None if record is None else record.id


def _checked_toolsets(text: str) -> str:
    """`--toolsets` as futu-mcp will read it, or a usage error naming the valid sets: a typo
    would otherwise stop the client's server at every start."""
    from futu_mcp.tools.registry import parse_toolsets

    try:
        parse_toolsets(text)
    except ValueError as exc:
        _fail(f"--toolsets: {exc}", 2)
    return ",".join(part.strip() for part in text.split(",") if part.strip())


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _fail(
            f"--url {url!r} is not an http(s) URL. Give the address futu-mcp --http-listen "
            f"serves, e.g. {DEFAULT_URL}",
            2,
        )
    from futu_mcp.config import is_loopback

    if parts.scheme == "http" and not is_loopback(parts.hostname):
        _warn(
            f"{url} is plain HTTP to another host: the key would cross the network unencrypted. "
            "Use https:// (a TLS proxy in front of futu-mcp) or an SSH tunnel to 127.0.0.1."
        )


def mcp_config(
    client: ClientKind = typer.Option(
        ClientKind.claude,
        "--client",
        help="Config to produce: claude (Claude Desktop), cursor, continue, vscode (VS Code's "
        "mcp.json; VS Code asks for the key), or http (a futu-mcp already running with "
        "--http-listen).",
    ),
    gateway: str | None = typer.Option(
        None,
        "--gateway",
        help=f"OpenD address futu-mcp connects to. Default {DEFAULT_GATEWAY}. Not with http "
        "or vscode --url.",
        show_default=False,
    ),
    keys_file: str | None = typer.Option(
        None,
        "--keys-file",
        help="keys.json futu-mcp should read, written as an absolute path. Default: "
        "$FUTU_KEYS_FILE, else ~/.config/futu/keys.json. Not with http or vscode --url.",
        show_default=False,
    ),
    audit_log: str | None = typer.Option(
        None,
        "--audit-log",
        help="Audit log futu-mcp should write, as an absolute path. Default: "
        "~/.local/state/futu/audit.jsonl, where futucli audit tail looks. Not with http or "
        "vscode --url.",
        show_default=False,
    ),
    no_audit_log: bool = typer.Option(
        False, "--no-audit-log", help="Leave the audit log out of the snippet (not recommended)."
    ),
    toolsets: str | None = typer.Option(
        None,
        "--toolsets",
        help="Tool groups futu-mcp serves, e.g. default,history,calendar (quote, account, trade, "
        "history, calendar, default, all; see futu-mcp --help). Default: futu-mcp's default. "
        "Not with http or vscode --url.",
        show_default=False,
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help=f"With --client http: the server's MCP URL. Default {DEFAULT_URL}. With --client "
        "vscode: an http entry for that URL instead of starting futu-mcp.",
        show_default=False,
    ),
    name: str = typer.Option("futu", "--name", help="Server name in the client's config."),
    key_stdin: bool = typer.Option(
        False,
        "--key-stdin",
        help="Read the API key from standard input (a hidden prompt at a terminal). Not with "
        "vscode.",
    ),
    key_env: str | None = typer.Option(
        None,
        "--key-env",
        help="Environment variable to read the API key from when --key-stdin is not given. "
        f"Default {DEFAULT_KEY_ENV}. Not with vscode.",
        show_default=False,
    ),
    install_it: bool = typer.Option(
        False,
        "--install",
        help="Merge the entry into the client's config file instead of printing it.",
    ),
    config_file: Path | None = typer.Option(
        None,
        "--config-file",
        help="File --install edits, instead of the client's default (needed for http; for "
        "vscode, e.g. the user-level ~/.config/Code/User/mcp.json).",
        show_default=False,
    ),
) -> None:
    """Print, or install, the MCP client config that starts futu-mcp with your API key.

    Prints the snippet for the client (JSON; for Continue, the YAML block for config.yaml) with the absolute path of this installation's futu-mcp, of keys.json and of the audit log. --client http prints the entry with the "Authorization: Bearer" header for a futu-mcp already running with --http-listen.

    The key comes from --key-stdin or the variable --key-env names (FUTU_MCP_API_KEY), never from a flag. Without one, a placeholder is printed.

    --install merges the entry into the client's config file instead (Claude Desktop's claude_desktop_config.json, ~/.cursor/mcp.json, ~/.continue/mcpServers/NAME.json, or --config-file): other servers and settings stay, the old file is backed up first (into ~/.local/state/futu/backups), an entry of the same name is replaced, a file that is not valid JSON is reported and left alone, the file is made readable by you only (0600), and the key is not printed. Installing needs a valid key that the keys file holds.

    --client vscode writes no key at all: the entry reads it from a VS Code input ("password": true), so VS Code asks for the key when it first starts the server and keeps it in its secret storage: the file holds no secret. --key-stdin and --key-env do not apply. --install edits .vscode/mcp.json under the current directory (the workspace); for every workspace, give --config-file with the user-level mcp.json: ~/.config/Code/User/mcp.json on Linux, ~/Library/Application Support/Code/User/mcp.json on macOS, %APPDATA%\\Code\\User\\mcp.json on Windows.
    """
    if not _NAME.fullmatch(name):
        _fail(
            f"--name {name!r}: use up to 64 letters, digits, '.', '_' and '-', starting with a "
            "letter or digit (it becomes a key in the client's config and, for Continue, a file "
            "name)",
            2,
        )
    if audit_log is not None and no_audit_log:
        _fail("--audit-log and --no-audit-log contradict each other: give one of them", 2)
    if key_env is not None and not key_env:
        _fail("--key-env needs the name of an environment variable, e.g. FUTU_MCP_API_KEY", 2)
    if client is ClientKind.vscode:
        _refuse_key_flags(key_stdin, key_env)
        _refuse_piped_key()
    flags = ["--client", client.value]
    if name != "futu":
        flags += ["--name", name]
    if toolsets is not None:
        toolsets = _checked_toolsets(toolsets)
    for flag, value in (
        ("--gateway", gateway),
        ("--audit-log", audit_log),
        ("--toolsets", toolsets),
    ):
        if value is not None:
            flags += [flag, value]
    if no_audit_log:
        flags.append("--no-audit-log")
    if config_file is not None:
        flags += ["--config-file", str(config_file)]
    remote = client is ClientKind.http or (client is ClientKind.vscode and url is not None)
    if remote:
        stdio_only = (
            ("--gateway", gateway),
            ("--keys-file", keys_file),
            ("--audit-log", audit_log),
            ("--toolsets", toolsets),
        )
        given = "--client http" if client is ClientKind.http else "--client vscode --url"
        for flag, value in stdio_only:
            if value is not None:
                _fail(
                    f"{flag} does not apply to {given}: the server is already running. "
                    f"Give {flag} to `futu-mcp --http-listen` instead, or drop it here.",
                    2,
                )
        if url is not None:
            flags += ["--url", url]
        url = url or DEFAULT_URL
        _check_url(url)
    elif url is not None:
        _fail(
            f"--url applies to --client http and vscode only; --client {client.value} starts "
            "futu-mcp itself. Drop --url, or use --client http.",
            2,
        )
    if gateway is not None:
        _check_gateway(gateway)
    if client is ClientKind.vscode and install_it and config_file is None:
        _refuse_home_workspace()
    target = config_file or default_config_file(client, name)
    if install_it and target is None:
        _fail(
            "--install --client http needs --config-file PATH: HTTP clients have no one config "
            "file (e.g. --config-file .cursor/mcp.json for a Cursor project, .mcp.json for "
            "Claude Code).",
            2,
        )

    # VS Code is given a reference to its own prompt, never the key (see the module docstring).
    key = None if client is ClientKind.vscode else _key(install_it, key_stdin, key_env)
    secret = key_reference(name) if client is ClientKind.vscode else key or PLACEHOLDER

    command_missing = None
    if remote:
        assert url is not None
        entry = http_entry(url, secret)
    else:
        from futu_mcp.audit import default_audit_path
        from keystore.paths import resolve_keys_file

        command = futu_mcp_command()
        if not Path(command).is_file():
            command_missing = (
                f"{command} does not exist. Install futu-mcp in the same environment as futucli "
                "(pip install futu-mcp) and run this command from there"
            )
            if not install_it:
                _warn(f'{command_missing}, or fix "command" in the snippet.')
        keys_path = os.path.abspath(resolve_keys_file(keys_file))
        audit_path = None if no_audit_log else os.path.abspath(audit_log or default_audit_path())
        entry = stdio_entry(
            command, gateway or DEFAULT_GATEWAY, keys_path, secret, audit_path, toolsets
        )
    if client is ClientKind.vscode:
        entry = vscode_entry(entry)

    if not install_it:
        typer.echo(render(client, name, entry))
        return
    assert target is not None
    if client is ClientKind.vscode:
        _install_vscode(target, name, entry, not remote, keys_file, command_missing)
        return
    assert key is not None
    install = _Install(key, key_stdin, tuple(flags), keys_file)
    # The keys.json of a server already running (http) is not known here: the id only helps the
    # message then. futu-mcp started by the client reads the one pinned in the entry.
    key_id = _key_id_for_message(key) if client is ClientKind.http else _issued_key_id(install)
    if command_missing:
        install.refuse(f"{command_missing}. Nothing was changed.", key_id)
    report = _install_entry(target, name, entry, partial(install.refuse, key_id=key_id))
    for line in report:
        typer.echo(line)
    client_name = CLIENT_NAMES[client]
    typer.echo(
        f'installed server "{name}" (key {_redacted(key)}) in {target}; '
        f"restart {client_name} to load it."
    )


def _install_vscode(
    target: Path,
    name: str,
    entry: dict[str, object],
    stdio: bool,
    keys_file: str | None,
    command_missing: str | None,
) -> None:
    """Merge the entry and its key prompt into VS Code's mcp.json; no key is involved, so a
    refusal is a plain exit 1. Only a stdio entry's keys.json is checked: a running server's
    (http) is not known here."""
    if stdio:
        _check_keys_file_usable(keys_file)
    if command_missing:
        _fail(f"{command_missing}. Nothing was changed.", 1)
    report = _install_entry(target, name, entry, partial(_fail, code=1), vscode=True)
    for line in report:
        typer.echo(line)
    folder = Path(os.path.abspath(target)).parent
    load = (
        f"open {folder.parent} in VS Code (or reload its window)"
        if folder.name == ".vscode"
        else "reload the VS Code window"
    )
    typer.echo(
        f'installed server "{name}" in {target}, without a key: VS Code asks for it (the fc_... '
        "line futucli gen-key printed) when it first starts the server and keeps it in its "
        f"secret storage; {load} to load it."
    )


def register(app: typer.Typer) -> None:
    """Add `mcp-config` to the futucli app."""
    app.command("mcp-config")(mcp_config)
