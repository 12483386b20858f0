"""Pausing and resuming an account by hand, and reading every pause the same way.

A pause is one row of `account_state` (pause_reason, paused_until), whoever set it: the
operator, a rate limit, a spent quota or a refused token. The daemon's admission check
already refuses to start anything for a paused account, so pausing needs no message to
a running daemon: it finishes its current item and then waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select

from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.states import PauseKind
from upload_scheduler.store.tables import account_state
from upload_scheduler.worker import account_state as state_ops

# Manual pauses carry the operator kind so that nothing automatic mistakes them for its
# own: a successful `token login` lifts only pauses of the auth kind.
DEFAULT_REASON = "paused by the operator"


@dataclass(frozen=True)
class Pause:
    platform: str
    account_id: str
    reason: str
    until: datetime | None  # None: until someone resumes it

    @property
    def kind(self) -> str:
        """operator, rate limit, quota, auth or config: who set the pause."""
        kind = PauseKind.of(self.reason)
        return kind.value if kind is not None else "other"


def pause(
    engine: Engine,
    platform: str,
    account_id: str,
    *,
    until: datetime | None,
    reason: str | None,
    now: datetime,
) -> Pause:
    """Pause the account (replacing any pause it had) until `until` or until resumed."""
    text = PauseKind.OPERATOR.reason(
        reason.strip() if reason and reason.strip() else DEFAULT_REASON
    )
    with write_transaction(engine) as conn:
        state_ops.set_pause(conn, platform, account_id, until, text, now)
    return Pause(platform, account_id, text, until)


def resume(engine: Engine, platform: str, account_id: str, now: datetime) -> Pause | None:
    """Lift the account's pause, manual or automatic; the pause that was lifted, if any."""
    with write_transaction(engine) as conn:
        current = read_pause(conn, platform, account_id, now)
        if current is not None:
            state_ops.set_pause(conn, platform, account_id, None, None, now)
    return current


def read_pause(conn: Connection, platform: str, account_id: str, now: datetime) -> Pause | None:
    """The pause in force now; one whose end has passed counts as over even before a
    daemon's housekeeping clears it."""
    row = conn.execute(
        select(account_state.c.pause_reason, account_state.c.paused_until).where(
            account_state.c.platform == platform, account_state.c.account_id == account_id
        )
    ).first()
    if row is None or not row.pause_reason:
        return None
    if row.paused_until is not None and row.paused_until <= now:
        return None
    return Pause(platform, account_id, row.pause_reason, row.paused_until)


def active_pauses(engine: Engine, now: datetime, platform: str | None = None) -> list[Pause]:
    """Every pause in force, for `check-queue` and `account list`."""
    query = select(
        account_state.c.platform,
        account_state.c.account_id,
        account_state.c.pause_reason,
        account_state.c.paused_until,
    ).where(account_state.c.pause_reason.is_not(None))
    if platform is not None:
        query = query.where(account_state.c.platform == platform)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(account_state.c.account_id)).all()
    return [
        Pause(r.platform, r.account_id, r.pause_reason, r.paused_until)
        for r in rows
        if r.paused_until is None or r.paused_until > now
    ]


def remaining(pause: Pause, now: datetime) -> timedelta | None:
    return None if pause.until is None else pause.until - now
