"""INSERT ... ON CONFLICT, which SQLite and PostgreSQL both have but SQLAlchemy's
generic insert does not: counters and imports upsert in one atomic statement, so two
hosts never both insert the same key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, with `on_conflict_do_update` / `on_conflict_do_nothing`.
    Imported on use: the connection's dialect module is loaded already."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
