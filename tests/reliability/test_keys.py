"""`futucli gen-key` and `revoke-key` as real processes: twenty at once, and SIGKILLed at
random moments; keys.json must stay whole, loadable and complete through both."""

import json
import os
import random
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from keystore.store import read_keys_file
from keystore.verify import KeyVerifier
from tests.conftest import console_script
from tests.reliability.conftest import scaled

pytestmark = pytest.mark.slow

FUTUCLI = console_script("futucli")
PROCESS_TIMEOUT = 120


def gen_key(key_id: str) -> subprocess.Popen[str]:
    """A `futucli gen-key` process; the token is its stdout."""
    return subprocess.Popen(
        [FUTUCLI, "gen-key", "--id", key_id, "--scopes", "qot:read,acc:read"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_whole(keys_path: Path) -> list[str]:
    """keys.json parses, loads through the keystore, is 0600 and has no duplicate id or kid;
    returns the ids in it."""
    json.loads(keys_path.read_text())
    records = read_keys_file(keys_path).records
    assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
    ids = [r.id for r in records]
    assert len(set(ids)) == len(ids)
    assert len({r.kid for r in records}) == len(records)
    return ids


def test_twenty_concurrent_gen_key_processes_keep_all_twenty(isolated_home: Path) -> None:
    keys_path = Path(os.environ["FUTU_KEYS_FILE"])
    tokens: dict[str, str] = {}
    for batch in range(scaled(1, 5)):
        procs = {f"b{batch}k{i}": gen_key(f"b{batch}k{i}") for i in range(20)}
        for key_id, proc in procs.items():
            out, err = proc.communicate(timeout=PROCESS_TIMEOUT)
            assert proc.returncode == 0, err
            tokens[key_id] = out.strip()
        assert sorted(assert_whole(keys_path)) == sorted(tokens)
    verifier = KeyVerifier(keys_path)
    for key_id, token in tokens.items():
        assert verifier.verify(token).id == key_id
    assert not list(keys_path.parent.glob(".keys-*.tmp"))


def test_sigkill_loop_over_gen_key_and_revoke_key_leaves_keys_json_whole(
    isolated_home: Path,
) -> None:
    keys_path = Path(os.environ["FUTU_KEYS_FILE"])
    rng = random.Random()
    created: dict[str, str] = {}  # id -> token, for every gen-key that said it succeeded
    revoked: set[str] = set()  # every revoke-key that said it succeeded
    attempted: set[str] = set()  # every id a gen-key was started for
    killed = 0
    # How long a command takes here (start-up, hashing, lock, write), learnt from the ones
    # that finish, so the kills land across its whole life on a quiet or a busy machine.
    longest = 0.0
    rounds = scaled(16, 150)
    for n in range(rounds):
        live = sorted(set(created) - revoked)
        if live and rng.random() < 0.4:
            key_id = rng.choice(live)
            proc = subprocess.Popen(
                [FUTUCLI, "revoke-key", key_id],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            revoking = True
        else:
            key_id = f"k{n}"
            attempted.add(key_id)
            proc = gen_key(key_id)
            revoking = False
        started = time.monotonic()
        # The first command runs to the end (it sets the pace); later ones are killed at a
        # random moment of their life, or finish by then.
        kill_at = rng.uniform(0.0, longest * 1.5) if created else PROCESS_TIMEOUT
        try:
            out, err = proc.communicate(timeout=kill_at)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=PROCESS_TIMEOUT)
            killed += 1
        else:
            assert proc.returncode == 0, err
            longest = max(longest, time.monotonic() - started)
            if revoking:
                revoked.add(key_id)
            else:
                created[key_id] = out.strip()
        if not keys_path.exists():
            assert not created  # nothing was ever confirmed written
            continue
        ids = assert_whole(keys_path)
        # Nothing confirmed is lost; nothing appears that no gen-key was started for.
        assert set(created) <= set(ids) <= attempted
        records = {r.id: r for r in read_keys_file(keys_path).records}
        assert all(records[key_id].revoked_at is not None for key_id in revoked)
    print(f"SIGKILL loop: {rounds} commands, {killed} killed, {len(created)} keys made")
    # The file is as usable by the CLI as by the server, and every surviving token works.
    listed = subprocess.run(
        [FUTUCLI, "list-keys", "--json"], capture_output=True, text=True, timeout=PROCESS_TIMEOUT
    )
    assert listed.returncode == 0, listed.stderr
    assert {k["id"] for k in json.loads(listed.stdout)} >= set(created)
    verifier = KeyVerifier(keys_path)
    for key_id, token in created.items():
        assert verifier.verify(token).id == key_id
    # Both outcomes happened: the loop really interrupted writers and really let some finish.
    assert killed > 0 and len(created) + len(revoked) > 1
