"""`queue purge`, `db backup` and `config check`'s warnings as a user runs them, on SQLite
and PostgreSQL (the `database_url` fixture); `db backup` copies SQLite files only."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.acceptance.cli import run_cli
from tests.acceptance.daemon_helpers import ACCOUNT, DatabaseWorkspace, workspace
from tests.backends import postgres_only, sqlite_only
from upload_scheduler.store.tables import upload_queue

pytestmark = pytest.mark.acceptance

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class Space(DatabaseWorkspace):
    """The shared workspace on the fixture's database, whose rows a test can age."""

    def set_rows(self, ids: list[int], **values: Any) -> None:
        with self.connect() as conn, conn.begin():
            conn.execute(update(upload_queue).where(upload_queue.c.id.in_(ids)).values(**values))


@pytest.fixture
def space(tmp_path: Path, database_url: str) -> Iterator[Space]:
    def make(root: Path) -> Space:
        return Space(root, database_url=database_url)

    with workspace(tmp_path, latency=0.0, database=database_url, make=make) as made:
        yield made


def test_purge_and_config_warnings(space: Space, tmp_path: Path) -> None:
    space.queue_products(6)
    ids = [r["id"] for r in space.queue()]
    space.set_rows(ids[0:2], status="success", processed_at=LONG_AGO)
    space.set_rows(ids[2:3], status="failed", processed_at=LONG_AGO)
    space.set_rows(ids[5:6], account_id="retired")

    dry = run_cli("queue", "purge", "--older-than", "30d", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "Would delete 2 queue row(s)" in dry.stdout and "2 success, 0 cancelled" in dry.stdout
    assert len(space.queue()) == 6
    refused = run_cli("queue", "purge", "--older-than", "30d", "--status", "failed", cwd=tmp_path)
    assert refused.returncode == 1 and "still work" in refused.stderr
    done = run_cli("queue", "purge", "--older-than", "30d", cwd=tmp_path)
    assert done.returncode == 0 and "Deleted 2 queue row(s)" in done.stdout
    assert [r["status"] for r in space.queue()] == ["failed", "pending", "pending", "pending"]

    checked = run_cli("config", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "1 pending queue item(s) belong to fake/retired" in checked.stdout
    assert ACCOUNT not in checked.stdout.split("warning:", 1)[-1]


@sqlite_only
def test_db_backup_copies_the_sqlite_file(space: Space, tmp_path: Path) -> None:
    space.queue_products(4)

    backup = tmp_path / "backups" / "us-copy.db"
    made = run_cli("db", "backup", str(backup), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "4 queue row(s)" in made.stdout
    with contextlib.closing(sqlite3.connect(backup)) as copy:
        assert copy.execute("SELECT count(*) FROM upload_queue").fetchone() == (4,)
    again = run_cli("db", "backup", str(backup), cwd=tmp_path)
    assert again.returncode == 1 and "not overwriting" in again.stderr


@postgres_only
def test_db_backup_on_postgresql_names_pg_dump(space: Space, tmp_path: Path) -> None:
    backup = tmp_path / "backups" / "us-copy.db"
    refused = run_cli("db", "backup", str(backup), cwd=tmp_path)
    assert refused.returncode == 1
    assert "pg_dump" in refused.stderr and "Traceback" not in refused.stderr
    assert not backup.exists()
