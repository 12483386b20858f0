"""When to restart a dead child: pure functions of times the caller gives (monotonic
seconds), so the tests need no clock.

The first restart is immediate (a killed worker should be back at once); repeated
failures back off exponentially; more than `crash_limit` restarts within the window is
a crash loop, retried only at a slow pace so a broken account does not burn the CPU
the other accounts need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from upload_scheduler import defaults


@dataclass(frozen=True)
class RestartDecision:
    delay: float  # seconds until the next start
    failures: int  # consecutive failures, this one included
    crash_looping: bool


@dataclass(frozen=True)
class RestartPolicy:
    backoff_base_seconds: float = defaults.MANAGER_BACKOFF_BASE_SECONDS
    backoff_max_seconds: float = defaults.MANAGER_BACKOFF_MAX_SECONDS
    crash_limit: int = defaults.MANAGER_CRASH_LIMIT
    crash_window_seconds: float = defaults.MANAGER_CRASH_WINDOW_SECONDS
    crash_retry_seconds: float = defaults.MANAGER_CRASH_RETRY_SECONDS
    stable_seconds: float = defaults.MANAGER_STABLE_SECONDS
    lease_retry_seconds: float = defaults.MANAGER_LEASE_RETRY_SECONDS

    def backoff(self, failures: int) -> float:
        """0 for the first failure, then base, 2*base, 4*base ... capped."""
        if failures <= 1:
            return 0.0
        return min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (failures - 2))

    def recent(self, restarts: Sequence[float], now: float) -> list[float]:
        """The restarts inside the crash window ending at `now`."""
        return [t for t in restarts if now - t < self.crash_window_seconds]

    def crash_looping(self, restarts: Sequence[float], now: float) -> bool:
        """True when one more restart would make more than `crash_limit` in the window."""
        return len(self.recent(restarts, now)) >= self.crash_limit

    def decide(
        self, *, started_at: float, exited_at: float, failures: int, restarts: Sequence[float]
    ) -> RestartDecision:
        """What to do about a child that started at `started_at` and exited at
        `exited_at`, after `failures` consecutive failures and the given restarts."""
        failures = 1 if exited_at - started_at >= self.stable_seconds else failures + 1
        looping = self.crash_looping(restarts, exited_at)
        delay = self.crash_retry_seconds if looping else self.backoff(failures)
        return RestartDecision(delay, failures, looping)

    def is_stable(self, started_at: float, now: float) -> bool:
        return now - started_at >= self.stable_seconds
