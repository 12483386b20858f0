"""Open the configured database, migrated to the current schema."""

from __future__ import annotations

from sqlalchemy import Engine

from upload_scheduler.store.engine import create_db_engine
from upload_scheduler.store.migrate import ensure_schema


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """An engine for `url`; applies pending migrations first unless told not to."""
    engine = create_db_engine(url)
    if migrate:
        ensure_schema(engine)
    return engine
