"""Per-account, per-day usage counters (API calls, creations): what the day budgets and
`daily_limit` are checked against, shared by the queue manager and the workers; and the
per-application day counters of platforms whose day budget is the application's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from upload_scheduler.store.tables import account_usage, application_usage
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


_APPLICATION_UPSERTS: dict[str, Any] = {}
_APPLICATION_CALLS = select(application_usage.c.calls).where(
    application_usage.c.platform == bindparam("app_platform"),
    application_usage.c.application == bindparam("app_application"),
    application_usage.c.day == bindparam("app_day"),
)
_APPLICATION_CALLS_LOCKED = _APPLICATION_CALLS.with_for_update()


def _application_upsert(conn: Connection) -> Any:
    statement = _APPLICATION_UPSERTS.get(conn.dialect.name)
    if statement is None:
        insert = dialect_insert(conn, application_usage).values(
            platform=bindparam("app_platform"),
            application=bindparam("app_application"),
            day=bindparam("app_day"),
            calls=bindparam("app_calls"),
        )
        statement = insert.on_conflict_do_update(
            index_elements=[
                application_usage.c.platform,
                application_usage.c.application,
                application_usage.c.day,
            ],
            set_={"calls": application_usage.c.calls + insert.excluded.calls},
        )
        _APPLICATION_UPSERTS[conn.dialect.name] = statement
    return statement


def _application_key(platform: str, application: str, day: str) -> dict[str, object]:
    return {"app_platform": platform, "app_application": application, "app_day": day}


def add_application_usage(
    conn: Connection, platform: str, application: str, day: str, calls: int
) -> None:
    """Add `calls` (negative: give back a reservation) to the application's day."""
    if calls:
        key = _application_key(platform, application, day)
        conn.execute(_application_upsert(conn), {**key, "app_calls": calls})


def application_calls(
    conn: Connection, platform: str, application: str, day: str, *, lock: bool = False
) -> int:
    """The application's calls of `day`. `lock` (in a write transaction) makes sure the
    row exists and holds it until commit on PostgreSQL, so the daemons of every account
    on the application, on every host, reserve from it one at a time (SQLite's write
    transactions are exclusive already)."""
    key = _application_key(platform, application, day)
    if lock:
        # An upsert adding nothing: creates the row, and locks it on PostgreSQL.
        conn.execute(_application_upsert(conn), {**key, "app_calls": 0})
    calls = conn.execute(_APPLICATION_CALLS_LOCKED if lock else _APPLICATION_CALLS, key).scalar()
    return int(calls or 0)
