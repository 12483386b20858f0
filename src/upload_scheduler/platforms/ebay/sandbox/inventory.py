"""The Sell Inventory API over one seller: locations, inventory items, offers, and the
publish that turns an offer into a listing, with eBay's rules and error ids.

Like eBay, an item and an offer may be incomplete while they are being built; what a
listing needs is checked at publish, which lists every problem at once. One offer per
(sku, marketplace, format): a second is refused with 25002 naming the first, so a
client that lost an answer finds its offer instead of listing twice.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from upload_scheduler.platforms.ebay.sandbox.errors import (
    BAD_CATEGORY,
    BAD_CONDITION,
    BAD_FULFILLMENT_POLICY,
    BAD_LOCATION,
    BAD_LOCATION_KEY,
    BAD_PAYMENT_POLICY,
    BAD_PICTURE_URL,
    BAD_PICTURES,
    BAD_PRICE,
    BAD_QUANTITY,
    BAD_RETURN_POLICY,
    BAD_SKU,
    ITEM_NOT_FOUND,
    LOCATION_EXISTS,
    LOCATION_INPUT,
    LOCATION_NOT_FOUND,
    MISSING_FIELD,
    NOT_FOUND_TEXT,
    OFFER_EXISTS_TEXT,
    OFFER_NOT_FOUND,
    POLICY_MARKETPLACE,
    SELLING_LIMIT,
    SKU_NOT_AVAILABLE,
    USER_ERROR,
    EbayError,
    bad_request,
    user_error,
)
from upload_scheduler.platforms.ebay.sandbox.sellers import (
    FULFILLMENT,
    MARKETPLACE_CURRENCIES,
    PAYMENT,
    RETURN,
    Ids,
    Offer,
    Seller,
)

SKU = re.compile(r"[A-Za-z0-9_-]{1,50}")
LOCATION_KEY = re.compile(r"[A-Za-z0-9_-]{1,36}")
TITLE_MAX, DESCRIPTION_MAX, IMAGES_MAX = 80, 4000, 24
FORMATS = frozenset({"FIXED_PRICE", "AUCTION"})
DURATIONS = frozenset({"GTC", "DAYS_1", "DAYS_3", "DAYS_5", "DAYS_7", "DAYS_10", "DAYS_30"})
CONDITIONS = frozenset(
    {
        "NEW",
        "LIKE_NEW",
        "NEW_OTHER",
        "NEW_WITH_DEFECTS",
        "CERTIFIED_REFURBISHED",
        "EXCELLENT_REFURBISHED",
        "VERY_GOOD_REFURBISHED",
        "GOOD_REFURBISHED",
        "SELLER_REFURBISHED",
        "USED_EXCELLENT",
        "USED_VERY_GOOD",
        "USED_GOOD",
        "USED_ACCEPTABLE",
        "FOR_PARTS_OR_NOT_WORKING",
    }
)
_POLICY_CHECKS = (
    (FULFILLMENT, "fulfillmentPolicyId", BAD_FULFILLMENT_POLICY),
    (PAYMENT, "paymentPolicyId", BAD_PAYMENT_POLICY),
    (RETURN, "returnPolicyId", BAD_RETURN_POLICY),
)


# ---------------------------------------------------------------------- locations


def create_location(seller: Seller, key: str, body: Any) -> None:
    """POST /location/{key}: 204; 409 / 25803 when the key exists."""
    if not LOCATION_KEY.fullmatch(key):
        raise user_error(
            BAD_LOCATION_KEY,
            "Invalid merchantLocationKey. It must be 1 to 36 letters, digits, '-' or '_'.",
            ("merchantLocationKey", key[:60]),
        )
    if key in seller.locations:
        raise EbayError(
            409,
            LOCATION_EXISTS,
            "merchantLocationKey already exists.",
            parameters=[("merchantLocationKey", key)],
        )
    body = json_object(body, "body")
    address = json_object(json_object(body.get("location"), "location").get("address"), "address")
    for name, value in address.items():
        _string(value, f"location.address.{name}")
    missing = None
    if not address.get("country"):
        missing = "location.address.country"
    elif not address.get("postalCode"):
        if address.get("city") and not address.get("stateOrProvince"):
            missing = "location.address.stateOrProvince"
        elif not address.get("city"):
            missing = "location.address.postalCode"
    if missing is not None:
        raise user_error(
            LOCATION_INPUT,
            f"Input error. {missing} is required (a country and a postalCode, or a country, "
            "a city and a stateOrProvince).",
            ("fieldName", missing),
        )
    if not re.fullmatch(r"[A-Z]{2}", address["country"]):
        raise bad_request("Could not serialize field [location.address.country]")
    seller.locations[key] = {
        "merchantLocationKey": key,
        "location": {"address": dict(address)},
        "name": str(body.get("name") or key),
        "merchantLocationStatus": str(body.get("merchantLocationStatus") or "ENABLED"),
        "locationTypes": list(body.get("locationTypes") or ["WAREHOUSE"]),
    }


def get_location(seller: Seller, key: str) -> dict[str, Any]:
    if key not in seller.locations:
        raise EbayError(
            404, LOCATION_NOT_FOUND, NOT_FOUND_TEXT, parameters=[("merchantLocationKey", key)]
        )
    return seller.locations[key]


def list_locations(seller: Seller) -> dict[str, Any]:
    found = list(seller.locations.values())
    return {"total": len(found), "limit": 100, "offset": 0, "locations": found}


# ---------------------------------------------------------------------- inventory items


def check_sku(sku: str) -> str:
    if not SKU.fullmatch(sku):
        raise user_error(
            BAD_SKU,
            "This is an invalid value for a SKU. Only alphanumeric characters can be used for "
            "SKUs, and their length must not exceed 50 characters",
            ("sku", sku[:60]),
        )
    return sku


def put_item(seller: Seller, sku: str, body: Any, locale: str) -> list[Offer]:
    """PUT /inventory_item/{sku}: create or replace the whole record (204). The live
    listings of the SKU's offers are revised with it: those offers are returned."""
    check_sku(sku)
    body = json_object(body, "body")
    product = json_object(body.get("product", {}), "product")
    title = _string(product.get("title", ""), "product.title")
    description = _string(product.get("description", ""), "product.description")
    if len(title) > TITLE_MAX:
        raise user_error(
            USER_ERROR,
            f"A user error has occurred. The title may not be longer than {TITLE_MAX} characters.",
            ("fieldName", "product.title"),
        )
    if len(description) > DESCRIPTION_MAX:
        raise user_error(
            USER_ERROR,
            "A user error has occurred. The description may not be longer than "
            f"{DESCRIPTION_MAX} characters.",
            ("fieldName", "product.description"),
        )
    images = product.get("imageUrls", [])
    if not isinstance(images, list) or not all(isinstance(u, str) for u in images):
        raise bad_request("Could not serialize field [product.imageUrls]")
    _check_images(images, empty_ok=True)
    aspects = product.get("aspects", {})
    if not isinstance(aspects, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in aspects.values()
    ):
        raise bad_request("Could not serialize field [product.aspects]")
    condition = body.get("condition")
    if condition is not None and condition not in CONDITIONS:
        raise user_error(BAD_CONDITION, "Invalid condition.", ("condition", str(condition)[:40]))
    availability = json_object(body.get("availability", {}), "availability")
    ship = json_object(availability.get("shipToLocationAvailability", {}), "availability")
    quantity = ship.get("quantity", 0)
    if type(quantity) is not int:
        raise bad_request("Could not serialize field [quantity]")
    if quantity < 0:
        raise user_error(BAD_QUANTITY, "Invalid quantity.", ("quantity", str(quantity)))
    seller.items[sku] = {"sku": sku, "locale": locale, **body}
    revised = [o for o in seller.offers.values() if o.sku == sku and o.status == "PUBLISHED"]
    for offer in revised:
        offer.revisions += 1
    return revised


