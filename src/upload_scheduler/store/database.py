"""Open the configured database, migrated to the current schema."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from upload_scheduler.store.engine import (
    DAEMON_POOL_SIZE,
    DAEMON_SQLITE_CACHE_KIB,
    create_db_engine,
    sqlite_path,
)
from upload_scheduler.store.migrate import ensure_schema


class DatabaseMissing(LookupError):
    """A command that only reads found no SQLite file at the configured path. Creating
    one would hide a typo'd path or a deleted database behind a new, empty one."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"the database {path} does not exist yet")
        self.path = path


def open_database(
    url: str, *, migrate: bool = True, daemon: bool = False, create: bool = True
) -> Engine:
    """An engine for `url`; applies pending migrations first unless told not to.

    `daemon`: the engine of a daemon process, which uses one connection at a time:
    a small pool and a small SQLite page cache keep each of a host's (perhaps 100)
    daemon processes small.

    `create`: False for commands that only read: an SQLite file that does not exist
    raises DatabaseMissing instead of being created (PostgreSQL databases are never
    created by us)."""
    path = sqlite_path(url)
    if not create and path is not None and not path.exists():
        raise DatabaseMissing(path)
    if daemon:
        engine = create_db_engine(
            url, sqlite_cache_kib=DAEMON_SQLITE_CACHE_KIB, pool_size=DAEMON_POOL_SIZE
        )
    else:
        engine = create_db_engine(url)
    if migrate:
        ensure_schema(engine)
    return engine
