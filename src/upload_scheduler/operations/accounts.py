"""`account list`: each configured account's pause, today's usage against every limit,
token state and queue counts, read in a handful of queries.

Its pieces (queue counts, an account's usage read from its limits state, token states)
are public because the dashboard's figures (`web.figures`) show the same facts:
one reading of each, so the list and the dashboard never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from upload_scheduler import defaults
from upload_scheduler.config import Settings
from upload_scheduler.limits import LimitSettings, LimitState, hour_of
from upload_scheduler.operations.pauses import Pause, pause_of
from upload_scheduler.store import account_state
from upload_scheduler.store.tables import QUEUE_STATUSES, upload_queue

TOKEN_PLATFORMS = frozenset(defaults.TOKEN_PLATFORMS)

Key = tuple[str, str]  # (platform, account_id)


@dataclass(frozen=True)
class Usage:
    """One limit: what is spent of it today (or this clock hour)."""

    name: str
    used: int
    limit: int

    def to_json(self) -> dict[str, int]:
        return {"used": self.used, "limit": self.limit}


@dataclass(frozen=True)
class TokenState:
    status: str  # ok, warning, login_required
    message: str
    expires_at: datetime | None  # the access token's end
    # When the login ends (the refresh token's end, as `token_health.refresh_end` gives
    # it); None when unknown or no token is stored.
    login_ends_at: datetime | None = None


@dataclass
class AccountOverview:
    platform: str
    account_id: str
    pause: Pause | None
    usage: list[Usage]
    token: TokenState | None  # None: the platform has no tokens
    queue: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "account_id": self.account_id,
            "paused": self.pause is not None,
            "pause_reason": self.pause.reason if self.pause else None,
            "paused_until": (
                self.pause.until.isoformat() if self.pause and self.pause.until else None
            ),
            "usage": {u.name: u.to_json() for u in self.usage},
            "token": None
            if self.token is None
            else {
                "status": self.token.status,
                "message": self.token.message,
                "expires_at": self.token.expires_at.isoformat() if self.token.expires_at else None,
            },
            "queue": self.queue,
        }


def account_overviews(
    settings: Settings, engine: Engine, now: datetime, platform: str | None = None
) -> list[AccountOverview]:
    """One overview per configured account (of `platform`, or of every platform)."""
    accounts = [(p, a) for p, a in settings.all_accounts() if platform in (None, p)]
    overviews: list[AccountOverview] = []
    with engine.connect() as conn:
        queue = queue_counts(conn, platform)
        records = {
            (r.platform, r.account_id): r for r in account_state.read_accounts(conn, platform)
        }
        for name, account_id in accounts:
            state = limits_state(conn, settings, name, account_id, now)
            overviews.append(
                AccountOverview(
                    platform=name,
                    account_id=account_id,
                    pause=pause_of(records.get((name, account_id)), now),
                    usage=usage_of(state, now),
                    token=None,
                    queue=queue_of(queue, (name, account_id)),
                )
            )
    tokens = token_states(engine, accounts, now)
    for overview in overviews:
        overview.token = tokens.get((overview.platform, overview.account_id))
    return overviews


def queue_counts(
    conn: Connection, platform: str | None = None, account_id: str | None = None
) -> dict[Key, dict[str, int]]:
    """Queue rows per account and status, in one GROUP BY that the claim index
    (platform, account_id, status, …) covers: no row is read, only index entries."""
    query = select(
        upload_queue.c.platform, upload_queue.c.account_id, upload_queue.c.status, func.count()
    ).group_by(upload_queue.c.platform, upload_queue.c.account_id, upload_queue.c.status)
    if platform is not None:
        query = query.where(upload_queue.c.platform == platform)
    if account_id is not None:
        query = query.where(upload_queue.c.account_id == account_id)
    counts: dict[Key, dict[str, int]] = {}
    for name, account, status, count in conn.execute(query):
        counts.setdefault((name, account), {})[status] = int(count)
    return counts


def queue_of(counts: dict[Key, dict[str, int]], key: Key) -> dict[str, int]:
    """One account's counts: every status (zero when it has none) and their total."""
    row = dict.fromkeys(QUEUE_STATUSES, 0)
    row.update(counts.get(key, {}))
    row["total"] = sum(row.values())
    return row


def limits_state(
    conn: Connection, settings: Settings, platform: str, account_id: str, now: datetime
) -> LimitState:
    """The account's limits state as the daemon reads it (`account_state.load_state`):
    what is spent is read the one way the daemon decides with."""
    limits = LimitSettings.of(settings.account(platform, account_id))
    return account_state.load_state(conn, platform, account_id, limits, now)


def usage_of(state: LimitState, now: datetime) -> list[Usage]:
    """This hour's calls, today's calls and today's creations against their limits. An
    application's day budget (eBay, Yahoo!) shows what all its accounts spent."""
    limits = state.settings
    hour_calls = state.hour_calls if state.hour_start == hour_of(now) else 0
    day_calls = state.day_calls if limits.application is None else state.application_calls
    return [
        Usage("hour_calls", hour_calls, limits.hour_call_limit),
        Usage("day_calls", day_calls, limits.day_call_limit),
        Usage("creations", state.day_creations, limits.daily_limit),
    ]


def token_states(engine: Engine, accounts: Iterable[Key], now: datetime) -> dict[Key, TokenState]:
    """What `token status` says of each account on a platform with tokens (one read per
    platform); accounts of other platforms are left out."""
    from upload_scheduler.platforms.token_health import assess
    from upload_scheduler.platforms.token_store import TokenStore

    wanted = [(p, a) for p, a in accounts if p in TOKEN_PLATFORMS]
    stored = {p: TokenStore(engine, p).all() for p in dict.fromkeys(p for p, _ in wanted)}
    states: dict[Key, TokenState] = {}
    for name, account_id in wanted:
        record = stored[name].get(account_id)
        health = assess(record, now)
        states[(name, account_id)] = TokenState(
            health.status,
            health.message,
            record.expires_at if record else None,
            health.refresh_expires_at,
        )
    return states
