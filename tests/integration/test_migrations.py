"""The migrations build exactly the schema the code declares, and apply on first use."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import bindparam, inspect, text

from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import create_db_engine
from upload_scheduler.store.migrate import HEAD_REVISION, alembic_config, current_revision, upgrade
from upload_scheduler.store.schema import metadata
from upload_scheduler.store.types import UTCDateTime


def test_head_constant_matches_the_migration_scripts() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == HEAD_REVISION


def test_migrations_equal_the_declared_schema(unmigrated_database_url: str) -> None:
    engine = create_db_engine(unmigrated_database_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    indexes = {i["name"] for i in inspect(engine).get_indexes("upload_queue")}
    assert {"ix_upload_queue_claim", "uq_upload_queue_active"} <= indexes
    engine.dispose()


def test_first_use_migrates_and_second_use_is_a_no_op(unmigrated_database_url: str) -> None:
    engine = open_database(unmigrated_database_url)
    assert current_revision(engine) == HEAD_REVISION
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE marker (x INTEGER)"))
    again = open_database(unmigrated_database_url)
    assert "marker" in inspect(again).get_table_names()
    engine.dispose()
    again.dispose()


def _first_use(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait(timeout=60)
    open_database(url).dispose()


def test_concurrent_first_uses_migrate_once(unmigrated_database_url: str) -> None:
    """Several hosts starting at once on a new database: the migration lock lets one
    migrate while the others wait, then find the schema ready."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    processes = [
        context.Process(target=_first_use, args=(unmigrated_database_url, barrier))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    engine = create_db_engine(unmigrated_database_url)
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [(HEAD_REVISION,)]
    engine.dispose()


def test_sqlite_pragmas_are_on(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_database_file_is_private(tmp_path: Path) -> None:
    open_database(f"sqlite:///{tmp_path}/secret.db")
    mode = stat.S_IMODE(os.stat(tmp_path / "secret.db").st_mode)
    assert mode == 0o600


def test_0008_adds_english_text_to_products_and_keeps_the_rows(
    unmigrated_database_url: str,
) -> None:
    """A database of the previous release (0007) with products, listings and queue rows:
    the upgrade keeps every row and gives the products "" English text; the downgrade
    drops the columns without rebuilding `products`, whose delete trigger would take
    the listings along on SQLite."""
    engine = create_db_engine(unmigrated_database_url)
    upgrade(engine, "0007")
    now = "2026-01-05 00:00:00"
    with engine.begin() as conn:
        for asin in ("A1", "A2"):
            conn.execute(
                text(
                    "INSERT INTO products (asin, title, description, price, stock, images, "
                    "brand, category, created_at, updated_at) VALUES (:asin, '商品', 'd', 100, "
                    "1, '[]', 'b', 'c', :now, :now)"
                ),
                {"asin": asin, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO listings (asin, platform, status, created_at, updated_at) "
                    "VALUES (:asin, 'base', 'pending', :now, :now)"
                ),
                {"asin": asin, "now": now},
            )
        conn.execute(
            text(
                "INSERT INTO upload_queue (listing_id, asin, platform, account_id, "
                "scheduled_time, created_at, updated_at) SELECT id, asin, 'base', 'acct', "
                ":now, :now, :now FROM listings"
            ),
            {"now": now},
        )

    upgrade(engine, "0008")

    assert current_revision(engine) == "0008"
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT asin, title, brand, title_en, description_en FROM products ORDER BY asin")
        ).all()
        counts = [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("listings", "upload_queue")
        ]
    assert [tuple(r) for r in rows] == [("A1", "商品", "b", "", ""), ("A2", "商品", "b", "", "")]
    assert counts == [2, 2]

    from alembic import command

    command.downgrade(alembic_config(engine), "0007")

    assert current_revision(engine) == "0007"
    columns = {c["name"] for c in inspect(engine).get_columns("products")}
    assert not columns & {"title_en", "description_en"}
    with engine.connect() as conn:
        counts = [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("products", "listings", "upload_queue")
        ]
    assert counts == [2, 2, 2]
    engine.dispose()


