"""A writer killed with SIGKILL at random moments never leaves a torn or partial keys.json."""

import random
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from keystore.store import read_keys_file

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 25


@pytest.mark.slow
def test_sigkilled_writer_leaves_old_or_new_file(keys_path: Path) -> None:
    rng = random.Random()
    confirmed = 0
    for _ in range(ROUNDS):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.keystore.keys_writer", str(keys_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        # Let it complete a random number of writes; it is mid-write (or mid-lock) when killed.
        for _ in range(rng.randint(1, 8)):
            line = writer.stdout.readline().strip()
            assert line.startswith("w")
            confirmed = int(line[1:]) + 1
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
        records = read_keys_file(keys_path).records  # raises if torn, partial or malformed
        ids = [r.id for r in records]
        # Complete: every write it reported is there, in order, and nothing half-made.
        assert ids == [f"w{i}" for i in range(len(ids))]
        assert len(ids) in (confirmed, confirmed + 1)
        assert all(r.limits.max_orders_per_minute == i + 1 for i, r in enumerate(records))
        assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
        confirmed = len(ids)
    assert confirmed >= ROUNDS
