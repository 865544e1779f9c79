"""Check-and-reserve is atomic across threads and processes, and survives a restart."""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from keystore.policy import authorize
from tests.keystore.ledger_worker import open_spec, place, run_threads, shared_key

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
THREADS_PER_PROCESS = 5
THREADS_HERE = 20


@pytest.fixture(params=["sqlite", "redis"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The shared ledger the workers and the test use: a SQLite file or a redis:// URL."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_server").url)
    return str(tmp_path / "ledger.sqlite")


def start_workers(
    path: str, value: str, per_minute: str, daily: str
) -> list[subprocess.Popen[str]]:
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.keystore.ledger_worker",
                path,
                str(THREADS_PER_PROCESS),
                value,
                per_minute,
                daily,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    return workers


def finish_workers(workers: list[subprocess.Popen[str]]) -> int:
    total = 0
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        total += int(out.strip())
    return total


def go(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()


@pytest.mark.slow
def test_rate_limit_admits_exactly_k_across_threads_and_processes(spec: str) -> None:
    ledger = open_spec(spec)
    workers = start_workers(spec, "10", "3", "-")
    go(workers)
    here = run_threads(ledger, shared_key(3, None), Decimal(10), THREADS_HERE)
    assert here + finish_workers(workers) == 3


@pytest.mark.slow
def test_daily_cap_admits_exactly_k_and_holds_after_restart(spec: str) -> None:
    ledger = open_spec(spec)
    workers = start_workers(spec, "100", "-", "1000")
    go(workers)
    here = run_threads(ledger, shared_key(None, Decimal(1000)), Decimal(100), THREADS_HERE)
    assert here + finish_workers(workers) == 10
    ledger.close()
    # A fresh process: the day's total is still there.
    again = subprocess.run(
        [sys.executable, "-m", "tests.keystore.ledger_worker", spec, "1", "100", "-", "1000"],
        cwd=ROOT,
        input="go\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.stdout.split() == ["ready", "0"]
    reopened = open_spec(spec)
    decision = authorize(shared_key(None, Decimal(1000)), place(Decimal(1)), ledger=reopened)
    assert decision.message == "limit check failed: daily value 1001 exceeds 1000"
