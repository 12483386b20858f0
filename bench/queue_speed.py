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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert, text

from harness import phase
from upload_scheduler import UploadQueueManager
from upload_scheduler.clock import FakeClock
from upload_scheduler.config import settings_from_dict
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import products

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


def counter_from(dialect: str) -> str:
    """The FROM clause giving n = 0 .. :rows - 1: a recursive CTE on SQLite,
    generate_series on PostgreSQL; set-based in the database either way."""
    if dialect == "postgresql":
        return "FROM generate_series(0, :rows - 1) AS counter(n)"
    return (
        "FROM (WITH RECURSIVE counter(n) AS (SELECT 0 UNION ALL SELECT n + 1 "
        "FROM counter WHERE n + 1 < :rows) SELECT n FROM counter) ORDER BY n"
    )


def insert_counted(conn, rows: int, statement: str, **params: object) -> None:  # type: ignore[no-untyped-def]
    """`INSERT INTO ... SELECT ... FROM counter`, counter being n = 0 .. rows - 1
    (`counter_from`): set-based in the database, no row passes through Python."""
    conn.execute(
        text(statement.replace("FROM counter", counter_from(conn.dialect.name))),
        {"rows": rows, **params},
    )


def stamp(moment: datetime) -> str:
    """A UTCDateTime as SQLite stores it (naive UTC text, microseconds)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def seed_catalogue(engine, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """`count` products B000000000, B000000001, ... each with an unassigned BASE listing,
    inserted set-based (the rows the 100,000-item enqueue takes)."""
    with engine.begin() as conn:
        insert_counted(
            conn,
            count,
            "INSERT INTO products (asin, title, price, created_at, updated_at) "
            "SELECT printf('B%09d', n), 'bench', 1000, :now, :now FROM counter",
            now=stamp(NOW),
        )
        insert_counted(
            conn,
            count,
            "INSERT INTO listings (asin, platform, created_at, updated_at) "
            "SELECT printf('B%09d', n), 'base', :now, :now FROM counter",
            now=stamp(NOW),
        )
    return [f"B{i:09d}" for i in range(count)]


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


@dataclass(frozen=True)
class Share:
    """The queue rows whose n * 37 % 100 is below `below` (and not below an earlier
    share's): their status, and their scheduled_time, spread evenly over `seconds` from
    `first` (restarting every CHUNK rows, as the chunked fill did)."""

    below: int
    status: str
    first: datetime = NOW
    seconds: int = CHUNK


# stats_1m's queue: 2 BASE accounts; 5 % failed, 4 % cancelled, the rest success.
STATS_ACCOUNTS = (("base", "base_account_1"), ("base", "base_account_2"))
STATS_SHARES = (Share(5, "failed"), Share(9, "cancelled"), Share(100, "success"))

# With catalogue=True: titles of brand, item and colour words (11, 13 and 7 of them,
# coprime, so the combinations go round 1,001 rows) and a number, e.g.
# "Seiko Wristwatch Black No.143"; a failed row has one of the ERRORS.
BRANDS = (
    "Seiko", "Casio", "Nikon", "Canon", "Sony", "Panasonic", "Makita", "Zojirushi",
    "Tiger", "Pentax", "Olympus",
)  # fmt: skip
ITEMS = (
    "Wristwatch", "Camera", "Lens", "Rice Cooker", "Headphones", "Drill", "Kettle",
    "Calculator", "Radio", "Flash", "Tripod", "Battery Pack", "Strap",
)  # fmt: skip
COLOURS = ("Black", "White", "Silver", "Red", "Blue", "Gold", "Green")
ERRORS = (
    "image download failed: 404 Not Found",
    "platform refused the item: title too long (max 100 characters)",
    "platform answer lost after the request was sent (looked up: not created)",
    "daily item creation limit reached on the platform",
)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pick(expr: str, values: tuple[str, ...] | list[str]) -> str:
    """SQL choosing values[expr % len(values)] (the one value when they are all the same)."""
    if len(set(values)) == 1:
        return _literal(values[0])
    whens = " ".join(f"WHEN {i} THEN {_literal(v)}" for i, v in enumerate(values[:-1]))
    return f"CASE ({expr}) % {len(values)} {whens} ELSE {_literal(values[-1])} END"


def _when(dialect: str, moment: datetime) -> object:
    """A moment bound as the database stores it: SQLite text, a datetime on PostgreSQL."""
    return moment if dialect == "postgresql" else stamp(moment)


def _moment(dialect: str, first: str, span: str) -> str:
    """SQL: `first` + (n % CHUNK) * `span` / CHUNK whole seconds, as a stored UTCDateTime."""
    if dialect == "postgresql":
        return (
            f"(CAST(:{first} AS timestamptz) "
            f"+ (CAST(n % :chunk AS BIGINT) * :{span} / :chunk) * interval '1 second')"
        )
    return (
        f"strftime('%Y-%m-%d %H:%M:%S', :{first}, '+' || ((n % :chunk) * :{span} / :chunk) "
        "|| ' seconds') || '.000000'"
    )


def _asin(dialect: str) -> str:
    if dialect == "postgresql":
        return "'B' || lpad(CAST(n AS TEXT), 9, '0')"
    return "printf('B%09d', n)"


def fill_queue(  # type: ignore[no-untyped-def]
    engine,
    rows: int,
    accounts: tuple[tuple[str, str], ...] = STATS_ACCOUNTS,
    shares: tuple[Share, ...] = STATS_SHARES,
    *,
    catalogue: bool = False,
) -> None:
    """A million-row queue (each row needs a listing). By default stats_1m's: finished
    rows over 2 BASE accounts, 91 % success, 5 % failed, 4 % cancelled, spread through
    the table, all of one product.

    `accounts` (platform, account) take the rows in turn; `shares` give the statuses and
    the times. `catalogue`: the dashboard's queue instead, one product per row with a
    title (BRANDS, ITEMS, COLOURS), its listing on the row's account, priorities 5, 10
    and 20, finished rows with processed_at and attempts, failed ones with an error
    text, and `upload_counts` as the trigger of migration 0011 would have kept it.

    Built set-based in the database, INSERT ... SELECT over a counter (SQLite or
    PostgreSQL), in the same order as the Python-built rows before (120 s then, seconds
    now). Only the setup is faster; the file is the same size and the timed query the
    same."""
    with engine.begin() as conn:
        dialect = conn.dialect.name
        now = _when(dialect, NOW)
        nth_platform = _pick("n", [p for p, _ in accounts])
        nth_account = _pick("n", [a for _, a in accounts])
        start = conn.execute(text("SELECT coalesce(max(id), 0) FROM listings")).scalar()
        if catalogue:
            title = (
                f"{_pick('n', BRANDS)} || ' ' || {_pick('n', ITEMS)} || ' ' || "
                f"{_pick('n', COLOURS)} || ' No.' || n"
            )
            insert_counted(
                conn,
                rows,
                "INSERT INTO products (asin, title, price, created_at, updated_at) "
                f"SELECT {_asin(dialect)}, {title}, 1000 + n % 50 * 100, :now, :now "
                "FROM counter",
                now=now,
            )
            listing = f"{_asin(dialect)}, {nth_platform}, {nth_account}"
        else:
            conn.execute(
                insert(products).values(
                    asin="BULK", title="bulk", price=1, created_at=NOW, updated_at=NOW
                )
            )
            listing = f"'BULK', {nth_platform}, 'acct_' || n"
        insert_counted(
            conn,
            rows,
            "INSERT INTO listings (asin, platform, account_id, status, created_at, "
            f"updated_at) SELECT {listing}, 'listed', :now, :now FROM counter",
            now=now,
        )
        # n = the row's place: the accounts take turns, the status follows a scattered
        # n * 37 % 100 (by default 0-4 failed, 5-8 cancelled, else success), the time
        # runs on by a share's `seconds / CHUNK` a row, restarting every CHUNK rows.
        params: dict[str, object] = {"now": now, "chunk": CHUNK, "start": start}
        statuses, times = [], []
        for i, share in enumerate(shares):
            params[f"first_{i}"] = _when(dialect, share.first)
            params[f"span_{i}"] = share.seconds
            test = "ELSE" if i == len(shares) - 1 else f"WHEN n * 37 % 100 < {share.below} THEN"
            statuses.append(f"{test} {_literal(share.status)}")
            times.append(f"{test} {_moment(dialect, f'first_{i}', f'span_{i}')}")
        columns = "listing_id, asin, platform, account_id, scheduled_time, status, created_at, "
        columns += "updated_at"
        values = "id, asin, platform, account_id, at, status, :now, :now"
        if catalogue:
            columns += ", priority, attempts, error_message, processed_at"
            values += (
                ", CASE WHEN n % 50 = 0 THEN 20 WHEN n % 10 = 0 THEN 10 ELSE 5 END, "
                "CASE status WHEN 'failed' THEN 3 WHEN 'success' THEN 1 ELSE 0 END, "
                f"CASE status WHEN 'failed' THEN {_pick('n', ERRORS)} END, "
                "CASE WHEN status IN ('success', 'failed', 'cancelled') THEN at END"
            )
        conn.execute(
            text(
                f"INSERT INTO upload_queue ({columns}) SELECT {values} "
                f"FROM (SELECT id, asin, platform, n, {nth_account} AS account_id, "
                f"CASE {' '.join(statuses)} END AS status, CASE {' '.join(times)} END AS at "
                "FROM (SELECT id, asin, platform, id - :start - 1 AS n FROM listings "
                "WHERE id > :start) AS l) AS r ORDER BY id"
            ),
            params,
        )
        if catalogue:
            # Migration 0011's count of the rows that ended before its trigger.
            hour = (
                "to_char(COALESCE(processed_at, updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
                if dialect == "postgresql"
                else "substr(COALESCE(processed_at, updated_at), 1, 13)"
            )
            conn.execute(
                text(
                    "INSERT INTO upload_counts (platform, account_id, result, hour, count) "
                    f"SELECT platform, account_id, status, {hour}, count(*) FROM upload_queue "
                    "WHERE kind = 'upload' AND status IN ('success', 'failed') "
                    f"GROUP BY platform, account_id, status, {hour}"
                )
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
