"""Everything the eBay sandbox holds: the grants, the applications' day budgets and the
sellers, behind one lock that callers hold around each request."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.ebay.sandbox.oauth import Grants
from upload_scheduler.platforms.ebay.sandbox.options import EbaySandboxOptions
from upload_scheduler.platforms.ebay.sandbox.quota import ApplicationQuota
from upload_scheduler.platforms.ebay.sandbox.sellers import (
    POLICY_KINDS,
    Ids,
    Offer,
    Seller,
    new_seller,
)


class EbaySandboxState:
    def __init__(self, options: EbaySandboxOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self.lock = threading.RLock()
        self.grants = Grants(options, clock)
        self.quota = ApplicationQuota(
            options.app_day_limit, options.account_day_limit, options.timezone
        )
        self.ids = Ids()
        self.sellers: dict[str, Seller] = {}

    def seller(self, name: str) -> Seller:
        """The seller, set up as the options say at its first appearance."""
        if name not in self.sellers:
            self.sellers[name] = new_seller(name, self.options, self.ids, self.clock.now())
        return self.sellers[name]

    def snapshot(self, seller: str | None = None) -> dict[str, Any]:
        """What GET /_sandbox/state answers: the sellers' set-up and stock, and the
        applications' usage today."""
        now = self.clock.now()
        names = [seller] if seller else sorted(self.sellers)
        return {
            "sellers": {name: _seller_json(self.seller(name), now) for name in names},
            "applications": self.quota.snapshot(now),
        }


def _seller_json(seller: Seller, now: datetime) -> dict[str, Any]:
    return {
        "opted_in": seller.opted_in(now),
        "programs": sorted(p for p, at in seller.programs.items() if at <= now),
        "policies": {
            kind: [
                {"policyId": p.policy_id, "name": p.name, "marketplaceId": p.marketplace_id}
                for p in seller.policies.get(kind, [])
            ]
            for kind in POLICY_KINDS
        },
        "locations": sorted(seller.locations),
        "inventory_items": {sku: item for sku, item in seller.items.items()},
        "offers": [_offer_json(o) for o in seller.offers.values()],
    }


def _offer_json(offer: Offer) -> dict[str, Any]:
    price = offer.fields.get("pricingSummary", {}).get("price", {})
    return {
        "offerId": offer.offer_id,
        "sku": offer.sku,
        "marketplaceId": offer.marketplace_id,
        "format": offer.format,
        "status": offer.status,
        "listingId": offer.listing_id if offer.status == "PUBLISHED" else None,
        "price": price.get("value"),
        "currency": price.get("currency"),
        "categoryId": offer.fields.get("categoryId"),
        "availableQuantity": offer.fields.get("availableQuantity"),
        "publishes": offer.publishes,
        "revisions": offer.revisions,
        "listings": list(offer.listings),
    }
