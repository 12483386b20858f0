"""Which request fails, and how: seeded random faults plus faults a test asks for.

Random faults reproduce a flaky network in a demo (the same seed gives the same run for
the same sequence of requests); injected faults let a test put a lost response exactly
on the items/add it is about.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

SERVER_ERROR = "server_error"  # HTTP 500, nothing done
TIMEOUT = "timeout"  # no answer for a long time, nothing done
RESET = "reset"  # connection reset, nothing done
LOST_RESPONSE = "lost_response"  # carried out, then the connection dropped
FAULT_KINDS = (SERVER_ERROR, TIMEOUT, RESET, LOST_RESPONSE)


@dataclass
class _Injected:
    kind: str
    path: str | None
    remaining: int
    skip: int


class FaultPlan:
    def __init__(
        self,
        *,
        p_server_error: float = 0.0,
        p_timeout: float = 0.0,
        p_reset: float = 0.0,
        p_lost_response: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self._odds: tuple[tuple[str, float], ...] = (
            (SERVER_ERROR, p_server_error),
            (TIMEOUT, p_timeout),
            (RESET, p_reset),
            (LOST_RESPONSE, p_lost_response),
        )
        self._random = random.Random(seed)
        self._injected: list[_Injected] = []
        self._lock = threading.Lock()

    def inject(self, kind: str, *, path: str | None = None, count: int = 1, after: int = 0) -> None:
        """Let `after` API requests (to `path`, if given) pass, then make the next `count`
        fail with `kind`: e.g. the second image of an item."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        if count < 1 or after < 0:
            raise ValueError("count must be at least 1 and after not negative")
        with self._lock:
            self._injected.append(_Injected(kind, path, count, after))

    def set_odds(self, odds: dict[str, float]) -> None:
        """Change the random odds of the kinds named (the others keep theirs): a test
        lets the network heal, so that what its faults left in doubt can settle."""
        unknown = sorted(set(odds) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}; choose from {', '.join(FAULT_KINDS)}")
        with self._lock:
            merged = {kind: odds.get(kind, current) for kind, current in self._odds}
            if any(not 0.0 <= value <= 1.0 for value in merged.values()):
                raise ValueError("fault odds must be probabilities between 0 and 1")
            if sum(merged.values()) > 1.0:
                raise ValueError("the fault odds add up to more than 1")
            self._odds = tuple(merged.items())

    def clear(self) -> None:
        with self._lock:
            self._injected.clear()

    def draw(self, path: str) -> str | None:
        """The fault for this request, or None."""
        with self._lock:
            for entry in self._injected:
                if entry.path is None or entry.path == path:
                    if entry.skip > 0:
                        entry.skip -= 1
                        return None
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._injected.remove(entry)
                    return entry.kind
            roll = self._random.random()
            for kind, odds in self._odds:
                if roll < odds:
                    return kind
                roll -= odds
            return None
