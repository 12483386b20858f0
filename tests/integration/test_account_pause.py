"""Pausing and resuming accounts by hand, on a real SQLite file with the in-process
daemon and a fake clock: a paused account's daemon claims nothing, finishes the item it
is on, stays alive, and starts again on resume or when the pause ends. Automatic pauses
read the same way, and `account list` figures come from the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from tests.integration import test_daemon
from tests.integration.scripted_platform import Fail
from tests.integration.test_daemon import ACCOUNT, PLATFORM, START, Env
from upload_scheduler.operations import pauses
from upload_scheduler.operations.accounts import account_overviews
from upload_scheduler.platforms.errors import RateLimited
from upload_scheduler.platforms.thebase.token_store import TokenStore
from upload_scheduler.store import account_state as state_ops
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import account_state

# The daemon tests' fixtures: a migrated database copied per test, a scripted platform.
make_env = test_daemon.make_env
env = test_daemon.env


def test_a_paused_accounts_daemon_claims_nothing_and_stays_alive_until_resumed(
    env: Env,
) -> None:
    first = env.add_item("B0PAUSE001")
    pauses.pause(
        env.engine, PLATFORM, ACCOUNT, until=None, reason="shop restricted", now=env.clock.now()
    )
    daemon = env.daemon(interval_seconds=60)
    daemon.start()

    for _ in range(50):
        assert daemon.step() is False
    assert env.platform.uploads() == []
    assert env.row(first)["status"] == "pending"
    assert not daemon.stop_event.is_set()
    # It waited (the clock moved) in slices of at most the check interval, never spinning.
    assert env.clock.now() - START >= timedelta(minutes=30)
    assert max(env.clock.waits) <= 60

    lifted = pauses.resume(env.engine, PLATFORM, ACCOUNT, env.clock.now())
    assert lifted is not None and lifted.reason == "operator: shop restricted"
    resumed_at = env.clock.now()
    env.run(daemon, env.all_final)

    assert env.row(first)["status"] == "success"
    # Resumed within one check interval.
    assert env.platform.uploads()[0].at - resumed_at <= timedelta(seconds=60)


def test_a_pause_during_an_upload_lets_that_item_finish_and_claims_no_other(env: Env) -> None:
    first = env.add_item("B0PAUSE101")
    second = env.add_item("B0PAUSE102")
    daemon = env.daemon()

    def pause_on_first(asin: str) -> None:
        if asin == "B0PAUSE101":
            pauses.pause(env.engine, PLATFORM, ACCOUNT, until=None, reason="", now=env.clock.now())

    env.platform.on_upload = pause_on_first
    daemon.start()
    env.run(daemon, lambda: env.row(first)["status"] == "success")
    for _ in range(20):
        daemon.step()

    assert [c.asin for c in env.platform.uploads()] == ["B0PAUSE101"]
    assert env.row(second)["status"] == "pending"
    assert env.account()["pause_reason"] == "operator: paused by the operator"


def test_a_pause_with_an_end_lifts_itself_at_that_end(env: Env) -> None:
    env.add_item("B0PAUSE201")
    until = START + timedelta(minutes=45)
    pauses.pause(env.engine, PLATFORM, ACCOUNT, until=until, reason="lunch", now=env.clock.now())
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.all_final)

    [upload] = env.platform.uploads()
    assert until <= upload.at <= until + timedelta(seconds=60)
    env.clock.advance(120)
    daemon.step()  # housekeeping clears the ended pause
    assert env.account()["pause_reason"] is None


def test_an_automatic_pause_is_listed_like_a_manual_one_and_resume_clears_it(env: Env) -> None:
    queue_id = env.add_item("B0PAUSE301")
    until = START + timedelta(hours=1)
    env.platform.script("B0PAUSE301", Fail(RateLimited("hour_api_limit", until)))
    daemon = env.daemon()
    daemon.start()
    env.run(daemon, lambda: len(env.platform.uploads()) == 1)

    [listed] = pauses.active_pauses(env.engine, env.clock.now(), PLATFORM)
    assert (listed.account_id, listed.kind, listed.until) == (ACCOUNT, "rate limit", until)
    [overview] = account_overviews(env.settings, env.engine, env.clock.now())
    assert overview.pause == listed

    assert pauses.resume(env.engine, PLATFORM, ACCOUNT, env.clock.now()) == listed
    assert pauses.active_pauses(env.engine, env.clock.now()) == []
    env.run(daemon, env.all_final)
    assert env.row(queue_id)["status"] == "success"
    assert env.platform.uploads()[1].at < until  # it did not wait for the old end


def test_an_ended_pause_is_not_shown_even_before_housekeeping_clears_it(env: Env) -> None:
    now = env.clock.now()
    pauses.pause(
        env.engine, PLATFORM, ACCOUNT, until=now + timedelta(minutes=5), reason="x", now=now
    )
    assert len(pauses.active_pauses(env.engine, now)) == 1
    assert pauses.active_pauses(env.engine, now + timedelta(minutes=5)) == []
    assert pauses.resume(env.engine, PLATFORM, ACCOUNT, now + timedelta(minutes=6)) is None


def test_a_login_lifts_an_auth_pause_but_never_an_operators_pause(env: Env) -> None:
    store = TokenStore(env.engine, PLATFORM)
    now = env.clock.now()
    pauses.pause(env.engine, PLATFORM, ACCOUNT, until=None, reason="auth looks odd", now=now)
    assert store.clear_auth_pause(ACCOUNT, now) is False
    assert pauses.active_pauses(env.engine, now)[0].kind == "operator"
    with write_transaction(env.engine) as conn:
        state_ops.set_pause(conn, PLATFORM, ACCOUNT, None, "auth: token refused", now)
    assert pauses.active_pauses(env.engine, now)[0].kind == "auth"
    assert store.clear_auth_pause(ACCOUNT, now) is True
    assert pauses.active_pauses(env.engine, now) == []


def test_account_list_counts_todays_usage_and_the_queue(make_env: Callable[..., Env]) -> None:
    env = make_env(accounts=(ACCOUNT, "acct_2"))
    for n in range(3):
        env.add_item(f"B0LIST{n:04d}")  # two images each: 3 calls per item
    env.add_item("B0LIST9999", scheduled=START + timedelta(days=3))
    daemon = env.daemon()
    daemon.start()
    env.run(daemon, lambda: len(env.platform.uploads()) == 3)

    first, second = account_overviews(env.settings, env.engine, env.clock.now())
    assert (first.account_id, second.account_id) == (ACCOUNT, "acct_2")
    usage = {u.name: (u.used, u.limit) for u in first.usage}
    assert usage == {"hour_calls": (9, 5000), "day_calls": (9, 100000), "creations": (3, 1000)}
    assert (first.queue["success"], first.queue["pending"], first.queue["total"]) == (3, 1, 4)
    assert first.pause is None and first.token is None  # the fake platform has no tokens
    assert {u.name: u.used for u in second.usage} == dict.fromkeys(usage, 0)
    assert second.queue["total"] == 0
    # The hour's calls count only within their clock hour.
    later = env.clock.now() + timedelta(hours=1)
    moved = account_overviews(env.settings, env.engine, later)[0]
    assert {u.name: u.used for u in moved.usage}["hour_calls"] == 0
    with env.engine.connect() as conn:
        assert conn.execute(select(account_state.c.hour_calls)).scalars().first() == 9
