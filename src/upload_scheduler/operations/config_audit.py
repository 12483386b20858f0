"""What `config check` warns about beyond the file itself: work in the database that no
configured account will ever do, and adapters that are registered but do not load."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from upload_scheduler.config import Settings
from upload_scheduler.store.tables import upload_queue

# Rows someone still expects to be processed (failed ones can be requeued).
OPEN_STATUSES = ("pending", "uploading", "failed")


@dataclass(frozen=True)
class OrphanWork:
    platform: str
    account_id: str
    status: str
    count: int


def unconfigured_queue_accounts(settings: Settings) -> list[OrphanWork]:
    """Queue rows (pending, uploading, failed) of accounts no longer in the config: no
    daemon will ever take them. Reads the database only if it already exists."""
    from upload_scheduler.store.engine import create_db_engine, sqlite_path
    from upload_scheduler.store.migrate import current_revision

    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        return []
    engine = create_db_engine(settings.database_url)
    try:
        if current_revision(engine) is None:
            return []
        configured = set(settings.all_accounts())
        query = (
            select(
                upload_queue.c.platform,
                upload_queue.c.account_id,
                upload_queue.c.status,
                func.count(),
            )
            .where(upload_queue.c.status.in_(OPEN_STATUSES))
            .group_by(upload_queue.c.platform, upload_queue.c.account_id, upload_queue.c.status)
            .order_by(upload_queue.c.platform, upload_queue.c.account_id, upload_queue.c.status)
        )
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    finally:
        engine.dispose()
    return [OrphanWork(p, a, s, int(n)) for p, a, s, n in rows if (p, a) not in configured]


def broken_adapters(settings: Settings) -> dict[str, str]:
    """Platforms with accounts whose adapter is registered but fails to import (a
    half-removed package): platform -> the error."""
    from upload_scheduler.platforms.registry import platform_factory

    broken: dict[str, str] = {}
    for platform in settings.accounts:
        try:
            platform_factory(platform)
        except Exception as exc:  # LookupError, ImportError, anything the module raises
            broken[platform] = f"{type(exc).__name__}: {exc}"
    return broken
