"""Time slots, account assignment and quota spill: pure functions of their inputs.

Nothing here reads a clock or a database. The queue module gathers what is already
scheduled and used, calls `plan_queue`, and writes the result in one transaction.

Seed compatibility: N items for one account in a window [start, end) get slot i at
`start + i * (window / N)`. The seed divided by N - 1, which put the last item on the
closing hour, outside the hours its own daemon worked; every slot here lies inside the
half-open window the worker honours.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from upload_scheduler.hours import Segment, day_segments

_UNLIMITED = 10**9  # "no bound" for window capacity; far above any daily limit

# Bounds on a request: beyond them a date or span overflows, or cannot be meant.
MAX_WITHIN = timedelta(days=366)
MAX_DAYS = 366
MAX_START_YEARS = 3

"""A half-open interval [start, end) of business time, in aware UTC datetimes."""


class Mode(Enum):
    DISTRIBUTE = "distribute"  # spread over whole days' windows (from tomorrow or --start-date)
    REST_OF_TODAY = "start-now"  # spread over what is left of today's window
    WITHIN = "within"  # spread over [now, now + within), clipped to business hours
    NOW = "now"  # scheduled now; the worker waits for the window if it is closed


@dataclass(frozen=True)
class AccountWindow:
    """What the planner needs to know about one account."""

    account_id: str
    timezone: str
    business_hours_start: int
    business_hours_end: int
    daily_limit: int
    min_interval_seconds: float

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# Plan items, existing slots and placements come in hundreds of thousands: NamedTuples
# are immutable like frozen dataclasses but several times cheaper to create.
class PlanItem(NamedTuple):
    key: int
    asin: str
    account_id: str | None = None  # already given to a shop
    excluded_accounts: frozenset[str] = frozenset()  # shops that list or queue it already


class ExistingSlot(NamedTuple):
    """A queue row already scheduled for an account; `movable` rows may be re-slotted."""

    queue_id: int
    account_id: str
    scheduled_time: datetime
    movable: bool = True


class Placement(NamedTuple):
    key: int
    account_id: str
    scheduled_time: datetime


@dataclass(frozen=True)
class DaySummary:
    account_id: str
    day: date
    count: int
    first: datetime
    last: datetime
    interval_seconds: float


@dataclass(frozen=True)
class Unplaced:
    key: int
    reason: str


@dataclass
class Plan:
    placements: list[Placement] = field(default_factory=list)
    moves: list[tuple[int, datetime]] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    days: list[DaySummary] = field(default_factory=list)


@dataclass(frozen=True)
class PlanRequest:
    mode: Mode
    now: datetime
    start_date: date | None = None
    within: timedelta | None = None
    max_days: int = 7


class PlanRequestError(ValueError):
    """A request no plan can honour (a past or far-off date, an absurd span): the
    operator's input is wrong, so the CLI exits 2."""


def check_request(request: PlanRequest, accounts: Sequence[AccountWindow]) -> None:
    """Refuse a request whose dates are past or out of range before planning: a past
    --start-date would otherwise read as "no capacity left", a far one overflows."""
    if request.within is not None and not timedelta(0) < request.within <= MAX_WITHIN:
        raise PlanRequestError(f"--within must be more than 0 and at most {MAX_WITHIN.days} days")
    if not 1 <= request.max_days <= MAX_DAYS:
        raise PlanRequestError(f"--max-days must be between 1 and {MAX_DAYS}")
    if request.start_date is None or not accounts:
        return
    # The earliest "today" among the accounts' zones: a date still today somewhere is fine.
    todays = [request.now.astimezone(w.zone).date() for w in accounts]
    today = min(todays)
    if request.start_date < today:
        raise PlanRequestError(
            f"--start-date {request.start_date.isoformat()} is in the past "
            f"(today is {today.isoformat()} in {accounts[todays.index(today)].timezone})"
        )
    latest = today.replace(year=today.year + MAX_START_YEARS) if today.year < 9000 else today
    if request.start_date > latest:
        raise PlanRequestError(
            f"--start-date {request.start_date.isoformat()} is more than {MAX_START_YEARS} "
            f"years ahead; the latest allowed is {latest.isoformat()}"
        )


