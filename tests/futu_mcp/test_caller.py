"""The per-request Bearer check: warm tokens reuse their access token only while keys.json says
the same thing; a revocation, an expiry, a rotation or another tenant never gets a stale or
foreign one, and each refusal says which it is (never with the token)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from futu_mcp.caller import BearerVerifier, Refused
from keystore.issuing import rotate_key
from keystore.store import KeyStore
from keystore.verify import KeyVerifier

pytestmark = pytest.mark.anyio


async def test_warm_tokens_follow_keys_json_and_stay_per_tenant(
    keys_file: Path, make_key: Any
) -> None:
    alice, bob = make_key("alice", "qot:read"), make_key("bob", "qot:read,acc:read")
    bearer = BearerVerifier(KeyVerifier(keys_file))
    first = await bearer.authenticate(alice)
    again = await bearer.authenticate(alice)
    other = await bearer.authenticate(bob)
    assert (first.client_id, again.client_id, other.client_id) == ("alice", "alice", "bob")
    assert other.scopes == ["acc:read", "qot:read"] and other.token == bob
    assert again.token == alice and first.key.status() == "active"

    KeyStore(keys_file).revoke("alice")
    with pytest.raises(Refused) as refused:
        await bearer.authenticate(alice)
    assert (refused.value.description, refused.value.key_id) == ("key revoked", "alice")
    assert refused.value.status == 401 and alice not in str(refused.value)

    new_bob, _ = rotate_key(KeyStore(keys_file), "bob")
    with pytest.raises(Refused) as refused:
        await bearer.authenticate(bob)
    assert (refused.value.description, refused.value.key_id) == ("invalid key", None)
    rotated = await bearer.authenticate(new_bob)
    assert rotated.client_id == "bob" and rotated.token == new_bob


async def test_an_expired_key_is_refused_as_expired(keys_file: Path, make_key: Any) -> None:
    token = make_key("old", "qot:read", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(Refused) as refused:
        await BearerVerifier(KeyVerifier(keys_file)).authenticate(token)
    assert (refused.value.description, refused.value.key_id) == ("key expired", "old")
