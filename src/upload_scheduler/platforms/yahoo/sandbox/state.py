"""Everything the Yahoo! sandbox holds: the logins, the limits and the stores, behind
one lock that callers hold around each request."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.yahoo.sandbox.items import Store
from upload_scheduler.platforms.yahoo.sandbox.limits import AppQuota, UrlPacer
from upload_scheduler.platforms.yahoo.sandbox.oauth import Grants
from upload_scheduler.platforms.yahoo.sandbox.options import YahooSandboxOptions


class YahooSandboxState:
    def __init__(self, options: YahooSandboxOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self.lock = threading.RLock()
        self.grants = Grants(options, clock)
        self.pacer = UrlPacer(options.url_interval, options.url_tolerance)
        self.quota = AppQuota(options.app_day_limit, options.timezone)
        self.stores: dict[str, Store] = {}

    def store(self, seller_id: str, now: datetime) -> Store:
        """The store, its due publishes carried out."""
        store = self.stores.setdefault(seller_id, Store(seller_id))
        store.settle(now)
        return store

    def snapshot(self, seller_id: str | None = None) -> dict[str, Any]:
        """What GET /_sandbox/state answers: the stores' items (editing side, published
        snapshot, pending change), the applications' usage today and the logins."""
        now = self.clock.now()
        names = [seller_id] if seller_id else sorted(self.stores)
        return {
            "stores": {name: self.store(name, now).to_json() for name in names},
            "applications": self.quota.to_json(now),
            "logins": self.grants.logins(),
        }
