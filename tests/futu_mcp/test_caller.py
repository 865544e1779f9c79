"""The per-request Bearer check: warm tokens reuse their access token only while keys.json says
the same thing; a revocation, a rotation or another tenant never gets a stale or foreign one."""

from pathlib import Path
from typing import Any

import pytest

from futu_mcp.caller import BearerVerifier
from keystore.issuing import rotate_key
from keystore.store import KeyStore
from keystore.verify import KeyVerifier

pytestmark = pytest.mark.anyio


async def test_warm_tokens_follow_keys_json_and_stay_per_tenant(
    keys_file: Path, make_key: Any
) -> None:
    alice, bob = make_key("alice", "qot:read"), make_key("bob", "qot:read,acc:read")
    bearer = BearerVerifier(KeyVerifier(keys_file))
    first = await bearer.verify_token(alice)
    again = await bearer.verify_token(alice)
    other = await bearer.verify_token(bob)
    assert first is not None and again is not None and other is not None
    assert (first.client_id, again.client_id, other.client_id) == ("alice", "alice", "bob")
    assert other.scopes == ["acc:read", "qot:read"] and other.token == bob
    assert again.token == alice and first.key.status() == "active"

    KeyStore(keys_file).revoke("alice")
    revoked = await bearer.verify_token(alice)
    assert revoked is not None and revoked.key.status() == "revoked"

    new_bob, _ = rotate_key(KeyStore(keys_file), "bob")
    assert await bearer.verify_token(bob) is None
    rotated = await bearer.verify_token(new_bob)
    assert rotated is not None and rotated.client_id == "bob" and rotated.token == new_bob
