"""`web.figures`: the per-account figures of the dashboard's overview and `/metrics`,
on SQLite and PostgreSQL with a fixed `now` (no clock is read, nothing sleeps).

Four accounts: two BASE shops (tokens; one in Tokyo, one in Los Angeles, so "today"
starts at a different UTC hour for each) and two accounts of the fake platform sharing
one application's day budget, as eBay and Yahoo! accounts on one client id do. Items
finish through the queue manager, so the trigger of migration 0011 counts them as in
production.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from upload_scheduler.clock import FakeClock
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.limits import LimitSettings
from upload_scheduler.operations import pauses
from upload_scheduler.operations.purge import purge_queue
from upload_scheduler.platforms.oauth import TokenGrant
from upload_scheduler.platforms.token_store import TokenStore
from upload_scheduler.queue.manager import UploadQueueManager
from upload_scheduler.store import account_state
from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.identity import Identity
from upload_scheduler.store.tables import listings, products, upload_queue
from upload_scheduler.store.usage import add_application_usage, add_usage
from upload_scheduler.supervisor.paths import ManagerPaths
from upload_scheduler.supervisor.state import ChildRecord, ManagerRecord, write_state
from upload_scheduler.web.figures import (
    AccountFigures,
    Attention,
    attention,
    collect_figures,
    crash_looping_accounts,
)

TOKYO_SHOP, LA_SHOP = "shop_tokyo", "shop_la"
APP_1, APP_2 = "app_1", "app_2"
CLIENT_ID = "client-XYZ-123"
# 2026-01-05 12:00 in Tokyo; 2026-01-04 19:00 in Los Angeles.
NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
TOKYO_MIDNIGHT = datetime(2026, 1, 4, 15, 0, tzinfo=UTC)  # 2026-01-05 00:00 Tokyo
NEXT_TOKYO_MIDNIGHT = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
LA_MIDNIGHT = datetime(2026, 1, 4, 8, 0, tzinfo=UTC)  # 2026-01-04 00:00 Los Angeles
TOKYO_DAY = "2026-01-05"


@dataclass
class Env:
    settings: Settings
    engine: Engine
    clock: FakeClock
    manager: UploadQueueManager

    def figures(self, now: datetime = NOW, **narrow: str) -> dict[str, AccountFigures]:
        return {f.account_id: f for f in collect_figures(self.settings, self.engine, now, **narrow)}

    def item(
        self, account: str, asin: str, at: datetime = NOW, platform: str = "base", title: str = ""
    ) -> int:
        """A product, its listing and one pending queue row for `account`."""
        stamp = {"created_at": NOW, "updated_at": NOW}
        with self.engine.begin() as conn:
            conn.execute(
                products.insert().values(asin=asin, title=title or f"T {asin}", price=1, **stamp)
            )
            listing = conn.execute(
                listings.insert().values(
                    asin=asin, platform=platform, account_id=account, status="queued", **stamp
                )
            ).inserted_primary_key[0]
            return int(
                conn.execute(
                    upload_queue.insert().values(
                        listing_id=listing,
                        asin=asin,
                        platform=platform,
                        account_id=account,
                        scheduled_time=at,
                        **stamp,
                    )
                ).inserted_primary_key[0]
            )

    def finish(self, queue_id: int, status: str, at: datetime) -> None:
        """End an item at `at` the way the product does (status, processed_at)."""
        self.clock.set(at)
        assert self.manager.update_queue_status(queue_id, status)

    def login(self, platform: str, account: str, at: datetime, lifetime: int | None = None) -> None:
        grant = TokenGrant("a" * 20, "r" * 20, "bearer", 3600, lifetime)
        TokenStore(self.engine, platform).save_login(account, grant, at)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[Env]:
    raw = {
        "database": database_url,
        "timezone": "Asia/Tokyo",
        "log_dir": str(tmp_path / "logs"),
        "accounts": {"base": [TOKYO_SHOP, LA_SHOP], "fake": [APP_1, APP_2]},
        "account_overrides": {LA_SHOP: {"timezone": "America/Los_Angeles"}},
        "platforms": {
            "base": {
                "hour_call_limit": 10,
                "day_call_limit": 100,
                "daily_limit": 5,
                "min_interval_seconds": 60,
            },
            "fake": {
                "api_base_url": "fake:unused.db",
                "daily_limit": 5,
                "client_id": CLIENT_ID,
                "day_call_limit": 50,
                "day_call_limit_scope": "application",
            },
        },
    }
    settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
    engine = open_database(settings.database_url)
    clock = FakeClock(NOW)
    yield Env(settings, engine, clock, UploadQueueManager(settings, engine=engine, clock=clock))
    engine.dispose()


def test_one_entry_per_configured_account_in_config_order(env: Env) -> None:
    found = collect_figures(env.settings, env.engine, NOW)

    assert [(f.platform, f.account_id) for f in found] == [
        ("base", TOKYO_SHOP),
        ("base", LA_SHOP),
        ("fake", APP_1),
        ("fake", APP_2),
    ]
    assert list(env.figures(platform="fake")) == [APP_1, APP_2]
    assert list(env.figures(account_id=LA_SHOP)) == [LA_SHOP]
    assert env.figures(platform="fake", account_id=LA_SHOP) == {}
    assert str(env.figures()[LA_SHOP].zone) == "America/Los_Angeles"


def test_queue_counts_every_status_and_the_due_items(env: Env) -> None:
    oldest = env.item(TOKYO_SHOP, "B0FIG0001", at=NOW - timedelta(hours=2))
    env.item(TOKYO_SHOP, "B0FIG0002", at=NOW - timedelta(minutes=30))
    env.item(TOKYO_SHOP, "B0FIG0003", at=NOW)  # due at exactly now
    env.item(TOKYO_SHOP, "B0FIG0004", at=NOW + timedelta(hours=1))  # not yet due
    env.finish(env.item(TOKYO_SHOP, "B0FIG0005", at=NOW - timedelta(days=1)), "success", NOW)
    env.finish(env.item(TOKYO_SHOP, "B0FIG0006", at=NOW - timedelta(days=1)), "failed", NOW)
    env.manager.cancel([env.item(TOKYO_SHOP, "B0FIG0007", at=NOW - timedelta(days=3))])
    env.manager.update_queue_status(env.item(TOKYO_SHOP, "B0FIG0008"), "uploading")
    env.item(LA_SHOP, "B0FIG0009", at=NOW + timedelta(days=1))
    env.item(APP_1, "B0FIG0010", at=NOW - timedelta(hours=5), platform="fake")

    found = env.figures()
    tokyo, la, app_1, app_2 = (found[a] for a in (TOKYO_SHOP, LA_SHOP, APP_1, APP_2))

    assert tokyo.queue == {
        "pending": 4,
        "uploading": 1,
        "success": 1,
        "failed": 1,
        "cancelled": 1,
        "total": 8,
    }
    assert (tokyo.due, tokyo.oldest_due_at) == (3, NOW - timedelta(hours=2))
    # An uploading item is no longer due, and an item is due once its time has come.
    env.manager.update_queue_status(oldest, "uploading")
    later = env.figures(NOW + timedelta(hours=1))[TOKYO_SHOP]
    assert (later.due, later.oldest_due_at) == (3, NOW - timedelta(minutes=30))

    assert la.queue == {
        "pending": 1,
        "uploading": 0,
        "success": 0,
        "failed": 0,
        "cancelled": 0,
        "total": 1,
    }
    assert (la.due, la.oldest_due_at) == (0, None)
    assert (app_1.due, app_1.oldest_due_at) == (1, NOW - timedelta(hours=5))
    assert app_2.queue["total"] == 0 and app_2.due == 0


def test_today_starts_at_each_accounts_local_midnight(env: Env) -> None:
    moments = {
        # Tokyo: 23:50 yesterday, 00:30 and 11:00 today (local).
        "B0DAY0001": (TOKYO_SHOP, "success", TOKYO_MIDNIGHT - timedelta(minutes=10)),
        "B0DAY0002": (TOKYO_SHOP, "success", TOKYO_MIDNIGHT + timedelta(minutes=30)),
        "B0DAY0003": (TOKYO_SHOP, "failed", NOW - timedelta(hours=1)),
        # Los Angeles: 23:30 the day before, and 00:10 today (local): both are already
        # "yesterday" in Tokyo.
        "B0DAY0004": (LA_SHOP, "success", LA_MIDNIGHT - timedelta(minutes=30)),
        "B0DAY0005": (LA_SHOP, "failed", LA_MIDNIGHT + timedelta(minutes=10)),
        # Eleven days ago.
        "B0DAY0006": (TOKYO_SHOP, "failed", NOW - timedelta(days=11)),
    }
    for asin, (account, status, at) in moments.items():
        env.finish(env.item(account, asin, at=at - timedelta(minutes=1)), status, at)

    found = env.figures()
    tokyo, la = found[TOKYO_SHOP], found[LA_SHOP]

    assert (tokyo.today_success, tokyo.today_failed) == (1, 1)
    assert tokyo.uploads_total == {"success": 2, "failed": 2}
    assert (la.today_success, la.today_failed) == (0, 1)
    assert la.uploads_total == {"success": 1, "failed": 1}
    assert found[APP_1].uploads_total == {"success": 0, "failed": 0}
    # As of 10:00 Tokyo, the failure at 11:00 has not happened yet.
    earlier = env.figures(NOW - timedelta(hours=2))[TOKYO_SHOP]
    assert (earlier.today_success, earlier.today_failed) == (1, 0)
    # The next Tokyo day begins with nothing done yet; the totals stay.
    tomorrow = env.figures(NEXT_TOKYO_MIDNIGHT + timedelta(minutes=5))[TOKYO_SHOP]
    assert (tomorrow.today_success, tomorrow.today_failed) == (0, 0)
    assert tomorrow.uploads_total == {"success": 2, "failed": 2}


def test_the_upload_counter_survives_a_purge_of_the_rows(env: Env) -> None:
    for n in range(3):
        env.finish(env.item(TOKYO_SHOP, f"B0PURGE{n:03d}"), "success", NOW - timedelta(hours=1))
    before = env.figures()[TOKYO_SHOP]
    assert before.queue["success"] == 3 and before.uploads_total["success"] == 3

    report = purge_queue(env.engine, cutoff=NOW)

    assert report.total == 3
    after = env.figures()[TOKYO_SHOP]
    assert after.queue["success"] == 0 and after.queue["total"] == 0
    assert after.uploads_total == {"success": 3, "failed": 0}
    assert after.today_success == 3


def test_the_day_budget_of_an_application_is_its_accounts_together(env: Env) -> None:
    app_limits = LimitSettings.of(env.settings.account("fake", APP_1))
    base_limits = LimitSettings.of(env.settings.account("base", TOKYO_SHOP))
    with write_transaction(env.engine) as conn:
        # The application's calls today, counted once for every account on it; and one
        # account's own count, which its day budget does not go by.
        add_application_usage(
            conn, "fake", CLIENT_ID, app_limits.application_day(NOW).isoformat(), 30
        )
        add_usage(conn, "fake", APP_1, TOKYO_DAY, calls=4)
        account_state.ensure_row(conn, "base", TOKYO_SHOP)
        account_state.record_calls(
            conn, "base", TOKYO_SHOP, base_limits, NOW, 7, started_item=False
        )

    found = env.figures()
    app_1, app_2, tokyo = found[APP_1], found[APP_2], found[TOKYO_SHOP]

    for shared in (app_1.day_calls, app_2.day_calls):
        assert (shared.used, shared.limit, shared.scope) == (30, 50, "application")
        assert shared.application == CLIENT_ID and not shared.spent
        assert (
            shared.resets_at == NEXT_TOKYO_MIDNIGHT
        )  # the fake platform's reset: the account's zone
    assert (tokyo.day_calls.used, tokyo.day_calls.scope, tokyo.day_calls.application) == (
        7,
        "account",
        None,
    )
    assert (tokyo.hour_calls.used, tokyo.hour_calls.limit) == (7, 10)
    assert tokyo.hour_calls.resets_at == NOW + timedelta(hours=1)
    # The hour's calls are this hour's only.
    assert env.figures(NOW + timedelta(hours=1))[TOKYO_SHOP].hour_calls.used == 0

    with write_transaction(env.engine) as conn:
        add_application_usage(
            conn, "fake", CLIENT_ID, app_limits.application_day(NOW).isoformat(), 20
        )
    assert env.figures()[APP_2].day_calls.spent


def test_creations_and_the_remaining_daily_quota(env: Env) -> None:
    with write_transaction(env.engine) as conn:
        add_usage(conn, "base", TOKYO_SHOP, TOKYO_DAY, creations=3)
        add_usage(conn, "base", TOKYO_SHOP, "2026-01-04", creations=5)  # yesterday's

    tokyo = env.figures()[TOKYO_SHOP]

    assert (tokyo.creations.used, tokyo.creations.limit, tokyo.remaining_quota) == (3, 5, 2)
    assert not tokyo.creations.spent
    assert tokyo.creations.resets_at == NEXT_TOKYO_MIDNIGHT
    with write_transaction(env.engine) as conn:
        add_usage(conn, "base", TOKYO_SHOP, TOKYO_DAY, creations=4)
    full = env.figures()[TOKYO_SHOP]
    assert full.creations.spent and full.remaining_quota == 0


def test_a_pause_is_shown_until_it_ends(env: Env) -> None:
    until = NOW + timedelta(minutes=45)
    pauses.pause(env.engine, "base", TOKYO_SHOP, until=until, reason="shop review", now=NOW)

    pause = env.figures()[TOKYO_SHOP].pause

    assert pause is not None and "shop review" in pause.reason and pause.until == until
    assert env.figures()[LA_SHOP].pause is None
    assert env.figures(until)[TOKYO_SHOP].pause is None


def test_the_daemon_is_up_while_its_lease_is_live(env: Env) -> None:
    assert not env.figures()[TOKYO_SHOP].daemon_up
    me = Identity.current()
    with write_transaction(env.engine) as conn:
        assert account_state.acquire_lease(conn, "base", TOKYO_SHOP, me, NOW, 60) is None

    up = env.figures()[TOKYO_SHOP]
    assert up.daemon_up and (up.daemon_host, up.daemon_pid) == (me.host, os.getpid())
    assert not env.figures()[LA_SHOP].daemon_up

    expired = env.figures(NOW + timedelta(seconds=61))[TOKYO_SHOP]
    assert not expired.daemon_up and (expired.daemon_host, expired.daemon_pid) == (None, None)


def test_the_logins_end_on_a_token_platform(env: Env) -> None:
    # BASE says nothing of the refresh token's end: its usual 30 days from the login.
    env.login("base", TOKYO_SHOP, NOW - timedelta(days=1))
    # A platform that says it (eBay's refresh_token_expires_in).
    env.login("base", LA_SHOP, NOW, lifetime=7 * 86400)

    found = env.figures()
    tokyo, la, app_1 = found[TOKYO_SHOP], found[LA_SHOP], found[APP_1]

    assert tokyo.login_ends_at == NOW + timedelta(days=29)
    assert (tokyo.token_status, tokyo.login_required) == ("ok", False)
    assert la.login_ends_at == NOW + timedelta(days=7)
    # The fake platform has no tokens: nothing to say.
    assert (app_1.login_ends_at, app_1.login_required, app_1.token_status) == (None, False, None)

    ending = env.figures(NOW + timedelta(days=26))[TOKYO_SHOP]
    assert ending.token_status == "warning" and not ending.login_required
    ended = env.figures(NOW + timedelta(days=29))[TOKYO_SHOP]
    assert ended.token_status == "login_required" and ended.login_required


def test_no_token_stored_means_a_login_is_required(env: Env) -> None:
    tokyo = env.figures()[TOKYO_SHOP]

    assert (tokyo.login_required, tokyo.token_status, tokyo.login_ends_at) == (
        True,
        "login_required",
        None,
    )
    env.login("base", TOKYO_SHOP, NOW)
    TokenStore(env.engine, "base").mark_login_required(TOKYO_SHOP, "refresh refused", NOW)
    assert env.figures()[TOKYO_SHOP].login_required


def test_the_next_slot_is_when_every_limit_lets_the_first_item_start(env: Env) -> None:
    assert env.figures()[TOKYO_SHOP].next_slot is None  # nothing pending

    env.item(TOKYO_SHOP, "B0SLOT0001", at=NOW + timedelta(hours=2))
    assert env.figures()[TOKYO_SHOP].next_slot == NOW + timedelta(hours=2)

    env.item(TOKYO_SHOP, "B0SLOT0002", at=NOW - timedelta(hours=1))
    assert env.figures()[TOKYO_SHOP].next_slot == NOW  # due, nothing holds it

    limits = LimitSettings.of(env.settings.account("base", TOKYO_SHOP))
    with write_transaction(env.engine) as conn:
        account_state.ensure_row(conn, "base", TOKYO_SHOP)
        state = account_state.load_state(conn, "base", TOKYO_SHOP, limits, NOW)
        account_state.record_start(conn, "base", TOKYO_SHOP, state, NOW - timedelta(seconds=20), 1)
    assert env.figures()[TOKYO_SHOP].next_slot == NOW + timedelta(seconds=40)  # spacing

    # A full daily quota holds until Tokyo's midnight, which is outside business hours
    # (06:00-23:00): the slot is when they open, as the daemon would find.
    with write_transaction(env.engine) as conn:
        add_usage(conn, "base", TOKYO_SHOP, TOKYO_DAY, creations=5)
    assert env.figures()[TOKYO_SHOP].next_slot == NEXT_TOKYO_MIDNIGHT + timedelta(hours=6)

    pauses.pause(env.engine, "base", TOKYO_SHOP, until=None, reason="", now=NOW)
    assert env.figures()[TOKYO_SHOP].next_slot is None  # paused until resumed


def test_attention_lists_what_needs_a_person_most_urgent_first(env: Env) -> None:
    # Tokyo shop: two failed items; its login ends in 2 days.
    env.login("base", TOKYO_SHOP, NOW - timedelta(days=28))
    for n in range(2):
        env.finish(env.item(TOKYO_SHOP, f"B0ATT{n:04d}"), "failed", NOW - timedelta(minutes=5))
    # LA shop: no login at all; this hour's call budget is spent.
    base_limits = LimitSettings.of(env.settings.account("base", LA_SHOP))
    with write_transaction(env.engine) as conn:
        account_state.ensure_row(conn, "base", LA_SHOP)
        account_state.record_calls(conn, "base", LA_SHOP, base_limits, NOW, 10, started_item=False)
        # app_1: the day's quota of new items is full; app_2: nothing.
        add_usage(conn, "fake", APP_1, TOKYO_DAY, creations=5)

    found = collect_figures(env.settings, env.engine, NOW)
    strip = attention(found, NOW)

    assert strip == [
        Attention("login_required", "base", LA_SHOP),
        Attention("failed_items", "base", TOKYO_SHOP, count=2),
        Attention("login_ending", "base", TOKYO_SHOP, count=2, until=NOW + timedelta(days=2)),
        Attention("budget_spent", "base", LA_SHOP, until=NOW + timedelta(hours=1)),
        Attention("daily_quota_full", "fake", APP_1, until=NEXT_TOKYO_MIDNIGHT),
    ]
    # A daemon the manager reports crash-looping comes right after the logins.
    looping = attention(found, NOW, crash_looping={("fake", APP_2)})
    assert looping[1] == Attention("crash_loop", "fake", APP_2)
    assert len(looping) == len(strip) + 1


def test_a_spent_application_budget_needs_attention_on_every_account_on_it(env: Env) -> None:
    app_limits = LimitSettings.of(env.settings.account("fake", APP_1))
    with write_transaction(env.engine) as conn:
        add_application_usage(
            conn, "fake", CLIENT_ID, app_limits.application_day(NOW).isoformat(), 50
        )

    strip = attention(collect_figures(env.settings, env.engine, NOW, platform="fake"), NOW)

    assert strip == [
        Attention("budget_spent", "fake", APP_1, until=NEXT_TOKYO_MIDNIGHT),
        Attention("budget_spent", "fake", APP_2, until=NEXT_TOKYO_MIDNIGHT),
    ]


def test_crash_looping_accounts_come_from_a_running_managers_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from_dict(
        {"log_dir": str(tmp_path / "logs"), "accounts": {"base": [TOKYO_SHOP, LA_SHOP]}},
        tmp_path / "upload-scheduler.toml",
    )
    paths = ManagerPaths(settings.log_dir)
    assert crash_looping_accounts(settings) == frozenset()  # no manager, no file

    record = ManagerRecord(pid=1, host="h", started_at=NOW.isoformat())
    record.processes = [
        ChildRecord("base", TOKYO_SHOP, crash_looping=True),
        ChildRecord("base", LA_SHOP),
    ]
    write_state(paths.state, record)
    # A state file left by a manager that no longer runs tells only the past.
    assert crash_looping_accounts(settings) == frozenset()

    from upload_scheduler.supervisor import lock

    monkeypatch.setattr(lock, "running_manager", lambda p: object() if p == paths else None)
    assert crash_looping_accounts(settings) == frozenset({("base", TOKYO_SHOP)})
