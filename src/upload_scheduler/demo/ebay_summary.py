"""eBay's side of the run's outcome: the queue rows of the eBay sellers set against the
eBay sandbox's record (its own verdict: one offer and one listing per SKU, no 429,
inventory items spaced, every item with a published offer) and against what the sandbox
held at the end (each published offer's price, which must be the pricing formula's).

Pure but for reading the queue: the record and the state are passed in, so this works
on files after the sandbox stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from upload_scheduler.demo.spacing import JITTER_SECONDS, ebay_spacing_problems
from upload_scheduler.demo.summary import (
    PriceCheck,
    Summary,
    TokenActivity,
    UrgentItem,
    queue_rows,
    rows_summary,
    token_activity,
    urgent_item,
)
from upload_scheduler.platforms.ebay.sandbox import check_calls
from upload_scheduler.pricing import PricingSettings, list_price
from upload_scheduler.store.tables import products

PLATFORM = "ebay"
TOKEN_PATH = "/identity/v1/oauth2/token"
REFUSED_TOKEN = "1001"
LISTED = "listing_created"
PUBLISHED = "PUBLISHED"


def summarize_ebay(
    engine: Engine,
    account_ids: list[str],
    calls: list[dict[str, Any]],
    state: Mapping[str, Any] | None,
    *,
    min_interval_seconds: float,
    pricing: PricingSettings,
    urgent: tuple[str, datetime] | None,
) -> Summary:
    """`calls`: the eBay sandbox's record; `state`: its GET /_sandbox/state at the end
    (None when it could not be read: the prices are then a problem, not a pass)."""
    rows = queue_rows(engine, PLATFORM)
    verdict = check_calls(
        calls,
        min_interval_seconds=min_interval_seconds,
        tolerance_seconds=JITTER_SECONDS,
        expect_all_listed=True,
    )
    yen = _yen_prices(engine, {r["asin"] for r in rows if r["status"] == "success"})
    prices = price_checks(rows, yen, state, pricing)
    problems = [
        *verdict.problems,
        *ebay_spacing_problems(calls, min_interval_seconds),
        *missing_listings(rows, calls),
        *price_problems(prices, state),
    ]
    return rows_summary(
        PLATFORM,
        rows,
        account_ids,
        tokens=[ebay_tokens(a, calls, len(account_ids)) for a in account_ids],
        problems=problems,
        items_created=sum(1 for c in calls if c.get("effect") == LISTED),
        api_calls=verdict.api_calls,
        urgent=None if urgent is None else ebay_urgent(*urgent, rows, calls),
        prices=prices,
        faults=sum(verdict.faults.values()),
        pricing_rule=pricing_rule(pricing),
    )


def pricing_rule(pricing: PricingSettings) -> str:
    """The formula as a person reads it: "USD = yen × 1.2 ÷ 150"."""
    return f"{pricing.currency} = yen × {_plain(pricing.markup)} ÷ {_plain(pricing.exchange_rate)}"


def _plain(number: Decimal) -> str:
    """150.0 -> "150", 1.20 -> "1.2": as the config would say it."""
    return format(number.normalize(), "f")


def price_checks(
    rows: list[dict[str, Any]],
    yen: Mapping[str, int],
    state: Mapping[str, Any] | None,
    pricing: PricingSettings,
) -> list[PriceCheck]:
    """For every success: the formula's price beside the published offer's."""
    offers = published_offers(state)
    checks = []
    for row in rows:
        if row["status"] != "success" or row["asin"] not in yen:
            continue
        expected = list_price(yen[row["asin"]], pricing)
        listed = offers.get((row["account_id"], row["asin"]))
        checks.append(
            PriceCheck(
                asin=row["asin"],
                account_id=row["account_id"],
                yen=yen[row["asin"]],
                expected=str(expected.amount),
                listed=None if listed is None else listed[0],
                currency=expected.currency if listed is None else listed[1],
            )
        )
    return sorted(checks, key=lambda c: (c.account_id, c.asin))


def published_offers(state: Mapping[str, Any] | None) -> dict[tuple[str, str], tuple[str, str]]:
    """(seller, SKU) -> (price, currency) of its published offer, from the sandbox's state."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for seller, held in ((state or {}).get("sellers") or {}).items():
        for offer in held.get("offers") or ():
            if offer.get("status") == PUBLISHED:
                key = (str(seller), str(offer.get("sku")))
                found[key] = (str(offer.get("price")), str(offer.get("currency")))
    return found


def price_problems(prices: list[PriceCheck], state: Mapping[str, Any] | None) -> list[str]:
    if state is None:
        return ["the eBay sandbox's state could not be read at the end: prices not checked"]
    problems = []
    for check in prices:
        if check.listed is None:
            problems.append(
                f"seller {check.account_id}: {check.asin} is a success but has no published offer"
            )
        elif not check.matches:
            problems.append(
                f"seller {check.account_id}: {check.asin} listed at {check.listed} "
                f"{check.currency}, the formula gives {check.expected} (\uffe5{check.yen:,})"
            )
    return problems


def missing_listings(rows: list[dict[str, Any]], calls: list[dict[str, Any]]) -> list[str]:
    """Successes in the database that the sandbox never published."""
    listed = Counter(
        (str(c.get("seller")), str(c.get("sku"))) for c in calls if c.get("effect") == LISTED
    )
    return [
        f"{r['account_id']}: {r['asin']} is a success in the database but was never listed"
        for r in rows
        if r["status"] == "success" and listed[(r["account_id"], r["asin"])] == 0
    ]


def ebay_tokens(account_id: str, calls: list[dict[str, Any]], sellers: int) -> TokenActivity:
    """Refreshes are the seller's own token requests. eBay's refusal of an expired token
    (1001) names no seller, so refusals are counted only when the run has one seller."""
    refused = _refused_token if sellers == 1 else None
    return token_activity(account_id, calls, token_path=TOKEN_PATH, who="seller", refused=refused)


def _refused_token(call: dict[str, Any]) -> bool:
    return str(call.get("path", "")).startswith("/sell/") and call.get("outcome") == REFUSED_TOKEN


def ebay_urgent(
    asin: str, queued_at: datetime, rows: list[dict[str, Any]], calls: list[dict[str, Any]]
) -> UrgentItem:
    """When the urgent item's listing was published, counted from when it was queued."""
    return urgent_item(
        asin, queued_at, rows, calls, lambda c: c.get("effect") == LISTED and c.get("sku") == asin
    )


def _yen_prices(engine: Engine, asins: set[str]) -> dict[str, int]:
    if not asins:
        return {}
    with engine.connect() as conn:
        found = conn.execute(
            select(products.c.asin, products.c.price).where(products.c.asin.in_(sorted(asins)))
        ).all()
    return {str(asin): int(price) for asin, price in found}
