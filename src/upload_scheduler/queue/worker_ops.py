"""Queue transitions a worker makes, each guarded by the row's lease owner.

A worker whose lease ran out (it hung, or its host was cut off) must not overwrite what
the worker that took the row over has done, so every change here names the owner and
touches nothing when the row has moved on. Queue, listing and usage change in the same
transaction as in `UploadQueueManager`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.tables import listings, upload_queue


def _owned(queue_id: int, owner: str) -> Any:
    return and_(
        upload_queue.c.id == queue_id,
        upload_queue.c.status == "uploading",
        upload_queue.c.lease_owner == owner,
    )


def next_scheduled_time(
    conn: Connection, platform: str, account_ids: list[str] | None
) -> datetime | None:
    """When the earliest pending item falls due (it may be in the past)."""
    query = select(upload_queue.c.scheduled_time).where(
        upload_queue.c.platform == platform, upload_queue.c.status == "pending"
    )
    if account_ids is not None:
        query = query.where(upload_queue.c.account_id.in_(account_ids))
    return conn.execute(query.order_by(upload_queue.c.scheduled_time).limit(1)).scalar()


def renew_item_leases(
    conn: Connection,
    owner: str,
    lease_until: datetime,
    platform: str | None = None,
    account_ids: list[str] | None = None,
) -> int:
    """Extend the leases of `owner`'s rows. With the platform and accounts given, the
    claim index finds them; without, the whole queue is scanned under the write lock."""
    query = update(upload_queue).where(
        upload_queue.c.status == "uploading", upload_queue.c.lease_owner == owner
    )
    if platform is not None:
        query = query.where(upload_queue.c.platform == platform)
    if account_ids is not None:
        query = query.where(upload_queue.c.account_id.in_(account_ids))
    return conn.execute(query.values(lease_expires_at=lease_until)).rowcount


def finished(status: str, error_message: str | None, now: datetime) -> dict[str, Any]:
    """The values that end a job (success or failed, upload or delete): its lease is
    given up and the time it ended is kept."""
    return {
        "status": status,
        "error_message": error_message,
        "lease_owner": None,
        "lease_expires_at": None,
        "processed_at": now,
        "updated_at": now,
    }


def mark_failed(
    conn: Connection,
    item: QueueItem,
    owner: str,
    message: str,
    now: datetime,
    *,
    platform_item_id: str | None = None,
    images_done: int | None = None,
    nothing_created: bool = True,
) -> bool:
    values = finished("failed", message, now)
    if nothing_created:
        values["call_started_at"] = None
    if platform_item_id is not None:
        values["platform_item_id"] = platform_item_id
    if images_done is not None:
        values["images_done"] = images_done
    changed = conn.execute(
        update(upload_queue).where(_owned(item.id, owner)).values(values)
    ).rowcount
    if changed:
        listing_values: dict[str, Any] = {"status": "failed", "updated_at": now}
        if platform_item_id is not None:
            listing_values["platform_item_id"] = platform_item_id
        conn.execute(
            update(listings).where(listings.c.id == item.listing_id).values(listing_values)
        )
    return bool(changed)


def release(
    conn: Connection,
    item: QueueItem,
    owner: str | None,
    now: datetime,
    *,
    retry_at: datetime | None = None,
    error: str | None = None,
    refund_attempt: bool = False,
    nothing_created: bool = False,
    platform_item_id: str | None = None,
    images_done: int | None = None,
) -> bool:
    """uploading -> pending, due at `retry_at` (default now). `refund_attempt` gives the
    attempt back (rate limits and quotas spend none); `nothing_created` clears the
    call marker so the next attempt need not look the item up first."""
    values: dict[str, Any] = {
        "status": "pending",
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
        "scheduled_time": retry_at or now,
    }
    if error is not None:
        values["error_message"] = error
    if refund_attempt:
        values["attempts"] = upload_queue.c.attempts - 1
    if nothing_created:
        values["call_started_at"] = None
    if platform_item_id is not None:
        values["platform_item_id"] = platform_item_id
    if images_done is not None:
        values["images_done"] = images_done
    where = (
        _owned(item.id, owner)
        if owner
        else and_(upload_queue.c.id == item.id, upload_queue.c.status == "uploading")
    )
    return bool(conn.execute(update(upload_queue).where(where).values(values)).rowcount)


def give_back(
    conn: Connection, item: QueueItem, owner: str, previous_call: datetime | None, now: datetime
) -> bool:
    """uploading -> pending for a claimed item that was never started (the rest of a
    burst when the account paused or the daemon was asked to stop): its attempt is given
    back, it keeps its place in the due order, and its call marker is the one from before
    the claim, since this claim called nothing."""
    return bool(
        conn.execute(
            update(upload_queue)
            .where(_owned(item.id, owner))
            .values(
                status="pending",
                lease_owner=None,
                lease_expires_at=None,
                attempts=upload_queue.c.attempts - 1,
                call_started_at=previous_call,
                updated_at=now,
            )
        ).rowcount
    )


def stale_items(
    conn: Connection,
    platform: str,
    account_ids: list[str],
    owner: str,
    now: datetime,
) -> list[QueueItem]:
    """Rows left `uploading` by anyone but `owner`. The caller holds these accounts'
    leases, so no other worker can legitimately be uploading for them."""
    rows = conn.execute(
        select(upload_queue).where(
            upload_queue.c.platform == platform,
            upload_queue.c.account_id.in_(account_ids),
            upload_queue.c.status == "uploading",
            or_(upload_queue.c.lease_owner.is_(None), upload_queue.c.lease_owner != owner),
        )
    ).mappings()
    return [QueueItem.from_row(r) for r in rows]


def own_items(
    conn: Connection, platform: str, account_ids: list[str], owner: str
) -> list[QueueItem]:
    """Rows `owner` holds `uploading`: after a lost connection, none is really in work."""
    rows = conn.execute(
        select(upload_queue).where(
            upload_queue.c.platform == platform,
            upload_queue.c.account_id.in_(account_ids),
            upload_queue.c.status == "uploading",
            upload_queue.c.lease_owner == owner,
        )
    ).mappings()
    return [QueueItem.from_row(r) for r in rows]


def lease_deadline(now: datetime, ttl_seconds: float) -> datetime:
    return now + timedelta(seconds=ttl_seconds)
