"""add-to-queue, check-queue and queue purge with the inputs of issue 15, run as a user
runs them: `--within` across midnight and outside business hours, past and far dates,
extreme flag values, and control characters in what check-queue prints.

Tests that depend on the time of day pick a fixed-offset zone (Etc/GMT±N) in which the
real clock is at the hour the test needs, so they hold whenever they run.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from tests.acceptance.cli import run_cli
from tests.acceptance.test_cli_foundation import queue_rows, seed_products
from upload_scheduler.config import load_settings
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products, upload_queue

CONFIG = """\
database = "sqlite:///{db}"
timezone = "{zone}"

[accounts]
base = ["shop"]

[account_overrides.shop]
business_hours_start = {start}
business_hours_end = {end}
min_interval_seconds = 1.0
"""


def zone_at_hour(hour: int) -> str:
    """A fixed-offset zone whose local time is now `hour`:mm (Etc/GMT signs are inverted)."""
    offset = (hour - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def make_workdir(tmp_path: Path, zone: str = "Asia/Tokyo", start: int = 6, end: int = 23) -> Path:
    config = CONFIG.format(db=tmp_path / "queue.db", zone=zone, start=start, end=end)
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    return tmp_path


def add(workdir: Path, *args: str) -> tuple[datetime, datetime, list[datetime]]:
    before = datetime.now(UTC)
    result = run_cli("add-to-queue", "--distribute", *args, cwd=workdir)
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stdout + result.stderr
    times = sorted(r["scheduled_time"] for r in queue_rows(workdir))  # type: ignore[type-var]
    return before, after, times  # type: ignore[return-value]


def test_within_continues_past_midnight(tmp_path: Path) -> None:
    # 22:mm local, hours 22-06, 3 h: three items one hour apart, the last after midnight.
    # Before issue 15 the span stopped at midnight and the gaps were under an hour.
    zone = zone_at_hour(22)
    workdir = make_workdir(tmp_path, zone, start=22, end=6)
    seed_products(workdir, 3)
    before, after, times = add(workdir, "--start", "now", "--within", "3h", "--limit", "3")
    assert len(times) == 3
    assert before - timedelta(seconds=1) <= times[0] <= after
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(hours=1)] * 2
    local_days = [t.astimezone(ZoneInfo(zone)).date() for t in times]
    assert local_days[-1] == local_days[0] + timedelta(days=1)


def test_within_outside_business_hours_starts_at_the_next_opening_and_says_so(
    tmp_path: Path,
) -> None:
    # 03:mm local, hours 06-23: `--within 1m` is 06:00-06:01 today, not all of 06-23.
    zone = zone_at_hour(3)
    workdir = make_workdir(tmp_path, zone)
    seed_products(workdir, 2)
    result = run_cli(
        "add-to-queue", "--distribute", "--start", "now", "--within", "1m", "--limit", "2",
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    today = datetime.now(ZoneInfo(zone)).date()
    opening = datetime.combine(today, datetime.min.time(), ZoneInfo(zone)) + timedelta(hours=6)
    assert "starts when they open" in result.stdout
    assert f"{today.isoformat()} 06:00:00" in result.stdout
    times = sorted(r["scheduled_time"] for r in queue_rows(workdir))  # type: ignore[type-var]
    assert times == [opening, opening + timedelta(seconds=30)]


def test_within_inside_business_hours_says_nothing_about_an_opening(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path, zone_at_hour(12))
    seed_products(workdir, 2)
    before, after, times = add(workdir, "--start", "now", "--within", "10m", "--limit", "2")
    assert before - timedelta(seconds=1) <= times[0] <= after
    assert times[1] - times[0] == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--distribute", "--start-date", "2020-01-01"], "is in the past"),
        (["--distribute", "--start-date", "0001-01-01"], "is in the past"),
        (["--distribute", "--start-date", "9999-12-31"], "years ahead"),
        (["--distribute", "--start-date", "2026-02-30"], "not a date"),
        (["--distribute", "--start", "now", "--within", "99999999d"], "at most 366 days"),
        (["--distribute", "--start", "now", "--within", "1" + "0" * 300 + "d"], "too long"),
        (["--distribute", "--start", "now", "--within", "367d"], "at most 366 days"),
        (["--limit", "1" + "0" * 30], "--limit"),
        (["--limit", "1000001"], "--limit"),
        (["--distribute", "--max-days", "99999999"], "--max-days"),
    ],
)
def test_out_of_range_add_to_queue_flags_are_refused(
    tmp_path: Path, args: list[str], message: str
) -> None:
    workdir = make_workdir(tmp_path)
    seed_products(workdir, 2)
    result = run_cli("add-to-queue", *args, cwd=workdir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "no capacity" not in result.stdout + result.stderr
    assert queue_rows(workdir) == []


def test_start_date_today_and_a_year_ahead_are_accepted(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path, "UTC", start=0, end=24)
    seed_products(workdir, 2)
    ahead = (date.today() + timedelta(days=365)).isoformat()
    for day in (datetime.now(UTC).date().isoformat(), ahead):
        result = run_cli("add-to-queue", "--distribute", "--start-date", day, "--limit", "1",
                         cwd=workdir)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "Queued 1 item(s)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check-queue", "--limit", "1" + "0" * 30], "--limit"),
        (["queue", "purge", "--older-than", "99999999d"], "at most 100 years"),
        (["queue", "purge", "--older-than", "1" + "0" * 300 + "d"], "at most 100 years"),
    ],
)
def test_out_of_range_check_and_purge_flags_are_refused(
    tmp_path: Path, args: list[str], message: str
) -> None:
    workdir = make_workdir(tmp_path)
    seed_products(workdir, 1)
    result = run_cli(*args, cwd=workdir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_states_the_bounds(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path)
    add_help = run_cli("add-to-queue", "--help", cwd=workdir, env={"COLUMNS": "200"}).stdout
    assert "1000000" in add_help and "366d" in add_help and "3 years" in add_help
    purge_help = run_cli("queue", "purge", "--help", cwd=workdir, env={"COLUMNS": "200"}).stdout
    assert "100 years" in purge_help


EVIL_ASIN = "B0\x1b[31mRED\x9b2J"
EVIL_ERROR = "boom\x1b]0;owned\x07\nforged log line\r\u202e[bold]x[/]"


def test_check_queue_escapes_control_characters(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path)
    engine = open_database(load_settings(workdir / "upload-scheduler.toml").database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(products.insert().values(asin=EVIL_ASIN, title="t", price=100,
                                              created_at=now, updated_at=now))  # fmt: skip
        conn.execute(listings.insert().values(asin=EVIL_ASIN, platform="base",
                                              created_at=now, updated_at=now))  # fmt: skip
    engine.dispose()
    assert run_cli("add-to-queue", "--limit", "1", cwd=workdir).returncode == 0
    engine = open_database(load_settings(workdir / "upload-scheduler.toml").database_url)
    with engine.begin() as conn:
        conn.execute(update(upload_queue).values(error_message=EVIL_ERROR))
    engine.dispose()

    shown = run_cli("check-queue", cwd=workdir, env={"COLUMNS": "300"})
    assert shown.returncode == 0, shown.stderr
    for raw in ("\x1b", "\x9b", "\x07", "\r", "\u202e"):
        assert raw not in shown.stdout, repr(raw)
    assert "forged log line" in shown.stdout
    for visible in ("B0\\x1b[31mRED\\x9b2J", "\\x07", "\\x0a", "\\u202e", "[bold]x[/]"):
        assert visible in shown.stdout, visible

    as_json = run_cli("check-queue", "--json", cwd=workdir)
    assert as_json.returncode == 0, as_json.stderr
    for raw in ("\x1b", "\x9b", "\x07", "\r", "\n", "\u202e"):
        assert raw not in as_json.stdout.strip(), repr(raw)
    [item] = json.loads(as_json.stdout)["items"]
    assert (item["asin"], item["error_message"]) == (EVIL_ASIN, EVIL_ERROR)
