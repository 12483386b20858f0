"""Turn the old master DB's rows into ours, deciding for each row whether and how it
comes along. Pure: no database of ours is read here (copy_rows does that), so the same
plan serves a real run and a dry run.

The choices, which the README repeats:
- Listing statuses: pending and queued stay (queued only while a live queue row comes
  along with it, else pending, so add-to-queue can take it again); listed stays with
  its platform item id; `sold` becomes `listed` (the item still exists on the shop, as
  sold out, and `delist` can remove it); delisted stays.
- A pending or queued listing on a platform that lists in yen (BASE) needs its own
  `selling_price` (LEGACY.md: an empty one was computed by the old pricing rules, which
  we do not have); without it the listing is reported "needs a price" and left behind.
  Our products carry one price, in yen: the first priced pending/queued yen listing's,
  else any yen listing's, else `amazon_price_jpy` as a record for products that only
  have listings already on a shop. An eBay listing's `selling_price` is in dollars: it
  is never a product's price, and a pending eBay listing is priced from the product's
  yen price by [platforms.ebay.pricing], as the old eBay module priced from
  `amazon_price_jpy`.
- eBay listings (LEGACY.md): the listing id stays in platform_item_id (from
  `ebay_listing_metadata` when the listing row lacks it) and the offer id of
  `ebay_listing_metadata` (by SKU) goes into offer_id; a pending eBay listing that
  already has an offer there was begun by the old module, so its queue row looks the
  item up on eBay before creating it.
- Queue rows: pending and scheduled become pending; uploading (and the schema comment's
  processing) become pending with the call marker set, so the worker looks the item up
  on the shop before creating it (the old process died mid-upload, the item may exist).
  Finished rows (success, completed, failed, cancelled) are history and stay behind;
  their listings say what matters.
- Priority: the old column defaulted to 0, meaning "none given": 0 and empty become 5
  (normal); 1-20 stay; above 20 becomes 20, below 0 becomes 1.
- Attempts start again at 0: the old system failed items for good on one error.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from upload_scheduler import defaults
from upload_scheduler.legacy.ebay import EBAY
from upload_scheduler.legacy.old_files import EBAY_METADATA_TABLE, OldDatabase
from upload_scheduler.legacy.report import ROWS, Skip
from upload_scheduler.legacy.values import (
    BadTime,
    flag,
    integer,
    local_time,
    optional_text,
    text,
    yen,
)

LISTING_STATUS_MAP = {
    "pending": "pending",
    "queued": "queued",
    "listed": "listed",
    "sold": "listed",
    "delisted": "delisted",
}
LIVE_QUEUE_STATUSES = ("pending", "scheduled", "uploading", "processing")
STARTED_QUEUE_STATUSES = ("uploading", "processing")
HISTORY_QUEUE_STATUSES = ("success", "completed", "failed", "cancelled")
DONE_QUEUE_STATUSES = ("success", "completed")
UPLOADABLE = ("pending", "queued")
STATUS_MAPPING = {
    "listings": {
        "pending": "pending (queued when a live queue row comes along)",
        "queued": "queued (pending when no live queue row comes along)",
        "listed": "listed",
        "sold": "listed",
        "delisted": "delisted",
    },
    "upload_queue": {
        "pending": "pending",
        "scheduled": "pending",
        "uploading": "pending, looked up on the shop before it is created",
        "processing": "pending, looked up on the shop before it is created",
        **{status: "history, not carried" for status in HISTORY_QUEUE_STATUSES},
    },
}
# When nothing says when an interrupted upload started, the lookup searches the whole shop.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_EXAMPLES = 5
_NAMES = {EBAY: "eBay"}  # as the notes spell a platform

ListingKey = tuple[str, str, str | None]


@dataclass
class PlannedQueueRow:
    old_id: str
    old_status: str
    values: dict[str, Any]  # our upload_queue columns but listing_id


@dataclass
class PlannedListing:
    old_id: str
    old_status: str
    values: dict[str, Any]  # our listings columns but id
    queue_row: PlannedQueueRow | None = None

    @property
    def key(self) -> ListingKey:
        return (self.values["asin"], self.values["platform"], self.values["account_id"])


@dataclass
class ProductGroup:
    """One product with its listings and their queue rows: written in one transaction."""

    asin: str
    values: dict[str, Any]
    listings: list[PlannedListing] = field(default_factory=list)


@dataclass
class RowPlan:
    groups: list[ProductGroup] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    old: dict[str, Counter[str]] = field(default_factory=dict)
    left_behind: Counter[str] = field(default_factory=Counter)


@dataclass
class _OldListing:
    row: dict[str, Any]
    old_id: str
    status: str
    asin: str
    platform: str
    account_id: str | None


@dataclass
class _QueueCandidate:
    row: dict[str, Any]
    old_id: str
    status: str
    key: ListingKey  # the old listing it works on (maybe the product's unassigned one)
    account: str  # the row's account, which that listing is given
    scheduled_time: datetime
    created_at: datetime
    started_at: datetime | None  # set: the item may already exist on the shop
    priority: int


def plan_rows(
    old: OldDatabase,
    *,
    zone: tzinfo,
    configured: Mapping[str, Sequence[str]],
    now: datetime,
) -> RowPlan:
    """Decide every old row's fate. `configured` holds the accounts under [accounts]:
    queue rows of other accounts would never be worked, so they stay behind."""
    return _Planner(zone, configured, now).plan(old)


class _Planner:
    def __init__(self, zone: tzinfo, configured: Mapping[str, Sequence[str]], now: datetime):
        self.zone = zone
        self.configured = {p: set(ids) for p, ids in configured.items()}
        self.now = now
        self.result = RowPlan()
        self.tallies: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.ebay_metadata: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ the whole plan

    def plan(self, old: OldDatabase) -> RowPlan:
        plan = self.result
        plan.old = {
            "products": Counter({ROWS: len(old.products)}),
            "listings": Counter(text(r.get("status")).lower() or "(empty)" for r in old.listings),
            "upload_queue": Counter(
                text(r.get("status")).lower() or "(empty)" for r in old.upload_queue
            ),
        }
        self.ebay_metadata = {
            text(row.get("sku")): row for row in old.ebay_metadata or () if text(row.get("sku"))
        }
        if old.ebay_metadata is None and any(
            text(r.get("platform")).lower() == EBAY for r in old.listings
        ):
            plan.notes.append(
                f"the old database has no {EBAY_METADATA_TABLE} table: eBay listings come "
                "along without their offer ids"
            )
        products = self._products(old.products)
        by_asin = self._listings(old.listings, products)
        queue, uploaded = self._queue(old.upload_queue, products, by_asin)
        for asin, row in products.items():
            self._group(asin, row, by_asin.get(asin, []), queue, uploaded)
        for candidates in queue.values():
            for candidate in candidates:  # left over: their listing did not come along
                self._skip_queue(candidate, "its listing was not carried (see listings)")
        self._notes()
        return plan

    # ------------------------------------------------------------------ old rows

    def _products(self, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for row in rows:
            asin = text(row.get("asin"))
            if not asin:
                self._skip("products", row.get("asin"), ROWS, "(empty asin)", "no asin")
            elif asin in found:
                self._skip(
                    "products", asin, ROWS, asin, "duplicate product", "the first is carried"
                )
            else:
                found[asin] = row
        return found

    def _listings(
        self, rows: list[dict[str, Any]], products: Mapping[str, Any]
    ) -> dict[str, list[_OldListing]]:
        by_asin: dict[str, list[_OldListing]] = defaultdict(list)
        seen: dict[ListingKey, str] = {}
        for row in rows:
            old_id = text(row.get("id"))
            status = text(row.get("status")).lower() or "(empty)"
            asin, platform = text(row.get("asin")), text(row.get("platform")).lower()
            account = optional_text(row.get("account_id"))
            what = _what(asin, platform, account)
            key = (asin, platform, account)
            if not asin or not platform:
                reason = "no asin" if not asin else "no platform"
                self._skip("listings", old_id, status, what, reason)
            elif status not in LISTING_STATUS_MAP:
                self._skip("listings", old_id, status, what, "unknown status", status)
            elif asin not in products:
                self._skip("listings", old_id, status, what, "listing without a product")
            elif key in seen:
                self._skip(
                    "listings", old_id, status, what, "duplicate listing", f"{seen[key]} is carried"
                )
            else:
                seen[key] = old_id
                by_asin[asin].append(_OldListing(row, old_id, status, asin, platform, account))
        return by_asin

    def _queue(
        self,
        rows: list[dict[str, Any]],
        products: Mapping[str, Any],
        by_asin: Mapping[str, list[_OldListing]],
    ) -> tuple[dict[ListingKey, list[_QueueCandidate]], dict[ListingKey, datetime]]:
        """Live rows by the listing they belong to (one per listing: duplicates are
        reported), and for items the old queue says were uploaded, the earliest time
        known of that upload."""
        live: dict[ListingKey, list[_QueueCandidate]] = {}
        uploaded: dict[ListingKey, datetime] = {}
        kept: dict[tuple[str, str, str], _QueueCandidate] = {}
        claimed_unassigned: set[ListingKey] = set()
        for row in rows:
            old_id = text(row.get("id"))
            status = text(row.get("status")).lower() or "(empty)"
            asin, platform = text(row.get("asin")), text(row.get("platform")).lower()
            account = optional_text(row.get("account_id"))
            what = _what(asin, platform, account)
            if status in HISTORY_QUEUE_STATUSES:
                self.result.left_behind[status] += 1
                if status in DONE_QUEUE_STATUSES and asin and platform:
                    when = self._earliest(row) or _EARLIEST
                    key = (asin, platform, account)
                    uploaded[key] = min(uploaded.get(key, when), when)
                continue
            if status not in LIVE_QUEUE_STATUSES:
                self._skip("upload_queue", old_id, status, what, "unknown status", status)
                continue
            if not asin or not platform or account is None:
                missing = "asin" if not asin else "platform" if not platform else "account"
                self._skip("upload_queue", old_id, status, what, f"no {missing}")
                continue
            if asin not in products:
                self._skip(
                    "upload_queue", old_id, status, what, "orphan queue row: no such product"
                )
                continue
            if account not in self.configured.get(platform, set()):
                self._skip(
                    "upload_queue",
                    old_id,
                    status,
                    what,
                    "account not under [accounts] (inactive or unknown); its listing stays pending",
                )
                continue
            triple = (asin, platform, account)
            if triple in kept:
                first = kept[triple]
                self._skip(
                    "upload_queue",
                    old_id,
                    status,
                    what,
                    "duplicate queue row",
                    f"queue row {first.old_id} is carried",
                )
                if status in STARTED_QUEUE_STATUSES:
                    # The duplicate may be the copy that was being uploaded: look first.
                    started = self._start_of(row)
                    first.started_at = min(first.started_at or started, started)
                continue
            listing_key = self._listing_for(triple, by_asin.get(asin, []), claimed_unassigned)
            if listing_key is None:
                self._skip(
                    "upload_queue",
                    old_id,
                    status,
                    what,
                    "orphan queue row: no listing of this product for this account",
                )
                continue
            try:
                scheduled = local_time(row.get("scheduled_time"), self.zone)
            except BadTime as exc:
                self._skip(
                    "upload_queue", old_id, status, what, "bad time", f"scheduled_time {exc}"
                )
                continue
            if scheduled is None:
                self._skip("upload_queue", old_id, status, what, "no scheduled_time")
                continue
            candidate = _QueueCandidate(
                row=row,
                old_id=old_id,
                status=status,
                key=listing_key,
                account=account,
                scheduled_time=scheduled,
                created_at=self._time(row.get("created_at")) or self.now,
                started_at=self._start_of(row) if status in STARTED_QUEUE_STATUSES else None,
                priority=self._priority(row.get("priority")),
            )
            if listing_key[2] is None:
                claimed_unassigned.add(listing_key)
            kept[triple] = candidate
            live[listing_key] = [candidate]
        return live, uploaded

    def _listing_for(
        self, triple: tuple[str, str, str], listings: list[_OldListing], claimed: set[ListingKey]
    ) -> ListingKey | None:
        """The listing a queue row works on: the account's own, else the product's
        unassigned one on the platform, which the row assigns (as add-to-queue does)."""
        asin, platform, account = triple
        unassigned = None
        for listing in listings:
            if listing.platform != platform:
                continue
            if listing.account_id == account:
                return triple
            if listing.account_id is None:
                unassigned = (asin, platform, None)
        if unassigned is not None and unassigned not in claimed:
            return unassigned
        return None

    # ------------------------------------------------------------------ one product

    def _group(
        self,
        asin: str,
        row: dict[str, Any],
        old_listings: list[_OldListing],
        queue: dict[ListingKey, list[_QueueCandidate]],
        uploaded: Mapping[ListingKey, datetime],
    ) -> None:
        title = text(row.get("title_ja")) or text(row.get("title_en"))
        price, stock = self._price_and_stock(row, old_listings)
        if not title or price is None:
            short = "no title" if not title else "no price"
            detail = "" if not title else "no listing has a selling_price, nor amazon_price_jpy"
            self._skip("products", asin, ROWS, asin, short, detail)
            for listing in old_listings:
                self._skip(
                    "listings",
                    listing.old_id,
                    listing.status,
                    _what(asin, listing.platform, listing.account_id),
                    f"its product was not carried ({short})",
                )
            return
        group = ProductGroup(asin, self._product_values(asin, row, title, price, stock))
        for listing in old_listings:
            planned = self._listing(listing, queue, uploaded)
            if planned is not None:
                group.listings.append(planned)
        self.result.groups.append(group)

    def _price_and_stock(
        self, row: dict[str, Any], old_listings: list[_OldListing]
    ) -> tuple[int | None, int]:
        priced = [
            (yen(item.row.get("selling_price")), item)
            for item in sorted(old_listings, key=lambda i: i.status not in UPLOADABLE)
            if _in_yen(item)
        ]
        priced = [(p, item) for p, item in priced if p is not None]
        amazon_stock = 1 if flag(row.get("amazon_in_stock")) else 0
        if priced:
            price, source = priced[0]
            if len({p for p, _ in priced}) > 1:
                self._tally("prices differ", text(row.get("asin")))
            quantity = integer(source.row.get("in_stock_quantity"))
            return price, quantity if quantity is not None and quantity >= 0 else amazon_stock
        amazon = yen(row.get("amazon_price_jpy"))
        if amazon is not None:
            self._tally("amazon price", text(row.get("asin")))
        return amazon, amazon_stock

    def _product_values(
        self, asin: str, row: dict[str, Any], title: str, price: int, stock: int
    ) -> dict[str, Any]:
        created = self._time(row.get("created_at")) or self.now
        return {
            "asin": asin,
            "title": title,
            "description": text(row.get("description_ja")) or text(row.get("description_en")),
            "price": price,
            "stock": stock,
            "images": json.dumps(self._images(asin, row.get("images")), ensure_ascii=False),
            "brand": text(row.get("brand")),
            "category": text(row.get("category")),
            "title_en": text(row.get("title_en")),
            "description_en": text(row.get("description_en")),
            "created_at": created,
            "updated_at": self._time(row.get("updated_at")) or created,
        }

    def _images(self, asin: str, value: Any) -> list[str]:
        raw = text(value)
        if not raw:
            return []
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, list):
            self._tally("images unreadable", asin)
            return []
        urls = [text(u) for u in parsed if isinstance(u, str) and text(u)]
        if len(urls) > defaults.MAX_IMAGES:
            self._tally("images cut", asin)
        return urls[: defaults.MAX_IMAGES]

    def _listing(
        self,
        listing: _OldListing,
        queue: dict[ListingKey, list[_QueueCandidate]],
        uploaded: Mapping[ListingKey, datetime],
    ) -> PlannedListing | None:
        key: ListingKey = (listing.asin, listing.platform, listing.account_id)
        what = _what(*key)
        candidates = queue.pop(key, [])
        if listing.status not in UPLOADABLE:
            for unplaced in candidates:
                self._skip_queue(
                    unplaced, f"the item is already {listing.status} in the old database"
                )
            return self._finished_listing(listing)
        if _lists_in_yen(listing.platform) and yen(listing.row.get("selling_price")) is None:
            self._skip(
                "listings", listing.old_id, listing.status, what, "needs a price (no selling_price)"
            )
            for unplaced in candidates:
                self._skip_queue(unplaced, "its listing needs a price")
            return None
        candidate = candidates[0] if candidates else None
        account = candidate.account if candidate is not None else listing.account_id
        planned = PlannedListing(
            listing.old_id,
            listing.status,
            self._listing_values(listing, account, "queued" if candidate else "pending"),
        )
        done_at = uploaded.get(planned.key) or uploaded.get(key)
        begun = self._ebay_ids(listing, planned.values)
        if not _lists_in_yen(listing.platform):
            self._tally(f"priced from yen {listing.platform}", listing.asin)
        if candidate is not None:
            if done_at is not None:
                # The old queue says this item was uploaded once: look before creating.
                candidate.started_at = min(candidate.started_at or done_at, done_at)
                self._tally("uploaded before", listing.asin)
            if begun is not None:
                candidate.started_at = min(candidate.started_at or begun, begun)
            planned.queue_row = self._queue_row(candidate)
        else:
            if listing.status == "queued":
                self._tally("queued without row", listing.asin)
            if done_at is not None:
                self._tally("uploaded, no id", listing.asin)
            if account is not None and account not in self.configured.get(listing.platform, ()):
                self._tally(f"unconfigured {listing.platform}/{account}", listing.asin)
        return planned

    def _finished_listing(self, listing: _OldListing) -> PlannedListing:
        status = LISTING_STATUS_MAP[listing.status]
        try:
            listed_at = self._strict_time(listing.row.get("listed_at"))
        except BadTime:
            listed_at = None
            self._tally("bad listed_at", listing.asin)
        values = self._listing_values(listing, listing.account_id, status)
        values["platform_item_id"] = optional_text(listing.row.get("platform_item_id"))
        values["listed_at"] = listed_at
        self._ebay_ids(listing, values)
        if status == "listed" and not values["platform_item_id"]:
            self._tally("listed without id", listing.asin)
        if status == "listed" and listing.platform == EBAY and not values["offer_id"]:
            self._tally("ebay listed without offer", listing.asin)
        return PlannedListing(listing.old_id, listing.status, values)

    def _ebay_ids(self, listing: _OldListing, values: dict[str, Any]) -> datetime | None:
        """Fill an eBay listing's offer id (and a missing listing id) from
        ebay_listing_metadata. Returns, for a listing not yet on eBay that has an entry
        there, when the old module began listing it (the earliest time known): its
        upload must look on eBay first."""
        if listing.platform != EBAY:
            return None
        meta = self.ebay_metadata.get(text(listing.row.get("sku")))
        if meta is None:
            return None
        values["offer_id"] = optional_text(meta.get("offer_id"))
        listing_id = optional_text(meta.get("listing_id"))
        if listing.status not in UPLOADABLE:
            if values["platform_item_id"] is None and listing_id is not None:
                values["platform_item_id"] = listing_id
                self._tally("ebay listing id from metadata", listing.asin)
            return None
        if values["offer_id"] is None and listing_id is None:
            return None
        self._tally("ebay begun", listing.asin)
        return self._time(meta.get("created_at")) or _EARLIEST

    def _listing_values(
        self, listing: _OldListing, account: str | None, status: str
    ) -> dict[str, Any]:
        updated = self._time(listing.row.get("updated_at")) or self.now
        return {
            "asin": listing.asin,
            "platform": listing.platform,
            "account_id": account,
            "status": status,
            "platform_item_id": None,
            "offer_id": None,
            "listed_at": None,
            "created_at": updated,
            "updated_at": updated,
        }

    def _queue_row(self, candidate: _QueueCandidate) -> PlannedQueueRow:
        asin, platform, _ = candidate.key
        return PlannedQueueRow(
            candidate.old_id,
            candidate.status,
            {
                "asin": asin,
                "platform": platform,
                "account_id": candidate.account,
                "kind": "upload",
                "scheduled_time": candidate.scheduled_time,
                "priority": candidate.priority,
                "status": "pending",
                "attempts": 0,
                "error_message": optional_text(candidate.row.get("error_message")),
                "call_started_at": candidate.started_at,
                "created_at": candidate.created_at,
                "updated_at": self.now,
            },
        )

    # ------------------------------------------------------------------ values

    def _priority(self, value: Any) -> int:
        number = integer(value)
        if number is None or number == 0:
            return defaults.PRIORITY_NORMAL
        if number < defaults.PRIORITY_MIN or number > defaults.PRIORITY_MAX:
            self.tallies["priority clamped"] += 1
            return max(defaults.PRIORITY_MIN, min(defaults.PRIORITY_MAX, number))
        return number

    def _time(self, value: Any) -> datetime | None:
        """A bookkeeping time (created_at, updated_at): unreadable means unknown."""
        try:
            return local_time(value, self.zone)
        except BadTime:
            return None

    def _strict_time(self, value: Any) -> datetime | None:
        return local_time(value, self.zone)

    def _start_of(self, row: dict[str, Any]) -> datetime:
        return self._earliest(row) or _EARLIEST

    def _earliest(self, row: dict[str, Any]) -> datetime | None:
        """The earliest time a queue row knows: an upload cannot have begun before it
        was queued, so a lookup on the shop need not look further back."""
        times = [
            self._time(row.get(name)) for name in ("created_at", "scheduled_time", "processed_at")
        ]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    # ------------------------------------------------------------------ reporting

    def _skip(
        self, table: str, old_id: Any, status: str, what: str, reason: str, detail: str = ""
    ) -> None:
        self.result.skipped.append(Skip(table, text(old_id), status, what, reason, detail))

    def _skip_queue(self, candidate: _QueueCandidate, reason: str) -> None:
        self._skip(
            "upload_queue",
            candidate.old_id,
            candidate.status,
            _what(candidate.key[0], candidate.key[1], candidate.account),
            reason,
        )

    def _tally(self, name: str, example: str) -> None:
        self.tallies[name] += 1
        if len(self.examples[name]) < _EXAMPLES:
            self.examples[name].append(example)

    def _notes(self) -> None:
        messages = {
            "amazon price": "product(s) have no listing with a yen selling_price; their price "
            "is amazon_price_jpy, kept as a record (only BASE listings with their own price "
            "are uploaded; eBay's price is derived from it by [platforms.ebay.pricing])",
            "prices differ": "product(s) had listings with different selling prices; ours "
            "keep one price per product, the first pending or queued listing's",
            "queued without row": "queued listing(s) had no live queue row and are pending "
            "again: `upload-scheduler add-to-queue` takes them",
            "uploaded before": "queue row(s) belong to items the old queue had already "
            "uploaded once: the worker looks each up on the shop before creating it",
            "uploaded, no id": "pending listing(s) were uploaded according to the old queue "
            "but have no platform item id: check the shop before queueing them",
            "listed without id": "listed item(s) have no platform item id: they are never "
            "uploaded again, but `delist` cannot remove them",
            "bad listed_at": "listed item(s) have an unreadable listed_at; carried without it",
            "images unreadable": "product(s) have images that are not a JSON list; carried "
            "without images",
            "images cut": f"product(s) have more than {defaults.MAX_IMAGES} images; the first "
            f"{defaults.MAX_IMAGES} are kept",
            "priority clamped": f"queue row(s) had a priority outside {defaults.PRIORITY_MIN}-"
            f"{defaults.PRIORITY_MAX}; clamped to it",
            "ebay listed without offer": f"listed eBay item(s) have no offer id in "
            f"{EBAY_METADATA_TABLE}: carried with their listing id only",
            "ebay listing id from metadata": "listed eBay item(s) had no platform_item_id; "
            f"their listing id comes from {EBAY_METADATA_TABLE}",
            "ebay begun": f"pending or queued eBay listing(s) already have an offer or listing "
            f"id in {EBAY_METADATA_TABLE}: the old module began listing them; their queue rows "
            "look the item up on eBay before creating it (check them on eBay before "
            "queueing the others)",
        }
        for name, count in self.tallies.items():
            if name.startswith("unconfigured "):
                where = name.removeprefix("unconfigured ")
                message = (
                    f"pending listing(s) belong to {where}, which is not under [accounts]: "
                    "add-to-queue takes them only once the account is configured"
                )
            elif name.startswith("priced from yen "):
                platform = name.removeprefix("priced from yen ")
                currency = defaults.PLATFORM_CURRENCIES.get(platform, "")
                message = (
                    f"pending or queued {_NAMES.get(platform, platform)} listing(s) come along "
                    "without their old "
                    f"{currency} selling_price: ours is the product's yen price × markup ÷ "
                    f"exchange_rate of [platforms.{platform}.pricing]; set exchange_rate "
                    f"(yen per {currency}) and markup before they upload (`upload-scheduler "
                    "rules check` shows each queued item's price)"
                )
            else:
                message = messages[name]
            examples = self.examples.get(name)
            shown = f" (e.g. {', '.join(examples)})" if examples else ""
            self.result.notes.append(f"{count} {message}{shown}")


def _lists_in_yen(platform: str) -> bool:
    """Whether the platform's prices are yen, so an old listing's price is ours as it is."""
    return defaults.PLATFORM_CURRENCIES.get(platform, defaults.DEFAULT_CURRENCY) == "JPY"


def _in_yen(listing: _OldListing) -> bool:
    """Whether the old listing's selling_price is a yen price: on a platform that lists
    in yen, in yen (or no currency). An eBay row's `currency` is not trusted to say yen:
    the old column defaults to 'JPY', so a row that never set it still reads 'JPY'."""
    currency = text(listing.row.get("currency")).upper()
    return _lists_in_yen(listing.platform) and currency in ("", "JPY")


def _what(asin: str, platform: str, account: str | None) -> str:
    return f"{asin or '(no asin)'} {platform or '(no platform)'}/{account or '(no account)'}"
