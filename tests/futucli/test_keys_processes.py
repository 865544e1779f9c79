"""futucli key commands as real processes: cross-process revocation (the races and SIGKILL
loops are in tests/reliability/test_keys.py)."""

import os
import subprocess
from pathlib import Path

import pytest

from keystore.policy import Request, authorize
from keystore.verify import KeyVerifier
from tests.conftest import console_script

FUTUCLI = console_script("futucli")


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
