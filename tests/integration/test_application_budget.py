"""Budgets that belong to the application, not the shop (issue 16), on SQLite and
PostgreSQL: accounts on one OAuth client id spend one `day_call_limit` together, counted
per day in the platform's reset zone (here US Pacific, as for eBay); once it is spent
every account on it pauses until the reset and no item spends an attempt; a refusal for
rate (Throttled, eBay's 429) spends none either, and pauses the application's accounts
only when our own count says the day is spent.

Each account has its own `UploadDaemon` (as `manager start` runs them), stepped in turn
on one fake clock; the platform is tests/integration/scripted_platform.py, which records
every call and raises any error on demand. One test runs the daemons in threads, each on
its own engine, so the locks of the shared counter are exercised for real.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, RowMapping, event, select

from tests.backends import postgres_only
from tests.integration.scripted_platform import Fail, HookedClock, ScriptedPlatform
from upload_scheduler import defaults
from upload_scheduler.clock import FakeClock
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.limits import APPLICATION_BUDGET, APPLICATION_BUDGET_REASON, local_day
from upload_scheduler.operations.accounts import account_overviews
from upload_scheduler.operations.explain import explain
from upload_scheduler.platforms.errors import Throttled
from upload_scheduler.store import account_state
from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.identity import Identity
from upload_scheduler.store.states import PauseKind
from upload_scheduler.store.tables import account_state as account_state_table
from upload_scheduler.store.tables import application_usage, listings, products, upload_queue
from upload_scheduler.store.usage import add_application_usage
from upload_scheduler.worker.daemon import UploadDaemon

PLATFORM = "fake"
APP = "app-1"
OTHER_APP = "app-2"
SHARING = ("acct_1", "acct_2")  # on APP
ALONE = "acct_3"  # on OTHER_APP, with a budget of its own
LIMIT = 12
PACIFIC = ZoneInfo("America/Los_Angeles")
# Monday 2026-01-05 09:00 in Tokyo, which is Sunday the 4th, 16:00, in Los Angeles.
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 1, 4)  # the Pacific day START falls in
RESET = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # midnight in Los Angeles, 17:00 in Tokyo
INTERVAL = 2.0
RETRY_DELAY = 5.0
ONE_IMAGE = ("https://img.example/a.jpg",)  # an item costs 2 calls
TWO_IMAGES = (*ONE_IMAGE, "https://img.example/b.jpg")  # 3 calls
BUDGET_PAUSE = PauseKind.RATE_LIMIT.reason(APPLICATION_BUDGET_REASON)  # "rate limit: …"
# The daemons wait out hours of pause here: one read of the pause per fake hour.
FAKE_POLL_SECONDS = 3600.0


@pytest.fixture(autouse=True)
def pacific_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake platform's application budget resets at midnight US Pacific, as eBay's:
    without an entry in APPLICATION_RESET_TIMEZONES it would reset in the account's zone."""
    zones = {**defaults.APPLICATION_RESET_TIMEZONES, PLATFORM: "America/Los_Angeles"}
    monkeypatch.setattr(defaults, "APPLICATION_RESET_TIMEZONES", zones)


def config(
    tmp_path: Path, database_url: str, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "database": database_url,
        "timezone": "Asia/Tokyo",
        "log_dir": str(tmp_path / "logs"),
        "accounts": {PLATFORM: [*SHARING, ALONE]},
        "daemon": {"interval_seconds": 3600.0, "batch_size": 10},
        "account_overrides": {
            ALONE: {"client_id": OTHER_APP, "day_call_limit": 1000},
            **(overrides or {}),
        },
        "platforms": {
            PLATFORM: {
                "api_base_url": "fake:unused.db",
                "min_interval_seconds": INTERVAL,
                "retry_delay_seconds": RETRY_DELAY,
                "max_attempts": 3,
                "hour_call_limit": 1000,
                "client_id": APP,
                "day_call_limit": LIMIT,
                "day_call_limit_scope": "application",
            }
        },
    }


class Notes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def notify(self, kind: str, account_key: str, message: str) -> None:
        self.sent.append((kind, account_key, message))

    def close(self) -> None:
        return None


