"""Which API request fails, and how: seeded random faults plus faults a test asks for.

Random faults reproduce a flaky network and eBay's transient 500s (the same seed gives
the same run for the same sequence of requests); injected faults let a test put a lost
answer exactly on the publish it is about.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

SERVER_ERROR = "server_error"  # HTTP 500, errorId 25001, nothing done
TIMEOUT = "timeout"  # no answer for a long time, nothing done
RESET = "reset"  # connection reset, nothing done
LOST_RESPONSE = "lost_response"  # carried out, then the connection dropped
CONCURRENCY = "concurrency"  # HTTP 500, errorId 25025 "concurrent access", nothing done
FAULT_KINDS = (SERVER_ERROR, TIMEOUT, RESET, LOST_RESPONSE, CONCURRENCY)
NOTHING_DONE = frozenset({SERVER_ERROR, TIMEOUT, RESET, CONCURRENCY})


@dataclass
class _Injected:
    kind: str
    path: str | None  # exact, or a prefix when it ends with "*"
    method: str | None
    remaining: int
    skip: int

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class FaultPlan:
    def __init__(
        self,
        odds: dict[str, float] | None = None,
        seed: int | None = None,
        kinds: tuple[str, ...] = FAULT_KINDS,
    ) -> None:
        """`kinds`: the faults this sandbox knows (another marketplace's sandbox names
        its own)."""
        self.kinds = kinds
        self._odds: dict[str, float] = {kind: 0.0 for kind in kinds}
        self._random = random.Random(seed)
        self._injected: list[_Injected] = []
        self._lock = threading.Lock()
        self.set_odds(odds or {})

    def inject(
        self,
        kind: str,
        *,
        path: str | None = None,
        method: str | None = None,
        count: int = 1,
        after: int = 0,
    ) -> None:
        """Let `after` matching API requests pass, then make the next `count` fail with
        `kind`. `path` is exact, or a prefix when it ends with `*`; `method` narrows it
        (e.g. POST .../publish)."""
        if kind not in self.kinds:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(self.kinds)}")
        if count < 1 or after < 0:
            raise ValueError("count must be at least 1 and after not negative")
        with self._lock:
            self._injected.append(_Injected(kind, path, method and method.upper(), count, after))

    def set_odds(self, odds: dict[str, float]) -> None:
        """Change the random odds of the kinds named (the others keep theirs): a test
        lets the network heal, so that what its faults left in doubt can settle."""
        unknown = sorted(set(odds) - set(self.kinds))
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}; choose from {', '.join(self.kinds)}")
        with self._lock:
            merged = {kind: odds.get(kind, current) for kind, current in self._odds.items()}
            if any(not 0.0 <= value <= 1.0 for value in merged.values()):
                raise ValueError("fault odds must be probabilities between 0 and 1")
            if sum(merged.values()) > 1.0:
                raise ValueError("the fault odds add up to more than 1")
            self._odds = merged

    def clear(self) -> None:
        with self._lock:
            self._injected.clear()

    def draw(self, method: str, path: str, *, random_faults: bool = True) -> str | None:
        """The fault for this request, or None; `random_faults=False` asks for injected
        faults only."""
        with self._lock:
            for entry in self._injected:
                if entry.matches(method, path):
                    if entry.skip > 0:
                        entry.skip -= 1
                        return None
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._injected.remove(entry)
                    return entry.kind
            if not random_faults:
                return None
            roll = self._random.random()
            for kind, odds in self._odds.items():
                if roll < odds:
                    return kind
                roll -= odds
            return None
