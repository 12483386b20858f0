"""`limits.admit`: a pure function of the account's state and `now`, so every limit is
checked here at exact instants, with no clock and no sleep.

Times are written in the account's zone and compared in UTC, as the worker stores them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upload_scheduler.limits import (
    APPLICATION_BUDGET,
    APPLICATION_BUDGET_REASON,
    DAY_BUDGET,
    FOREVER,
    Admit,
    Hold,
    LimitSettings,
    LimitState,
    admit,
    after_start,
    application_reset,
    application_spent,
    holds,
    hour_of,
    local_day,
    next_local_midnight,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

BASE = LimitSettings(
    min_interval_seconds=2.0,
    hour_call_limit=5000,
    day_call_limit=100_000,
    daily_limit=1000,
    business_hours_start=6,
    business_hours_end=23,
    timezone="Asia/Tokyo",
)


def at(zone: ZoneInfo, *parts: int) -> datetime:
    """A local wall-clock time in `zone`, as an aware UTC datetime."""
    return datetime(*parts, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def tokyo(*parts: int) -> datetime:
    return at(TOKYO, *parts)


def state(**changes: object) -> LimitState:
    limit_fields = set(LimitSettings.__dataclass_fields__)
    limit_changes = {k: v for k, v in changes.items() if k in limit_fields}
    state_changes = {k: v for k, v in changes.items() if k not in limit_fields}
    return LimitState(settings=replace(BASE, **limit_changes), **state_changes)  # type: ignore[arg-type]


def assert_allowed(result: Admit, now: datetime) -> None:
    assert result.ok, result
    assert result.not_before == now


def assert_waits(result: Admit, until: datetime, reason: str) -> None:
    assert not result.ok
    assert result.not_before == until, (result.not_before.astimezone(TOKYO), until)
    assert result.reason == reason


# ---------------------------------------------------------------------- business hours


def test_inside_business_hours_with_nothing_spent_starts_now() -> None:
    now = tokyo(2026, 1, 5, 9, 0)
    assert_allowed(admit(state(), now, cost=1), now)


@pytest.mark.parametrize(
    ("local_now", "opens"),
    [
        ((2026, 1, 5, 5, 59, 59), (2026, 1, 5, 6, 0)),  # before the opening
        ((2026, 1, 5, 23, 0), (2026, 1, 6, 6, 0)),  # the end hour itself is closed
        ((2026, 1, 5, 23, 59), (2026, 1, 6, 6, 0)),
        ((2026, 1, 6, 0, 30), (2026, 1, 6, 6, 0)),
    ],
)
def test_outside_business_hours_waits_for_the_next_opening(
    local_now: tuple[int, ...], opens: tuple[int, ...]
) -> None:
    assert_waits(admit(state(), tokyo(*local_now), cost=1), tokyo(*opens), "outside business hours")


@pytest.mark.parametrize(
    "local_now",
    [(2026, 1, 5, 6, 0), (2026, 1, 5, 12, 0), (2026, 1, 5, 22, 59, 59)],
)
def test_the_window_includes_its_start_and_the_last_second_before_its_end(
    local_now: tuple[int, ...],
) -> None:
    now = tokyo(*local_now)
    assert_allowed(admit(state(), now, cost=1), now)


@pytest.mark.parametrize(
    ("local_now", "allowed", "opens"),
    [
        ((2026, 1, 5, 21, 59), False, (2026, 1, 5, 22, 0)),
        ((2026, 1, 5, 22, 0), True, None),
        ((2026, 1, 5, 23, 59, 59), True, None),
        ((2026, 1, 6, 0, 0), True, None),  # the same night, on the next local day
        ((2026, 1, 6, 1, 59, 59), True, None),
        ((2026, 1, 6, 2, 0), False, (2026, 1, 6, 22, 0)),
        ((2026, 1, 6, 12, 0), False, (2026, 1, 6, 22, 0)),
    ],
)
def test_a_window_crossing_midnight_22_to_2(
    local_now: tuple[int, ...], allowed: bool, opens: tuple[int, ...] | None
) -> None:
    night = state(business_hours_start=22, business_hours_end=2)
    now = tokyo(*local_now)
    result = admit(night, now, cost=1)
    if allowed:
        assert_allowed(result, now)
    else:
        assert opens is not None
        assert_waits(result, tokyo(*opens), "outside business hours")


def test_the_whole_day_window_0_to_24_never_closes() -> None:
    always = state(business_hours_start=0, business_hours_end=24)
    for hour in range(24):
        now = tokyo(2026, 1, 5, hour, 30)
        assert_allowed(admit(always, now, cost=1), now)


def test_business_hours_are_read_in_the_accounts_zone_not_tokyo_or_utc() -> None:
    # 9-17 in New York (EST, UTC-5 in January): 13:30 UTC is 08:30 there.
    office = state(business_hours_start=9, business_hours_end=17, timezone="America/New_York")
    early = datetime(2026, 1, 5, 13, 30, tzinfo=UTC)
    assert_waits(
        admit(office, early, cost=1), at(NEW_YORK, 2026, 1, 5, 9, 0), "outside business hours"
    )
    assert at(NEW_YORK, 2026, 1, 5, 9, 0) == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    # 21:59 UTC is 16:59 in New York (open), though it is 06:59 the next day in Tokyo.
    late = datetime(2026, 1, 5, 21, 59, tzinfo=UTC)
    assert_allowed(admit(office, late, cost=1), late)
    closed = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
    assert_waits(
        admit(office, closed, cost=1), at(NEW_YORK, 2026, 1, 6, 9, 0), "outside business hours"
    )


def test_business_hours_follow_summer_time() -> None:
    # London 9-17 in July is 08:00-16:00 UTC (BST, UTC+1).
    office = state(business_hours_start=9, business_hours_end=17, timezone="Europe/London")
    inside = datetime(2026, 7, 6, 8, 0, tzinfo=UTC)
    assert_allowed(admit(office, inside, cost=1), inside)
    after = datetime(2026, 7, 6, 16, 0, tzinfo=UTC)
    assert_waits(
        admit(office, after, cost=1), at(LONDON, 2026, 7, 7, 9, 0), "outside business hours"
    )
    assert at(LONDON, 2026, 7, 7, 9, 0) == datetime(2026, 7, 7, 8, 0, tzinfo=UTC)


# ---------------------------------------------------------------------- spacing


def test_spacing_the_next_start_is_exactly_last_start_plus_the_interval() -> None:
    last = tokyo(2026, 1, 5, 10, 0, 0)
    spaced = state(last_start_at=last)
    expected = last + timedelta(seconds=2)
    assert_waits(admit(spaced, last + timedelta(seconds=0.5), cost=1), expected, "spacing")
    assert_waits(admit(spaced, last, cost=1), expected, "spacing")
    assert_waits(admit(spaced, expected - timedelta(microseconds=1), cost=1), expected, "spacing")
    assert_allowed(admit(spaced, expected, cost=1), expected)
    later = expected + timedelta(seconds=30)
    assert_allowed(admit(spaced, later, cost=1), later)


def test_spacing_is_start_to_start_with_a_fractional_interval() -> None:
    last = tokyo(2026, 1, 5, 10, 0, 0)
    spaced = state(last_start_at=last, min_interval_seconds=0.2)
    assert_waits(
        admit(spaced, last + timedelta(seconds=0.05), cost=3),
        last + timedelta(seconds=0.2),
        "spacing",
    )


def test_restart_spacing_holds_the_first_start_after_a_restart() -> None:
    now = tokyo(2026, 1, 5, 10, 0, 0)
    restarted = state(not_before=now + timedelta(seconds=2))
    assert_waits(
        admit(restarted, now, cost=1), now + timedelta(seconds=2), "restart spacing or back-off"
    )
    assert_allowed(admit(restarted, now + timedelta(seconds=2), cost=1), now + timedelta(seconds=2))


# ---------------------------------------------------------------------- hour budget


def test_hour_budget_counts_images_and_an_item_never_crosses_it() -> None:
    now = tokyo(2026, 1, 5, 10, 20)
    hour = hour_of(now)
    # 10 calls an hour; an item with 2 images costs 3 calls.
    tight = state(hour_call_limit=10, hour_start=hour, hour_calls=7)
    assert_allowed(admit(tight, now, cost=3), now)  # 7 + 3 = 10: exactly the budget
    over = state(hour_call_limit=10, hour_start=hour, hour_calls=8)
    assert_waits(admit(over, now, cost=3), hour + timedelta(hours=1), "hour call budget")
    # A cheaper item still fits in what is left of the hour.
    assert_allowed(admit(over, now, cost=2), now)


def test_hour_budget_resets_at_the_next_clock_hour_not_an_hour_after_the_first_call() -> None:
    now = tokyo(2026, 1, 5, 10, 59, 59)
    full = state(hour_call_limit=10, hour_start=hour_of(now), hour_calls=9)
    next_hour = tokyo(2026, 1, 5, 11, 0)
    assert_waits(admit(full, now, cost=3), next_hour, "hour call budget")
    assert_allowed(admit(full, next_hour, cost=3), next_hour)


def test_calls_of_an_earlier_hour_do_not_count() -> None:
    now = tokyo(2026, 1, 5, 11, 0, 1)
    stale = state(hour_call_limit=10, hour_start=tokyo(2026, 1, 5, 10, 0), hour_calls=10)
    assert_allowed(admit(stale, now, cost=3), now)


def test_hour_budget_pushed_to_a_closed_hour_waits_for_the_opening() -> None:
    now = tokyo(2026, 1, 5, 22, 30)
    full = state(hour_call_limit=10, hour_start=hour_of(now), hour_calls=10)
    assert_waits(admit(full, now, cost=1), tokyo(2026, 1, 6, 6, 0), "hour call budget")


# ---------------------------------------------------------------------- day budgets


def test_day_call_budget_waits_for_the_local_midnight() -> None:
    now = tokyo(2026, 1, 5, 15, 0)
    spent = state(
        business_hours_start=0,
        business_hours_end=24,
        day_call_limit=100,
        day=date(2026, 1, 5),
        day_calls=98,
    )
    assert_waits(admit(spent, now, cost=3), tokyo(2026, 1, 6, 0, 0), "day call budget")
    assert_allowed(admit(spent, now, cost=2), now)


def test_daily_creation_quota_resets_at_local_midnight_not_utc_midnight() -> None:
    # 2026-01-05 23:30 in Tokyo is 14:30 UTC: the UTC day still has 9.5 hours to go.
    always = {"business_hours_start": 0, "business_hours_end": 24}
    full = state(daily_limit=3, day=date(2026, 1, 5), day_creations=3, **always)
    now = tokyo(2026, 1, 5, 23, 30)
    tokyo_midnight = tokyo(2026, 1, 6, 0, 0)
    assert tokyo_midnight == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert_waits(admit(full, now, cost=1), tokyo_midnight, "daily creation limit")
    # At 00:00:01 Tokyo the UTC date is still 2026-01-05, yet the quota is fresh.
    after = tokyo_midnight + timedelta(seconds=1)
    assert after.date() == date(2026, 1, 5)
    assert_allowed(admit(full, after, cost=1), after)


def test_daily_quota_day_boundary_in_a_non_tokyo_zone() -> None:
    always = {"business_hours_start": 0, "business_hours_end": 24}
    full = state(
        daily_limit=2, day=date(2026, 1, 5), day_creations=2, timezone="America/New_York", **always
    )
    # 00:30 UTC on the 6th is 19:30 on the 5th in New York: still the full day there.
    utc_new_day = datetime(2026, 1, 6, 0, 30, tzinfo=UTC)
    new_york_midnight = at(NEW_YORK, 2026, 1, 6, 0, 0)
    assert new_york_midnight == datetime(2026, 1, 6, 5, 0, tzinfo=UTC)
    assert_waits(admit(full, utc_new_day, cost=1), new_york_midnight, "daily creation limit")
    assert next_local_midnight(utc_new_day, NEW_YORK) == new_york_midnight
    assert local_day(utc_new_day, NEW_YORK) == date(2026, 1, 5)


def test_daily_quota_in_a_window_crossing_midnight_opens_again_at_midnight() -> None:
    # 22-02: the quota of the 5th is spent at 23:00; the window is still open after
    # midnight, and that is a new local day with a fresh quota.
    night = state(
        business_hours_start=22,
        business_hours_end=2,
        daily_limit=5,
        day=date(2026, 1, 5),
        day_creations=5,
    )
    assert_waits(
        admit(night, tokyo(2026, 1, 5, 23, 0), cost=1),
        tokyo(2026, 1, 6, 0, 0),
        "daily creation limit",
    )


def test_an_image_only_retry_is_not_held_back_by_the_creation_quota() -> None:
    full = state(daily_limit=3, day=date(2026, 1, 5), day_creations=3)
    now = tokyo(2026, 1, 5, 12, 0)
    assert_allowed(admit(full, now, cost=2, creates=False), now)
    assert not admit(full, now, cost=2, creates=True).ok


# ---------------------------------------------------------------------- pauses


def test_a_pause_with_an_end_holds_until_that_end() -> None:
    now = tokyo(2026, 1, 5, 10, 15)
    until = tokyo(2026, 1, 5, 11, 0)
    paused = state(paused_until=until, pause_reason="rate limit: hour_api_limit")
    result = admit(paused, now, cost=1)
    assert_waits(result, until, "paused: rate limit: hour_api_limit")
    assert not result.forever
    assert_allowed(admit(paused, until, cost=1), until)


def test_a_pause_without_an_end_is_forever() -> None:
    paused = state(paused_until=None, pause_reason="auth: token refused")
    for now in (tokyo(2026, 1, 5, 10, 0), tokyo(2027, 6, 1, 10, 0)):
        result = admit(paused, now, cost=1)
        assert not result.ok
        assert result.forever
        assert result.not_before == FOREVER
        assert result.reason == "paused: auth: token refused"


def test_a_pause_ending_in_a_closed_window_waits_for_the_opening() -> None:
    paused = state(paused_until=tokyo(2026, 1, 5, 23, 30), pause_reason="quota: daily")
    assert_waits(
        admit(paused, tokyo(2026, 1, 5, 22, 0), cost=1),
        tokyo(2026, 1, 6, 6, 0),
        "paused: quota: daily",
    )


def test_a_past_pause_end_no_longer_holds() -> None:
    now = tokyo(2026, 1, 5, 12, 0)
    old = state(paused_until=now - timedelta(minutes=1), pause_reason="rate limit")
    assert_allowed(admit(old, now, cost=1), now)


# ---------------------------------------------------------------------- all together


def test_spacing_that_lands_after_closing_waits_for_the_next_opening() -> None:
    last = tokyo(2026, 1, 5, 22, 59, 59)
    spaced = state(last_start_at=last)
    assert_waits(
        admit(spaced, last + timedelta(seconds=0.5), cost=1), tokyo(2026, 1, 6, 6, 0), "spacing"
    )


def test_the_answer_is_the_earliest_time_every_limit_allows() -> None:
    # Spacing says 10:59:59.5 + 2 s = 11:00:01.5; the hour budget of 11:00 is fresh, so
    # that is the answer, not 11:00:00 (spacing) nor the hour start (budget).
    last = tokyo(2026, 1, 5, 10, 59, 59, 500000)
    mixed = state(last_start_at=last, hour_call_limit=10, hour_start=hour_of(last), hour_calls=9)
    now = last + timedelta(seconds=0.25)
    result = admit(mixed, now, cost=3)
    assert result.not_before == last + timedelta(seconds=2)
    assert admit(mixed, result.not_before, cost=3).ok


def test_the_hour_budget_after_spacing_pushes_past_both() -> None:
    # Spacing allows 10:30:02, but the hour is spent: 11:00 is the answer.
    last = tokyo(2026, 1, 5, 10, 30, 0)
    mixed = state(last_start_at=last, hour_call_limit=10, hour_start=hour_of(last), hour_calls=10)
    result = admit(mixed, last + timedelta(seconds=1), cost=1)
    assert_waits(result, tokyo(2026, 1, 5, 11, 0), "spacing")


def test_restart_spacing_and_a_pause_and_a_closed_window_combine() -> None:
    now = tokyo(2026, 1, 5, 22, 59, 59)
    combined = state(
        not_before=now + timedelta(seconds=2),
        paused_until=now + timedelta(seconds=1),
        pause_reason="rate limit",
        last_start_at=now - timedelta(seconds=1),
    )
    result = admit(combined, now, cost=1)
    assert result.not_before == tokyo(2026, 1, 6, 6, 0)
    assert result.reason == "paused: rate limit"


# ---------------------------------------------------------------------- properties

_MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@st.composite
def states(draw: st.DrawFn) -> tuple[LimitState, datetime, int, bool]:
    now = draw(_MOMENTS)
    zone = draw(st.sampled_from(["Asia/Tokyo", "America/New_York", "Europe/London", "UTC"]))
    start = draw(st.integers(0, 23))
    end = draw(st.integers(0, 24).filter(lambda e: e != start and (start, e) != (0, 0)))
    limits = LimitSettings(
        min_interval_seconds=draw(st.sampled_from([0.0, 0.2, 2.0, 60.0])),
        hour_call_limit=draw(st.integers(1, 20)),
        day_call_limit=draw(st.integers(1, 60)),
        daily_limit=draw(st.integers(1, 5)),
        business_hours_start=start,
        business_hours_end=end,
        timezone=zone,
    )
    local = ZoneInfo(zone)
    pause = draw(st.sampled_from(["none", "until", "past"]))
    paused_until = None
    if pause == "until":
        paused_until = now + timedelta(seconds=draw(st.integers(1, 7200)))
    elif pause == "past":
        paused_until = now - timedelta(seconds=draw(st.integers(0, 7200)))
    last_start = now - timedelta(seconds=draw(st.floats(0, 120)))
    state = LimitState(
        settings=limits,
        last_start_at=draw(st.sampled_from([None, last_start])),
        hour_start=hour_of(now),
        hour_calls=draw(st.integers(0, 20)),
        day=local_day(now, local),
        day_calls=draw(st.integers(0, 60)),
        day_creations=draw(st.integers(0, 5)),
        paused_until=paused_until,
        pause_reason="rate limit" if pause != "none" else None,
        not_before=draw(st.sampled_from([None, now + timedelta(seconds=1)])),
    )
    return state, now, draw(st.integers(1, 6)), draw(st.booleans())


@settings(max_examples=200, deadline=None)
@given(states())
def test_admit_answers_a_time_it_would_itself_allow_and_nothing_earlier(
    case: tuple[LimitState, datetime, int, bool],
) -> None:
    state, now, cost, creates = case
    result = admit(state, now, cost, creates=creates)
    assert result.not_before >= now
    if result.ok:
        assert result.not_before == now
        return
    assert result.reason
    if result.forever:
        return
    # Counters belong to `now`'s hour and day; from then on nothing new is spent.
    assert admit(state, result.not_before, cost, creates=creates).ok, result
    just_before = result.not_before - timedelta(microseconds=1)
    if just_before >= now:
        assert not admit(state, just_before, cost, creates=creates).ok, result


# ---------------------------------------------------------------------- after_start


def test_after_start_counts_a_start_within_the_same_hour_and_day() -> None:
    now = tokyo(2026, 1, 5, 10, 30)
    before = state(
        last_start_at=now - timedelta(minutes=5),
        hour_start=hour_of(now),
        hour_calls=7,
        day=local_day(now, TOKYO),
        day_calls=40,
        day_creations=12,
        pause_reason=None,
        not_before=now - timedelta(seconds=1),
    )

    after = after_start(before, now, 3)

    assert (after.last_start_at, after.hour_start, after.hour_calls) == (now, hour_of(now), 10)
    assert (after.day, after.day_calls, after.day_creations) == (date(2026, 1, 5), 43, 13)
    assert after.not_before == before.not_before and after.settings == before.settings
    assert after_start(before, now, 3, creates=False).day_creations == 12


def test_after_start_begins_a_new_hour_and_a_new_local_day_from_zero() -> None:
    # The last start was at 22:59 on the 4th (Tokyo); this one is at 09:00 on the 5th.
    previous = tokyo(2026, 1, 4, 22, 59)
    now = tokyo(2026, 1, 5, 9, 0)
    before = state(
        last_start_at=previous,
        hour_start=hour_of(previous),
        hour_calls=4990,
        day=local_day(previous, TOKYO),
        day_calls=99_000,
        day_creations=999,
    )

    after = after_start(before, now, 2)

    assert (after.hour_start, after.hour_calls) == (hour_of(now), 2)
    assert (after.day, after.day_calls, after.day_creations) == (date(2026, 1, 5), 2, 1)


@given(costs=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_admitting_with_after_start_stops_exactly_where_the_hour_budget_ends(
    costs: list[int],
) -> None:
    """What a burst does: admit item after item at one instant. It takes the longest
    prefix whose calls fit the hour's budget (the first item always fits)."""
    now = tokyo(2026, 1, 5, 10, 0)
    current = state(min_interval_seconds=0.0, hour_call_limit=20)
    taken = 0
    for cost in costs:
        if not admit(current, now, cost).ok:
            break
        current = after_start(current, now, cost)
        taken += 1
    expected, spent = 0, 0
    for cost in costs:
        if spent > 0 and spent + cost > 20:
            break
        spent += cost
        expected += 1
    assert taken == expected
    assert current.hour_calls == spent


