"""`operations.explain`: why a queued item is not uploading now, on SQLite and PostgreSQL,
with a fake clock. Each test sets up one thing that holds the item (the rest ready: a
token stored, a daemon's lease live) and checks it is the reason given, with its end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.integration.queue_fixtures import ACCOUNT_1, PLATFORM, START, QueueEnv, open_queue
from upload_scheduler.limits import LimitSettings
from upload_scheduler.operations import pauses
from upload_scheduler.operations.explain import Explanation, UnknownItem, explain
from upload_scheduler.platforms.thebase.oauth import TokenGrant
from upload_scheduler.platforms.thebase.token_store import TokenStore
from upload_scheduler.store import account_state
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.identity import Identity
from upload_scheduler.store.tables import upload_queue
from upload_scheduler.store.usage import add_usage

DAY = "2026-01-05"  # START's local day in Tokyo
TOKYO_MIDNIGHT = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # 2026-01-06 00:00 in Tokyo


MakeEnv = Callable[..., QueueEnv]


@pytest.fixture
def make_env(tmp_path: Path, database_url: str) -> Iterator[MakeEnv]:
    """Queues whose account has the given limits; `ready`: a token is stored and a
    daemon holds the account's lease, so nothing but the test's own setup holds items."""
    opened: list[QueueEnv] = []

    def make(*, ready: bool = True, **limits: Any) -> QueueEnv:
        env = open_queue(tmp_path, database_url, platforms={PLATFORM: limits} if limits else {})
        opened.append(env)
        if ready:
            login(env)
            take_lease(env)
        return env

    yield make
    for env in opened:
        env.engine.dispose()


def login(env: QueueEnv) -> None:
    grant = TokenGrant(access_token="a" * 20, refresh_token="r" * 20, token_type="bearer",
                       expires_in=3600)  # fmt: skip
    TokenStore(env.engine, PLATFORM).save_login(ACCOUNT_1, grant, env.clock.now())


def take_lease(env: QueueEnv, ttl: float = 7 * 86400) -> None:
    with write_transaction(env.engine) as conn:
        holder = account_state.acquire_lease(
            conn, PLATFORM, ACCOUNT_1, Identity.current(), env.clock.now(), ttl
        )
    assert holder is None


def queue(env: QueueEnv, asin: str, at: datetime = START, priority: int = 5) -> int:
    env.add_product(asin, listing_accounts=[ACCOUNT_1])
    queue_id = env.manager.add_to_queue(
        asin, PLATFORM, ACCOUNT_1, priority=priority, scheduled_time=at
    )
    assert queue_id is not None
    return queue_id


def why(env: QueueEnv, queue_id: int, now: datetime = START) -> Explanation:
    return explain(env.engine, env.settings, queue_id, now)


def codes(answer: Explanation) -> list[str]:
    return [r.code for r in answer.reasons]


def test_a_due_item_with_nothing_holding_it_is_taken_next(make_env: MakeEnv) -> None:
    env = make_env()
    item = queue(env, "B0EXPL0001")

    answer = why(env, item)

    assert answer.status == "pending"
    assert codes(answer) == ["due"] and answer.ahead == 0
    assert answer.reasons[0].text == "due now: the daemon takes it next"
    assert answer.to_json() == {
        "id": item,
        "status": "pending",
        "reasons": [{"code": "due", "text": "due now: the daemon takes it next", "until": None}],
        "ahead": 0,
    }


def test_an_unknown_id_is_refused(make_env: MakeEnv) -> None:
    env = make_env()
    with pytest.raises(UnknownItem, match="12345"):
        why(env, 12345)


def test_an_item_that_is_not_pending_says_its_status_and_error(make_env: MakeEnv) -> None:
    env = make_env()
    failed = queue(env, "B0EXPL0101")
    cancelled = queue(env, "B0EXPL0102")
    with env.engine.begin() as conn:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == failed)
            .values(status="failed", error_message="BASE said: bad_title")
        )
    env.manager.cancel([cancelled], platform=PLATFORM)

    failed_answer, cancelled_answer = why(env, failed), why(env, cancelled)

    assert failed_answer.status == "failed" and codes(failed_answer) == ["not_pending"]
    assert "BASE said: bad_title" in failed_answer.reasons[0].text
    assert cancelled_answer.status == "cancelled" and codes(cancelled_answer) == ["not_pending"]


def test_an_item_scheduled_later_says_until_its_time(make_env: MakeEnv) -> None:
    env = make_env()
    later = START + timedelta(hours=2)
    item = queue(env, "B0EXPL0201", at=later)

    answer = why(env, item)

    assert codes(answer) == ["scheduled"]
    assert answer.reasons[0].until == later


def test_a_paused_account_gives_the_pause_reason_and_end(make_env: MakeEnv) -> None:
    env = make_env()
    item = queue(env, "B0EXPL0301")
    until = START + timedelta(minutes=45)
    pauses.pause(env.engine, PLATFORM, ACCOUNT_1, until=until, reason="shop review", now=START)

    answer = why(env, item)

    assert codes(answer) == ["paused"]
    assert "shop review" in answer.reasons[0].text
    assert answer.reasons[0].until == until
    # Over once its end has passed, as the daemon's admission sees it.
    assert codes(why(env, item, until)) == ["due"]


def test_a_pause_without_end_has_no_until(make_env: MakeEnv) -> None:
    env = make_env()
    item = queue(env, "B0EXPL0302")
    pauses.pause(env.engine, PLATFORM, ACCOUNT_1, until=None, reason="", now=START)

    reason = why(env, item).reasons[0]

    assert reason.code == "paused" and reason.until is None
    assert "until resumed" in reason.text


def test_outside_business_hours_says_when_they_open(make_env: MakeEnv) -> None:
    env = make_env()  # business hours: the default 06:00-23:00
    item = queue(env, "B0EXPL0401")
    late = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)  # 23:30 in Tokyo

    answer = why(env, item, late)

    assert codes(answer) == ["business_hours"]
    assert answer.reasons[0].until == datetime(2026, 1, 5, 21, 0, tzinfo=UTC)  # 06:00 Tokyo


def test_spacing_says_when_the_next_start_may_be(make_env: MakeEnv) -> None:
    env = make_env(min_interval_seconds=60)
    item = queue(env, "B0EXPL0501")
    settings = LimitSettings.of(env.settings.account(PLATFORM, ACCOUNT_1))
    with write_transaction(env.engine) as conn:
        state = account_state.load_state(conn, PLATFORM, ACCOUNT_1, settings, START)
        account_state.record_start(conn, PLATFORM, ACCOUNT_1, state, START, 1)

    answer = why(env, item, START + timedelta(seconds=10))

    assert codes(answer) == ["spacing"]
    assert answer.reasons[0].until == START + timedelta(seconds=60)


def test_a_spent_hour_budget_says_until_the_next_hour(make_env: MakeEnv) -> None:
    env = make_env(hour_call_limit=2, min_interval_seconds=0)
    item = queue(env, "B0EXPL0601")
    settings = LimitSettings.of(env.settings.account(PLATFORM, ACCOUNT_1))
    with write_transaction(env.engine) as conn:
        account_state.record_calls(
            conn, PLATFORM, ACCOUNT_1, settings, START, 2, started_item=False
        )

    answer = why(env, item, START + timedelta(minutes=5))

    assert codes(answer) == ["hour_budget"]
    assert answer.reasons[0].until == START + timedelta(hours=1)


def test_a_spent_day_budget_says_until_local_midnight(make_env: MakeEnv) -> None:
    env = make_env(day_call_limit=3, min_interval_seconds=0)
    item = queue(env, "B0EXPL0701")
    with write_transaction(env.engine) as conn:
        add_usage(conn, PLATFORM, ACCOUNT_1, DAY, calls=3)

    answer = why(env, item)

    assert codes(answer) == ["day_budget"]
    assert answer.reasons[0].until == TOKYO_MIDNIGHT


def test_a_full_daily_quota_says_until_local_midnight(make_env: MakeEnv) -> None:
    env = make_env(daily_limit=1)
    item = queue(env, "B0EXPL0801")
    with write_transaction(env.engine) as conn:
        add_usage(conn, PLATFORM, ACCOUNT_1, DAY, creations=1)

    answer = why(env, item)

    assert codes(answer) == ["daily_quota"]
    assert answer.reasons[0].until == TOKYO_MIDNIGHT


def test_no_token_means_a_login_is_needed(make_env: MakeEnv) -> None:
    env = make_env(ready=False)
    take_lease(env)
    item = queue(env, "B0EXPL0901")

    assert codes(why(env, item)) == ["login"]

    login(env)
    TokenStore(env.engine, PLATFORM).mark_login_required(ACCOUNT_1, "refresh refused", START)
    answer = why(env, item)
    assert codes(answer) == ["login"] and "refresh refused" in answer.reasons[0].text


def test_no_live_lease_means_no_daemon_runs(make_env: MakeEnv) -> None:
    env = make_env(ready=False)
    login(env)
    item = queue(env, "B0EXPL1001")

    assert codes(why(env, item)) == ["no_daemon"]

    take_lease(env, ttl=60)
    assert codes(why(env, item)) == ["due"]
    assert codes(why(env, item, START + timedelta(seconds=61))) == ["no_daemon"]  # expired


def test_items_ahead_in_the_due_order_are_counted(make_env: MakeEnv) -> None:
    env = make_env()
    first = queue(env, "B0EXPL1101", at=START - timedelta(minutes=2))
    second = queue(env, "B0EXPL1102", at=START - timedelta(minutes=1))
    urgent = queue(env, "B0EXPL1103", at=START, priority=10)  # later, but more urgent
    not_due = queue(env, "B0EXPL1104", at=START + timedelta(hours=1))

    assert codes(why(env, urgent)) == ["due"] and why(env, urgent).ahead == 0
    answer = why(env, second)
    assert answer.ahead == 2 and codes(answer) == ["ahead"]
    assert answer.reasons[0].text.startswith("2 item(s) ahead")
    assert why(env, first).ahead == 1
    # An item not yet due is ahead of nothing now, and is behind every due item before it
    # in the order.
    assert why(env, not_due).ahead == 3


def test_several_reasons_come_in_the_order_a_person_needs_them(make_env: MakeEnv) -> None:
    env = make_env(ready=False, daily_limit=1)
    queue(env, "B0EXPL1201", at=START - timedelta(minutes=1))
    item = queue(env, "B0EXPL1202", at=START + timedelta(hours=3))
    pauses.pause(env.engine, PLATFORM, ACCOUNT_1, until=None, reason="", now=START)
    with write_transaction(env.engine) as conn:
        add_usage(conn, PLATFORM, ACCOUNT_1, DAY, creations=1)

    with env.engine.connect() as conn:  # a connection works as well as an engine
        answer = explain(conn, env.settings, item, START)

    assert codes(answer) == [
        "scheduled",
        "paused",
        "daily_quota",
        "login",
        "no_daemon",
        "ahead",
    ]
    assert answer.ahead == 1
