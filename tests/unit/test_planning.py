"""Example-based tests for the pure planner (`upload_scheduler.planning`).

Every test passes `now` explicitly; nothing here reads a clock.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from upload_scheduler.hours import day_segments, in_business_hours
from upload_scheduler.planning import (
    AccountWindow,
    ExistingSlot,
    Mode,
    Placement,
    Plan,
    PlanItem,
    PlanRequest,
    PlanRequestError,
    _proportional,
    check_request,
    clip,
    merge_order,
    next_opening,
    open_seconds,
    plan_queue,
    spread,
    window_capacity,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
UTC_ZONE = ZoneInfo("UTC")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(day: date, hour: int, zone: ZoneInfo, minute: int = 0) -> datetime:
    """The UTC instant of hh:mm local time on `day` in `zone`."""
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def account(
    account_id: str = "a",
    tz: str = "Asia/Tokyo",
    start: int = 6,
    end: int = 23,
    limit: int = 1020,
    interval: float = 60.0,
) -> AccountWindow:
    return AccountWindow(account_id, tz, start, end, limit, interval)


def items(
    count: int,
    first_key: int = 0,
    account_id: str | None = None,
    excluded_accounts: frozenset[str] = frozenset(),
) -> list[PlanItem]:
    return [
        PlanItem(k, f"ASIN{k:06d}", account_id, excluded_accounts)
        for k in range(first_key, first_key + count)
    ]


def on(plan: Plan, account_id: str) -> list[Placement]:
    return sorted(
        (p for p in plan.placements if p.account_id == account_id),
        key=lambda p: (p.scheduled_time, p.key),
    )


def gaps(times: list[datetime]) -> list[float]:
    return [(b - a).total_seconds() for a, b in itertools.pairwise(times)]


def local_days(placements: list[Placement], zone: ZoneInfo) -> Counter[date]:
    return Counter(p.scheduled_time.astimezone(zone).date() for p in placements)


# Thursday 2024-05-02 12:00 in Tokyo; "tomorrow" there is 2024-05-03.
NOW = local(date(2024, 5, 2), 12, TOKYO)
TODAY = date(2024, 5, 2)
TOMORROW = date(2024, 5, 3)


# ---------------------------------------------------------------------------
# day_segments / in_business_hours


def test_day_segments_plain_window_in_tokyo() -> None:
    assert day_segments(TOMORROW, 6, 23, TOKYO) == [(utc(2024, 5, 2, 21), utc(2024, 5, 3, 14))]


def test_day_segments_window_crossing_midnight_gives_both_ends_of_the_day() -> None:
    assert day_segments(TOMORROW, 22, 2, UTC_ZONE) == [
        (utc(2024, 5, 3, 0), utc(2024, 5, 3, 2)),
        (utc(2024, 5, 3, 22), utc(2024, 5, 4, 0)),
    ]


@pytest.mark.parametrize("end", [0, 24])
def test_day_segments_window_ending_at_midnight(end: int) -> None:
    assert day_segments(TOMORROW, 5, end, UTC_ZONE) == [(utc(2024, 5, 3, 5), utc(2024, 5, 4, 0))]


def test_day_segments_window_starting_at_midnight() -> None:
    assert day_segments(TOMORROW, 0, 6, UTC_ZONE) == [(utc(2024, 5, 3, 0), utc(2024, 5, 3, 6))]
    assert day_segments(TOMORROW, 24, 6, UTC_ZONE) == [(utc(2024, 5, 3, 0), utc(2024, 5, 3, 6))]


def test_day_segments_follow_dst_changes() -> None:
    spring = day_segments(date(2024, 3, 10), 0, 6, NEW_YORK)  # 02:00 -> 03:00
    autumn = day_segments(date(2024, 11, 3), 0, 6, NEW_YORK)  # 02:00 -> 01:00
    assert spring == [(utc(2024, 3, 10, 5), utc(2024, 3, 10, 10))]
    assert autumn == [(utc(2024, 11, 3, 4), utc(2024, 11, 3, 11))]
    assert open_seconds(spring) == 5 * 3600
    assert open_seconds(autumn) == 7 * 3600
    london = day_segments(date(2024, 3, 31), 22, 2, LONDON)  # 01:00 GMT -> 02:00 BST
    assert open_seconds(london) == 3 * 3600


def test_in_business_hours_is_half_open() -> None:
    assert in_business_hours(local(TOMORROW, 6, TOKYO), 6, 23, TOKYO)
    assert in_business_hours(local(TOMORROW, 22, TOKYO, 59), 6, 23, TOKYO)
    assert not in_business_hours(local(TOMORROW, 23, TOKYO), 6, 23, TOKYO)
    assert not in_business_hours(local(TOMORROW, 5, TOKYO, 59), 6, 23, TOKYO)


def test_in_business_hours_window_crossing_midnight() -> None:
    def inside(hour: int, minute: int = 0) -> bool:
        return in_business_hours(local(TOMORROW, hour, UTC_ZONE, minute), 22, 2, UTC_ZONE)

    assert inside(0)
    assert inside(1, 59)
    assert not inside(2)
    assert not inside(12)
    assert not inside(21, 59)
    assert inside(22)
    assert inside(23, 59)


# ---------------------------------------------------------------------------
# clip / window_capacity / spread


def test_clip_cuts_and_drops_segments() -> None:
    segments = [(utc(2024, 5, 3, 0), utc(2024, 5, 3, 2)), (utc(2024, 5, 3, 22), utc(2024, 5, 4))]
    assert clip(segments, None, None) == segments
    assert clip(segments, utc(2024, 5, 3, 1), None) == [
        (utc(2024, 5, 3, 1), utc(2024, 5, 3, 2)),
        (utc(2024, 5, 3, 22), utc(2024, 5, 4)),
    ]
    assert clip(segments, utc(2024, 5, 3, 3), None) == [(utc(2024, 5, 3, 22), utc(2024, 5, 4))]
    assert clip(segments, None, utc(2024, 5, 3, 23)) == [
        (utc(2024, 5, 3, 0), utc(2024, 5, 3, 2)),
        (utc(2024, 5, 3, 22), utc(2024, 5, 3, 23)),
    ]
    assert clip(segments, utc(2024, 5, 3, 2), utc(2024, 5, 3, 22)) == []
    assert clip(segments, utc(2024, 5, 3, 1), utc(2024, 5, 3, 1)) == []


def test_window_capacity() -> None:
    seventeen_hours = [(utc(2024, 5, 3, 6), utc(2024, 5, 3, 23))]
    assert window_capacity(seventeen_hours, 60) == 1020  # 61200 / 60 despite float rounding
    assert window_capacity(seventeen_hours, 61) == 1003
    assert window_capacity(seventeen_hours, 0.1) == 612000
    assert window_capacity(seventeen_hours, 0) >= 10**9  # no spacing: only the quota binds
    assert window_capacity([], 60) == 0
    assert window_capacity([], 0) == 0
    two_pieces = [(utc(2024, 5, 3, 0), utc(2024, 5, 3, 2)), (utc(2024, 5, 3, 22), utc(2024, 5, 4))]
    assert window_capacity(two_pieces, 900) == 16
    assert window_capacity(two_pieces, 14400) == 1
    assert window_capacity(two_pieces, 14401) == 0


def test_window_capacity_with_a_tiny_interval_does_not_overflow() -> None:
    # The config accepts any float >= 0; 61200 / 1e-305 is inf as a float.
    seventeen_hours = [(utc(2024, 5, 3, 6), utc(2024, 5, 3, 23))]
    assert window_capacity(seventeen_hours, 1e-305) >= 10**9
    plan = plan_queue(items(3), [account(interval=1e-305)], PlanRequest(Mode.DISTRIBUTE, NOW))
    assert len(plan.placements) == 3


def test_spread_seed_formula_one_minute_apart() -> None:
    start = local(TOMORROW, 6, TOKYO)
    slots = spread([(start, local(TOMORROW, 23, TOKYO))], 1020)
    assert slots == [start + timedelta(minutes=i) for i in range(1020)]


def test_spread_seed_formula_hundred_items() -> None:
    start = local(TOMORROW, 6, TOKYO)
    slots = spread([(start, local(TOMORROW, 23, TOKYO))], 100)
    assert slots == [start + timedelta(minutes=10.2 * i) for i in range(100)]


def test_spread_edge_counts() -> None:
    segment = (utc(2024, 5, 3, 6), utc(2024, 5, 3, 23))
    assert spread([segment], 0) == []
    assert spread([segment], -3) == []
    assert spread([segment], 1) == [segment[0]]


def test_spread_over_two_pieces_uses_open_time() -> None:
    segments = day_segments(TOMORROW, 22, 2, UTC_ZONE)  # 4 open hours
    assert spread(segments, 4) == [
        utc(2024, 5, 3, 0),
        utc(2024, 5, 3, 1),
        utc(2024, 5, 3, 22),
        utc(2024, 5, 3, 23),
    ]
    assert spread(segments, 3) == [
        utc(2024, 5, 3, 0),
        utc(2024, 5, 3, 1, 20),
        utc(2024, 5, 3, 22, 40),
    ]


@pytest.mark.parametrize("count", [4, 42, 84, 168, 190])
def test_spread_never_lands_on_the_end_of_a_piece(count: int) -> None:
    # The slot at open offset 2 h (i = count / 2) belongs at 22:00. For 42, 84, 168 and
    # 190, float rounding makes i * (14400 / count) a hair below 7200, and timedelta's
    # rounding to microseconds then puts the slot on 02:00, the closed end of the first piece.
    segments = day_segments(TOMORROW, 22, 2, UTC_ZONE)
    slots = spread(segments, count)
    outside = [s for s in slots if not in_business_hours(s, 22, 2, UTC_ZONE)]
    assert outside == []
    assert slots[count // 2] == utc(2024, 5, 3, 22)


# ---------------------------------------------------------------------------
# merge_order / _proportional


def test_merge_order_alternates_and_keeps_existing_in_place() -> None:
    order = merge_order(100, 100)
    assert order == [True, False] * 100
    # Existing item j sits at slot 2j of 200: the time it had as slot j of 100.
    start = utc(2024, 5, 3, 6)
    segment = [(start, start + timedelta(hours=17))]
    before = spread(segment, 100)
    after = spread(segment, 200)
    kept = [t for t, is_existing in zip(after, order, strict=True) if is_existing]
    assert all(abs((a - b).total_seconds()) < 1e-3 for a, b in zip(kept, before, strict=True))


def test_merge_order_small_cases() -> None:
    assert merge_order(0, 0) == []
    assert merge_order(3, 0) == [True, True, True]
    assert merge_order(0, 3) == [False, False, False]
    assert merge_order(1, 1) == [True, False]
    assert merge_order(1, 2) == [False, True, False]
    assert merge_order(2, 1) == [True, False, True]
    assert merge_order(1, 3) == [False, True, False, False]  # 1/2 vs 1/6, 3/6, 5/6
    assert merge_order(2, 4) == [False, True, False, False, True, False]


def test_proportional_examples() -> None:
    assert _proportional(20, [30, 10]) == [15, 5]
    assert _proportional(10, [100, 100]) == [5, 5]
    assert _proportional(3, [1, 1, 1]) == [1, 1, 1]
    assert _proportional(2, [1, 1, 1]) == [1, 1, 0]  # ties: the first wins
    assert _proportional(5, [2, 2, 2]) == [2, 2, 1]
    assert _proportional(4, [1, 10]) == [0, 4]
    assert _proportional(1, [1, 3]) == [0, 1]
    assert _proportional(0, [5, 5]) == [0, 0]
    assert _proportional(5, [0, 0]) == [0, 0]
    assert _proportional(5, []) == []
    assert _proportional(11, [10, 0, 1]) == [10, 0, 1]


# ---------------------------------------------------------------------------
# plan_queue: seed compatibility and target day


def test_seed_1020_items_one_minute_apart_tomorrow() -> None:
    plan = plan_queue(items(1020), [account()], PlanRequest(Mode.DISTRIBUTE, NOW))
    placed = on(plan, "a")
    assert [p.key for p in placed] == list(range(1020))
    start = local(TOMORROW, 6, TOKYO)
    assert [p.scheduled_time for p in placed] == [start + timedelta(minutes=i) for i in range(1020)]
    assert placed[-1].scheduled_time == local(TOMORROW, 22, TOKYO, 59)
    assert plan.unplaced == []
    assert plan.moves == []
    [summary] = plan.days
    assert (summary.account_id, summary.day, summary.count) == ("a", TOMORROW, 1020)
    assert summary.first == start
    assert summary.last == local(TOMORROW, 22, TOKYO, 59)
    assert summary.interval_seconds == 60


def test_seed_100_items_ten_point_two_minutes_apart() -> None:
    plan = plan_queue(items(100), [account()], PlanRequest(Mode.DISTRIBUTE, NOW))
    times = [p.scheduled_time for p in on(plan, "a")]
    start = local(TOMORROW, 6, TOKYO)
    assert times == [start + timedelta(seconds=612 * i) for i in range(100)]
    assert all(in_business_hours(t, 6, 23, TOKYO) for t in times)
    assert times[-1] < local(TOMORROW, 23, TOKYO)


def test_target_day_is_tomorrow_in_each_accounts_own_zone() -> None:
    now = utc(2024, 5, 1, 20)  # 05:00 on 05-02 in Tokyo, 16:00 on 05-01 in New York
    accounts = [
        account("tokyo", "Asia/Tokyo", 6, 23, limit=100),
        account("ny", "America/New_York", 9, 18, limit=100),
    ]
    plan = plan_queue(items(10), accounts, PlanRequest(Mode.DISTRIBUTE, now))
    tokyo, ny = on(plan, "tokyo"), on(plan, "ny")
    assert len(tokyo) == len(ny) == 5
    tokyo_start = local(date(2024, 5, 3), 6, TOKYO)
    ny_start = local(date(2024, 5, 2), 9, NEW_YORK)
    assert [p.scheduled_time for p in tokyo] == [
        tokyo_start + timedelta(hours=17 / 5 * i) for i in range(5)
    ]
    assert [p.scheduled_time for p in ny] == [
        ny_start + timedelta(hours=9 / 5 * i) for i in range(5)
    ]


def test_start_date_picks_the_day() -> None:
    day = date(2024, 6, 1)
    request = PlanRequest(Mode.DISTRIBUTE, NOW, start_date=day)
    plan = plan_queue(items(17), [account()], request)
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(day, 6 + i, TOKYO) for i in range(17)]


def test_window_crossing_midnight_is_spread_over_both_ends_of_the_day() -> None:
    plan = plan_queue(
        items(8), [account(tz="UTC", start=22, end=2)], PlanRequest(Mode.DISTRIBUTE, NOW)
    )
    times = [p.scheduled_time for p in on(plan, "a")]
    # NOW is 03:00 UTC on 05-02, so tomorrow is 05-03 in UTC as well.
    assert times == [
        utc(2024, 5, 3, 0),
        utc(2024, 5, 3, 0, 30),
        utc(2024, 5, 3, 1),
        utc(2024, 5, 3, 1, 30),
        utc(2024, 5, 3, 22),
        utc(2024, 5, 3, 22, 30),
        utc(2024, 5, 3, 23),
        utc(2024, 5, 3, 23, 30),
    ]


def test_window_crossing_midnight_with_42_items_stays_inside_the_window() -> None:
    plan = plan_queue(
        items(42), [account(tz="UTC", start=22, end=2)], PlanRequest(Mode.DISTRIBUTE, NOW)
    )
    times = [p.scheduled_time for p in on(plan, "a")]
    assert len(times) == 42
    assert [t for t in times if not in_business_hours(t, 22, 2, UTC_ZONE)] == []


def test_rest_of_today_uses_what_is_left_of_todays_window() -> None:
    now = local(TODAY, 17, TOKYO)
    plan = plan_queue(items(6), [account()], PlanRequest(Mode.REST_OF_TODAY, now))
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(TODAY, 17 + i, TOKYO) for i in range(6)]


def test_rest_of_today_before_the_window_opens_uses_the_whole_window() -> None:
    now = local(TODAY, 3, TOKYO)
    plan = plan_queue(items(17), [account()], PlanRequest(Mode.REST_OF_TODAY, now))
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(TODAY, 6 + i, TOKYO) for i in range(17)]


def test_rest_of_today_after_the_window_closed_goes_to_tomorrow() -> None:
    now = local(TODAY, 23, TOKYO, 30)
    plan = plan_queue(items(17), [account()], PlanRequest(Mode.REST_OF_TODAY, now))
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(TOMORROW, 6 + i, TOKYO) for i in range(17)]


def test_rest_of_today_spills_the_rest_to_tomorrow() -> None:
    now = local(TODAY, 17, TOKYO)
    used = {("a", TODAY): 8}
    plan = plan_queue(
        items(5), [account(limit=10)], PlanRequest(Mode.REST_OF_TODAY, now), used=used
    )
    placed = on(plan, "a")
    assert [p.scheduled_time for p in placed] == [
        local(TODAY, 17, TOKYO),
        local(TODAY, 20, TOKYO),
        local(TOMORROW, 6, TOKYO),
        local(TOMORROW, 11, TOKYO, 40),
        local(TOMORROW, 17, TOKYO, 20),
    ]
    assert [p.key for p in placed] == [0, 1, 2, 3, 4]


def test_within_spreads_over_the_given_span() -> None:
    now = local(TODAY, 10, TOKYO)
    request = PlanRequest(Mode.WITHIN, now, within=timedelta(hours=2))
    plan = plan_queue(items(4), [account()], request)
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(TODAY, 10, TOKYO) + timedelta(minutes=30 * i) for i in range(4)]


def test_within_outside_business_hours_starts_at_the_next_opening() -> None:
    # 04:00 + 4 h: the span starts when the window opens at 06:00, not at now; before
    # issue 15 it was clipped to 06:00-08:00.
    now = local(TODAY, 4, TOKYO)
    request = PlanRequest(Mode.WITHIN, now, within=timedelta(hours=4))
    plan = plan_queue(items(4), [account()], request)
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(TODAY, 6, TOKYO) + timedelta(hours=i) for i in range(4)]


def test_within_one_minute_after_closing_is_one_minute_at_the_next_opening() -> None:
    # At 23:30 (hours 06-23) `--within 1m` used to spread over tomorrow's whole window.
    now = local(TODAY, 23, TOKYO, 30)
    request = PlanRequest(Mode.WITHIN, now, within=timedelta(minutes=1))
    plan = plan_queue(items(3), [account(interval=1.0)], request)
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(TOMORROW, 6, TOKYO) + timedelta(seconds=20 * i) for i in range(3)]
    assert next_opening(account(), now) == local(TOMORROW, 6, TOKYO)
    assert next_opening(account(), local(TODAY, 10, TOKYO)) == local(TODAY, 10, TOKYO)


def test_within_continues_past_midnight_into_the_night_window() -> None:
    # 23:39 JST, hours 22-06, 2 h: the span is 23:39-01:39, not 23:39-23:59.
    now = local(TODAY, 23, TOKYO, 39)
    request = PlanRequest(Mode.WITHIN, now, within=timedelta(hours=2))
    plan = plan_queue(items(4), [account(start=22, end=6, interval=30.0)], request)
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [now + timedelta(minutes=30 * i) for i in range(4)]
    assert local_days(on(plan, "a"), TOKYO) == {TODAY: 1, TOMORROW: 3}
    summaries = {d.day: (d.count, d.first, d.last, d.interval_seconds) for d in plan.days}
    assert summaries == {
        TODAY: (1, now, now, 1800.0),
        TOMORROW: (3, times[1], times[3], 1800.0),
    }


def test_within_across_midnight_keeps_each_local_days_quota() -> None:
    # Today has room for 1 more, tomorrow for 10: the even spread over 23:00-03:00 may
    # put only one slot before midnight, so it takes 4 (slots at 23:00, 00:00, ...).
    now = local(TODAY, 23, TOKYO)
    request = PlanRequest(Mode.WITHIN, now, within=timedelta(hours=4), max_days=1)
    used = {("a", TODAY): 9}
    plan = plan_queue(items(6), [account(start=22, end=6, limit=10)], request, used=used)
    days = local_days(on(plan, "a"), TOKYO)
    assert days[TODAY] <= 1
    assert sum(days.values()) == 4
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [now + timedelta(hours=i) for i in range(4)]
    assert len(plan.unplaced) == 2


def test_within_across_midnight_skips_a_day_without_quota() -> None:
    now = local(TODAY, 23, TOKYO)
    request = PlanRequest(Mode.WITHIN, now, within=timedelta(hours=3), max_days=1)
    used = {("a", TODAY): 10}
    plan = plan_queue(items(2), [account(start=22, end=6, limit=10)], request, used=used)
    times = [p.scheduled_time for p in on(plan, "a")]
    assert times == [local(TOMORROW, 0, TOKYO), local(TOMORROW, 1, TOKYO)]


def test_within_spill_goes_to_the_next_day() -> None:
    # 22:00 + 3 h: only [22:00, 23:00) of today is in business hours and the quota takes
    # 2 a day. What does not fit today has to spill to tomorrow's window, not skip it.
    now = local(TODAY, 22, TOKYO)
    request = PlanRequest(Mode.WITHIN, now, within=timedelta(hours=3), max_days=2)
    plan = plan_queue(items(5), [account(limit=2)], request)
    days = local_days(on(plan, "a"), TOKYO)
    assert days == {TODAY: 2, TOMORROW: 2}
    assert [u.key for u in plan.unplaced] == [4]


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_queue(items(1), [account()], PlanRequest(Mode.DISTRIBUTE, datetime(2024, 5, 2)))


# ---------------------------------------------------------------------------
# plan_queue: accounts and capacity


def test_items_are_shared_in_proportion_to_remaining_capacity() -> None:
    accounts = [account("a", limit=30), account("b", limit=10)]
    plan = plan_queue(items(20), accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    assert Counter(p.account_id for p in plan.placements) == {"a": 15, "b": 5}


def test_sharing_never_fills_one_account_first() -> None:
    accounts = [account("a", limit=100), account("b", limit=100)]
    plan = plan_queue(items(10), accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    by_key = sorted(plan.placements, key=lambda p: p.key)
    assert [p.account_id for p in by_key] == ["a", "b"] * 5


def test_capacity_counts_used_and_already_scheduled_rows() -> None:
    accounts = [account("a", limit=30), account("b", limit=30)]
    used = {("a", TOMORROW): 20}  # a has 10 left
    existing = [
        ExistingSlot(900 + n, "b", local(TOMORROW, 7, TOKYO, n), movable=False) for n in range(10)
    ]  # b has 20 left
    plan = plan_queue(
        items(15), accounts, PlanRequest(Mode.DISTRIBUTE, NOW), existing=existing, used=used
    )
    assert Counter(p.account_id for p in plan.placements) == {"a": 5, "b": 10}
    assert plan.moves == []


def test_capacity_is_bounded_by_what_the_window_holds() -> None:
    accounts = [
        account("a", start=6, end=7, limit=50, interval=600),  # 3600 / 600 = 6 starts
        account("b", limit=18),
    ]
    plan = plan_queue(items(12), accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    assert Counter(p.account_id for p in plan.placements) == {"a": 3, "b": 9}
    full = plan_queue(items(30), accounts, PlanRequest(Mode.DISTRIBUTE, NOW, max_days=1))
    assert Counter(p.account_id for p in full.placements) == {"a": 6, "b": 18}
    assert len(full.unplaced) == 6
    a_times = [p.scheduled_time for p in on(full, "a")]
    assert a_times == [local(TOMORROW, 6, TOKYO, 10 * i) for i in range(6)]


def test_window_capacity_limits_the_seed_day() -> None:
    plan = plan_queue(items(1020), [account(interval=61)], PlanRequest(Mode.DISTRIBUTE, NOW))
    days = local_days(on(plan, "a"), TOKYO)
    assert days == {TOMORROW: 1003, TOMORROW + timedelta(days=1): 17}
    second = [p for p in on(plan, "a") if p.scheduled_time >= local(TOMORROW, 23, TOKYO)]
    assert [p.key for p in second] == list(range(1003, 1020))
    assert gaps([p.scheduled_time for p in second]) == [3600.0] * 16


def test_each_account_uses_its_own_window_and_zone() -> None:
    accounts = [
        account("a", "Asia/Tokyo", 6, 23, limit=100),
        account("b", "Europe/London", 9, 18, limit=100),
        account("c", "UTC", 22, 2, limit=100),
    ]
    plan = plan_queue(items(12), accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    assert Counter(p.account_id for p in plan.placements) == {"a": 4, "b": 4, "c": 4}
    london_day = date(2024, 5, 3)
    assert [p.scheduled_time for p in on(plan, "b")] == [
        local(london_day, 9, LONDON) + timedelta(hours=9 / 4 * i) for i in range(4)
    ]
    assert [p.scheduled_time for p in on(plan, "c")] == [
        utc(2024, 5, 3, 0),
        utc(2024, 5, 3, 1),
        utc(2024, 5, 3, 22),
        utc(2024, 5, 3, 23),
    ]


def test_unassigned_items_never_go_to_excluded_accounts() -> None:
    accounts = [account("a", limit=100), account("b", limit=100)]
    plan = plan_queue(
        items(10, excluded_accounts=frozenset({"a"})), accounts, PlanRequest(Mode.DISTRIBUTE, NOW)
    )
    assert Counter(p.account_id for p in plan.placements) == {"b": 10}


def test_mixed_exclusions() -> None:
    accounts = [account("a", limit=100), account("b", limit=100), account("c", limit=100)]
    batch = [
        PlanItem(k, f"A{k}", excluded_accounts=frozenset({"a", "b"} if k % 2 else {"c"}))
        for k in range(20)
    ]
    plan = plan_queue(batch, accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    for p in plan.placements:
        assert p.account_id not in batch[p.key].excluded_accounts
    assert len(plan.placements) == 20


def test_item_excluded_everywhere_is_reported() -> None:
    accounts = [account("a"), account("b")]
    batch = [PlanItem(1, "X", excluded_accounts=frozenset({"a", "b"})), PlanItem(2, "Y")]
    plan = plan_queue(batch, accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    assert [p.key for p in plan.placements] == [2]
    [unplaced] = plan.unplaced
    assert unplaced.key == 1
    assert "every account" in unplaced.reason


def test_preassigned_items_stay_on_their_account() -> None:
    accounts = [account("a", limit=100), account("b", limit=100)]
    plan = plan_queue(items(6, account_id="b"), accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    assert Counter(p.account_id for p in plan.placements) == {"b": 6}


def test_preassigned_items_take_their_accounts_quota_and_spill() -> None:
    accounts = [account("a", limit=100), account("b", limit=3)]
    request = PlanRequest(Mode.DISTRIBUTE, NOW, max_days=2)
    plan = plan_queue(items(8, account_id="b"), accounts, request)
    assert local_days(on(plan, "b"), TOKYO) == {TOMORROW: 3, TOMORROW + timedelta(days=1): 3}
    assert on(plan, "a") == []
    assert [u.key for u in plan.unplaced] == [6, 7]


def test_preassigned_and_shared_items_keep_item_order_on_an_account() -> None:
    # Slots of one account on one day follow item order: item 0 (shared) comes before
    # item 1 (pre-assigned to a) in the input, so it must not get the later slot.
    accounts = [account("a", limit=100), account("b", limit=100)]
    batch = [PlanItem(0, "X"), PlanItem(1, "Y", account_id="a"), PlanItem(2, "Z")]
    plan = plan_queue(batch, accounts, PlanRequest(Mode.DISTRIBUTE, NOW))
    for account_id in ("a", "b"):
        keys = [p.key for p in on(plan, account_id)]
        assert keys == sorted(keys), account_id


def test_item_for_unconfigured_account_is_reported() -> None:
    plan = plan_queue(
        [PlanItem(7, "X", account_id="ghost")], [account()], PlanRequest(Mode.DISTRIBUTE, NOW)
    )
    assert plan.placements == []
    [unplaced] = plan.unplaced
    assert unplaced.key == 7
    assert "'ghost'" in unplaced.reason


def test_no_accounts_reports_everything() -> None:
    plan = plan_queue(items(3), [], PlanRequest(Mode.DISTRIBUTE, NOW))
    assert plan.placements == []
    assert [u.key for u in plan.unplaced] == [0, 1, 2]
    assert all(u.reason for u in plan.unplaced)


# ---------------------------------------------------------------------------
# plan_queue: spill


def test_spill_to_following_days_and_report_the_rest() -> None:
    request = PlanRequest(Mode.DISTRIBUTE, NOW, max_days=2)
    plan = plan_queue(items(25), [account(limit=10)], request)
    placed = on(plan, "a")
    assert local_days(placed, TOKYO) == {TOMORROW: 10, TOMORROW + timedelta(days=1): 10}
    assert [p.key for p in placed] == list(range(20))
    assert [u.key for u in plan.unplaced] == list(range(20, 25))
    assert all("--max-days" in u.reason for u in plan.unplaced)


def test_spill_over_several_accounts_never_over_assigns() -> None:
    accounts = [account("a", limit=4), account("b", "America/New_York", 9, 17, limit=3)]
    request = PlanRequest(Mode.DISTRIBUTE, NOW, max_days=3)
    plan = plan_queue(items(30), accounts, request)
    per_day = Counter(
        (p.account_id, p.scheduled_time.astimezone(ZoneInfo(w.timezone)).date())
        for p in plan.placements
        for w in accounts
        if w.account_id == p.account_id
    )
    assert set(per_day.values()) <= {3, 4}
    assert sum(per_day.values()) == 21
    assert len(plan.unplaced) == 9
    keys = [p.key for p in plan.placements] + [u.key for u in plan.unplaced]
    assert sorted(keys) == list(range(30))


def test_max_days_zero_places_nothing() -> None:
    plan = plan_queue(items(2), [account()], PlanRequest(Mode.DISTRIBUTE, NOW, max_days=0))
    assert plan.placements == []
    assert [u.key for u in plan.unplaced] == [0, 1]


def test_full_days_are_skipped() -> None:
    used = {("a", TOMORROW): 10}
    plan = plan_queue(items(3), [account(limit=10)], PlanRequest(Mode.DISTRIBUTE, NOW), used=used)
    assert local_days(on(plan, "a"), TOKYO) == {TOMORROW + timedelta(days=1): 3}


# ---------------------------------------------------------------------------
# plan_queue: what is already scheduled


def apply(plan: Plan, existing: list[ExistingSlot]) -> list[datetime]:
    """All times of one day after the plan: the existing rows (moved or not) and the new."""
    moved = dict(plan.moves)
    assert len(moved) == len(plan.moves)
    final = [moved.get(s.queue_id, s.scheduled_time) for s in existing]
    return sorted(final + [p.scheduled_time for p in plan.placements])


def test_adding_100_twice_gives_an_even_spread_of_200() -> None:
    first = plan_queue(items(100), [account()], PlanRequest(Mode.DISTRIBUTE, NOW))
    existing = [ExistingSlot(p.key, p.account_id, p.scheduled_time) for p in first.placements]
    second = plan_queue(
        items(100, first_key=100), [account()], PlanRequest(Mode.DISTRIBUTE, NOW), existing
    )
    assert len(second.placements) == 100
    times = apply(second, existing)
    assert len(times) == len(set(times)) == 200
    assert times[0] == local(TOMORROW, 6, TOKYO)
    assert all(abs(g - 306) < 1e-3 for g in gaps(times))  # 61200 / 200
    assert second.moves == []  # the first hundred keep their times
    new_times = [p.scheduled_time for p in on(second, "a")]
    assert [p.key for p in on(second, "a")] == list(range(100, 200))
    assert all(abs(g - 612) < 1e-3 for g in gaps(new_times))


def test_adding_to_an_existing_spread_re_slots_movable_rows() -> None:
    first = plan_queue(items(50), [account()], PlanRequest(Mode.DISTRIBUTE, NOW))
    existing = [ExistingSlot(p.key, p.account_id, p.scheduled_time) for p in first.placements]
    second = plan_queue(
        items(100, first_key=50), [account()], PlanRequest(Mode.DISTRIBUTE, NOW), existing
    )
    times = apply(second, existing)
    assert len(times) == 150
    assert all(abs(g - 408) < 1e-3 for g in gaps(times))  # 61200 / 150
    assert second.moves
    moved_ids = [queue_id for queue_id, _ in second.moves]
    assert len(moved_ids) == len(set(moved_ids))
    assert set(moved_ids) <= {s.queue_id for s in existing}
    # The existing rows keep their relative order.
    moved = dict(second.moves)
    final = [moved.get(s.queue_id, s.scheduled_time) for s in existing]
    assert final == sorted(final)


def test_existing_rows_fill_the_quota() -> None:
    existing = [ExistingSlot(n, "a", local(TOMORROW, 8 + n, TOKYO)) for n in range(8)]
    request = PlanRequest(Mode.DISTRIBUTE, NOW, max_days=2)
    plan = plan_queue(items(5), [account(limit=10)], request, existing)
    assert local_days(on(plan, "a"), TOKYO) == {TOMORROW: 2, TOMORROW + timedelta(days=1): 3}
    times = apply(plan, existing)[:10]
    assert all(abs(g - 6120) < 1e-3 for g in gaps(times))  # 10 evenly over 17 h


def test_immovable_rows_count_but_are_not_moved() -> None:
    existing = [
        ExistingSlot(1, "a", local(TOMORROW, 12, TOKYO), movable=False),
        ExistingSlot(2, "a", local(TOMORROW, 13, TOKYO), movable=True),
    ]
    request = PlanRequest(Mode.DISTRIBUTE, NOW, max_days=1)
    plan = plan_queue(items(3), [account(limit=4)], request, existing)
    assert len(plan.placements) == 2
    assert [queue_id for queue_id, _ in plan.moves] == [2]
    assert [u.key for u in plan.unplaced] == [2]


def test_overdue_rows_count_for_today() -> None:
    now = local(TODAY, 17, TOKYO)
    existing = [ExistingSlot(1, "a", local(TODAY - timedelta(days=1), 12, TOKYO))]
    plan = plan_queue(items(3), [account(limit=2)], PlanRequest(Mode.REST_OF_TODAY, now), existing)
    assert local_days(on(plan, "a"), TOKYO) == {TODAY: 1, TOMORROW: 2}
    assert plan.moves == []


def test_rows_of_other_accounts_and_days_are_left_alone() -> None:
    existing = [
        ExistingSlot(1, "ghost", local(TOMORROW, 12, TOKYO)),
        ExistingSlot(2, "a", local(TOMORROW + timedelta(days=1), 12, TOKYO)),
        ExistingSlot(3, "a", local(TOMORROW, 3, TOKYO)),  # outside business hours
    ]
    plan = plan_queue(items(4), [account(limit=5)], PlanRequest(Mode.DISTRIBUTE, NOW), existing)
    assert local_days(on(plan, "a"), TOKYO) == {TOMORROW: 4}
    assert plan.moves == []


# ---------------------------------------------------------------------------
# plan_queue: Mode.NOW


def test_now_mode_schedules_at_now_even_outside_business_hours() -> None:
    now = local(TODAY, 3, TOKYO)
    accounts = [account("a", limit=100), account("b", limit=100)]
    plan = plan_queue(items(5), accounts, PlanRequest(Mode.NOW, now))
    assert {p.scheduled_time for p in plan.placements} == {now}
    assert Counter(p.account_id for p in plan.placements) == {"a": 3, "b": 2}
    assert plan.unplaced == []


def test_now_mode_shares_by_remaining_quota_and_spills() -> None:
    now = local(TODAY, 12, TOKYO)
    accounts = [account("a", limit=5), account("b", limit=5)]
    used = {("a", TODAY): 1, ("b", TODAY): 4}
    plan = plan_queue(items(9), accounts, PlanRequest(Mode.NOW, now), used=used)
    at_now = Counter(p.account_id for p in plan.placements if p.scheduled_time == now)
    assert at_now == {"a": 4, "b": 1}
    later = [p for p in plan.placements if p.scheduled_time != now]
    assert len(later) == 4
    for p in later:
        assert p.scheduled_time.astimezone(TOKYO).date() == TOMORROW
        assert in_business_hours(p.scheduled_time, 6, 23, TOKYO)
    assert plan.unplaced == []


def test_now_mode_respects_the_daily_quota_and_existing_rows() -> None:
    now = local(TODAY, 12, TOKYO)
    existing = [ExistingSlot(1, "a", local(TODAY, 20, TOKYO))]
    plan = plan_queue(
        items(4), [account(limit=3)], PlanRequest(Mode.NOW, now, max_days=1), existing
    )
    assert [p.scheduled_time for p in plan.placements] == [now, now]
    assert [u.key for u in plan.unplaced] == [2, 3]
    assert plan.moves == []


# ---------------------------------------------------------------------------
# determinism


def test_same_input_same_plan() -> None:
    accounts = [
        account("a", limit=7),
        account("b", "America/New_York", 22, 2, limit=5, interval=300),
        account("c", "Europe/London", 9, 18, limit=9),
    ]
    batch = [
        PlanItem(
            k,
            f"A{k}",
            account_id="c" if k % 7 == 0 else None,
            excluded_accounts=frozenset({"a"}) if k % 3 == 0 else frozenset(),
        )
        for k in range(40)
    ]
    existing = [ExistingSlot(1, "b", utc(2024, 5, 3, 3)), ExistingSlot(2, "a", NOW)]
    request = PlanRequest(Mode.DISTRIBUTE, NOW, max_days=3)
    first = plan_queue(batch, accounts, request, existing, {("c", TOMORROW): 2})
    second = plan_queue(list(batch), list(accounts), request, list(existing), {("c", TOMORROW): 2})
    assert first == second


def test_start_date_of_today_never_schedules_into_the_past() -> None:
    from datetime import UTC, date, datetime

    from upload_scheduler.planning import AccountWindow, Mode, PlanItem, PlanRequest, plan_queue

    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
    window = AccountWindow("a", "Asia/Tokyo", 6, 23, 100, 1.0)
    request = PlanRequest(Mode.DISTRIBUTE, now, start_date=date(2026, 3, 2), max_days=1)
    plan = plan_queue([PlanItem(i, f"A{i}") for i in range(10)], [window], request)
    assert len(plan.placements) == 10
    assert min(p.scheduled_time for p in plan.placements) == now
    past = PlanRequest(Mode.DISTRIBUTE, now, start_date=date(2026, 3, 1), max_days=1)
    stale = plan_queue([PlanItem(0, "A0")], [window], past)
    assert stale.placements == [] and len(stale.unplaced) == 1


# ---------------------------------------------------------------------------
# check_request: dates and spans no plan can honour


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (PlanRequest(Mode.DISTRIBUTE, NOW, start_date=date(2020, 1, 1)), "is in the past"),
        (PlanRequest(Mode.DISTRIBUTE, NOW, start_date=date(1, 1, 1)), "is in the past"),
        (PlanRequest(Mode.DISTRIBUTE, NOW, start_date=date(9999, 12, 31)), "years ahead"),
        (PlanRequest(Mode.WITHIN, NOW, within=timedelta(days=99999999)), "--within"),
        (PlanRequest(Mode.DISTRIBUTE, NOW, max_days=10**9), "--max-days"),
    ],
)
def test_out_of_range_requests_are_refused(request_: PlanRequest, message: str) -> None:
    with pytest.raises(PlanRequestError, match=message):
        check_request(request_, [account()])


def test_past_is_judged_by_the_earliest_today_of_the_accounts() -> None:
    # 00:30 in Tokyo on the 3rd is still the 2nd in New York: the 2nd is not past.
    now = local(TOMORROW, 0, TOKYO, 30)
    accounts = [account("a"), account("b", tz="America/New_York")]
    check_request(PlanRequest(Mode.DISTRIBUTE, now, start_date=TODAY), accounts)
    with pytest.raises(PlanRequestError, match=r"today is 2024-05-02 in America/New_York"):
        check_request(PlanRequest(Mode.DISTRIBUTE, now, start_date=date(2024, 5, 1)), accounts)
    latest = PlanRequest(Mode.DISTRIBUTE, now, start_date=date(2027, 5, 2))
    check_request(latest, accounts)
    check_request(PlanRequest(Mode.WITHIN, now, within=timedelta(days=366)), accounts)
