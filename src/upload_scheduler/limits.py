"""Per-account admission: may the next item start now, and if not, when?

A pure function of the account's persisted state, its limits and `now`, so the worker,
a restarted worker and the tests all get the same answer. It enforces, together:
start-to-start spacing, the hourly and daily call budgets (an item costs 1 call plus one
per image, and is not started if its calls would cross the hour's budget), the daily
creation quota, a pause, and business hours in the account's zone.

A day budget may belong to the application (eBay, Yahoo!: every account on one OAuth
client id spends it together, on every host): then `day_call_limit` is checked against
the application's calls of the day in the platform's reset zone (US Pacific for eBay),
read and reserved under the same lock as the account's own counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from upload_scheduler import defaults
from upload_scheduler.hours import day_segments, local_hour

# Enough for every constraint to push the time once per day boundary it meets.
_MAX_ROUNDS = 16


class AccountLimits(Protocol):
    """The fields of an account's settings (`config.AccountSettings`) that admission
    reads (read-only, as a frozen dataclass has them); a protocol, so this pure module
    needs no import of the config layer."""

    @property
    def min_interval_seconds(self) -> float: ...

    @property
    def hour_call_limit(self) -> int: ...

    @property
    def day_call_limit(self) -> int: ...

    @property
    def daily_limit(self) -> int: ...

    @property
    def business_hours_start(self) -> int: ...

    @property
    def business_hours_end(self) -> int: ...

    @property
    def timezone(self) -> str: ...

    @property
    def url_interval_seconds(self) -> float: ...

    @property
    def platform(self) -> str: ...

    @property
    def application(self) -> str | None: ...


@dataclass(frozen=True)
class LimitSettings:
    min_interval_seconds: float
    hour_call_limit: int
    day_call_limit: int
    daily_limit: int
    business_hours_start: int
    business_hours_end: int
    timezone: str
    # Set when day_call_limit is the application's, shared by every account using it.
    application: str | None = None
    application_timezone: str = "UTC"  # where the application's day ends
    # At most one request per this many seconds to each API URL (Yahoo!); 0: no such limit.
    url_interval_seconds: float = 0.0

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def application_zone(self) -> ZoneInfo:
        return ZoneInfo(self.application_timezone)

    def application_day(self, moment: datetime) -> date:
        """The application's budget day `moment` falls in."""
        return local_day(moment, self.application_zone)

    @classmethod
    def of(cls, account: AccountLimits) -> LimitSettings:
        """An account's limits, built in one place so the daemon and `queue explain`
        judge an item by the same numbers."""
        return cls(
            min_interval_seconds=account.min_interval_seconds,
            hour_call_limit=account.hour_call_limit,
            day_call_limit=account.day_call_limit,
            daily_limit=account.daily_limit,
            business_hours_start=account.business_hours_start,
            business_hours_end=account.business_hours_end,
            timezone=account.timezone,
            application=account.application,
            application_timezone=defaults.APPLICATION_RESET_TIMEZONES.get(
                account.platform, account.timezone
            ),
            url_interval_seconds=account.url_interval_seconds,
        )


@dataclass(frozen=True)
class LimitState:
    """What has been spent. `hour_start` is the UTC clock hour `hour_calls` belongs to;
    `day` is the account's local day of `day_calls` and `day_creations`."""

    settings: LimitSettings
    last_start_at: datetime | None = None
    hour_start: datetime | None = None
    hour_calls: int = 0
    day: date | None = None
    day_calls: int = 0
    day_creations: int = 0
    paused_until: datetime | None = None
    pause_reason: str | None = None
    # Held in memory by the daemon: the first start after a restart, or a back-off after
    # the platform refused a call for its rate.
    not_before: datetime | None = None
    # The application's calls on `application_day` (when its budget is shared).
    application_day: date | None = None
    application_calls: int = 0


@dataclass(frozen=True)
class Admit:
    ok: bool
    not_before: datetime
    reason: str = ""

    @property
    def forever(self) -> bool:
        """Paused with no end (for example until a new login)."""
        return self.not_before == FOREVER


FOREVER = datetime.max.replace(tzinfo=UTC)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC clock hour: BASE's counters reset on the hour."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def next_local_midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    return local_hour(local_day(moment, zone) + timedelta(days=1), 0, zone)


def next_window_start(moment: datetime, settings: LimitSettings) -> datetime:
    """`moment` itself when inside business hours, else when they next open."""
    zone = settings.zone
    day = local_day(moment, zone)
    for offset in range(3):
        segments = day_segments(
            day + timedelta(days=offset),
            settings.business_hours_start,
            settings.business_hours_end,
            zone,
        )
        for start, end in segments:
            if moment < end:
                return max(start, moment)
    raise ValueError("business hours never open")  # config validation prevents this


def admit(state: LimitState, now: datetime, cost: int, *, creates: bool = True) -> Admit:
    """Whether an item costing `cost` calls (and one creation, unless `creates` is
    False, as for an image-only retry) may start at `now`; if not, the earliest time
    every limit allows it, with the limit that held it back first."""
    settings = state.settings
    moment = now
    reasons: list[str] = []
    for _ in range(_MAX_ROUNDS):
        pushed = _push(state, settings, moment, cost, creates)
        if pushed is None:
            break
        later, reason = pushed
        if later == FOREVER:
            return Admit(False, FOREVER, reason)
        reasons.append(reason)
        moment = later
    if moment == now:
        return Admit(True, now)
    return Admit(False, moment, reasons[0] if reasons else "")


