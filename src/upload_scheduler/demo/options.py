"""What the user asked for (`--items`, `--accounts`, `--minutes`, `--platforms`, ...) and
the settings derived from it, checked before anything is written or started."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

PLATFORM = "base"  # the built-in BASE sandbox: the demo's first platform
EBAY = "ebay"
YAHOO = "yahoo"
PLATFORMS = (PLATFORM, EBAY, YAHOO)  # what `--platforms` may name, in the order they run
DEFAULT_PLATFORMS = ",".join(PLATFORMS)
PLATFORM_NAMES = {PLATFORM: "BASE", EBAY: "eBay", YAHOO: "Yahoo!"}  # as a person writes them
DEFAULT_ITEMS = 60
DEFAULT_ACCOUNTS = 2
DEFAULT_MINUTES = 2.0
DEFAULT_WORKDIR = "upload-scheduler-demo"
MAX_ITEMS = 2000
MAX_ACCOUNTS = 10
MAX_MINUTES = 60.0
EBAY_ACCOUNTS = ("demo_seller_1",)  # one eBay seller, as the demo has
# One Yahoo! store: the account, and the store it acts for ([account_overrides] seller_id).
YAHOO_STORES = {"demo_store_1": "demo-store"}

# Item creations of one shop start at least this far apart (BASE's advice is 2 s; the
# demo compresses time) unless the items need them closer.
PREFERRED_INTERVAL = 1.0
# Slots are planned this much further apart than the interval, leaving room for retries.
SLOT_HEADROOM = 2.0
SMALLEST_INTERVAL = 0.2
# An eBay item is three calls (inventory item, offer, publish): never paced closer.
EBAY_SMALLEST_INTERVAL = 0.5
# A Yahoo! item is editItem, one upload per image (each waiting for the per-URL
# interval after the last), setStock and submitItem: never paced closer either.
YAHOO_SMALLEST_INTERVAL = 0.5
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
    platforms: tuple[str, ...] = PLATFORMS


@dataclass(frozen=True)
class DemoPlan:
    """The derived settings: a demo that finishes within its minutes at any hour."""

    options: DemoOptions
    min_interval_seconds: float  # BASE's
    ebay_min_interval_seconds: float = PREFERRED_INTERVAL
    yahoo_min_interval_seconds: float = PREFERRED_INTERVAL

    @property
    def platforms(self) -> tuple[str, ...]:
        return self.options.platforms

    @property
    def account_ids(self) -> list[str]:
        """BASE's shops."""
        return [f"demo_shop_{n}" for n in range(1, self.options.accounts + 1)]

    @property
    def ebay_account_ids(self) -> list[str]:
        return list(EBAY_ACCOUNTS)

    @property
    def yahoo_account_ids(self) -> list[str]:
        return list(YAHOO_STORES)

    def accounts_of(self, platform: str) -> list[str]:
        return {EBAY: self.ebay_account_ids, YAHOO: self.yahoo_account_ids}.get(
            platform, self.account_ids
        )

    def interval_of(self, platform: str) -> float:
        return {
            EBAY: self.ebay_min_interval_seconds,
            YAHOO: self.yahoo_min_interval_seconds,
        }.get(platform, self.min_interval_seconds)

    @property
    def multi(self) -> bool:
        """More than one marketplace: the output names the platform of each line."""
        return len(self.platforms) > 1

    @property
    def window_seconds(self) -> float:
        return self.options.minutes * 60

    @property
    def deadline_seconds(self) -> float:
        """From queueing to giving up: minutes + 2 min."""
        return self.window_seconds + GRACE_SECONDS

    @property
    def queued_at_start(self) -> int:
        """Valid items but the urgent one, plus the blocked ones (on each platform)."""
        return self.options.items - 1 + EXTRA_ROWS


def spoken(names: list[str]) -> str:
    """["BASE", "eBay", "Yahoo!"] -> "BASE, eBay and Yahoo!", as a sentence lists them."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def platform_names(platforms: tuple[str, ...]) -> str:
    """The run's marketplaces as a person writes them: "BASE and eBay"."""
    return spoken([PLATFORM_NAMES[p] for p in platforms])


def parse_platforms(text: str) -> tuple[str, ...]:
    """`--platforms yahoo,base` -> ("base", "yahoo"), in the demo's own order. Raises
    ValueError naming what is wrong."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PLATFORMS]
    if unknown or not names:
        raise ValueError(f"--platforms takes a comma list of {', '.join(PLATFORMS)}; got {text!r}")
    return tuple(p for p in PLATFORMS if p in names)


def make_plan(options: DemoOptions) -> DemoPlan:
    """Raises ValueError with a message for the user when the numbers cannot work."""
    if not 1 <= options.items <= MAX_ITEMS:
        raise ValueError(f"--items must be between 1 and {MAX_ITEMS}, got {options.items}")
    if not 1 <= options.accounts <= MAX_ACCOUNTS:
        raise ValueError(f"--accounts must be between 1 and {MAX_ACCOUNTS}, got {options.accounts}")
    if not 0 < options.minutes <= MAX_MINUTES:
        raise ValueError(f"--minutes must be more than 0 and at most {MAX_MINUTES:g}")
    if not options.platforms or any(p not in PLATFORMS for p in options.platforms):
        raise ValueError(f"--platforms takes a comma list of {', '.join(PLATFORMS)}")
    interval = _interval(options, options.accounts, SMALLEST_INTERVAL, "account(s)")
    ebay_interval = yahoo_interval = PREFERRED_INTERVAL
    if EBAY in options.platforms:
        ebay_interval = _interval(
            options, len(EBAY_ACCOUNTS), EBAY_SMALLEST_INTERVAL, "eBay seller"
        )
    if YAHOO in options.platforms:
        yahoo_interval = _interval(
            options, len(YAHOO_STORES), YAHOO_SMALLEST_INTERVAL, "Yahoo! store"
        )
    return DemoPlan(options, interval, ebay_interval, yahoo_interval)


def _interval(options: DemoOptions, accounts: int, smallest: float, what: str) -> float:
    """The spacing of one platform's item creations: the preferred one unless the items
    of an account need them closer, never below `smallest`."""
    per_account = math.ceil((options.items + EXTRA_ROWS) / accounts)
    spacing = options.minutes * 60 / per_account
    interval = min(PREFERRED_INTERVAL, spacing / SLOT_HEADROOM)
    if interval < smallest:
        most = int(options.minutes * 60 / (smallest * SLOT_HEADROOM)) * accounts
        raise ValueError(
            f"{options.items} items do not fit in {options.minutes:g} minute(s) with "
            f"{accounts} {what} (at most about {most - EXTRA_ROWS}); give more --minutes"
            + (" or --accounts" if what == "account(s)" else "")
        )
    return math.floor(interval * 100) / 100
