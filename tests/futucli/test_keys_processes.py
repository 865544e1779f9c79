"""futucli key commands as real processes: concurrent writers and cross-process revocation."""

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from keystore.policy import Request, authorize
from keystore.store import read_keys_file
from keystore.verify import KeyVerifier
from tests.conftest import console_script

FUTUCLI = console_script("futucli")


@pytest.mark.slow
def test_twenty_concurrent_gen_key_processes(isolated_home: Path) -> None:
    keys_path = Path(os.environ["FUTU_KEYS_FILE"])
    procs = [
        subprocess.Popen(
            [FUTUCLI, "gen-key", "--id", f"k{i}", "--scopes", "qot:read,acc:read"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(20)
    ]
    tokens = {}
    for i, proc in enumerate(procs):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        tokens[f"k{i}"] = out.strip()
    json.loads(keys_path.read_text())
    records = read_keys_file(keys_path).records
    assert sorted(r.id for r in records) == sorted(tokens)
    assert len({r.kid for r in records}) == 20
    assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
    verifier = KeyVerifier(keys_path)
    for key_id, token in tokens.items():
        assert verifier.verify(token).id == key_id
    assert not list(keys_path.parent.glob(".keys-*.tmp"))


@pytest.mark.slow
def test_revocation_in_another_process_is_seen_on_the_next_call(isolated_home: Path) -> None:
    keys_path = Path(os.environ["FUTU_KEYS_FILE"])
    token = subprocess.run(
        [FUTUCLI, "gen-key", "--id", "victim", "--scopes", "trade:simulate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    verifier = KeyVerifier(keys_path)
    request = Request(scope="trade:simulate", kind="place", market="HK", value=None)
    for _ in range(3):  # warm: served from the verified-token cache
        assert authorize(verifier.verify(token), request).allowed
    subprocess.run([FUTUCLI, "revoke-key", "victim"], capture_output=True, timeout=60, check=True)
    decision = authorize(verifier.verify(token), request)
    assert (decision.allowed, decision.reason, decision.message) == (
        False,
        "revoked",
        "key revoked",
    )
