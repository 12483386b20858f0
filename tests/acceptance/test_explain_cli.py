"""`queue explain ID [--json]` run as a user runs it, with a real config file on SQLite:
an item scheduled later, and one whose account is paused, told in the account's zone
and as the documented JSON; an unknown id is one line and exit 1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from tests.acceptance.cli import run_cli
from tests.acceptance.test_cli_foundation import queue_rows, seed_products
from upload_scheduler.config import load_settings
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import upload_queue

pytestmark = pytest.mark.acceptance

ZONE = "Asia/Tokyo"
# Open all day, so the answer does not depend on when the test runs.
CONFIG = """\
database = "sqlite:///{db}"
timezone = "{zone}"

[accounts]
base = ["shop"]

[account_overrides.shop]
business_hours_start = 0
business_hours_end = 24
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    config = CONFIG.format(db=tmp_path / "queue.db", zone=ZONE)
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    seed_products(tmp_path, 2)
    result = run_cli("add-to-queue", "--limit", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path


def reschedule(workdir: Path, queue_id: int, when: datetime) -> None:
    engine = open_database(load_settings(workdir / "upload-scheduler.toml").database_url)
    with engine.begin() as conn:
        conn.execute(
            update(upload_queue).where(upload_queue.c.id == queue_id).values(scheduled_time=when)
        )
    engine.dispose()


def explain(workdir: Path, queue_id: int, *flags: str) -> str:
    result = run_cli("queue", "explain", str(queue_id), *flags, cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_an_item_scheduled_later_says_until_when_in_the_accounts_zone(workdir: Path) -> None:
    later_id = int(queue_rows(workdir)[1]["id"])  # type: ignore[call-overload]
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    reschedule(workdir, later_id, later)

    text = explain(workdir, later_id)
    shown = later.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M:%S")
    assert f"scheduled for later until {shown}" in text
    assert "no daemon is running for base/shop" in text
    assert "login needed: no tokens stored" in text

    answer = json.loads(explain(workdir, later_id, "--json"))
    assert set(answer) == {"id", "status", "reasons", "ahead"}
    assert answer["id"] == later_id and answer["status"] == "pending"
    assert answer["ahead"] == 1  # the other item: due now, and first in the due order
    codes = [r["code"] for r in answer["reasons"]]
    assert codes == ["scheduled", "login", "no_daemon", "ahead"]
    assert answer["reasons"][0] == {
        "code": "scheduled",
        "text": "scheduled for later",
        "until": later.isoformat(),
    }
    assert all(set(r) == {"code", "text", "until"} for r in answer["reasons"])


def test_a_paused_account_says_its_reason_and_end(workdir: Path) -> None:
    first_id = int(queue_rows(workdir)[0]["id"])  # type: ignore[call-overload]
    paused = run_cli(
        "account", "pause", "--account", "shop", "--until", "2h", "--reason", "shop review",
        cwd=workdir,
    )  # fmt: skip
    assert paused.returncode == 0, paused.stdout + paused.stderr

    answer = json.loads(explain(workdir, first_id, "--json"))
    assert [r["code"] for r in answer["reasons"]] == ["paused", "login", "no_daemon"]
    assert answer["ahead"] == 0
    pause = answer["reasons"][0]
    assert "shop review" in pause["text"]
    until = datetime.fromisoformat(pause["until"])
    assert timedelta(hours=1, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=2)

    text = explain(workdir, first_id)
    shown = until.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M:%S")
    assert f"account paused: operator: shop review until {shown}" in text
    assert f"Item {first_id} (base/shop): pending" in text


def test_an_unknown_id_is_one_line_and_exit_1(workdir: Path) -> None:
    result = run_cli("queue", "explain", "999", cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: no queue item has id 999"]
    assert result.stdout == ""
