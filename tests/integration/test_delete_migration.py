"""Migration 0005 (delete jobs) rebuilds upload_queue on SQLite: the rows, every index as
declared (partial and DESC ones included), the cascade triggers and the constraints
must all come through, and the new kind must be accepted."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from upload_scheduler.store.engine import create_db_engine
from upload_scheduler.store.migrate import upgrade
from upload_scheduler.store.schema import metadata

STAMP = "2026-01-05 00:00:00"


def _schema(path: Path, kind: str) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = ?", (kind,)).fetchall()
    return {name: re.sub(r"\s+", " ", sql).strip() for name, sql in rows if sql}


def _queue_row(db: sqlite3.Connection, listing_id: int, asin: str, status: str, kind: str) -> None:
    db.execute(
        "INSERT INTO upload_queue (listing_id, asin, platform, account_id, kind, scheduled_time, "
        "status, created_at, updated_at) VALUES (?, ?, 'base', 'a1', ?, ?, ?, ?, ?)",
        (listing_id, asin, kind, STAMP, status, STAMP, STAMP),
    )


def test_the_rebuild_keeps_rows_indexes_triggers_and_accepts_delete_jobs(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine, "0004")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO products (asin, title, price, created_at, updated_at) "
            "VALUES ('B0MIGR0001', 't', 100, ?, ?)",
            (STAMP, STAMP),
        )
        db.execute(
            "INSERT INTO listings (id, asin, platform, account_id, status, created_at, "
            "updated_at) VALUES (7, 'B0MIGR0001', 'base', 'a1', 'listed', ?, ?)",
            (STAMP, STAMP),
        )
        _queue_row(db, 7, "B0MIGR0001", "success", "upload")
    upgrade(engine)
    engine.dispose()

    declared = tmp_path / "declared.db"
    fresh = create_engine(f"sqlite:///{declared}")
    metadata.create_all(fresh)
    fresh.dispose()
    migrated_indexes = _schema(path, "index")
    for name, sql in _schema(declared, "index").items():
        assert migrated_indexes[name] == sql.replace('"', ""), name
    assert set(_schema(path, "trigger")) == {
        "trg_products_delete_listings",
        "trg_listings_delete_queue",
        # 0011: the upload counter and the item history, and the history's cascade.
        "trg_upload_queue_count",
        "trg_upload_queue_event",
        "trg_upload_queue_delete_events",
    }

    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT asin, status, kind FROM upload_queue").fetchall() == [
            ("B0MIGR0001", "success", "upload")
        ]
        with db:
            _queue_row(db, 7, "B0MIGR0001", "pending", "delete")
        with pytest.raises(sqlite3.IntegrityError, match="kind_known"), db:
            _queue_row(db, 7, "B0MIGR0001", "success", "relist")
        # Still one live row per (asin, platform, account), and only one.
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"), db:
            _queue_row(db, 7, "B0MIGR0001", "pending", "upload")
        # The cascade trigger works on a connection with foreign keys off.
        with db:
            db.execute("PRAGMA foreign_keys = OFF")
            db.execute("DELETE FROM products")
        assert db.execute("SELECT count(*) FROM upload_queue").fetchone() == (0,)
