"""FUTU-OpenD-rs keys.json files (nested and flat, sha256 hashes, legacy tokens) load and verify."""

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from keystore.errors import Unauthorized
from keystore.store import KeyStore, read_keys_file
from keystore.verify import KeyVerifier

NESTED_TOKEN = "fc_" + "0123456789abcdef" * 2
FLAT_TOKEN = "fc_" + "fedcba9876543210" * 2


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def write_rs_file(path: Path) -> None:
    """A file as FUTU-OpenD-rs documents it (nested, bare hex) and as its docker bundle ships
    it (flat, `sha256:` prefix)."""
    doc = {
        "version": 1,
        "keys": [
            {
                "id": "claude-hk",
                "hash": _digest(NESTED_TOKEN),
                "scopes": ["qot:read", "trade:simulate"],
                "limits": {
                    "allowed_markets": ["HK"],
                    "allowed_symbols": None,
                    "allowed_trd_sides": ["BUY", "SELL"],
                    "max_order_value": 50000.0,
                    "max_daily_value": 200000,
                    "max_orders_per_minute": 5,
                    "hours_window": "09:30-16:00",
                },
                "allowed_machines": None,
                "created_at": "2025-06-01T08:00:00Z",
                "expires_at": None,
                "note": "nested",
            },
            {
                "id": "docker",
                "hash": "sha256:" + _digest(FLAT_TOKEN),
                "scopes": ["qot:read", "acc:read", "trade:unlock"],
                "allowed_markets": ["US"],
                "max_order_value": 6000,
                "max_orders_per_minute": 2,
                "created_at": "2025-06-02T08:00:00+08:00",
            },
        ],
    }
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    path.chmod(0o600)


def test_rs_file_loads_both_layouts(keys_path: Path) -> None:
    write_rs_file(keys_path)
    nested, flat = read_keys_file(keys_path).records
    assert nested.limits.allowed_markets == frozenset({"HK"})
    assert nested.limits.max_order_value.for_market("HK") == Decimal(50000)  # type: ignore[union-attr]
    assert nested.limits.max_orders_per_minute == 5
    assert str(nested.limits.hours_window) == "09:30-16:00"
    assert nested.extra == {"allowed_machines": None}
    assert nested.confirm_orders == "never"
    assert flat.limits.allowed_markets == frozenset({"US"})
    assert flat.limits.max_order_value.for_market("US") == Decimal(6000)  # type: ignore[union-attr]
    assert flat.limits.max_orders_per_minute == 2
    assert "trade:unlock" in flat.scopes
    assert flat.extra == {}
    # No kid in the file: one is derived from the hash for logs, and never written back.
    assert flat.kid == _digest(FLAT_TOKEN)[:8]
    assert not flat.kid_stored


def test_legacy_tokens_verify(keys_path: Path) -> None:
    write_rs_file(keys_path)
    verifier = KeyVerifier(keys_path)
    assert verifier.verify(NESTED_TOKEN).id == "claude-hk"
    assert verifier.verify(FLAT_TOKEN).id == "docker"
    with pytest.raises(Unauthorized) as info:
        verifier.verify("fc_" + "1" * 32)
    assert info.value.reason == "unknown"


def test_rewriting_an_rs_file_keeps_its_records_usable(keys_path: Path, store: KeyStore) -> None:
    write_rs_file(keys_path)
    store.revoke("docker")
    doc = json.loads(keys_path.read_text())
    nested, flat = doc["keys"]
    assert "kid" not in nested and "kid" not in flat
    assert nested["allowed_machines"] is None
    assert flat["limits"]["allowed_markets"] == ["US"]  # flat record now written nested
    assert "allowed_markets" not in flat
    verifier = KeyVerifier(keys_path)
    assert verifier.verify(FLAT_TOKEN).status() == "revoked"
    assert verifier.verify(NESTED_TOKEN).status() == "active"
