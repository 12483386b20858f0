"""Queue transitions of delete jobs (kind 'delete'), each guarded by the lease owner as
in `worker_ops`. A delete job changes its listing only when it is done: the item left
the shop, so the listing is `delisted`. A failed delete (`worker_ops.settle`) or a
cancelled one leaves the listing `listed`, which is what the shop still shows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from upload_scheduler.queue.records import QueueItem
from upload_scheduler.queue.worker_ops import _owned, finished
from upload_scheduler.store.tables import listings, upload_queue


def mark_deleted(conn: Connection, item: QueueItem, owner: str, note: str, now: datetime) -> bool:
    """uploading -> success, listing -> delisted, in one transaction."""
    changed = conn.execute(
        update(upload_queue)
        .where(_owned(item.id, owner))
        .values(finished("success", note or None, now))
    ).rowcount
    if changed:
        conn.execute(
            update(listings)
            .where(listings.c.id == item.listing_id)
            .values(status="delisted", updated_at=now)
        )
    return bool(changed)
