"""Helpers for the queue integration tests: a real database (SQLite file or PostgreSQL,
from the `database_url` fixture), real settings, a fake clock.

Products and listings are inserted with SQLAlchemy Core, as an import would leave them,
so these tests depend on the queue layer and the schema only.
"""

from __future__ import annotations

import multiprocessing.queues
import multiprocessing.synchronize
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, RowMapping, select
from sqlalchemy.engine import make_url

from upload_scheduler.clock import FakeClock
from upload_scheduler.config import Settings, load_settings, settings_from_dict
from upload_scheduler.queue import transitions
from upload_scheduler.queue.manager import UploadQueueManager
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import listings, products, upload_queue

PLATFORM = "base"
ACCOUNT_1 = "base_account_1"
ACCOUNT_2 = "base_account_2"
ACCOUNTS = (ACCOUNT_1, ACCOUNT_2)
TOKYO = ZoneInfo("Asia/Tokyo")
# Monday 2026-01-05 09:00 in Tokyo: inside the default 06:00-23:00 window, so "tomorrow"
# is 2026-01-06 local.
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def config_dict(database_url: str, **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "database": database_url,
        "accounts": {PLATFORM: list(ACCOUNTS)},
    }
    raw.update(extra)
    return raw


def make_settings(tmp_path: Path, database_url: str, **extra: Any) -> Settings:
    return settings_from_dict(
        config_dict(database_url, **extra), tmp_path / "upload-scheduler.toml"
    )


@dataclass
class QueueEnv:
    """One queue on one database, driven by a fake clock."""

    settings: Settings
    engine: Engine
    clock: FakeClock
    manager: UploadQueueManager

    def other_manager(self) -> UploadQueueManager:
        """A second manager on the same file with its own engine (as another worker)."""
        engine = open_database(self.settings.database_url)
        return UploadQueueManager(self.settings, engine=engine, clock=self.clock)

    # -------------------------------------------------------------- inventory

    def add_product(
        self,
        asin: str,
        *,
        listing_accounts: Iterable[str | None] = (None,),
        listing_status: str = "pending",
    ) -> list[int]:
        """A product and one listing per given account (None: not yet given to a shop)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            conn.execute(
                products.insert().values(
                    asin=asin, title=f"Product {asin}", price=1000, created_at=now, updated_at=now
                )
            )
        return [
            self.add_listing(asin, account_id=account, status=listing_status)
            for account in listing_accounts
        ]

    def add_products(self, asins: Sequence[str]) -> None:
        """Many products, each with one unassigned pending listing, in one transaction."""
        now = self.clock.now()
        stamps = {"created_at": now, "updated_at": now}
        with self.engine.begin() as conn:
            conn.execute(
                products.insert(),
                [{"asin": a, "title": f"Product {a}", "price": 1000, **stamps} for a in asins],
            )
            conn.execute(
                listings.insert(),
                [{"asin": a, "platform": PLATFORM, "status": "pending", **stamps} for a in asins],
            )

    def add_listing(
        self,
        asin: str,
        *,
        account_id: str | None = None,
        status: str = "pending",
        platform: str = PLATFORM,
    ) -> int:
        now = self.clock.now()
        with self.engine.begin() as conn:
            result = conn.execute(
                listings.insert().values(
                    asin=asin,
                    platform=platform,
                    account_id=account_id,
                    status=status,
                    created_at=now,
                    updated_at=now,
                )
            )
            return int(result.inserted_primary_key[0])

    # -------------------------------------------------------------- reading rows

    def listings_of(self, asin: str) -> list[RowMapping]:
        with self.engine.connect() as conn:
            query = select(listings).where(listings.c.asin == asin).order_by(listings.c.id)
            return list(conn.execute(query).mappings().all())

    def listing(self, listing_id: int) -> RowMapping:
        with self.engine.connect() as conn:
            query = select(listings).where(listings.c.id == listing_id)
            return conn.execute(query).mappings().one()

    def queue_rows(self, asin: str | None = None, status: str | None = None) -> list[RowMapping]:
        query = select(upload_queue).order_by(upload_queue.c.id)
        if asin is not None:
            query = query.where(upload_queue.c.asin == asin)
        if status is not None:
            query = query.where(upload_queue.c.status == status)
        with self.engine.connect() as conn:
            return list(conn.execute(query).mappings().all())

    def queue_row(self, queue_id: int) -> RowMapping:
        with self.engine.connect() as conn:
            query = select(upload_queue).where(upload_queue.c.id == queue_id)
            return conn.execute(query).mappings().one()

    def active_rows(self) -> list[RowMapping]:
        return [r for r in self.queue_rows() if r["status"] in ("pending", "uploading")]


def open_queue(tmp_path: Path, database_url: str, **config: Any) -> QueueEnv:
    settings = make_settings(tmp_path, database_url, **config)
    engine = open_database(settings.database_url)
    clock = FakeClock(START)
    manager = UploadQueueManager(settings, engine=engine, clock=clock)
    return QueueEnv(settings, engine, clock, manager)


def run_plain_script(database_url: str, sql: str) -> None:
    """Run `sql` as an operator's script would: the bare driver, none of our settings
    (on SQLite that means foreign keys off)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        script = sqlite3.connect(url.database)
        try:
            with script:
                script.execute(sql)
        finally:
            script.close()
        return
    import psycopg

    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn:
        conn.execute(sql.encode())


def asins_for(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:05d}" for n in range(count)]


def local(moment: datetime) -> datetime:
    return moment.astimezone(TOKYO)


# ------------------------------------------------------------------ other processes


def add_to_queue_in_process(
    config_path: str,
    asins: list[str],
    start: str,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[dict[str, int | None]],
) -> None:
    """Run by a spawned process: add every asin, one add-to-queue call each, as a second
    operator's terminal would, and report the queue id each call returned."""
    settings = load_settings(config_path)
    engine = open_database(settings.database_url)
    try:
        clock = FakeClock(datetime.fromisoformat(start))
        manager = UploadQueueManager(settings, engine=engine, clock=clock)
        barrier.wait(timeout=60)
        results.put({asin: manager.add_to_queue(asin, PLATFORM) for asin in asins})
    finally:
        engine.dispose()


def claim_due(
    engine: Engine,
    platform: str,
    account_id: str | None,
    limit: int,
    *,
    owner: str,
    lease_seconds: float,
    now: datetime,
) -> list[QueueItem]:
    """The daemon's own claim (worker/daemon.py `_choose` and `_claim`, without the
    limits): an account's due items read in the one due order, then claimed in a write
    transaction by `transitions.claim`, whose `status = 'pending'` guard is what keeps two
    workers off one row. With no account, each of the platform's accounts in turn."""
    with engine.connect() as conn:
        accounts = (
            [account_id]
            if account_id is not None
            else list(
                conn.execute(
                    select(upload_queue.c.account_id)
                    .where(upload_queue.c.platform == platform)
                    .distinct()
                    .order_by(upload_queue.c.account_id)
                ).scalars()
            )
        )
    taken: list[QueueItem] = []
    for account in accounts:
        with engine.connect() as conn:
            due = transitions.due_candidates(conn, platform, account, now, limit - len(taken))
        if not due:
            continue
        with write_transaction(engine) as conn:
            claimed = transitions.claim(
                conn, due, owner, now + timedelta(seconds=lease_seconds), now
            )
        taken += [claimed[c.item.id] for c in due if c.item.id in claimed]
        if len(taken) >= limit:
            break
    return taken
