"""The per-URL spacing an adapter keeps before each request (`platforms.request_spacing`),
on SQLite and PostgreSQL with a fake clock: the clock's own `wait` moves time, so the
spacing is measured exactly. Requests to one endpoint of one account are spaced by the
interval plus the margin; other endpoints and other accounts are not held back; the
spacing holds across a restart once written, and a stamp not yet written is written at
the next request. Also `store.listing_steps`, the record of a listing's accepted calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, select

from upload_scheduler.clock import FakeClock
from upload_scheduler.limits import REQUEST_SPACING_MARGIN
from upload_scheduler.platforms.request_spacing import RequestSpacing
from upload_scheduler.store.database import open_database
from upload_scheduler.store.listing_steps import ListingSteps
from upload_scheduler.store.request_spacing import last_requests, save_requests
from upload_scheduler.store.tables import listing_steps

PLATFORM = "yahoo"
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
EDIT = "https://circus.shopping.yahooapis.jp/ShoppingWebService/V1/editItem"
IMAGE = "https://circus.shopping.yahooapis.jp/ShoppingWebService/V1/uploadItemImage"
ONE_SECOND = timedelta(seconds=1) + REQUEST_SPACING_MARGIN  # one interval of 1.0 s


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def sent_times(
    spacing: RequestSpacing, clock: FakeClock, calls: int, endpoint: str
) -> list[datetime]:
    """The clock's reading after each of `calls` requests to `endpoint` of store_a."""
    times = []
    for _ in range(calls):
        spacing.before("store_a", endpoint, 1.0)
        times.append(clock.now())
    return times


# ------------------------------------------------------------------------- one process


def test_consecutive_requests_to_one_endpoint_are_an_interval_and_the_margin_apart(
    engine: Engine, clock: FakeClock
) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)

    times = sent_times(spacing, clock, 4, EDIT)

    assert times[0] == START  # the first request waits for nothing
    assert [b - a for a, b in pairwise(times)] == [ONE_SECOND] * 3
    assert clock.waits == [ONE_SECOND.total_seconds()] * 3


def test_time_spent_between_requests_counts_toward_the_interval(
    engine: Engine, clock: FakeClock
) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    clock.advance(0.4)  # building the next form, a token refresh...

    spacing.before("store_a", EDIT, 1.0)

    assert clock.now() == START + ONE_SECOND
    assert clock.waits == [pytest.approx((ONE_SECOND - timedelta(seconds=0.4)).total_seconds())]


def test_a_request_after_the_interval_has_passed_does_not_move_the_clock(
    engine: Engine, clock: FakeClock
) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    clock.advance(5.0)
    later = clock.now()

    spacing.before("store_a", EDIT, 1.0)

    assert clock.now() == later
    assert all(w == 0 for w in clock.waits)


def test_the_interval_given_is_the_one_kept(engine: Engine, clock: FakeClock) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 2.5)
    spacing.before("store_a", EDIT, 2.5)
    assert clock.now() == START + timedelta(seconds=2.5) + REQUEST_SPACING_MARGIN


def test_other_endpoints_of_the_same_account_are_not_held_back(
    engine: Engine, clock: FakeClock
) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    spacing.before("store_a", IMAGE, 1.0)
    assert clock.now() == START and clock.waits == []

    # ...but each keeps its own spacing.
    spacing.before("store_a", IMAGE, 1.0)
    assert clock.now() == START + ONE_SECOND
    spacing.before("store_a", EDIT, 1.0)  # a second has passed for editItem too
    assert clock.now() == START + ONE_SECOND


def test_other_accounts_are_not_held_back_on_the_same_endpoint(
    engine: Engine, clock: FakeClock
) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    spacing.before("store_b", EDIT, 1.0)
    assert clock.now() == START and clock.waits == []
    spacing.before("store_b", EDIT, 1.0)
    assert clock.now() == START + ONE_SECOND