def get_item(seller: Seller, sku: str) -> dict[str, Any]:
    check_sku(sku)
    if sku not in seller.items:
        raise EbayError(404, ITEM_NOT_FOUND, NOT_FOUND_TEXT, parameters=[("sku", sku)])
    return seller.items[sku]


def list_items(seller: Seller, limit: int, offset: int) -> dict[str, Any]:
    items = list(seller.items.values())
    page = items[offset : offset + limit]
    return {"total": len(items), "size": len(page), "limit": limit, "inventoryItems": page}


def delete_item(seller: Seller, sku: str) -> list[str]:
    """DELETE /inventory_item/{sku}: the item, its offers and their listings go; the
    listings ended."""
    get_item(seller, sku)
    del seller.items[sku]
    ended = []
    for offer_id, offer in list(seller.offers.items()):
        if offer.sku == sku:
            if offer.listing_id is not None and offer.status == "PUBLISHED":
                ended.append(offer.listing_id)
            del seller.offers[offer_id]
    return ended


# ---------------------------------------------------------------------- offers


def create_offer(seller: Seller, body: Any, ids: Ids) -> Offer:
    """POST /offer: 201 {"offerId"}; the SKU's item must exist (400 / 25702)."""
    body = json_object(body, "body")
    sku = _required(body, "sku")
    marketplace = _required(body, "marketplaceId")
    listing_format = _required(body, "format")
    if marketplace not in MARKETPLACE_CURRENCIES:
        raise bad_request("Could not serialize field [marketplaceId]")
    if listing_format not in FORMATS:
        raise bad_request("Could not serialize field [format]")
    fields = _offer_fields(body)
    check_sku(sku)
    if sku not in seller.items:
        raise user_error(
            SKU_NOT_AVAILABLE, f"SKU {sku} is not available in the system.", ("sku", sku)
        )
    for offer in seller.offers.values():
        if (offer.sku, offer.marketplace_id, offer.format) == (sku, marketplace, listing_format):
            raise user_error(USER_ERROR, OFFER_EXISTS_TEXT, ("offerId", offer.offer_id))
    offer = Offer(ids.offer(), sku, marketplace, listing_format, fields)
    seller.offers[offer.offer_id] = offer
    return offer


