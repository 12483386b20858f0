"""Helpers for the manager's acceptance tests: a work folder on the file-backed fake
platform with short intervals, queued items, the daemon processes that really run, and
waits that always end."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil
from sqlalchemy import insert

from tests.acceptance.cli import run_cli
from tests.acceptance.demo_helpers import database_rows
from upload_scheduler import UploadQueueManager
from upload_scheduler.config import load_settings
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products, upload_queue

CONFIG_NAME = "upload-scheduler.toml"
CONFIG = """\
database = "sqlite:///us.db"
log_dir = "logs"
timezone = "Asia/Tokyo"

[accounts]
fake = [{accounts}]

[daemon]
interval_seconds = 1
business_hours_start = 0
business_hours_end = 24

[cluster]
lease_ttl_seconds = 3

[platforms.fake]
api_base_url = "fake:items.db?latency={latency}"
min_interval_seconds = 0.2
hour_call_limit = 1000000
day_call_limit = 10000000
daily_limit = 1000000
"""

T = TypeVar("T")


def make_workdir(folder: Path, accounts: list[str], latency: float = 0.05) -> Path:
    names = ", ".join(f'"{a}"' for a in accounts)
    config = CONFIG.format(accounts=names, latency=latency)
    (folder / CONFIG_NAME).write_text(config, encoding="utf-8")
    return folder


def config_path(workdir: Path) -> Path:
    return (workdir / CONFIG_NAME).resolve()


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--config", str(config_path(workdir)), *args, cwd=workdir)


def manager(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(workdir, "manager", *args)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def wait_for(predicate: Callable[[], T], timeout: float, what: str, poll: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(poll)


def queue_items(workdir: Path, account_id: str, count: int, prefix: str) -> list[str]:
    """Products and listings for `count` ASINs, queued now for one account."""
    settings = load_settings(config_path(workdir))
    engine = open_database(settings.database_url)
    now = datetime.now(UTC)
    asins = [f"{prefix}{i:06d}" for i in range(count)]
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(products),
                [
                    {
                        "asin": a,
                        "title": f"item {a}",
                        "price": 1980,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for a in asins
                ],
            )
            conn.execute(
                insert(listings),
                [
                    {"asin": a, "platform": "fake", "created_at": now, "updated_at": now}
                    for a in asins
                ],
            )
        UploadQueueManager(settings, engine=engine).add_batch_to_queue(
            asins, "fake", distribute_time=False, account_id=account_id
        )
    finally:
        engine.dispose()
    return asins


def queue_rows(workdir: Path) -> list[dict[str, Any]]:
    return database_rows(workdir, upload_queue)


def statuses(workdir: Path) -> Counter[str]:
    return Counter(str(r["status"]) for r in queue_rows(workdir))


def daemon_pids(workdir: Path) -> dict[str, list[int]]:
    """The live daemon processes of this work folder, per account."""
    config = str(config_path(workdir))
    found: dict[str, list[int]] = {}
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        command = process.info.get("cmdline") or []
        if process.info.get("status") == psutil.STATUS_ZOMBIE or config not in command:
            continue
        if "daemon" in command and "--account" in command:
            account = command[command.index("--account") + 1]
            found.setdefault(account, []).append(int(process.info["pid"]))
    return found


def manager_pid(workdir: Path) -> int | None:
    config = str(config_path(workdir))
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        command = process.info.get("cmdline") or []
        if process.info.get("status") == psutil.STATUS_ZOMBIE or config not in command:
            continue
        if "manager" in command and "start" in command:
            return int(process.info["pid"])
    return None


def kill_everything(workdir: Path) -> None:
    """After a test, whatever happened: no process of this folder survives it."""
    marker = str(workdir)
    victims = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        if any(marker in part for part in process.info.get("cmdline") or []):
            victims.append(process)
    for process in victims:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(victims, timeout=5)


class WorkerSampler:
    """Counts, many times a second, the daemons of each account: the most ever seen
    at once must be one."""

    def __init__(self, workdir: Path, period: float = 0.1) -> None:
        self.workdir = workdir
        self.period = period
        self.most: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WorkerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for account, pids in daemon_pids(self.workdir).items():
                self.most[account] = max(self.most[account], len(pids))
            self.samples += 1
            self._stop.wait(self.period)
