"""`queue purge`, `db backup` and `config check`'s warnings as a user runs them."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli
from tests.acceptance.daemon_helpers import ACCOUNT, workspace

pytestmark = pytest.mark.acceptance


def test_purge_backup_and_config_warnings(tmp_path: Path) -> None:
    with workspace(tmp_path, latency=0.0) as space:
        space.queue_products(6)
        with contextlib.closing(sqlite3.connect(space.database)) as db, db:
            db.execute(
                "UPDATE upload_queue SET status = 'success', processed_at = '2020-01-01 00:00:00' "
                "WHERE id IN (1, 2)"
            )
            db.execute(
                "UPDATE upload_queue SET status = 'failed', processed_at = '2020-01-01 00:00:00' "
                "WHERE id = 3"
            )
            db.execute("UPDATE upload_queue SET account_id = 'retired' WHERE id = 6")

        dry = run_cli("queue", "purge", "--older-than", "30d", "--dry-run", cwd=tmp_path)
        assert dry.returncode == 0, dry.stderr
        assert (
            "Would delete 2 queue row(s)" in dry.stdout and "2 success, 0 cancelled" in dry.stdout
        )
        assert len(space.queue()) == 6
        refused = run_cli(
            "queue", "purge", "--older-than", "30d", "--status", "failed", cwd=tmp_path
        )
        assert refused.returncode == 1 and "still work" in refused.stderr
        done = run_cli("queue", "purge", "--older-than", "30d", cwd=tmp_path)
        assert done.returncode == 0 and "Deleted 2 queue row(s)" in done.stdout
        assert [r["status"] for r in space.queue()] == ["failed", "pending", "pending", "pending"]

        backup = tmp_path / "backups" / "us-copy.db"
        made = run_cli("db", "backup", str(backup), cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        assert "4 queue row(s)" in made.stdout
        with contextlib.closing(sqlite3.connect(backup)) as copy:
            assert copy.execute("SELECT count(*) FROM upload_queue").fetchone() == (4,)
        again = run_cli("db", "backup", str(backup), cwd=tmp_path)
        assert again.returncode == 1 and "not overwriting" in again.stderr

        checked = run_cli("config", "check", cwd=tmp_path)
        assert checked.returncode == 0, checked.stderr
        assert "1 pending queue item(s) belong to fake/retired" in checked.stdout
        assert ACCOUNT not in checked.stdout.split("warning:", 1)[-1]
