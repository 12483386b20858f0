"""An account's persisted state: the one-worker lease, pacing memory, usage and pauses.

The one module that reads and writes the `account_state` table: the daemon, the
supervisor, `operations` and the dashboard all go through it. Spacing and budgets
survive restarts because the start of every item is written here before its first
platform call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from upload_scheduler.limits import LimitSettings, LimitState, hour_of, local_day
from upload_scheduler.store.identity import Identity, owner_is_dead
from upload_scheduler.store.states import PauseKind
from upload_scheduler.store.tables import account_state, account_usage
from upload_scheduler.store.types import UTCDateTime
from upload_scheduler.store.usage import add_application_usage, add_usage, application_calls


@dataclass(frozen=True)
class LeaseHolder:
    owner: str
    host: str
    pid: int | None
    expires_at: datetime | None


@dataclass(frozen=True)
class AccountRecord:
    """One account's row as stored: its pause, lease and this hour's calls."""

    platform: str
    account_id: str
    pause_reason: str | None
    paused_until: datetime | None
    lease: LeaseHolder | None
    hour_start: datetime | None
    hour_calls: int
    last_start_at: datetime | None

    def pause_in_force(self, now: datetime) -> bool:
        """A pause whose end has passed is over, even before a daemon clears it."""
        return bool(self.pause_reason) and (self.paused_until is None or self.paused_until > now)

    def live_lease(self, now: datetime) -> LeaseHolder | None:
        lease = self.lease
        if lease is None or (lease.expires_at is not None and lease.expires_at <= now):
            return None
        return lease


def _record(row: Any) -> AccountRecord:
    lease = (
        LeaseHolder(row.lease_owner, row.lease_host, row.lease_pid, row.lease_expires_at)
        if row.lease_owner
        else None
    )
    return AccountRecord(
        row.platform,
        row.account_id,
        row.pause_reason,
        row.paused_until,
        lease,
        row.hour_start,
        row.hour_calls or 0,
        row.last_start_at,
    )


def read_account(conn: Connection, platform: str, account_id: str) -> AccountRecord | None:
    row = conn.execute(select(account_state).where(_key(platform, account_id))).first()
    return _record(row) if row is not None else None


def read_accounts(
    conn: Connection, platform: str | None = None, *, paused: bool = False
) -> list[AccountRecord]:
    """Every account's row (of one platform), by account id; `paused`: only those with
    a pause stored (over or not: see `AccountRecord.pause_in_force`)."""
    query = select(account_state)
    if platform is not None:
        query = query.where(account_state.c.platform == platform)
    if paused:
        query = query.where(account_state.c.pause_reason.is_not(None))
    rows = conn.execute(query.order_by(account_state.c.platform, account_state.c.account_id))
    return [_record(row) for row in rows]


def _key(platform: str, account_id: str):  # type: ignore[no-untyped-def]
    return and_(account_state.c.platform == platform, account_state.c.account_id == account_id)


def ensure_row(conn: Connection, platform: str, account_id: str) -> None:
    exists = conn.execute(
        select(account_state.c.platform).where(_key(platform, account_id))
    ).first()
    if exists is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    account_state.insert().values(platform=platform, account_id=account_id)
                )
        except IntegrityError:
            pass  # another process created it first


def acquire_lease(
    conn: Connection, platform: str, account_id: str, me: Identity, now: datetime, ttl: float
) -> LeaseHolder | None:
    """Take the account's lease; returns None on success, else the current holder.

    Free means: nobody holds it, it expired, it is ours, or its holder was a process on
    this host that has died (a restart after kill -9 must not wait for the expiry).
    """
    ensure_row(conn, platform, account_id)
    row = conn.execute(
        select(
            account_state.c.lease_owner,
            account_state.c.lease_host,
            account_state.c.lease_pid,
            account_state.c.lease_expires_at,
        ).where(_key(platform, account_id))
    ).one()
    owner, host, pid, expires = row
    free = (
        owner is None
        or owner == me.owner
        or (expires is not None and expires <= now)
        or owner_is_dead(owner, host, pid)
    )
    if not free:
        return LeaseHolder(owner, host, pid, expires)
    # Compare-and-set on the owner we saw, so two starters cannot both win.
    seen = (
        account_state.c.lease_owner.is_(None)
        if owner is None
        else account_state.c.lease_owner == owner
    )
    changed = conn.execute(
        update(account_state)
        .where(_key(platform, account_id), seen)
        .values(
            lease_owner=me.owner,
            lease_host=me.host,
            lease_pid=me.pid,
            lease_expires_at=now + timedelta(seconds=ttl),
            updated_at=now,
        )
    ).rowcount
    if changed:
        return None
    return LeaseHolder("(changed meanwhile)", "", None, None)


def renew_lease(
    conn: Connection, platform: str, account_id: str, me: Identity, now: datetime, ttl: float
) -> bool:
    """Extend our lease; False means we lost it and must stop working this account."""
    return bool(
        conn.execute(
            update(account_state)
            .where(_key(platform, account_id), account_state.c.lease_owner == me.owner)
            .values(lease_expires_at=now + timedelta(seconds=ttl))
        ).rowcount
    )


def release_lease(conn: Connection, platform: str, account_id: str, me: Identity) -> None:
    conn.execute(
        update(account_state)
        .where(_key(platform, account_id), account_state.c.lease_owner == me.owner)
        .values(lease_owner=None, lease_host=None, lease_pid=None, lease_expires_at=None)
    )


# An account's limits state in one read: its row, and its usage row of the given day.
_STATE = (
    select(
        account_state.c.last_start_at,
        account_state.c.hour_start,
        account_state.c.hour_calls,
        account_state.c.paused_until,
        account_state.c.pause_reason,
        account_usage.c.calls.label("day_calls"),
        account_usage.c.creations.label("day_creations"),
    )
    .select_from(
        account_state.outerjoin(
            account_usage,
            and_(
                account_usage.c.platform == account_state.c.platform,
                account_usage.c.account_id == account_state.c.account_id,
                account_usage.c.day == bindparam("day"),
            ),
        )
    )
    .where(
        account_state.c.platform == bindparam("platform"),
        account_state.c.account_id == bindparam("account_id"),
    )
)
# PostgreSQL: the account's row stays locked until commit (the usage row is created by
# an upsert, which locks by itself). SQLite leaves FOR UPDATE out.
_STATE_LOCKED = _STATE.with_for_update(of=account_state)

_USAGE = select(account_usage.c.calls, account_usage.c.creations).where(
    account_usage.c.platform == bindparam("platform"),
    account_usage.c.account_id == bindparam("account_id"),
    account_usage.c.day == bindparam("day"),
)

_RECORD_START = (
    update(account_state)
    .where(
        account_state.c.platform == bindparam("start_platform"),
        account_state.c.account_id == bindparam("start_account_id"),
    )
    .values(
        hour_start=bindparam("start_hour", type_=UTCDateTime()),
        hour_calls=bindparam("start_hour_calls"),
        last_start_at=bindparam("start_at", type_=UTCDateTime()),
        updated_at=bindparam("start_at", type_=UTCDateTime()),
    )
)


def load_state(
    conn: Connection,
    platform: str,
    account_id: str,
    settings: LimitSettings,
    now: datetime,
    not_before: datetime | None = None,
    *,
    lock: bool = False,
) -> LimitState:
    """The account's limits state. `lock` (inside a write transaction) holds the
    account's row until commit on PostgreSQL, so a read-decide-write of its budget is
    never interleaved with another host's; SQLite's write transactions are already
    exclusive."""
    today = local_day(now, settings.zone)
    key = {"platform": platform, "account_id": account_id, "day": today.isoformat()}
    row = conn.execute(_STATE_LOCKED if lock else _STATE, key).first()
    shared: dict[str, Any] = {}
    if settings.application is not None:
        app_day = settings.application_day(now)
        shared = {
            "application_day": app_day,
            "application_calls": application_calls(
                conn, platform, settings.application, app_day.isoformat(), lock=lock
            ),
        }
    if row is None:  # no state row yet (no lease was ever taken): usage may still exist
        usage = conn.execute(_USAGE, key).first()
        return LimitState(
            settings=settings,
            day=today,
            day_calls=usage.calls if usage else 0,
            day_creations=usage.creations if usage else 0,
            not_before=not_before,
            **shared,
        )
    return LimitState(
        settings=settings,
        last_start_at=row.last_start_at,
        hour_start=row.hour_start,
        hour_calls=row.hour_calls,
        day=today,
        day_calls=row.day_calls or 0,
        day_creations=row.day_creations or 0,
        paused_until=row.paused_until,
        pause_reason=row.pause_reason,
        not_before=not_before,
        **shared,
    )


def record_start(
    conn: Connection, platform: str, account_id: str, state: LimitState, now: datetime, calls: int
) -> None:
    """Note a start at `now` and reserve its `calls` against the hour and the day;
    `state` is the account's state read (locked) in this same transaction."""
    hour = hour_of(now)
    hour_calls = (state.hour_calls if state.hour_start == hour else 0) + calls
    conn.execute(
        _RECORD_START,
        {
            "start_platform": platform,
            "start_account_id": account_id,
            "start_hour": hour,
            "start_hour_calls": max(0, hour_calls),
            "start_at": now,
        },
    )
    add_usage(
        conn, platform, account_id, local_day(now, state.settings.zone).isoformat(), calls=calls
    )
    _add_application_calls(conn, platform, state.settings, now, calls)


