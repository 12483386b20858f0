"""Bursts: when an account's limits allow several starts at one moment (no spacing,
`min_interval_seconds = 0`), one cycle claims up to `batch_size` due items in one
transaction and writes their successes together.

A burst must admit exactly what one-at-a-time admission would (the budget and daily
limit tests of test_daemon.py run both ways), keep the due order, and lose nothing:
after a pause or a stop the unstarted rest goes back with its attempt and its earlier
call marker, and a crash before the successes are written leads to lookups, never to a
second creation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.integration import test_daemon
from tests.integration.scripted_platform import Fail
from tests.integration.test_daemon import (
    ACCOUNT,
    OTHER_OWNER,
    START,
    TOKYO,
    Env,
    dead_pid,
)
from upload_scheduler.platforms.errors import RateLimited
from upload_scheduler.store.identity import Identity, host_id
from upload_scheduler.store.tables import account_usage, upload_queue

# The daemon tests' fixtures: a migrated database copied per test, a scripted platform.
make_env = test_daemon.make_env

NO_SPACING = {"min_interval_seconds": 0}


def usage(env: Env) -> tuple[int, int]:
    """(calls, creations) counted for the account's local day of START."""
    with env.engine.connect() as conn:
        row = conn.execute(
            select(account_usage.c.calls, account_usage.c.creations).where(
                account_usage.c.account_id == ACCOUNT,
                account_usage.c.day == START.astimezone(TOKYO).date().isoformat(),
            )
        ).one()
    return row.calls, row.creations


def test_without_spacing_a_cycle_claims_up_to_batch_size_items_in_the_due_order(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(**NO_SPACING)
    ids = [env.add_item(f"B0BURST{n:03d}", images=()) for n in range(25)]
    urgent = env.add_item("B0BURSTURG", images=(), priority=9)
    daemon = env.daemon()
    daemon.start()

    steps = env.run(daemon, env.all_final)

    assert steps == 3  # 10 + 10 + 6 items: one claim per cycle of batch_size (10)
    order = [c.asin for c in env.platform.uploads()]
    assert order == ["B0BURSTURG"] + [f"B0BURST{n:03d}" for n in range(25)]
    assert {c.at for c in env.platform.uploads()} == {START}  # nothing waited
    for queue_id in [urgent, *ids]:
        row = env.row(queue_id)
        assert (row["status"], row["attempts"], row["lease_owner"]) == ("success", 1, None)
        listing = env.listing_of(queue_id)
        assert listing["status"] == "listed"
        assert listing["platform_item_id"] == row["platform_item_id"] is not None
    assert len({env.row(i)["platform_item_id"] for i in ids}) == 25
    assert usage(env) == (26, 26)
    assert daemon.uploaded == 26


def test_a_rate_limit_in_a_burst_returns_the_unstarted_rest_as_it_was(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(**NO_SPACING)
    ids = [env.add_item(f"B0RATEB{n:03d}", images=()) for n in range(5)]
    # The fourth item's earlier attempt may have reached the platform (a lost answer).
    marker = START - timedelta(hours=1)
    with env.engine.begin() as conn:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == ids[3])
            .values(attempts=1, call_started_at=marker)
        )
    until = START + timedelta(minutes=30)
    env.platform.script("B0RATEB001", Fail(RateLimited("hour_api_limit", until)))
    daemon = env.daemon()
    daemon.start()
    before = {i: env.row(i) for i in ids}

    daemon.step()

    assert [c.asin for c in env.platform.calls] == ["B0RATEB000", "B0RATEB001"]
    assert env.row(ids[0])["status"] == "success"
    for queue_id in ids[1:]:
        row, old = env.row(queue_id), before[queue_id]
        assert row["status"] == "pending"
        assert row["lease_owner"] is None
        assert row["attempts"] == old["attempts"]  # no attempt spent
        assert row["call_started_at"] == old["call_started_at"]  # the marker kept
        assert row["scheduled_time"] == old["scheduled_time"]  # its place kept
    assert env.account()["paused_until"] == until
    # Only the two calls made are counted; the rest's reservation was given back.
    assert usage(env)[0] == 2
    assert env.account()["hour_calls"] == 2

    env.run(daemon, env.all_final)

    assert all(env.row(i)["status"] == "success" for i in ids)
    assert min(c.at for c in env.platform.calls[2:]) == until
    kinds = [(c.kind, c.asin) for c in env.platform.calls]
    assert ("find", "B0RATEB003") in kinds  # looked up before creating again
    assert Counter(c.asin for c in env.platform.creations()) == {
        f"B0RATEB{n:03d}": 1 for n in range(5)
    }


