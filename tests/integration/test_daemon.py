"""`UploadDaemon` in-process, on a real SQLite file, with a fake clock and a scripted
platform: pacing, business hours, budgets, every error class, partial uploads, lost
responses, crash recovery, the single-worker lease and wake-ups.

The daemon is driven one `step()` at a time in a bounded loop; the fake clock advances
only when the daemon waits, so a daemon that spun instead of waiting would run out of
steps, and the platform records the clock's time at every call.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, RowMapping, select, update

from tests.integration.scripted_platform import (
    Fail,
    HookedClock,
    ImageFails,
    LoseResponse,
    ScriptedPlatform,
)
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.hours import in_business_hours
from upload_scheduler.limits import hour_of
from upload_scheduler.platforms.errors import (
    AuthExpired,
    Permanent,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from upload_scheduler.queue.manager import UploadQueueManager
from upload_scheduler.store.database import open_database
from upload_scheduler.store.identity import Identity, host_id
from upload_scheduler.store.tables import account_state, listings, products, upload_queue
from upload_scheduler.worker.account_daemon import UploadSchedulerAccountDaemon
from upload_scheduler.worker.daemon import AlreadyRunning, DaemonOptions, UploadDaemon

PLATFORM = "fake"
ACCOUNT = "acct_1"
TOKYO = ZoneInfo("Asia/Tokyo")
# Monday 2026-01-05 09:00 in Tokyo: inside the default 06:00-23:00 window.
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=2)  # min_interval_seconds
RETRY_DELAY = timedelta(seconds=5)
TWO_IMAGES = ("https://img.example/a.jpg", "https://img.example/b.jpg")
THREE_IMAGES = (*TWO_IMAGES, "https://img.example/c.jpg")
OTHER_OWNER = "other-host:4242:1.00:deadbeef"


def tokyo(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TOKYO).astimezone(UTC)  # type: ignore[misc]


def config(
    tmp_path: Path,
    database_url: str,
    overrides: dict[str, Any] | None = None,
    accounts: tuple[str, ...] = (ACCOUNT,),
    **platform: Any,
) -> dict[str, Any]:
    return {
        "database": database_url,
        "timezone": "Asia/Tokyo",
        "log_dir": str(tmp_path / "logs"),
        "accounts": {PLATFORM: list(accounts)},
        "daemon": {"interval_seconds": 60.0, "batch_size": 10},
        "account_overrides": {ACCOUNT: overrides} if overrides else {},
        "platforms": {
            PLATFORM: {
                "api_base_url": "fake:unused.db",
                "min_interval_seconds": INTERVAL.total_seconds(),
                "retry_delay_seconds": RETRY_DELAY.total_seconds(),
                "max_attempts": 3,
                **platform,
            }
        },
    }


class Notes:
    """A notifier that keeps what it was told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def notify(self, kind: str, account_key: str, message: str) -> None:
        self.sent.append((kind, account_key, message))

    def close(self) -> None:
        return None


FAKE_TIME_PAUSE_POLL_SECONDS = 30.0


