"""Queue speed on SQLite: the Foundation issue's two targets.

- enqueue_100k: `add_batch_to_queue` of 100,000 items, distributed over 2 accounts with
  spill to later days. Target: <= 5 s.
- stats_1m: `get_queue_statistics` on a 1,000,000-row queue. Target: <= 0.3 s.

Run: `python bench/queue_speed.py [--items 100000] [--rows 1000000] [--workdir DIR]`.
Setup (inserting products, filling the big queue) is not timed. Prints one line per
figure and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from upload_scheduler import UploadQueueManager
from upload_scheduler.clock import FakeClock
from upload_scheduler.config import settings_from_dict
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import QUEUE_STATUSES, listings, products, upload_queue

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
CHUNK = 50_000


def settings_for(folder: Path, daily_limit: int):  # type: ignore[no-untyped-def]
    return settings_from_dict(
        {
            "database": f"sqlite:///{folder / 'bench.db'}",
            "accounts": {"base": ["base_account_1", "base_account_2"]},
            "platforms": {"base": {"daily_limit": daily_limit}},
        },
        folder / "upload-scheduler.toml",
    )


def seed_catalogue(engine, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    asins = [f"B{i:09d}" for i in range(count)]
    with engine.begin() as conn:
        for start in range(0, count, CHUNK):
            part = asins[start : start + CHUNK]
            conn.execute(
                insert(products),
                [
                    {
                        "asin": a,
                        "title": "bench",
                        "price": 1000,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for a in part
                ],
            )
            conn.execute(
                insert(listings),
                [
                    {"asin": a, "platform": "base", "created_at": NOW, "updated_at": NOW}
                    for a in part
                ],
            )
    return asins


def bench_enqueue(folder: Path, items: int) -> tuple[float, dict[str, int]]:
    # 20,000 per account per day: 100,000 items need three days, so spill is exercised.
    settings = settings_for(folder, daily_limit=20_000)
    engine = open_database(settings.database_url)
    asins = seed_catalogue(engine, items)
    manager = UploadQueueManager(settings, engine=engine, clock=FakeClock(NOW))
    started = time.perf_counter()
    result = manager.add_batch_to_queue(asins, "base", distribute_time=True)
    elapsed = time.perf_counter() - started
    days = len({d.day for d in result.days})
    assert result.queued == items, (result.queued, result.unplaced[:3])
    return elapsed, {"queued": result.queued, "days": days, "unplaced": len(result.unplaced)}


def fill_queue(engine, rows: int) -> None:  # type: ignore[no-untyped-def]
    """A million-row queue of mixed statuses over 2 accounts (each row needs a listing)."""
    rng = random.Random(7)
    weights = [0.3, 0.01, 0.6, 0.05, 0.04]
    with engine.begin() as conn:
        conn.execute(
            insert(products).values(
                asin="BULK", title="bulk", price=1, created_at=NOW, updated_at=NOW
            )
        )
        for start in range(0, rows, CHUNK):
            count = min(CHUNK, rows - start)
            ids = (
                conn.execute(
                    insert(listings).returning(listings.c.id, sort_by_parameter_order=True),
                    [
                        {
                            "asin": "BULK",
                            "platform": "base",
                            "account_id": f"acct_{start + k}",
                            "status": "listed",
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                        for k in range(count)
                    ],
                )
                .scalars()
                .all()
            )
            statuses = rng.choices(QUEUE_STATUSES, weights, k=count)
            conn.execute(
                insert(upload_queue),
                [
                    {
                        "listing_id": lid,
                        "asin": "BULK",
                        "platform": "base",
                        "account_id": ("base_account_1", "base_account_2")[k % 2],
                        "scheduled_time": NOW + timedelta(seconds=k),
                        "status": statuses[k]
                        if statuses[k] not in ("pending", "uploading")
                        else "success",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for k, lid in enumerate(ids)
                ],
            )


def bench_stats(folder: Path, rows: int) -> tuple[float, dict[str, int]]:
    settings = settings_for(folder, daily_limit=1000)
    engine = open_database(settings.database_url)
    fill_queue(engine, rows)
    manager = UploadQueueManager(settings, engine=engine, clock=FakeClock(NOW))
    manager.get_queue_statistics("base")  # warm the page cache, as a running system has it
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        stats = manager.get_queue_statistics("base")
        timings.append(time.perf_counter() - started)
    assert stats["total"] == rows
    return statistics.median(timings), stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="us-bench-"))
    figures: dict[str, float] = {}
    try:
        (root / "enqueue").mkdir(parents=True, exist_ok=True)
        (root / "stats").mkdir(parents=True, exist_ok=True)
        seconds, info = bench_enqueue(root / "enqueue", args.items)
        print(f"enqueue ({args.items:,} items): {seconds:.2f} s (target <= 5 s at 100k) {info}")
        figures["enqueue_100k"] = round(seconds, 3)
        seconds, info = bench_stats(root / "stats", args.rows)
        print(f"stats ({args.rows:,} rows): {seconds:.3f} s (target <= 0.3 s at 1m) {info}")
        figures["stats_1m"] = round(seconds, 4)
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
