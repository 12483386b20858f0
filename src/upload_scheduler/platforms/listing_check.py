"""What each pending upload would meet on its platform, without sending anything
(`upload-scheduler rules check`): the platform's own content check, and the price the
account's pricing gives it.

Each platform supplies its check through a small hook, `listing_check(settings, platform)
-> ListingCheck`, named in `CHECKS` (BASE: its `[platforms.X.rules]`; eBay: the content
rules of `platforms/ebay/listing.py`). A platform without its own hook is checked with the
configurable rules, as before. The hook is the same code the adapter runs, so what this
reports is what the daemon would do.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from upload_scheduler.config import AccountSettings, Settings
from upload_scheduler.platforms.interface import Product
from upload_scheduler.pricing import Price, PricingSettings, list_price
from upload_scheduler.store.tables import products, upload_queue


@dataclass(frozen=True)
class Violation:
    """Why a platform would refuse a product: `rule` names the rule, `detail` says what
    to change."""

    rule: str
    detail: str


# A product and its account's settings (None: the account is no longer configured) ->
# what blocks it, or None.
ListingCheck = Callable[[Product, AccountSettings | None], Violation | None]

# Platform -> "module:function" of its hook: (settings, platform) -> ListingCheck.
CHECKS = {
    "base": "upload_scheduler.platforms.thebase.rules_check:listing_check",
    "ebay": "upload_scheduler.platforms.ebay.checks:listing_check",
    "yahoo": "upload_scheduler.platforms.yahoo.checks:listing_check",
}
DEFAULT_CHECK = CHECKS["base"]  # [platforms.X.rules], for any other platform


def listing_check(settings: Settings, platform: str) -> ListingCheck:
    """The check of `platform`. Raises what the hook raises for an unusable
    configuration (BASE: `RulesError` for a missing words file)."""
    module, _, name = CHECKS.get(platform, DEFAULT_CHECK).partition(":")
    factory: Callable[[Settings, str], ListingCheck] = getattr(
        importlib.import_module(module), name
    )
    return factory(settings, platform)


@dataclass(frozen=True)
class CheckedItem:
    """One pending upload: what the platform would do with it, and at what price."""

    queue_id: int
    asin: str
    account_id: str
    price: Price | None  # None: the account is not configured, or the price cannot be made
    violation: Violation | None

    @property
    def price_text(self) -> str:
        return "-" if self.price is None else f"{self.price.amount} {self.price.currency}"

    def to_json(self) -> dict[str, Any]:
        """`price` is a string with the currency's decimals ("13.20"), exact as sent."""
        return {
            "queue_id": self.queue_id,
            "asin": self.asin,
            "account_id": self.account_id,
            "price": None if self.price is None else str(self.price.amount),
            "currency": None if self.price is None else self.price.currency,
            "rule": None if self.violation is None else self.violation.rule,
            "detail": None if self.violation is None else self.violation.detail,
        }


def check_queue(
    engine: Engine, settings: Settings, platform: str, check: ListingCheck
) -> list[CheckedItem]:
    """Every pending upload of `platform`, in queue order, checked and priced."""
    from upload_scheduler.platforms.thebase.rules_check import product_from_row

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
    accounts: dict[str, AccountSettings | None] = {}
    checked: list[CheckedItem] = []
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            account_id = row["account_id"]
            if account_id not in accounts:
                accounts[account_id] = _account(settings, platform, account_id)
            account = accounts[account_id]
            product = product_from_row(row)
            checked.append(
                CheckedItem(
                    row["id"],
                    row["asin"],
                    account_id,
                    price_of(product, account),
                    check(product, account),
                )
            )
    return checked


def price_of(product: Product, account: AccountSettings | None) -> Price | None:
    """`pricing.list_price` with the account's effective pricing."""
    if account is None:
        return None
    pricing = account.pricing
    try:
        return list_price(
            product.price,
            PricingSettings(pricing.currency, pricing.exchange_rate, pricing.markup),
        )
    except ValueError:
        return None


def _account(settings: Settings, platform: str, account_id: str) -> AccountSettings | None:
    try:
        return settings.account(platform, account_id)
    except KeyError:
        return None
