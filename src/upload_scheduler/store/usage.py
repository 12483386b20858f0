"""Per-account, per-day usage counters (API calls, creations): what the day budgets and
`daily_limit` are checked against, shared by the queue manager and the workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam

from upload_scheduler.store.tables import account_usage
from upload_scheduler.store.upsert import dialect_insert

# Built once per dialect: a worker adds to these counters for every item.
_UPSERTS: dict[str, Any] = {}


def _upsert(conn: Connection) -> Any:
    statement = _UPSERTS.get(conn.dialect.name)
    if statement is None:
        insert = dialect_insert(conn, account_usage).values(
            platform=bindparam("usage_platform"),
            account_id=bindparam("usage_account_id"),
            day=bindparam("usage_day"),
            creations=bindparam("usage_creations"),
            calls=bindparam("usage_calls"),
        )
        statement = insert.on_conflict_do_update(
            index_elements=[
                account_usage.c.platform,
                account_usage.c.account_id,
                account_usage.c.day,
            ],
            set_={
                "creations": account_usage.c.creations + insert.excluded.creations,
                "calls": account_usage.c.calls + insert.excluded.calls,
            },
        )
        _UPSERTS[conn.dialect.name] = statement
    return statement


def add_usage(
    conn: Connection,
    platform: str,
    account_id: str,
    day: str,
    *,
    creations: int = 0,
    calls: int = 0,
) -> None:
    """Add to an account's per-day usage counters, creating the row on first use: one
    atomic upsert, so concurrent writers (other hosts) add up instead of colliding."""
    if not creations and not calls:
        return
    conn.execute(
        _upsert(conn),
        {
            "usage_platform": platform,
            "usage_account_id": account_id,
            "usage_day": day,
            "usage_creations": creations,
            "usage_calls": calls,
        },
    )
