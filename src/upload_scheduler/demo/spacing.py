"""Spacing as the platform saw it, robust to the machine's scheduling jitter.

The daemon spaces its item creations start to start on its own clock; the sandbox
stamps each request when its handler runs, which on a machine whose cores are all busy
was measured up to 0.13 s later for one request than for the next. So one gap may look
shorter than the interval without any fault of the pacing. Jitter does not add up,
though: over k consecutive creations the span must still be k intervals, less one
jitter. Checking every run of up to `SPAN` creations catches a pace a few percent too
fast, while a single late stamp passes.

BASE's item creation is `POST /1/items/add`; eBay's is the first call of an item,
`PUT inventory_item/{sku}`, which is what its `min_interval_seconds` spaces; Yahoo!'s is
`editItem`, the first call of an item too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

ADD_PATH = "/1/items/add"
REFUSED_TOKEN = "invalid_request"  # starts nothing: the adapter refreshes and resends
EBAY_ITEM_PATH = "/sell/inventory/v1/inventory_item/"
EBAY_REFUSED_TOKEN = "1001"  # eBay's invalid access token: refreshed and resent
YAHOO_ITEM_API = "editItem"
JITTER_SECONDS = 0.2
SPAN = 20
MAX_REPORTED = 10


def spacing_problems(
    calls: Iterable[dict[str, Any]],
    min_interval_seconds: float,
    *,
    jitter_seconds: float = JITTER_SECONDS,
    span: int = SPAN,
) -> list[str]:
    """One line per run of creations of one BASE shop that came closer than the interval
    allows; at most MAX_REPORTED lines."""
    starts = _starts(
        calls, "shop", lambda c: c.get("path") == ADD_PATH and c.get("outcome") != REFUSED_TOKEN
    )
    return _span_problems(starts, min_interval_seconds, "shop", "items/add", jitter_seconds, span)


def ebay_spacing_problems(
    calls: Iterable[dict[str, Any]],
    min_interval_seconds: float,
    *,
    jitter_seconds: float = JITTER_SECONDS,
    span: int = SPAN,
) -> list[str]:
    """The same check on an eBay sandbox's record: its sellers' PUT inventory_item."""
    starts = _starts(
        calls,
        "seller",
        lambda c: (
            c.get("method") == "PUT"
            and str(c.get("path", "")).startswith(EBAY_ITEM_PATH)
            and c.get("outcome") != EBAY_REFUSED_TOKEN
        ),
    )
    return _span_problems(
        starts, min_interval_seconds, "seller", "PUT inventory_item", jitter_seconds, span
    )


def yahoo_spacing_problems(
    calls: Iterable[dict[str, Any]], min_interval_seconds: float
) -> list[str]:
    """The same check on a Yahoo! sandbox's record: its stores' editItem. A refused one
    (token, 429) did nothing and is sent again."""
    starts = _starts(
        calls, "seller_id", lambda c: c.get("api") == YAHOO_ITEM_API and c.get("refused") is None
    )
    return _span_problems(starts, min_interval_seconds, "store", "editItem", JITTER_SECONDS, SPAN)


def _starts(
    calls: Iterable[dict[str, Any]], who: str, counts: Callable[[dict[str, Any]], bool]
) -> dict[str, list[datetime]]:
    """When each account (the record's `who` field) started the creations `counts` keeps."""
    starts: dict[str, list[datetime]] = defaultdict(list)
    for call in calls:
        if counts(call) and call.get(who) is not None:
            starts[str(call[who])].append(datetime.fromisoformat(call["time"]))
    return starts


def _span_problems(
    starts: dict[str, list[datetime]],
    min_interval_seconds: float,
    who: str,
    what: str,
    jitter_seconds: float,
    span: int,
) -> list[str]:
    problems: list[str] = []
    for name, times in sorted(starts.items()):
        times.sort()
        for i, first in enumerate(times):
            for k in range(1, span + 1):
                if i + k >= len(times):
                    break
                took = (times[i + k] - first).total_seconds()
                allowed = k * min_interval_seconds - jitter_seconds
                if took < allowed:
                    problems.append(
                        f"{who} {name}: {k + 1} {what} from {first.isoformat()} within "
                        f"{took:.3f} s (at least {k * min_interval_seconds:.3f} s expected)"
                    )
                    break
            if len(problems) >= MAX_REPORTED:
                return problems
    return problems
