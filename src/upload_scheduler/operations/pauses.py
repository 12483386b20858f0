"""Pausing and resuming an account by hand, and reading every pause the same way.

A pause is one row of `account_state` (pause_reason, paused_until), whoever set it: the
operator, a rate limit, a spent quota or a refused token. The daemon's admission check
already refuses to start anything for a paused account, so pausing needs no message to
a running daemon: it finishes its current item and then waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from upload_scheduler.store import account_state
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.states import PauseKind

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
        account_state.set_pause(conn, platform, account_id, until, text, now)
    return Pause(platform, account_id, text, until)


def resume(engine: Engine, platform: str, account_id: str, now: datetime) -> Pause | None:
    """Lift the account's pause, manual or automatic; the pause that was lifted, if any."""
    with write_transaction(engine) as conn:
        current = read_pause(conn, platform, account_id, now)
        if current is not None:
            account_state.set_pause(conn, platform, account_id, None, None, now)
    return current


def read_pause(conn: Connection, platform: str, account_id: str, now: datetime) -> Pause | None:
    """The pause in force now; one whose end has passed counts as over even before a
    daemon's housekeeping clears it."""
    return pause_of(account_state.read_account(conn, platform, account_id), now)


def pause_of(record: account_state.AccountRecord | None, now: datetime) -> Pause | None:
    """The pause in force now in an account's row as read (None: no row)."""
    if record is None or not record.pause_in_force(now):
        return None
    assert record.pause_reason is not None
    return Pause(record.platform, record.account_id, record.pause_reason, record.paused_until)


def active_pauses(engine: Engine, now: datetime, platform: str | None = None) -> list[Pause]:
    """Every pause in force, for `check-queue` and `account list`."""
    with engine.connect() as conn:
        records = account_state.read_accounts(conn, platform, paused=True)
    found = (pause_of(r, now) for r in sorted(records, key=lambda r: r.account_id))
    return [p for p in found if p is not None]


def remaining(pause: Pause, now: datetime) -> timedelta | None:
    return None if pause.until is None else pause.until - now
