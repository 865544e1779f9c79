"""The audit log's disk fills and empties again and again while three tenants place orders at
once: while it is full every order is refused and none reaches the simulator; once there is
room the server repairs the log by itself and orders go through; after every cycle the log is
whole (each line JSON, the chain intact) and the simulator holds exactly the orders the log
records as placed. The full disk is real: a file-size limit (RLIMIT_FSIZE) on the server."""

import json
import random
import resource
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest

from futu_mcp.audit import verify_file
from tests.conftest import console_script
from tests.e2e.conftest import gateway_of, http_client, server_env, space_writes
from tests.e2e.test_audit_full_disk import REFUSED, _metric, _pad
from tests.e2e.test_mcp_policy import TRADE
from tests.e2e.test_mcp_tools import call, ok
from tests.reliability.conftest import scaled
from tests.reliability.test_orders import ORDERS

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# Longer than the ledger's SQLite WAL ever grows (about 4 MiB, its checkpoint size), so the size
# limit bites the audit log alone; a full disk under the ledger is the last test.
PAD_BYTES = 6 << 20


async def orders_at_once(clients: list[Any]) -> list[tuple[bool, Any]]:
    """Each client places its market's order (one account each), all at the same moment; the
    results in the clients' order."""
    results: list[tuple[bool, Any]] = [(True, "not answered")] * len(clients)

    async def one(n: int) -> None:
        results[n] = await call(clients[n], "futu_place_order", ORDERS[n])

    async with anyio.create_task_group() as tg:
        for n in range(len(clients)):
            tg.start_soon(one, n)
    return results


def placed_in_log(audit: Path) -> set[str]:
    """Order ids of the placements the audit log records as sent; every line must be JSON."""
    ids = set()
    for line in audit.read_text().splitlines():
        record = json.loads(line)
        result = record.get("result") or {}
        if record.get("tool") == "futu_place_order" and result.get("order_id"):
            ids.add(str(result["order_id"]))
    return ids


@pytest.mark.timeout(scaled(120, 600))
async def test_disk_full_and_free_again_in_cycles_under_concurrent_orders(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, keys_file: Path
) -> None:
    rng = random.Random()
    audit = tmp_path / "audit.jsonl"
    _pad(audit, PAD_BYTES)
    tokens = [make_key(f"desk{n}", TRADE) for n in range(len(ORDERS))]
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(audit))
    pid = server.proc.pid
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    before = set(sim.state.orders)
    # At most 15 orders per account in 30 s (OpenD's rule, applied before sending): 12 cycles fit.
    cycles = scaled(2, 12)
    async with (
        http_client(server.url, tokens[0]) as a,
        http_client(server.url, tokens[1]) as b,
        http_client(server.url, tokens[2]) as c,
    ):
        clients = [a, b, c]
        for _ in range(cycles):
            # Room for a random part of one line: the next write is cut short mid-line.
            resource.prlimit(
                pid, resource.RLIMIT_FSIZE, (audit.stat().st_size + rng.randint(1, 300), hard)
            )
            space_writes(sim)
            sent = len(sim.state.orders)
            refused = await orders_at_once(clients)
            assert refused == [(True, REFUSED)] * len(ORDERS), refused
            assert len(sim.state.orders) == sent
            assert not (await call(a, "futu_get_quote", {"codes": "HK.00700"}))[0]
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
            space_writes(sim)
            placed = await orders_at_once(clients)
            assert [failed for failed, _ in placed] == [False] * len(ORDERS), placed
            for client, (_, order) in zip(clients, placed, strict=True):
                # Frees the paper account's buying power for the next cycle.
                await ok(client, "futu_cancel_order", {"order_id": order["order_id"]})
            assert audit.read_bytes().endswith(b"\n")
            assert placed_in_log(audit) == {str(o) for o in set(sim.state.orders) - before}
            ledger_files = keys_file.parent.glob("*ledger*")
            assert max(p.stat().st_size for p in ledger_files) < PAD_BYTES
    assert len(sim.state.orders) == len(before) + cycles * len(ORDERS)
    assert _metric(server.base, "futu_mcp_audit_repairs_total") >= 1
    assert verify_file(audit).ok
    verify = subprocess.run(
        [console_script("futucli"), "audit", "verify", str(audit)],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Traceback" not in server.logs()


async def test_ledger_full_refuses_orders_with_the_ledger_text(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, keys_file: Path
) -> None:
    token = make_key("ledger", TRADE)
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(tmp_path / "a.jsonl"))
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    async with http_client(server.url, token) as client:
        await ok(client, "futu_place_order", ORDERS[0])  # the ledger's WAL now holds pages
        wal = keys_file.with_name(keys_file.stem + ".ledger.sqlite-wal")
        sent = len(sim.state.orders)
        # No room past the WAL's end: the next ledger write fails, the small audit log fits.
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (wal.stat().st_size, hard))
        failed, text = await call(client, "futu_place_order", ORDERS[1])
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
        assert failed and len(sim.state.orders) == sent  # fail closed: that holds today
        assert text.startswith("limit ledger unavailable: "), text
        space_writes(sim)
        await ok(client, "futu_place_order", ORDERS[2])
