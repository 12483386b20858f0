"""eBay's per-application day budgets: every seller using one client_id shares them, and
they restart at midnight in the application's zone (US Pacific time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from upload_scheduler.platforms.ebay.sandbox.errors import rate_limited


@dataclass
class Usage:
    day: str = ""
    calls: int = 0  # Inventory and Account API calls answered
    account_calls: int = 0  # of which Account API calls
    refused: int = 0  # 429s answered today


class ApplicationQuota:
    def __init__(self, day_limit: int, account_day_limit: int, zone: str) -> None:
        self.day_limit = day_limit
        self.account_day_limit = account_day_limit
        self.zone = ZoneInfo(zone)
        self.usage: dict[str, Usage] = {}

    def count(self, client_id: str, now: datetime, *, account: bool) -> None:
        """One call of `client_id`, or 429 / 2001 (not counted, nothing done) when the
        application's day budget (or its Account API budget) is spent."""
        usage = self.today(client_id, now)
        if usage.calls >= self.day_limit or (
            account and usage.account_calls >= self.account_day_limit
        ):
            usage.refused += 1
            raise rate_limited()
        usage.calls += 1
        usage.account_calls += 1 if account else 0

    def spend(self, client_id: str, now: datetime) -> int:
        """Use up the rest of the application's day, as other sellers of the same app
        would; the calls it took."""
        usage = self.today(client_id, now)
        spent = max(0, self.day_limit - usage.calls)
        usage.calls += spent
        return spent

    def today(self, client_id: str, now: datetime) -> Usage:
        """The application's usage, restarted if its day has ended."""
        day = now.astimezone(self.zone).date().isoformat()
        usage = self.usage.setdefault(client_id, Usage(day))
        if usage.day != day:
            usage.day, usage.calls, usage.account_calls, usage.refused = day, 0, 0, 0
        return usage

    def snapshot(self, now: datetime) -> dict[str, dict[str, object]]:
        return {
            client_id: {
                "day": usage.day,
                "calls": usage.calls,
                "account_calls": usage.account_calls,
                "refused": usage.refused,
                "day_limit": self.day_limit,
            }
            for client_id in sorted(self.usage)
            for usage in [self.today(client_id, now)]
        }
