"""Write a row plan into our database, inserting only what is absent.

Each chunk of products is one transaction holding the products, their listings and
their queue rows, so a run that stops midway leaves whole products behind, and the next
run finds them "already here". Rows are looked up first and inserted only when absent
(dialect-neutral; on SQLite the write lock is held from the lookup on). A queue row is
only added with a listing this run creates: for a listing that was already here, the
queue may have moved on (uploaded, cancelled), and re-adding the old row would undo it.
The one value filled into a row already here is an eBay listing's missing offer id,
while the row still has the listing id the old database gives (an import before eBay
was understood carried eBay listings without it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from upload_scheduler.legacy.plan_rows import ListingKey, PlannedListing, ProductGroup
from upload_scheduler.legacy.report import ROWS, Skip
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import (
    ACTIVE_QUEUE_STATUSES,
    listings,
    oauth_tokens,
    products,
    upload_queue,
)

CHUNK_PRODUCTS = 500  # asins per IN list and per transaction
Progress = Callable[[int, int], None]


@dataclass
class CopyCounts:
    """By table: old status -> rows added / already here; and our status -> rows added
    (for a dry run's projection of the new counts). `by_platform` counts the same rows
    by (table, platform, "added" or "already"), for the report's per-platform lines."""

    added: dict[str, Counter[str]] = field(default_factory=dict)
    already: dict[str, Counter[str]] = field(default_factory=dict)
    added_as: dict[str, Counter[str]] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    by_platform: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    offer_ids_filled: int = 0

    def __post_init__(self) -> None:
        for table in ("products", "listings", "upload_queue"):
            self.added.setdefault(table, Counter())
            self.already.setdefault(table, Counter())
            self.added_as.setdefault(table, Counter())


def copy_rows(
    engine: Engine | None,
    groups: Sequence[ProductGroup],
    *,
    dry_run: bool,
    on_progress: Progress | None = None,
) -> CopyCounts:
    """Insert the absent rows of `groups` (a dry run only counts them). `engine` None
    means there is no database yet: everything is absent."""
    counts = CopyCounts()
    for start in range(0, len(groups), CHUNK_PRODUCTS):
        chunk = groups[start : start + CHUNK_PRODUCTS]
        if engine is None:
            _copy_chunk(None, chunk, counts, write=False)
        else:
            opened: AbstractContextManager[Connection] = (
                engine.connect() if dry_run else write_transaction(engine)
            )
            with opened as conn:
                _copy_chunk(conn, chunk, counts, write=not dry_run)
        if on_progress is not None:
            on_progress(start + len(chunk), len(groups))
    return counts


def table_counts(engine: Engine | None) -> dict[str, dict[str, int]]:
    """Our rows per table and status (tokens of every platform count as rows)."""
    result: dict[str, dict[str, int]] = {
        "products": {},
        "listings": {},
        "upload_queue": {},
        "oauth_tokens": {},
    }
    if engine is None:
        return result
    with engine.connect() as conn:
        for name, table in (("products", products), ("oauth_tokens", oauth_tokens)):
            rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
            result[name] = {ROWS: int(rows)} if rows else {}
        for name, table in (("listings", listings), ("upload_queue", upload_queue)):
            query = select(table.c.status, func.count()).group_by(table.c.status)
            result[name] = {str(s): int(n) for s, n in conn.execute(query)}
    return result


def _copy_chunk(
    conn: Connection | None, chunk: Sequence[ProductGroup], counts: CopyCounts, *, write: bool
) -> None:
    asins = [g.asin for g in chunk]
    have_products: set[str] = set()
    have_listings: dict[ListingKey, _Present] = {}
    live: set[tuple[str, str, str]] = set()
    if conn is not None:
        have_products, have_listings, live = _present(conn, asins)
    new_products = []
    new_listings: list[PlannedListing] = []
    offer_fills: list[dict[str, Any]] = []
    for group in chunk:
        if group.asin in have_products:
            counts.already["products"][ROWS] += 1
        else:
            new_products.append(group.values)
            counts.added["products"][ROWS] += 1
            counts.added_as["products"][ROWS] += 1
        for listing in group.listings:
            platform = listing.values["platform"]
            present = have_listings.get(listing.key)
            if present is None:
                new_listings.append(listing)
                counts.added["listings"][listing.old_status] += 1
                counts.added_as["listings"][listing.values["status"]] += 1
                counts.by_platform["listings", platform, "added"] += 1
                continue
            counts.already["listings"][listing.old_status] += 1
            counts.by_platform["listings", platform, "already"] += 1
            if _offer_missing(present, listing):
                offer_fills.append({"row_id": present.id, "offer": listing.values["offer_id"]})
            row = listing.queue_row
            if row is None:
                continue
            triple = (row.values["asin"], row.values["platform"], row.values["account_id"])
            if triple in live:
                counts.already["upload_queue"][row.old_status] += 1
                counts.by_platform["upload_queue", platform, "already"] += 1
            else:
                counts.skipped.append(
                    Skip(
                        "upload_queue",
                        row.old_id,
                        row.old_status,
                        " ".join((triple[0], f"{triple[1]}/{triple[2]}")),
                        "its listing was already here; not queued again",
                        f"the listing is {present.status}",
                    )
                )
    queue_rows = []
    for listing in new_listings:
        row = listing.queue_row
        if row is None:
            continue
        triple = (row.values["asin"], row.values["platform"], row.values["account_id"])
        if triple in live:  # a live row of the same item under another listing row
            counts.already["upload_queue"][row.old_status] += 1
            counts.by_platform["upload_queue", triple[1], "already"] += 1
            continue
        queue_rows.append((listing.key, row))
        counts.added["upload_queue"][row.old_status] += 1
        counts.added_as["upload_queue"]["pending"] += 1
        counts.by_platform["upload_queue", triple[1], "added"] += 1
    counts.offer_ids_filled += len(offer_fills)
    if not write or conn is None:
        return
    if offer_fills:
        conn.execute(
            update(listings)
            .where(listings.c.id == bindparam("row_id"), listings.c.offer_id.is_(None))
            .values(offer_id=bindparam("offer")),
            offer_fills,
        )
    if new_products:
        conn.execute(products.insert(), new_products)
    if new_listings:
        conn.execute(listings.insert(), [listing.values for listing in new_listings])
    if queue_rows:
        ids = _listing_ids(conn, asins)
        conn.execute(
            upload_queue.insert(),
            [{**row.values, "listing_id": ids[key]} for key, row in queue_rows],
        )


@dataclass(frozen=True)
class _Present:
    """A listing row already in our database."""

    id: int
    status: str
    platform_item_id: str | None
    offer_id: str | None


def _offer_missing(present: _Present, listing: PlannedListing) -> bool:
    """Whether our row lacks the offer id the old database gives for the same listing."""
    offer = listing.values.get("offer_id")
    return (
        offer is not None
        and present.offer_id is None
        and present.platform_item_id == listing.values.get("platform_item_id")
    )


def _present(
    conn: Connection, asins: Sequence[str]
) -> tuple[set[str], dict[ListingKey, _Present], set[tuple[str, str, str]]]:
    have_products = set(conn.scalars(select(products.c.asin).where(products.c.asin.in_(asins))))
    have_listings = {
        (asin, platform, account): _Present(listing_id, status, item_id, offer_id)
        for listing_id, asin, platform, account, status, item_id, offer_id in conn.execute(
            select(
                listings.c.id,
                listings.c.asin,
                listings.c.platform,
                listings.c.account_id,
                listings.c.status,
                listings.c.platform_item_id,
                listings.c.offer_id,
            ).where(listings.c.asin.in_(asins))
        )
    }
    live: set[tuple[str, str, str]] = {
        (asin, platform, account)
        for asin, platform, account in conn.execute(
            select(upload_queue.c.asin, upload_queue.c.platform, upload_queue.c.account_id).where(
                upload_queue.c.asin.in_(asins),
                upload_queue.c.status.in_(ACTIVE_QUEUE_STATUSES),
            )
        )
    }
    return have_products, have_listings, live


def _listing_ids(conn: Connection, asins: Sequence[str]) -> dict[ListingKey, Any]:
    rows = conn.execute(
        select(listings.c.id, listings.c.asin, listings.c.platform, listings.c.account_id).where(
            listings.c.asin.in_(asins)
        )
    )
    return {(asin, platform, account): listing_id for listing_id, asin, platform, account in rows}
