"""Yahoo!'s side of the run's outcome: the queue rows of the Yahoo! stores set against
the Yahoo! sandbox's record, which its own verdict replays (`check_calls` with
expect_all_published): no request refused for frequency (429), the application's day
(403) or the images' hour; no field reset by an editItem that left it out; every item in
the store published, with its main image, shown, nothing left pending. Beyond it: every
success in its store under its item_code and no other item there (each item once), and
editItem (the start of an item) spaced as the daemon paces it.

Pure but for reading the queue: the record is passed in, so this works on the file after
the sandbox stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from upload_scheduler.demo.spacing import yahoo_spacing_problems
from upload_scheduler.demo.summary import (
    CallTest,
    Summary,
    TokenActivity,
    queue_rows,
    rows_summary,
    token_activity,
    urgent_item,
)
from upload_scheduler.platforms.yahoo.sandbox import YahooVerdict, check_calls

PLATFORM = "yahoo"
TOKEN_PATH = "/yconnect/v2/token"
REFUSED_TOKEN = "invalid_token"
SUBMITTED = "submitted"


def summarize_yahoo(
    engine: Engine,
    stores: Mapping[str, str],
    calls: list[dict[str, Any]],
    *,
    item_code_prefix: str,
    min_interval_seconds: float,
    urgent: tuple[str, datetime] | None,
) -> Summary:
    """`stores`: account -> its seller_id; `calls`: the Yahoo! sandbox's record. The
    sandbox's login user of an account is the account's id (the demo logs in so)."""
    rows = queue_rows(engine, PLATFORM)
    verdict = check_calls(calls, expect_all_published=True)
    in_store = store_problems(rows, verdict, stores, item_code_prefix)
    return rows_summary(
        PLATFORM,
        rows,
        stores,
        tokens=[yahoo_tokens(a, calls, len(stores)) for a in stores],
        problems=[
            *verdict.problems,
            *yahoo_spacing_problems(calls, min_interval_seconds),
            *in_store,
        ],
        items_created=published_items(verdict),
        api_calls=verdict.api_calls,
        urgent=None
        if urgent is None
        else urgent_item(*urgent, rows, calls, submitted(f"{item_code_prefix}{urgent[0]}")),
        faults=sum(verdict.faults.values()),
    )


def store_problems(
    rows: list[dict[str, Any]],
    verdict: YahooVerdict,
    stores: Mapping[str, str],
    item_code_prefix: str,
) -> list[str]:
    """Each store holds exactly the successes of its account, one item_code each: a
    success missing there, or an item there that the database does not call a success."""
    problems = []
    for account, seller in stores.items():
        held = {c for c, item in verdict.stores.get(seller, {}).items() if not item.deleted}
        wanted = {
            f"{item_code_prefix}{r['asin']}"
            for r in rows
            if r["account_id"] == account and r["status"] == "success"
        }
        problems += [
            f"store {seller}: {code} is a success in the database but not in the store"
            for code in sorted(wanted - held)
        ]
        problems += [
            f"store {seller}: {code} is in the store but not a success in the database"
            for code in sorted(held - wanted)
        ]
    return problems


def published_items(verdict: YahooVerdict) -> int:
    return sum(
        1
        for items in verdict.stores.values()
        for item in items.values()
        if item.published and not item.deleted
    )


def yahoo_tokens(account_id: str, calls: list[dict[str, Any]], stores: int) -> TokenActivity:
    """Refreshes are the account's own token requests (its login user). A request
    refused for its token names no store, so refusals are counted only when the run has
    one store."""
    refused = _refused_token if stores == 1 else None
    return token_activity(account_id, calls, token_path=TOKEN_PATH, who="user", refused=refused)


def _refused_token(call: dict[str, Any]) -> bool:
    return bool(call.get("api")) and call.get("refused") == REFUSED_TOKEN


def submitted(item_code: str) -> CallTest:
    """The urgent item reached Yahoo! when it was submitted for publishing (the sandbox
    publishes it its publish delay later)."""
    return lambda c: c.get("effect") == SUBMITTED and c.get("item_code") == item_code
