"""The single audit writer: lines land in the order calls handed them over, a waited-for line
reports whether it was written, a failure never stops the writer, shutdown writes everything."""

import json
from pathlib import Path

import pytest

from futu_mcp.audit import AuditLog, verify_file
from futu_mcp.auditwriter import AuditWriter

pytestmark = pytest.mark.anyio


def line(n: int) -> dict[str, object]:
    """A read call's record."""
    return {"key_id": "k", "tool": "futu_get_quote", "phase": "call", "n": n}


async def test_queued_lines_precede_a_later_waited_line_and_close_writes_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    failures: list[int] = []
    writer = AuditWriter(AuditLog(path), lambda: failures.append(1))
    for n in range(20):
        writer.put(line(n))
    assert await writer.write({**line(20), "phase": "intent"}, fsync=True)
    written = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["n"] for r in written] == list(range(21))  # all before the waited one, in order
    for n in range(21, 60):
        writer.put(line(n))
    writer.close()
    assert [json.loads(x)["n"] for x in path.read_text().splitlines()] == list(range(60))
    assert verify_file(path).ok and verify_file(path).lines == 60 and not failures


async def test_an_unwritable_log_is_counted_and_the_writer_keeps_going(tmp_path: Path) -> None:
    failures: list[int] = []
    writer = AuditWriter(AuditLog(tmp_path), lambda: failures.append(1))  # a folder
    writer.put(line(1))
    assert not await writer.write(line(2), fsync=True)
    assert not await writer.write(line(3), fsync=False)
    assert len(failures) == 3
    writer.close()
