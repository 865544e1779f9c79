"""Issuing and rotating keys: the one place a plaintext token exists, briefly.

The token is generated and hashed before the keys.json lock is taken (argon2 takes ~20 ms),
so concurrent writers hold the lock only for the write itself.
"""

import secrets
from datetime import UTC, datetime

from keystore.hashing import ARGON2_PARAMS, Argon2Params, hash_token
from keystore.records import ConfirmOrders, KeyRecord, Limits
from keystore.store import KeyStore
from keystore.tokens import generate_token

_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_key_id() -> str:
    """A readable default id such as `key-7hq2mx` (no 0/o/1/l to misread)."""
    return "key-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


def default_confirm_orders(scopes: frozenset[str]) -> ConfirmOrders:
    """`real` for keys that can trade real money, else `never` (the contract's default)."""
    return "real" if "trade:real" in scopes else "never"


def issue_key(
    store: KeyStore,
    *,
    key_id: str,
    scopes: frozenset[str],
    limits: Limits,
    confirm_orders: ConfirmOrders | None = None,
    expires_at: datetime | None = None,
    note: str | None = None,
    now: datetime | None = None,
    argon2_params: Argon2Params = ARGON2_PARAMS,
) -> tuple[str, KeyRecord]:
    """Create a key; returns the plaintext token (to show once) and the stored record.

    Raises DuplicateKey when the id exists. `argon2_params` is for tests only.
    """
    token, kid = generate_token()
    record = KeyRecord(
        id=key_id,
        kid=kid,
        hash=hash_token(token, argon2_params),
        scopes=scopes,
        limits=limits,
        confirm_orders=confirm_orders or default_confirm_orders(scopes),
        created_at=(now or datetime.now(UTC)).replace(microsecond=0),
        expires_at=expires_at,
        note=note,
    )
    store.add(record)
    return token, record


def rotate_key(
    store: KeyStore, key_id: str, *, argon2_params: Argon2Params = ARGON2_PARAMS
) -> tuple[str, KeyRecord]:
    """A new token for an existing key; the policy stays, the old token stops working at once.

    Raises NoSuchKey for an unknown id, KeystoreError for a revoked one.
    """
    token, kid = generate_token()
    record = store.replace_hash(key_id, kid, hash_token(token, argon2_params))
    return token, record
