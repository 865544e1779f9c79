"""The simulator's own clock: wall time by default, frozen and steppable for tests.

Prices, klines and the matching engine read time only from here, so a test can make a resting
limit order fill by advancing the clock instead of sleeping.
"""

import time


class SimClock:
    """Seconds since the epoch as the simulator sees them."""

    def __init__(self, start_time: float | None = None) -> None:
        # A start time freezes the clock: it then moves only by `advance`.
        self._frozen = start_time
        self._offset = 0.0

    @property
    def frozen(self) -> bool:
        """True when only `advance` moves the clock (deterministic tests)."""
        return self._frozen is not None

    def now(self) -> float:
        """Current simulated time (epoch seconds)."""
        base = time.time() if self._frozen is None else self._frozen
        return base + self._offset

    def monotonic(self) -> float:
        """Seconds for rate windows and the one-minute subscription rule: real elapsed time plus
        every `advance`, so limits run in wall time yet tests can step past them."""
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move simulated time forward; never backward, so history never changes under a client."""
        if seconds < 0:
            raise ValueError("the simulator clock only moves forward")
        self._offset += seconds