@dataclass
class Env:
    settings: Settings
    engine: Engine
    clock: FakeClock
    platform: ScriptedPlatform
    notes: Notes = field(default_factory=Notes)
    daemons: dict[str, UploadDaemon] = field(default_factory=dict)

    def add_items(
        self, account_id: str, count: int, images: tuple[str, ...] = ONE_IMAGE
    ) -> list[int]:
        return [
            self.add_item(f"B0{account_id.upper().replace('_', '')}{n:03d}", account_id, images)
            for n in range(count)
        ]

    def add_item(self, asin: str, account_id: str, images: tuple[str, ...] = ONE_IMAGE) -> int:
        now = self.clock.now()
        stamps = {"created_at": now, "updated_at": now}
        with self.engine.begin() as conn:
            conn.execute(
                products.insert().values(
                    asin=asin, title=f"Item {asin}", price=1200, images=json.dumps(images), **stamps
                )
            )
            listing_id = conn.execute(
                listings.insert().values(
                    asin=asin, platform=PLATFORM, account_id=account_id, status="queued", **stamps
                )
            ).inserted_primary_key[0]
            return int(
                conn.execute(
                    upload_queue.insert().values(
                        listing_id=listing_id,
                        asin=asin,
                        platform=PLATFORM,
                        account_id=account_id,
                        scheduled_time=now,
                        priority=5,
                        **stamps,
                    )
                ).inserted_primary_key[0]
            )

    def daemon(self, account_id: str) -> UploadDaemon:
        """The account's own daemon, as `manager start` runs one per account."""
        daemon = UploadDaemon(
            self.settings,
            PLATFORM,
            [account_id],
            engine=self.engine,
            clock=self.clock,
            adapter=self.platform,
            notifier=self.notes,
            identity=Identity.current(),
        )
        daemon.pause_poll_seconds = FAKE_POLL_SECONDS
        daemon.start()
        self.daemons[account_id] = daemon
        return daemon

    def run(
        self, until: Callable[[], bool], max_rounds: int = 400, only: tuple[str, ...] = ()
    ) -> None:
        """Step every daemon (or `only` those) with work left in turn until `until()`."""
        for _ in range(max_rounds):
            if until():
                return
            for account_id, daemon in self.daemons.items():
                if self.pending(account_id) and account_id in (only or self.daemons):
                    daemon.step()
        raise AssertionError(
            f"not done after {max_rounds} rounds; clock at {self.clock.now()}, "
            f"queue: {Counter((r['account_id'], r['status']) for r in self.rows())}"
        )

    # -------------------------------------------------------------- reading

    def rows(self, account_id: str | None = None) -> list[RowMapping]:
        with self.engine.connect() as conn:
            query = select(upload_queue).order_by(upload_queue.c.id)
            if account_id is not None:
                query = query.where(upload_queue.c.account_id == account_id)
            return list(conn.execute(query).mappings().all())

    def row(self, queue_id: int) -> RowMapping:
        return next(r for r in self.rows() if r["id"] == queue_id)

    def pending(self, account_id: str) -> bool:
        return any(r["status"] == "pending" for r in self.rows(account_id))

    def done(self, account_id: str) -> int:
        return sum(1 for r in self.rows(account_id) if r["status"] == "success")

    def pause(self, account_id: str) -> tuple[str | None, datetime | None]:
        with self.engine.connect() as conn:
            return account_state.read_pause(conn, PLATFORM, account_id)

    def budget_paused(self, account_id: str) -> bool:
        reason, until = self.pause(account_id)
        return bool(reason and reason.startswith(BUDGET_PAUSE)) and (
            until is None or until > self.clock.now()
        )

    def usage(self, application: str = APP) -> dict[str, int]:
        """The application's calls per Pacific day, as the daemons counted them."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(application_usage.c.day, application_usage.c.calls).where(
                    application_usage.c.platform == PLATFORM,
                    application_usage.c.application == application,
                )
            ).all()
        return {day: calls for day, calls in rows if calls}

    def received(self, accounts: tuple[str, ...] = SHARING) -> dict[date, int]:
        """The calls the platform received from `accounts`, per Pacific day."""
        per_day: Counter[date] = Counter()
        for call in self.platform.calls:
            if call.account_id in accounts:
                per_day[local_day(call.at, PACIFIC)] += call.calls
        return dict(per_day)

    def set_usage(self, calls: int, day: date = FIRST_DAY) -> None:
        """Calls other hosts spent on the application today."""
        with write_transaction(self.engine) as conn:
            add_application_usage(conn, PLATFORM, APP, day.isoformat(), calls)


@pytest.fixture
def make_env(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Env]]:
    engines: list[Engine] = []

    def make(overrides: dict[str, dict[str, Any]] | None = None) -> Env:
        settings = settings_from_dict(
            config(tmp_path, database_url, overrides), tmp_path / "upload-scheduler.toml"
        )
        engine = open_database(settings.database_url)
        engines.append(engine)
        clock = HookedClock(START)
        return Env(settings, engine, clock, ScriptedPlatform(clock))

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()


# ---------------------------------------------------------------------- the shared budget


def test_two_accounts_on_one_application_never_spend_more_than_its_day_budget(env: Env) -> None:
    """The issue's test: two accounts, each with its own daemon, on one budget of 12 calls
    a day (items cost 2: one creation, one image); a third account on another client id
    goes on alone. Once 12 calls are spent both pause until Pacific midnight, and the
    rest upload day after day, never more than 12 calls a Pacific day."""
    items = {account_id: env.add_items(account_id, 10) for account_id in (*SHARING, ALONE)}
    for account_id in (*SHARING, ALONE):
        env.daemon(account_id)

    env.run(lambda: all(env.budget_paused(a) for a in SHARING))

    # Paused as soon as the budget is spent (spacing holding the next item first does
    # not hide it), not a check interval later.
    last_call = max(c.at for c in env.platform.calls if c.account_id in SHARING)
    with env.engine.connect() as conn:
        paused_at = conn.execute(
            select(account_state_table.c.updated_at).where(
                account_state_table.c.account_id.in_(SHARING)
            )
        ).scalars()
        assert all(at <= last_call + timedelta(seconds=INTERVAL) for at in paused_at)
    assert env.usage() == {FIRST_DAY.isoformat(): LIMIT}
    assert env.received() == {FIRST_DAY: LIMIT}
    # `account list` shows each sharing account the application's spend, not its own.
    shown = {
        o.account_id: {u.name: (u.used, u.limit) for u in o.usage}["day_calls"]
        for o in account_overviews(env.settings, env.engine, env.clock.now(), PLATFORM)
    }
    assert shown[SHARING[0]] == shown[SHARING[1]] == (LIMIT, LIMIT)
    for account_id in SHARING:
        reason, until = env.pause(account_id)
        assert reason is not None and reason.startswith(BUDGET_PAUSE), reason
        assert f"application {APP}" in reason
        assert until == RESET
        # Nothing was started while held: the waiting items spent no attempt.
        waiting = [r for r in env.rows(account_id) if r["status"] == "pending"]
        assert waiting and all(r["attempts"] == 0 for r in waiting)
    assert env.done(SHARING[0]) + env.done(SHARING[1]) == LIMIT // 2
    paused = [key for kind, key, _ in env.notes.sent if kind == "account_paused"]
    assert paused and set(",".join(paused).removeprefix(f"{PLATFORM}/").split(",")) >= set(
        SHARING
    ), env.notes.sent

    # The account on the other application is not held by it (stepped alone: the paused
    # daemons' waits would move the shared clock on by an hour a step).
    assert env.pause(ALONE) == (None, None)
    env.run(lambda: not env.pending(ALONE), only=(ALONE,))
    assert env.clock.now() < RESET
    assert env.done(ALONE) == 10
    assert env.pause(ALONE) == (None, None)
    assert env.usage(OTHER_APP) == {FIRST_DAY.isoformat(): 20}
    assert env.usage() == {FIRST_DAY.isoformat(): LIMIT}

    # After each Pacific midnight the budget is whole again: the rest upload, 6 a day.
    env.run(lambda: not any(env.pending(a) for a in SHARING))
    received = env.received()
    assert sorted(received.values(), reverse=True) == [LIMIT, LIMIT, LIMIT, 4], received
    assert env.usage() == {day.isoformat(): calls for day, calls in received.items()}
    for account_id in SHARING:
        rows = env.rows(account_id)
        assert [r["status"] for r in rows] == ["success"] * 10
        assert [r["attempts"] for r in rows] == [1] * 10  # none spent while held
    # Each day's first call is at its reset (no time lost), after the pause of the day before.
    firsts = sorted(
        min(c.at for c in env.platform.calls if local_day(c.at, PACIFIC) == day) for day in received
    )
    assert firsts[1:] == [RESET, RESET + timedelta(days=1), RESET + timedelta(days=2)]
    assert sorted(set(items[ALONE])) == sorted(r["id"] for r in env.rows(ALONE))


def test_the_pause_lasts_until_the_reset_whatever_the_accounts_business_hours(
    make_env: Callable[..., Env],
) -> None:
    """acct_1 works 06:00-16:00 Tokyo, so its own next start after the budget is spent is
    at 06:00 the next morning; the budget itself is back at Pacific midnight (17:00
    Tokyo), which is when acct_2, open all day, must start again."""
    env = make_env(
        {
            SHARING[0]: {"business_hours_start": 6, "business_hours_end": 16},
            SHARING[1]: {"business_hours_start": 0, "business_hours_end": 24},
        }
    )
    env.add_items(SHARING[0], 10)
    env.add_items(SHARING[1], 10, images=())  # 1 call each: acct_1 hits the budget first
    env.set_usage(LIMIT - 2)
    env.daemon(SHARING[0])

    env.run(lambda: all(env.budget_paused(a) for a in SHARING))

    assert env.usage() == {FIRST_DAY.isoformat(): LIMIT}
    for account_id in SHARING:
        assert env.pause(account_id)[1] == RESET, account_id
    # Stepped alone: acct_1's own waits (its hours) would move the shared clock past it.
    env.daemon(SHARING[1])
    env.run(lambda: env.done(SHARING[1]) > 0, only=(SHARING[1],))
    assert next(c.at for c in env.platform.calls if c.account_id == SHARING[1]) == RESET


def test_daemons_in_threads_never_spend_more_than_the_budget_together(
    tmp_path: Path, database_url: str
) -> None:
    """Two hosts at once: each daemon on its own engine, thread and clock (min interval 0,
    bursts of 4), claiming from the one counter. Together they start exactly 12 one-call
    items, and both accounts end paused."""
    raw = config(tmp_path, database_url)
    raw["platforms"][PLATFORM]["min_interval_seconds"] = 0.0
    raw["daemon"]["batch_size"] = 4
    settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
    setup = Env(settings, open_database(settings.database_url), FakeClock(START), None)  # type: ignore[arg-type]
    for account_id in SHARING:
        setup.add_items(account_id, 10, images=())
    engines = {a: open_database(settings.database_url) for a in SHARING}
    platforms = {a: ScriptedPlatform(FakeClock(START)) for a in SHARING}
    daemons = {
        a: UploadDaemon(
            settings,
            PLATFORM,
            [a],
            engine=engines[a],
            clock=platforms[a].clock,
            adapter=platforms[a],
            notifier=Notes(),
            identity=Identity.current(),
        )
        for a in SHARING
    }
    for daemon in daemons.values():
        daemon.pause_poll_seconds = FAKE_POLL_SECONDS
    barrier = threading.Barrier(len(SHARING))
    errors: list[BaseException] = []

    def work(account_id: str) -> None:
        daemon = daemons[account_id]
        try:
            daemon.start()
            barrier.wait(timeout=30)
            for _ in range(200):
                if setup.budget_paused(account_id) or not setup.pending(account_id):
                    return
                daemon.step()
            raise AssertionError(f"{account_id} still working after 200 steps")
        except BaseException as exc:  # reported by the test, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in SHARING]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        received = sum(c.calls for p in platforms.values() for c in p.calls)
        assert received == LIMIT
        assert setup.usage() == {FIRST_DAY.isoformat(): LIMIT}
        assert sum(setup.done(a) for a in SHARING) == LIMIT
        for account_id in SHARING:
            assert setup.pause(account_id)[0] is not None
            assert setup.pause(account_id)[0].startswith(BUDGET_PAUSE)  # type: ignore[union-attr]
            assert setup.pause(account_id)[1] == RESET
    finally:
        for engine in [setup.engine, *engines.values()]:
            engine.dispose()


# ---------------------------------------------------------------------- refusals for rate


def test_a_throttled_call_below_the_budget_is_retried_later_with_no_attempt_spent(
    env: Env,
) -> None:
    """A 429 while our count is under the budget is a short burst limit: the item is
    pending again with its attempt given back, after retry_delay_seconds doubling per
    refusal in a row (5 s, then 10 s), and nobody is paused."""
    [first] = env.add_items(SHARING[0], 1)
    asin = env.row(first)["asin"]
    env.platform.script(asin, Fail(Throttled("429: too many requests")))
    env.platform.script(asin, Fail(Throttled("429: too many requests")))
    env.daemon(SHARING[0])

    env.run(lambda: len(env.platform.uploads(asin)) == 1)
    row = env.row(first)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert "429" in row["error_message"]
    refused_at = env.platform.uploads(asin)[0].at
    assert row["scheduled_time"] == refused_at + timedelta(seconds=RETRY_DELAY)
    assert all(env.pause(a) == (None, None) for a in (*SHARING, ALONE))

    env.run(lambda: env.done(SHARING[0]) == 1)

    starts = [c.at for c in env.platform.uploads(asin)]
    assert [(b - a).total_seconds() for a, b in pairwise(starts)] == [
        RETRY_DELAY,
        2 * RETRY_DELAY,
    ]
    row = env.row(first)
    assert (row["status"], row["attempts"]) == ("success", 1)
    assert all(env.pause(a) == (None, None) for a in (*SHARING, ALONE))
    # The refused calls are counted as the platform saw them: 1 + 1 + 2.
    assert env.usage() == {FIRST_DAY.isoformat(): 4}
    assert env.received() == {FIRST_DAY: 4}


def test_a_throttled_call_holds_the_whole_account_until_the_back_off_ends(env: Env) -> None:
    """Backing off is the account's, not only the item's: after a 429 the account's next
    item does not start (and spend a call on the same refusal) before the retry time."""
    first, second = env.add_items(SHARING[0], 2)
    asin = env.row(first)["asin"]
    env.platform.script(asin, Fail(Throttled("429: too many requests", retry_after=40.0)))
    env.daemon(SHARING[0])

    env.run(lambda: env.done(SHARING[0]) == 2)

    refused_at = env.platform.uploads(asin)[0].at
    later = [c.at for c in env.platform.uploads() if c.at > refused_at]
    assert later and min(later) >= refused_at + timedelta(seconds=40)
    assert env.row(second)["status"] == "success"


def test_a_throttled_call_with_our_count_at_the_budget_pauses_every_account_on_it(
    env: Env,
) -> None:
    """Other hosts spent 11 of the 12 calls; this 1-call item takes the last one and is
    refused: the day is over for the application. Both of its accounts pause until
    Pacific midnight; the item is pending with its attempt given back; the account on
    another client id is not paused."""
    [item] = env.add_items(SHARING[0], 1, images=())
    asin = env.row(item)["asin"]
    env.add_items(SHARING[1], 1, images=())
    env.platform.script(asin, Fail(Throttled("429: daily limit", retry_after=30.0)))
    env.set_usage(LIMIT - 1)
    env.daemon(SHARING[0])

    env.run(lambda: len(env.platform.uploads(asin)) == 1)

    row = env.row(item)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    for account_id in SHARING:
        reason, until = env.pause(account_id)
        assert reason is not None and reason.startswith(BUDGET_PAUSE), reason
        assert "429: daily limit" in reason
        assert until == RESET
    assert env.pause(ALONE) == (None, None)
    assert env.usage() == {FIRST_DAY.isoformat(): LIMIT}
    keys = {key for kind, key, _ in env.notes.sent if kind == "account_paused"}
    assert {f"{PLATFORM}/{a}" for a in SHARING} <= {
        f"{PLATFORM}/{part}" for key in keys for part in key.removeprefix("fake/").split(",")
    }, env.notes.sent

    # Nothing is asked of the platform before the reset; then both items upload.
    env.daemon(SHARING[1])
    env.run(lambda: not env.pending(SHARING[0]) and not env.pending(SHARING[1]))
    later = [c.at for c in env.platform.calls[1:]]
    assert later and min(later) >= RESET
    assert env.row(item)["attempts"] == 1


def test_a_throttled_call_whose_unmade_calls_are_given_back_is_not_the_budget_spent(
    env: Env,
) -> None:
    """9 of 12 spent; a 3-call item reserves the rest and is refused at its first call.
    It made 1 call, so 10 are spent and 2 are left: a burst limit, not the day's end.
    No account pauses; the item is retried after the backoff."""
    [item] = env.add_items(SHARING[0], 1, images=TWO_IMAGES)
    asin = env.row(item)["asin"]
    env.platform.script(asin, Fail(Throttled("429: too many requests")))
    env.set_usage(LIMIT - 3)
    env.daemon(SHARING[0])

    env.run(lambda: len(env.platform.uploads(asin)) == 1)

    assert env.usage() == {FIRST_DAY.isoformat(): LIMIT - 2}
    assert all(env.pause(a) == (None, None) for a in SHARING)
    row = env.row(item)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert row["scheduled_time"] == env.platform.uploads(asin)[0].at + timedelta(
        seconds=RETRY_DELAY
    )


def test_a_throttled_call_after_other_hosts_spent_the_day_pauses_the_application(
    env: Env,
) -> None:
    """While our call is in flight, other hosts spend the rest of the day's calls: the
    refusal that follows is the day's end, for every account on the application."""
    [item] = env.add_items(SHARING[0], 1)
    asin = env.row(item)["asin"]
    env.platform.script(asin, Fail(Throttled("429")))
    env.platform.on_upload = lambda _asin: env.set_usage(LIMIT)
    env.daemon(SHARING[0])

    env.run(lambda: len(env.platform.uploads(asin)) == 1)

    for account_id in SHARING:
        reason, until = env.pause(account_id)
        assert reason is not None and reason.startswith(BUDGET_PAUSE), reason
        assert until == RESET
    assert env.row(item)["attempts"] == 0


