"""The CLI's queue and account commands write the activity log (issue 18), run as a user
runs them: real processes, a real config file and SQLite file. Each command that acted
leaves one entry (who, what, on what, how many items, when), also when it changed
nothing; a --dry-run or a refused command leaves none.

One test for the whole sequence: every CLI process costs about a second, so the
commands run once each and the log is read after each step that should (not) write.
"""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.acceptance.cli import run_cli
from tests.acceptance.test_cli_foundation import queue_rows, seed_products
from upload_scheduler.operations import activity
from upload_scheduler.operations.activity import Activity
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import upload_queue

pytestmark = pytest.mark.acceptance

CONFIG = """\
database = "sqlite:///{db}"
timezone = "Asia/Tokyo"

[accounts]
base = ["shop1", "shop2"]
"""


def _ok(workdir: Path, *args: str) -> str:
    done = run_cli(*args, cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_queue_and_account_commands_log_what_they_did(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    (tmp_path / "upload-scheduler.toml").write_text(CONFIG.format(db=db), encoding="utf-8")
    seed_products(tmp_path, 4)
    engine = open_database(f"sqlite:///{db}")

    def log() -> list[Activity]:
        return list(reversed(activity.recent(engine)))  # oldest first

    try:
        # A dry run and a refused command write nothing.
        assert "Dry run" in _ok(tmp_path, "add-to-queue", "--limit", "2", "--dry-run")
        refused = run_cli("queue", "cancel", cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert log() == []

        before = datetime.now(UTC)
        _ok(tmp_path, "add-to-queue", "--limit", "4", "--priority", "10")
        after = datetime.now(UTC)
        rows = queue_rows(tmp_path)
        assert len(rows) == 4
        [added] = log()
        assert added.actor == f"{getpass.getuser()}@{socket.gethostname()}"
        assert (added.source, added.action) == (activity.CLI, activity.ADD_TO_QUEUE)
        assert (added.platform, added.account_id, added.items) == ("base", None, 4)
        assert before - timedelta(seconds=1) <= added.at <= after
        assert added.target == "pending listings, up to 4"
        assert added.detail == "scheduled now, priority 10, shop1: 2, shop2: 2"

        # ids and an ASIN together select their intersection: one row.
        first, second = rows[0], rows[1]
        _ok(tmp_path, "queue", "cancel", str(first["id"]), "--asin", str(first["asin"]))
        # One row failed: requeued by ASIN; then --all on an account with none failed.
        with engine.begin() as conn:
            conn.execute(
                update(upload_queue)
                .where(upload_queue.c.id == second["id"])
                .values(status="failed")
            )
        _ok(tmp_path, "queue", "requeue", "--asin", str(second["asin"]))
        _ok(tmp_path, "queue", "requeue", "--all", "--account-id", "shop1")
        cancel, retry, retry_none = log()[1:]
        assert (cancel.action, cancel.platform, cancel.account_id) == ("cancel", "base", None)
        assert (cancel.target, cancel.items) == (f"ids {first['id']}, asin {first['asin']}", 1)
        assert (retry.action, retry.target, retry.items) == ("retry", f"asin {second['asin']}", 1)
        assert (retry_none.action, retry_none.account_id) == ("retry", "shop1")
        assert (retry_none.target, retry_none.items) == ("all failed of base/shop1", 0)
        assert {e.source for e in log()} == {"cli"}

        # The cancelled row finished two days ago: a purge of a day deletes it.
        with engine.begin() as conn:
            conn.execute(
                update(upload_queue)
                .where(upload_queue.c.id == first["id"])
                .values(processed_at=datetime.now(UTC) - timedelta(days=2))
            )
        assert "Would delete 1" in _ok(
            tmp_path, "queue", "purge", "--older-than", "1d", "--dry-run"
        )
        assert len(log()) == 4
        _ok(tmp_path, "queue", "purge", "--older-than", "1d")
        purge = log()[-1]
        assert (purge.action, purge.platform, purge.account_id, purge.items) == (
            "purge",
            None,
            None,
            1,
        )
        assert purge.target == "success,cancelled finished over 1d ago"
        assert purge.detail.startswith("0 success, 1 cancelled; finished before ")

        _ok(tmp_path, "account", "pause", "--account", "shop2", "--until", "2h", "--reason", "sale")
        _ok(tmp_path, "account", "resume", "--account", "shop2")
        pause, resume = log()[-2:]
        assert (pause.action, pause.platform, pause.account_id, pause.items) == (
            "pause",
            "base",
            "shop2",
            0,
        )
        assert pause.detail.startswith("operator: sale; until ")
        assert pause.detail.endswith(" Asia/Tokyo")
        assert (resume.action, resume.account_id) == ("resume", "shop2")
        assert resume.detail == f"lifted {pause.detail}"
        assert len({e.id for e in log()}) == len(log()) == 7
        assert all(e.actor == added.actor for e in log())
    finally:
        engine.dispose()
