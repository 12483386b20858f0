"""Alembic migrations, applied automatically on first use and by `db upgrade`.

Checking the revision is a single SELECT; Alembic itself is imported only when an
upgrade is due, which keeps daemon processes light.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from upload_scheduler.store.engine import sqlite_path

HEAD_REVISION = "0011"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


# pg_advisory_lock key: "upload-scheduler migrate" as a 63-bit integer, fixed for ever so
# that every version of the product takes the same lock.
PG_MIGRATION_LOCK = 0x7573_6D69_6772_6174


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`, one process at a time: a file lock beside an
    SQLite file, a PostgreSQL advisory lock across hosts."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock_conn:
            lock_conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_MIGRATION_LOCK})
            try:
                _run_alembic_upgrade(engine, revision)
            finally:
                lock_conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": PG_MIGRATION_LOCK}
                )
                lock_conn.commit()
        return
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:
        _run_alembic_upgrade(engine, revision)
        return
    from filelock import FileLock  # here: a daemon on a migrated database never needs it

    with FileLock(str(path) + ".migrate.lock", timeout=120):
        _run_alembic_upgrade(engine, revision)


def ensure_schema(engine: Engine) -> None:
    if current_revision(engine) != HEAD_REVISION:
        upgrade(engine)


def alembic_config(engine: Engine | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _run_alembic_upgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