def test_an_application_pause_keeps_a_stronger_pause_of_a_shop(env: Env) -> None:
    """acct_2 waits for a new login (a pause with no end): the application's budget,
    spent, must not turn that into a pause that ends at midnight."""
    env.add_items(SHARING[0], 10, images=())
    env.set_usage(LIMIT - 1)
    login = "auth: BASE refused the token; run `upload-scheduler token login`"
    with write_transaction(env.engine) as conn:
        account_state.set_pause(conn, PLATFORM, SHARING[1], None, login, START)
    env.daemon(SHARING[0])

    env.run(lambda: env.budget_paused(SHARING[0]))

    assert env.pause(SHARING[1]) == (login, None)
    assert env.pause(SHARING[0])[1] == RESET


@postgres_only
def test_pausing_the_application_does_not_deadlock_with_another_hosts_claim(
    env: Env, database_url: str
) -> None:
    """PostgreSQL holds row locks until commit, and a claim locks its account's row, then
    the application's counter. Here another host's claim for acct_2 holds acct_2's row
    while acct_1's refused item is written, which pauses acct_2 too; the moment acct_1
    goes for acct_2's row, that claim goes for the counter. A writer that took the
    counter before the other accounts' rows would deadlock with it (PostgreSQL aborts one
    of them after deadlock_timeout)."""
    [item] = env.add_items(SHARING[0], 1, images=TWO_IMAGES)  # 3 reserved, 1 made
    env.platform.script(env.row(item)["asin"], Fail(Throttled("429")))
    env.platform.on_upload = lambda _asin: env.set_usage(LIMIT)
    with write_transaction(env.engine) as conn:
        account_state.ensure_row(conn, PLATFORM, SHARING[1])
    env.daemon(SHARING[0])
    other_host = open_database(database_url)
    holding, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def claim_of_acct_2() -> None:
        try:
            with other_host.connect() as conn, conn.begin():
                conn.execute(
                    select(account_state_table.c.account_id)
                    .where(
                        account_state_table.c.platform == PLATFORM,
                        account_state_table.c.account_id == SHARING[1],
                    )
                    .with_for_update()
                )
                holding.set()
                assert go.wait(timeout=60)
                add_application_usage(conn, PLATFORM, APP, FIRST_DAY.isoformat(), 1)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            holding.set()

    def touching_acct_2(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE ACCOUNT_STATE") and SHARING[1] in str(
            parameters
        ):
            go.set()

    other = threading.Thread(target=claim_of_acct_2)
    other.start()
    assert holding.wait(timeout=30)
    event.listen(env.engine, "before_cursor_execute", touching_acct_2)
    try:
        env.run(lambda: len(env.platform.uploads()) == 1 and env.row(item)["status"] == "pending")
    except BaseException as exc:
        errors.append(exc)
    finally:
        event.remove(env.engine, "before_cursor_execute", touching_acct_2)
        go.set()
        other.join(timeout=60)
        other_host.dispose()

    assert errors == []
    assert env.budget_paused(SHARING[1])


