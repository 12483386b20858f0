"""A workspace for running the real daemon in subprocesses against the file-backed fake
platform: a config with short settings, products imported and queued through the CLI,
daemons started with their output going to files (never an unread pipe), and bounded
waits that read the queue and the fake platform's files directly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import Connection, RowMapping, select

from tests.acceptance.cli import run_cli
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import upload_queue

PLATFORM = "fake"
ACCOUNT = "acct_1"
IMAGES = "https://img.example/1.jpg|https://img.example/2.jpg"
POLL_SECONDS = 0.02
EXIT_TIMEOUT = 15.0

SQLITE_DATABASE_LINE = 'database = "sqlite:///data/us.db"'
CONFIG = """\
database = "sqlite:///data/us.db"
timezone = "Asia/Tokyo"
log_dir = "logs"

[accounts]
fake = ["{account}"]

[daemon]
interval_seconds = 1.0
batch_size = 10
business_hours_start = 0
business_hours_end = 24

[platforms.fake]
api_base_url = "fake:platform.db?latency={latency}"
min_interval_seconds = 0.2
retry_delay_seconds = 0.2
max_attempts = 3

[cluster]
lease_ttl_seconds = 3
"""

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T], what: str, timeout: float = 20.0, poll: float = POLL_SECONDS
) -> T:
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


@dataclass
class Workspace:
    root: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _outputs: list[IO[bytes]] = field(default_factory=list)
    _output_paths: dict[int, Path] = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.root / "data" / "us.db"

    @property
    def fake_file(self) -> Path:
        return self.root / "platform.db"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / f"upload_scheduler_{PLATFORM}_{ACCOUNT}.log"

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        env.pop("UPLOAD_SCHEDULER_CONFIG", None)
        return env

    # -------------------------------------------------------------- set-up

    def queue_products(self, count: int, prefix: str = "B0DAEMON") -> list[str]:
        """Import `count` products with two images each and queue them all now."""
        asins = [f"{prefix}{n:02d}" for n in range(count)]
        lines = ["asin,title,price,images"]
        lines += [f"{a},Item {a},1500,{IMAGES}" for a in asins]
        products = self.root / "products.csv"
        products.write_text("\n".join(lines) + "\n", encoding="utf-8")
        imported = run_cli(
            "products", "import", str(products), "--platform", PLATFORM, cwd=self.root
        )
        assert imported.returncode == 0, imported.stdout + imported.stderr
        queued = run_cli(
            "add-to-queue",
            "--platform",
            PLATFORM,
            "--account-id",
            ACCOUNT,
            "--limit",
            str(count),
            cwd=self.root,
        )
        assert queued.returncode == 0, queued.stdout + queued.stderr
        assert len(self.queue()) == count, queued.stdout
        return asins

    # -------------------------------------------------------------- processes

    def start_daemon(self, name: str = "daemon") -> subprocess.Popen[bytes]:
        path = self.root / f"{name}-{len(self.processes)}.out"
        output = path.open("wb")
        self._outputs.append(output)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "upload_scheduler",
                "daemon",
                "--platform",
                PLATFORM,
                "--account",
                ACCOUNT,
            ],
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        self._output_paths[process.pid] = path
        return process

    def output_of(self, process: subprocess.Popen[bytes]) -> str:
        """What the process wrote to stdout and stderr."""
        return self._output_paths[process.pid].read_text(encoding="utf-8", errors="replace")

    def cleanup(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=EXIT_TIMEOUT)
        for output in self._outputs:
            output.close()

    # -------------------------------------------------------------- reading

    def _rows(self, path: Path, query: str, *args: Any) -> list[sqlite3.Row]:
        if not path.exists():
            return []
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
            db.row_factory = sqlite3.Row
            try:
                return list(db.execute(query, args))
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise

    def queue(self) -> list[sqlite3.Row]:
        return self._rows(
            self.database,
            "SELECT id, asin, status, attempts, platform_item_id, error_message, "
            "lease_owner, images_done FROM upload_queue ORDER BY id",
        )

    def statuses(self) -> dict[str, str]:
        return {r["asin"]: r["status"] for r in self.queue()}

    def lease(self) -> sqlite3.Row | None:
        rows = self._rows(
            self.database,
            "SELECT lease_owner, lease_host, lease_pid FROM account_state "
            "WHERE platform = ? AND account_id = ?",
            PLATFORM,
            ACCOUNT,
        )
        return rows[0] if rows else None

    def platform_items(self) -> list[sqlite3.Row]:
        return self._rows(
            self.fake_file, "SELECT id, account_id, identifier, images FROM items ORDER BY id"
        )

    def platform_calls(self, kind: str | None = None) -> list[sqlite3.Row]:
        rows = self._rows(
            self.fake_file, "SELECT at, kind, identifier, outcome FROM calls ORDER BY id"
        )
        return [r for r in rows if kind in (None, r["kind"])]


@dataclass
class DatabaseWorkspace(Workspace):
    """The workspace on any database URL (SQLite or PostgreSQL): its queue is read
    through SQLAlchemy rather than from the SQLite file of the daemon tests."""

    database_url: str = ""

    def queue(self) -> list[RowMapping]:  # type: ignore[override]
        with self.connect() as conn:
            return list(conn.execute(select(upload_queue).order_by(upload_queue.c.id)).mappings())

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        engine = open_database(self.database_url, migrate=False)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def log_text(self) -> str:
        """The daemon's log file (worker/logs.py names it), or "" before it exists."""
        path = self.log_file
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


W = TypeVar("W", bound=Workspace)


def with_settings(config: str, section: str, values: Mapping[str, object]) -> str:
    """`config` with `values` set in its `[section]`, replacing the keys already there
    (JSON's numbers and strings are TOML's too)."""
    lines = config.splitlines()
    start = lines.index(f"[{section}]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    kept = [line for line in lines[start:end] if line.partition("=")[0].strip() not in values]
    settings = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join([*lines[:start], *settings, *kept, *lines[end:]]) + "\n"


@contextlib.contextmanager
def workspace(
    root: Path,
    latency: float,
    *,
    database: str | None = None,
    make: Callable[[Path], W] = Workspace,  # type: ignore[assignment]
    daemon: Mapping[str, object] | None = None,
    platform: Mapping[str, object] | None = None,
) -> Iterator[W]:
    """A config in `root` (on `database` if given, else an SQLite file in the folder;
    `daemon` and `platform` override keys of `[daemon]` and `[platforms.fake]`), and the
    workspace `make` builds on it; its processes end with the block."""
    config = CONFIG.format(account=ACCOUNT, latency=latency)
    if database is not None:
        config = config.replace(SQLITE_DATABASE_LINE, f'database = "{database}"')
    config = with_settings(config, "daemon", daemon or {})
    config = with_settings(config, f"platforms.{PLATFORM}", platform or {})
    (root / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    space = make(root)
    try:
        yield space
    finally:
        space.cleanup()


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> tuple[int, float]:
    """Send `sig` and wait (bounded) for the exit; the exit code and seconds it took."""
    sent = time.monotonic()
    process.send_signal(sig)
    code = process.wait(timeout=EXIT_TIMEOUT)
    return code, time.monotonic() - sent
