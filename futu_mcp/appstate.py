"""What a running server holds (gateway client, key verifier, ledger, audit, metrics, caps) and
what one tool call sees of it.

Handlers receive a `Call`: the caller's current key record, the transport, the SDK context (for
elicitation) and the shared state. They never look anything up themselves.
"""

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from futu_mcp.config import Config
from futu_mcp.errors import ToolFailure
from futu_mcp.metrics import Metrics

if TYPE_CHECKING:
    from futu_mcp.audit import AuditLog
    from futu_mcp.auditwriter import AuditWriter
    from futu_mcp.ledgerwatch import LedgerWatch
    from futu_mcp.startup import StdioKey
    from keystore.ledger import Ledger
    from keystore.policy import Decision, Request, ServerCaps
    from keystore.records import KeyRecord
    from keystore.verify import KeyVerifier
    from opend.client import OpenDClient
    from opend.models import TrdAcc, TrdAccount

log = logging.getLogger("futu_mcp")

# How stale a key's "last used" (futucli list-keys) may get. Each write is an fsynced SQLite
# commit (about 1 ms): at 50 busy keys a 1 s interval would cost 50 of them a second.
USE_WRITE_INTERVAL = 10.0


@dataclass
class AppState:
    """One server process's shared services."""

    config: Config
    client: "OpenDClient"
    verifier: "KeyVerifier"
    ledger: "Ledger"
    audit: "AuditLog | None"
    metrics: Metrics
    caps: "ServerCaps"
    stdio_key: "StdioKey | None" = None
    ledger_watch: "LedgerWatch | None" = None
    # Seals MCP request state (confirmation retries) alike on every replica; None: per process.
    request_state_key: bytes | None = None
    _use_written: dict[str, float] = field(default_factory=dict, repr=False)
    _writer: "AuditWriter | None" = field(default=None, repr=False)

    async def note_use(self, key_id: str) -> None:
        """Record that the key was used, at most every USE_WRITE_INTERVAL s per key; never fails
        a call. In a worker thread: the fsync must not stall other callers' requests."""
        now = time.monotonic()
        last = self._use_written.get(key_id)
        if last is not None and now - last < USE_WRITE_INTERVAL:
            return
        self._use_written[key_id] = now
        import sqlite3

        import anyio.to_thread

        from keystore.errors import LedgerError

        try:
            await anyio.to_thread.run_sync(self.ledger.record_use, key_id)
        except (sqlite3.Error, LedgerError) as exc:
            log.warning("could not record key use: %s", exc)

    def _audit_writer(self) -> "AuditWriter | None":
        if self.audit is None:
            return None
        writer = self._writer
        if writer is None or writer.audit is not self.audit:
            from futu_mcp.auditwriter import AuditWriter

            writer = self._writer = AuditWriter(self.audit, self.metrics.audit_failure)
        return writer

    async def audit_write(self, record: dict[str, Any], *, fsync: bool) -> bool:
        """Append one audit line and wait for it; False (and logged, counted) if it could not
        be written. For trade calls: an order is sent only after its intent line is written."""
        writer = self._audit_writer()
        if writer is None:
            return True
        return await writer.write(record, fsync=fsync)

    def audit_later(self, record: dict[str, Any]) -> None:
        """Queue a read call's audit line: the reply does not wait for the file (~0.45 ms);
        the line is written before any line of a later call, and before shutdown ends."""
        writer = self._audit_writer()
        if writer is not None:
            writer.put(record)

    async def audit_close(self) -> None:
        """Write every queued audit line (server shutdown)."""
        writer = self._writer
        if writer is not None:
            import anyio.to_thread

            await anyio.to_thread.run_sync(writer.close)


@dataclass
class Call:
    """One tool call: who, through which transport, with which SDK context."""

    state: AppState
    key: "KeyRecord"
    transport: str
    ctx: Any
    tool: str
    audited: bool = False  # the trade path wrote this call's audit lines itself
    order_sent: bool = False  # set by the trade path just before an order goes to OpenD

    @property
    def client(self) -> "OpenDClient":
        """The OpenD client."""
        return self.state.client

    async def accounts(self) -> list["TrdAcc"]:
        """The gateway's trading accounts."""
        return await self.state.client.get_acc_list()

    async def account_for(self, trd_env: str, acc_id: int | None, market: str | None) -> "TrdAcc":
        """The account a call is for: `acc_id` if given, else the first of `trd_env` for `market`."""
        accounts = [a for a in await self.accounts() if a.trd_env == trd_env]
        if acc_id is not None:
            for acc in accounts:
                if acc.acc_id == acc_id:
                    return acc
            raise no_such_account(trd_env, acc_id)
        # The default is the first account the key may use (`allowed_acc_ids`), never one it
        # was not given.
        allowed = self.key.limits.allowed_acc_ids
        for acc in accounts:
            if (market is None or market in acc.trdmarket_authority) and (
                allowed is None or acc.acc_id in allowed
            ):
                return acc
        where = f" for market {market}" if market else ""
        where += " that this key may use" if allowed is not None else ""
        raise ToolFailure(
            f"invalid argument: acc_id: no {trd_env} account{where} (see futu_list_accounts)",
            "invalid_argument",
        )

    def check_account(self, acc_id: int, scope: str) -> None:
        """Refuse an account the key may not use (`allowed_acc_ids`)."""
        from keystore.policy import Request

        self.allow(Request(scope=scope, acc_id=acc_id))

    def allow(self, request: "Request") -> None:
        """Refuse what the key's policy does not allow (no ledger): the one authorize → count
        the denial → refuse sequence of read tools, trade prechecks and account checks."""
        from keystore.policy import authorize

        self.deny(authorize(self.key, request))

    def deny(self, decision: "Decision") -> None:
        """Count and raise a policy refusal; nothing when `decision` allows."""
        if not decision.allowed:
            self.state.metrics.denial(decision.reason or "policy")
            raise ToolFailure(decision.message or "denied", decision.reason or "policy")


def no_such_account(trd_env: str, acc_id: int) -> ToolFailure:
    """`invalid argument: acc_id: no <env> account <id> ...`; past 2^53 it says why the id may be
    off by a few: a client that sent it as a JavaScript number rounded it."""
    hint = ""
    if acc_id > 1 << 53:
        hint = "; send acc_id as the string it lists: a JavaScript number this large is rounded"
    return ToolFailure(
        f"invalid argument: acc_id: no {trd_env} account {acc_id} (see futu_list_accounts{hint})",
        "invalid_argument",
    )


def trd_header(acc: "TrdAcc", market: str | None = None) -> "TrdAccount":
    """OpenD's TrdHeader for `acc`, scoped to `market` when the account may trade it."""
    from opend.codes import TrdMarket
    from opend.enums import TrdEnv
    from opend.models import TrdAccount

    names = acc.trdmarket_authority or ["HK"]
    name = market if market in names else names[0]
    return TrdAccount(TrdEnv[acc.trd_env or "SIMULATE"], int(acc.acc_id or 0), TrdMarket[name])