@dataclass
class Env:
    settings: Settings
    engine: Engine
    clock: HookedClock
    platform: ScriptedPlatform
    manager: UploadQueueManager
    notes: Notes

    # -------------------------------------------------------------- queueing

    def add_item(
        self,
        asin: str,
        *,
        images: tuple[str, ...] = TWO_IMAGES,
        priority: int = 5,
        scheduled: datetime | None = None,
        account_id: str = ACCOUNT,
    ) -> int:
        """A product, its listing on the account and a pending queue row."""
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
                        scheduled_time=scheduled or now,
                        priority=priority,
                        **stamps,
                    )
                ).inserted_primary_key[0]
            )

    def add_product(self, asin: str, images: tuple[str, ...] = TWO_IMAGES) -> None:
        """A product with a pending listing not yet given to a shop (for add-to-queue)."""
        now = self.clock.now()
        stamps = {"created_at": now, "updated_at": now}
        with self.engine.begin() as conn:
            conn.execute(
                products.insert().values(
                    asin=asin, title=f"Item {asin}", price=1200, images=json.dumps(images), **stamps
                )
            )
            conn.execute(listings.insert().values(asin=asin, platform=PLATFORM, **stamps))

    # -------------------------------------------------------------- running

    def daemon(
        self,
        identity: Identity | None = None,
        accounts: tuple[str, ...] | None = (ACCOUNT,),  # None: the platform-wide daemon
        **options: Any,
    ) -> UploadDaemon:
        daemon = UploadDaemon(
            self.settings,
            PLATFORM,
            list(accounts) if accounts is not None else None,
            options=DaemonOptions(**options),
            engine=self.engine,
            clock=self.clock,
            adapter=self.platform,
            notifier=self.notes,
            identity=identity or Identity.current(),
        )
        # These tests simulate days of a pause: at the production 0.5 s a paused daemon
        # would read its pause ~350,000 times. How soon a resume takes effect is measured
        # in real time through the CLI (tests/acceptance/test_pause_resume.py).
        daemon.pause_poll_seconds = FAKE_TIME_PAUSE_POLL_SECONDS
        return daemon

    def run(self, daemon: UploadDaemon, until: Callable[[], bool], max_steps: int = 300) -> int:
        """Step until `until()`; the number of steps it took."""
        for steps in range(max_steps):
            if until():
                return steps
            daemon.step()
        raise AssertionError(
            f"not done after {max_steps} steps; clock at {self.clock.now()}, "
            f"queue: {[(r['asin'], r['status'], r['attempts']) for r in self.rows()]}"
        )

    def run_for(self, daemon: UploadDaemon, until: datetime, max_steps: int = 300) -> None:
        self.run(daemon, lambda: self.clock.now() >= until, max_steps)

    # -------------------------------------------------------------- reading

    def rows(self) -> list[RowMapping]:
        with self.engine.connect() as conn:
            query = select(upload_queue).order_by(upload_queue.c.id)
            return list(conn.execute(query).mappings().all())

    def row(self, queue_id: int) -> RowMapping:
        return next(r for r in self.rows() if r["id"] == queue_id)

    def listing_of(self, queue_id: int) -> RowMapping:
        with self.engine.connect() as conn:
            query = select(listings).where(listings.c.id == self.row(queue_id)["listing_id"])
            return conn.execute(query).mappings().one()

    def account(self, account_id: str = ACCOUNT) -> RowMapping:
        with self.engine.connect() as conn:
            query = select(account_state).where(account_state.c.account_id == account_id)
            return conn.execute(query).mappings().one()

    def all_final(self) -> bool:
        return all(r["status"] in ("success", "failed", "cancelled") for r in self.rows())

    def status(self, queue_id: int) -> Callable[[], bool]:
        return lambda: self.row(queue_id)["status"] in ("success", "failed")

    def check_queue(self, status: str) -> list[dict[str, Any]]:
        """What `check-queue --status STATUS --json` shows."""
        items = self.manager.list_items(platform=PLATFORM, status=status, limit=100)
        return [i.to_json() for i in items]


@pytest.fixture
def make_env(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Env]]:
    engines: list[Engine] = []

    def make(
        start: datetime = START,
        latency: float = 0.0,
        overrides: dict[str, Any] | None = None,
        accounts: tuple[str, ...] = (ACCOUNT,),
        **platform: Any,
    ) -> Env:
        settings = settings_from_dict(
            config(tmp_path, database_url, overrides, accounts, **platform),
            tmp_path / "upload-scheduler.toml",
        )
        engine = open_database(settings.database_url)
        engines.append(engine)
        clock = HookedClock(start)
        manager = UploadQueueManager(settings, engine=engine, clock=clock)
        return Env(settings, engine, clock, ScriptedPlatform(clock, latency), manager, Notes())

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()


