"""Our queue end to end beside Huey's `SqliteHuey`, in the same run, on the same disk;
and the same job through PostgreSQL beside Huey's `PostgresHuey` (vs_huey_pg).

Ours: `add_batch_to_queue` of N items (one bulk enqueue), then one `UploadDaemon` (the
product's worker loop: pick, admit, claim with a lease, upload, complete; usage counters
and the listing change with it) with a no-op platform and no pacing (limits off), until
the queue is empty. Huey: N `enqueue`s of a no-op task, then a consumer with 1 thread
worker until the last task has run. Both from the first enqueue to the last completion.
SQLite: both with `synchronous = NORMAL` (the product's setting) and WAL. PostgreSQL: one
server for both, each in a database of its own created for the run and dropped after it.

Run: `python bench/vs_huey.py [--jobs 20000] [--workdir DIR] [--postgres-url URL]`
(with --postgres-url, the PostgreSQL comparison instead of the SQLite one).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from harness import phase
from upload_scheduler import UploadQueueManager
from upload_scheduler.config import settings_from_dict
from upload_scheduler.platforms.interface import (
    Account,
    ExistingItem,
    Product,
    UploadResult,
)
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products, upload_queue
from upload_scheduler.worker.daemon import UploadDaemon

# Items claimed per cycle ([daemon] batch_size, default 10): with no spacing, the daemon
# claims and completes that many per transaction. 50 is the seed's own example for fast
# processing (`upload_daemon.py --batch-size 50`); RESULTS.md gives the default's figure.
BATCH_SIZE = 50
DEFAULT_BATCH_SIZE = 10

LIMITS_OFF = {
    "min_interval_seconds": 0,
    "hour_call_limit": 1_000_000_000,
    "day_call_limit": 1_000_000_000,
    "daily_limit": 1_000_000_000,
}


class NoOpPlatform:
    """A platform that accepts everything at once."""

    name = "fake"

    def __init__(self) -> None:
        self.count = 0

    def upload(
        self,
        product: Product,
        account: Account,
        *,
        platform_item_id: str | None = None,
        images_done: int = 0,
        **more: Any,  # newer keywords of the protocol (a no-op ignores them)
    ) -> UploadResult:
        self.count += 1
        return UploadResult(platform_item_id=f"item-{self.count}", calls=1)

    def find_existing(
        self, asin: str, account: Account, *, since: datetime | None = None
    ) -> ExistingItem | None:
        return None

    def prepare(self, account: Account) -> None:
        return None

    def calls_for(self, product: Product, images_done: int = 0) -> int:
        return 1

    def close(self) -> None:
        return None


class _Notifier:
    def notify(self, *args: Any, **kwargs: Any) -> None:
        return None

    def close(self) -> None:
        return None


def ours(
    folder: Path, jobs: int, database_url: str | None = None, batch_size: int = BATCH_SIZE
) -> dict[str, Any]:
    """On `database_url`, or on an SQLite file in `folder` when there is none."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = settings_from_dict(
        {
            "database": database_url or f"sqlite:///{folder / 'ours.db'}",
            "accounts": {"fake": ["acct"]},
            "daemon": {
                "business_hours_start": 0,
                "business_hours_end": 24,
                "batch_size": batch_size,
            },
            "platforms": {"fake": {"api_base_url": "fake:unused.db", **LIMITS_OFF}},
        },
        folder / "upload-scheduler.toml",
    )
    engine = open_database(settings.database_url)
    now = datetime.now(UTC)
    asins = [f"B{i:09d}" for i in range(jobs)]
    with engine.begin() as conn:  # the catalogue exists before the run, as in real use
        conn.execute(
            insert(products),
            [
                {"asin": a, "title": "t", "price": 1, "created_at": now, "updated_at": now}
                for a in asins
            ],
        )
        conn.execute(
            insert(listings),
            [{"asin": a, "platform": "fake", "created_at": now, "updated_at": now} for a in asins],
        )
    platform = NoOpPlatform()
    logging.getLogger("upload_scheduler").setLevel(logging.WARNING)
    daemon = UploadDaemon(settings, "fake", ["acct"], engine=engine, adapter=platform,
                          notifier=_Notifier())  # fmt: skip
    started = time.perf_counter()
    UploadQueueManager(settings, engine=engine).add_batch_to_queue(
        asins, "fake", distribute_time=False
    )
    enqueued = time.perf_counter()
    daemon.start()
    try:
        while platform.count < jobs:
            daemon.step()
    finally:
        daemon.stop_event.set()
        daemon.shutdown()
    ended = time.perf_counter()
    with engine.connect() as conn:
        done = conn.execute(
            select(upload_queue.c.id).where(upload_queue.c.status == "success")
        ).all()
    engine.dispose()
    assert len(done) == jobs, (len(done), jobs)
    return {
        "jobs": jobs,
        "seconds": round(ended - started, 3),
        "enqueue_seconds": round(enqueued - started, 3),
        "jobs_per_second": round(jobs / (ended - started), 1),
        "batch_size": batch_size,
    }


def huey(folder: Path, jobs: int) -> dict[str, Any]:
    from huey import SqliteHuey
    from huey.storage import SqliteStorage

    class Storage(SqliteStorage):
        def _create_connection(self):  # type: ignore[no-untyped-def]
            conn = super()._create_connection()
            conn.execute("pragma synchronous = NORMAL")  # the same setting as ours
            return conn

    class Huey(SqliteHuey):
        storage_class = Storage

    folder.mkdir(parents=True, exist_ok=True)
    return _time_huey(Huey("bench", filename=str(folder / "huey.db"), results=False), jobs)


