"""Keeps an eye on the ledger from a daemon thread: is it reachable, and which kids are revoked.

Every `INTERVAL` s it reads the ledger's revoked kids. That one read is also the health probe
`/healthz` and `futu_mcp_ledger_up` report, so neither does I/O when asked, and the key check
(`KeyVerifier.revocations`) reads a dict in memory: a `futucli revoke-key --ledger` reaches
every replica within a second even if their keys.json is stale. Revocations once read stay in
force while the ledger is down, and after it comes back without them.
"""

import logging
import threading
from datetime import datetime

from keystore.errors import LedgerError, LedgerUnavailable
from keystore.ledger import Ledger

log = logging.getLogger("futu_mcp.ledger")

INTERVAL = 0.5


class LedgerWatch:
    """The ledger's last known state; `start()` reads it once before returning."""

    def __init__(self, ledger: Ledger, interval: float = INTERVAL) -> None:
        self.ledger = ledger
        self.interval = interval
        self.up = False
        self.error: str | None = None
        self._revoked: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def revoked(self) -> dict[str, datetime]:
        """kid -> when it was revoked, as last read."""
        return self._revoked

    def poll(self) -> None:
        """Read the ledger once; log only changes of state (up/down), never a password."""
        try:
            revoked = self.ledger.revoked_kids()
        except Exception as exc:
            error = exc if isinstance(exc, LedgerError) else LedgerUnavailable(repr(exc))
            if self.up or self.error is None:
                log.warning("%s", error)
            self.up, self.error = False, str(error)
            return
        if not self.up and self.error is not None:
            log.warning("limit ledger %s is reachable again", self.ledger.describe())
        # Merged, never replaced: a revocation is for good, even if Redis comes back empty.
        self._revoked, self.up, self.error = {**self._revoked, **revoked}, True, None

    def start(self) -> None:
        """Poll once now, then every `interval` s in a daemon thread."""
        self.poll()
        self._thread = threading.Thread(target=self._run, name="ledger-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread (tests)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