def test_an_interval_of_zero_never_waits_and_writes_nothing(
    engine: Engine, clock: FakeClock
) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    for _ in range(5):
        spacing.before("store_a", EDIT, 0.0)
    spacing.flush()
    assert clock.now() == START and clock.waits == []
    assert last_requests(engine, PLATFORM, "store_a") == {}
    # Nor does such a request stamp the endpoint for a spaced one.
    spacing.before("store_a", EDIT, 1.0)
    assert clock.now() == START


# ---------------------------------------------------------------------------- restarts


def test_the_spacing_survives_a_restart_after_flush(database_url: str, clock: FakeClock) -> None:
    first_engine = open_database(database_url)
    spacing = RequestSpacing(first_engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    spacing.flush()
    first_engine.dispose()
    clock.advance(0.3)  # the restart itself

    engine = open_database(database_url)
    try:
        restarted = RequestSpacing(engine, clock, PLATFORM)
        restarted.before("store_a", EDIT, 1.0)
        assert clock.now() == START + ONE_SECOND
        # The store's other endpoints and other stores were never stamped.
        restarted.before("store_a", IMAGE, 1.0)
        restarted.before("store_b", EDIT, 1.0)
        assert clock.now() == START + ONE_SECOND
    finally:
        engine.dispose()


def test_flush_writes_the_time_each_request_was_sent(engine: Engine, clock: FakeClock) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    spacing.before("store_a", EDIT, 1.0)  # sent after waiting
    spacing.before("store_a", IMAGE, 1.0)
    spacing.before("store_b", IMAGE, 1.0)
    # Each request writes the times noted before it, of every account; the last waits.
    sent = START + ONE_SECOND
    assert last_requests(engine, PLATFORM, "store_a") == {EDIT: sent, IMAGE: sent}
    assert last_requests(engine, PLATFORM, "store_b") == {}

    spacing.flush()

    assert last_requests(engine, PLATFORM, "store_a") == {EDIT: sent, IMAGE: sent}
    assert last_requests(engine, PLATFORM, "store_b") == {IMAGE: sent}
    assert last_requests(engine, "ebay", "store_a") == {}


def test_an_unflushed_stamp_is_written_at_the_next_request(
    engine: Engine, clock: FakeClock
) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    assert last_requests(engine, PLATFORM, "store_a") == {}  # held until the next wait

    spacing.before("store_a", IMAGE, 1.0)  # no flush: editItem's time is written now
    assert last_requests(engine, PLATFORM, "store_a") == {EDIT: START}

    # A crash here loses only the last request's time: a new process spaces editItem,
    # not uploadItemImage.
    restarted = RequestSpacing(engine, clock, PLATFORM)
    restarted.before("store_a", IMAGE, 1.0)
    assert clock.now() == START
    restarted.before("store_a", EDIT, 1.0)
    assert clock.now() == START + ONE_SECOND


def test_a_later_request_replaces_the_stored_time(engine: Engine, clock: FakeClock) -> None:
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    spacing.flush()
    clock.advance(60)
    spacing.before("store_a", EDIT, 1.0)
    spacing.flush()
    assert last_requests(engine, PLATFORM, "store_a") == {EDIT: START + timedelta(seconds=60)}

    restarted = RequestSpacing(engine, clock, PLATFORM)
    restarted.before("store_a", EDIT, 1.0)
    assert clock.now() == START + timedelta(seconds=60) + ONE_SECOND


def test_the_next_request_is_spaced_from_the_answer_of_the_last(
    engine: Engine, clock: FakeClock
) -> None:
    """The answer comes after the request arrived: spacing from it keeps arrivals apart
    however long the request took on its way."""
    spacing = RequestSpacing(engine, clock, PLATFORM)
    spacing.before("store_a", EDIT, 1.0)
    clock.advance(0.3)  # the request travels and is answered
    spacing.answered("store_a", EDIT, 1.0)
    spacing.before("store_a", EDIT, 1.0)
    assert clock.now() == START + timedelta(seconds=0.3) + ONE_SECOND
    spacing.flush()
    assert last_requests(engine, PLATFORM, "store_a") == {EDIT: clock.now()}


def test_an_earlier_time_never_replaces_a_later_one(engine: Engine) -> None:
    """Another process's older stamp, or a clock stepped back, must not shorten the wait."""
    later = START + timedelta(seconds=30)
    save_requests(engine, PLATFORM, "store_a", {EDIT: later})
    save_requests(engine, PLATFORM, "store_a", {EDIT: START})
    assert last_requests(engine, PLATFORM, "store_a") == {EDIT: later}


def test_platforms_do_not_share_stamps(engine: Engine, clock: FakeClock) -> None:
    yahoo = RequestSpacing(engine, clock, PLATFORM)
    yahoo.before("store_a", EDIT, 1.0)
    yahoo.flush()
    other = RequestSpacing(engine, clock, "fake")
    other.before("store_a", EDIT, 1.0)
    assert clock.now() == START


# ------------------------------------------------------------------------- listing steps


def test_listing_steps_are_recorded_per_item_and_read_back(engine: Engine) -> None:
    steps = ListingSteps(engine, PLATFORM)
    assert steps.done("store_a", "B0ITEM1") == set()

    for step in ("edited", "image:1", "image:2"):
        steps.record("store_a", "B0ITEM1", step, START)
    steps.record("store_a", "B0ITEM2", "edited", START)
    steps.record("store_b", "B0ITEM1", "submitted", START)

    assert steps.done("store_a", "B0ITEM1") == {"edited", "image:1", "image:2"}
    assert steps.done("store_a", "B0ITEM2") == {"edited"}
    assert steps.done("store_b", "B0ITEM1") == {"submitted"}
    assert ListingSteps(engine, "ebay").done("store_a", "B0ITEM1") == set()


def test_recording_a_step_again_is_harmless_and_keeps_the_first_time(engine: Engine) -> None:
    steps = ListingSteps(engine, PLATFORM)
    steps.record("store_a", "B0ITEM1", "image:1", START)
    steps.record("store_a", "B0ITEM1", "image:1", START + timedelta(hours=1))

    assert steps.done("store_a", "B0ITEM1") == {"image:1"}
    with engine.connect() as conn:
        rows = conn.execute(select(listing_steps.c.step, listing_steps.c.done_at)).all()
    assert [(row.step, row.done_at) for row in rows] == [("image:1", START)]


def test_forget_drops_the_whole_record_of_one_item(engine: Engine) -> None:
    steps = ListingSteps(engine, PLATFORM)
    for step in ("edited", "image:1", "submitted"):
        steps.record("store_a", "B0ITEM1", step, START)
    steps.record("store_a", "B0ITEM2", "edited", START)
    steps.record("store_b", "B0ITEM1", "edited", START)
    ListingSteps(engine, "ebay").record("store_a", "B0ITEM1", "edited", START)

    steps.forget("store_a", "B0ITEM1")

    assert steps.done("store_a", "B0ITEM1") == set()
    assert steps.done("store_a", "B0ITEM2") == {"edited"}
    assert steps.done("store_b", "B0ITEM1") == {"edited"}
    assert ListingSteps(engine, "ebay").done("store_a", "B0ITEM1") == {"edited"}

    # A new listing of the same item starts from nothing and records again.
    steps.record("store_a", "B0ITEM1", "edited", START)
    assert steps.done("store_a", "B0ITEM1") == {"edited"}


def test_forget_with_steps_drops_only_those(engine: Engine) -> None:
    steps = ListingSteps(engine, PLATFORM)
    for step in ("edited", "image:1", "image:2", "submitted"):
        steps.record("store_a", "B0ITEM1", step, START)
    steps.record("store_a", "B0ITEM2", "submitted", START)

    steps.forget("store_a", "B0ITEM1", {"submitted", "image:2", "never-recorded"})

    assert steps.done("store_a", "B0ITEM1") == {"edited", "image:1"}
    assert steps.done("store_a", "B0ITEM2") == {"submitted"}


def test_forget_with_no_steps_named_drops_nothing(engine: Engine) -> None:
    steps = ListingSteps(engine, PLATFORM)
    steps.record("store_a", "B0ITEM1", "edited", START)
    steps.forget("store_a", "B0ITEM1", set())
    assert steps.done("store_a", "B0ITEM1") == {"edited"}
