"""Row counts per table and status: the seed's `inventory/scripts/test_db.py`."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from upload_scheduler.store.tables import account_usage, listings, products, upload_queue


def census(engine: Engine) -> dict[str, dict[str, int]]:
    """{table: {status or 'rows': count}}, with a 'total' for tables that have statuses."""
    result: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        result["products"] = {
            "rows": conn.execute(select(func.count()).select_from(products)).scalar_one()
        }
        for table in (listings, upload_queue):
            by_status = conn.execute(
                select(table.c.status, func.count()).group_by(table.c.status)
            ).tuples()
            counts = {str(status): int(n) for status, n in sorted(by_status)}
            counts["total"] = sum(counts.values())
            result[table.name] = counts
        unassigned = conn.execute(
            select(func.count()).select_from(listings).where(listings.c.account_id.is_(None))
        ).scalar_one()
        result["listings"]["unassigned"] = int(unassigned)
        result["account_usage"] = {
            "rows": conn.execute(select(func.count()).select_from(account_usage)).scalar_one()
        }
    return result
