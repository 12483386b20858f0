"""The statements a worker runs for every item, built once.

Building a SQLAlchemy statement and its cache key anew for every item cost more than
SQLite itself (profile in bench/RESULTS.md). These are built at import with bound
parameters, so each execution only binds values; a statement object keeps its cache
key, and its compiled form stays in the engine's cache.

One read finds an account's due items with their products; one UPDATE ... RETURNING
claims a burst of them; a burst's successes take two statements per table on SQLite (the
shared values, then the per-row ids by executemany, which is in-process there) and one
per table on PostgreSQL (the per-row values as arrays: no round trip per row).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    RowMapping,
    String,
    bindparam,
    func,
    select,
    update,
)

from upload_scheduler.platforms.interface import Product
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.queue.worker_ops import finished
from upload_scheduler.store.tables import listings, products, upload_queue
from upload_scheduler.store.types import UTCDateTime

_PRODUCT_FIELDS = ("title", "description", "price", "stock", "images", "brand", "category")

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
    .order_by(upload_queue.c.priority.desc(), upload_queue.c.scheduled_time, upload_queue.c.id)
    .limit(bindparam("limit"))
    .subquery("due")
)
_DUE = (
    select(
        _DUE_ROWS,
        products.c.asin.label("product_asin"),
        *(products.c[name].label(f"product_{name}") for name in _PRODUCT_FIELDS),
    )
    .select_from(_DUE_ROWS.outerjoin(products, products.c.asin == _DUE_ROWS.c.asin))
    .order_by(_DUE_ROWS.c.priority.desc(), _DUE_ROWS.c.scheduled_time, _DUE_ROWS.c.id)
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


@dataclass(frozen=True)
class Candidate:
    """A due item as read before its claim, with its product (None: not in the master
    DB, or a delete job, which needs none)."""

    item: QueueItem
    product: Product | None


@dataclass(frozen=True)
class Success:
    """An uploaded item whose success is yet to be written."""

    item: QueueItem
    platform_item_id: str
    images_done: int


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


def mark_successes(
    conn: Connection, owner: str, done: Sequence[Success], now: datetime
) -> list[Success]:
    """Write a burst's successes and list their listings; returns those written (all of
    them unless our lease on a row was lost and another worker took it over)."""
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
