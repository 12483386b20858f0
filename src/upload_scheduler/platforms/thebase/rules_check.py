"""The queued items the content rules would block (`upload-scheduler rules check`), and
BASE's hook for that command (`listing_check`: its `[platforms.X.rules]`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, RowMapping, select

from upload_scheduler.config import AccountSettings, Settings
from upload_scheduler.platforms.interface import Product
from upload_scheduler.platforms.listing_check import ListingCheck, Violation
from upload_scheduler.platforms.thebase.rules import Rules, RuleViolation, apply_rules, load_rules
from upload_scheduler.store.tables import products, upload_queue


def listing_check(settings: Settings, platform: str) -> ListingCheck:
    """The platform's `[platforms.X.rules]` as a check of one product (what the BASE
    adapter applies before sending). Raises RulesError for an unusable rules section."""
    rules = load_rules(settings.platform_config(platform).rules, settings.base_dir)

    def check(product: Product, account: AccountSettings | None) -> Violation | None:
        try:
            apply_rules(product, rules)
        except RuleViolation as violation:
            return Violation(violation.rule, violation.detail)
        return None

    return check


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
        title_en=row.get("title_en") or "",
        description_en=row.get("description_en") or "",
    )
