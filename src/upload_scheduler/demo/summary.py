"""The run's outcome, from the two sides that must agree: our database (what each queued
item became) and the sandbox's record (what the platform actually saw). The verdict is
the sandbox's: no identifier listed twice in a shop, no limit answered or exceeded, item
creations spaced, and every item the database calls a success really created."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from upload_scheduler.demo.spacing import spacing_problems
from upload_scheduler.platforms.thebase.sandbox import Verdict, check_calls
from upload_scheduler.store.tables import upload_queue

BLOCKED_MARK = "blocked by rule"
TOKEN_PATH = "/1/oauth/token"
ADD_PATH = "/1/items/add"
CREATED = frozenset({"ok", "fault:lost_response"})
REFUSED_TOKEN = "invalid_request"


@dataclass(frozen=True)
class AccountSummary:
    account_id: str
    queued: int = 0
    success: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    unfinished: int = 0


@dataclass(frozen=True)
class FailedItem:
    asin: str
    account_id: str
    attempts: int
    reason: str


@dataclass(frozen=True)
class TokenActivity:
    account_id: str
    refreshes: int  # token requests after the login
    refused: int  # API calls BASE answered "invalid token", each followed by a refresh


@dataclass(frozen=True)
class UrgentItem:
    asin: str
    queued_at: datetime
    account_id: str | None
    created_after_seconds: float | None


@dataclass(frozen=True)
class Checks:
    """What the sandbox settings allow, for the verdict."""

    min_interval_seconds: float
    hour_call_limit: int
    daily_limit: int
    timezone: str
    business_hours: tuple[int, int]


@dataclass
class Summary:
    accounts: list[AccountSummary]
    failed: list[FailedItem]
    blocked: list[FailedItem]
    tokens: list[TokenActivity]
    problems: list[str]
    items_created: int
    api_calls: int
    urgent: UrgentItem | None = None
    import_rejected: list[str] = field(default_factory=list)

    @property
    def total(self) -> AccountSummary:
        sums = Counter[str]()
        for account in self.accounts:
            for name, value in asdict(account).items():
                if name != "account_id":
                    sums[name] += value
        return AccountSummary("all", **sums)

    @property
    def verdict_clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [asdict(a) for a in self.accounts],
            "total": asdict(self.total),
            "failed": [asdict(f) for f in self.failed],
            "blocked": [asdict(b) for b in self.blocked],
            "token_refreshes": {t.account_id: t.refreshes for t in self.tokens},
            "tokens_refused": {t.account_id: t.refused for t in self.tokens},
            "verdict": {"clean": self.verdict_clean, "problems": self.problems},
            "items_created": self.items_created,
            "api_calls": self.api_calls,
            "import_rejected": self.import_rejected,
            "urgent": None
            if self.urgent is None
            else {**asdict(self.urgent), "queued_at": self.urgent.queued_at.isoformat()},
        }


def summarize(
    engine: Engine,
    platform: str,
    account_ids: list[str],
    calls: list[dict[str, Any]],
    checks: Checks,
    urgent: tuple[str, datetime] | None,
) -> Summary:
    """Read every queue row of the run and set it against the sandbox's `calls`."""
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(upload_queue).where(upload_queue.c.platform == platform)
            ).mappings()
        ]
    failed = [_failed_item(r) for r in rows if r["status"] == "failed"]
    verdict = _verdict(calls, checks)
    problems = [
        *verdict.problems,
        *spacing_problems(calls, checks.min_interval_seconds),
        *_missing_on_platform(rows, calls),
    ]
    return Summary(
        accounts=[_account(a, rows) for a in account_ids],
        failed=[f for f in failed if BLOCKED_MARK not in f.reason],
        blocked=[f for f in failed if BLOCKED_MARK in f.reason],
        tokens=[_tokens(a, calls) for a in account_ids],
        problems=problems,
        items_created=verdict.items_created,
        api_calls=verdict.api_calls,
        urgent=None if urgent is None else _urgent(*urgent, rows, calls),
    )


def _verdict(calls: list[dict[str, Any]], checks: Checks) -> Verdict:
    """The sandbox's helper for duplicates, limits and hours; spacing is checked by
    `spacing.py`, which tells jitter from a pace that is too fast."""
    return check_calls(
        calls,
        business_hours=checks.business_hours,
        zone=checks.timezone,
        hour_call_limit=checks.hour_call_limit,
        daily_limit=checks.daily_limit,
    )


def _account(account_id: str, rows: list[dict[str, Any]]) -> AccountSummary:
    mine = [r for r in rows if r["account_id"] == account_id]
    failed = [r for r in mine if r["status"] == "failed"]
    blocked = sum(1 for r in failed if BLOCKED_MARK in (r["error_message"] or ""))
    return AccountSummary(
        account_id=account_id,
        queued=len(mine),
        success=sum(1 for r in mine if r["status"] == "success"),
        failed=len(failed) - blocked,
        blocked=blocked,
        retried=sum(1 for r in mine if r["attempts"] > 1),
        unfinished=sum(1 for r in mine if r["status"] in ("pending", "uploading")),
    )


def _failed_item(row: dict[str, Any]) -> FailedItem:
    message = str(row["error_message"] or "no error text")
    # The adapter prefixes "base account A, asin X: "; the table already shows both.
    reason = message.split(f"asin {row['asin']}: ", 1)[-1]
    return FailedItem(row["asin"], row["account_id"], int(row["attempts"]), reason)


def _tokens(account_id: str, calls: list[dict[str, Any]]) -> TokenActivity:
    token_requests = sum(
        1
        for c in calls
        if c.get("shop") == account_id and c.get("path") == TOKEN_PATH and c.get("status") == 200
    )
    owners = _token_owner(calls)
    refused = sum(
        1
        for c in calls
        if str(c.get("path", "")).startswith("/1/items")
        and c.get("outcome") == REFUSED_TOKEN
        and owners.get(str(c.get("token"))) == account_id
    )
    # The first token request of a shop is its login (authorization code).
    return TokenActivity(account_id, max(0, token_requests - 1), refused)


def _token_owner(calls: list[dict[str, Any]]) -> dict[str, str]:
    """Which shop each token (by its last 4 characters) belongs to: a refused call names
    no shop, but the same token was accepted for its shop before it ran out."""
    return {str(c["token"]): str(c["shop"]) for c in calls if c.get("token") and c.get("shop")}


def _created(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter(
        (str(c.get("shop")), str(c.get("identifier")))
        for c in calls
        if c.get("path") == ADD_PATH and c.get("outcome") in CREATED
    )


def _missing_on_platform(rows: list[dict[str, Any]], calls: list[dict[str, Any]]) -> list[str]:
    created = _created(calls)
    return [
        f"{r['account_id']}: {r['asin']} is a success in the database but was never created"
        for r in rows
        if r["status"] == "success" and created[(r["account_id"], r["asin"])] == 0
    ]


def _urgent(
    asin: str, queued_at: datetime, rows: list[dict[str, Any]], calls: list[dict[str, Any]]
) -> UrgentItem:
    account = next((r["account_id"] for r in rows if r["asin"] == asin), None)
    times = [
        datetime.fromisoformat(c["time"])
        for c in calls
        if c.get("path") == ADD_PATH and c.get("identifier") == asin and c.get("outcome") in CREATED
    ]
    after = (min(times) - queued_at).total_seconds() if times else None
    return UrgentItem(asin, queued_at, account, after)
