"""A process that rewrites keys.json as fast as it can (run with `python -m`), to be SIGKILLed.

Usage: python -m tests.keystore.keys_writer KEYS_FILE
Adds keys w0, w1, ... (continuing from what the file holds) and prints each id once written.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

from keystore.hashing import TEST_ONLY_CHEAP_PARAMS, hash_token
from keystore.records import KeyRecord, Limits
from keystore.store import KeyStore
from keystore.tokens import generate_token

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def main() -> None:
    store = KeyStore(Path(sys.argv[1]))
    token, _ = generate_token()
    stored_hash = hash_token(token, TEST_ONLY_CHEAP_PARAMS)

    def change(records: list[KeyRecord]) -> list[KeyRecord]:
        _, kid = generate_token()
        record = KeyRecord(
            id=f"w{len(records)}",
            kid=kid,
            hash=stored_hash,
            scopes=frozenset({"qot:read"}),
            limits=Limits(max_orders_per_minute=len(records) + 1),
            confirm_orders="never",
            created_at=_NOW,
            note="x" * 200,
        )
        return [*records, record]

    while True:
        written = store.update(change)
        print(written.records[-1].id, flush=True)


if __name__ == "__main__":
    main()
