"""The verdict on a run against the eBay sandbox, drawn from its record alone (so it can
be drawn again from a `--record` file after the sandbox stopped).

The record is replayed in order: what each carried-out call did to the seller's items,
offers and listings. A problem is an offer created for a (seller, SKU, marketplace)
that already had one, a listing created while another was live for it, a 429 answered,
PUT inventory_item requests closer than `min_interval_seconds` (start to start, per
seller), and, when the run should have listed everything, an item without a published
offer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from upload_scheduler.platforms.ebay.sandbox.errors import INVALID_TOKEN, RATE_LIMITED
from upload_scheduler.platforms.ebay.sandbox.faults import FAULT_KINDS

ITEM_PATH = "/sell/inventory/v1/inventory_item/"
API_ROOTS = ("/sell/inventory/", "/sell/account/")


@dataclass
class SellerVerdict:
    offers_created: dict[str, Counter[str]] = field(default_factory=dict)  # sku -> mkt -> n
    listings_created: dict[str, Counter[str]] = field(default_factory=dict)
    revisions: Counter[str] = field(default_factory=Counter)  # sku -> n
    items: set[str] = field(default_factory=set)  # SKUs held at the end
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)  # offerId -> replayed
    put_times: list[datetime] = field(default_factory=list)

    def without_published_offer(self) -> list[str]:
        live = {o["sku"] for o in self.offers.values() if o["live"]}
        return sorted(self.items - live)

    def min_gap(self) -> float | None:
        times = sorted(self.put_times)
        gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
        return min(gaps) if gaps else None

    def to_json(self) -> dict[str, Any]:
        return {
            "offers_created": _nested(self.offers_created),
            "listings_created": _nested(self.listings_created),
            "revisions": dict(sorted(self.revisions.items())),
            "items": len(self.items),
            "items_without_published_offer": self.without_published_offer(),
            "item_puts": len(self.put_times),
            "min_item_put_gap_seconds": self.min_gap(),
        }


@dataclass(frozen=True)
class EbayVerdict:
    problems: tuple[str, ...]
    api_calls: int
    rate_limited: int
    faults: dict[str, int]
    sellers: dict[str, SellerVerdict]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """What GET /_sandbox/verdict answers."""
        return {
            "ok": self.ok,
            "problems": list(self.problems),
            "api_calls": self.api_calls,
            "rate_limited": self.rate_limited,
            "faults": self.faults,
            "sellers": {name: s.to_json() for name, s in sorted(self.sellers.items())},
        }


def check_calls(
    calls: Iterable[dict[str, Any]],
    *,
    min_interval_seconds: float | None = None,
    tolerance_seconds: float = 0.0,
    expect_all_listed: bool = False,
) -> EbayVerdict:
    """Replay the record (in its order) and judge the run."""
    problems: list[str] = []
    sellers: dict[str, SellerVerdict] = defaultdict(SellerVerdict)
    fault_counts = dict.fromkeys(FAULT_KINDS, 0)
    api_calls = rate_limited = 0
    for call in calls:
        path = str(call.get("path", ""))
        if call.get("fault") in fault_counts:
            fault_counts[call["fault"]] += 1
        if not path.startswith(API_ROOTS):
            continue
        api_calls += 1
        if call.get("outcome") == str(RATE_LIMITED):
            rate_limited += 1
            problems.append(f"{call['time']} {call.get('client_id')}: {path} answered 429/2001")
        if call.get("seller") is None:
            continue
        seller = sellers[str(call["seller"])]
        if (
            call.get("method") == "PUT"
            and path.startswith(ITEM_PATH)
            and call.get("outcome") != str(INVALID_TOKEN)
        ):
            seller.put_times.append(datetime.fromisoformat(call["time"]))
        problems += _replay(str(call["seller"]), seller, call)
    if min_interval_seconds is not None:
        problems += _spacing(sellers, min_interval_seconds - tolerance_seconds)
    if expect_all_listed:
        problems += [
            f"seller {name}: {sku} has no published offer"
            for name, seller in sorted(sellers.items())
            for sku in seller.without_published_offer()
        ]
    return EbayVerdict(tuple(problems), api_calls, rate_limited, fault_counts, dict(sellers))


def _replay(name: str, seller: SellerVerdict, call: dict[str, Any]) -> list[str]:
    """Apply one carried-out call to the replayed seller; the problems it shows."""
    effect = call.get("effect")
    sku, offer_id = call.get("sku"), call.get("offer_id")
    market = str(call.get("marketplace_id"))
    if effect == "item_put" and sku:
        seller.items.add(sku)
        if call.get("revised"):
            seller.revisions[sku] += int(call["revised"])
    elif effect == "item_deleted" and sku:
        seller.items.discard(sku)
        for doomed in [k for k, o in seller.offers.items() if o["sku"] == sku]:
            del seller.offers[doomed]
    elif effect == "offer_created" and sku and offer_id:
        seller.offers_created.setdefault(sku, Counter())[market] += 1
        twins = [k for k, o in seller.offers.items() if (o["sku"], o["market"]) == (sku, market)]
        seller.offers[offer_id] = {"sku": sku, "market": market, "live": False}
        if twins:
            return [
                f"seller {name}: {sku} on {market} got offer {offer_id} beside "
                f"{', '.join(twins)} (more than one offer)"
            ]
    elif effect == "offer_deleted" and offer_id:
        seller.offers.pop(offer_id, None)
    elif effect == "listing_created" and sku and offer_id:
        seller.listings_created.setdefault(sku, Counter())[market] += 1
        live = [
            k
            for k, o in seller.offers.items()
            if o["live"] and (o["sku"], o["market"]) == (sku, market) and k != offer_id
        ]
        seller.offers.setdefault(offer_id, {"sku": sku, "market": market})["live"] = True
        if live:
            return [f"seller {name}: {sku} on {market} listed again while offer {live[0]} was live"]
    elif effect == "listing_revised" and sku:
        seller.revisions[sku] += 1
    elif effect == "listing_ended" and offer_id in seller.offers:
        seller.offers[offer_id]["live"] = False
    return []


def _spacing(sellers: dict[str, SellerVerdict], minimum: float) -> list[str]:
    problems = []
    for name, seller in sorted(sellers.items()):
        times = sorted(seller.put_times)
        for before, at in pairwise(times):
            gap = (at - before).total_seconds()
            if gap < minimum:
                problems.append(
                    f"{at.isoformat()} seller {name}: PUT inventory_item {gap:.3f} s after "
                    "the previous"
                )
    return problems


def _nested(counts: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    return {sku: dict(sorted(c.items())) for sku, c in sorted(counts.items())}
