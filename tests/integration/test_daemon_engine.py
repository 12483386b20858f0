"""A daemon process's engine: a small SQLite page cache and pool (each of a host's
daemon processes counts against the issue's 45 MB), other engines SQLite's defaults."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import DAEMON_POOL_SIZE, DAEMON_SQLITE_CACHE_KIB


def pragma(engine, name: str) -> object:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(text(f"PRAGMA {name}")).scalar()


def test_daemon_engine_has_a_small_page_cache_and_pool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'us.db'}"
    daemon = open_database(url, daemon=True)
    other = open_database(url)
    try:
        assert pragma(daemon, "cache_size") == -DAEMON_SQLITE_CACHE_KIB
        assert daemon.pool.size() == DAEMON_POOL_SIZE  # type: ignore[attr-defined]
        assert pragma(other, "cache_size") == -2000  # SQLite's default
        # The other settings every connection gets are kept.
        assert pragma(daemon, "journal_mode") == "wal"
        assert pragma(daemon, "foreign_keys") == 1
    finally:
        daemon.dispose()
        other.dispose()
