"""Yahoo!'s two request limits: one request per URL interval for each (api, seller_id),
and a day budget per application (client_id) shared by every store on it, ending at
midnight in Japan. A refused request is not counted and does nothing. (The images'
hour budget is the store's: `items.Store.count_upload`.)

The interval runs from the arrival of the last request let through for that (api,
store): a refused one does not restart it, so a client that waits the interval after
its last accepted request always passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

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


@dataclass
class Usage:
    day: str = ""
    calls: int = 0  # requests let through today
    refused: int = 0  # 403s answered today


class AppQuota:
    def __init__(self, day_limit: int, zone: str) -> None:
        self.day_limit = day_limit
        self.zone = ZoneInfo(zone)
        self.usage: dict[str, Usage] = {}

    def count(self, client_id: str, now: datetime) -> None:
        """One request of `client_id`, or 403 Forbidden when its day is spent."""
        usage = self.today(client_id, now)
        if usage.calls >= self.day_limit:
            usage.refused += 1
            raise day_budget_spent()
        usage.calls += 1

    def spend(self, client_id: str, now: datetime) -> int:
        """Use up the rest of the application's day (other stores on it); how much."""
        usage = self.today(client_id, now)
        spent = max(0, self.day_limit - usage.calls)
        usage.calls += spent
        return spent

    def today(self, client_id: str, now: datetime) -> Usage:
        day = now.astimezone(self.zone).date().isoformat()
        usage = self.usage.setdefault(client_id, Usage(day))
        if usage.day != day:
            usage.day, usage.calls, usage.refused = day, 0, 0
        return usage

    def to_json(self, now: datetime) -> dict[str, dict[str, object]]:
        return {
            client_id: {
                "day": usage.day,
                "calls": usage.calls,
                "refused": usage.refused,
                "day_limit": self.day_limit,
            }
            for client_id in sorted(self.usage)
            for usage in [self.today(client_id, now)]
        }
