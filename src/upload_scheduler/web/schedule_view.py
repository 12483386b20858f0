"""The Schedule page: each account's slots today and tomorrow (its own time zone) on a
24-hour axis with its business hours marked, counted in BIN_MINUTES bins, so what the
planner did shows at a glance without drawing a million points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from upload_scheduler.config import Settings
from upload_scheduler.store.tables import upload_queue

BIN_MINUTES = 15
BINS = 24 * 60 // BIN_MINUTES


@dataclass(frozen=True)
class DayLine:
    day: date
    bins: list[int]  # items per bin, BINS of them
    total: int

    @property
    def peak(self) -> int:
        return max(self.bins) if self.bins else 0

    def bars(self) -> list[tuple[float, float, float, int]]:
        """(x %, width %, height % of the peak, count) of each non-empty bin."""
        peak = self.peak or 1
        width = 100 / BINS
        return [
            (index * width, width, 100 * count / peak, count)
            for index, count in enumerate(self.bins)
            if count
        ]


@dataclass(frozen=True)
class AccountSchedule:
    platform: str
    account_id: str
    zone: ZoneInfo
    start_hour: int
    end_hour: int
    daily_limit: int
    days: list[DayLine]

    def hours_band(self) -> list[tuple[float, float]]:
        """(x %, width %) of the business hours; two bands when they cross midnight."""
        start, end = self.start_hour, self.end_hour
        if start < end:
            return [(start * 100 / 24, (end - start) * 100 / 24)]
        return [(0.0, end * 100 / 24), (start * 100 / 24, (24 - start) * 100 / 24)]


def schedules(
    settings: Settings, conn: Connection, now: datetime, platform: str = "", account: str = ""
) -> list[AccountSchedule]:
    """Today's and tomorrow's planned items (every status but cancelled) per account."""
    found = []
    for name, account_id in settings.all_accounts():
        if (platform and name != platform) or (account and account_id != account):
            continue
        values = settings.account(name, account_id)
        zone = values.zone
        today = now.astimezone(zone).date()
        days = [_day(conn, name, account_id, zone, today + timedelta(days=d)) for d in (0, 1)]
        found.append(
            AccountSchedule(
                name,
                account_id,
                zone,
                values.business_hours_start,
                values.business_hours_end,
                values.daily_limit,
                days,
            )
        )
    return found


def _day(conn: Connection, platform: str, account_id: str, zone: ZoneInfo, day: date) -> DayLine:
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    q = upload_queue.c
    rows = conn.execute(
        select(q.scheduled_time, func.count())
        .where(
            q.platform == platform,
            q.account_id == account_id,
            q.status != "cancelled",
            q.scheduled_time >= start,
            q.scheduled_time < end,
        )
        .group_by(q.scheduled_time)
    )
    bins = [0] * BINS
    for moment, count in rows:
        local = moment.astimezone(zone)
        index = (local.hour * 60 + local.minute) // BIN_MINUTES
        bins[min(index, BINS - 1)] += int(count)
    return DayLine(day, bins, sum(bins))
