"""eBay's hook for `upload-scheduler rules check`: the content rules of `listing.py`,
the same `build_listing` the adapter runs before sending, with the rule it broke named.

`build_listing` decides whether a product is refused (and says why); the rule's name is
found by asking the same questions in the same order, so a rule added there and not here
is still reported, as "content".
"""

from __future__ import annotations

from upload_scheduler.config import AccountSettings, Settings
from upload_scheduler.platforms.ebay import listing as content
from upload_scheduler.platforms.interface import Product
from upload_scheduler.platforms.listing_check import ListingCheck, Violation


def listing_check(settings: Settings, platform: str) -> ListingCheck:
    """The hook `platforms.listing_check.CHECKS` names: eBay needs no rules file."""
    return check_listing


def check_listing(product: Product, account: AccountSettings | None) -> Violation | None:
    """What stops `product` from being listed for `account`, or None."""
    if account is None:
        return Violation("account", "the account is not configured under [accounts] ebay")
    try:
        content.build_listing(product, account)
    except content.ListingRefused as refused:
        return Violation(_rule_of(product, account), str(refused))
    return None


def _rule_of(product: Product, account: AccountSettings) -> str:
    """The name of the first rule `product` breaks, in `build_listing`'s order."""
    if len(content.sku_for(product.asin, account)) > content.SKU_MAX:
        return "sku"
    title = " ".join(product.title_en.split())
    if not title:
        return "title_en"
    if len(title) > content.TITLE_MAX and account.title_overflow == "reject":
        return "title_overflow"
    if not any(content.is_https(url) for url in product.images):
        return "https_images"
    for rule, probe in (("category", content.category_for), ("price", content.price_for)):
        try:
            probe(product, account)
        except content.ListingRefused:
            return rule
    if product.stock < 1:
        return "stock"
    return "content"