# ---------------------------------------------------------------------- queue explain


def test_explain_names_the_application_budget_of_a_held_item(env: Env) -> None:
    """`queue explain`: before any daemon paused the accounts, the spent budget itself;
    once paused, the pause, named as the application's budget, once, with its end."""
    [first] = env.add_items(SHARING[0], 1)
    [second] = env.add_items(SHARING[1], 1)
    env.set_usage(LIMIT)

    held = explain(env.engine, env.settings, first, env.clock.now())

    [budget] = [r for r in held.reasons if r.code == APPLICATION_BUDGET]
    assert budget.until == RESET
    assert f"application {APP} is spent ({LIMIT} of {LIMIT} calls today" in budget.text
    assert "midnight America/Los_Angeles" in budget.text

    env.daemon(SHARING[0])
    env.run(lambda: env.budget_paused(SHARING[1]))
    for queue_id in (first, second):
        answer = explain(env.engine, env.settings, queue_id, env.clock.now())
        codes = [r.code for r in answer.reasons]
        assert codes.count(APPLICATION_BUDGET) == 1, answer.reasons
        assert codes[0] == APPLICATION_BUDGET and "paused" not in codes, answer.reasons
        assert answer.reasons[0].until == RESET
        assert answer.reasons[0].text.startswith("account paused: the day call budget")
        assert answer.to_json()["reasons"][0]["code"] == "application_budget"