def update_offer(
    seller: Seller, offer_id: str, body: Any, required_aspects: frozenset[str], now: datetime
) -> bool:
    """PUT /offer/{offerId}: replace the offer's fields; a published offer's listing is
    revised (checked as a publish). Whether a live listing was revised."""
    offer = _offer(seller, offer_id)
    fields = _offer_fields(json_object(body, "body"))
    if offer.status == "PUBLISHED":
        before = offer.fields
        offer.fields = fields
        try:
            check_publishable(seller, offer, required_aspects, now)
        except EbayError:
            offer.fields = before
            raise
        offer.revisions += 1
        return True
    offer.fields = fields
    return False


def find_offers(seller: Seller, params: dict[str, str], empty_ok: bool) -> dict[str, Any]:
    """GET /offer?sku=…[&marketplace_id=…][&format=…]: 404 / 25713 when none."""
    sku = params.get("sku", "")
    if not sku:
        raise user_error(MISSING_FIELD, "Missing field sku.", ("fieldName", "sku"))
    check_sku(sku)
    marketplace, listing_format = params.get("marketplace_id"), params.get("format")
    found = [
        offer_json(o)
        for o in seller.offers.values()
        if o.sku == sku
        and (not marketplace or o.marketplace_id == marketplace)
        and (not listing_format or o.format == listing_format)
    ]
    if not found and not empty_ok:
        raise EbayError(
            404, OFFER_NOT_FOUND, "This Offer is not available.", parameters=[("sku", sku)]
        )
    return {"total": len(found), "size": len(found), "limit": 100, "offers": found}


def get_offer(seller: Seller, offer_id: str) -> dict[str, Any]:
    return offer_json(_offer(seller, offer_id))


def delete_offer(seller: Seller, offer_id: str) -> str | None:
    """DELETE /offer/{offerId}: the offer goes; its live listing ends (its id returned)."""
    offer = _offer(seller, offer_id)
    del seller.offers[offer_id]
    return offer.listing_id if offer.status == "PUBLISHED" else None


