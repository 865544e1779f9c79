"""Which key holds which MCP session over HTTP, so one key cannot crowd out the others.

Each key may hold `max_sessions_per_key` sessions (an opening request in flight counts, so a
burst of initializes cannot overshoot), and a session with no request in flight (an open GET
stream counts as one) for `session_idle_timeout` seconds is due to be closed. The book only
keeps count; `futu_mcp.gate` asks it before opening a session and closes what it names.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Session:
    """One open session: who owns it, and what it takes to address it again."""

    key_id: str
    owner: Any  # the SDK's AuthenticatedUser of the opening request (sessions are bound to it)
    host: bytes  # the Host header of the opening request, which passed the Host check
    in_flight: int = 0
    idle_since: float = 0.0


class SessionBook:
    """Open sessions by key, with reservations for opening requests still in flight."""

    def __init__(
        self, per_key: int, idle_timeout: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_key = per_key
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, int] = {}

    def held(self, key_id: str) -> int:
        """Sessions the key holds, counting opening requests in flight."""
        open_now = sum(1 for s in self._sessions.values() if s.key_id == key_id)
        return open_now + self._pending.get(key_id, 0)

    def reserve(self, key_id: str) -> bool:
        """Take a slot for an opening request; False when the key is at its cap."""
        if self.held(key_id) >= self.per_key:
            return False
        self._pending[key_id] = self._pending.get(key_id, 0) + 1
        return True

    def settle(self, key_id: str, session_id: str | None, owner: Any, host: bytes) -> None:
        """The opening request is answered: its slot becomes `session_id`'s, or is freed (None)."""
        left = self._pending.get(key_id, 0) - 1
        if left > 0:
            self._pending[key_id] = left
        else:
            self._pending.pop(key_id, None)
        if session_id is not None:
            self._sessions[session_id] = Session(key_id, owner, host, idle_since=self._clock())

    def enter(self, session_id: str) -> None:
        """A request for the session starts: it is not idle while one is in flight."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.in_flight += 1

    def leave(self, session_id: str) -> None:
        """A request for the session ended: the idle countdown starts again at zero in flight."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.in_flight -= 1
            if session.in_flight <= 0:
                session.in_flight = 0
                session.idle_since = self._clock()

    def drop(self, session_id: str) -> Session | None:
        """Forget a session (closed, or unknown to the SDK); its slot is free at once."""
        return self._sessions.pop(session_id, None)

    def get(self, session_id: str) -> Session | None:
        """The session, if the book holds it."""
        return self._sessions.get(session_id)

    def of_key(self, key_id: str) -> list[str]:
        """The ids of the key's open sessions."""
        return [sid for sid, s in self._sessions.items() if s.key_id == key_id]

    def key_ids(self) -> set[str]:
        """Keys that hold at least one open session."""
        return {s.key_id for s in self._sessions.values()}

    def idle(self) -> list[str]:
        """Sessions with nothing in flight for `idle_timeout` seconds or more."""
        deadline = self._clock() - self.idle_timeout
        return [
            sid
            for sid, s in self._sessions.items()
            if s.in_flight == 0 and s.idle_since <= deadline
        ]

    def counts(self) -> dict[str, int]:
        """Open sessions by key id (for /metrics)."""
        counts: dict[str, int] = {}
        for session in self._sessions.values():
            counts[session.key_id] = counts.get(session.key_id, 0) + 1
        return counts
