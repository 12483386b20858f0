"""Queue transitions a worker makes, each guarded by the row's lease owner.

A worker whose lease ran out (it hung, or its host was cut off) must not overwrite what
the worker that took the row over has done, so every change here names the owner and
touches nothing when the row has moved on. Queue, listing and usage change in the same
transaction as in `UploadQueueManager`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.states import JobKind, ListingStatus, QueueStatus
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


def finished(status: str, error_message: str | None, now: datetime | Any) -> dict[str, Any]:
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


KEEP_MARKER = object()  # `settle(call_marker=KEEP_MARKER)`: leave the row's call marker


def settle(
    conn: Connection,
    item: QueueItem,
    owner: str,
    now: datetime,
    *,
    status: str,
    message: str,
    retry_at: datetime | None = None,
    refund_attempt: bool = False,
    call_marker: object = KEEP_MARKER,
    platform_item_id: str | None = None,
    images_done: int | None = None,
) -> bool:
    """End a job that did not succeed: uploading -> pending (due at `retry_at`) or
    failed, with what the row must keep (the item's id and images, the call marker, or
    the marker `call_marker` gives: a time, or None). A failed upload fails its listing
    too; a failed delete leaves its listing `listed`, which is what the shop still
    shows. Nothing changes when our lease on the row was lost."""
    if status == QueueStatus.FAILED:
        values = finished(QueueStatus.FAILED, message, now)
    else:
        values = {
            "status": QueueStatus.PENDING,
            "error_message": message,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": now,
            "scheduled_time": retry_at or now,
        }
    if refund_attempt:
        values["attempts"] = upload_queue.c.attempts - 1
    if call_marker is not KEEP_MARKER:
        values["call_started_at"] = call_marker
    if platform_item_id is not None:
        values["platform_item_id"] = platform_item_id
    if images_done is not None:
        values["images_done"] = images_done
    changed = conn.execute(
        update(upload_queue).where(_owned(item.id, owner)).values(values)
    ).rowcount
    if changed and status == QueueStatus.FAILED and item.kind == JobKind.UPLOAD:
        listing_values: dict[str, Any] = {"status": ListingStatus.FAILED, "updated_at": now}
        if platform_item_id is not None:
            listing_values["platform_item_id"] = platform_item_id
        conn.execute(
            update(listings).where(listings.c.id == item.listing_id).values(listing_values)
        )
    return bool(changed)


def release(conn: Connection, item: QueueItem, now: datetime) -> bool:
    """uploading -> pending, due now at the latest, for an item whose worker died or
    lost its database connection mid-flight. Not its fault: the attempt is given back.
    Its call marker stays, so whether the platform acted is looked up first."""
    return bool(
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == item.id, upload_queue.c.status == QueueStatus.UPLOADING)
            .values(
                status=QueueStatus.PENDING,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
                scheduled_time=min(item.scheduled_time, now),
                attempts=func.max(upload_queue.c.attempts - 1, 0)
                if conn.dialect.name == "sqlite"
                else func.greatest(upload_queue.c.attempts - 1, 0),
            )
        ).rowcount
    )


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


def uncount_attempts(
    conn: Connection, claimed: dict[int, QueueItem], ids: list[int]
) -> dict[int, QueueItem]:
    """Take back the attempt the claim counted for `ids`: jobs claimed only to look up
    whether the platform acted on their last attempt, which spends none."""
    conn.execute(
        update(upload_queue)
        .where(upload_queue.c.id.in_(ids))
        .values(attempts=upload_queue.c.attempts - 1)
    )
    return {i: replace(claimed[i], attempts=claimed[i].attempts - 1) for i in ids if i in claimed}
