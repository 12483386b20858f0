"""The migrations build exactly the schema the code declares, and apply on first use."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import create_db_engine
from upload_scheduler.store.migrate import HEAD_REVISION, alembic_config, current_revision, upgrade
from upload_scheduler.store.tables import metadata


def test_head_constant_matches_the_migration_scripts() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == HEAD_REVISION


def test_migrations_equal_the_declared_schema(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    indexes = {i["name"] for i in inspect(engine).get_indexes("upload_queue")}
    assert {"ix_upload_queue_claim", "uq_upload_queue_active"} <= indexes


def test_first_use_migrates_and_second_use_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/first.db"
    engine = open_database(url)
    assert current_revision(engine) == HEAD_REVISION
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE marker (x INTEGER)"))
    again = open_database(url)
    assert "marker" in inspect(again).get_table_names()


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
