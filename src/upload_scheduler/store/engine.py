"""Engines configured for many processes sharing one database.

SQLite: WAL so readers never block the writer, a busy timeout instead of instant
"database is locked" errors, and foreign keys on (they are off by default, which is how
the old system got orphan queue rows). Write transactions that read before they write
start with BEGIN IMMEDIATE so two processes cannot both decide on the same row.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A daemon process works on one connection at a time, on indexed rows: SQLite's default
# page cache (2 MB per connection) would be ~2 MB of the 45 MB per daemon
# process, for pages the OS caches anyway.
DAEMON_SQLITE_CACHE_KIB = 512
DAEMON_POOL_SIZE = 2
_IMMEDIATE = "upload_scheduler_begin_immediate"


def sqlite_path(url: str) -> Path | None:
    """The database file of an SQLite URL, or None for other databases and memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_db_engine(url: str, *, sqlite_cache_kib: int | None = None, **kwargs: Any) -> Engine:
    """`sqlite_cache_kib`: each SQLite connection's page cache (SQLite's default, 2 MB,
    when None)."""
    path = sqlite_path(url)
    if path is not None:
        _create_private_file(path)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            _sqlite_on_connect(dbapi_connection, record, cache_kib=sqlite_cache_kib)

        event.listen(engine, "connect", on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement (SQLite) so a
    read-then-write sequence is not interleaved with another process's."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.info[_IMMEDIATE] = True
        with conn.begin():
            yield conn


def _create_private_file(path: Path) -> None:
    """Create the database file 0600: it will hold OAuth tokens."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def _sqlite_on_connect(
    dbapi_connection: Any, _record: Any, *, cache_kib: int | None = None
) -> None:
    # The driver's own implicit BEGIN would defeat BEGIN IMMEDIATE; we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    # Scratch tables and sorts of bulk statements stay in memory, not in temp files.
    cursor.execute("PRAGMA temp_store = MEMORY")
    if cache_kib is not None:
        cursor.execute(f"PRAGMA cache_size = {-int(cache_kib)}")  # negative: KiB
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.info.pop(_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
