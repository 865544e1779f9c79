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
- `--install` never rewrites a file it cannot fully understand: invalid JSON, a top level or
  `mcpServers` that is not an object, or a key repeated in one object (the rewrite would drop
  one copy) exit 1 with nothing written. An empty file counts as `{}`.
- A re-run replaces the entry of the same `--name` without `--force`: that is what re-running
  wants, the old entry is printed (secrets hidden) and the old file is in the backup.
- A symlinked config file (dotfile managers) is written through the link, so the link stays.
- `--name` is limited to letters, digits, `.`, `_` and `-`: it is a key in the client's
  config, a YAML scalar for Continue and, for Continue's install, a file name.
- For Continue, printing gives the YAML block for config.yaml, while `--install` writes
  `~/.continue/mcpServers/<name>.json` in the Claude Desktop format, which Continue loads too.
- `--url` belongs to `--client http` only, `--gateway` and `--keys-file` to the other clients
  only; mixing them is a usage error, so nobody believes a flag took effect when it did not.
"""

import getpass
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import typer

PLACEHOLDER = "<paste the key printed by futucli gen-key>"
DEFAULT_GATEWAY = "127.0.0.1:11111"
DEFAULT_URL = "http://127.0.0.1:38765/mcp"
DEFAULT_KEY_ENV = "FUTU_MCP_API_KEY"
SERVER_KEY_ENV = "FUTU_MCP_API_KEY"  # what futu-mcp itself reads on stdio, whatever --key-env says
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ClientKind(StrEnum):
    """MCP clients whose configuration format the snippet follows."""

    claude = "claude"
    cursor = "cursor"
    continue_ = "continue"
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
    command: str, gateway: str, keys_file: str | None, key: str, audit_log: str | None = None
) -> dict[str, object]:
    """The server entry of a stdio client config."""
    args = ["--gateway", gateway]
    if keys_file:
        args += ["--keys-file", keys_file]
    if audit_log:
        args += ["--audit-log", audit_log]
    return {"command": command, "args": args, "env": {SERVER_KEY_ENV: key}}


def http_entry(url: str, key: str) -> dict[str, object]:
    """The server entry for a futu-mcp already running with --http-listen."""
    return {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {key}"}}


def render(client: ClientKind, name: str, entry: dict[str, object]) -> str:
    """The snippet as the client's config file wants it."""
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
    """The file `--install` edits when no --config-file is given; None for HTTP (no one file)."""
    # Claude Desktop keeps its file in the platform config folder, the one keys.json defaults to.
    from keystore.paths import _config_dir

    home = Path.home()
    if client is ClientKind.claude:
        return _config_dir() / "Claude" / "claude_desktop_config.json"
    if client is ClientKind.cursor:
        return home / ".cursor" / "mcp.json"
    if client is ClientKind.continue_:
        return home / ".continue" / "mcpServers" / f"{name}.json"
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


def _hide_secrets(entry: object) -> object:
    """A server entry with env and header values hidden, to show what a re-run replaced."""
    if not isinstance(entry, dict):
        return entry
    return {
        field: {k: "<hidden>" for k in value}
        if field in ("env", "headers") and isinstance(value, dict)
        else value
        for field, value in entry.items()
    }


class ConfigFileError(Exception):
    """The existing config file cannot be merged safely; the message names the file and the fix."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ConfigFileError(
                f"the name {json.dumps(key)} appears twice in one object; the client uses only "
                "one of them and rewriting the file would drop the other. Nothing was changed. "
                "Remove one copy and run the command again."
            )
        seen[key] = value
    return seen


def _reject_constant(text: str) -> object:
    raise ConfigFileError(
        f"{text} is not a JSON value. Nothing was changed. Fix the file and run the command again."
    )


def load_config(path: Path, text: str) -> dict[str, Any]:
    """The parsed config, or ConfigFileError when merging into it could lose or break anything."""
    if not text.strip():
        return {}
    try:
        config = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        hint = ""
        if text.startswith(("//", "/*"), exc.pos):
            hint = " (a comment: this command only edits plain JSON; remove the comments)"
        raise ConfigFileError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}. "
            "Nothing was changed. Fix the file (or move it aside) and run the command again."
        ) from None
    except ConfigFileError as exc:
        raise ConfigFileError(f"{path}: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigFileError(
            f"{path} holds a JSON {type(config).__name__}, not an object. Nothing was changed. "
            "Fix the file (or move it aside) and run the command again."
        )
    if not isinstance(config.get("mcpServers", {}), dict):
        raise ConfigFileError(
            f'{path}: "mcpServers" is not an object. Nothing was changed. Make it an object '
            '({"name": {...}, ...}) and run the command again.'
        )
    return config


def merge_entry(
    config: dict[str, Any], name: str, entry: dict[str, object]
) -> tuple[dict[str, Any], object | None]:
    """The config with `entry` under mcpServers[name], and the entry it replaced (None if new).

    Every other top-level key and every other server stays as it was, in its place.
    """
    merged = dict(config)
    servers = dict(merged.get("mcpServers", {}))
    replaced = servers.get(name)
    servers[name] = entry
    merged["mcpServers"] = servers
    return merged, replaced


def _backup(real: Path, data: bytes) -> Path:
    """Copy the old file beside itself, private to the user; never over an existing backup."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1000):
        candidate = real.with_name(f"{real.name}.bak-{stamp}" + (f"-{n}" if n else ""))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return candidate
    raise FileExistsError(f"{real.name}.bak-{stamp}")


