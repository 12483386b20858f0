"""PostgreSQL wakes idle daemons (issue 8): a row that becomes due-able is announced by
the database itself (migration 0006), so an urgent item added from any connection
reaches the right daemon at once, not at its next poll."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from tests.backends import postgres_only
from upload_scheduler.clock import SystemClock
from upload_scheduler.config import settings_from_dict
from upload_scheduler.queue.manager import UploadQueueManager
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products, upload_queue
from upload_scheduler.worker import daemon as daemon_module
from upload_scheduler.worker.daemon import UploadDaemon
from upload_scheduler.worker.wakeup import DueListener

pytestmark = postgres_only

PLATFORM = "fake"
ACCOUNTS = ("shop_1", "shop_2")


def _settings(tmp_path: Path, database_url: str, accounts: tuple[str, ...] = ACCOUNTS):  # type: ignore[no-untyped-def]
    raw = {
        "database": database_url,
        "log_dir": str(tmp_path / "logs"),
        "accounts": {PLATFORM: list(accounts)},
        "daemon": {"interval_seconds": 60.0, "business_hours_start": 0, "business_hours_end": 24},
        "platforms": {
            PLATFORM: {"api_base_url": f"fake:{tmp_path / 'items.db'}", "min_interval_seconds": 0}
        },
    }
    return settings_from_dict(raw, tmp_path / "upload-scheduler.toml")


def _product(engine: Engine, asin: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            products.insert().values(
                asin=asin, title=f"item {asin}", price=1000, created_at=now, updated_at=now
            )
        )
        conn.execute(
            listings.insert().values(asin=asin, platform=PLATFORM, created_at=now, updated_at=now)
        )


def test_the_listener_hears_its_own_accounts_only(database_url: str) -> None:
    engine = open_database(database_url)
    listener = DueListener(engine, PLATFORM, ["shop_1"])
    try:
        assert listener.wait(0.1) is True  # first connection: look at the queue once
        assert listener.wait(0.2) is False  # nothing happened
        _product(engine, "B0OTHER001")
        _product(engine, "B0MINE0001")
        manager = UploadQueueManager(_settings(Path("."), database_url), engine=engine)
        manager.add_to_queue("B0OTHER001", PLATFORM, account_id="shop_2")
        assert listener.wait(0.3) is False  # another account's item
        manager.add_to_queue("B0MINE0001", PLATFORM, account_id="shop_1")
        assert listener.wait(2.0) is True
        # Claiming (pending -> uploading) announces nothing; a retry (-> pending) does.
        with engine.begin() as conn:
            conn.execute(update(upload_queue).values(status="uploading"))
        assert listener.wait(0.3) is False
        with engine.begin() as conn:
            conn.execute(update(upload_queue).values(status="pending"))
        assert listener.wait(2.0) is True
    finally:
        listener.close()
        engine.dispose()


def test_an_urgent_item_wakes_an_idle_daemon_at_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polling is made useless (a minute) so only the notification can wake the daemon.
    monkeypatch.setattr(daemon_module, "WAKE_POLL_SECONDS", 60.0)
    settings = _settings(tmp_path, database_url, ("shop_1",))
    engine = open_database(database_url)
    _product(engine, "B0URGENT01")
    worker = UploadDaemon(settings, PLATFORM, ["shop_1"], engine=engine, clock=SystemClock())
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # let it start, find nothing, and go idle
        writer = open_database(database_url)
        added_at = time.monotonic()
        UploadQueueManager(settings, engine=writer).add_to_queue(
            "B0URGENT01", PLATFORM, account_id="shop_1", priority=20
        )
        writer.dispose()
        deadline = added_at + 5
        while worker.uploaded == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        latency = time.monotonic() - added_at
        assert worker.uploaded == 1, "the daemon was not woken"
        assert latency < 1.0, latency
    finally:
        worker.stop()
        thread.join(timeout=10)
        engine.dispose()
    assert not thread.is_alive()