def huey_pg(jobs: int, dsn: str) -> dict[str, Any]:
    """Huey's own PostgreSQL storage (`huey.PostgresHuey`, psycopg 3): a task table
    dequeued with `FOR UPDATE SKIP LOCKED`, workers woken by LISTEN/NOTIFY."""
    from huey import PostgresHuey

    queue = PostgresHuey("bench", dsn=dsn, results=False)
    try:
        return _time_huey(queue, jobs)
    finally:
        queue.storage.close()


def _time_huey(queue: Any, jobs: int) -> dict[str, Any]:
    from huey.consumer import Consumer

    finished = threading.Event()
    state = {"done": 0}

    @queue.task()
    def noop(n: int) -> None:
        state["done"] += 1
        if state["done"] >= jobs:
            finished.set()

    logging.getLogger("huey").setLevel(logging.WARNING)
    consumer = Consumer(queue, workers=1, worker_type="thread", periodic=False,
                        initial_delay=0.001, max_delay=0.01)  # fmt: skip
    started = time.perf_counter()
    for n in range(jobs):
        noop(n)
    enqueued = time.perf_counter()
    consumer.start()  # the worker and scheduler threads, without signal handlers
    finished.wait(600)
    ended = time.perf_counter()
    consumer.stop(graceful=True)
    assert state["done"] == jobs, (state["done"], jobs)
    return {
        "jobs": jobs,
        "seconds": round(ended - started, 3),
        "enqueue_seconds": round(enqueued - started, 3),
        "jobs_per_second": round(jobs / (ended - started), 1),
    }


def run(folder: Path, jobs: int, *, with_default_batch: bool = True) -> dict[str, Any]:
    with phase(f"ours ({jobs:,} jobs, with the catalogue insert)"):
        our = ours(folder / "ours", jobs)
    with phase(f"huey ({jobs:,} jobs)"):
        their = huey(folder / "huey", jobs)
    figures = {
        "ours": our,
        "huey": their,
        "ratio": round(our["jobs_per_second"] / their["jobs_per_second"], 3),
    }
    if with_default_batch:
        with phase(f"ours again with the default batch_size {DEFAULT_BATCH_SIZE}"):
            default = ours(folder / "ours-default", jobs, batch_size=DEFAULT_BATCH_SIZE)
        figures["ours_default_batch"] = default
        figures["ratio_default_batch"] = round(
            default["jobs_per_second"] / their["jobs_per_second"], 3
        )
    return figures


# ---------------------------------------------------------------------- PostgreSQL


def postgres_unavailable(url: str | None) -> str | None:
    """Why vs_huey_pg cannot run here, or None when it can (a configured server that
    does not answer is not a reason to skip: the run fails and says so)."""
    if not url:
        return "no PostgreSQL server: set UPLOAD_SCHEDULER_TEST_POSTGRES_URL or pass --postgres-url"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install '.[bench]')"
    import huey as huey_module

    if not hasattr(huey_module, "PostgresHuey"):
        version = getattr(huey_module, "__version__", "?")
        return f"huey {version} has no PostgresHuey (huey 3.1 or newer has; pip install '.[bench]')"
    return None


def _sqlalchemy_url(url: str) -> Any:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@contextmanager
def fresh_postgres_database(url: str, label: str) -> Iterator[str]:
    """A database of its own on the server of `url`, dropped afterwards; its URL."""
    server = _sqlalchemy_url(url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    # Generated names only: database names cannot be bound parameters.
    name = f"us_bench_{label}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_settings(url: str) -> dict[str, str]:
    """What decides a commit's cost on this server, for the record."""
    parsed = _sqlalchemy_url(url)
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            shown = {
                name: str(conn.execute(text(f"SHOW {name}")).scalar())
                for name in ("server_version", "fsync", "synchronous_commit")
            }
        return {"host": str(parsed.host or "a local socket"), **shown}
    finally:
        engine.dispose()


def run_pg(folder: Path, jobs: int, url: str) -> dict[str, Any]:
    """The vs_huey job on PostgreSQL: ours and `PostgresHuey`, each in a fresh database."""
    with phase(f"ours ({jobs:,} jobs, with the catalogue insert)"):
        with fresh_postgres_database(url, "ours") as database:
            our = ours(folder / "ours", jobs, database)
    with phase(f"huey ({jobs:,} jobs)"):
        with fresh_postgres_database(url, "huey") as database:
            dsn = (
                make_url(database)
                .set(drivername="postgresql")
                .render_as_string(hide_password=False)
            )
            their = huey_pg(jobs, dsn)
    return {
        "ours": our,
        "huey": their,
        "ratio": round(our["jobs_per_second"] / their["jobs_per_second"], 3),
        "server": server_settings(url),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--postgres-url", default=None, help="compare on PostgreSQL instead")
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="us-huey-"))
    try:
        if args.postgres_url:
            reason = postgres_unavailable(args.postgres_url)
            if reason:
                parser.error(reason)
            figures = run_pg(root, args.jobs, args.postgres_url)
        else:
            figures = run(root, args.jobs)
        print(f"ours: {figures['ours']}")
        print(f"huey: {figures['huey']}")
        name = "vs_huey_pg" if args.postgres_url else "vs_huey"
        print(json.dumps({name: figures["ratio"]}))
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
