"""The foundation commands, run as a user runs them: real processes, a real database
(SQLite or PostgreSQL, the `database_url` fixture)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from tests.acceptance.cli import run_cli
from tests.backends import one_database
from upload_scheduler.config import load_settings
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, products, upload_queue

CONFIG = """\
database = "{database_url}"
timezone = "Asia/Tokyo"

[accounts]
base = ["base_account_1", "base_account_2"]

[account_overrides.base_account_2]
business_hours_start = 9
business_hours_end = 18
"""

JSON_ITEM_KEYS = [
    "id",
    "asin",
    "platform",
    "account_id",
    "status",
    "priority",
    "scheduled_time",
    "attempts",
    "error_message",
]


@pytest.fixture
def workdir(tmp_path: Path, database_url: str) -> Path:
    config = CONFIG.format(database_url=database_url)
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    return tmp_path


def seed_products(workdir: Path, count: int) -> None:
    engine = open_database(load_settings(workdir / "upload-scheduler.toml").database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(products),
            [
                {
                    "asin": f"B0{i:08d}",
                    "title": f"商品 {i}",
                    "price": 1980,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
        conn.execute(
            insert(listings),
            [
                {"asin": f"B0{i:08d}", "platform": "base", "created_at": now, "updated_at": now}
                for i in range(count)
            ],
        )
    engine.dispose()


def queue_rows(workdir: Path) -> list[dict[str, object]]:
    engine = open_database(load_settings(workdir / "upload-scheduler.toml").database_url)
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(select(upload_queue).order_by(upload_queue.c.id)).mappings()
        ]
    engine.dispose()
    return rows


@one_database
def test_module_and_every_command_have_help(workdir: Path) -> None:
    commands = [
        [],
        ["init"],
        ["config", "check"],
        ["db", "upgrade"],
        ["db", "status"],
        ["products", "import"],
        ["add-to-queue"],
        ["check-queue"],
        ["queue", "cancel"],
        ["queue", "requeue"],
    ]
    for command in commands:
        result = run_cli(*command, "--help", cwd=workdir)
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage" in result.stdout


def test_init_writes_a_valid_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    first = run_cli("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    written = (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8")
    check = run_cli("config", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    second = run_cli("init", cwd=tmp_path)
    assert second.returncode == 1
    assert "already exists" in second.stderr
    assert (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8") == written


@one_database
def test_config_check_shows_overrides_and_fails_on_bad_files(workdir: Path) -> None:
    good = run_cli("config", "check", cwd=workdir)
    assert good.returncode == 0, good.stderr
    assert "base_account_2" in good.stdout and "(override)" in good.stdout
    bad = workdir / "bad.toml"
    bad.write_text(
        '[accounts]\nbase = ["a"]\n[daemon]\nbusiness_hour_start = 3\n', encoding="utf-8"
    )
    result = run_cli("--config", str(bad), "config", "check", cwd=workdir)
    assert result.returncode == 1
    assert "bad.toml" in result.stderr
    assert (
        "[daemon] business_hour_start: unknown key (did you mean 'business_hours_start'?)"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("check-queue", cwd=tmp_path)
    assert result.returncode != 0
    assert "upload-scheduler init" in result.stderr
    assert "Traceback" not in result.stderr


def test_distribute_plans_tomorrow_and_check_queue_json_has_the_contract_shape(
    workdir: Path,
) -> None:
    seed_products(workdir, 40)
    dry = run_cli("add-to-queue", "--distribute", "--limit", "30", "--dry-run", cwd=workdir)
    assert dry.returncode == 0, dry.stderr
    assert "Would queue 30" in dry.stdout and "nothing was written" in dry.stdout
    assert queue_rows(workdir) == []

    added = run_cli("add-to-queue", "--distribute", "--limit", "30", cwd=workdir)
    assert added.returncode == 0, added.stderr
    assert "Queued 30" in added.stdout
    rows = queue_rows(workdir)
    assert len(rows) == 30
    tokyo = ZoneInfo("Asia/Tokyo")
    tomorrow = (datetime.now(tokyo) + timedelta(days=1)).date()
    for row in rows:
        local = row["scheduled_time"].astimezone(tokyo)  # type: ignore[attr-defined]
        assert local.date() == tomorrow
        hours = (9, 18) if row["account_id"] == "base_account_2" else (6, 23)
        assert hours[0] <= local.hour < hours[1]
    counts = {
        a: sum(r["account_id"] == a for r in rows) for a in ("base_account_1", "base_account_2")
    }
    assert counts == {"base_account_1": 15, "base_account_2": 15}

    result = run_cli("check-queue", "--json", "--limit", "5", cwd=workdir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["statistics", "items"]
    assert data["statistics"] == {
        "pending": 30,
        "uploading": 0,
        "success": 0,
        "failed": 0,
        "cancelled": 0,
        "total": 30,
    }
    assert len(data["items"]) == 5
    for item in data["items"]:
        assert list(item) == JSON_ITEM_KEYS
        assert datetime.fromisoformat(item["scheduled_time"]).utcoffset() is not None


def test_urgent_items_are_due_now_and_come_first(workdir: Path) -> None:
    seed_products(workdir, 10)
    assert run_cli("add-to-queue", "--limit", "5", cwd=workdir).returncode == 0
    urgent = run_cli("add-to-queue", "--priority", "20", "--limit", "2", cwd=workdir)
    assert urgent.returncode == 0, urgent.stderr
    due = run_cli("check-queue", "--show-due", "--json", "--limit", "20", cwd=workdir)
    items = json.loads(due.stdout)["items"]
    assert len(items) == 7
    assert [i["priority"] for i in items[:2]] == [20, 20]
    assert all(i["priority"] == 5 for i in items[2:])


@one_database
def test_priority_out_of_range_is_refused(workdir: Path) -> None:
    result = run_cli("add-to-queue", "--priority", "21", cwd=workdir)
    assert result.returncode == 2
    assert "--priority" in result.stderr


def test_within_spreads_over_the_next_minutes_or_says_why_not(workdir: Path) -> None:
    seed_products(workdir, 6)
    result = run_cli(
        "add-to-queue",
        "--distribute",
        "--start",
        "now",
        "--within",
        "30m",
        "--limit",
        "6",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    now = datetime.now(UTC)
    for row in queue_rows(workdir):
        when = row["scheduled_time"]
        # Inside the next 30 minutes when business hours allow, else spilled to a later day.
        assert when >= now - timedelta(minutes=1)  # type: ignore[operator]


def test_cancel_and_requeue_from_the_command_line(workdir: Path) -> None:
    seed_products(workdir, 3)
    assert run_cli("add-to-queue", "--limit", "3", cwd=workdir).returncode == 0
    refused = run_cli("queue", "cancel", cwd=workdir)
    assert refused.returncode == 2
    ids = [str(r["id"]) for r in queue_rows(workdir)]
    cancelled = run_cli("queue", "cancel", ids[0], cwd=workdir)
    assert cancelled.returncode == 0 and "Cancelled 1" in cancelled.stdout
    statuses = [r["status"] for r in queue_rows(workdir)]
    assert statuses == ["cancelled", "pending", "pending"]
    again = run_cli("add-to-queue", "--limit", "3", cwd=workdir)
    assert "Queued 1" in again.stdout
    requeued = run_cli("queue", "requeue", "--all", cwd=workdir)
    assert requeued.returncode == 0 and "Requeued 0" in requeued.stdout


def test_db_status_counts_tables(workdir: Path) -> None:
    seed_products(workdir, 4)
    assert run_cli("add-to-queue", "--limit", "2", cwd=workdir).returncode == 0
    result = run_cli("db", "status", "--json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["products"] == {"rows": 4}
    assert counts["listings"]["pending"] == 2 and counts["listings"]["queued"] == 2
    assert counts["upload_queue"] == {"pending": 2, "total": 2}
    upgrade = run_cli("db", "upgrade", cwd=workdir)
    assert upgrade.returncode == 0 and "Already at the current schema" in upgrade.stdout


def test_config_check_names_each_accounts_secret_source(tmp_path: Path) -> None:
    """Accounts may carry their own OAuth secret (import-legacy writes them so); config
    check says where each one's comes from and whether it is there, never the value."""
    (tmp_path / "upload-scheduler.toml").write_text(
        'database = "sqlite:///q.db"\n\n[accounts]\nbase = ["shop_1", "shop_2"]\n\n'
        '[platforms.base]\nclient_secret_env = "US_TEST_SECRET_1"\n\n'
        '[account_overrides.shop_2]\nclient_secret_env = "US_TEST_SECRET_2"\n',
        encoding="utf-8",
    )
    result = run_cli("config", "check", cwd=tmp_path, env={"US_TEST_SECRET_1": "s3cr3t-value-1"})
    assert result.returncode == 0, result.stderr
    assert "shop_1: from $US_TEST_SECRET_1 (set)" in result.stdout
    assert "shop_2: from $US_TEST_SECRET_2 (not set)" in result.stdout
    # A setting that cannot run is said plainly: shop_2's daemon would exit 2.
    said = " ".join(result.stdout.split())
    assert "warning: client_secret_env: the environment variable US_TEST_SECRET_2" in said
    assert "the daemons of base/shop_2 and" in said
    assert "s3cr3t-value-1" not in result.stdout + result.stderr