def publish(
    seller: Seller,
    offer_id: str,
    ids: Ids,
    *,
    required_aspects: frozenset[str],
    selling_limit: int,
    now: datetime,
) -> tuple[str, bool]:
    """POST /offer/{offerId}/publish: (listingId, whether a new listing was created).
    A published offer is revised: same listing, one more revision."""
    offer = _offer(seller, offer_id)
    check_publishable(seller, offer, required_aspects, now)
    offer.publishes += 1
    if offer.status == "PUBLISHED" and offer.listing_id is not None:
        offer.revisions += 1
        return offer.listing_id, False
    live = sum(1 for o in seller.offers.values() if o.status == "PUBLISHED")
    if selling_limit and live >= selling_limit:
        offer.publishes -= 1
        raise user_error(
            SELLING_LIMIT,
            "You have exceeded your selling limit.",
            ("sellingLimit", str(selling_limit)),
        )
    offer.listing_id = ids.listing()
    offer.listings.append(offer.listing_id)
    offer.status = "PUBLISHED"
    return offer.listing_id, True


def withdraw(seller: Seller, offer_id: str) -> str:
    """POST /offer/{offerId}/withdraw: the listing ends, the offer stays, unpublished."""
    offer = _offer(seller, offer_id)
    if offer.status != "PUBLISHED" or offer.listing_id is None:
        raise user_error(
            USER_ERROR,
            "A user error has occurred. The offer is not published.",
            ("offerId", offer_id),
        )
    offer.status = "UNPUBLISHED"
    return offer.listing_id


def check_publishable(
    seller: Seller, offer: Offer, required_aspects: frozenset[str], now: datetime
) -> None:
    """Everything a listing needs, every problem listed (the first is errors[0])."""
    problems: list[EbayError] = []
    fields = offer.fields
    item = seller.items.get(offer.sku, {})
    product = item.get("product", {})
    if not product.get("title"):
        problems.append(_missing("product.title"))
    if not (fields.get("listingDescription") or product.get("description")):
        problems.append(_missing("product.description"))
    try:
        _check_images(product.get("imageUrls", []), empty_ok=False)
    except EbayError as err:
        problems.append(err)
    if not item.get("condition"):
        problems.append(user_error(BAD_CONDITION, "Invalid condition.", ("condition", "")))
    aspects = product.get("aspects", {})
    for name in sorted(required_aspects - set(aspects)):
        problems.append(
            user_error(25029, f"{name} is required for this category.", ("aspect", name))
        )
    category = fields.get("categoryId")
    if not isinstance(category, str) or not category.isdigit():
        problems.append(
            user_error(BAD_CATEGORY, "Invalid category ID.", ("categoryId", str(category or "")))
        )
    problems += _policy_problems(seller, offer, seller.opted_in(now))
    location = fields.get("merchantLocationKey")
    if not location or location not in seller.locations:
        problems.append(
            user_error(
                BAD_LOCATION,
                "No Item.Country exists or Item.Location / Item.PostalCode is invalid: the "
                "merchantLocationKey names no location of the seller.",
                ("merchantLocationKey", str(location or "")),
            )
        )
    problems += _price_problems(offer)
    quantity = fields.get("availableQuantity")
    if quantity is None:
        ship = item.get("availability", {}).get("shipToLocationAvailability", {})
        quantity = ship.get("quantity", 0)
    if quantity <= 0:
        problems.append(user_error(BAD_QUANTITY, "Invalid quantity.", ("quantity", str(quantity))))
    if problems:
        first, *rest = problems
        first.more = rest
        raise first


def offer_json(offer: Offer) -> dict[str, Any]:
    """An offer as GET /offer answers it."""
    answer: dict[str, Any] = {
        "offerId": offer.offer_id,
        "sku": offer.sku,
        "marketplaceId": offer.marketplace_id,
        "format": offer.format,
        **offer.fields,
        "status": offer.status,
    }
    if offer.status == "PUBLISHED" and offer.listing_id is not None:
        answer["listing"] = {"listingId": offer.listing_id, "listingStatus": "ACTIVE"}
    return answer


# ---------------------------------------------------------------------- helpers


