"""Pacing of one account's daemon (Workers issue benchmark).

Setup: one account, `min_interval_seconds` 0.1, the file-backed fake platform with
30 ms latency, a real daemon process, `--seconds` of run time (default 60). Measured
from the platform's record of arrivals: items/s divided by the bound (1 / interval),
and the smallest start-to-start gap. Targets: ratio >= 0.99, no gap below the interval.

Run: `python bench/pacing.py [--seconds 60] [--interval 0.1] [--latency 0.03]`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from upload_scheduler import UploadQueueManager
from upload_scheduler.config import load_settings
from upload_scheduler.platforms.fake import call_times
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products

CONFIG = """\
database = "sqlite:///bench.db"
log_dir = "logs"
[accounts]
fake = ["bench_account"]
[daemon]
interval_seconds = 5
business_hours_start = 0
business_hours_end = 24
[platforms.fake]
api_base_url = "fake:items.db?latency={latency}"
min_interval_seconds = {interval}
hour_call_limit = 1000000
day_call_limit = 10000000
daily_limit = 1000000
"""


def prepare(folder: Path, interval: float, latency: float, items: int) -> Path:
    config = folder / "upload-scheduler.toml"
    config.write_text(CONFIG.format(interval=interval, latency=latency), encoding="utf-8")
    settings = load_settings(config)
    engine = open_database(settings.database_url)
    now = datetime.now(UTC)
    asins = [f"B{i:09d}" for i in range(items)]
    with engine.begin() as conn:
        conn.execute(
            insert(products),
            [
                {"asin": a, "title": "bench", "price": 1000, "created_at": now, "updated_at": now}
                for a in asins
            ],
        )
        conn.execute(
            insert(listings),
            [{"asin": a, "platform": "fake", "created_at": now, "updated_at": now} for a in asins],
        )
    UploadQueueManager(settings, engine=engine).add_batch_to_queue(
        asins, "fake", distribute_time=False
    )
    engine.dispose()
    return config


def run_daemon(config: Path, seconds: float) -> int:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "upload_scheduler",
            "--config",
            str(config),
            "daemon",
            "--platform",
            "fake",
            "--account",
            "bench_account",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(seconds)
    process.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
    return process.wait(timeout=30)


def measure(folder: Path, interval: float) -> dict[str, float]:
    arrivals = call_times(folder / "items.db", "bench_account")
    if len(arrivals) < 2:
        raise SystemExit("the daemon made fewer than two calls: see the log under logs/")
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    return {
        "items": len(arrivals),
        "items_per_second": round(rate, 3),
        "ratio": round(rate * interval, 4),
        "min_gap": round(min(gaps), 4),
        "interval": interval,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--latency", type=float, default=0.03)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="us-pacing-"))
    try:
        items = int(args.seconds / args.interval * 1.2) + 50
        config = prepare(folder, args.interval, args.latency, items)
        code = run_daemon(config, args.seconds)
        figures = measure(folder, args.interval)
        figures["exit_code"] = code
        print(
            f"pacing_1: ratio {figures['ratio']:.4f} (target >= 0.99), "
            f"min gap {figures['min_gap'] * 1000:.1f} ms (interval {args.interval * 1000:.0f} ms), "
            f"{figures['items']} items in {args.seconds:.0f} s, daemon exit {code}"
        )
        print(json.dumps({"pacing_1": figures["ratio"], "pacing_1_min_gap": figures["min_gap"]}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
