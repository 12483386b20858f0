"""What every process benchmark needs: a BASE sandbox process on 127.0.0.1, a work folder
with a config pointing at it, a real database file with products (and queued items),
accounts logged in, daemons and the manager started as real processes, and the
sandbox's record of arrivals read back.

Nothing here is simulated except the platform's latency, which the sandbox injects.
"""

from __future__ import annotations

import itertools
import json
import os
import platform as platform_module
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

PYTHON = sys.executable
ADD_PATH = "/1/items/add"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret-0123456789"

CONFIG = """\
database = "sqlite:///bench.db"
log_dir = "logs"
timezone = "Asia/Tokyo"

[accounts]
base = [{accounts}]

[daemon]
interval_seconds = {check_interval}
business_hours_start = 0
business_hours_end = 24

[platforms.base]
api_base_url = "{url}"
client_id = "{client_id}"
client_secret = "{client_secret}"
min_interval_seconds = {interval}
hour_call_limit = {hour_limit}
day_call_limit = 10000000
daily_limit = 1000000
"""


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform_module.python_version(),
        "os": f"{platform_module.system()} {platform_module.release()}",
        "cpu": platform_module.processor() or platform_module.machine(),
    }


@contextmanager
def phase(label: str) -> Iterator[None]:
    """Time one step of a benchmark (setup, start-up, the measurement, shutdown) and say
    how long it took on stderr, so a run shows where its minutes go."""
    started = time.monotonic()
    try:
        yield
    finally:
        print(f"    {label}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


def account_names(count: int) -> list[str]:
    return [f"shop_{n:03d}" for n in range(1, count + 1)]


# ---------------------------------------------------------------------- sandbox


class Sandbox:
    """`python -m upload_scheduler.platforms.thebase.sandbox` as a process."""

    def __init__(self, latency: float = 0.03, hour_limit: int | None = None) -> None:
        command = [
            PYTHON,
            "-m",
            "upload_scheduler.platforms.thebase.sandbox",
            "--port",
            "0",
            "--latency",
            str(latency),
        ]
        if hour_limit is not None:
            command += ["--hour-limit", str(hour_limit)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "http" not in line:
            self.process.kill()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.strip().split()[-1]

    def calls(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.url + "/_sandbox/calls", timeout=30) as answer:
            return json.loads(answer.read())["calls"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def arrivals(calls: list[dict[str, Any]], ok_only: bool = True) -> dict[str, list[float]]:
    """items/add arrival times (epoch seconds) per shop, in order."""
    out: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        if call.get("path") != ADD_PATH:
            continue
        if ok_only and call.get("outcome") not in ("ok", "fault:lost_response"):
            continue
        out[str(call.get("shop"))].append(datetime.fromisoformat(call["time"]).timestamp())
    for times in out.values():
        times.sort()
    return dict(out)


def pacing_figures(times: list[float], interval: float) -> dict[str, float]:
    """Items/s over the bound, and the smallest start-to-start gap."""
    if len(times) < 2:
        return {"items": len(times), "ratio": 0.0, "min_gap": 0.0, "items_per_second": 0.0}
    gaps = [b - a for a, b in itertools.pairwise(times)]
    rate = (len(times) - 1) / (times[-1] - times[0])
    return {
        "items": len(times),
        "items_per_second": round(rate, 3),
        "ratio": round(rate * interval, 4),
        "min_gap": round(min(gaps), 4),
    }


# ---------------------------------------------------------------------- work folder


@dataclass
class Workdir:
    folder: Path
    config: Path
    accounts: list[str]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PYTHON, "-m", "upload_scheduler", "--config", str(self.config), *args],
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"},
            timeout=600,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{args}: exit {result.returncode}\n{result.stdout}{result.stderr}")
        return result


def make_workdir(
    folder: Path,
    url: str,
    accounts: list[str],
    *,
    interval: float,
    check_interval: float = 5.0,
    hour_limit: int = 1_000_000,
) -> Workdir:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "upload-scheduler.toml"
    config.write_text(
        CONFIG.format(
            accounts=", ".join(f'"{a}"' for a in accounts),
            check_interval=check_interval,
            url=url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            interval=interval,
            hour_limit=hour_limit,
        ),
        encoding="utf-8",
    )
    return Workdir(folder, config.resolve(), accounts)


def seed(
    workdir: Workdir,
    items_per_account: int,
    *,
    images: int = 0,
    queue: bool = True,
    extra_pending: int = 0,
) -> None:
    """Products, their listings, each account logged in to the sandbox, and (if `queue`)
    `items_per_account` items due now per account. `extra_pending` products are left
    unqueued, for `add-to-queue` to take."""
    from sqlalchemy import insert

    from upload_scheduler import UploadQueueManager
    from upload_scheduler.config import load_settings
    from upload_scheduler.platforms.thebase.sandbox.login import sandbox_login
    from upload_scheduler.store.database import open_database
    from upload_scheduler.store.tables import listings, products

    settings = load_settings(workdir.config)
    engine = open_database(settings.database_url)
    now = datetime.now(UTC)
    per_account = {
        a: [f"{a.upper()}-{i:07d}" for i in range(items_per_account)] for a in workdir.accounts
    }
    spare = [f"SPARE-{i:07d}" for i in range(extra_pending)]
    everything = [*itertools.chain.from_iterable(per_account.values()), *spare]
    urls = json.dumps([f"https://images.example/{n}.jpg" for n in range(images)])
    with engine.begin() as conn:
        for start in range(0, len(everything), 20_000):
            part = everything[start : start + 20_000]
            conn.execute(
                insert(products),
                [
                    {
                        "asin": a,
                        "title": f"bench {a}",
                        "description": "bench",
                        "price": 1000,
                        "stock": 1,
                        "images": urls,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for a in part
                ],
            )
            conn.execute(
                insert(listings),
                [
                    {"asin": a, "platform": "base", "created_at": now, "updated_at": now}
                    for a in part
                ],
            )
    for account in workdir.accounts:
        sandbox_login(settings, engine, account)
    if queue:
        manager = UploadQueueManager(settings, engine=engine)
        for account, asins in per_account.items():
            if asins:
                manager.add_batch_to_queue(asins, "base", distribute_time=False, account_id=account)
    engine.dispose()


# ---------------------------------------------------------------------- processes


def daemon_command(workdir: Workdir, account: str) -> list[str]:
    """The command the manager itself uses for a daemon."""
    from upload_scheduler.supervisor.child import default_command

    return list(default_command(workdir.config)("base", account))


def start_daemon(workdir: Workdir, account: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        daemon_command(workdir, account),
        cwd=workdir.folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(5)


def daemon_processes(workdir: Workdir) -> list[psutil.Process]:
    """The live daemon processes whose command names this work folder's config."""
    found = []
    config = str(workdir.config)
    for process in psutil.process_iter(["cmdline"]):
        command = process.info.get("cmdline") or []
        if config in command and "daemon" in command:
            found.append(process)
    return found


def wait_for(predicate: Any, timeout: float, poll: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(poll)


def rss_mb(processes: list[psutil.Process]) -> list[float]:
    sizes = []
    for process in processes:
        try:
            sizes.append(process.memory_info().rss / 2**20)
        except psutil.Error:
            continue
    return sizes


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total