def _offer_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The offer's own fields, their types checked as eBay reads them (2004 when eBay
    could not read one into its model)."""
    fields = {k: v for k, v in body.items() if k not in ("sku", "marketplaceId", "format")}
    quantity = fields.get("availableQuantity")
    if quantity is not None and type(quantity) is not int:
        raise bad_request("Could not serialize field [availableQuantity]")
    if quantity is not None and quantity < 0:
        raise user_error(BAD_QUANTITY, "Invalid quantity.", ("availableQuantity", str(quantity)))
    for name in ("categoryId", "merchantLocationKey", "listingDescription"):
        if name in fields:
            _string(fields[name], name)
    duration = fields.get("listingDuration")
    if duration is not None and duration not in DURATIONS:
        raise bad_request("Could not serialize field [listingDuration]")
    policies = json_object(fields.get("listingPolicies", {}), "listingPolicies")
    for name in ("fulfillmentPolicyId", "paymentPolicyId", "returnPolicyId"):
        if name in policies:
            _string(policies[name], f"listingPolicies.{name}")
    pricing = json_object(fields.get("pricingSummary", {}), "pricingSummary")
    price = json_object(pricing.get("price", {}), "pricingSummary.price")
    for name in ("value", "currency"):
        if name in price:
            _string(price[name], f"pricingSummary.price.{name}")
    return fields


def _policy_problems(seller: Seller, offer: Offer, opted_in: bool) -> list[EbayError]:
    policies = offer.fields.get("listingPolicies", {})
    problems = []
    for kind, name, error_id in _POLICY_CHECKS:
        policy_id = policies.get(name)
        policy = seller.policy(kind, policy_id) if policy_id else None
        if policy is None or not opted_in:
            why = (
                "The seller is not opted in to business policies."
                if not opted_in
                else f"No {kind} policy {policy_id or '(none given)'} for this seller."
            )
            problems.append(
                EbayError(
                    400,
                    error_id,
                    f"Please add a valid {kind} policy to your offer.",
                    why,
                    [(name, str(policy_id or ""))],
                )
            )
        elif policy.marketplace_id != offer.marketplace_id:
            problems.append(
                user_error(
                    POLICY_MARKETPLACE,
                    f"The {kind} policy was not found for the marketplace {offer.marketplace_id}.",
                    (name, str(policy_id)),
                )
            )
    return problems


def _price_problems(offer: Offer) -> list[EbayError]:
    price = offer.fields.get("pricingSummary", {}).get("price", {})
    value, currency = price.get("value"), price.get("currency")
    expected = MARKETPLACE_CURRENCIES[offer.marketplace_id]
    try:
        amount = Decimal(str(value))
        valid = amount.is_finite() and amount > 0 and amount == amount.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        valid = False
    if not valid or currency != expected:
        return [
            user_error(
                BAD_PRICE,
                f"Invalid price: a value above 0 with at most 2 decimals, in {expected}.",
                ("price", f"{value} {currency}"),
            )
        ]
    return []


def _check_images(images: list[str], *, empty_ok: bool) -> None:
    if (not images and not empty_ok) or len(images) > IMAGES_MAX:
        raise user_error(
            BAD_PICTURES,
            f"A listing needs between 1 and {IMAGES_MAX} pictures.",
            ("imageUrls", str(len(images))),
        )
    for url in images:
        if not url.startswith("https://") or len(url) > 500:
            raise user_error(
                BAD_PICTURE_URL,
                "Picture URLs must be https and at most 500 characters.",
                ("imageUrl", url[:100]),
            )


def _offer(seller: Seller, offer_id: str) -> Offer:
    offer = seller.offers.get(offer_id)
    if offer is None:
        raise EbayError(
            404,
            OFFER_NOT_FOUND,
            "This Offer is not available.",
            parameters=[("offerId", offer_id[:40])],
        )
    return offer


def _missing(field: str) -> EbayError:
    return user_error(MISSING_FIELD, f"Missing field {field}.", ("fieldName", field))


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise _missing(name)
    return _string(value, name)


def json_object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"Could not serialize field [{name}]")
    return value


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise bad_request(f"Could not serialize field [{name}]")
    return value
