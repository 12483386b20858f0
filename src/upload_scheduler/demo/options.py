"""What the user asked for (`--items`, `--accounts`, `--minutes`, ...) and the settings
derived from it, checked before anything is written or started."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

PLATFORM = "base"  # the demo runs the built-in BASE sandbox
DEFAULT_ITEMS = 60
DEFAULT_ACCOUNTS = 2
DEFAULT_MINUTES = 2.0
DEFAULT_WORKDIR = "upload-scheduler-demo"
MAX_ITEMS = 2000
MAX_ACCOUNTS = 10
MAX_MINUTES = 60.0

# Item creations of one shop start at least this far apart (BASE's advice is 2 s; the
# demo compresses time) unless the items need them closer.
PREFERRED_INTERVAL = 1.0
# Slots are planned this much further apart than the interval, leaving room for retries.
SLOT_HEADROOM = 2.0
SMALLEST_INTERVAL = 0.2
# The whole run is bounded: the window plus this much for stragglers and retries.
GRACE_SECONDS = 120.0
EXTRA_ROWS = 2  # the blocked items, queued with the others


@dataclass(frozen=True)
class DemoOptions:
    items: int = DEFAULT_ITEMS
    accounts: int = DEFAULT_ACCOUNTS
    minutes: float = DEFAULT_MINUTES
    workdir: Path = Path(DEFAULT_WORKDIR)
    fresh: bool = False


@dataclass(frozen=True)
class DemoPlan:
    """The derived settings: a demo that finishes within its minutes at any hour."""

    options: DemoOptions
    min_interval_seconds: float

    @property
    def account_ids(self) -> list[str]:
        return [f"demo_shop_{n}" for n in range(1, self.options.accounts + 1)]

    @property
    def window_seconds(self) -> float:
        return self.options.minutes * 60

    @property
    def deadline_seconds(self) -> float:
        """From queueing to giving up: minutes + 2 min."""
        return self.window_seconds + GRACE_SECONDS

    @property
    def queued_at_start(self) -> int:
        """Valid items but the urgent one, plus the blocked ones."""
        return self.options.items - 1 + EXTRA_ROWS


def make_plan(options: DemoOptions) -> DemoPlan:
    """Raises ValueError with a message for the user when the numbers cannot work."""
    if not 1 <= options.items <= MAX_ITEMS:
        raise ValueError(f"--items must be between 1 and {MAX_ITEMS}, got {options.items}")
    if not 1 <= options.accounts <= MAX_ACCOUNTS:
        raise ValueError(f"--accounts must be between 1 and {MAX_ACCOUNTS}, got {options.accounts}")
    if not 0 < options.minutes <= MAX_MINUTES:
        raise ValueError(f"--minutes must be more than 0 and at most {MAX_MINUTES:g}")
    per_account = math.ceil((options.items + EXTRA_ROWS) / options.accounts)
    spacing = options.minutes * 60 / per_account
    interval = min(PREFERRED_INTERVAL, spacing / SLOT_HEADROOM)
    if interval < SMALLEST_INTERVAL:
        most = int(options.minutes * 60 / (SMALLEST_INTERVAL * SLOT_HEADROOM)) * options.accounts
        raise ValueError(
            f"{options.items} items do not fit in {options.minutes:g} minute(s) with "
            f"{options.accounts} account(s) (at most about {most - EXTRA_ROWS}); "
            "give more --minutes or --accounts"
        )
    return DemoPlan(options, math.floor(interval * 100) / 100)
