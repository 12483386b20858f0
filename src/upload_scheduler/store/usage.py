"""Per-account, per-day usage counters (API calls, creations): what the day budgets and
`daily_limit` are checked against, shared by the queue manager and the workers."""

from __future__ import annotations

from sqlalchemy import Connection

from upload_scheduler.store.tables import account_usage
from upload_scheduler.store.upsert import dialect_insert


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
    insert = dialect_insert(conn, account_usage).values(
        platform=platform, account_id=account_id, day=day, creations=creations, calls=calls
    )
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=[
                account_usage.c.platform,
                account_usage.c.account_id,
                account_usage.c.day,
            ],
            set_={
                "creations": account_usage.c.creations + creations,
                "calls": account_usage.c.calls + calls,
            },
        )
    )