@contextmanager
def worker_log() -> Iterator[list[str]]:
    """The worker's log messages (INFO and up) while the block runs."""
    logger = logging.getLogger("upload_scheduler.worker")
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(f"{record.levelname} {record.getMessage()}")

    handler = Collect(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def gaps(times: list[datetime]) -> list[timedelta]:
    return [b - a for a, b in pairwise(times)]


def dead_pid() -> int:
    """The PID of a process of this host that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


# ---------------------------------------------------------------------- spacing


@pytest.mark.parametrize(
    ("latency", "expected_gap"),
    [
        # Each item takes 3 calls x 0.3 s = 0.9 s: the daemon waits the other 1.1 s.
        (0.3, INTERVAL),
        # 3 x 1.0 s = 3 s > the interval: the next item starts as soon as one ends,
        # with no fixed sleep after a call.
        (1.0, timedelta(seconds=3)),
    ],
)
def test_items_start_start_to_start_at_the_interval_and_the_daemon_waits_not_spins(
    make_env: Callable[..., Env], latency: float, expected_gap: timedelta
) -> None:
    env = make_env(latency=latency)
    for n in range(6):
        env.add_item(f"B0SPACE{n:03d}")
    daemon = env.daemon()
    daemon.start()

    steps = env.run(daemon, env.all_final)

    starts = env.platform.upload_starts()
    assert len(starts) == 6
    assert [r["status"] for r in env.rows()] == ["success"] * 6
    # After start() the first call waits one interval (restart spacing).
    assert starts[0] == START + INTERVAL
    for gap in gaps(starts):
        assert expected_gap <= gap <= expected_gap + timedelta(milliseconds=1), gaps(starts)
    # Waiting, not spinning: a few steps and at most one real wait per item.
    assert steps <= 2 * 6 + 2
    assert len([w for w in env.clock.waits if w > 0]) <= 6
    # The last start is persisted, so a restart keeps the spacing.
    assert env.account()["last_start_at"] == starts[-1]


def test_spacing_survives_a_restart_through_the_persisted_state(env: Env) -> None:
    first_id = env.add_item("B0RESTA000", images=())
    env.add_item("B0RESTA001", images=())
    first = env.daemon()
    first.start()
    env.run(first, lambda: env.row(first_id)["status"] == "success")
    first.shutdown()
    started = env.platform.upload_starts()[0]

    # A new process starts 0.5 s later: the first call waits min_interval from start().
    env.clock.advance(0.5)
    restarted_at = env.clock.now()
    second = env.daemon()
    second.start()
    env.run(second, env.all_final)

    starts = env.platform.upload_starts()
    assert starts[0] == started
    assert starts[1] == restarted_at + INTERVAL
    assert starts[1] - starts[0] >= INTERVAL


# ---------------------------------------------------------------------- business hours


@pytest.mark.parametrize(
    ("window", "start", "reopens"),
    [
        ((6, 23), tokyo(2026, 1, 5, 22, 57), tokyo(2026, 1, 6, 6, 0)),
        ((22, 2), tokyo(2026, 1, 6, 1, 57), tokyo(2026, 1, 6, 22, 0)),
    ],
)
def test_no_call_starts_outside_business_hours(
    make_env: Callable[..., Env],
    window: tuple[int, int],
    start: datetime,
    reopens: datetime,
) -> None:
    env = make_env(start=start, latency=0.3, min_interval_seconds=30.0)
    for n in range(8):
        env.add_item(f"B0HOURS{n:03d}")
    daemon = env.daemon(
        business_hours_start=window[0], business_hours_end=window[1], interval_seconds=600
    )
    daemon.start()

    env.run(daemon, env.all_final)

    calls = [c.at for c in env.platform.calls]
    assert len(env.platform.uploads()) == 8
    for moment in calls:
        assert in_business_hours(moment, *window, TOKYO), moment.astimezone(TOKYO)
    starts = env.platform.upload_starts()
    # 22:57:30 .. 22:59:30 before closing (or 01:57:30 .. 01:59:30), the rest at the
    # opening, exactly.
    before = [s for s in starts if s < reopens]
    after = [s for s in starts if s >= reopens]
    assert len(before) == 5
    assert after[0] == reopens
    assert gaps(after) == [timedelta(seconds=30)] * 2


def test_business_hours_apply_in_the_accounts_own_zone(make_env: Callable[..., Env]) -> None:
    # The account's zone is New York; the flags give it 9-17 there. 13:00 UTC is 08:00.
    env = make_env(
        start=datetime(2026, 1, 5, 13, 0, tzinfo=UTC), overrides={"timezone": "America/New_York"}
    )
    env.add_item("B0ZONE0001", images=())
    daemon = env.daemon(business_hours_start=9, business_hours_end=17, interval_seconds=600)
    daemon.start()

    env.run(daemon, env.all_final)

    assert env.platform.upload_starts() == [datetime(2026, 1, 5, 14, 0, tzinfo=UTC)]


# ---------------------------------------------------------------------- budgets


# With spacing one item starts at a time; without, a cycle claims a burst, which must
# admit exactly as much (tests/integration/test_bursts.py has the rest of the bursts).
SPACED_OR_BURST = pytest.mark.parametrize(
    "spacing", [INTERVAL.total_seconds(), 0.0], ids=["spaced", "burst"]
)


@SPACED_OR_BURST
def test_hour_budget_with_images_allows_exactly_three_items_per_clock_hour(
    make_env: Callable[..., Env], spacing: float
) -> None:
    env = make_env(hour_call_limit=10, min_interval_seconds=spacing)
    for n in range(10):
        env.add_item(f"B0BUDGT{n:03d}")  # 1 + 2 images = 3 calls
    daemon = env.daemon(interval_seconds=600)
    daemon.start()

    env.run(daemon, env.all_final)

    starts = env.platform.upload_starts()
    per_hour = Counter(hour_of(s) for s in starts)
    assert list(per_hour.values()) == [3, 3, 3, 1]
    calls_per_hour = Counter()
    for call in env.platform.calls:
        calls_per_hour[hour_of(call.at)] += call.calls
    assert max(calls_per_hour.values()) <= 10
    # An item that would cross the budget starts at the next clock hour, exactly.
    hours = sorted(per_hour)
    for hour in hours[1:]:
        assert min(s for s in starts if hour_of(s) == hour) == hour
    assert [r["status"] for r in env.rows()] == ["success"] * 10
    assert env.account()["hour_calls"] == 3  # the last hour's one item, as reserved


@SPACED_OR_BURST
def test_daily_creation_limit_resumes_at_the_next_local_day(
    make_env: Callable[..., Env], spacing: float
) -> None:
    env = make_env(daily_limit=2, min_interval_seconds=spacing)
    for n in range(3):
        env.add_item(f"B0DAILY{n:03d}", images=())
    daemon = env.daemon(interval_seconds=3600)
    daemon.start()

    env.run(daemon, env.all_final)

    starts = env.platform.upload_starts()
    assert [s.astimezone(TOKYO).date().day for s in starts] == [5, 5, 6]
    assert starts[2] == tokyo(2026, 1, 6, 6, 0)  # the next local day's opening


# ---------------------------------------------------------------------- retries


def test_transient_errors_retry_after_the_delay_then_fail_with_the_last_error(
    env: Env,
) -> None:
    queue_id = env.add_item("B0TRANS001")
    env.platform.script(
        "B0TRANS001",
        Fail(Transient("HTTP 500 (first)")),
        Fail(Transient("HTTP 502 (second)")),
        Fail(Transient("HTTP 503 (third)")),
    )
    daemon = env.daemon()
    daemon.start()

    with worker_log() as log:
        env.run(daemon, env.status(queue_id))

    starts = env.platform.upload_starts()
    assert len(starts) == 3
    assert gaps(starts) == [RETRY_DELAY, RETRY_DELAY]
    [failed] = env.check_queue("failed")
    assert failed["asin"] == "B0TRANS001"
    assert failed["attempts"] == 3
    assert failed["error_message"] == "HTTP 503 (third)"
    assert env.listing_of(queue_id)["status"] == "failed"
    assert env.platform.creations() == []
    # One line per upload, with the ASIN, the result, the error, the attempt and calls.
    uploads = [m for m in log if "B0TRANS001" in m and "upload" in m]
    assert len(uploads) == 3
    assert "attempt 1" in uploads[0] and "HTTP 500 (first)" in uploads[0]
    assert "attempt 3" in uploads[2] and "HTTP 503 (third)" in uploads[2]
    assert all("call(s)" in m for m in uploads)
    assert uploads[2].startswith("ERROR") and "failed" in uploads[2]


def test_a_transient_error_then_success_succeeds_on_the_retry(env: Env) -> None:
    queue_id = env.add_item("B0TRANS002")
    env.platform.script("B0TRANS002", Fail(Transient("timeout")))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.status(queue_id))

    row = env.row(queue_id)
    assert row["status"] == "success"
    assert row["attempts"] == 2
    assert row["error_message"] is None
    assert len(env.platform.creations("B0TRANS002")) == 1


def test_a_retry_is_rescheduled_and_does_not_block_other_due_items(env: Env) -> None:
    failing = env.add_item("B0RETRY001")
    other = env.add_item("B0RETRY002")
    env.platform.script("B0RETRY001", Fail(Transient("HTTP 500")))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.all_final)

    assert [(c.asin, c.at - START) for c in env.platform.uploads()] == [
        ("B0RETRY001", INTERVAL),
        ("B0RETRY002", 2 * INTERVAL),  # while the first waits for its retry
        ("B0RETRY001", INTERVAL + RETRY_DELAY),
    ]
    assert env.row(failing)["status"] == env.row(other)["status"] == "success"


def test_a_permanent_error_fails_at_once_with_the_platforms_message(env: Env) -> None:
    queue_id = env.add_item("B0PERMA001")
    env.platform.script("B0PERMA001", Fail(Permanent("validation_error: タイトルが不正です")))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.status(queue_id))

    assert len(env.platform.uploads()) == 1
    [failed] = env.check_queue("failed")
    assert failed["attempts"] == 1
    assert failed["error_message"] == "validation_error: タイトルが不正です"
    assert env.notes.sent == [
        ("item_failed", f"{PLATFORM}/{ACCOUNT}", "B0PERMA001: validation_error: タイトルが不正です")
    ]


# ---------------------------------------------------------------------- pauses


def test_rate_limited_spends_no_attempt_and_pauses_the_account_until_the_given_time(
    env: Env,
) -> None:
    first = env.add_item("B0RATEL001")
    second = env.add_item("B0RATEL002")
    until = START + timedelta(minutes=30)
    env.platform.script("B0RATEL001", Fail(RateLimited("hour_api_limit", until)))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, lambda: len(env.platform.uploads()) == 1)
    daemon.step()  # the daemon now waits for the pause

    row = env.row(first)
    assert row["status"] == "pending"
    assert row["attempts"] == 0
    account = env.account()
    assert account["paused_until"] == until
    assert "rate limit" in account["pause_reason"]
    assert "hour_api_limit" in account["pause_reason"]
    [(kind, key, _)] = env.notes.sent
    assert (kind, key) == ("account_paused", f"{PLATFORM}/{ACCOUNT}")

    env.run(daemon, env.all_final)

    uploads = env.platform.uploads()
    assert sorted(c.asin for c in uploads) == ["B0RATEL001", "B0RATEL001", "B0RATEL002"]
    assert uploads[1].at == until  # nothing in between, and no time lost after it
    assert uploads[2].at == until + INTERVAL
    assert env.row(first)["attempts"] == 1
    assert env.row(second)["status"] == "success"
    env.clock.advance(60)
    daemon.step()  # housekeeping clears the pause that has ended
    assert env.account()["pause_reason"] is None


def test_auth_expired_pauses_the_account_with_no_end(env: Env) -> None:
    queue_id = env.add_item("B0AUTHX001")
    env.add_item("B0AUTHX002")
    env.platform.script("B0AUTHX001", Fail(AuthExpired("アクセストークンが無効です。")))
    daemon = env.daemon(interval_seconds=3600)
    daemon.start()

    env.run(daemon, lambda: len(env.platform.uploads()) == 1)
    env.run_for(daemon, START + timedelta(days=2))

    assert len(env.platform.uploads()) == 1  # still paused two days later
    account = env.account()
    assert account["paused_until"] is None
    assert account["pause_reason"].startswith("auth")
    row = env.row(queue_id)
    assert row["status"] == "pending"
    assert row["attempts"] == 0
    assert env.check_queue("failed") == []


def test_quota_exhausted_keeps_the_item_pending_until_the_quota_returns(env: Env) -> None:
    queue_id = env.add_item("B0QUOTA001")
    midnight = tokyo(2026, 1, 6, 0, 0)
    env.platform.script("B0QUOTA001", Fail(QuotaExhausted("daily item limit", midnight)))
    daemon = env.daemon(interval_seconds=3600)
    daemon.start()

    env.run(daemon, lambda: len(env.platform.uploads()) == 1)
    daemon.step()

    row = env.row(queue_id)
    assert row["status"] == "pending"
    assert row["attempts"] == 0
    assert env.account()["paused_until"] == midnight
    assert env.account()["pause_reason"].startswith("quota")

    env.run(daemon, env.status(queue_id))

    uploads = env.platform.uploads()
    assert len(uploads) == 2
    # The quota returns at midnight, the window at 06:00.
    assert uploads[1].at == tokyo(2026, 1, 6, 6, 0)
    assert env.row(queue_id)["status"] == "success"
    assert env.row(queue_id)["attempts"] == 1


def test_a_rate_limit_on_an_image_pauses_the_account_and_spends_no_attempt(
    env: Env,
) -> None:
    """The old system's incident: image calls hit hour_api_limit, the retries burned out
    and whole batches were marked failed. The platform said when to come back."""
    queue_id = env.add_item("B0IMGRL001", images=THREE_IMAGES)
    next_hour = hour_of(START) + timedelta(hours=1)
    limit = RateLimited("hour_api_limit", next_hour)
    env.platform.script(
        "B0IMGRL001",
        ImageFails(1, limit),
        ImageFails(1, limit),
        ImageFails(1, limit),
    )
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, lambda: len(env.platform.uploads()) == 1)
    daemon.step()

    row = env.row(queue_id)
    assert row["status"] == "pending"
    assert row["platform_item_id"] == "item-1"
    assert row["attempts"] == 0, "a rate limit must not spend an attempt"
    assert env.account()["paused_until"] == next_hour

    env.run(daemon, env.status(queue_id), max_steps=600)

    assert all(c.at >= next_hour for c in env.platform.uploads()[1:])
    assert len(env.platform.creations("B0IMGRL001")) == 1
    assert env.row(queue_id)["status"] == "success"


# ---------------------------------------------------------------------- partial uploads


def test_a_partial_upload_keeps_the_item_and_retries_only_the_missing_images(env: Env) -> None:
    queue_id = env.add_item("B0PARTI001", images=THREE_IMAGES)
    env.platform.script("B0PARTI001", ImageFails(1))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, lambda: len(env.platform.uploads()) == 1)
    row = env.row(queue_id)
    assert row["status"] == "pending"
    assert row["platform_item_id"] == "item-1"
    assert row["images_done"] == 1
    assert row["error_message"].startswith("2 of 3 images missing")

    env.run(daemon, env.status(queue_id))

    first, retry = env.platform.uploads()
    assert (first.platform_item_id, first.images_done) == (None, 0)
    assert (retry.platform_item_id, retry.images_done) == ("item-1", 1)
    assert retry.calls == 2  # the two missing images, no creation
    assert retry.at == first.at + RETRY_DELAY
    [item] = env.platform.creations()
    assert item.images == 3
    row = env.row(queue_id)
    assert (row["status"], row["platform_item_id"], row["images_done"]) == ("success", "item-1", 3)
    assert env.listing_of(queue_id)["platform_item_id"] == "item-1"


def test_images_still_missing_after_the_last_attempt_fail_with_the_count_and_the_id(
    env: Env,
) -> None:
    queue_id = env.add_item("B0PARTI002", images=THREE_IMAGES)
    env.platform.script("B0PARTI002", ImageFails(1), ImageFails(1), ImageFails(2))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.status(queue_id))

    [failed] = env.check_queue("failed")
    assert failed["attempts"] == 3
    assert failed["error_message"].startswith("1 of 3 images missing")
    row = env.row(queue_id)
    assert row["platform_item_id"] == "item-1"
    assert row["images_done"] == 2
    assert env.listing_of(queue_id)["platform_item_id"] == "item-1"
    assert [c.platform_item_id for c in env.platform.uploads()] == [None, "item-1", "item-1"]
    assert len(env.platform.creations()) == 1

    # `queue requeue` then retries only the images.
    assert env.manager.requeue_failed([queue_id]) == 1
    env.run(daemon, env.status(queue_id))

    last = env.platform.uploads()[-1]
    assert (last.platform_item_id, last.images_done, last.calls) == ("item-1", 2, 1)
    assert env.row(queue_id)["status"] == "success"
    [item] = env.platform.creations()
    assert item.images == 3


# ---------------------------------------------------------------------- lost responses


def test_a_lost_response_is_looked_up_and_never_created_twice(env: Env) -> None:
    queue_id = env.add_item("B0LOSTR001")
    env.platform.script("B0LOSTR001", LoseResponse())
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.status(queue_id))

    kinds = [(c.kind, c.outcome) for c in env.platform.calls]
    assert kinds == [("upload", "lost"), ("find", "found")]
    [item] = env.platform.creations("B0LOSTR001")
    row = env.row(queue_id)
    assert row["status"] == "success"
    assert row["platform_item_id"] == item.platform_item_id
    assert row["attempts"] == 2
    assert env.platform.calls[1].at == env.platform.calls[0].at + RETRY_DELAY


def test_a_lookup_that_fails_keeps_the_item_marked_for_lookup(env: Env) -> None:
    """After a lost response, the lookup itself times out: the next attempt must still
    look the item up, not create it again."""
    queue_id = env.add_item("B0LOSTR002")
    env.platform.script("B0LOSTR002", LoseResponse())
    env.platform.script_find("B0LOSTR002", Transient("timeout while listing items"))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.status(queue_id))

    assert len(env.platform.creations("B0LOSTR002")) == 1, env.platform.calls
    row = env.row(queue_id)
    assert row["status"] == "success"
    assert row["platform_item_id"] == env.platform.creations("B0LOSTR002")[0].platform_item_id


# ---------------------------------------------------------------------- crash recovery


def leave_uploading(env: Env, queue_id: int, owner: str = OTHER_OWNER) -> None:
    """What a worker killed during the call leaves behind."""
    started = env.clock.now() - timedelta(seconds=40)
    with env.engine.begin() as conn:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == queue_id)
            .values(
                status="uploading",
                lease_owner=owner,
                lease_expires_at=started + timedelta(seconds=30),
                attempts=1,
                call_started_at=started,
            )
        )


def test_recovery_returns_a_dead_workers_item_and_looks_it_up_before_creating(
    env: Env,
) -> None:
    queue_id = env.add_item("B0CRASH001")
    leave_uploading(env, queue_id)
    existing = env.platform.already_created("B0CRASH001", ACCOUNT, images=1)
    daemon = env.daemon()

    assert daemon.recover() == 1
    row = env.row(queue_id)
    assert row["status"] == "pending"
    assert row["lease_owner"] is None
    assert row["call_started_at"] is not None  # so the next attempt looks it up

    daemon.start()
    env.run(daemon, env.status(queue_id))

    find, upload = env.platform.calls
    assert (find.kind, find.outcome, find.at) == ("find", "found", START + INTERVAL)
    assert (upload.platform_item_id, upload.images_done) == (existing.platform_item_id, 1)
    assert len(env.platform.creations("B0CRASH001")) == 1
    assert existing.images == 2  # the missing image was added
    row = env.row(queue_id)
    assert (row["status"], row["platform_item_id"]) == ("success", existing.platform_item_id)


def test_recovery_of_an_item_that_never_reached_the_platform_creates_it_once(
    env: Env,
) -> None:
    queue_id = env.add_item("B0CRASH002")
    leave_uploading(env, queue_id)
    daemon = env.daemon()
    daemon.start()  # start() recovers too

    env.run(daemon, env.status(queue_id))

    assert [(c.kind, c.outcome) for c in env.platform.calls] == [
        ("find", "none"),
        ("upload", "ok"),
    ]
    assert len(env.platform.creations("B0CRASH002")) == 1
    assert env.row(queue_id)["status"] == "success"


def test_a_recovered_item_whose_image_retry_fails_is_not_created_again(env: Env) -> None:
    """The lookup finds the item; adding its missing image then fails (a 502). The id
    found must be kept: the next attempt adds the image, it does not create the item."""
    queue_id = env.add_item("B0CRASH003")
    leave_uploading(env, queue_id)
    existing = env.platform.already_created("B0CRASH003", ACCOUNT, images=1)
    env.platform.script("B0CRASH003", Fail(Transient("HTTP 502")))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.status(queue_id))

    assert len(env.platform.creations("B0CRASH003")) == 1, env.platform.calls
    row = env.row(queue_id)
    assert (row["status"], row["platform_item_id"]) == ("success", existing.platform_item_id)


def test_recovery_leaves_our_own_items_alone(env: Env) -> None:
    queue_id = env.add_item("B0CRASH004")
    daemon = env.daemon()
    leave_uploading(env, queue_id, owner=daemon.identity.owner)

    assert daemon.recover() == 0
    assert env.row(queue_id)["status"] == "uploading"


# ---------------------------------------------------------------------- one worker


def hold_lease(env: Env, host: str, pid: int, owner: str, expires: datetime) -> None:
    with env.engine.begin() as conn:
        conn.execute(
            account_state.insert().values(
                platform=PLATFORM,
                account_id=ACCOUNT,
                lease_owner=owner,
                lease_host=host,
                lease_pid=pid,
                lease_expires_at=expires,
            )
        )


def test_a_second_daemon_for_the_account_is_refused_naming_the_first(env: Env) -> None:
    first = env.daemon()
    first.start()
    other = Identity(first.identity.host, first.identity.pid, "same-host:other-run")

    with pytest.raises(AlreadyRunning) as refused:
        env.daemon(identity=other).start()

    message = str(refused.value)
    assert f"PID {first.identity.pid}" in message
    assert first.identity.host in message
    assert env.account()["lease_owner"] == first.identity.owner


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(env: Env) -> None:
    pid = dead_pid()
    hold_lease(env, host_id(), pid, f"{host_id()}:{pid}:1.00:cafe", START + timedelta(hours=1))

    daemon = env.daemon()
    daemon.start()

    assert env.account()["lease_owner"] == daemon.identity.owner


def test_a_lease_of_another_host_is_taken_over_only_once_it_expired(env: Env) -> None:
    hold_lease(env, "other-host", 4242, OTHER_OWNER, START + timedelta(seconds=30))

    with pytest.raises(AlreadyRunning, match="PID 4242 on host other-host"):
        env.daemon().start()

    env.clock.advance(30)
    daemon = env.daemon()
    daemon.start()
    assert env.account()["lease_owner"] == daemon.identity.owner


def test_shutdown_releases_the_lease_and_closes_the_platform(env: Env) -> None:
    daemon = env.daemon()
    daemon.start()
    daemon.shutdown()

    assert env.account()["lease_owner"] is None
    assert env.platform.closed
    env.daemon().start()  # a new worker starts at once


# ---------------------------------------------------------------------- wake-up, priority


def test_an_urgent_item_added_while_idle_starts_within_a_second(env: Env) -> None:
    env.add_item("B0LATER001", scheduled=START + timedelta(hours=3))
    env.add_product("B0URGENT01")
    added_at = START + timedelta(seconds=10, milliseconds=130)

    def add_urgent() -> None:
        env.manager.add_to_queue("B0URGENT01", PLATFORM, account_id=ACCOUNT, priority=20)

    env.clock.at(added_at, add_urgent)
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, lambda: len(env.platform.uploads()) == 1)

    [urgent] = env.platform.uploads()
    assert urgent.asin == "B0URGENT01"
    assert added_at <= urgent.at <= added_at + timedelta(seconds=1)


def test_an_urgent_item_added_while_waiting_overtakes_an_overdue_backlog(env: Env) -> None:
    # 05:00 in Tokyo: the window opens at 06:00; the backlog has been due since 04:00.
    env.clock.set(tokyo(2026, 1, 5, 5, 0))
    for n in range(3):
        env.add_item(f"B0BACKL{n:03d}", scheduled=tokyo(2026, 1, 5, 4, 0))
    env.add_product("B0URGENT02")

    def add_urgent() -> None:
        env.manager.add_to_queue("B0URGENT02", PLATFORM, account_id=ACCOUNT, priority=20)

    env.clock.at(tokyo(2026, 1, 5, 5, 30), add_urgent)
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.all_final)

    uploads = env.platform.uploads()
    assert [c.asin for c in uploads] == ["B0URGENT02", "B0BACKL000", "B0BACKL001", "B0BACKL002"]
    assert uploads[0].at == tokyo(2026, 1, 5, 6, 0)


# ---------------------------------------------------------------------- more paths


def test_a_permanent_image_error_fails_the_item_at_once_keeping_its_id(env: Env) -> None:
    queue_id = env.add_item("B0PERMI001", images=THREE_IMAGES)
    env.platform.script("B0PERMI001", ImageFails(1, Permanent("no_image")))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.status(queue_id))

    assert len(env.platform.uploads()) == 1
    row = env.row(queue_id)
    assert row["status"] == "failed"
    assert row["error_message"] == "2 of 3 images missing: no_image"
    assert row["platform_item_id"] == "item-1"


def test_an_item_cancelled_while_the_daemon_waits_is_never_uploaded(env: Env) -> None:
    # The window is closed until 06:00; the user cancels one item at 05:30.
    env.clock.set(tokyo(2026, 1, 5, 5, 0))
    cancelled = env.add_item("B0CANCL001")
    kept = env.add_item("B0CANCL002")
    env.clock.at(tokyo(2026, 1, 5, 5, 30), lambda: env.manager.cancel([cancelled]))
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, lambda: env.row(kept)["status"] == "success")

    assert [c.asin for c in env.platform.uploads()] == ["B0CANCL002"]
    assert env.row(cancelled)["status"] == "cancelled"


def test_stop_during_an_upload_finishes_that_item_then_run_returns(env: Env) -> None:
    for n in range(4):
        env.add_item(f"B0STOPS{n:03d}")
    daemon = env.daemon()

    def stop_on_second(asin: str) -> None:
        if asin == "B0STOPS001":
            daemon.stop()  # what the first SIGTERM's handler does

    env.platform.on_upload = stop_on_second
    daemon.run()  # returns: the loop ends after the current item

    assert [r["status"] for r in env.rows()] == ["success", "success", "pending", "pending"]
    assert env.account()["lease_owner"] is None
    assert env.platform.closed


def test_a_daemon_that_lost_its_lease_stops(env: Env) -> None:
    daemon = env.daemon()
    daemon.start()
    with env.engine.begin() as conn:
        conn.execute(update(account_state).values(lease_owner=OTHER_OWNER))

    daemon.renew_leases()

    assert daemon.lease_lost.is_set()
    assert daemon.stop_event.is_set()


def test_the_platform_daemon_serves_every_account_within_each_accounts_limits(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(accounts=(ACCOUNT, "acct_2"))
    for n in range(3):
        env.add_item(f"B0PLAT1{n:03d}", account_id=ACCOUNT)
        env.add_item(f"B0PLAT2{n:03d}", account_id="acct_2")
    daemon = env.daemon(accounts=None)
    daemon.start()

    env.run(daemon, env.all_final)

    for account_id in (ACCOUNT, "acct_2"):
        starts = [c.at for c in env.platform.uploads() if c.account_id == account_id]
        assert len(starts) == 3
        assert all(gap >= INTERVAL for gap in gaps(starts)), gaps(starts)
    # The accounts do not wait for each other: all six are done within three intervals.
    assert max(env.platform.upload_starts()) <= START + 3 * INTERVAL + timedelta(seconds=1)


def test_the_seed_class_applies_its_arguments_and_runs_until_stopped(
    make_env: Callable[..., Env],
) -> None:
    """`UploadSchedulerAccountDaemon(platform, account_id, interval_seconds, batch_size,
    business_hours_start, business_hours_end)` with run() and stop(), on the real clock
    and the file-backed fake platform."""
    env = make_env(min_interval_seconds=0.05)
    queue_id = env.add_item("B0SEEDCL01", images=())
    seed = UploadSchedulerAccountDaemon(PLATFORM, ACCOUNT, 0.5, 3, 0, 24, config=env.settings)
    settings = seed.daemon.accounts[ACCOUNT]
    assert (settings.interval_seconds, settings.batch_size) == (0.5, 3)
    assert (settings.business_hours_start, settings.business_hours_end) == (0, 24)

    def stop_when_done() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and env.row(queue_id)["status"] != "success":
            time.sleep(0.02)
        seed.stop()

    stopper = threading.Thread(target=stop_when_done)
    stopper.start()
    try:
        seed.run()
    finally:
        stopper.join(timeout=30)
        seed.daemon.engine.dispose()

    assert env.row(queue_id)["status"] == "success"
    assert env.account()["lease_owner"] is None
