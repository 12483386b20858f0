"""`account list`: each configured account's pause, today's usage against every limit,
token state and queue counts, read in a handful of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from upload_scheduler import defaults
from upload_scheduler.config import Settings
from upload_scheduler.limits import LimitSettings, local_day
from upload_scheduler.operations.pauses import Pause, read_pause
from upload_scheduler.store import account_state
from upload_scheduler.store.tables import QUEUE_STATUSES, account_usage, upload_queue
from upload_scheduler.store.usage import application_calls

TOKEN_PLATFORMS = frozenset(defaults.TOKEN_PLATFORMS)


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
    expires_at: datetime | None


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
        queue = _queue_counts(conn)
        for name, account_id in accounts:
            account = settings.account(name, account_id)
            day = local_day(now, account.zone).isoformat()
            usage = conn.execute(
                select(account_usage.c.calls, account_usage.c.creations).where(
                    account_usage.c.platform == name,
                    account_usage.c.account_id == account_id,
                    account_usage.c.day == day,
                )
            ).first()
            record = account_state.read_account(conn, name, account_id)
            hour_calls = record.calls_this_hour(now) if record is not None else 0
            day_calls = usage.calls if usage else 0
            limits = LimitSettings.of(account)
            if limits.application is not None:
                # The day budget is the application's: show what all its accounts spent.
                app_day = limits.application_day(now).isoformat()
                day_calls = application_calls(conn, name, limits.application, app_day)
            counts = dict.fromkeys(QUEUE_STATUSES, 0)
            counts.update(queue.get((name, account_id), {}))
            counts["total"] = sum(counts.values())
            overviews.append(
                AccountOverview(
                    platform=name,
                    account_id=account_id,
                    pause=read_pause(conn, name, account_id, now),
                    usage=[
                        Usage("hour_calls", hour_calls, account.hour_call_limit),
                        Usage("day_calls", day_calls, account.day_call_limit),
                        Usage("creations", usage.creations if usage else 0, account.daily_limit),
                    ],
                    token=None,
                    queue=counts,
                )
            )
    for overview in overviews:
        if overview.platform in TOKEN_PLATFORMS:
            overview.token = _token_state(engine, overview.platform, overview.account_id, now)
    return overviews


def _queue_counts(conn: Any) -> dict[tuple[str, str], dict[str, int]]:
    rows = conn.execute(
        select(
            upload_queue.c.platform, upload_queue.c.account_id, upload_queue.c.status, func.count()
        ).group_by(upload_queue.c.platform, upload_queue.c.account_id, upload_queue.c.status)
    )
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for name, account_id, status, count in rows:
        counts.setdefault((name, account_id), {})[status] = int(count)
    return counts


def _token_state(engine: Engine, platform: str, account_id: str, now: datetime) -> TokenState:
    from upload_scheduler.platforms.token_health import assess
    from upload_scheduler.platforms.token_store import TokenStore

    record = TokenStore(engine, platform).get(account_id)
    health = assess(record, now)
    return TokenState(health.status, health.message, record.expires_at if record else None)
