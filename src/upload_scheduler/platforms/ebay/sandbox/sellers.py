"""A seller's set-up as eBay keeps it, and the Account API over it: business-policy
programs, fulfillment/payment/return policies, and the seller's stock.

A seller comes into being at its first consent. Unless the options say otherwise it is
opted in to SELLING_POLICY_MANAGEMENT, has one policy of each kind for EBAY_US and the
location `JP_LOCATION`: the state a seller who already sold through the old system is
in. `--sellers-not-opted-in` starts a seller outside the program (its policies appear
once its opt-in is processed), `--sellers-without-location` without the location,
`--sellers-with-extra-policies` with a second fulfillment policy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from upload_scheduler import defaults
from upload_scheduler.platforms.ebay.sandbox.errors import (
    ACCOUNT_MISSING_FIELD,
    LOCATION_EXISTS,
    NOT_ELIGIBLE,
    EbayError,
    account_error,
)
from upload_scheduler.platforms.ebay.sandbox.options import (
    DEFAULT_LOCATION_KEY,
    EbaySandboxOptions,
)

POLICY_PROGRAM = "SELLING_POLICY_MANAGEMENT"
PROGRAMS = frozenset({POLICY_PROGRAM, "OUT_OF_STOCK_CONTROL", "PARTNER_MOTORS_DEALER"})
FULFILLMENT, PAYMENT, RETURN = "fulfillment", "payment", "return"
POLICY_KINDS = (FULFILLMENT, PAYMENT, RETURN)
# The marketplaces the sandbox knows, with the currency a price there is in.
MARKETPLACE_CURRENCIES = {
    "EBAY_US": "USD",
    "EBAY_MOTORS_US": "USD",
    "EBAY_CA": "CAD",
    "EBAY_GB": "GBP",
    "EBAY_AU": "AUD",
    "EBAY_DE": "EUR",
    "EBAY_FR": "EUR",
    "EBAY_IT": "EUR",
    "EBAY_ES": "EUR",
}
NOT_ELIGIBLE_TEXT = "Invalid . User is not eligible for Business Policy."
_POLICY_NAMES = {
    FULFILLMENT: "Sandbox shipping",
    PAYMENT: "Sandbox payment",
    RETURN: "Sandbox returns",
}
_DEFAULT_ADDRESS = {
    "city": "Chiyoda-ku",
    "stateOrProvince": "Tokyo",
    "postalCode": "100-0001",
    "country": "JP",
}


@dataclass(frozen=True)
class Policy:
    policy_id: str
    name: str
    marketplace_id: str


@dataclass
class Offer:
    offer_id: str
    sku: str
    marketplace_id: str
    format: str
    fields: dict[str, Any]  # the rest of the offer as last sent
    status: str = "UNPUBLISHED"
    listing_id: str | None = None
    publishes: int = 0  # successful publish calls
    revisions: int = 0  # changes to a live listing (republish, item or offer update)
    listings: list[str] = field(default_factory=list)  # every listing it created


@dataclass
class Seller:
    name: str
    programs: dict[str, datetime] = field(default_factory=dict)  # type -> processed at
    policies: dict[str, list[Policy]] = field(default_factory=dict)
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)

    def opted_in(self, now: datetime) -> bool:
        processed = self.programs.get(POLICY_PROGRAM)
        return processed is not None and processed <= now

    def policy(self, kind: str, policy_id: str) -> Policy | None:
        return next((p for p in self.policies.get(kind, []) if p.policy_id == policy_id), None)


class Ids:
    """eBay-looking numeric ids, unique across the sandbox."""

    def __init__(self) -> None:
        self._policy = itertools.count(6_200_000_001)
        self._offer = itertools.count(5_005_300_001)
        self._listing = itertools.count(110_551_000_001)

    def policy(self) -> str:
        return str(next(self._policy))

    def offer(self) -> str:
        return str(next(self._offer))

    def listing(self) -> str:
        return str(next(self._listing))


def new_seller(name: str, options: EbaySandboxOptions, ids: Ids, now: datetime) -> Seller:
    """A seller as the options describe it (see the module's docstring)."""
    seller = Seller(name)
    marketplace = defaults.EBAY_MARKETPLACE_ID
    for kind in POLICY_KINDS:
        seller.policies[kind] = [Policy(ids.policy(), _POLICY_NAMES[kind], marketplace)]
    if name in options.sellers_with_extra_policies:
        seller.policies[FULFILLMENT].append(
            Policy(ids.policy(), "Sandbox expedited shipping", marketplace)
        )
    if name not in options.sellers_not_opted_in:
        seller.programs[POLICY_PROGRAM] = now - timedelta(days=365)
    if name not in options.sellers_without_location:
        seller.locations[DEFAULT_LOCATION_KEY] = {
            "merchantLocationKey": DEFAULT_LOCATION_KEY,
            "location": {"address": dict(_DEFAULT_ADDRESS)},
            "name": "Sandbox warehouse",
            "merchantLocationStatus": "ENABLED",
            "locationTypes": ["WAREHOUSE"],
        }
    return seller


# ---------------------------------------------------------------------- Account API


def opt_in(seller: Seller, body: dict[str, Any], now: datetime, delay: float) -> dict[str, Any]:
    """POST /sell/account/v1/program/opt_in: 200 {} once, then 409 / 25803."""
    program = body.get("programType")
    if not program:
        raise account_error(ACCOUNT_MISSING_FIELD, "Missing field programType.")
    if program not in PROGRAMS:
        raise account_error(NOT_ELIGIBLE, f"Invalid programType. {program!s:.40} is unknown.")
    if program in seller.programs:
        raise EbayError(
            409,
            LOCATION_EXISTS,
            f"{program} already exists.",
            "The seller is already opted in to this program (or the opt-in is processing).",
            [("programType", str(program))],
            domain="API_ACCOUNT",
        )
    seller.programs[program] = now + timedelta(seconds=delay)
    return {}


def opted_in_programs(seller: Seller, now: datetime) -> dict[str, Any]:
    names = sorted(p for p, processed in seller.programs.items() if processed <= now)
    return {"programs": [{"programType": name} for name in names]}


def policies(
    seller: Seller, kind: str, marketplace_id: str | None, now: datetime
) -> dict[str, Any]:
    """GET /sell/account/v1/{kind}_policy?marketplace_id=…; 400 / 20403 until the seller
    is opted in to business policies."""
    if not marketplace_id:
        raise account_error(ACCOUNT_MISSING_FIELD, "Missing field marketplace_id.")
    if marketplace_id not in MARKETPLACE_CURRENCIES:
        raise account_error(NOT_ELIGIBLE, f"Invalid marketplace_id. {marketplace_id:.40}")
    if not seller.opted_in(now):
        raise account_error(
            NOT_ELIGIBLE,
            NOT_ELIGIBLE_TEXT,
            "The seller is not opted in to business policies (SELLING_POLICY_MANAGEMENT), "
            "or the opt-in is still being processed.",
        )
    found = [p for p in seller.policies.get(kind, []) if p.marketplace_id == marketplace_id]
    return {
        "total": len(found),
        "limit": 20,
        "offset": 0,
        f"{kind}Policies": [
            {
                f"{kind}PolicyId": p.policy_id,
                "name": p.name,
                "marketplaceId": p.marketplace_id,
                "categoryTypes": [{"name": "ALL_EXCLUDING_MOTORS_VEHICLES", "default": True}],
            }
            for p in found
        ],
    }


def privilege() -> dict[str, Any]:
    """GET /sell/account/v1/privilege: a registered seller with generous limits."""
    return {
        "sellingLimit": {"amount": {"currency": "USD", "value": "50000.0"}, "quantity": 5000},
        "sellerRegistrationCompleted": True,
    }