def next_opening(window: AccountWindow, now: datetime) -> datetime | None:
    """`now` if the account's business hours are open, else when they next open (None if
    they never do within a week, which a valid config cannot give)."""
    zone = window.zone
    day = now.astimezone(zone).date()
    for k in range(8):
        for a, b in day_segments(
            day + timedelta(days=k), window.business_hours_start, window.business_hours_end, zone
        ):
            if b > now:
                return max(a, now)
    return None


def within_span(window: AccountWindow, now: datetime, within: timedelta) -> Segment | None:
    """`--start now --within D` for one account: [opening, opening + D), where opening is
    now or, outside business hours, the next opening, so a short span is not silently
    stretched over the next day's whole window."""
    start = next_opening(window, now)
    return None if start is None else (start, start + within)


# ---------------------------------------------------------------------------
# Business-time segments


def clip(segments: Sequence[Segment], lo: datetime | None, hi: datetime | None) -> list[Segment]:
    clipped = []
    for a, b in segments:
        a2 = max(a, lo) if lo else a
        b2 = min(b, hi) if hi else b
        if a2 < b2:
            clipped.append((a2, b2))
    return clipped


def open_seconds(segments: Sequence[Segment]) -> float:
    return sum((b - a).total_seconds() for a, b in segments)


def window_capacity(segments: Sequence[Segment], min_interval_seconds: float) -> int:
    """How many starts fit when consecutive ones are `min_interval_seconds` apart."""
    total = open_seconds(segments)
    if total <= 0:
        return 0
    ratio = total / min_interval_seconds if min_interval_seconds > 0 else math.inf
    if not ratio < _UNLIMITED:  # no spacing, or one so small it overflows
        return _UNLIMITED
    # The small epsilon keeps 61200 / 60 at 1020 despite float rounding.
    return math.floor(ratio + 1e-9)