# ---------------------------------------------------------------------- application budgets
#
# Issue 16: with day_call_limit_scope = "application", day_call_limit belongs to the OAuth
# application (every account on one client_id spends it), counted per day in the
# platform's reset zone (US Pacific for eBay), whatever the account's own zone.

PACIFIC = ZoneInfo("America/Los_Angeles")
APP_LIMIT = 12
ALWAYS_OPEN = {"business_hours_start": 0, "business_hours_end": 24}


def pacific(*parts: int) -> datetime:
    return at(PACIFIC, *parts)


def app_state(**changes: object) -> LimitState:
    """A Tokyo account whose day budget (12 calls) is its eBay application's."""
    shared: dict[str, object] = {
        "application": "app-1",
        "application_timezone": "America/Los_Angeles",
        "day_call_limit": APP_LIMIT,
        "min_interval_seconds": 0.0,
        **ALWAYS_OPEN,
    }
    return state(**{**shared, **changes})


def test_a_spent_application_budget_holds_until_the_next_pacific_midnight() -> None:
    # 2026-01-05 09:00 Tokyo is 2026-01-04 16:00 in Los Angeles: the Pacific day is the 4th.
    now = tokyo(2026, 1, 5, 9, 0)
    spent = app_state(application_day=date(2026, 1, 4), application_calls=APP_LIMIT)
    reset = pacific(2026, 1, 5, 0, 0)
    assert reset == datetime(2026, 1, 5, 8, 0, tzinfo=UTC) == tokyo(2026, 1, 5, 17, 0)

    assert_waits(admit(spent, now, cost=1), reset, APPLICATION_BUDGET_REASON)
    [hold] = list(holds(spent, now, 1))
    assert hold == Hold(APPLICATION_BUDGET, reset, APPLICATION_BUDGET_REASON)
    assert application_spent(spent.settings, APP_LIMIT)
    assert not application_spent(spent.settings, APP_LIMIT - 1)
    assert application_reset(spent.settings, now) == reset


