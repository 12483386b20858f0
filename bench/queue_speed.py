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
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert, text

from harness import phase
from upload_scheduler import UploadQueueManager
from upload_scheduler.clock import FakeClock
from upload_scheduler.config import settings_from_dict
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products

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
    with phase("seed the catalogue"):
        asins = seed_catalogue(engine, items)
    manager = UploadQueueManager(settings, engine=engine, clock=FakeClock(NOW))
    with phase("measured"):
        started = time.perf_counter()
        result = manager.add_batch_to_queue(asins, "base", distribute_time=True)
        elapsed = time.perf_counter() - started
    days = len({d.day for d in result.days})
    assert result.queued == items, (result.queued, result.unplaced[:3])
    return elapsed, {"queued": result.queued, "days": days, "unplaced": len(result.unplaced)}


def fill_queue(engine, rows: int) -> None:  # type: ignore[no-untyped-def]
    """A million-row queue of finished rows over 2 accounts (each row needs a listing):
    91 % success, 5 % failed, 4 % cancelled, spread through the table.

    Built set-based in the database, two INSERT ... SELECT over a recursive counter: the
    rows go in at SQLite's speed instead of through a million Python dicts (120 s before,
    a few seconds now). Only the setup is faster; the timed query is the same."""
    stamp = NOW.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    with engine.begin() as conn:
        conn.execute(
            insert(products).values(
                asin="BULK", title="bulk", price=1, created_at=NOW, updated_at=NOW
            )
        )
        conn.execute(
            text(
                "INSERT INTO listings (asin, platform, account_id, status, created_at, "
                "updated_at) "
                "WITH RECURSIVE counter(n) AS "
                "(SELECT 0 UNION ALL SELECT n + 1 FROM counter WHERE n + 1 < :rows) "
                "SELECT 'BULK', 'base', 'acct_' || n, 'listed', :stamp, :stamp "
                "FROM counter ORDER BY n"
            ),
            {"rows": rows, "stamp": stamp},
        )
        # n = the listing's place (0-based): accounts alternate, the time of day runs on
        # by one second per row (within CHUNK), and the status follows a scattered
        # n * 37 % 100 (0-4 failed, 5-8 cancelled, the rest success).
        conn.execute(
            text(
                "INSERT INTO upload_queue (listing_id, asin, platform, account_id, "
                "scheduled_time, status, created_at, updated_at) "
                "SELECT id, 'BULK', 'base', "
                "CASE (id - first) % 2 WHEN 0 THEN 'base_account_1' ELSE 'base_account_2' END, "
                "strftime('%Y-%m-%d %H:%M:%S', :stamp, '+' || ((id - first) % :chunk) "
                "|| ' seconds') || '.000000', "
                "CASE WHEN (id - first) * 37 % 100 < 5 THEN 'failed' "
                "WHEN (id - first) * 37 % 100 < 9 THEN 'cancelled' ELSE 'success' END, "
                ":stamp, :stamp "
                "FROM listings, (SELECT min(id) AS first FROM listings WHERE asin = 'BULK') "
                "WHERE asin = 'BULK' ORDER BY id"
            ),
            {"stamp": stamp, "chunk": CHUNK},
        )


def bench_stats(folder: Path, rows: int) -> tuple[float, dict[str, int]]:
    settings = settings_for(folder, daily_limit=1000)
    engine = open_database(settings.database_url)
    with phase(f"fill the {rows:,}-row queue"):
        fill_queue(engine, rows)
    manager = UploadQueueManager(settings, engine=engine, clock=FakeClock(NOW))
    with phase("warm-up + measured (5 times)"):
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
