"""Wall-clock time, injectable so tests can expire sessions without waiting."""

from __future__ import annotations

import time


class Clock:
    """Seconds since the Unix epoch. Subclass or replace ``now`` in tests."""

    def now(self) -> float:
        return time.time()

    def now_ms(self) -> int:
        return int(self.now() * 1000)


class FakeClock(Clock):
    """A clock that only moves when told (tests)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