def _add_application_calls(
    conn: Connection, platform: str, settings: LimitSettings, now: datetime, calls: int
) -> None:
    """The same calls against the application's day, when its budget is shared."""
    if settings.application is not None:
        day = settings.application_day(now).isoformat()
        add_application_usage(conn, platform, settings.application, day, calls)


def record_calls(
    conn: Connection,
    platform: str,
    account_id: str,
    settings: LimitSettings,
    now: datetime,
    calls: int,
    *,
    started_item: bool,
) -> None:
    """Count `calls` against the hour and the day (negative gives back an unused
    reservation); `started_item` also notes the start for spacing."""
    hour = hour_of(now)
    values: dict[str, object] = {
        "hour_start": hour,
        "hour_calls": _hour_calls_after(conn, platform, account_id, hour, calls),
        "updated_at": now,
    }
    if started_item:
        values["last_start_at"] = now
    conn.execute(update(account_state).where(_key(platform, account_id)).values(values))
    add_usage(conn, platform, account_id, local_day(now, settings.zone).isoformat(), calls=calls)
    _add_application_calls(conn, platform, settings, now, calls)


def _hour_calls_after(
    conn: Connection, platform: str, account_id: str, hour: datetime, calls: int
) -> int:
    current = conn.execute(
        select(account_state.c.hour_start, account_state.c.hour_calls).where(
            _key(platform, account_id)
        )
    ).first()
    base = current.hour_calls if current is not None and current.hour_start == hour else 0
    return max(0, base + calls)