def test_0009_adds_application_budgets_offer_ids_and_refresh_ends(
    unmigrated_database_url: str,
) -> None:
    """From 0008 with a listing: the upgrade adds the per-application usage table, a NULL
    offer id on the listing and a NULL refresh end on tokens; the downgrade drops them
    and keeps the listing (no table rebuild, so no cascade trigger fires)."""
    engine = create_db_engine(unmigrated_database_url)
    upgrade(engine, "0008")
    now = "2026-01-05 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (asin, title, price, created_at, updated_at) "
                "VALUES ('A1', 't', 100, :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO listings (asin, platform, status, platform_item_id, created_at, "
                "updated_at) VALUES ('A1', 'ebay', 'listed', '110', :now, :now)"
            ),
            {"now": now},
        )

    upgrade(engine)

    assert current_revision(engine) == "0011"
    with engine.begin() as conn:
        assert conn.execute(text("SELECT platform_item_id, offer_id FROM listings")).one() == (
            "110",
            None,
        )
        conn.execute(
            text(
                "INSERT INTO application_usage (platform, application, day, calls) "
                "VALUES ('ebay', 'app', '2026-01-04', 3)"
            )
        )
    assert "refresh_expires_at" in {c["name"] for c in inspect(engine).get_columns("oauth_tokens")}

    from alembic import command

    command.downgrade(alembic_config(engine), "0008")

    assert "application_usage" not in inspect(engine).get_table_names()
    assert "offer_id" not in {c["name"] for c in inspect(engine).get_columns("listings")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM listings")).scalar() == 1
    engine.dispose()


def test_0011_counts_finished_uploads_and_keeps_counting_by_trigger(
    unmigrated_database_url: str,
) -> None:
    """From 0010 with finished rows: the upgrade counts each finished upload once per
    (account, result, UTC hour of its end) and no delete job; from then on the trigger
    adds one for every change of an upload to success or failed, whoever makes it, and
    nothing for a delete job, a change that leaves the status as it was, a requeue or a
    deleted row. The downgrade drops its tables and the trigger."""
    engine = create_db_engine(unmigrated_database_url)
    upgrade(engine, "0010")
    at = datetime(2026, 1, 4, 15, 10, tzinfo=UTC)
    row = text(
        "INSERT INTO upload_queue (id, listing_id, asin, platform, account_id, kind, "
        "scheduled_time, status, created_at, updated_at, processed_at) VALUES (:id, 1, 'A1', "
        "'base', :account, :kind, :at, :status, :at, :updated, :processed)"
    ).bindparams(
        bindparam("at", type_=UTCDateTime()),
        bindparam("updated", type_=UTCDateTime()),
        bindparam("processed", type_=UTCDateTime()),
    )
    rows = [
        (1, "acct", "upload", "success", at, at),
        (2, "acct", "upload", "success", at, at + timedelta(minutes=40)),
        # No end recorded (an old row): its last update stands for it.
        (3, "acct", "upload", "failed", at + timedelta(hours=1), None),
        (4, "acct", "delete", "success", at, at),
        (5, "other", "upload", "cancelled", at, at),
        (6, "other", "upload", "pending", at, None),
        (7, "third", "delete", "pending", at, None),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO products (asin, title, price, created_at, updated_at) "
                "VALUES ('A1', 't', 100, :at, :at)"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO listings (id, asin, platform, status, created_at, updated_at) "
                "VALUES (1, 'A1', 'base', 'listed', :at, :at)"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            {"at": at},
        )
        for id_, account, kind, status, updated, processed in rows:
            conn.execute(
                row,
                {
                    "id": id_,
                    "account": account,
                    "kind": kind,
                    "status": status,
                    "at": at,
                    "updated": updated,
                    "processed": processed,
                },
            )

    upgrade(engine, "0011")

    def counts() -> dict[tuple[str, str, str], int]:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT account_id, result, hour, count FROM upload_counts"))
            return {(a, r, h): n for a, r, h, n in found}

    assert counts() == {
        ("acct", "success", "2026-01-04 15"): 2,
        ("acct", "failed", "2026-01-04 16"): 1,
    }
    assert {"upload_counts", "activity_log", "queue_events"} <= set(
        inspect(engine).get_table_names()
    )

    later = datetime(2026, 1, 5, 1, 5, tzinfo=UTC)
    change = text(
        "UPDATE upload_queue SET status = :status, updated_at = :at, processed_at = :at "
        "WHERE id = :id"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    with engine.begin() as conn:
        conn.execute(change, {"id": 6, "status": "success", "at": later})  # counted
        conn.execute(change, {"id": 7, "status": "success", "at": later})  # a delete job
        conn.execute(change, {"id": 1, "status": "success", "at": later})  # unchanged
        conn.execute(text("UPDATE upload_queue SET attempts = 2 WHERE id = 2"))
        conn.execute(change, {"id": 3, "status": "pending", "at": later})  # requeued
    with engine.begin() as conn:
        conn.execute(change, {"id": 3, "status": "failed", "at": later})  # failed again
        conn.execute(text("DELETE FROM upload_queue WHERE status = 'success'"))

    assert counts() == {
        ("acct", "success", "2026-01-04 15"): 2,
        ("acct", "failed", "2026-01-04 16"): 1,
        ("other", "success", "2026-01-05 01"): 1,
        ("acct", "failed", "2026-01-05 01"): 1,
    }

    from alembic import command

    command.downgrade(alembic_config(engine), "0010")

    assert current_revision(engine) == "0010"
    assert not {"upload_counts", "activity_log", "queue_events"} & set(
        inspect(engine).get_table_names()
    )
    with engine.begin() as conn:  # no trigger left to write into a missing table
        conn.execute(change, {"id": 3, "status": "pending", "at": later})
        conn.execute(change, {"id": 3, "status": "failed", "at": later})
        assert conn.execute(text("SELECT status FROM upload_queue WHERE id = 3")).scalar() == (
            "failed"
        )
    engine.dispose()
