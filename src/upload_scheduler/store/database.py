"""Open the configured database, migrated to the current schema."""

from __future__ import annotations

from sqlalchemy import Engine

from upload_scheduler.store.engine import (
    DAEMON_POOL_SIZE,
    DAEMON_SQLITE_CACHE_KIB,
    create_db_engine,
)
from upload_scheduler.store.migrate import ensure_schema


def open_database(url: str, *, migrate: bool = True, daemon: bool = False) -> Engine:
    """An engine for `url`; applies pending migrations first unless told not to.

    `daemon`: the engine of a daemon process, which uses one connection at a time:
    a small pool and a small SQLite page cache keep each of a host's (perhaps 100)
    daemon processes small."""
    if daemon:
        engine = create_db_engine(
            url, sqlite_cache_kib=DAEMON_SQLITE_CACHE_KIB, pool_size=DAEMON_POOL_SIZE
        )
    else:
        engine = create_db_engine(url)
    if migrate:
        ensure_schema(engine)
    return engine
