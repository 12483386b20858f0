"""What the database says about each account, for `manager status` and for telling a
crash from a refused lease: today's outcomes, the next item, a pause, the lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from upload_scheduler.queue.order import due_order
from upload_scheduler.store import account_state
from upload_scheduler.store.tables import upload_queue


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
    # The item the daemon takes next: the first due one in the due order, or, with
    # nothing due, the one that falls due first.
    upcoming = select(
        upload_queue.c.id,
        upload_queue.c.asin,
        upload_queue.c.scheduled_time,
        upload_queue.c.priority,
    ).where(*mine, upload_queue.c.status == "pending")
    row = (
        conn.execute(
            upcoming.where(upload_queue.c.scheduled_time <= now)
            .order_by(*due_order(upload_queue.c))
            .limit(1)
        ).first()
        or conn.execute(
            upcoming.order_by(upload_queue.c.scheduled_time, *due_order(upload_queue.c)).limit(1)
        ).first()
    )
    record = account_state.read_account(conn, platform, account_id)
    holder = record.live_lease(now) if record is not None else None
    lease = Lease(holder.owner, holder.host, holder.pid, holder.expires_at) if holder else None
    return AccountFigures(
        today_success=int(counts.get(("upload", "success"), 0)),
        today_failed=int(counts.get(("upload", "failed"), 0)),
        today_deleted=int(counts.get(("delete", "success"), 0)),
        pending=int(pending),
        next_item=NextItem(row.id, row.asin, row.scheduled_time, row.priority) if row else None,
        paused_until=record.paused_until if record and record.pause_reason else None,
        pause_reason=record.pause_reason if record else None,
        lease=lease,
    )


def current_lease(engine: Engine, platform: str, account_id: str, now: datetime) -> Lease | None:
    """The account's unexpired lease, if any."""
    with engine.connect() as conn:
        record = account_state.read_account(conn, platform, account_id)
    holder = record.live_lease(now) if record is not None else None
    return Lease(holder.owner, holder.host, holder.pid, holder.expires_at) if holder else None