def spread(segments: Sequence[Segment], count: int) -> list[datetime]:
    """`count` evenly spaced instants over the open time of `segments`: slot i at offset
    i * (open time / count), so the first is at the start and all are before the end.

    Offsets are whole microseconds, rounded down, so no slot can round onto the closed
    end of a segment."""
    if count <= 0:
        return []
    lengths = [(b - a) // timedelta(microseconds=1) for a, b in segments]
    total = sum(lengths)
    slots: list[datetime] = []
    seg_index, seg_offset = 0, 0  # open microseconds before segments[seg_index]
    for i in range(count):
        offset = i * total // count
        while seg_index < len(segments) - 1 and offset >= seg_offset + lengths[seg_index]:
            seg_offset += lengths[seg_index]
            seg_index += 1
        slots.append(segments[seg_index][0] + timedelta(microseconds=offset - seg_offset))
    return slots


def merge_order(existing: int, new: int) -> list[bool]:
    """Interleave `existing` and `new` items evenly; True marks an existing one.

    Each item sits at the middle of its share of its own list, (j + 0.5) / count, and the
    two lists are merged by that position. Adding 100 to 100 evenly spread items thus
    leaves the first 100 where they were and puts the new ones halfway between them.
    """
    order: list[bool] = []
    j = i = 0
    while j < existing or i < new:
        # Compare (2j+1)/(2*existing) with (2i+1)/(2*new) in integers.
        take_existing = i >= new or (j < existing and (2 * j + 1) * new <= (2 * i + 1) * existing)
        order.append(take_existing)
        if take_existing:
            j += 1
        else:
            i += 1
    return order


# ---------------------------------------------------------------------------
# Periods: the days (or parts of days) an account's items can be placed in


@dataclass(frozen=True)
class Period:
    day: date
    segments: tuple[Segment, ...]
    at_now: bool = False  # items are scheduled at `now`, not spread


def periods(window: AccountWindow, request: PlanRequest) -> Iterator[Period]:
    """The account's candidate periods, first to last, at most `max_days` local days."""
    zone = window.zone
    today = request.now.astimezone(zone).date()

    def full(day: date) -> tuple[Segment, ...]:
        return tuple(
            day_segments(day, window.business_hours_start, window.business_hours_end, zone)
        )

    if request.mode is Mode.DISTRIBUTE:
        first = request.start_date or today + timedelta(days=1)
        for k in range(request.max_days):
            day = first + timedelta(days=k)
            # A start date of today (or earlier) never schedules into the past.
            segments = full(day) if day > today else tuple(clip(full(day), request.now, None))
            yield Period(day, segments if day >= today else ())
        return
    if request.mode is Mode.NOW:
        yield Period(today, (), at_now=True)
        for k in range(1, request.max_days):
            yield Period(today + timedelta(days=k), full(today + timedelta(days=k)))
        return
    if request.mode is Mode.WITHIN and request.within:
        yield from _within_periods(window, request, request.within, full)
        return
    day = today
    for k in range(request.max_days):
        day = today + timedelta(days=k)
        segments = full(day)
        if day == today:
            segments = tuple(clip(segments, request.now, None))
        yield Period(day, segments)


def _within_periods(
    window: AccountWindow,
    request: PlanRequest,
    within: timedelta,
    full: Callable[[date], tuple[Segment, ...]],
) -> Iterator[Period]:
    """One period for the whole span, across midnight if it reaches past it (quotas are
    still checked per local day), then whole days after the span's last day."""
    zone = window.zone
    today = request.now.astimezone(zone).date()
    span = within_span(window, request.now, within)
    segments: list[Segment] = []
    last = today
    if span is not None:
        lo, hi = span
        day = lo.astimezone(zone).date()
        while day <= hi.astimezone(zone).date():
            clipped = clip(full(day), lo, hi)
            if clipped:
                segments += clipped
                last = day
            day += timedelta(days=1)
    yield Period(today, tuple(segments))
    for k in range(1, request.max_days):
        day = last + timedelta(days=k)
        yield Period(day, full(day))


# ---------------------------------------------------------------------------
# The plan


@dataclass
class _AccountDay:
    """One account's situation in one period."""

    window: AccountWindow
    period: Period
    capacity: int
    movable: list[ExistingSlot]
    new_keys: list[int] = field(default_factory=list)


def plan_queue(
    items: Sequence[PlanItem],
    accounts: Sequence[AccountWindow],
    request: PlanRequest,
    existing: Sequence[ExistingSlot] = (),
    used: Mapping[tuple[str, date], int] | None = None,
) -> Plan:
    """Place `items` on `accounts`, day by day, within every account's daily quota and
    window capacity; what fits nowhere within `max_days` is reported, never dropped."""
    if request.now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    used = used or {}
    plan = Plan()
    by_id = {w.account_id: w for w in accounts}
    remaining: list[PlanItem] = []
    for item in items:
        if item.account_id is not None and item.account_id not in by_id:
            plan.unplaced.append(
                Unplaced(item.key, f"account {item.account_id!r} is not configured")
            )
        elif item.account_id is None and all(a in item.excluded_accounts for a in by_id):
            plan.unplaced.append(
                Unplaced(item.key, "already listed or queued on every account of the platform")
            )
        else:
            remaining.append(item)
    if not accounts:
        plan.unplaced.extend(Unplaced(i.key, "no account is configured") for i in remaining)
        return plan

    day_of = _local_day_counter(existing, by_id, request.now)
    account_periods = {w.account_id: periods(w, request) for w in accounts}
    for _ in range(request.max_days):
        if not remaining:
            break
        slots: dict[str, _AccountDay] = {}
        for window in accounts:
            period = next(account_periods[window.account_id], None)
            if period is not None:
                slots[window.account_id] = _account_day(
                    window, period, existing, day_of, used, request
                )
        remaining = _assign(remaining, slots, accounts)
        for account_day in slots.values():
            _place(account_day, request.now, plan)
    for item in remaining:
        plan.unplaced.append(
            Unplaced(item.key, f"no capacity left within {request.max_days} day(s) (--max-days)")
        )
    return plan


def _local_day_counter(
    existing: Sequence[ExistingSlot], by_id: Mapping[str, AccountWindow], now: datetime
) -> dict[tuple[str, date], int]:
    """Scheduled items per (account, local day). An overdue item counts for today: that
    is when it will use the quota."""
    counts: dict[tuple[str, date], int] = {}
    for slot in existing:
        window = by_id.get(slot.account_id)
        if window is None:
            continue
        when = max(slot.scheduled_time, now)
        key = (slot.account_id, when.astimezone(window.zone).date())
        counts[key] = counts.get(key, 0) + 1
    return counts


def _account_day(
    window: AccountWindow,
    period: Period,
    existing: Sequence[ExistingSlot],
    day_of: Mapping[tuple[str, date], int],
    used: Mapping[tuple[str, date], int],
    request: PlanRequest,
) -> _AccountDay:
    if period.at_now:
        key = (window.account_id, period.day)
        quota_left = window.daily_limit - used.get(key, 0) - day_of.get(key, 0)
        return _AccountDay(window, period, max(0, quota_left), [])
    movable = sorted(
        (
            s
            for s in existing
            if s.account_id == window.account_id
            and s.movable
            and s.scheduled_time >= request.now
            and any(a <= s.scheduled_time < b for a, b in period.segments)
        ),
        key=lambda s: (s.scheduled_time, s.queue_id),
    )
    # Room per local day for all the period's slots, the re-spaced ones included.
    room_of: dict[date, int] = {}
    for day in dict.fromkeys(_local_day(a, window) for a, _ in period.segments):
        key = (window.account_id, day)
        room_of[day] = window.daily_limit - used.get(key, 0) - day_of.get(key, 0)
    for slot in movable:
        room_of[_local_day(slot.scheduled_time, window)] += 1
    if len(room_of) > 1:
        # A span across days leaves out the days with no room, then spreads evenly.
        open_days = {d for d, n in room_of.items() if n > 0}
        segments = tuple(s for s in period.segments if _local_day(s[0], window) in open_days)
        movable = [s for s in movable if _local_day(s.scheduled_time, window) in open_days]
        period = Period(period.day, segments, period.at_now)
        room_of = {d: room_of[d] for d in open_days}
    room = window_capacity(period.segments, window.min_interval_seconds) - len(movable)
    quota = sum(room_of.values()) - len(movable)
    capacity = max(0, min(quota, room))
    if len(room_of) > 1:
        capacity = _span_capacity(period.segments, window, room_of, len(movable), capacity)
    return _AccountDay(window, period, capacity, movable)


def _local_day(moment: datetime, window: AccountWindow) -> date:
    return moment.astimezone(window.zone).date()


def _span_capacity(
    segments: Sequence[Segment],
    window: AccountWindow,
    room_of: Mapping[date, int],
    movable: int,
    upper: int,
) -> int:
    """The most new items an even spread over a span of several days can take when each
    local day holds at most `room_of[day]` of all its slots (`movable` old ones too)."""
    lengths: dict[date, int] = {}
    for a, b in segments:
        day = _local_day(a, window)
        lengths[day] = lengths.get(day, 0) + (b - a) // timedelta(microseconds=1)
    total = sum(lengths.values())

    def fits(new: int) -> bool:
        count = movable + new
        if count == 0:
            return True
        before = 0
        for day, length in lengths.items():
            # Slot i (offset i * total // count) lies in [before, before + length).
            inside = -(-(before + length) * count // total) - -(-before * count // total)
            if inside > room_of[day]:
                return False
            before += length
        return True

    lo, hi = 0, upper
    if not fits(0):
        return 0
    while lo < hi:  # the largest n that fits, keeping lo always a fitting value
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _assign(
    items: list[PlanItem], slots: dict[str, _AccountDay], accounts: Sequence[AccountWindow]
) -> list[PlanItem]:
    """Give items to accounts in proportion to their free capacity; return the rest."""
    left: list[PlanItem] = []
    free = {a: s.capacity for a, s in slots.items()}
    shared: list[PlanItem] = []
    for item in items:
        if item.account_id is None:
            shared.append(item)
        elif free.get(item.account_id, 0) > 0:
            slots[item.account_id].new_keys.append(item.key)
            free[item.account_id] -= 1
        else:
            left.append(item)
    order = [w.account_id for w in accounts if free.get(w.account_id, 0) > 0]
    targets = _proportional(min(len(shared), sum(free[a] for a in order)), [free[a] for a in order])
    taken = dict.fromkeys(order, 0)
    # Heap of (fill ratio after one more, position, account): always feed the account that
    # is furthest behind its share, so each account's items stay evenly interleaved.
    heap = [(1 / t, pos, a) for pos, (a, t) in enumerate(zip(order, targets, strict=True)) if t > 0]
    heapq.heapify(heap)
    target_of = dict(zip(order, targets, strict=True))
    for item in shared:
        account = _pop_eligible(heap, item, taken, target_of)
        if account is None:
            account = next(
                (a for a in order if free[a] > taken[a] and a not in item.excluded_accounts), None
            )
        if account is None:
            left.append(item)
            continue
        slots[account].new_keys.append(item.key)
        taken[account] += 1
    # Keep the original order: on each account (pre-assigned items were taken first) and
    # for items that roll over to the next day.
    position = {item.key: n for n, item in enumerate(items)}
    for account_day in slots.values():
        account_day.new_keys.sort(key=position.__getitem__)
    left.sort(key=lambda i: position[i.key])
    return left


def _pop_eligible(
    heap: list[tuple[float, int, str]],
    item: PlanItem,
    taken: dict[str, int],
    targets: dict[str, int],
) -> str | None:
    skipped = []
    chosen = None
    while heap:
        entry = heapq.heappop(heap)
        account = entry[2]
        if account in item.excluded_accounts:
            skipped.append(entry)
            continue
        chosen = account
        if taken[account] + 1 < targets[account]:
            heapq.heappush(heap, ((taken[account] + 2) / targets[account], entry[1], account))
        break
    for entry in skipped:
        heapq.heappush(heap, entry)
    return chosen


def _proportional(total: int, capacities: list[int]) -> list[int]:
    """Split `total` in proportion to `capacities` (largest remainder, first wins ties)."""
    cap_sum = sum(capacities)
    if cap_sum == 0 or total == 0:
        return [0] * len(capacities)
    exact = [total * c / cap_sum for c in capacities]
    shares = [min(c, math.floor(x)) for c, x in zip(capacities, exact, strict=True)]
    by_remainder = sorted(range(len(capacities)), key=lambda k: (-(exact[k] - shares[k]), k))
    short = total - sum(shares)
    for k in by_remainder:
        if short == 0:
            break
        if shares[k] < capacities[k]:
            shares[k] += 1
            short -= 1
    return shares


def _place(account_day: _AccountDay, now: datetime, plan: Plan) -> None:
    keys = account_day.new_keys
    if not keys:
        return
    account_id = account_day.window.account_id
    if account_day.period.at_now:
        plan.placements.extend(Placement(k, account_id, now) for k in keys)
        plan.days.append(DaySummary(account_id, account_day.period.day, len(keys), now, now, 0.0))
        return
    movable = account_day.movable
    times = spread(account_day.period.segments, len(movable) + len(keys))
    new_times: list[datetime] = []
    moved = iter(movable)
    fresh = iter(keys)
    for slot_time, is_existing in zip(times, merge_order(len(movable), len(keys)), strict=True):
        if is_existing:
            row = next(moved)
            if abs((row.scheduled_time - slot_time).total_seconds()) >= 1e-3:
                plan.moves.append((row.queue_id, slot_time))
        else:
            plan.placements.append(Placement(next(fresh), account_id, slot_time))
            new_times.append(slot_time)
    step = open_seconds(account_day.period.segments) / len(times)
    # One summary line per local day: a span across midnight gives two.
    by_day: dict[date, list[datetime]] = {}
    for when in new_times:
        by_day.setdefault(_local_day(when, account_day.window), []).append(when)
    for day, day_times in by_day.items():
        plan.days.append(
            DaySummary(account_id, day, len(day_times), day_times[0], day_times[-1], step)
        )
