"""Durations and pause ends as operators type them ('2h', '1d', '2026-01-06 09:00'),
read the same by the CLI and the dashboard."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """'30m', '2h', '1h30m', '90s', '1.5h' -> timedelta. Raises ValueError otherwise."""
    cleaned = text.strip()
    parts = _DURATION.findall(cleaned)
    if not parts or _DURATION.sub("", cleaned).strip():
        raise ValueError(f"{text!r} is not a duration; use forms like 30m, 2h, 1h30m or 90s")
    seconds = sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return timedelta(seconds=seconds)


# A pause that should outlast a year is a pause until `account resume`; anything later
# (99999999d, the year 9999) is a typo, and overflows the date arithmetic besides.
MAX_PAUSE = timedelta(days=366)


class UntilOutOfRange(ValueError):
    """--until is further ahead than MAX_PAUSE: a usage error (exit 2)."""


def parse_until(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """'2h', '30m', '1d' (from now), or a date-time such as '2026-01-06 09:00' or ISO 8601;
    a time without an offset is read in `zone`. Raises ValueError, also for the past, and
    UntilOutOfRange beyond MAX_PAUSE."""
    cleaned = text.strip()
    too_far = UntilOutOfRange(
        f"--until {text!r} is more than {MAX_PAUSE.days} days ahead; leave --until out to "
        "pause until `account resume`"
    )
    try:
        span = parse_duration(cleaned)
    except OverflowError:  # 1e400d: a duration, but no timedelta holds it
        raise too_far from None
    except ValueError:
        span = None
    if span is not None:
        if span > MAX_PAUSE:
            raise too_far
        moment = now + span
    else:
        try:
            parsed = datetime.fromisoformat(cleaned)
        except ValueError:
            raise ValueError(
                f"--until {text!r} is neither a duration (2h, 30m, 1d) nor a date-time "
                "such as '2026-01-06 09:00'"
            ) from None
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        # A difference, not now + MAX_PAUSE: a date near year 9999 must not overflow.
        if moment - now > MAX_PAUSE:
            raise too_far
    if moment <= now:
        raise ValueError(f"--until {text!r} is not in the future")
    return moment
