"""What `manager status` reads from the database per account: today's uploads apart
from delist jobs, and who holds the account's lease."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.integration.queue_fixtures import (
    ACCOUNT_1,
    PLATFORM,
    TOKYO,
    QueueEnv,
    claim_due,
    open_queue,
)
from upload_scheduler.store.tables import account_state, upload_queue
from upload_scheduler.supervisor.figures import account_figures


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[QueueEnv]:
    queue = open_queue(tmp_path, database_url)
    yield queue
    queue.engine.dispose()


def _finish(env: QueueEnv, queue_id: int, status: str, kind: str) -> None:
    with env.engine.begin() as conn:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == queue_id)
            .values(status=status, kind=kind, processed_at=env.clock.now())
        )


def test_delist_jobs_are_not_counted_as_uploads(env: QueueEnv) -> None:
    asins = ["UP1", "UP2", "GONE1", "BAD1"]
    env.add_products(asins)
    ids = [env.manager.add_to_queue(a, PLATFORM, account_id=ACCOUNT_1) for a in asins]
    assert None not in ids
    _finish(env, ids[0], "success", "upload")
    _finish(env, ids[1], "success", "upload")
    _finish(env, ids[2], "success", "delete")
    _finish(env, ids[3], "failed", "upload")
    with env.engine.connect() as conn:
        figures = account_figures(conn, PLATFORM, ACCOUNT_1, TOKYO, env.clock.now())
    assert (figures.today_success, figures.today_failed, figures.today_deleted) == (2, 1, 1)


def test_the_lease_holder_is_shown_until_the_lease_expires(env: QueueEnv) -> None:
    now = env.clock.now()
    with env.engine.begin() as conn:
        conn.execute(
            account_state.insert().values(
                platform=PLATFORM,
                account_id=ACCOUNT_1,
                lease_owner="host-b:4242:1.0:abc",
                lease_host="host-b",
                lease_pid=4242,
                lease_expires_at=now + timedelta(seconds=30),
            )
        )
    with env.engine.connect() as conn:
        held = account_figures(conn, PLATFORM, ACCOUNT_1, TOKYO, now).lease
        expired = account_figures(conn, PLATFORM, ACCOUNT_1, TOKYO, now + timedelta(seconds=31))
    assert held is not None and (held.host, held.pid) == ("host-b", 4242)
    assert expired.lease is None


def test_the_next_item_shown_is_the_one_the_daemon_claims(env: QueueEnv) -> None:
    """An urgent item scheduled later overtakes an overdue normal one (README, "Order"),
    in `manager status` as in the daemon's claim; with nothing due, the next to fall
    due is shown, even when a later one is more urgent."""
    now = env.clock.now()
    env.add_products(["EARLY5", "LATER20", "FUTURE20", "FUTURE5"])
    early = env.manager.add_to_queue(
        "EARLY5", PLATFORM, account_id=ACCOUNT_1, scheduled_time=now - timedelta(minutes=9)
    )
    urgent = env.manager.add_to_queue(
        "LATER20",
        PLATFORM,
        account_id=ACCOUNT_1,
        priority=20,
        scheduled_time=now - timedelta(minutes=1),
    )
    assert early is not None and urgent is not None

    with env.engine.connect() as conn:
        shown = account_figures(conn, PLATFORM, ACCOUNT_1, TOKYO, now).next_item
    claimed = claim_due(env.engine, PLATFORM, ACCOUNT_1, 1, owner="w", lease_seconds=30, now=now)
    assert shown is not None and shown.queue_id == urgent
    assert [i.id for i in claimed] == [urgent]

    claim_due(env.engine, PLATFORM, ACCOUNT_1, 1, owner="w", lease_seconds=30, now=now)
    soon = env.manager.add_to_queue(
        "FUTURE5", PLATFORM, account_id=ACCOUNT_1, scheduled_time=now + timedelta(minutes=5)
    )
    env.manager.add_to_queue(
        "FUTURE20",
        PLATFORM,
        account_id=ACCOUNT_1,
        priority=20,
        scheduled_time=now + timedelta(minutes=30),
    )
    with env.engine.connect() as conn:
        shown = account_figures(conn, PLATFORM, ACCOUNT_1, TOKYO, now).next_item
    assert shown is not None and shown.queue_id == soon