def after_start(state: LimitState, now: datetime, cost: int, *, creates: bool = True) -> LimitState:
    """The state once an item costing `cost` calls has started at `now`: what lets one
    transaction admit several items at the same moment exactly as one at a time would."""
    hour = hour_of(now)
    today = local_day(now, state.settings.zone)
    same_day = state.day == today
    app_day = state.settings.application_day(now)
    app_calls = state.application_calls if state.application_day == app_day else 0
    return LimitState(
        settings=state.settings,
        last_start_at=now,
        hour_start=hour,
        hour_calls=(state.hour_calls if state.hour_start == hour else 0) + cost,
        day=today,
        day_calls=(state.day_calls if same_day else 0) + cost,
        day_creations=(state.day_creations if same_day else 0) + (1 if creates else 0),
        paused_until=state.paused_until,
        pause_reason=state.pause_reason,
        not_before=state.not_before,
        application_day=app_day,
        application_calls=app_calls + cost,
    )


# What `Hold.code` names: which limit holds an item back.
PAUSED, RESTART, HOURS, SPACING, HOUR_BUDGET, DAY_BUDGET, APPLICATION_BUDGET, DAILY_QUOTA = (
    "paused",
    "restart_spacing",
    "business_hours",
    "spacing",
    "hour_budget",
    "day_budget",
    "application_budget",
    "daily_quota",
)
APPLICATION_BUDGET_REASON = "application day call budget spent"


@dataclass(frozen=True)
class Hold:
    """One limit that `moment` breaks: which (`code`), when it next allows the item, and
    the reason `Admit` reports."""

    code: str
    until: datetime
    reason: str


def holds(
    state: LimitState, moment: datetime, cost: int, *, creates: bool = True
) -> Iterator[Hold]:
    """Every limit that `moment` breaks, in the order admission checks them (lazily: the
    daemon only needs the first; `queue explain` shows them all)."""
    settings = state.settings
    if state.pause_reason and (state.paused_until is None or moment < state.paused_until):
        yield Hold(PAUSED, state.paused_until or FOREVER, f"paused: {state.pause_reason}")
    if state.not_before is not None and moment < state.not_before:
        yield Hold(RESTART, state.not_before, "restart spacing or back-off")
    opens = next_window_start(moment, settings)
    if opens > moment:
        yield Hold(HOURS, opens, "outside business hours")
    if state.last_start_at is not None:
        earliest = state.last_start_at + timedelta(seconds=settings.min_interval_seconds)
        if moment < earliest:
            yield Hold(SPACING, earliest, "spacing")
    hour_calls = state.hour_calls if state.hour_start == hour_of(moment) else 0
    if hour_calls > 0 and hour_calls + cost > settings.hour_call_limit:
        yield Hold(HOUR_BUDGET, hour_of(moment) + timedelta(hours=1), "hour call budget")
    same_day = state.day == local_day(moment, settings.zone)
    if settings.application is None:
        day_calls = state.day_calls if same_day else 0
        if day_calls > 0 and day_calls + cost > settings.day_call_limit:
            yield Hold(DAY_BUDGET, next_local_midnight(moment, settings.zone), "day call budget")
    else:
        app_day = settings.application_day(moment)
        app_calls = state.application_calls if state.application_day == app_day else 0
        if app_calls > 0 and app_calls + cost > settings.day_call_limit:
            reset = next_local_midnight(moment, settings.application_zone)
            yield Hold(APPLICATION_BUDGET, reset, APPLICATION_BUDGET_REASON)
    creations = state.day_creations if same_day else 0
    if creates and creations >= settings.daily_limit:
        yield Hold(DAILY_QUOTA, next_local_midnight(moment, settings.zone), "daily creation limit")


# Added to a per-URL spacing: the platform counts arrivals, and the time from our clock
# reading to the request's arrival varies by a few milliseconds.
REQUEST_SPACING_MARGIN = timedelta(milliseconds=20)


def request_ready_at(last_sent: datetime | None, interval_seconds: float) -> datetime | None:
    """The earliest moment the next request to one endpoint may be sent, `interval_seconds`
    (and the margin) after the last one; None when any moment will do. The spacing beside
    the start-to-start one: a platform that limits each API URL (Yahoo!: about one request
    a second per URL and store) sees every request, images included, spaced."""
    if last_sent is None or interval_seconds <= 0:
        return None
    return last_sent + timedelta(seconds=interval_seconds) + REQUEST_SPACING_MARGIN


def application_spent(settings: LimitSettings, calls: int) -> bool:
    """Whether, by our own count of the application's calls today, its day budget is
    spent: a refusal for rate then means the day is over for every account on it, not a
    short burst limit."""
    return settings.application is not None and calls >= settings.day_call_limit


def application_reset(settings: LimitSettings, now: datetime) -> datetime:
    """When the application's day budget starts again (midnight in its reset zone)."""
    return next_local_midnight(now, settings.application_zone)


def _push(
    state: LimitState, settings: LimitSettings, moment: datetime, cost: int, creates: bool
) -> tuple[datetime, str] | None:
    """The first limit that `moment` breaks, and the time it next allows; None if none."""
    first = next(holds(state, moment, cost, creates=creates), None)
    return None if first is None else (first.until, first.reason)
