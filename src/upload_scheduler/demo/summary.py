"""The run's outcome, from the two sides that must agree: our database (what each queued
item became) and the sandbox's record (what the platform actually saw). The verdict is
the sandbox's: no identifier listed twice in a shop, no limit answered or exceeded, item
creations spaced, and every item the database calls a success really created.

One `Summary` per platform (BASE's here, eBay's in `ebay_summary.py`), gathered in a
`RunSummary`; the run is clean only when every platform's verdict is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from upload_scheduler.demo.spacing import spacing_problems
from upload_scheduler.platforms.thebase.sandbox import Verdict, check_calls
from upload_scheduler.store.tables import upload_queue

BLOCKED_MARK = "blocked by rule"
# Every adapter ends a refusal of its content rules so: BASE's NG words, eBay's English
# title, https images and category. The item failed at its turn without a call.
NOTHING_SENT = "; nothing was sent"
TOKEN_PATH = "/1/oauth/token"
ADD_PATH = "/1/items/add"
CREATED = frozenset({"ok", "fault:lost_response"})
REFUSED_TOKEN = "invalid_request"
REFRESH_GRANT = "refresh_token"
CallTest = Callable[[dict[str, Any]], bool]  # picks calls out of a sandbox's record


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


@dataclass(frozen=True)
class PriceCheck:
    """One eBay listing's price: the yen price, what the formula gives, what the
    sandbox holds for its published offer (None: no published offer found)."""

    asin: str
    account_id: str
    yen: int
    expected: str  # "15.84"
    listed: str | None
    currency: str

    @property
    def matches(self) -> bool:
        return self.listed == self.expected


@dataclass
class Summary:
    """One platform's outcome."""

    accounts: list[AccountSummary]
    failed: list[FailedItem]
    blocked: list[FailedItem]
    tokens: list[TokenActivity]
    problems: list[str]
    items_created: int
    api_calls: int
    urgent: UrgentItem | None = None
    import_rejected: list[str] = field(default_factory=list)
    platform: str = "base"
    prices: list[PriceCheck] = field(default_factory=list)  # eBay: one per success
    faults: int = 0  # faults the sandbox injected, when its verdict counts them
    pricing_rule: str = ""  # eBay: "USD = yen × 1.2 ÷ 150"

    @property
    def total(self) -> AccountSummary:
        return _total(self.accounts)

    @property
    def verdict_clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        data = {
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
            "urgent": _urgent_json(self.urgent),
        }
        if self.prices:
            data["prices"] = [{**asdict(p), "matches": p.matches} for p in self.prices]
        return data


@dataclass
class RunSummary:
    """Every platform's outcome; clean when each platform's verdict is."""

    platforms: list[Summary]
    import_rejected: list[str] = field(default_factory=list)

    @property
    def total(self) -> AccountSummary:
        return _total([a for s in self.platforms for a in s.accounts])

    @property
    def verdict_clean(self) -> bool:
        return all(s.verdict_clean for s in self.platforms)

    @property
    def problems(self) -> list[str]:
        return [p for s in self.platforms for p in s.problems]

    def to_json(self) -> dict[str, Any]:
        """The one-platform keys of old (over every platform, so a script reading
        `total` or `verdict` still works), and each platform's own under `platforms`."""
        first = self.platforms[0] if self.platforms else None
        return {
            "accounts": [
                {**asdict(a), "platform": s.platform} for s in self.platforms for a in s.accounts
            ],
            "total": asdict(self.total),
            "failed": [asdict(f) for s in self.platforms for f in s.failed],
            "blocked": [asdict(b) for s in self.platforms for b in s.blocked],
            "token_refreshes": {
                t.account_id: t.refreshes for s in self.platforms for t in s.tokens
            },
            "tokens_refused": {t.account_id: t.refused for s in self.platforms for t in s.tokens},
            "verdict": {"clean": self.verdict_clean, "problems": self.problems},
            "items_created": sum(s.items_created for s in self.platforms),
            "api_calls": sum(s.api_calls for s in self.platforms),
            "import_rejected": self.import_rejected,
            "urgent": _urgent_json(first.urgent if first else None),
            "platforms": {s.platform: s.to_json() for s in self.platforms},
        }


def is_blocked(message: str | None) -> bool:
    """A failure of the content rules: nothing reached the platform."""
    text = message or ""
    return BLOCKED_MARK in text or NOTHING_SENT in text


def _total(accounts: list[AccountSummary]) -> AccountSummary:
    sums = Counter[str]()
    for account in accounts:
        for name, value in asdict(account).items():
            if name != "account_id":
                sums[name] += value
    return AccountSummary("all", **sums)


