"""Housekeeping on a real database: `queue purge` deletes only finished rows older than
the cutoff, in batches that are separate transactions; `db backup` (SQLite) makes a
consistent, private copy while another connection keeps writing; `config check`'s audit
finds queued work of accounts that left the config."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from tests.backends import sqlite_only
from tests.integration import test_daemon
from tests.integration.test_daemon import ACCOUNT, PLATFORM, START, Env
from upload_scheduler.config import settings_from_dict
from upload_scheduler.operations.backup import BackupError, backup_database
from upload_scheduler.operations.config_audit import OrphanWork, unconfigured_queue_accounts
from upload_scheduler.operations.purge import PurgeError, purge_queue
from upload_scheduler.store.engine import create_db_engine
from upload_scheduler.store.tables import listings, upload_queue

make_env = test_daemon.make_env
env = test_daemon.env

DAY = timedelta(days=1)


def _finish(env: Env, queue_id: int, status: str, age: timedelta) -> None:
    finished = env.clock.now() - age
    with env.engine.begin() as conn:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == queue_id)
            .values(status=status, processed_at=finished, updated_at=finished)
        )


def _statuses(env: Env) -> dict[str, str]:
    return {r["asin"]: r["status"] for r in env.rows()}


def test_purge_deletes_only_old_finished_rows_and_keeps_the_listings(env: Env) -> None:
    plan = {
        "B0OLDSUCC1": ("success", 40 * DAY),
        "B0OLDCANC1": ("cancelled", 31 * DAY),
        "B0NEWSUCC1": ("success", 29 * DAY),
        "B0OLDFAIL1": ("failed", 90 * DAY),
        "B0OLDUPLD1": ("uploading", 90 * DAY),
        "B0OLDPEND1": ("pending", 90 * DAY),
    }
    for asin, (status, age) in plan.items():
        _finish(env, env.add_item(asin), status, age)
    with env.engine.connect() as conn:
        listings_before = conn.execute(select(listings).order_by(listings.c.id)).all()
    cutoff = env.clock.now() - 30 * DAY

    dry = purge_queue(env.engine, cutoff=cutoff, dry_run=True)
    assert dict(dry.counts) == {"success": 1, "cancelled": 1}
    assert len(env.rows()) == 6

    report = purge_queue(env.engine, cutoff=cutoff)
    assert dict(report.counts) == {"success": 1, "cancelled": 1}
    assert _statuses(env) == {
        "B0NEWSUCC1": "success",
        "B0OLDFAIL1": "failed",
        "B0OLDUPLD1": "uploading",
        "B0OLDPEND1": "pending",
    }
    with env.engine.connect() as conn:
        assert conn.execute(select(listings).order_by(listings.c.id)).all() == listings_before
    # A second run finds nothing: idempotent.
    assert purge_queue(env.engine, cutoff=cutoff).total == 0


def test_purge_only_the_chosen_status(env: Env) -> None:
    _finish(env, env.add_item("B0STAT0001"), "success", 40 * DAY)
    _finish(env, env.add_item("B0STAT0002"), "cancelled", 40 * DAY)
    report = purge_queue(env.engine, cutoff=env.clock.now(), statuses=["cancelled"])
    assert dict(report.counts) == {"cancelled": 1}
    assert _statuses(env) == {"B0STAT0001": "success"}


@pytest.mark.parametrize("status", ["pending", "uploading", "failed", "bogus"])
def test_purge_refuses_statuses_that_are_still_work(env: Env, status: str) -> None:
    _finish(env, env.add_item("B0REFUSE01"), "failed", 40 * DAY)
    with pytest.raises(PurgeError, match="only finished rows"):
        purge_queue(env.engine, cutoff=env.clock.now(), statuses=["success", status])
    assert len(env.rows()) == 1


def test_purge_commits_batch_by_batch(env: Env) -> None:
    ids = [env.add_item(f"B0BATCH{n:03d}") for n in range(25)]
    for queue_id in ids:
        _finish(env, queue_id, "success", 40 * DAY)
    commits: list[int] = []
    seen_by_other: list[int] = []
    other = create_db_engine(env.settings.database_url)
    count_rows = select(func.count()).select_from(upload_queue)

    def on_commit(conn: object) -> None:
        commits.append(1)
        # As each batch is about to commit, another connection reads the table without
        # waiting, and sees every earlier batch already gone.
        with other.connect() as reader:
            seen_by_other.append(reader.execute(count_rows).scalar_one())

    event.listen(env.engine, "commit", on_commit)
    try:
        report = purge_queue(env.engine, cutoff=env.clock.now() - DAY, batch_rows=10)
    finally:
        event.remove(env.engine, "commit", on_commit)
        other.dispose()

    assert report.total == 25 and report.batches == 3
    assert len(commits) == 4  # three batches that deleted, one that found nothing
    assert seen_by_other == [25, 15, 5, 0]


@sqlite_only
def test_backup_is_a_consistent_private_copy_made_while_another_process_writes(
    env: Env, tmp_path: Path
) -> None:
    for n in range(200):
        env.add_item(f"B0BACKUP{n:03d}")
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        db = sqlite3.connect(env.settings.database_url.removeprefix("sqlite:///"), timeout=30)
        try:
            while not stop.is_set():
                with db:
                    db.execute("UPDATE upload_queue SET attempts = attempts + 1")
                    db.execute(
                        "INSERT INTO account_usage (platform, account_id, day, creations, calls) "
                        "VALUES (?, ?, ?, 0, 0)",
                        (PLATFORM, ACCOUNT, f"d{len(written):06d}"),
                    )
                written.append(1)
        finally:
            db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        report = backup_database(env.settings.database_url, tmp_path / "copies" / "b.db")
    finally:
        stop.set()
        thread.join(timeout=30)

    copy = sqlite3.connect(report.destination)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # One snapshot: every queue row carries the same attempts, and the usage rows
        # are exactly as many as the updates seen.
        attempts = copy.execute("SELECT DISTINCT attempts FROM upload_queue").fetchall()
        usage_rows = copy.execute("SELECT count(*) FROM account_usage").fetchone()[0]
        assert attempts == [(usage_rows,)]
        assert copy.execute("SELECT count(*) FROM upload_queue").fetchone()[0] == 200
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        copy.close()
    assert report.tables["upload_queue"] == 200
    assert not (tmp_path / "copies" / "b.db-wal").exists()
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(report.destination).st_mode) == 0o600


@sqlite_only
def test_backup_never_overwrites_and_names_pg_dump_for_other_databases(
    env: Env, tmp_path: Path
) -> None:
    existing = tmp_path / "keep.db"
    existing.write_bytes(b"precious")
    with pytest.raises(BackupError, match="already exists"):
        backup_database(env.settings.database_url, existing)
    assert existing.read_bytes() == b"precious"
    with pytest.raises(BackupError, match="pg_dump"):
        backup_database("postgresql://u@localhost/db", tmp_path / "pg.db")
    assert not (tmp_path / "pg.db").exists()


def test_the_audit_finds_queued_work_of_accounts_no_longer_configured(
    env: Env, tmp_path: Path
) -> None:
    env.add_item("B0AUDIT001")
    gone = env.add_item("B0AUDIT002", account_id="retired_shop")
    env.add_item("B0AUDIT003", account_id="retired_shop")
    _finish(env, gone, "failed", DAY)
    done = env.add_item("B0AUDIT004", account_id="old_done_shop")
    _finish(env, done, "success", DAY)

    assert unconfigured_queue_accounts(env.settings) == [
        OrphanWork(PLATFORM, "retired_shop", "failed", 1),
        OrphanWork(PLATFORM, "retired_shop", "pending", 1),
    ]
    # No database yet: nothing to say, and no file is created.
    fresh = settings_from_dict(
        {"database": f"sqlite:///{tmp_path}/none.db", "accounts": {PLATFORM: [ACCOUNT]}},
        tmp_path / "upload-scheduler.toml",
    )
    assert unconfigured_queue_accounts(fresh) == []
    assert not (tmp_path / "none.db").exists()
    with env.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(upload_queue)).scalar_one() == 4
    assert START  # the env's clock start, for readers
