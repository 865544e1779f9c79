"""`futucli audit verify|tail`: check the audit log's hash chain and read it as a table.

The format and the chain rules live in `futu_mcp.audit` (futu-mcp writes the file); this module
only presents them to a human.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console
    from rich.table import Table

FOLLOW_POLL_S = 0.25
PIPE_WIDTH = 160
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

audit_app = typer.Typer(
    name="audit",
    help="Check and read the futu-mcp audit log (JSON lines, hash-chained).",
    no_args_is_help=True,
)


@audit_app.command("verify")
def verify(
    paths: list[Path] = typer.Argument(
        ...,
        help="The audit log file (futu-mcp --audit-log); several replicas' files are each checked.",
    ),
    anchor: str | None = typer.Option(
        None,
        "--anchor",
        metavar="SEQ:HASH",
        help="A head printed by an earlier verify: line SEQ must still have HASH (one file).",
    ),
) -> None:
    """Check the hash chain; exit 1 and name the first line that was edited, removed or moved.

    The chain alone cannot show a log rewritten from its first line, or cut short at the end, by someone who can write the file. Keep the printed head somewhere else and pass it back with --anchor to catch that too. Each replica writes its own file with its own chain: give them all to check each.
    """
    from futu_mcp.audit import verify_file

    if anchor and len(paths) > 1:
        typer.echo("error: --anchor: one file at a time (each file has its own head)", err=True)
        raise typer.Exit(2)
    parsed = _parse_anchor(anchor) if anchor else None
    broken = False
    for path in paths:
        # One file: the plain lines scripts read; several: each line names its file.
        label = f"{path}: " if len(paths) > 1 else ""
        try:
            result = verify_file(path, anchor=parsed)
        except OSError as exc:
            typer.echo(f"error: cannot read {path}: {exc.strerror or exc}", err=True)
            broken = True
            continue
        if not result.ok:
            typer.echo(f"{label}broken at line {result.first_bad_line}: {result.problem}")
            broken = True
            continue
        typer.echo(f"{label}OK: {result.lines} lines, chain intact")
        if result.head:
            typer.echo(
                f"{label}head: {result.lines}:{result.head} (keep it elsewhere; check with --anchor)"
            )
    if broken:
        raise typer.Exit(1)


def _parse_anchor(text: str) -> tuple[int, str]:
    seq, sep, digest = text.strip().partition(":")
    if not sep or not seq.isdigit() or int(seq) < 1 or not re.fullmatch(r"[0-9a-f]{64}", digest):
        typer.echo(
            f"error: --anchor: expected SEQ:HASH (as verify prints it), got {text!r}", err=True
        )
        raise typer.Exit(2)
    return int(seq), digest


@audit_app.command("tail")
def tail(
    paths: list[Path] | None = typer.Argument(
        None,
        help="The audit log file, or several replicas' files (merged by time); default: $XDG_STATE_HOME/futu/audit.jsonl (~/.local/state/futu/audit.jsonl).",
        show_default=False,
    ),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing lines as they come."),
    key: str | None = typer.Option(None, "--key", help="Only lines of this key id (or kid)."),
    tool: str | None = typer.Option(
        None, "--tool", help="Only lines of this tool (futu_ may be left out)."
    ),
    lines: int = typer.Option(20, "--lines", "-n", min=0, help="How many past lines to show."),
) -> None:
    """Show the newest lines of the audit log as a table; with -f, keep following it.

    Several files (one per futu-mcp replica) are merged by time, with a replica column.
    """
    from rich.console import Console

    from futu_mcp.audit import default_audit_path, read_records

    files = paths or [default_audit_path()]
    # A pipe gets long lines (grep-able) rather than rich's 80-column default.
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    console = Console(highlight=False, width=PIPE_WIDTH if piped else None)
    replicas = len(files) > 1

    def keep(record: dict[str, Any]) -> bool:
        if key is not None and key not in (record.get("key_id"), record.get("kid")):
            return False
        return tool is None or record.get("tool") in (tool, f"futu_{tool}")

    for path in files:
        if not path.exists() and not follow:
            typer.echo(
                f"error: no audit log at {path} (give the file futu-mcp --audit-log writes)",
                err=True,
            )
            raise typer.Exit(1)
    offsets: dict[Path, int] = {}
    records: list[dict[str, Any]] = []
    for path in files:
        offsets[path] = 0
        if not path.exists():
            continue
        try:
            offsets[path] = path.stat().st_size
            records += read_records(path, last=lines, keep=keep) if lines else []
        except OSError as exc:
            typer.echo(f"error: cannot read {path}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
    records = by_time(records)[-lines:] if lines else []
    _print(console, records_table(console, records, header=True, replicas=replicas))
    if follow:
        try:
            _follow(console, offsets, keep, replicas)
        except KeyboardInterrupt:
            raise typer.Exit(0) from None


def by_time(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines of several files in time order (ISO UTC stamps sort as text); a file's own order
    is kept for equal stamps."""
    return sorted(records, key=lambda r: str(r.get("ts") or ""))


