"""Time as an injectable dependency.

Pure functions take `now`; only loops read a `Clock`. Unit tests drive a `FakeClock`
and never sleep, acceptance tests run the `SystemClock` with short intervals.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def wait(self, seconds: float, stop_event: threading.Event | None = None) -> bool:
        """Wait up to `seconds`; return True if `stop_event` was set meanwhile."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float, stop_event: threading.Event | None = None) -> bool:
        seconds = max(0.0, seconds)
        if stop_event is None:
            threading.Event().wait(seconds)
            return False
        return stop_event.wait(seconds)


class FakeClock:
    """A clock that moves only when told to; `wait` advances it instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def wait(self, seconds: float, stop_event: threading.Event | None = None) -> bool:
        seconds = max(0.0, seconds)
        self.waits.append(seconds)
        if stop_event is not None and stop_event.is_set():
            return True
        self.advance(seconds)
        return False
