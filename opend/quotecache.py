"""The latest basic quote of each security, as OpenD pushed it (or last replied it) on one link.

OpenD itself answers Qot_GetBasicQot from a cache fed by pushes; keeping the same cache on our
side saves the round trip. An entry is used only while it is younger than the TTL and came over
the link that is still live, so a quote is never older than the TTL and never outlives its link.
It does no I/O; the client fills it from Qot_UpdateBasicQot pushes and from replies.
"""

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from opend.codes import Security
from opend.models import BasicQot


@dataclass(slots=True)
class _Entry:
    quote: BasicQot
    link: object
    at: float


class QuoteCache:
    """Basic quotes by code, each stamped with when it was known fresh and the link it came on."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0:
            raise ValueError("the quote cache TTL must not be negative")
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, link: object, quotes: Iterable[BasicQot], *, at: float | None = None) -> None:
        """Store quotes that were current at `at` (default now).

        A reply read after a newer push must not replace it, so an entry stamped later than `at`
        is kept: pass the time the request was sent for a reply.
        """
        at = self.clock() if at is None else at
        for quote in quotes:
            if quote.code is None:
                continue
            held = self._entries.get(quote.code)
            if held is not None and held.link is link and held.at > at:
                continue
            self._entries[quote.code] = _Entry(quote, link, at)

    def get(self, link: object, codes: Sequence[Security]) -> list[BasicQot] | None:
        """The quotes of every code in order, or None unless each is fresh and from `link`."""
        if not codes:
            return None
        oldest = self.clock() - self.ttl
        found = []
        for code in codes:
            entry = self._entries.get(str(code))
            if entry is None or entry.link is not link or entry.at <= oldest:
                return None
            found.append(entry.quote)
        return found

    def discard(self, codes: Iterable[Security]) -> None:
        """Forget these codes (their subscription is being released: no more pushes)."""
        for code in codes:
            self._entries.pop(str(code), None)

    def clear(self) -> None:
        """Forget everything (the link dropped)."""
        self._entries.clear()