class _Followed:
    """Where following one file has got to."""

    def __init__(self, path: Path, offset: int) -> None:
        self.path = path
        self.offset = offset
        self.pending = b""
        self.inode = path.stat().st_ino if path.exists() else None

    def new_records(self, keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Complete lines appended since the last call; a replaced or truncated file is read
        anew from its start."""
        from futu_mcp.audit import parse_line

        try:
            info = self.path.stat()
            size = info.st_size
        except FileNotFoundError:
            info, size = None, 0
        if info is not None and info.st_ino != self.inode:
            self.inode, self.offset, self.pending = info.st_ino, 0, b""
        if size < self.offset:
            self.offset, self.pending = 0, b""
        if size <= self.offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read(size - self.offset)
        self.offset += len(data)
        *complete, self.pending = (self.pending + data).split(b"\n")
        records = []
        for raw in complete:
            try:
                record = parse_line(raw)
            except ValueError:
                continue
            if keep(record):
                records.append(record)
        return records


def _follow(
    console: Console,
    offsets: dict[Path, int],
    keep: Callable[[dict[str, Any]], bool],
    replicas: bool,
) -> None:
    """Print complete lines appended to any of the files, forever, merged by time per poll."""
    followed = [_Followed(path, offset) for path, offset in offsets.items()]
    while True:
        records = by_time([r for f in followed for r in f.new_records(keep)])
        if records:
            _print(console, records_table(console, records, header=False, replicas=replicas))
        time.sleep(FOLLOW_POLL_S)


def _print(console: Console, table: Table) -> None:
    console.print(table)
    sys.stdout.flush()


_FIXED_COLUMNS: tuple[tuple[str, int], ...] = (
    ("seq", 6),
    ("time (UTC)", 19),
    ("key", 10),
    ("tool", 14),
    ("phase", 6),
    ("decision", 8),
)
# Below this width the date is left out and the key and tool columns narrow, so an 80-column
# terminal still has room for what happened.
_NARROW = 110
_NARROW_COLUMNS: tuple[tuple[str, int], ...] = (
    ("seq", 5),
    ("UTC", 8),
    ("key", 8),
    ("tool", 14),
    ("phase", 6),
    ("decision", 8),
)
_MIN_DETAIL = 24
_REPLICA_WIDTH = 12


def records_table(
    console: Console, records: list[dict[str, Any]], *, header: bool, replicas: bool = False
) -> Table:
    """One table per batch, every width fixed, so batches printed while following line up.
    `replicas` adds a column naming the replica that wrote each line (several files)."""
    from rich.table import Table

    narrow = console.width < _NARROW
    columns = _NARROW_COLUMNS if narrow else _FIXED_COLUMNS
    if replicas:
        columns = (("replica", _REPLICA_WIDTH), *columns)
    table = Table(show_header=header, box=None, pad_edge=False, padding=(0, 1, 0, 0))
    for name, width in columns:
        justify = "right" if name == "seq" else "left"
        table.add_column(name, width=width, justify=justify, overflow="fold")
    fixed = sum(width + 1 for _, width in columns)
    detail_width = max(_MIN_DETAIL, console.width - fixed)
    table.add_column("arguments -> outcome", width=detail_width, overflow="fold")
    for record in records:
        tool = record.get("tool")
        if isinstance(tool, str) and tool.startswith("futu_"):
            tool = tool.removeprefix("futu_")
        ts = record.get("ts")
        if isinstance(ts, str):
            ts = ts[11:19] if narrow else ts.replace("T", " ")[:19]
        replica = [_cell(record.get("replica"))] if replicas else []
        table.add_row(
            *replica,
            _cell(record.get("seq")),
            _cell(ts),
            _cell(record.get("key_id") or record.get("kid")),
            _cell(tool),
            _cell(record.get("phase")),
            _cell(record.get("decision")),
            _cell(_detail(record)),
        )
    return table


def _detail(record: dict[str, Any]) -> str:
    """Arguments, then what happened: the error, else the deny reason, else the result."""
    parts = [_compact(record.get("arguments") or {})]
    for field in ("error", "reason", "result"):
        if record.get(field) not in (None, "", {}):
            parts.append("-> " + _compact(record[field]))
            break
    if record.get("latency_ms") is not None:
        parts.append(f"({_compact(record['latency_ms'])} ms)")
    return " ".join(parts)


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cell(value: Any) -> Any:
    """A cell as plain text: no rich markup and no terminal control characters from the log."""
    from rich.text import Text

    if value is None:
        return Text("")
    return Text(_CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", _compact(value)))


def register(app: typer.Typer) -> None:
    """Add the `audit` command group to the futucli app."""
    app.add_typer(audit_app, name="audit")
