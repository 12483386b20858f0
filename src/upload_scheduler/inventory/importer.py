"""Write a product file into the master DB: products upserted by asin, and a pending
listing for each product that has none on the platform yet.

A 100,000-row file must import in seconds, so the work is done in chunks of
`defaults.IMPORT_CHUNK_ROWS`, one transaction each, with bulk statements: a handful of
statements per chunk instead of several per row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from upload_scheduler import defaults
from upload_scheduler.inventory.product import PRODUCT_COLUMNS
from upload_scheduler.inventory.reader import (
    ProductRow,
    RowError,
    SourceFile,
    iter_rows,
    open_source,
)
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import listings, products
from upload_scheduler.store.upsert import dialect_insert

ProgressCallback = Callable[[int, int], None]

# Below SQLite's oldest bound-parameter limit (999), so an IN list never exceeds it.
_IN_BATCH = 500


@dataclass
class ImportReport:
    rows_read: int = 0
    products_created: int = 0
    products_updated: int = 0
    listings_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = True

    @property
    def rows_rejected(self) -> int:
        """Rows, not problems: one row may have several bad fields."""
        return len({error.line for error in self.errors})

    @property
    def rows_imported(self) -> int:
        return self.products_created + self.products_updated


@dataclass(frozen=True)
class _Target:
    platform: str
    account_id: str | None
    now: datetime


def import_products(
    engine: Engine,
    path: Path,
    platform: str,
    *,
    account_id: str | None = None,
    encoding: str = "auto",
    strict: bool = False,
    now: datetime,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import `path`; bad rows are skipped and reported, or with `strict` nothing is
    written when any row is bad. `on_progress(line, total_lines)` follows the writes.

    Raises `ImportFileError` (before writing anything) when the file cannot be read.
    Chunks commit as they go, so a database error midway keeps the earlier chunks; the
    import is idempotent, so running it again finishes the job.
    """
    if now.utcoffset() is None:
        # Checked here, not by the column type, so a naive time fails before any write.
        raise ValueError(f"now must be an aware datetime, got {now!r}")
    source = open_source(path, encoding)
    target = _Target(platform, account_id, now)
    if strict:
        report = _validate(source)
        if report.errors:
            report.written = False
            return report
    return _write(engine, source, target, on_progress)


def _validate(source: SourceFile) -> ImportReport:
    """A dry pass: the file read once, nothing written, every error collected."""
    report = ImportReport()
    for item in iter_rows(source):
        _count(report, item)
    return report


def _write(
    engine: Engine, source: SourceFile, target: _Target, on_progress: ProgressCallback | None
) -> ImportReport:
    report = ImportReport()
    chunk: list[ProductRow] = []
    for item in iter_rows(source):
        _count(report, item)
        if isinstance(item, ProductRow):
            chunk.append(item)
        if len(chunk) >= defaults.IMPORT_CHUNK_ROWS:
            _write_chunk(engine, chunk, target, report)
            _progress(on_progress, chunk[-1].line, source.lines)
            chunk = []
    if chunk:
        _write_chunk(engine, chunk, target, report)
    _progress(on_progress, source.lines, source.lines)
    return report


def _count(report: ImportReport, item: ProductRow | RowError) -> None:
    if isinstance(item, ProductRow):
        report.rows_read += 1
        return
    # The errors of one row arrive together, so a new line number means a new row.
    new_row = not report.errors or report.errors[-1].line != item.line
    report.rows_read += new_row
    report.errors.append(item)


def _progress(callback: ProgressCallback | None, line: int, total: int) -> None:
    if callback is not None:
        callback(min(line, total), total)


def _write_chunk(
    engine: Engine, chunk: Sequence[ProductRow], target: _Target, report: ImportReport
) -> None:
    asins = [row.asin for row in chunk]
    with write_transaction(engine) as conn:
        existing = _existing_products(conn, asins)
        _upsert_products(conn, chunk, target.now)
        created = _create_listings(conn, asins, target)
    report.products_updated += len(existing)
    report.products_created += len(chunk) - len(existing)
    report.listings_created += created


def _existing_products(conn: Connection, asins: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for batch in _batches(asins):
        found.update(conn.scalars(select(products.c.asin).where(products.c.asin.in_(batch))))
    return found


def _upsert_products(conn: Connection, chunk: Sequence[ProductRow], now: datetime) -> None:
    """One executemany; created_at is only written for new rows (it is not in `set_`)."""
    stmt = dialect_insert(conn, products)
    stmt = stmt.on_conflict_do_update(
        index_elements=[products.c.asin],
        # Every column, present in the file or not: a column the file lacks is written ""
        # (or 0), so the product is what the latest file says, whatever an earlier one held.
        set_={name: stmt.excluded[name] for name in (*PRODUCT_COLUMNS, "updated_at")},
    )
    conn.execute(stmt, [_product_values(row, now) for row in chunk])


def _product_values(row: ProductRow, now: datetime) -> dict[str, Any]:
    return {
        "asin": row.asin,
        "title": row.title,
        "description": row.description,
        "price": row.price,
        "stock": row.stock,
        "images": json.dumps(list(row.images), ensure_ascii=False),
        "brand": row.brand,
        "category": row.category,
        "title_en": row.title_en,
        "description_en": row.description_en,
        "created_at": now,
        "updated_at": now,
    }


def _create_listings(conn: Connection, asins: Sequence[str], target: _Target) -> int:
    """Pending listings for the asins that lack one; existing listings are never touched.

    Without an account, "lacks one" means no listing at all on the platform, assigned or
    not, which no unique index can express; hence the explicit lookup.
    """
    have = _asins_with_listing(conn, asins, target)
    missing = [asin for asin in asins if asin not in have]
    if not missing:
        return 0
    rows = [
        {
            "asin": asin,
            "platform": target.platform,
            "account_id": target.account_id,
            "status": "pending",
            "created_at": target.now,
            "updated_at": target.now,
        }
        for asin in missing
    ]
    # The write lock makes the lookup exact on SQLite; on PostgreSQL a concurrent import
    # could still win the race, and then its row stands.
    conn.execute(dialect_insert(conn, listings).on_conflict_do_nothing(), rows)
    return len(missing)


def _asins_with_listing(conn: Connection, asins: Sequence[str], target: _Target) -> set[str]:
    found: set[str] = set()
    for batch in _batches(asins):
        query = select(listings.c.asin).where(
            listings.c.platform == target.platform, listings.c.asin.in_(batch)
        )
        if target.account_id is not None:
            query = query.where(listings.c.account_id == target.account_id)
        found.update(conn.scalars(query))
    return found


def _batches(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_BATCH):
        yield items[start : start + _IN_BATCH]
