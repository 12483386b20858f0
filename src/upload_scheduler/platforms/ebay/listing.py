"""What one product becomes on eBay: the content rules, the category, the price, and the
two request bodies (the inventory item and the offer), written once.

Pure: a function of the product and the account's settings (and the seller's policy
ids for the offer). A product the rules refuse raises `ListingRefused` before anything
is sent; the adapter, and any check of the queue, share this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from upload_scheduler.config import AccountSettings
from upload_scheduler.config.values import CategoryValues
from upload_scheduler.platforms.ebay.description import clean_html, limit_html
from upload_scheduler.platforms.ebay.policies import Policies
from upload_scheduler.platforms.interface import Product
from upload_scheduler.pricing import Price, PricingSettings, list_price

TITLE_MAX = 80
DESCRIPTION_MAX = 4000
IMAGES_MAX = 24
SKU_MAX = 50
UNBRANDED = "Unbranded"
FORMAT = "FIXED_PRICE"
DURATION = "GTC"


class ListingRefused(Exception):
    """A product eBay's content rules refuse: nothing is sent. The message says why and
    what to change."""


@dataclass(frozen=True)
class Listing:
    """A product as it is listed on eBay."""

    sku: str
    title: str
    description: str
    images: tuple[str, ...]
    brand: str
    category_id: str
    price: Price
    quantity: int
    condition: str
    marketplace_id: str
    merchant_location_key: str
    title_cut: bool = False  # the English title was longer than eBay allows
    images_not_https: int = 0  # left out: eBay takes https:// images only
    images_over_limit: int = 0  # left out: beyond eBay's 24


def sku_for(asin: str, account: AccountSettings) -> str:
    """The inventory item's key: the ASIN behind the account's sku_prefix."""
    return f"{account.sku_prefix}{asin}"


def build_listing(product: Product, account: AccountSettings) -> Listing:
    """The listing of `product`, or ListingRefused naming the first rule it breaks.

    The quantity is the product's stock, as BASE receives it. It is not raised to 1 for a
    product without stock: that would offer a buyer what the seller may not have (an
    oversold eBay order is a defect on the seller's record). eBay cannot publish an offer
    of nothing, so such a product is refused here, before anything is sent."""
    sku = sku_for(product.asin, account)
    if len(sku) > SKU_MAX:
        raise ListingRefused(
            f"the SKU {sku!r} has {len(sku)} characters, eBay allows {SKU_MAX}; shorten sku_prefix"
        )
    title, title_cut = listing_title(product.title_en, account.title_overflow)
    images = [url for url in product.images if is_https(url)]
    not_https = len(product.images) - len(images)
    if not images:
        raise ListingRefused("eBay needs at least one https image; the product has none")
    category_id = category_for(product, account)
    price = price_for(product, account)
    if product.stock < 1:
        raise ListingRefused(
            f"the product's stock is {product.stock}: eBay publishes only an offer with "
            "something to sell; set a stock of at least 1"
        )
    description = product.description_en.strip() or title
    return Listing(
        sku=sku,
        title=title,
        description=limit_html(clean_html(description), DESCRIPTION_MAX),
        images=tuple(images[:IMAGES_MAX]),
        brand=" ".join(product.brand.split()) or UNBRANDED,
        category_id=category_id,
        price=price,
        quantity=product.stock,
        condition=account.condition,
        marketplace_id=account.marketplace_id,
        merchant_location_key=account.merchant_location_key,
        title_cut=title_cut,
        images_not_https=not_https,
        images_over_limit=max(0, len(images) - IMAGES_MAX),
    )


def listing_title(title_en: str, overflow: str) -> tuple[str, bool]:
    """The English title (runs of whitespace made one space) and whether it was cut."""
    title = " ".join(title_en.split())
    if not title:
        raise ListingRefused("eBay needs an English title (the product's title_en is empty)")
    if len(title) <= TITLE_MAX:
        return title, False
    if overflow == "reject":
        raise ListingRefused(
            f"the English title has {len(title)} characters, eBay allows {TITLE_MAX} "
            '(title_overflow = "reject")'
        )
    return cut_title(title), True


def cut_title(title: str, limit: int = TITLE_MAX) -> str:
    """`title` cut at the last word boundary that fits in `limit` characters; a first
    word longer than that is cut hard."""
    if len(title) <= limit:
        return title
    head = title[: limit + 1]
    space = head.rfind(" ")
    if space <= 0:
        return title[:limit]
    return head[:space].rstrip()


def is_https(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme.lower() == "https" and bool(parts.hostname)


def category_for(product: Product, account: AccountSettings) -> str:
    """eBay's category: the product's category mapped by [platforms.ebay.categories],
    else the account's category_id."""
    mapped = account.categories.get(product.category) if product.category else None
    if isinstance(mapped, CategoryValues):  # written as a table: its category_id
        mapped = mapped.category_id
    category_id = (mapped or account.category_id).strip()
    if category_id:
        return category_id
    shown = repr(product.category) if product.category else "(none)"
    raise ListingRefused(
        f"no eBay category for the product's category {shown}: map it under "
        "[platforms.ebay.categories] or set category_id"
    )


def price_for(product: Product, account: AccountSettings) -> Price:
    """The yen price converted by the account's pricing (`pricing.list_price`)."""
    pricing = account.pricing
    try:
        price = list_price(
            product.price,
            PricingSettings(pricing.currency, pricing.exchange_rate, pricing.markup),
        )
    except ValueError as exc:
        raise ListingRefused(f"no price: {exc}") from None
    if price.amount <= 0:
        raise ListingRefused(
            f"{product.price} yen comes to {price.amount} {price.currency}: eBay needs a "
            "price above zero"
        )
    return price


def inventory_item_body(listing: Listing) -> dict[str, Any]:
    """PUT /sell/inventory/v1/inventory_item/{sku}: the whole record (a PUT replaces it)."""
    return {
        "product": {
            "title": listing.title,
            "description": listing.description,
            "imageUrls": list(listing.images),
            "aspects": {"Brand": [listing.brand]},
        },
        "condition": listing.condition,
        "availability": {"shipToLocationAvailability": {"quantity": listing.quantity}},
    }


def offer_body(listing: Listing, policies: Policies) -> dict[str, Any]:
    """POST /sell/inventory/v1/offer. The price is a string with the currency's decimals."""
    return {
        "sku": listing.sku,
        "marketplaceId": listing.marketplace_id,
        "format": FORMAT,
        "availableQuantity": listing.quantity,
        "categoryId": listing.category_id,
        "merchantLocationKey": listing.merchant_location_key,
        "listingPolicies": policies.listing_policies(),
        "pricingSummary": {
            "price": {"value": str(listing.price.amount), "currency": listing.price.currency}
        },
        "listingDuration": DURATION,
    }
