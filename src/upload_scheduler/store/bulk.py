"""Bulk writes through the driver's own executemany and set-based statements.

SQLAlchemy's per-row parameter processing costs about 40 µs a row, and one UPDATE per
row about as much again in SQLite itself: 100,000 queue rows took 7 s that way. Loading
the rows into a temporary table and changing the real tables with one set-based
statement each takes about 2 s. The SQL stays parameterised throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection


def db_time(conn: Connection, moment: datetime) -> Any:
    """A UTC instant in the form this connection's driver stores for UTCDateTime: on
    SQLite, SQLAlchemy's own text format ("YYYY-MM-DD HH:MM:SS.ffffff"), so rows written
    here read back and sort exactly like rows written through the type."""
    if conn.dialect.name == "sqlite":
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(sep=" ", timespec="microseconds")
    return moment.astimezone(UTC)


def enlarge_cache(conn: Connection) -> None:
    """Let a big batch keep its index pages in memory (SQLite's default cache is 2 MB)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size = -65536")


def executemany(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run `sql`, written with `?` placeholders, once per row in one driver call."""
    if rows:
        conn.exec_driver_sql(_native(conn, sql), list(rows))


def execute(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Run one statement written with `?` placeholders."""
    conn.exec_driver_sql(_native(conn, sql), params)


def create_temp_table(conn: Connection, name: str, columns: str) -> None:
    """A scratch table private to this connection, gone at the end of the transaction
    (PostgreSQL) or when `drop_temp_table` runs (SQLite, which lacks ON COMMIT DROP)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ({columns})")
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")


def drop_temp_table(conn: Connection, name: str) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")


def _native(conn: Connection, sql: str) -> str:
    if conn.dialect.paramstyle in ("format", "pyformat"):
        return sql.replace("%", "%%").replace("?", "%s")
    return sql