def _write_atomically(real: Path, data: bytes, mode: int) -> None:
    """Replace `real` by `data` in one step: a reader sees the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name == "posix":
        dir_fd = os.open(real.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def install(path: Path, name: str, entry: dict[str, object]) -> list[str]:
    """Merge `entry` into the config at `path`; the lines that tell the user what happened.

    Raises ConfigFileError (nothing written) when the file cannot be merged, OSError when it
    cannot be read or written.
    """
    from keystore.private_files import privacy_problem

    real = Path(os.path.realpath(path))
    report: list[str] = []
    try:
        st = real.stat()
    except FileNotFoundError:
        st = None
    if st is None:
        old_data, config, mode = None, {}, 0o600
    else:
        old_data = real.read_bytes()
        try:
            text = old_data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigFileError(
                f"{path} is not UTF-8 text (byte {exc.start}). Nothing was changed. "
                "Save it as UTF-8 (or move it aside) and run the command again."
            ) from None
        config = load_config(path, text)
        mode = st.st_mode & 0o7777
    merged, replaced = merge_entry(config, name, entry)
    try:
        data = (json.dumps(merged, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()
    except ValueError:
        raise ConfigFileError(
            f"{path} holds a number too large to write back unchanged. Nothing was changed. "
            "Add the entry by hand from the snippet `futucli mcp-config` prints."
        ) from None
    if old_data is None:
        real.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_atomically(real, data, mode)
        report.append(f"created {path} (mode 0600: it holds the key)")
    else:
        report.append(f"backed up {path} to {_backup(real, old_data)}")
        _write_atomically(real, data, mode)
        problem = privacy_problem(real, real.stat())
        if problem:
            _warn(f"{problem} (it now holds your API key)")
    if replaced is not None:
        report.append(
            f'replaced the existing "{name}" entry, which was: '
            f"{json.dumps(_hide_secrets(replaced), ensure_ascii=False)}"
        )
    return report


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _fail(
            f"--url {url!r} is not an http(s) URL. Give the address futu-mcp --http-listen "
            f"serves, e.g. {DEFAULT_URL}",
            2,
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        _warn(
            f"{url} is plain HTTP to another host: the key would cross the network unencrypted. "
            "Use https:// (a TLS proxy in front of futu-mcp) or an SSH tunnel to 127.0.0.1."
        )


def mcp_config(
    client: ClientKind = typer.Option(
        ClientKind.claude,
        "--client",
        help="Config to produce: claude (Claude Desktop), cursor, continue, or http "
        "(a futu-mcp already running with --http-listen).",
    ),
    gateway: str | None = typer.Option(
        None,
        "--gateway",
        help=f"OpenD address futu-mcp connects to. Default {DEFAULT_GATEWAY}. Not with http.",
        show_default=False,
    ),
    keys_file: str | None = typer.Option(
        None,
        "--keys-file",
        help="keys.json futu-mcp should read, written as an absolute path. Default: "
        "$FUTU_KEYS_FILE, else ~/.config/futu/keys.json. Not with http.",
        show_default=False,
    ),
    audit_log: str | None = typer.Option(
        None,
        "--audit-log",
        help="Audit log futu-mcp should write, as an absolute path. Default: "
        "~/.local/state/futu/audit.jsonl, where futucli audit tail looks. Not with http.",
        show_default=False,
    ),
    no_audit_log: bool = typer.Option(
        False, "--no-audit-log", help="Leave the audit log out of the snippet (not recommended)."
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help=f"With --client http: the server's MCP URL. Default {DEFAULT_URL}.",
        show_default=False,
    ),
    name: str = typer.Option("futu", "--name", help="Server name in the client's config."),
    key_stdin: bool = typer.Option(
        False,
        "--key-stdin",
        help="Read the API key from standard input (a hidden prompt at a terminal).",
    ),
    key_env: str = typer.Option(
        DEFAULT_KEY_ENV,
        "--key-env",
        help="Environment variable to read the API key from when --key-stdin is not given.",
    ),
    install_it: bool = typer.Option(
        False,
        "--install",
        help="Merge the entry into the client's config file instead of printing it.",
    ),
    config_file: Path | None = typer.Option(
        None,
        "--config-file",
        help="File --install edits, instead of the client's default (needed for http).",
        show_default=False,
    ),
) -> None:
    """Print, or install, the MCP client config that starts futu-mcp with your API key.

    Prints the snippet for the client (JSON; for Continue, the YAML block for config.yaml) with the absolute path of this installation's futu-mcp, of keys.json and of the audit log. --client http prints the entry with the "Authorization: Bearer" header for a futu-mcp already running with --http-listen.

    The key comes from --key-stdin or the variable --key-env names (FUTU_MCP_API_KEY), never from a flag. Without one, a placeholder is printed.

    --install merges the entry into the client's config file instead (Claude Desktop's claude_desktop_config.json, ~/.cursor/mcp.json, ~/.continue/mcpServers/NAME.json, or --config-file): other servers and settings stay, the old file is backed up first, an entry of the same name is replaced, a file that is not valid JSON is reported and left alone, and the key is not printed. Installing needs a valid key.
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
    if not key_env:
        _fail("--key-env needs the name of an environment variable, e.g. FUTU_MCP_API_KEY", 2)
    if client is ClientKind.http:
        stdio_only = (
            ("--gateway", gateway),
            ("--keys-file", keys_file),
            ("--audit-log", audit_log),
        )
        for flag, value in stdio_only:
            if value is not None:
                _fail(
                    f"{flag} does not apply to --client http: the server is already running. "
                    f"Give {flag} to `futu-mcp --http-listen` instead, or drop it here.",
                    2,
                )
        url = url or DEFAULT_URL
        _check_url(url)
    elif url is not None:
        _fail(
            f"--url applies to --client http only; --client {client.value} starts futu-mcp "
            "itself. Drop --url, or use --client http.",
            2,
        )
    target = config_file or default_config_file(client, name)
    if install_it and target is None:
        _fail(
            "--install --client http needs --config-file PATH: HTTP clients have no one config "
            "file (e.g. --config-file .cursor/mcp.json for a Cursor project, .mcp.json for "
            "Claude Code).",
            2,
        )

    key, source = _read_key(key_stdin, key_env)
    if key is None:
        if install_it:
            _fail(
                f"no API key to install: {_nothing_from(source)}"
                + ("" if key_stdin else " and --key-stdin was not given")
                + ". Pipe the key in, e.g. `futucli gen-key --id claude | futucli mcp-config "
                "--install --key-stdin`, or leave out --install to print the snippet with a "
                "placeholder to paste the key into.",
                2,
            )
        _warn(
            f"no API key ({_nothing_from(source)}): paste the key futucli gen-key printed in place of "
            "the placeholder, or re-run with --key-stdin."
        )
    else:
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

    if client is ClientKind.http:
        assert url is not None
        entry = http_entry(url, key or PLACEHOLDER)
    else:
        from keystore.paths import resolve_keys_file

        command = futu_mcp_command()
        if not Path(command).is_file():
            message = (
                f"{command} does not exist. Install futu-mcp in the same environment as futucli "
                "(pip install futu-mcp) and run this command from there"
            )
            if install_it:
                _fail(f"{message}. Nothing was changed.", 1)
            _warn(f'{message}, or fix "command" in the snippet.')
        from futu_mcp.audit import default_audit_path

        keys_path = os.path.abspath(resolve_keys_file(keys_file))
        audit_path = None if no_audit_log else os.path.abspath(audit_log or default_audit_path())
        entry = stdio_entry(
            command, gateway or DEFAULT_GATEWAY, keys_path, key or PLACEHOLDER, audit_path
        )

    if not install_it:
        typer.echo(render(client, name, entry))
        return
    assert target is not None and key is not None
    try:
        report = install(target, name, entry)
    except ConfigFileError as exc:
        _fail(str(exc), 1)
    except OSError as exc:
        _fail(
            f"cannot update {target}: {exc.strerror or exc}. Fix the permissions (or give "
            "another --config-file) and run the command again.",
            1,
        )
    for line in report:
        typer.echo(line)
    client_name = CLIENT_NAMES[client]
    typer.echo(
        f'installed server "{name}" (key {_redacted(key)}) in {target}; '
        f"restart {client_name} to load it."
    )


def register(app: typer.Typer) -> None:
    """Add `mcp-config` to the futucli app."""
    app.command("mcp-config")(mcp_config)
