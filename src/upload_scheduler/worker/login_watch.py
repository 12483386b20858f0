"""A login with a known end (Yahoo!'s four weeks from the login, never extended; eBay's
refresh token's end) is watched by the daemon: a notice 3 days and 1 day before, and,
once it has ended, the account pauses for a login, losing nothing (`token login` lifts
the pause). Each notice is sent once per login, across restarts (`login_warned_days`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine

from upload_scheduler.platforms.token_manager import TokenManager
from upload_scheduler.store import account_state
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.states import PauseKind
from upload_scheduler.worker.notifying import Notifier

# Days before a login's end when the operator is told (the 3 and 1).
LOGIN_WARNING_DAYS: tuple[int, ...] = (3, 1)

# Notify kinds as plain strings (notify.events.NotifyKind): importing the notify package
# would load it into every daemon, which sends nothing without a configured sender.
log = logging.getLogger(__name__)


def login_notice(
    end: datetime, now: datetime, warned: int | None, days: Sequence[int] = LOGIN_WARNING_DAYS
) -> int | None:
    """The notice due now: the smallest of `days` the end is within and that was not sent
    yet (`warned`: the last one sent for this login); None when none is due."""
    due = [d for d in days if end - now <= timedelta(days=d)]
    if not due:
        return None
    nearest = min(due)
    return nearest if warned is None or nearest < warned else None


class LoginWatch:
    """The watch over one daemon's accounts, run at each housekeeping pass."""

    def __init__(
        self,
        engine: Engine,
        tokens: TokenManager,
        account_ids: Sequence[str],
        notifier: Notifier,
    ) -> None:
        self.engine = engine
        self.tokens = tokens
        self.account_ids = list(account_ids)
        self.notifier = notifier

    def check(self, now: datetime) -> None:
        for account_id in self.account_ids:
            record = self.tokens.store.get(account_id)
            if record is None or record.refresh_expires_at is None or record.login_required:
                continue
            end = record.refresh_expires_at
            key = f"{self.tokens.platform}/{account_id}"
            command = (
                f"upload-scheduler token login --platform {self.tokens.platform} "
                f"--account {account_id}"
            )
            if now >= end:
                self._ended(account_id, end, now, key)
                continue
            days = login_notice(end, now, record.login_warned_days)
            if days is None:
                continue
            day = end.astimezone(self.tokens.settings.zone).date().isoformat()
            text = f"the login ends on {day} (within {days} day(s)): run `{command}` before then"
            log.warning("%s: %s", key, text)
            self.notifier.notify("login_ending", key, text)
            self.tokens.store.mark_login_warned(account_id, days)

    def _ended(self, account_id: str, end: datetime, now: datetime, key: str) -> None:
        """The login has ended: a login is required, and the account pauses (unless
        something else paused it already) until `token login`."""
        day = end.astimezone(self.tokens.settings.zone).date().isoformat()
        reason = f"the login ended on {day}"
        message = self.tokens.login_message(account_id, reason)
        self.tokens.store.mark_login_required(account_id, reason, now)
        with write_transaction(self.engine) as conn:
            record = account_state.read_account(conn, self.tokens.platform, account_id)
            if record is None or not record.pause_in_force(now):
                account_state.set_pause(
                    conn,
                    self.tokens.platform,
                    account_id,
                    None,
                    PauseKind.AUTH.reason(message),
                    now,
                )
        # Told even when another pause is in force: this one needs the operator.
        log.warning("%s: %s", key, message)
        self.notifier.notify("account_paused", key, message)
