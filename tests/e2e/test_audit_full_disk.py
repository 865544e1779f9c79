"""A full disk under the audit log, for real: a file-size limit (RLIMIT_FSIZE) on the running
futu-mcp process cuts an audit line short. Orders and modifies are refused, a cancel still goes
out, reads keep working; once the limit is lifted the server cuts its torn line back by itself,
orders go through again and `futucli audit verify` passes. A 600 KB argument then costs one
short line."""

import resource
import subprocess
from pathlib import Path
from typing import Any

import httpx2
import pytest

from futu_mcp.audit import AuditLog
from opend.enums import OrderStatus
from tests.conftest import console_script
from tests.e2e.conftest import gateway_of, http_client, server_env, space_writes
from tests.e2e.test_mcp_tools import call, ok
from tests.e2e.test_mcp_trade import resting

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

REFUSED = "audit log not writable: order refused (see server log)"
PAD_BYTES = 2 << 20  # the audit log outgrows every other file the server writes (the ledger)


def _metric(base: str, name: str) -> float:
    for line in httpx2.get(f"{base}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def _pad(path: Path, size: int = PAD_BYTES) -> None:
    """An audit log already long, so the size limit set later bites it and nothing else."""
    log = AuditLog(path)
    while not path.exists() or path.stat().st_size < size:
        log.write({"tool": "earlier", "arguments": {"pad": ["p" * 250] * 50}}, fsync=False)


async def test_a_full_disk_refuses_orders_lets_cancels_through_and_recovers_by_itself(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, keys_file: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    _pad(audit)
    token = make_key("disk", "qot:read,acc:read,trade:simulate")
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(audit))
    async with http_client(server.url, token) as client:
        first = await ok(client, "futu_place_order", resting())
        space_writes(sim)
        size = audit.stat().st_size
        others = [p.stat().st_size for p in keys_file.parent.iterdir() if p.is_file()]
        assert max(others) < size, "the limit would hit the ledger, not the audit log"
        # Python ignores SIGXFSZ, so a write past the limit fails with EFBIG, as on a full disk.
        _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (size + 100, hard))
        before = len(sim.state.orders)
        assert await call(client, "futu_place_order", resting()) == (True, REFUSED)
        modify = {"order_id": first["order_id"], "price": first["price"] + 1}
        assert await call(client, "futu_modify_order", modify) == (True, REFUSED)
        assert len(sim.state.orders) == before
        await ok(client, "futu_get_quote", {"codes": "HK.00700"})
        cancelled = await ok(client, "futu_cancel_order", {"order_id": first["order_id"]})
        assert cancelled["status"] == "CANCEL_REQUESTED"
        assert sim.state.orders[int(first["order_id"])].status is OrderStatus.CANCELLED_ALL
        assert audit.stat().st_size == size  # every torn line already cut back
        assert audit.read_bytes().endswith(b"\n")
        logs = server.logs()
        assert f"cancel of order {first['order_id']} in account" in logs
        assert "sent without its audit line" in logs
        assert "cut back 100 bytes of line" in logs and "(File too large)" in logs
        assert _metric(server.base, "futu_mcp_unaudited_cancels_total") == 1
        assert _metric(server.base, "futu_mcp_audit_repairs_total") >= 3
        assert _metric(server.base, "futu_mcp_audit_write_failures_total") >= 5

        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
        space_writes(sim)
        again = await ok(client, "futu_place_order", resting())
        assert int(again["order_id"]) in sim.state.orders
        # A hostile argument costs one short line, not megabytes (stored once, not twice).
        failed, _ = await call(client, "futu_place_order", resting(remark="r" * 600_000))
        assert failed
    last = audit.read_bytes().splitlines()[-1]
    assert len(last) < 2048 and b"[600000 chars, sha256 " in last
    verify = subprocess.run(
        [console_script("futucli"), "audit", "verify", str(audit)],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "chain intact" in verify.stdout
    assert token not in server.logs()