def _urgent_json(urgent: UrgentItem | None) -> dict[str, Any] | None:
    if urgent is None:
        return None
    return {**asdict(urgent), "queued_at": urgent.queued_at.isoformat()}


def summarize(
    engine: Engine,
    platform: str,
    account_ids: list[str],
    calls: list[dict[str, Any]],
    checks: Checks,
    urgent: tuple[str, datetime] | None,
) -> Summary:
    """Read every queue row of the run and set it against the sandbox's `calls`."""
    rows = queue_rows(engine, platform)
    verdict = _verdict(calls, checks)
    problems = [
        *verdict.problems,
        *spacing_problems(calls, checks.min_interval_seconds),
        *_missing_on_platform(rows, calls),
    ]
    return rows_summary(
        platform,
        rows,
        account_ids,
        tokens=[_tokens(a, calls) for a in account_ids],
        problems=problems,
        items_created=verdict.items_created,
        api_calls=verdict.api_calls,
        urgent=None
        if urgent is None
        else urgent_item(*urgent, rows, calls, _created_as(urgent[0])),
    )


def rows_summary(
    platform: str,
    rows: list[dict[str, Any]],
    account_ids: Iterable[str],
    *,
    tokens: list[TokenActivity],
    problems: list[str],
    items_created: int,
    api_calls: int,
    urgent: UrgentItem | None,
    faults: int = 0,
    prices: list[PriceCheck] | None = None,
    pricing_rule: str = "",
) -> Summary:
    """A platform's Summary: each account's counts and the failed and blocked items from
    its queue `rows`, beside what its sandbox saw (the other arguments)."""
    failed, blocked = split_failed(rows)
    return Summary(
        accounts=[_account(a, rows) for a in account_ids],
        failed=failed,
        blocked=blocked,
        tokens=tokens,
        problems=problems,
        items_created=items_created,
        api_calls=api_calls,
        urgent=urgent,
        platform=platform,
        prices=prices or [],
        faults=faults,
        pricing_rule=pricing_rule,
    )


def urgent_item(
    asin: str,
    queued_at: datetime,
    rows: list[dict[str, Any]],
    calls: list[dict[str, Any]],
    reached: CallTest,
) -> UrgentItem:
    """When the urgent item reached the platform (the first call `reached` keeps),
    counted from when it was queued."""
    account = next((r["account_id"] for r in rows if r["asin"] == asin), None)
    times = [datetime.fromisoformat(c["time"]) for c in calls if reached(c)]
    after = (min(times) - queued_at).total_seconds() if times else None
    return UrgentItem(asin, queued_at, account, after)


def token_activity(
    account_id: str,
    calls: list[dict[str, Any]],
    *,
    token_path: str,
    who: str,
    refused: CallTest | None,
) -> TokenActivity:
    """An account's refreshes (its refresh_token grants at `token_path` answered 200, the
    record naming it in `who`) and its API calls refused for an expired token (`refused`;
    None where such a call names no account, so none are counted)."""
    refreshes = sum(
        1
        for c in calls
        if c.get("path") == token_path
        and c.get("grant_type") == REFRESH_GRANT
        and c.get(who) == account_id
        and c.get("status") == 200
    )
    refusals = 0 if refused is None else sum(1 for c in calls if refused(c))
    return TokenActivity(account_id, refreshes, refusals)


def queue_rows(engine: Engine, platform: str) -> list[dict[str, Any]]:
    """Every queue row of `platform`: the database's side of the summary."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(upload_queue).where(upload_queue.c.platform == platform)
            ).mappings()
        ]


def split_failed(rows: list[dict[str, Any]]) -> tuple[list[FailedItem], list[FailedItem]]:
    """The rows that failed for good, and those the content rules blocked."""
    failed = [r for r in rows if r["status"] == "failed"]
    return (
        [_failed_item(r) for r in failed if not is_blocked(r["error_message"])],
        [_failed_item(r) for r in failed if is_blocked(r["error_message"])],
    )


def account_summary(account_id: str, rows: list[dict[str, Any]]) -> AccountSummary:
    """One account's row of the summary table, from its queue rows."""
    return _account(account_id, rows)


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
    blocked = sum(1 for r in failed if is_blocked(r["error_message"]))
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


def _created_as(asin: str) -> CallTest:
    """BASE's item creation of `asin`, answered or lost."""
    return lambda c: (
        c.get("path") == ADD_PATH and c.get("identifier") == asin and c.get("outcome") in CREATED
    )
