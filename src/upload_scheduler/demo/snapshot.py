"""What the live view shows, read from the database the daemons write: per account (of
every platform the run lists on) the items done, failed, still to go, the pace of the
last minute and the next slot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from upload_scheduler.queue.order import due_order
from upload_scheduler.store import account_state
from upload_scheduler.store.tables import upload_queue

FINAL = ("success", "failed", "cancelled")
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class AccountProgress:
    account_id: str
    total: int
    success: int
    failed: int
    unfinished: int
    retried: int
    per_minute: float
    next_slot: datetime | None
    paused_until: datetime | None
    pause_reason: str | None
    platform: str = "base"

    @property
    def done(self) -> int:
        return self.total - self.unfinished


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    accounts: list[AccountProgress]

    @property
    def total(self) -> int:
        return sum(a.total for a in self.accounts)

    @property
    def unfinished(self) -> int:
        return sum(a.unfinished for a in self.accounts)


def take_snapshots(
    engine: Engine, accounts: Mapping[str, list[str]], now: datetime, since: datetime
) -> Snapshot:
    """One snapshot of every platform's accounts (`accounts`: platform -> account ids)."""
    rows: list[AccountProgress] = []
    for platform, account_ids in accounts.items():
        rows += take_snapshot(engine, platform, account_ids, now, since).accounts
    return Snapshot(now, rows)


def take_snapshot(
    engine: Engine, platform: str, account_ids: list[str], now: datetime, since: datetime
) -> Snapshot:
    """`since`: when the run started, so the pace is not diluted by the time before."""
    window_start = max(now - RATE_WINDOW, since)
    minutes = max((now - window_start).total_seconds(), 1.0) / 60
    on_platform = upload_queue.c.platform == platform
    with engine.connect() as conn:
        counts: Counter[tuple[str, str]] = Counter()
        for account, status, count in conn.execute(
            select(upload_queue.c.account_id, upload_queue.c.status, func.count())
            .where(on_platform)
            .group_by(upload_queue.c.account_id, upload_queue.c.status)
        ):
            counts[(account, status)] = int(count)
        recent: dict[str, int] = dict(
            conn.execute(
                select(upload_queue.c.account_id, func.count())
                .where(
                    on_platform,
                    upload_queue.c.status == "success",
                    upload_queue.c.processed_at >= window_start,
                )
                .group_by(upload_queue.c.account_id)
            ).all()
        )
        retried: dict[str, int] = dict(
            conn.execute(
                select(upload_queue.c.account_id, func.count())
                .where(on_platform, upload_queue.c.attempts > 1)
                .group_by(upload_queue.c.account_id)
            ).all()
        )
        pauses = {r.account_id: r for r in account_state.read_accounts(conn, platform)}
        slots = {a: _next_slot(conn, platform, a) for a in account_ids}
    accounts = []
    for account in account_ids:
        total = sum(n for (a, _), n in counts.items() if a == account)
        finished = sum(counts[(account, s)] for s in FINAL)
        pause = pauses.get(account)
        paused_until = pause.paused_until if pause is not None else None
        accounts.append(
            AccountProgress(
                account_id=account,
                total=total,
                success=counts[(account, "success")],
                failed=counts[(account, "failed")],
                unfinished=total - finished,
                retried=int(retried.get(account, 0)),
                per_minute=int(recent.get(account, 0)) / minutes,
                next_slot=slots[account],
                paused_until=paused_until if paused_until and paused_until > now else None,
                pause_reason=pause.pause_reason if pause is not None else None,
                platform=platform,
            )
        )
    return Snapshot(now, accounts)


def _next_slot(conn: Connection, platform: str, account_id: str) -> datetime | None:
    """The scheduled time of the item the account's daemon takes next (claim order)."""
    query = (
        select(upload_queue.c.scheduled_time)
        .where(
            upload_queue.c.platform == platform,
            upload_queue.c.account_id == account_id,
            upload_queue.c.status == "pending",
        )
        .order_by(*due_order(upload_queue.c))
        .limit(1)
    )
    moment: datetime | None = conn.execute(query).scalar()
    return moment
