"""What the database says about each account, for `manager status` and for telling a
crash from a refused lease: today's outcomes, the next item, a pause, the lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from upload_scheduler.store.tables import account_state, upload_queue


@dataclass(frozen=True)
class NextItem:
    queue_id: int
    asin: str
    scheduled_time: datetime
    priority: int


@dataclass(frozen=True)
class Lease:
    owner: str
    host: str | None
    pid: int | None
    expires_at: datetime | None


@dataclass(frozen=True)
class AccountFigures:
    today_success: int = 0
    today_failed: int = 0
    today_deleted: int = 0  # delete jobs done (delist); not counted as uploads
    pending: int = 0
    next_item: NextItem | None = None
    paused_until: datetime | None = None
    pause_reason: str | None = None
    lease: Lease | None = None  # who works the account now, on which host


def local_day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The account's local day containing `now`, as aware datetimes."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def account_figures(
    conn: Connection, platform: str, account_id: str, zone: ZoneInfo, now: datetime
) -> AccountFigures:
    mine = (upload_queue.c.platform == platform, upload_queue.c.account_id == account_id)
    start, end = local_day_bounds(now, zone)
    counts = {
        (kind, status): count
        for kind, status, count in conn.execute(
            select(upload_queue.c.kind, upload_queue.c.status, func.count())
            .where(
                *mine,
                upload_queue.c.status.in_(("success", "failed")),
                upload_queue.c.processed_at >= start,
                upload_queue.c.processed_at < end,
            )
            .group_by(upload_queue.c.kind, upload_queue.c.status)
        )
    }
    pending = conn.execute(
        select(func.count()).where(*mine, upload_queue.c.status == "pending")
    ).scalar_one()
    row = conn.execute(
        select(
            upload_queue.c.id,
            upload_queue.c.asin,
            upload_queue.c.scheduled_time,
            upload_queue.c.priority,
        )
        .where(*mine, upload_queue.c.status == "pending")
        .order_by(upload_queue.c.scheduled_time, upload_queue.c.priority.desc(), upload_queue.c.id)
        .limit(1)
    ).first()
    pause = conn.execute(
        select(
            account_state.c.paused_until,
            account_state.c.pause_reason,
            account_state.c.lease_owner,
            account_state.c.lease_host,
            account_state.c.lease_pid,
            account_state.c.lease_expires_at,
        ).where(account_state.c.platform == platform, account_state.c.account_id == account_id)
    ).first()
    lease = None
    if (
        pause is not None
        and pause.lease_owner
        and (pause.lease_expires_at is None or pause.lease_expires_at > now)
    ):
        lease = Lease(pause.lease_owner, pause.lease_host, pause.lease_pid, pause.lease_expires_at)
    return AccountFigures(
        today_success=int(counts.get(("upload", "success"), 0)),
        today_failed=int(counts.get(("upload", "failed"), 0)),
        today_deleted=int(counts.get(("delete", "success"), 0)),
        pending=int(pending),
        next_item=NextItem(row.id, row.asin, row.scheduled_time, row.priority) if row else None,
        paused_until=pause.paused_until if pause and pause.pause_reason else None,
        pause_reason=pause.pause_reason if pause else None,
        lease=lease,
    )


def current_lease(engine: Engine, platform: str, account_id: str, now: datetime) -> Lease | None:
    """The account's unexpired lease, if any."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                account_state.c.lease_owner,
                account_state.c.lease_host,
                account_state.c.lease_pid,
                account_state.c.lease_expires_at,
            ).where(account_state.c.platform == platform, account_state.c.account_id == account_id)
        ).first()
    if row is None or row.lease_owner is None:
        return None
    if row.lease_expires_at is not None and row.lease_expires_at <= now:
        return None
    return Lease(row.lease_owner, row.lease_host, row.lease_pid, row.lease_expires_at)
