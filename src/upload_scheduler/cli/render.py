"""Small formatting helpers shared by commands: times in the configured zone, durations."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from upload_scheduler.operations.until import parse_duration

__all__ = ["interval", "local_time", "parse_duration"]


def local_time(moment: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "-" if moment is None else moment.astimezone(zone).strftime(fmt)


def interval(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f}s"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"
