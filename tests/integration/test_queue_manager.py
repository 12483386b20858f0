"""`UploadQueueManager` against a real SQLite file: enqueue, the status life cycle with
its listing, due order, claims, statistics, planning, and config discovery."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tests.integration.queue_fixtures import (
    ACCOUNT_1,
    ACCOUNT_2,
    PLATFORM,
    START,
    QueueEnv,
    asins_for,
    claim_due,
    local,
    open_queue,
)
from upload_scheduler.config import ConfigError
from upload_scheduler.defaults import CONFIG_ENV_VAR
from upload_scheduler.queue.manager import QueueError, UploadQueueManager
from upload_scheduler.store.tables import account_usage, listings, upload_queue

JSON_KEYS = {
    "id",
    "asin",
    "platform",
    "account_id",
    "status",
    "priority",
    "scheduled_time",
    "attempts",
    "error_message",
}
STATISTIC_KEYS = {"pending", "uploading", "success", "failed", "cancelled", "total"}
TOMORROW = date(2026, 1, 6)
# Tomorrow's default window, 06:00-23:00 Tokyo, is 61,200 seconds long.
DEFAULT_WINDOW_SECONDS = 17 * 3600


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[QueueEnv]:
    queue = open_queue(tmp_path, database_url)
    yield queue
    queue.engine.dispose()


def _claim(env: QueueEnv, account_id: str | None = ACCOUNT_1, limit: int = 10) -> list[int]:
    items = claim_due(
        env.engine,
        PLATFORM,
        account_id,
        limit,
        owner="worker-1",
        lease_seconds=30,
        now=env.clock.now(),
    )
    return [i.id for i in items]


# ---------------------------------------------------------------------- enqueue


def test_add_to_queue_gives_the_listing_an_account_and_queues_it_now(env: QueueEnv) -> None:
    [listing_id] = env.add_product("B000000001")

    queue_id = env.manager.add_to_queue("B000000001", PLATFORM)

    assert queue_id is not None
    item = env.manager.get_item(queue_id)
    assert item is not None
    assert item.status == "pending"
    assert item.priority == 5
    assert item.attempts == 0
    assert item.scheduled_time == START
    assert item.listing_id == listing_id
    listing = env.listing(listing_id)
    assert listing["status"] == "queued"
    assert listing["account_id"] == item.account_id
    assert item.account_id in (ACCOUNT_1, ACCOUNT_2)


def test_queue_item_json_shape(env: QueueEnv) -> None:
    env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM, account_id=ACCOUNT_2, priority=10)
    assert queue_id is not None
    item = env.manager.get_item(queue_id)
    assert item is not None

    shown = item.to_json()

    assert set(shown) == JSON_KEYS
    assert shown == {
        "id": queue_id,
        "asin": "B000000001",
        "platform": PLATFORM,
        "account_id": ACCOUNT_2,
        "status": "pending",
        "priority": 10,
        "scheduled_time": "2026-01-05T00:00:00+00:00",
        "attempts": 0,
        "error_message": None,
    }
    parsed = datetime.fromisoformat(shown["scheduled_time"])
    assert parsed.utcoffset() == timedelta(0)


def test_add_to_queue_reads_a_naive_time_in_the_configured_zone(env: QueueEnv) -> None:
    env.add_product("B000000001")

    queue_id = env.manager.add_to_queue(
        "B000000001", PLATFORM, scheduled_time=datetime(2026, 1, 5, 15, 30)
    )

    assert queue_id is not None
    item = env.manager.get_item(queue_id)
    assert item is not None
    assert item.scheduled_time == datetime(2026, 1, 5, 6, 30, tzinfo=UTC)


def test_add_to_queue_without_a_listing_returns_none(env: QueueEnv) -> None:
    assert env.manager.add_to_queue("B0NOTHERE0", PLATFORM) is None
    result = env.manager.add_batch_to_queue(["B0NOTHERE0"], PLATFORM)
    assert result.queued == 0
    assert result.skipped == [("B0NOTHERE0", "no base listing")]
    assert env.queue_rows() == []


@pytest.mark.parametrize("priority", [0, -1, 21, 100])
def test_priority_out_of_range_is_refused(env: QueueEnv, priority: int) -> None:
    env.add_product("B000000001")

    with pytest.raises(QueueError, match="priority"):
        env.manager.add_to_queue("B000000001", PLATFORM, priority=priority)
    with pytest.raises(QueueError, match="priority"):
        env.manager.add_batch_to_queue(["B000000001"], PLATFORM, priority=priority)

    assert env.queue_rows() == []
    assert env.listings_of("B000000001")[0]["status"] == "pending"


@pytest.mark.parametrize("priority", [1, 20])
def test_priority_bounds_are_accepted(env: QueueEnv, priority: int) -> None:
    env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM, priority=priority)
    assert queue_id is not None
    assert env.queue_row(queue_id)["priority"] == priority


def test_database_refuses_a_priority_out_of_range(env: QueueEnv) -> None:
    env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM)
    with pytest.raises(IntegrityError), env.engine.begin() as conn:
        conn.execute(update(upload_queue).where(upload_queue.c.id == queue_id).values(priority=21))


def test_unconfigured_platform_or_account_is_refused(env: QueueEnv) -> None:
    env.add_product("B000000001")
    with pytest.raises(QueueError, match="no account is configured"):
        env.manager.add_to_queue("B000000001", "ebay")
    with pytest.raises(QueueError, match="not configured"):
        env.manager.add_to_queue("B000000001", PLATFORM, account_id="someone_else")
    assert env.queue_rows() == []


# ---------------------------------------------------------------------- life cycle


def test_success_lists_the_listing_with_its_platform_item_id(env: QueueEnv) -> None:
    [listing_id] = env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM, account_id=ACCOUNT_1)
    assert _claim(env) == [queue_id]
    env.clock.advance(5)

    assert env.manager.update_queue_status(queue_id, "success", {"platform_item_id": 987654})

    row = env.queue_row(queue_id)
    assert row["status"] == "success"
    assert row["platform_item_id"] == "987654"
    assert row["processed_at"] == START + timedelta(seconds=5)
    assert row["lease_owner"] is None
    assert row["lease_expires_at"] is None
    listing = env.listing(listing_id)
    assert listing["status"] == "listed"
    assert listing["platform_item_id"] == "987654"
    assert listing["listed_at"] == START + timedelta(seconds=5)
    assert listing["account_id"] == ACCOUNT_1


def test_success_is_final(env: QueueEnv) -> None:
    [listing_id] = env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM)
    assert queue_id is not None
    assert env.manager.update_queue_status(queue_id, "success", {"platform_item_id": "1"})

    for status in ("pending", "uploading", "failed", "cancelled", "success"):
        assert not env.manager.update_queue_status(queue_id, status)

    assert env.queue_row(queue_id)["status"] == "success"
    assert env.listing(listing_id)["status"] == "listed"
    assert env.manager.cancel([queue_id]) == 0
    assert env.manager.requeue_failed([queue_id]) == 0
    assert env.listing(listing_id)["status"] == "listed"


def test_update_of_an_unknown_row_or_to_an_unknown_status(env: QueueEnv) -> None:
    assert not env.manager.update_queue_status(12345, "success")
    env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM)
    assert queue_id is not None
    with pytest.raises(QueueError, match="unknown status"):
        env.manager.update_queue_status(queue_id, "done")
    assert env.queue_row(queue_id)["status"] == "pending"


def test_failed_marks_the_listing_failed_and_requeue_resets_attempts(env: QueueEnv) -> None:
    [listing_id] = env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM, account_id=ACCOUNT_1)
    assert _claim(env) == [queue_id]
    with env.engine.begin() as conn:  # what a worker records for each attempt
        conn.execute(update(upload_queue).where(upload_queue.c.id == queue_id).values(attempts=3))

    assert env.manager.update_queue_status(
        queue_id, "failed", {"error_message": "validation_error: title is too long"}
    )

    row = env.queue_row(queue_id)
    assert row["status"] == "failed"
    assert row["error_message"] == "validation_error: title is too long"
    assert row["lease_owner"] is None
    assert env.listing(listing_id)["status"] == "failed"
    assert env.manager.get_scheduled_items_due(10, PLATFORM) == []

    env.clock.advance(3600)
    assert env.manager.requeue_failed(platform=PLATFORM) == 1

    row = env.queue_row(queue_id)
    assert row["status"] == "pending"
    assert row["attempts"] == 0
    assert row["scheduled_time"] == START + timedelta(hours=1)
    assert row["processed_at"] is None
    assert env.listing(listing_id)["status"] == "queued"
    assert [i.id for i in env.manager.get_scheduled_items_due(10, PLATFORM)] == [queue_id]
    assert env.manager.requeue_failed() == 0


def test_requeue_only_touches_the_chosen_failed_items(env: QueueEnv) -> None:
    env.add_products(["B000000001", "B000000002"])
    first = env.manager.add_to_queue("B000000001", PLATFORM)
    second = env.manager.add_to_queue("B000000002", PLATFORM)
    assert first is not None and second is not None
    for queue_id in (first, second):
        assert env.manager.update_queue_status(queue_id, "failed", {"error": "500"})

    assert env.manager.requeue_failed([first]) == 1

    assert env.queue_row(first)["status"] == "pending"
    assert env.queue_row(second)["status"] == "failed"
    assert env.listings_of("B000000002")[0]["status"] == "failed"


def test_cancel_returns_the_listing_to_pending_and_it_can_be_queued_again(env: QueueEnv) -> None:
    [listing_id] = env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM)
    assert queue_id is not None
    account = env.queue_row(queue_id)["account_id"]

    assert env.manager.cancel([queue_id]) == 1

    row = env.queue_row(queue_id)
    assert row["status"] == "cancelled"
    assert row["processed_at"] == START
    listing = env.listing(listing_id)
    assert listing["status"] == "pending"
    assert listing["platform_item_id"] is None
    assert env.manager.get_scheduled_items_due(10, PLATFORM) == []

    again = env.manager.add_to_queue("B000000001", PLATFORM)
    assert again is not None and again != queue_id
    assert env.queue_row(again)["account_id"] == account
    assert env.queue_row(queue_id)["status"] == "cancelled"
    assert env.listing(listing_id)["status"] == "queued"


def test_cancel_leaves_items_being_uploaded_alone(env: QueueEnv) -> None:
    [listing_id] = env.add_product("B000000001")
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM, account_id=ACCOUNT_1)
    assert _claim(env) == [queue_id]

    assert env.manager.cancel([queue_id]) == 0
    assert not env.manager.update_queue_status(queue_id, "cancelled")

    assert env.queue_row(queue_id)["status"] == "uploading"
    assert env.listing(listing_id)["status"] == "queued"


def test_statistics_have_exactly_the_status_keys(env: QueueEnv) -> None:
    assert env.manager.get_queue_statistics(PLATFORM) == dict.fromkeys(STATISTIC_KEYS, 0)

    asins = asins_for("S", 6)
    env.add_products(asins)
    ids = [env.manager.add_to_queue(a, PLATFORM, account_id=ACCOUNT_1) for a in asins]
    assert None not in ids
    claimed = _claim(env, limit=3)
    assert len(claimed) == 3
    assert env.manager.update_queue_status(claimed[0], "success", {"platform_item_id": "1"})
    assert env.manager.update_queue_status(claimed[1], "failed", {"error_message": "boom"})
    pending = [i for i in ids if i not in claimed]
    assert env.manager.cancel(pending[:1]) == 1

    stats = env.manager.get_queue_statistics(PLATFORM)

    assert set(stats) == STATISTIC_KEYS
    assert stats == {
        "pending": 2,
        "uploading": 1,
        "success": 1,
        "failed": 1,
        "cancelled": 1,
        "total": 6,
    }
    assert env.manager.get_queue_statistics("ebay") == dict.fromkeys(STATISTIC_KEYS, 0)


# ---------------------------------------------------------------------- due order and claims


def _backlog_and_urgent(env: QueueEnv) -> tuple[list[int], int, int]:
    """Three overdue normal items, one future item, and an urgent one added now."""
    env.add_products(["OLD1", "OLD2", "OLD3", "LATER", "URGENT"])
    backlog = []
    for n, asin in enumerate(["OLD1", "OLD2", "OLD3"]):
        queue_id = env.manager.add_to_queue(
            asin, PLATFORM, account_id=ACCOUNT_1, scheduled_time=START - timedelta(hours=3 - n)
        )
        assert queue_id is not None
        backlog.append(queue_id)
    later = env.manager.add_to_queue(
        "LATER", PLATFORM, account_id=ACCOUNT_1, priority=20, scheduled_time=START + timedelta(1)
    )
    urgent = env.manager.add_to_queue("URGENT", PLATFORM, account_id=ACCOUNT_1, priority=20)
    assert later is not None and urgent is not None
    return backlog, later, urgent


def test_urgent_item_overtakes_an_overdue_backlog_when_listing_due(env: QueueEnv) -> None:
    backlog, later, urgent = _backlog_and_urgent(env)

    due = env.manager.get_scheduled_items_due(10, PLATFORM)

    assert [i.id for i in due] == [urgent, *backlog]
    assert later not in [i.id for i in due]
    assert [i.id for i in env.manager.get_scheduled_items_due(2, PLATFORM, ACCOUNT_1)] == [
        urgent,
        backlog[0],
    ]
    assert env.manager.get_scheduled_items_due(10, PLATFORM, ACCOUNT_2) == []


def test_urgent_item_overtakes_an_overdue_backlog_when_claiming(env: QueueEnv) -> None:
    backlog, later, urgent = _backlog_and_urgent(env)

    assert _claim(env, limit=2) == [urgent, backlog[0]]
    assert _claim(env, limit=10) == backlog[1:]
    assert _claim(env, limit=10) == []

    env.clock.advance(86400)
    assert _claim(env, limit=10) == [later]


def _queue_now(env: QueueEnv, asins: list[str], account_id: str) -> list[int]:
    env.add_products(asins)
    ids = [env.manager.add_to_queue(a, PLATFORM, account_id=account_id) for a in asins]
    return [i for i in ids if i is not None]


def test_claim_takes_due_items_of_its_own_account_with_a_lease(env: QueueEnv) -> None:
    mine = _queue_now(env, asins_for("A", 4), ACCOUNT_1)
    theirs = _queue_now(env, asins_for("Z", 3), ACCOUNT_2)
    assert (len(mine), len(theirs)) == (4, 3)
    env.clock.advance(60)

    items = claim_due(
        env.engine,
        PLATFORM,
        ACCOUNT_1,
        3,
        owner="host-a:123",
        lease_seconds=45,
        now=env.clock.now(),
    )

    assert [i.id for i in items] == mine[:3]
    for item in items:
        assert item.account_id == ACCOUNT_1
        assert item.status == "uploading"
        assert item.lease_owner == "host-a:123"
        assert item.lease_expires_at == START + timedelta(seconds=105)
        row = env.queue_row(item.id)
        assert row["status"] == "uploading"
        assert row["lease_owner"] == "host-a:123"
        assert row["lease_expires_at"] == START + timedelta(seconds=105)
    assert all(env.queue_row(q)["status"] == "pending" for q in [*theirs, mine[3]])
    stats = env.manager.get_queue_statistics(PLATFORM)
    assert (stats["uploading"], stats["pending"]) == (3, 4)


def test_future_items_are_not_claimed(env: QueueEnv) -> None:
    env.add_product("B000000001")
    queue_id = env.manager.add_to_queue(
        "B000000001", PLATFORM, account_id=ACCOUNT_1, scheduled_time=START + timedelta(minutes=10)
    )

    assert _claim(env) == []
    env.clock.advance(599)
    assert _claim(env) == []
    env.clock.advance(1)
    assert _claim(env) == [queue_id]


def test_two_workers_on_separate_engines_never_claim_the_same_row(env: QueueEnv) -> None:
    asins = asins_for("C", 60)
    env.add_products(asins)
    result = env.manager.add_batch_to_queue(asins, PLATFORM, distribute_time=False)
    assert result.queued == 60
    workers = [env.other_manager(), env.other_manager()]
    start = threading.Barrier(len(workers))

    def drain(manager: UploadQueueManager, owner: str) -> list[int]:
        start.wait(timeout=30)
        taken: list[int] = []
        while True:
            batch = [
                i.id
                for account in (ACCOUNT_1, ACCOUNT_2)
                for i in claim_due(
                    manager.engine,
                    PLATFORM,
                    account,
                    2,
                    owner=owner,
                    lease_seconds=30,
                    now=manager.clock.now(),
                )
            ]
            if not batch:
                return taken
            taken += batch

    try:
        with ThreadPoolExecutor(max_workers=len(workers)) as pool:
            futures = [pool.submit(drain, m, f"worker-{n}") for n, m in enumerate(workers)]
            claimed = [f.result(timeout=60) for f in futures]
    finally:
        for manager in workers:
            manager.engine.dispose()

    everything = claimed[0] + claimed[1]
    assert len(everything) == len(set(everything)) == 60
    assert set(everything) == set(result.queue_ids)
    owners = {r["id"]: r["lease_owner"] for r in env.queue_rows()}
    for n, ids in enumerate(claimed):
        assert all(owners[i] == f"worker-{n}" for i in ids)


# ---------------------------------------------------------------------- shops of one platform


def test_unassigned_listing_gets_an_account_that_does_not_list_it_yet(env: QueueEnv) -> None:
    listed, unassigned = env.add_product("B000000001", listing_accounts=[ACCOUNT_1, None])
    with env.engine.begin() as conn:
        conn.execute(update(listings).where(listings.c.id == listed).values(status="listed"))

    assert env.manager.add_to_queue("B000000001", PLATFORM, account_id=ACCOUNT_1) is None
    assert env.listing(unassigned)["account_id"] is None

    queue_id = env.manager.add_to_queue("B000000001", PLATFORM)

    assert queue_id is not None
    assert env.queue_row(queue_id)["account_id"] == ACCOUNT_2
    assert env.listing(unassigned)["account_id"] == ACCOUNT_2
    assert env.listing(unassigned)["status"] == "queued"
    assert env.listing(listed)["status"] == "listed"


def test_unassigned_listing_with_every_shop_taken_is_not_queued(env: QueueEnv) -> None:
    *_, unassigned = env.add_product(
        "B000000001", listing_accounts=[ACCOUNT_1, ACCOUNT_2, None], listing_status="listed"
    )
    with env.engine.begin() as conn:
        conn.execute(update(listings).where(listings.c.id == unassigned).values(status="pending"))

    assert env.manager.add_to_queue("B000000001", PLATFORM) is None
    result = env.manager.add_batch_to_queue(["B000000001"], PLATFORM)

    assert result.queued == 0
    assert [asin for asin, _ in result.unplaced] == ["B000000001"]
    assert env.queue_rows() == []
    assert env.listing(unassigned)["account_id"] is None
    assert env.listing(unassigned)["status"] == "pending"


def test_one_product_on_several_shops_once_per_shop(env: QueueEnv) -> None:
    env.add_product("B000000001", listing_accounts=[ACCOUNT_1, ACCOUNT_2])

    result = env.manager.add_batch_to_queue(["B000000001"], PLATFORM)

    assert result.queued == 2
    assert sorted(r["account_id"] for r in env.active_rows()) == [ACCOUNT_1, ACCOUNT_2]
    again = env.manager.add_batch_to_queue(["B000000001"], PLATFORM)
    assert again.queued == 0
    assert len(env.active_rows()) == 2


def test_database_allows_one_unassigned_listing_per_product_and_platform(env: QueueEnv) -> None:
    env.add_product("B000000001")
    with pytest.raises(IntegrityError):
        env.add_listing("B000000001", account_id=None)
    env.add_listing("B000000001", account_id=None, platform="ebay")


def test_database_allows_one_listing_per_product_platform_and_account(env: QueueEnv) -> None:
    env.add_product("B000000001", listing_accounts=[ACCOUNT_1])
    with pytest.raises(IntegrityError):
        env.add_listing("B000000001", account_id=ACCOUNT_1, status="listed")
    env.add_listing("B000000001", account_id=ACCOUNT_2)


# ---------------------------------------------------------------------- planning


def _times_by_account(env: QueueEnv) -> dict[str, list[datetime]]:
    times: dict[str, list[datetime]] = {}
    for row in env.active_rows():
        times.setdefault(row["account_id"], []).append(row["scheduled_time"])
    return {account: sorted(ts) for account, ts in times.items()}


def _assert_evenly_spread(times: list[datetime], first: datetime, window_seconds: int) -> None:
    step = window_seconds / len(times)
    assert len(set(times)) == len(times)
    assert times[0] == first
    for n, moment in enumerate(times):
        offset = (moment - first).total_seconds()
        assert abs(offset - n * step) < 1e-3, (n, moment, step)


def test_distribute_spreads_tomorrow_inside_business_hours(env: QueueEnv) -> None:
    asins = asins_for("D", 20)
    env.add_products(asins)

    result = env.manager.add_batch_to_queue(asins, PLATFORM, distribute_time=True)

    assert result.queued == 20
    assert result.unplaced == [] and result.skipped == []
    assert sorted((d.account_id, d.day, d.count) for d in result.days) == [
        (ACCOUNT_1, TOMORROW, 10),
        (ACCOUNT_2, TOMORROW, 10),
    ]
    six = datetime(2026, 1, 6, 6, 0, tzinfo=local(START).tzinfo)
    for account, times in _times_by_account(env).items():
        assert len(times) == 10, account
        for moment in times:
            assert local(moment).date() == TOMORROW
            assert 6 <= local(moment).hour < 23
        _assert_evenly_spread(times, six.astimezone(UTC), DEFAULT_WINDOW_SECONDS)
    for asin in asins:
        [listing] = env.listings_of(asin)
        assert listing["status"] == "queued"
        assert listing["account_id"] in (ACCOUNT_1, ACCOUNT_2)


@pytest.mark.parametrize(
    ("start_hour", "end_hour", "allowed_hours"),
    [
        (9, 18, set(range(9, 18))),
        (22, 2, {22, 23, 0, 1}),  # crosses midnight: both ends of tomorrow's local day
    ],
)
def test_distribute_honours_an_accounts_overridden_window(
    tmp_path: Path, database_url: str, start_hour: int, end_hour: int, allowed_hours: set[int]
) -> None:
    env = open_queue(
        tmp_path,
        database_url,
        account_overrides={
            ACCOUNT_2: {"business_hours_start": start_hour, "business_hours_end": end_hour}
        },
    )
    try:
        asins = asins_for("W", 16)
        env.add_products(asins)

        result = env.manager.add_batch_to_queue(asins, PLATFORM)

        assert result.queued == 16
        times = _times_by_account(env)
        assert set(times) == {ACCOUNT_1, ACCOUNT_2}
        for moment in times[ACCOUNT_2]:
            assert local(moment).date() == TOMORROW
            assert local(moment).hour in allowed_hours, local(moment)
        for moment in times[ACCOUNT_1]:
            assert local(moment).date() == TOMORROW
            assert 6 <= local(moment).hour < 23
    finally:
        env.engine.dispose()


def _daily_limit_env(tmp_path: Path, database_url: str) -> QueueEnv:
    return open_queue(tmp_path, database_url, platforms={PLATFORM: {"daily_limit": 5}})


def test_daily_limit_spills_to_the_next_days(tmp_path: Path, database_url: str) -> None:
    env = _daily_limit_env(tmp_path, database_url)
    try:
        asins = asins_for("L", 13)
        env.add_products(asins)

        result = env.manager.add_batch_to_queue(asins, PLATFORM)

        assert result.queued == 13
        assert result.unplaced == []
        per_day = Counter(
            (r["account_id"], local(r["scheduled_time"]).date()) for r in env.active_rows()
        )
        assert per_day[(ACCOUNT_1, TOMORROW)] == 5
        assert per_day[(ACCOUNT_2, TOMORROW)] == 5
        day_after = date(2026, 1, 7)
        assert per_day[(ACCOUNT_1, day_after)] + per_day[(ACCOUNT_2, day_after)] == 3
        assert all(count <= 5 for count in per_day.values())
        assert {day for _, day in per_day} == {TOMORROW, day_after}
    finally:
        env.engine.dispose()


def test_what_does_not_fit_within_max_days_is_reported_and_stays_pending(
    tmp_path: Path, database_url: str
) -> None:
    env = _daily_limit_env(tmp_path, database_url)
    try:
        asins = asins_for("M", 13)
        env.add_products(asins)

        result = env.manager.enqueue(PLATFORM, asins=asins, max_days=1)

        assert result.queued == 10
        assert [asin for asin, _ in result.unplaced] == asins[10:]
        assert all("1 day" in reason for _, reason in result.unplaced)
        for asin in asins[10:]:
            [listing] = env.listings_of(asin)
            assert (listing["status"], listing["account_id"]) == ("pending", None)
            assert env.queue_rows(asin) == []
        assert {local(r["scheduled_time"]).date() for r in env.active_rows()} == {TOMORROW}
    finally:
        env.engine.dispose()


def test_adding_twice_on_one_day_spreads_the_union_evenly(env: QueueEnv) -> None:
    first = asins_for("F", 6)
    second = asins_for("G", 4)
    env.add_products(first + second)
    assert env.manager.add_batch_to_queue(first, PLATFORM).queued == 6

    env.clock.advance(3 * 3600)
    result = env.manager.add_batch_to_queue(second, PLATFORM)

    assert result.queued == 4
    assert result.moved > 0
    six = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)  # 06:00 on the 6th in Tokyo
    times = _times_by_account(env)
    assert set(times) == {ACCOUNT_1, ACCOUNT_2}
    for account_times in times.values():
        assert len(account_times) == 5
        _assert_evenly_spread(account_times, six, DEFAULT_WINDOW_SECONDS)


def test_success_counts_against_the_days_quota(tmp_path: Path, database_url: str) -> None:
    env = open_queue(
        tmp_path,
        database_url,
        accounts={PLATFORM: [ACCOUNT_1]},
        platforms={PLATFORM: {"daily_limit": 5}},
    )
    try:
        env.add_product("DONE")
        done = env.manager.add_to_queue("DONE", PLATFORM)
        assert done is not None
        assert _claim(env) == [done]
        assert env.manager.update_queue_status(done, "success", {"platform_item_id": "42"})
        assert not env.manager.update_queue_status(done, "success", {"platform_item_id": "42"})
        with env.engine.connect() as conn:
            usage = conn.execute(select(account_usage)).mappings().all()
        assert [dict(u) for u in usage] == [
            {
                "platform": PLATFORM,
                "account_id": ACCOUNT_1,
                "day": "2026-01-05",
                "creations": 1,
                "calls": 0,
            }
        ]

        asins = asins_for("N", 5)
        env.add_products(asins)
        result = env.manager.add_batch_to_queue(asins, PLATFORM, distribute_time=False)

        assert result.queued == 5
        days = Counter(local(r["scheduled_time"]).date() for r in env.active_rows())
        assert days == {date(2026, 1, 5): 4, TOMORROW: 1}
    finally:
        env.engine.dispose()


def test_adding_twice_with_a_full_first_day_keeps_quota_and_spread(
    tmp_path: Path, database_url: str
) -> None:
    env = _daily_limit_env(tmp_path, database_url)
    try:
        first, second = asins_for("H", 13), asins_for("K", 4)
        env.add_products(first + second)
        assert env.manager.add_batch_to_queue(first, PLATFORM).queued == 13

        env.clock.advance(3600)
        result = env.manager.add_batch_to_queue(second, PLATFORM)

        assert result.queued == 4
        day_after = date(2026, 1, 7)
        by_day: dict[tuple[str, date], list[datetime]] = {}
        for row in env.active_rows():
            key = (row["account_id"], local(row["scheduled_time"]).date())
            by_day.setdefault(key, []).append(row["scheduled_time"])
        assert {day for _, day in by_day} == {TOMORROW, day_after}
        assert sum(len(ts) for (_, day), ts in by_day.items() if day == day_after) == 7
        for (_, day), times in by_day.items():
            assert len(times) <= 5
            six = datetime(day.year, day.month, day.day, 6, tzinfo=local(START).tzinfo)
            _assert_evenly_spread(sorted(times), six.astimezone(UTC), DEFAULT_WINDOW_SECONDS)
    finally:
        env.engine.dispose()


def test_shared_listings_go_to_the_shop_that_does_not_list_them_even_when_it_spills(
    tmp_path: Path, database_url: str
) -> None:
    env = _daily_limit_env(tmp_path, database_url)
    try:
        asins = asins_for("X", 10)
        for asin in asins:
            listed, _ = env.add_product(asin, listing_accounts=[ACCOUNT_1, None])
            with env.engine.begin() as conn:
                conn.execute(
                    update(listings).where(listings.c.id == listed).values(status="listed")
                )

        result = env.manager.add_batch_to_queue(asins, PLATFORM)

        assert result.queued == 10
        per_day = Counter(
            (r["account_id"], local(r["scheduled_time"]).date()) for r in env.active_rows()
        )
        assert per_day == {(ACCOUNT_2, TOMORROW): 5, (ACCOUNT_2, date(2026, 1, 7)): 5}
    finally:
        env.engine.dispose()


def test_tomorrow_is_the_local_tomorrow_just_after_midnight_in_tokyo(env: QueueEnv) -> None:
    env.clock.set(datetime(2026, 1, 5, 15, 30, tzinfo=UTC))  # 00:30 on the 6th in Tokyo
    asins = asins_for("J", 4)
    env.add_products(asins)

    assert env.manager.add_batch_to_queue(asins, PLATFORM).queued == 4

    for row in env.active_rows():
        assert local(row["scheduled_time"]).date() == date(2026, 1, 7)
        assert 6 <= local(row["scheduled_time"]).hour < 23


def test_an_accounts_own_time_zone_decides_its_tomorrow(tmp_path: Path, database_url: str) -> None:
    new_york = ZoneInfo("America/New_York")
    env = open_queue(
        tmp_path, database_url, account_overrides={ACCOUNT_2: {"timezone": "America/New_York"}}
    )
    try:
        asins = asins_for("Y", 6)
        env.add_products(asins)

        assert env.manager.add_batch_to_queue(asins, PLATFORM).queued == 6

        times = _times_by_account(env)
        # 2026-01-05 00:00 UTC is still the 4th in New York: its tomorrow is the 5th.
        for moment in times[ACCOUNT_2]:
            assert moment.astimezone(new_york).date() == date(2026, 1, 5)
            assert 6 <= moment.astimezone(new_york).hour < 23
        for moment in times[ACCOUNT_1]:
            assert local(moment).date() == TOMORROW
    finally:
        env.engine.dispose()


def test_a_dry_run_plans_but_writes_nothing(env: QueueEnv) -> None:
    asins = asins_for("R", 3)
    env.add_products(asins)

    result = env.manager.enqueue(PLATFORM, asins=asins, dry_run=True)

    assert result.dry_run
    assert result.queued == 3
    assert result.queue_ids == []
    assert env.queue_rows() == []
    assert [env.listings_of(a)[0]["status"] for a in asins] == ["pending"] * 3
    assert [env.listings_of(a)[0]["account_id"] for a in asins] == [None] * 3


def test_an_asin_named_twice_in_one_batch_is_queued_once(env: QueueEnv) -> None:
    env.add_products(["B000000001", "B000000002"])

    result = env.manager.add_batch_to_queue(
        ["B000000001", "B000000001", "B000000002"], PLATFORM, distribute_time=False
    )

    assert result.queued == 2
    assert sorted(r["asin"] for r in env.queue_rows()) == ["B000000001", "B000000002"]


# ---------------------------------------------------------------------- config discovery


def _write_config(folder: Path, accounts: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "upload-scheduler.toml"
    quoted = ", ".join(f'"{a}"' for a in accounts)
    path.write_text(f'database = "sqlite:///q.db"\n\n[accounts]\nbase = [{quoted}]\n', "utf-8")
    return path


def _open_default(*args: str) -> UploadQueueManager:
    manager = UploadQueueManager(*args)
    manager.engine.dispose()
    return manager


def test_no_argument_reads_the_config_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_config(tmp_path / "here", [ACCOUNT_1])
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path / "here")

    manager = UploadQueueManager()
    try:
        assert manager.settings.source == path.resolve()
        assert manager.settings.account_ids(PLATFORM) == [ACCOUNT_1]
        assert manager.engine.url.database == str((tmp_path / "here" / "q.db").resolve())
        assert manager.get_queue_statistics(PLATFORM)["total"] == 0
    finally:
        manager.engine.dispose()
    assert (tmp_path / "here" / "q.db").is_file()


def test_environment_variable_wins_over_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_config(tmp_path / "here", [ACCOUNT_1])
    elsewhere = _write_config(tmp_path / "elsewhere", [ACCOUNT_2])
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(elsewhere))

    manager = _open_default()
    assert manager.settings.source == elsewhere.resolve()
    assert manager.settings.account_ids(PLATFORM) == [ACCOUNT_2]

    explicit = _write_config(tmp_path / "explicit", ["base_account_3"])
    manager = _open_default(str(explicit))
    assert manager.settings.source == explicit.resolve()
    assert manager.settings.account_ids(PLATFORM) == ["base_account_3"]


def test_no_config_anywhere_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no configuration file"):
        UploadQueueManager()
