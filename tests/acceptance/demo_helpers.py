"""Helpers for the seed's workflows and the demo, run as a user runs them: the BASE
sandbox as a process (its output in a file, never an unread pipe), a config pointing at
it, shops logged in with `token login --code`, a product CSV as Excel writes it, and
bounded waits."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import psutil
from sqlalchemy import select

from tests.acceptance.cli import run_cli
from upload_scheduler.config import load_settings
from upload_scheduler.platforms.thebase.sandbox import load_calls
from upload_scheduler.platforms.thebase.sandbox.login import authorize_code
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, oauth_tokens, upload_queue

CONFIG_NAME = "upload-scheduler.toml"
CLIENT_ID = "acceptance-client"
CLIENT_SECRET = "acceptance-secret-41c7e9"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
ACCOUNTS = ("shop_a", "shop_b")
ZONE = "Asia/Tokyo"
ADD_PATH = "/1/items/add"
CREATED = frozenset({"ok", "fault:lost_response"})
SANDBOX_START_SECONDS = 20.0

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, what: str, poll: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(poll)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def processes_of(folder: Path) -> list[psutil.Process]:
    """Live processes whose command line names `folder` (the manager, the daemons, the
    demo's sandbox): none may outlive a test."""
    marker = str(folder)
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if process.info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        if any(marker in part for part in process.info.get("cmdline") or []):
            found.append(process)
    return found


def kill_leftovers(folder: Path) -> None:
    """After a test, whatever happened: each process of this folder is killed by PID."""
    victims = processes_of(folder)
    for process in victims:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(victims, timeout=5)


@dataclass
class Sandbox:
    url: str
    record: Path

    def calls(self) -> list[dict[str, Any]]:
        return load_calls(self.record) if self.record.exists() else []

    def control(self, endpoint: str, **form: str | int) -> dict[str, Any]:
        """`POST /_sandbox/ENDPOINT` (faults, spend_budget, expire_tokens, …): steer the
        sandbox process from the test."""
        answer = httpx.post(f"{self.url}/_sandbox/{endpoint}", data=form, timeout=5)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def items(self, shop: str) -> list[dict[str, Any]]:
        """What the sandbox holds for `shop` now (`GET /_sandbox/items`): the truth an
        outcome recorded in the queue is judged against."""
        answer = httpx.get(f"{self.url}/_sandbox/items", params={"shop": shop}, timeout=5)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    def created(self) -> Counter[tuple[str, str]]:
        """How many times each (shop, identifier) was created, answered or not."""
        return Counter(
            (str(c.get("shop")), str(c.get("identifier")))
            for c in self.calls()
            if c.get("path") == ADD_PATH and c.get("outcome") in CREATED
        )


@contextmanager
def sandbox_server(
    folder: Path,
    command: Sequence[str],
    what: str,
    start_seconds: float = SANDBOX_START_SECONDS,
) -> Iterator[tuple[str, Path]]:
    """`COMMAND --port 0 --record FOLDER/calls.jsonl` (a sandbox of any platform) as a
    process of its own, its output in FOLDER/sandbox.out, never an unread pipe; yields
    its URL (from its first line) and its record's path. Stopped (SIGTERM, then kill)
    whatever the test did."""
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "calls.jsonl"
    out_path = folder / "sandbox.out"
    command = [*command, "--port", "0", "--record", str(record)]
    with out_path.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        first = wait_for(
            lambda: _first_line(out_path) or process.poll() is not None,
            start_seconds,
            what,
        )
        assert isinstance(first, str), out_path.read_text(encoding="utf-8", errors="replace")
        yield first.rsplit(" ", 1)[1], record
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def sandbox_process(folder: Path, *options: str) -> Iterator[Sandbox]:
    """`python -m upload_scheduler.platforms.thebase.sandbox --port 0 OPTIONS`, stopped
    (SIGTERM, then kill) whatever the test did."""
    command = [sys.executable, "-m", "upload_scheduler.platforms.thebase.sandbox", *options]
    with sandbox_server(folder, command, "the sandbox's URL") as (url, record):
        yield Sandbox(url, record)


def _first_line(path: Path) -> str | None:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    line, newline, _ = text.partition("\n")
    return line.strip() if newline and line.startswith("Sandbox listening on ") else None


def toml_lines(values: Mapping[str, Any]) -> list[str]:
    """`key = value` lines: JSON's strings, numbers, booleans and lists of them are
    TOML's too."""
    return [f"{key} = {json.dumps(value)}" for key, value in values.items()]


def write_platform_config(
    workdir: Path,
    platform: str,
    accounts: Sequence[str],
    sections: Mapping[str, Mapping[str, Any]],
    *,
    hours: tuple[int, int] = (0, 24),
    interval_seconds: float = 1.0,
    database: str = "sqlite:///data/us.db",
    cluster: Mapping[str, Any] | None = None,
) -> Path:
    """The work folder's config: `accounts` on `platform`, the daemon's interval and
    business hours, the cluster's keys, then each of `sections` (name -> keys) in order;
    an empty section is left out."""
    lines = [
        f"database = {json.dumps(database)}",
        f'timezone = "{ZONE}"',
        'log_dir = "logs"',
        "",
        "[accounts]",
        f"{platform} = {json.dumps(list(accounts))}",
        "",
        "[daemon]",
        f"interval_seconds = {interval_seconds}",
        f"business_hours_start = {hours[0]}",
        f"business_hours_end = {hours[1]}",
        "",
        "[cluster]",
        *toml_lines(cluster or {"lease_ttl_seconds": 5}),
    ]
    for section, keys in sections.items():
        if keys:
            lines += ["", f"[{section}]", *toml_lines(keys)]
    path = workdir / CONFIG_NAME
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_config(
    workdir: Path,
    sandbox_url: str,
    *,
    hours: tuple[int, int] = (0, 24),
    interval_seconds: float = 1.0,
    platform: dict[str, Any] | None = None,
    accounts: tuple[str, ...] = ACCOUNTS,
    database: str = "sqlite:///data/us.db",
    cluster: dict[str, Any] | None = None,
    notify: dict[str, Any] | None = None,
    rules: dict[str, Any] | None = None,
) -> Path:
    values = {
        "api_base_url": sandbox_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "min_interval_seconds": 0.2,
        "retry_delay_seconds": 0.5,
        **(platform or {}),
    }
    sections = {"platforms.base": values, "notify": notify, "platforms.base.rules": rules}
    return write_platform_config(
        workdir,
        "base",
        accounts,
        {name: keys or {} for name, keys in sections.items()},
        hours=hours,
        interval_seconds=interval_seconds,
        database=database,
        cluster=cluster,
    )


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--config", str((workdir / CONFIG_NAME).resolve()), *args, cwd=workdir)


def spawn(workdir: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    """`upload-scheduler --config … ARGS` left running (a daemon), its output in
    `NAME.out` of the work folder, never in an unread pipe. The caller stops it;
    `kill_leftovers` ends it whatever happened."""
    command = [sys.executable, "-m", "upload_scheduler", "--config", str(workdir / CONFIG_NAME)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    with (workdir / f"{name}.out").open("wb") as out:
        return subprocess.Popen(
            [*command, *args],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def spawned_output(workdir: Path, name: str) -> str:
    return (workdir / f"{name}.out").read_text(encoding="utf-8", errors="replace")


def stored_tokens(workdir: Path) -> set[str]:
    """Every access and refresh token the database holds now: secrets a message, a log
    or an output must never show."""
    settings = load_settings((workdir / CONFIG_NAME).resolve())
    engine = open_database(settings.database_url, migrate=False)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(oauth_tokens)).mappings().all()
    finally:
        engine.dispose()
    return {str(r[key]) for r in rows for key in ("access_token", "refresh_token") if r[key]}


def database_rows(workdir: Path, table: Any) -> list[dict[str, Any]]:
    """Every row of `table` in the work folder's database, read as the CLI would."""
    settings = load_settings((workdir / CONFIG_NAME).resolve())
    engine = open_database(settings.database_url, migrate=False)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(table)).mappings()]
    finally:
        engine.dispose()


def queue_rows(workdir: Path) -> list[dict[str, Any]]:
    return database_rows(workdir, upload_queue)


def listing_rows(workdir: Path) -> list[dict[str, Any]]:
    return database_rows(workdir, listings)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, output(result)
    return result.stdout


def token_login(workdir: Path, platform: str, account: str, code: str) -> str:
    """`token login --platform P --account A --code CODE` (the code, or the address the
    browser ended on, as an operator pastes it); its output."""
    command = ("token", "login", "--platform", platform, "--account", account, "--code", code)
    return ok(cli(workdir, *command))


def login_all(workdir: Path, sandbox_url: str, accounts: tuple[str, ...] = ACCOUNTS) -> None:
    """The seed's Phase 2, once per shop: a code from the authorize page, then
    `token login --code`."""
    for account in accounts:
        code = authorize_code(sandbox_url, CLIENT_ID, REDIRECT_URI, account)
        ok(cli(workdir, "token", "login", "--account", account, "--code", code))


def write_products(path: Path, count: int, prefix: str = "B0WORK", *, images: int = 0) -> list[str]:
    """`count` products as Excel in Japan saves them: CP932, CRLF, and `images` image
    URLs each (none by default; an image call is one more call that can fail)."""
    asins = [f"{prefix}{n:04d}" for n in range(count)]
    header = ["asin", "title", "description", "price", "stock"]
    with path.open("w", encoding="cp932", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header + (["images"] if images else []))
        for n, asin in enumerate(asins):
            row = [asin, f"テスト商品 {n} ブラック", "説明文です。", f"{1000 + n}", "3"]
            urls = [f"https://images.example/{asin}/{i}.jpg" for i in range(1, images + 1)]
            writer.writerow(row + (["|".join(urls)] if images else []))
    return asins


def queue_json(workdir: Path, *args: str) -> dict[str, Any]:
    return dict(json.loads(ok(cli(workdir, "check-queue", "--json", *args))))


def current_window(zone: str = ZONE, length: int = 2) -> tuple[int, int]:
    """Business hours that hold the next hour but not the whole day, so a call outside
    them would show in the record."""
    hour = datetime.now(ZoneInfo(zone)).hour
    return hour, (hour + length) % 24


def wait_until_drained(workdir: Path, timeout: float) -> dict[str, int]:
    def drained() -> dict[str, int] | None:
        stats = queue_json(workdir, "--limit", "0")["statistics"]
        return stats if stats["pending"] + stats["uploading"] == 0 else None

    return wait_for(drained, timeout, "the queue to drain", poll=1.0)


def log_has(workdir: Path, account: str, text: str) -> bool:
    path = workdir / "logs" / f"upload_scheduler_base_{account}.log"
    return path.exists() and text in path.read_text(encoding="utf-8", errors="replace")


def monotonic() -> float:
    return time.monotonic()
