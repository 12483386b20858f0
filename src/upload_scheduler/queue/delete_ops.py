"""Queue transitions of delete jobs (kind 'delete'), each guarded by the lease owner as
in `worker_ops`. A delete job changes its listing only when it is done: the item left
the shop, so the listing is `delisted`. A failed or cancelled delete leaves the listing
`listed`, which is what the shop still shows."""

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


def mark_delete_failed(
    conn: Connection,
    item: QueueItem,
    owner: str,
    message: str,
    now: datetime,
    *,
    keep_call_marker: bool,
) -> bool:
    """uploading -> failed; the listing stays as it is. The call marker stays when the
    delete may have happened, so a requeued job checks the item before deleting."""
    values = finished("failed", message, now)
    if not keep_call_marker:
        values["call_started_at"] = None
    return bool(
        conn.execute(update(upload_queue).where(_owned(item.id, owner)).values(values)).rowcount
    )
