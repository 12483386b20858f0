"""The whole declared schema: the tables, plus their partial unique indexes.

SQLAlchemy has no dialect-neutral partial index, and declaring one with
`postgresql_where` makes SQLAlchemy import its PostgreSQL dialect with every driver
module (2.7 MB in each daemon process, which on SQLite never uses it). So the runtime
code imports `tables`, and what compares or generates schema (Alembic's environment,
the migration tests) imports `metadata` from here. Migration 0001 creates both indexes.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from upload_scheduler.store.tables import (
    ACTIVE_QUEUE_STATUSES,
    listings,
    metadata,
    status_in,
    upload_queue,
)

__all__ = ["PARTIAL_INDEXES", "metadata"]

_UNASSIGNED = "account_id IS NULL"
_ACTIVE = status_in(ACTIVE_QUEUE_STATUSES)

PARTIAL_INDEXES = (
    # A product waits for add-to-queue at most once per platform.
    Index(
        "uq_listings_unassigned",
        listings.c.asin,
        listings.c.platform,
        unique=True,
        sqlite_where=text(_UNASSIGNED),
        postgresql_where=text(_UNASSIGNED),
    ),
    # One live row per (asin, platform, account): the old system had 2,006 duplicates.
    Index(
        "uq_upload_queue_active",
        upload_queue.c.asin,
        upload_queue.c.platform,
        upload_queue.c.account_id,
        unique=True,
        sqlite_where=text(_ACTIVE),
        postgresql_where=text(_ACTIVE),
    ),
)
