"""Business hours as UTC instants: the arithmetic the planner and the workers' limits
share. Its own module so that a worker, which needs only this, does not load the
planner (about 1 MB per daemon process)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

Segment = tuple[datetime, datetime]

__all__ = ["Segment", "day_segments", "in_business_hours", "local_hour"]


def local_hour(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of `hour` o'clock (0-24) on the local calendar day `day`."""
    if hour >= 24:
        return local_hour(day + timedelta(days=1), hour - 24, zone)
    return datetime.combine(day, time(hour), zone).astimezone(UTC)


def day_segments(day: date, start_hour: int, end_hour: int, zone: ZoneInfo) -> list[Segment]:
    """Business hours inside the local calendar day `day`.

    Quotas are per local day, so a window that crosses midnight contributes its two
    ends to the day they fall in: 22-02 gives [00:00, 02:00) and [22:00, 24:00).
    """
    return list(_day_segments(day, start_hour, end_hour, zone))


@lru_cache(maxsize=512)
def _day_segments(day: date, start_hour: int, end_hour: int, zone: ZoneInfo) -> tuple[Segment, ...]:
    """Cached: every admission check of a worker asks for the same few days."""
    start, end = start_hour % 24, end_hour if end_hour == 24 else end_hour % 24
    if start < end:
        pieces = [(start, end)]
    else:
        pieces = [(0, end), (start, 24)]
    return tuple((local_hour(day, a, zone), local_hour(day, b, zone)) for a, b in pieces if a < b)


def in_business_hours(moment: datetime, start_hour: int, end_hour: int, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone)
    return any(a <= moment < b for a, b in day_segments(local.date(), start_hour, end_hour, zone))
