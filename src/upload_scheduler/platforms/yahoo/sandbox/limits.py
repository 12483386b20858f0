"""Yahoo!'s two request limits: one request per URL interval for each (api, seller_id),
and a day budget per application (client_id) shared by every store on it, ending at
midnight in Japan. A refused request is not counted and does nothing. (The images'
hour budget is the store's: `items.Store.count_upload`.)

The interval runs from the arrival of the last request let through for that (api,
store): a refused one does not restart it, so a client that waits the interval after
its last accepted request always passes.
"""

from __future__ import annotations

from datetime import datetime

from upload_scheduler.platforms.ebay.sandbox.errors import EbayError
from upload_scheduler.platforms.ebay.sandbox.quota import ApplicationQuota
from upload_scheduler.platforms.yahoo.sandbox.answers import day_budget_spent, too_many_requests


class UrlPacer:
    def __init__(self, interval: float, tolerance: float) -> None:
        self.interval = interval
        self.tolerance = tolerance
        self.last: dict[tuple[str, str], datetime] = {}

    def check(self, api: str, seller_id: str, arrived: datetime) -> None:
        """429 (nothing done) if the request came too soon after the last one let through."""
        before = self.last.get((api, seller_id))
        if before is not None:
            gap = (arrived - before).total_seconds()
            if gap < self.interval - self.tolerance:
                raise too_many_requests(self.interval - gap)

    def note(self, api: str, seller_id: str, arrived: datetime) -> None:
        """The request was let through: the interval restarts at its arrival."""
        before = self.last.get((api, seller_id))
        self.last[(api, seller_id)] = arrived if before is None else max(arrived, before)


class AppQuota:
    """The eBay sandbox's application day budget (the same bookkeeping), refusing with
    Yahoo!'s 403 instead of eBay's 429."""

    def __init__(self, day_limit: int, zone: str) -> None:
        self._quota = ApplicationQuota(day_limit, day_limit, zone)

    def count(self, client_id: str, now: datetime) -> None:
        """One request of `client_id`, or 403 Forbidden when its day is spent."""
        try:
            self._quota.count(client_id, now, account=False)
        except EbayError:
            raise day_budget_spent() from None

    def spend(self, client_id: str, now: datetime) -> int:
        """Use up the rest of the application's day (other stores on it); how much."""
        return self._quota.spend(client_id, now)

    def to_json(self, now: datetime) -> dict[str, dict[str, object]]:
        return self._quota.snapshot(now)