# ---------------------------------------------------------------------- pause_unless_stronger


def test_pause_unless_stronger_keeps_only_pauses_that_last_as_long(env: Env) -> None:
    """An application's pause replaces no pause, an ended one and a shorter one; it keeps
    one that lasts as long or longer, and one until resumed. It answers the accounts it
    paused, in account-id order."""
    now = START
    reset = RESET
    stored = {
        "a_none": None,
        "b_ended": ("rate limit: hour_api_limit", now - timedelta(minutes=1)),
        "c_shorter": ("operator: lunch", now + timedelta(hours=1)),
        "d_same": ("rate limit: another host's pause", reset),
        "e_longer": ("quota: daily creation limit", reset + timedelta(hours=1)),
        "f_resume": ("config: check api_base_url", None),
    }
    with write_transaction(env.engine) as conn:
        for account_id, pause in stored.items():
            if pause is not None:
                account_state.set_pause(conn, PLATFORM, account_id, pause[1], pause[0], now)
    with write_transaction(env.engine) as conn:
        paused = account_state.pause_unless_stronger(
            conn, PLATFORM, list(reversed(stored)), reset, "rate limit: budget", now
        )

    assert paused == ["a_none", "b_ended", "c_shorter"]
    for account_id in paused:
        assert env.pause(account_id) == ("rate limit: budget", reset)
    for account_id in ("d_same", "e_longer", "f_resume"):
        pause = stored[account_id]
        assert pause is not None
        assert env.pause(account_id) == pause