def set_pause(
    conn: Connection,
    platform: str,
    account_id: str,
    until: datetime | None,
    reason: str | None,
    now: datetime,
) -> None:
    """Pause (until None = until someone resumes it) or, with reason None, resume."""
    ensure_row(conn, platform, account_id)
    conn.execute(
        update(account_state)
        .where(_key(platform, account_id))
        .values(paused_until=until if reason else None, pause_reason=reason, updated_at=now)
    )


def pause_unless_stronger(
    conn: Connection,
    platform: str,
    account_ids: list[str],
    until: datetime,
    reason: str,
    now: datetime,
) -> list[str]:
    """Pause each account until `until` (in the future), except one whose pause in force
    already lasts as long (an auth or config pause lasts until someone resumes it): a
    spent budget of the application must not lift a shop's own pause. The accounts
    paused now.

    Each row is changed by one conditional UPDATE, so a pause another process sets
    meanwhile is never overwritten by a weaker one; and the rows are taken in account-id
    order, before anything else the caller locks (the application's counter): two hosts
    pausing one application's accounts, or one pausing while another claims (a claim
    locks its account's row, then the counter), never wait for each other in a circle."""
    paused = []
    for account_id in sorted(set(account_ids)):
        ensure_row(conn, platform, account_id)
        weaker = or_(
            account_state.c.pause_reason.is_(None),
            and_(account_state.c.paused_until.is_not(None), account_state.c.paused_until < until),
        )
        changed = conn.execute(
            update(account_state)
            .where(_key(platform, account_id), weaker)
            .values(paused_until=until, pause_reason=reason, updated_at=now)
        ).rowcount
        if changed:
            paused.append(account_id)
    return paused


def read_pause(
    conn: Connection, platform: str, account_id: str
) -> tuple[str | None, datetime | None]:
    """The account's (pause_reason, paused_until) as stored, over or not."""
    row = conn.execute(
        select(account_state.c.pause_reason, account_state.c.paused_until).where(
            _key(platform, account_id)
        )
    ).first()
    return (row.pause_reason, row.paused_until) if row is not None else (None, None)


def lift_pause(
    conn: Connection, platform: str, account_id: str, kind: PauseKind, now: datetime
) -> bool:
    """Lift the account's pause if `kind` set it (a login lifts an auth pause, and only
    that); True if one was lifted."""
    return bool(
        conn.execute(
            update(account_state)
            .where(
                _key(platform, account_id),
                account_state.c.pause_reason.like(f"{kind.value}:%"),
            )
            .values(paused_until=None, pause_reason=None, updated_at=now)
        ).rowcount
    )


def expired_pause(conn: Connection, platform: str, account_id: str, now: datetime) -> bool:
    """Clear a pause whose time has passed; True if one was cleared."""
    return bool(
        conn.execute(
            update(account_state)
            .where(
                _key(platform, account_id),
                account_state.c.pause_reason.is_not(None),
                account_state.c.paused_until.is_not(None),
                account_state.c.paused_until <= now,
            )
            .values(paused_until=None, pause_reason=None, updated_at=now)
        ).rowcount
    )
