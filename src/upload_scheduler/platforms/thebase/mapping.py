"""BASE's answers translated into the worker's error classes (DESIGN.md, "Errors from a
platform"). Pure functions of the error and `now`, so the time arithmetic is tested
without a server or a clock."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from upload_scheduler.platforms.errors import (
    Misconfigured,
    Permanent,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from upload_scheduler.platforms.thebase.client import ApiError, WireError
from upload_scheduler.platforms.wire import is_wrong_endpoint as _wrong_url
from upload_scheduler.platforms.wire import lost_answer
from upload_scheduler.platforms.wire import wrong_endpoint as _wrong_url_error

HOUR_LIMIT = "hour_api_limit"
DAY_LIMIT = "day_api_limit"
# BASE's answer to the 1,000-a-day registration limit is not documented (BASE_API.md);
# this is the sandbox's code for it. On the real API the worker's own daily_limit keeps
# us below it.
ITEM_LIMIT = "item_limit"
_TOKEN_WORDS = ("アクセストークン", "access token", "access_token")


def is_invalid_token(err: ApiError) -> bool:
    """BASE says "invalid_request: アクセストークンが無効です。" (or 不正です) for a bad or
    expired access token. invalid_request has other meanings too (an item that cannot be
    edited), so the description decides. A 401 is taken at its word."""
    if err.status == 401:
        return True
    if err.code not in ("invalid_request", "invalid_token"):
        return False
    description = err.description.lower()
    return err.code == "invalid_token" or any(word in description for word in _TOKEN_WORDS)


def is_wrong_endpoint(err: ApiError) -> bool:
    """Not BASE answering but something else at a wrong URL (`wire.is_wrong_endpoint`)."""
    return _wrong_url(err.status, err.platform_body)


def wrong_endpoint(err: ApiError) -> Misconfigured:
    return _wrong_url_error(err.status, err.path)


def map_api_error(
    err: ApiError,
    *,
    now: datetime,
    zone: tzinfo,
    what: str,
    creating: bool = False,
    effect: str = "the item may have been created",
) -> PlatformError:
    """An error answer from an items endpoint (invalid tokens are handled before this).
    A 5xx on items/add may come after BASE stored the item (a gateway timing out in front
    of it), so the item must then be looked up before it is created again. A wrong URL
    is no item's fault: Misconfigured."""
    if is_wrong_endpoint(err):
        return wrong_endpoint(err)
    text = f"{what}: BASE answered {err.code}: {err.description or '(no description)'}"
    if err.code == HOUR_LIMIT or err.status == 429:
        return RateLimited(f"{text}; paused until the next full hour", next_hour(now))
    if err.code == DAY_LIMIT:
        return RateLimited(f"{text}; paused until tomorrow", next_local_midnight(now, zone))
    if err.code == ITEM_LIMIT:
        return QuotaExhausted(
            f"{text}; the item waits for tomorrow", next_local_midnight(now, zone)
        )
    if err.status >= 500 or err.code in ("server_error", "db_error", "bad_response"):
        suffix = f"; {effect}" if creating else ""
        return Transient(f"{text} (HTTP {err.status}){suffix}", maybe_created=creating)
    return Permanent(text)


def map_wire_error(
    err: WireError, *, what: str, creating: bool, effect: str = "the item may have been created"
) -> Transient:
    """`creating`: the call acts on the platform (a creation, an image), so an answer lost
    after it was sent leaves the act in doubt; `effect` says what may have happened."""
    return lost_answer(err, what=what, acting=creating, effect=effect)


def next_hour(now: datetime) -> datetime:
    """BASE resets the hourly counter at minute 00 (its README): the next UTC hour
    boundary, which is the same instant in every whole-hour zone such as JST."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def next_local_midnight(now: datetime, zone: tzinfo) -> datetime:
    local = now.astimezone(zone)
    tomorrow = (local + timedelta(days=1)).date()
    midnight = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone)
    return midnight.astimezone(now.tzinfo)