def test_stop_during_a_burst_finishes_that_item_and_returns_the_rest(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(**NO_SPACING)
    for n in range(4):
        env.add_item(f"B0STOPB{n:03d}", images=())
    daemon = env.daemon()

    def stop_on_second(asin: str) -> None:
        if asin == "B0STOPB001":
            daemon.stop()

    env.platform.on_upload = stop_on_second
    daemon.run()

    rows = env.rows()
    assert [r["status"] for r in rows] == ["success", "success", "pending", "pending"]
    assert [r["attempts"] for r in rows] == [1, 1, 0, 0]
    assert [r["call_started_at"] is None for r in rows[2:]] == [True, True]
    assert env.account()["lease_owner"] is None
    assert usage(env)[0] == 2


def test_a_crash_before_a_bursts_successes_are_written_leads_to_lookups_not_duplicates(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(**NO_SPACING)
    ids = [env.add_item(f"B0CRASHB{n:02d}", images=()) for n in range(3)]
    pid = dead_pid()
    crashed = env.daemon(identity=Identity(host_id(), pid, f"{host_id()}:{pid}:1.00:dead"))
    # The process dies after the platform accepted all three, before writing them.
    crashed.uploader.record_uploads = lambda *args, **kwargs: None  # type: ignore[method-assign]
    crashed.start()
    crashed.step()
    assert len(env.platform.creations()) == 3
    assert [env.row(i)["status"] for i in ids] == ["uploading"] * 3

    env.clock.advance(60)
    successor = env.daemon()
    successor.start()  # takes the dead process's lease and recovers its items
    env.run(successor, env.all_final)

    assert [c.kind for c in env.platform.calls[3:]] == ["find"] * 3
    assert len(env.platform.creations()) == 3  # none created twice
    for queue_id, created in zip(ids, env.platform.creations(), strict=True):
        row = env.row(queue_id)
        assert (row["status"], row["platform_item_id"]) == ("success", created.platform_item_id)


@pytest.mark.parametrize("spacing", [0, 2], ids=["burst", "one-at-a-time"])
def test_a_success_is_not_written_over_a_row_another_worker_took_over(
    make_env: Callable[..., Env], spacing: float
) -> None:
    env = make_env(min_interval_seconds=spacing)
    ids = [env.add_item(f"B0TAKEN{n:03d}", images=()) for n in range(3)]
    daemon = env.daemon()
    daemon.start()

    def taken_over(asin: str) -> None:
        if asin == "B0TAKEN001":  # our lease on the row ran out and another took it
            with env.engine.begin() as conn:
                conn.execute(
                    update(upload_queue)
                    .where(upload_queue.c.id == ids[1])
                    .values(lease_owner=OTHER_OWNER)
                )

    env.platform.on_upload = taken_over
    env.run(daemon, lambda: len(env.platform.uploads()) == 3)
    daemon.step()

    assert [env.row(i)["status"] for i in ids] == ["success", "uploading", "success"]
    assert env.row(ids[1])["lease_owner"] == OTHER_OWNER
    assert env.listing_of(ids[1])["status"] != "listed"
    assert [env.listing_of(i)["status"] for i in (ids[0], ids[2])] == ["listed", "listed"]
