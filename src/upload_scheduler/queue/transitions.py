"""Every change a worker makes to a queue row, organised by what happens to the row:
claim, success, failure, give-back, recovery. Queue, listing and usage change in the
same transaction; every change after the claim is guarded by the row's lease owner, so a
worker whose lease ran out (it hung, or its host was cut off) changes nothing that the
worker which took the row over has done.

The statements a worker runs for every item are built once, at import, with bound
parameters: building a SQLAlchemy statement and its cache key anew for every item cost
more than SQLite itself (bench/RESULTS.md). One read finds an account's due items with
their products; one UPDATE ... RETURNING claims a burst of them; a burst's successes take
two statements per table on SQLite (the shared values, then the per-row ids by
executemany, which is in-process there) and one per table on PostgreSQL (the per-row
values as arrays: no round trip per row).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    RowMapping,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)

from upload_scheduler.inventory.product import PRODUCT_COLUMNS, Product
from upload_scheduler.queue.order import due_order
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.states import JobKind, ListingStatus, QueueStatus
from upload_scheduler.store.tables import listings, products, upload_queue
from upload_scheduler.store.types import UTCDateTime

# -------- what every transition shares


def _owned(queue_id: int, owner: str) -> Any:
    return and_(
        upload_queue.c.id == queue_id,
        upload_queue.c.status == "uploading",
        upload_queue.c.lease_owner == owner,
    )


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


# -------- prebuilt statements (private: each execution only binds values)


# Due items of one account, most urgent first: the claim index gives them in its order
# and the LIMIT stops the scan; only those few are then joined with their products (as
# one join, PostgreSQL would hash the whole catalogue and sort every pending row).
# An outer join: a product deleted from the master DB fails its item, visibly.
_DUE_ROWS = (
    select(upload_queue)
    .where(
        upload_queue.c.platform == bindparam("platform"),
        upload_queue.c.account_id == bindparam("account_id"),
        upload_queue.c.status == "pending",
        upload_queue.c.scheduled_time <= bindparam("now", type_=UTCDateTime()),
    )
    .order_by(*due_order(upload_queue.c))
    .limit(bindparam("limit"))
    .subquery("due")
)

_DUE = (
    select(
        _DUE_ROWS,
        products.c.asin.label("product_asin"),
        *(products.c[name].label(f"product_{name}") for name in PRODUCT_COLUMNS),
    )
    .select_from(_DUE_ROWS.outerjoin(products, products.c.asin == _DUE_ROWS.c.asin))
    .order_by(*due_order(_DUE_ROWS.c))
)

# pending -> uploading for the given rows, with the lease; the calls are about to start,
# so each attempt is counted and the start noted in the same statement.
_CLAIM = (
    update(upload_queue)
    .where(
        upload_queue.c.id.in_(bindparam("ids", expanding=True)),
        upload_queue.c.status == "pending",
    )
    .values(
        status="uploading",
        lease_owner=bindparam("claim_owner"),
        lease_expires_at=bindparam("claim_lease_until", type_=UTCDateTime()),
        attempts=upload_queue.c.attempts + 1,
        call_started_at=bindparam("claim_now", type_=UTCDateTime()),
        updated_at=bindparam("claim_now", type_=UTCDateTime()),
    )
    .returning(upload_queue.c.id, upload_queue.c.attempts)
)

# uploading -> success for a burst's rows, guarded by our lease (a worker that lost it
# changes nothing); what differs per row (the platform's id) is set by executemany after.
_SUCCESS = (
    update(upload_queue)
    .where(
        upload_queue.c.id.in_(bindparam("ids", expanding=True)),
        upload_queue.c.status == "uploading",
        upload_queue.c.lease_owner == bindparam("done_owner"),
    )
    .values(**finished("success", None, bindparam("done_now", type_=UTCDateTime())))
    .returning(upload_queue.c.id)
)

_SUCCESS_IDS = (
    update(upload_queue)
    .where(upload_queue.c.id == bindparam("done_id"))
    .values(platform_item_id=bindparam("done_item_id"), images_done=bindparam("done_images"))
)

# The same for a burst of one (every burst, with spacing): one statement per table.
_SUCCESS_ONE = (
    update(upload_queue)
    .where(
        upload_queue.c.id == bindparam("done_id"),
        upload_queue.c.status == "uploading",
        upload_queue.c.lease_owner == bindparam("done_owner"),
    )
    .values(
        **finished("success", None, bindparam("done_now", type_=UTCDateTime())),
        platform_item_id=bindparam("done_item_id"),
        images_done=bindparam("done_images"),
    )
)

_LISTED_ONE = (
    update(listings)
    .where(listings.c.id == bindparam("listing_id"))
    .values(
        status="listed",
        platform_item_id=bindparam("listed_item_id"),
        listed_at=bindparam("listed_now", type_=UTCDateTime()),
        updated_at=bindparam("listed_now", type_=UTCDateTime()),
    )
)

# PostgreSQL: a burst's per-row values travel as arrays, so writing a burst takes two
# statements (a round trip each) instead of one per row and table.
_DONE_ROWS = select(
    func.unnest(bindparam("rows_id", type_=ARRAY(Integer)), type_=Integer).label("id"),
    func.unnest(bindparam("rows_item_id", type_=ARRAY(String)), type_=String).label("item_id"),
    func.unnest(bindparam("rows_images", type_=ARRAY(Integer)), type_=Integer).label("images"),
).subquery("done_rows")

_SUCCESS_ARRAYS = (
    update(upload_queue)
    .where(
        upload_queue.c.id == _DONE_ROWS.c.id,
        upload_queue.c.status == "uploading",
        upload_queue.c.lease_owner == bindparam("done_owner"),
    )
    .values(
        **finished("success", None, bindparam("done_now", type_=UTCDateTime())),
        platform_item_id=_DONE_ROWS.c.item_id,
        images_done=_DONE_ROWS.c.images,
    )
    .returning(upload_queue.c.id)
)

_LISTED_ROWS = select(
    func.unnest(bindparam("rows_listing_id", type_=ARRAY(Integer)), type_=Integer).label("id"),
    func.unnest(bindparam("rows_item_id", type_=ARRAY(String)), type_=String).label("item_id"),
).subquery("listed_rows")

_LISTED_ARRAYS = (
    update(listings)
    .where(listings.c.id == _LISTED_ROWS.c.id)
    .values(
        status="listed",
        platform_item_id=_LISTED_ROWS.c.item_id,
        listed_at=bindparam("listed_now", type_=UTCDateTime()),
        updated_at=bindparam("listed_now", type_=UTCDateTime()),
    )
)

_LISTED = (
    update(listings)
    .where(listings.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status="listed",
        listed_at=bindparam("listed_now", type_=UTCDateTime()),
        updated_at=bindparam("listed_now", type_=UTCDateTime()),
    )
)

_LISTED_IDS = (
    update(listings)
    .where(listings.c.id == bindparam("listing_id"))
    .values(platform_item_id=bindparam("listed_item_id"))
)

# -------- claim: pending -> uploading


@dataclass(frozen=True)
class Candidate:
    """A due item as read before its claim, with its product (None: not in the master
    DB, or a delete job, which needs none)."""

    item: QueueItem
    product: Product | None


def due_candidates(
    conn: Connection, platform: str, account_id: str, now: datetime, limit: int
) -> list[Candidate]:
    rows = conn.execute(
        _DUE, {"platform": platform, "account_id": account_id, "now": now, "limit": limit}
    ).mappings()
    return [Candidate(QueueItem.from_row(row), _product(row)) for row in rows]


def _product(row: RowMapping) -> Product | None:
    get = row.__getitem__
    if get("product_asin") is None:
        return None
    return Product(
        asin=get("product_asin"),
        title=get("product_title"),
        description=get("product_description"),
        price=get("product_price"),
        stock=get("product_stock"),
        images=tuple(json.loads(get("product_images") or "[]")),
        brand=get("product_brand"),
        category=get("product_category"),
        title_en=get("product_title_en"),
        description_en=get("product_description_en"),
    )


def claim(
    conn: Connection,
    candidates: Sequence[Candidate],
    owner: str,
    lease_until: datetime,
    now: datetime,
) -> dict[int, QueueItem]:
    """Claim the candidates' rows that are still pending; the claimed items by id, as
    they now are (a row cancelled or taken meanwhile is simply absent)."""
    if not candidates:
        return {}
    rows = conn.execute(
        _CLAIM,
        {
            "ids": [c.item.id for c in candidates],
            "claim_owner": owner,
            "claim_lease_until": lease_until,
            "claim_now": now,
        },
    )
    attempts = {queue_id: count for queue_id, count in rows}
    return {
        c.item.id: replace(
            c.item,
            status="uploading",
            lease_owner=owner,
            lease_expires_at=lease_until,
            attempts=attempts[c.item.id],
            call_started_at=now,
        )
        for c in candidates
        if c.item.id in attempts
    }


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


# -------- success: uploading -> success


@dataclass(frozen=True)
class Success:
    """An uploaded item whose success is yet to be written."""

    item: QueueItem
    platform_item_id: str
    images_done: int
    offer_id: str | None = field(default=None, kw_only=True)  # eBay's offer, kept too


_OFFER_IDS = (
    update(listings)
    .where(listings.c.id == bindparam("offer_listing_id"))
    .values(offer_id=bindparam("offer_id"))
)


def mark_successes(
    conn: Connection, owner: str, done: Sequence[Success], now: datetime
) -> list[Success]:
    """Write a burst's successes and list their listings; returns those written (all of
    them unless our lease on a row was lost and another worker took it over)."""
    written = _mark_successes(conn, owner, done, now)
    offers = [
        {"offer_listing_id": s.item.listing_id, "offer_id": s.offer_id}
        for s in written
        if s.offer_id
    ]
    if offers:
        conn.execute(_OFFER_IDS, offers)
    return written


def _mark_successes(
    conn: Connection, owner: str, done: Sequence[Success], now: datetime
) -> list[Success]:
    if not done:
        return []
    if len(done) == 1:
        return _mark_one(conn, owner, done[0], now)
    if conn.dialect.name == "postgresql":
        return _mark_with_arrays(conn, owner, done, now)
    ours = set(
        conn.execute(
            _SUCCESS, {"ids": [s.item.id for s in done], "done_owner": owner, "done_now": now}
        ).scalars()
    )
    written = [s for s in done if s.item.id in ours]
    if not written:
        return []
    conn.execute(
        _SUCCESS_IDS,
        [
            {"done_id": s.item.id, "done_item_id": s.platform_item_id, "done_images": s.images_done}
            for s in written
        ],
    )
    conn.execute(_LISTED, {"ids": [s.item.listing_id for s in written], "listed_now": now})
    conn.execute(
        _LISTED_IDS,
        [{"listing_id": s.item.listing_id, "listed_item_id": s.platform_item_id} for s in written],
    )
    return written


def _mark_one(conn: Connection, owner: str, done: Success, now: datetime) -> list[Success]:
    written = conn.execute(
        _SUCCESS_ONE,
        {
            "done_id": done.item.id,
            "done_owner": owner,
            "done_now": now,
            "done_item_id": done.platform_item_id,
            "done_images": done.images_done,
        },
    ).rowcount
    if not written:
        return []
    conn.execute(
        _LISTED_ONE,
        {
            "listing_id": done.item.listing_id,
            "listed_item_id": done.platform_item_id,
            "listed_now": now,
        },
    )
    return [done]


def _mark_with_arrays(
    conn: Connection, owner: str, done: Sequence[Success], now: datetime
) -> list[Success]:
    ours = set(
        conn.execute(
            _SUCCESS_ARRAYS,
            {
                "rows_id": [s.item.id for s in done],
                "rows_item_id": [s.platform_item_id for s in done],
                "rows_images": [s.images_done for s in done],
                "done_owner": owner,
                "done_now": now,
            },
        ).scalars()
    )
    written = [s for s in done if s.item.id in ours]
    if written:
        conn.execute(
            _LISTED_ARRAYS,
            {
                "rows_listing_id": [s.item.listing_id for s in written],
                "rows_item_id": [s.platform_item_id for s in written],
                "listed_now": now,
            },
        )
    return written


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


# -------- failure: uploading -> pending (retry, lookup, pause) or failed

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


# -------- give-back: a claimed item never started


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


# -------- recovery: items a dead worker or a lost connection left uploading


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


# -------- leases and waking


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
