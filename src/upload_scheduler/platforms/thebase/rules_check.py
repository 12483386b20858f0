"""The queued items the content rules would block (`upload-scheduler rules check`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, RowMapping, select

from upload_scheduler.platforms.interface import Product
from upload_scheduler.platforms.thebase.rules import Rules, RuleViolation, apply_rules
from upload_scheduler.store.tables import products, upload_queue


@dataclass(frozen=True)
class BlockedItem:
    queue_id: int
    asin: str
    account_id: str
    rule: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def blocked_items(engine: Engine, platform: str, rules: Rules) -> tuple[int, list[BlockedItem]]:
    """(pending items checked, those the rules would block), in queue order."""
    query = (
        select(upload_queue.c.id, upload_queue.c.account_id, products)
        .join(products, products.c.asin == upload_queue.c.asin)
        .where(
            upload_queue.c.platform == platform,
            upload_queue.c.status == "pending",
            upload_queue.c.kind == "upload",
        )
        .order_by(upload_queue.c.id)
    )
    checked = 0
    blocked: list[BlockedItem] = []
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            checked += 1
            try:
                apply_rules(product_from_row(row), rules)
            except RuleViolation as violation:
                blocked.append(
                    BlockedItem(
                        row["id"], row["asin"], row["account_id"], violation.rule, violation.detail
                    )
                )
    return checked, blocked


def product_from_row(row: RowMapping) -> Product:
    """A `products` row as the adapter sees it (images are stored as a JSON list)."""
    try:
        images = tuple(str(u) for u in json.loads(row["images"] or "[]"))
    except ValueError:
        images = ()
    return Product(
        asin=row["asin"],
        title=row["title"],
        description=row["description"] or "",
        price=int(row["price"]),
        stock=int(row["stock"]),
        images=images,
        brand=row["brand"] or "",
        category=row["category"] or "",
    )