def test_an_item_that_would_cross_the_application_budget_waits_and_a_smaller_one_fits() -> None:
    now = tokyo(2026, 1, 5, 9, 0)
    nearly = app_state(application_day=date(2026, 1, 4), application_calls=APP_LIMIT - 2)
    assert_waits(admit(nearly, now, cost=3), pacific(2026, 1, 5, 0, 0), APPLICATION_BUDGET_REASON)
    assert_allowed(admit(nearly, now, cost=2), now)


def test_an_item_larger_than_a_fresh_application_budget_still_starts() -> None:
    """As for the shop's own budgets: with nothing spent today, the first item starts
    whatever it costs, or it would wait for ever."""
    now = tokyo(2026, 1, 5, 9, 0)
    fresh = app_state(application_day=date(2026, 1, 4), application_calls=0)
    assert_allowed(admit(fresh, now, cost=APP_LIMIT + 5), now)


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        # Saturday 2026-03-07 20:00 PST: the Pacific day before summer time starts.
        (pacific(2026, 3, 7, 20, 0), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
        # Sunday 2026-03-08 is a 23-hour day; its midnight after is 00:00 PDT (UTC-7).
        (pacific(2026, 3, 8, 10, 0), datetime(2026, 3, 9, 7, 0, tzinfo=UTC)),
        # Just after the jump (03:00 PDT): still the 8th.
        (datetime(2026, 3, 8, 10, 0, tzinfo=UTC), datetime(2026, 3, 9, 7, 0, tzinfo=UTC)),
        # The day before summer time ends: midnight is still PDT.
        (pacific(2026, 10, 31, 12, 0), datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
        # Sunday 2026-11-01 is a 25-hour day: its midnight after is 00:00 PST (UTC-8).
        (datetime(2026, 11, 1, 8, 30, tzinfo=UTC), datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),
        (pacific(2026, 11, 1, 23, 59), datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_application_reset_is_pacific_midnight_across_summer_time(
    now: datetime, reset: datetime
) -> None:
    spent = app_state(application_day=local_day(now, PACIFIC), application_calls=APP_LIMIT)
    assert_waits(admit(spent, now, cost=1), reset, APPLICATION_BUDGET_REASON)
    assert reset.astimezone(PACIFIC).time() == datetime.min.time()
    assert reset.astimezone(PACIFIC).date() == local_day(now, PACIFIC) + timedelta(days=1)
    # At the reset itself the new Pacific day has its whole budget.
    assert_allowed(admit(spent, reset, cost=1), reset)
    assert_waits(
        admit(spent, reset - timedelta(microseconds=1), cost=1), reset, APPLICATION_BUDGET_REASON
    )


def test_a_new_pacific_day_frees_the_budget_though_the_tokyo_day_is_the_same() -> None:
    # 17:00 Tokyo on the 5th is midnight in Los Angeles: a new Pacific day, same Tokyo day.
    before, after = tokyo(2026, 1, 5, 16, 59), tokyo(2026, 1, 5, 17, 0)
    spent = app_state(
        day=date(2026, 1, 5),
        day_calls=500,  # the account's own calls: not what the application's budget counts
        application_day=date(2026, 1, 4),
        application_calls=APP_LIMIT,
    )
    assert local_day(before, TOKYO) == local_day(after, TOKYO) == date(2026, 1, 5)
    assert_waits(admit(spent, before, cost=1), after, APPLICATION_BUDGET_REASON)
    assert_allowed(admit(spent, after, cost=1), after)


def test_a_new_tokyo_day_does_not_free_the_budget_while_the_pacific_day_lasts() -> None:
    # 00:30 Tokyo on the 6th is 07:30 on the 5th in Los Angeles.
    now = tokyo(2026, 1, 6, 0, 30)
    spent = app_state(
        day=date(2026, 1, 5),
        day_calls=APP_LIMIT,
        application_day=date(2026, 1, 5),
        application_calls=APP_LIMIT,
    )
    assert local_day(now, TOKYO) == date(2026, 1, 6)
    assert local_day(now, PACIFIC) == date(2026, 1, 5)
    assert_waits(admit(spent, now, cost=1), tokyo(2026, 1, 6, 17, 0), APPLICATION_BUDGET_REASON)


def test_the_accounts_own_day_budget_is_not_applied_when_the_scope_is_the_application() -> None:
    now = tokyo(2026, 1, 5, 9, 0)
    own_spent = {"day": date(2026, 1, 5), "day_calls": APP_LIMIT}
    shared = app_state(**own_spent, application_day=date(2026, 1, 4), application_calls=3)
    assert_allowed(admit(shared, now, cost=5), now)
    assert [h.code for h in holds(shared, now, 5)] == []
    # The same numbers on an account whose day budget is its own: held by it.
    alone = replace(shared, settings=replace(shared.settings, application=None))
    assert_waits(admit(alone, now, cost=5), tokyo(2026, 1, 6, 0, 0), "day call budget")
    assert [h.code for h in holds(alone, now, 5)] == [DAY_BUDGET]


def test_the_creation_quota_and_the_hour_budget_stay_the_accounts_own() -> None:
    now = tokyo(2026, 1, 5, 9, 0)
    full = app_state(daily_limit=2, day=date(2026, 1, 5), day_creations=2)
    assert_waits(admit(full, now, cost=1), tokyo(2026, 1, 6, 0, 0), "daily creation limit")
    hour = app_state(hour_call_limit=4, hour_start=hour_of(now), hour_calls=4)
    assert_waits(admit(hour, now, cost=1), tokyo(2026, 1, 5, 10, 0), "hour call budget")


def test_after_start_adds_to_the_applications_calls_of_its_pacific_day() -> None:
    now = tokyo(2026, 1, 5, 9, 0)  # the 4th in Los Angeles
    before = app_state(application_day=date(2026, 1, 4), application_calls=7)

    after = after_start(before, now, 3)

    assert (after.application_day, after.application_calls) == (date(2026, 1, 4), 10)
    assert after_start(after, now, 2).application_calls == 12
    # After Pacific midnight (17:00 Tokyo, the same Tokyo day) the count starts again.
    later = after_start(after, tokyo(2026, 1, 5, 17, 0), 4)
    assert (later.application_day, later.application_calls) == (date(2026, 1, 5), 4)
    assert later.day == date(2026, 1, 5)


def test_limit_settings_of_an_ebay_seller_share_the_applications_budget_in_pacific_time(
    tmp_path: Path,
) -> None:
    from upload_scheduler.config.load import settings_from_dict

    raw = {
        "timezone": "Asia/Tokyo",
        "accounts": {"ebay": ["seller_1"], "base": ["shop"]},
        "platforms": {"ebay": {"client_id": "app-1", "day_call_limit": 5000}},
    }
    settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")

    ebay = LimitSettings.of(settings.account("ebay", "seller_1"))
    assert ebay.application == "app-1"
    assert ebay.application_timezone == "America/Los_Angeles"
    assert ebay.day_call_limit == 5000
    assert ebay.timezone == "Asia/Tokyo"  # business hours and the shop's own day: Tokyo's

    base = LimitSettings.of(settings.account("base", "shop"))
    assert base.application is None
    assert base.timezone == "Asia/Tokyo"


def test_limit_settings_of_an_application_budget_without_a_known_reset_zone_use_the_accounts(
    tmp_path: Path,
) -> None:
    from upload_scheduler.config.load import settings_from_dict

    raw = {
        "timezone": "Asia/Tokyo",
        "accounts": {"base": ["shop"]},
        "platforms": {"base": {"client_id": "app-9", "day_call_limit_scope": "application"}},
    }
    settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
    limits = LimitSettings.of(settings.account("base", "shop"))
    assert (limits.application, limits.application_timezone) == ("app-9", "Asia/Tokyo")


@given(
    spent=st.integers(min_value=0, max_value=APP_LIMIT),
    costs=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=30),
    minutes=st.integers(min_value=0, max_value=3 * 24 * 60),
)
@settings(max_examples=200, deadline=None)
def test_admitted_items_never_sum_beyond_the_application_budget(
    spent: int, costs: list[int], minutes: int
) -> None:
    """A burst admitted at one instant, item after item with after_start, as `_claim`
    does: once the first fits, the application's calls never pass its day budget, and
    the first item refused is one that would have crossed it, held to Pacific midnight."""
    now = datetime(2026, 3, 6, 0, 0, tzinfo=UTC) + timedelta(minutes=minutes)  # across DST
    current = app_state(application_day=local_day(now, PACIFIC), application_calls=spent)
    taken: list[int] = []
    refused: Admit | None = None
    for cost in costs:
        decision = admit(current, now, cost)
        if not decision.ok:
            refused = decision
            break
        current = after_start(current, now, cost)
        taken.append(cost)
    if spent > 0 or costs[0] <= APP_LIMIT:
        assert spent + sum(taken) <= APP_LIMIT
    assert current.application_calls == spent + sum(taken)
    if refused is not None:
        assert spent + sum(taken) + costs[len(taken)] > APP_LIMIT
        assert refused.reason == APPLICATION_BUDGET_REASON
        assert refused.not_before == next_local_midnight(now, PACIFIC)
    else:
        assert len(taken) == len(costs)


@st.composite
def application_states(draw: st.DrawFn) -> tuple[LimitState, datetime, int]:
    now = draw(_MOMENTS)
    zone = draw(st.sampled_from(["Asia/Tokyo", "America/New_York", "Europe/London", "UTC"]))
    start = draw(st.integers(0, 23))
    end = draw(st.integers(0, 24).filter(lambda e: e != start and (start, e) != (0, 0)))
    limits = LimitSettings(
        min_interval_seconds=draw(st.sampled_from([0.0, 2.0])),
        hour_call_limit=draw(st.integers(1, 20)),
        day_call_limit=draw(st.integers(1, 20)),
        daily_limit=draw(st.integers(1, 5)),
        business_hours_start=start,
        business_hours_end=end,
        timezone=zone,
        application="app-1",
        application_timezone="America/Los_Angeles",
    )
    # The count read may be of the Pacific day now falls in, or of the one before.
    app_day = local_day(now, PACIFIC) - timedelta(days=draw(st.integers(0, 1)))
    state = LimitState(
        settings=limits,
        last_start_at=draw(st.sampled_from([None, now - timedelta(seconds=1)])),
        hour_start=hour_of(now),
        hour_calls=draw(st.integers(0, 20)),
        day=local_day(now, ZoneInfo(zone)),
        day_calls=draw(st.integers(0, 60)),
        day_creations=draw(st.integers(0, 5)),
        application_day=app_day,
        application_calls=draw(st.integers(0, 25)),
    )
    return state, now, draw(st.integers(1, 6))


@settings(max_examples=300, deadline=None)
@given(application_states())
def test_admit_with_an_application_budget_answers_a_time_it_would_itself_allow(
    case: tuple[LimitState, datetime, int],
) -> None:
    state, now, cost = case
    result = admit(state, now, cost)
    assert result.not_before >= now
    if result.ok:
        return
    assert admit(state, result.not_before, cost).ok, result
    just_before = result.not_before - timedelta(microseconds=1)
    if just_before >= now:
        assert not admit(state, just_before, cost).ok, result
    app_calls = state.application_calls if state.application_day == local_day(now, PACIFIC) else 0
    if result.reason == APPLICATION_BUDGET_REASON:
        assert app_calls > 0 and app_calls + cost > state.settings.day_call_limit
        assert result.not_before >= next_local_midnight(now, PACIFIC)
