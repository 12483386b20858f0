"""What the notifier is told about: a kind, the account it concerns, and a message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class NotifyKind(StrEnum):
    """The events an operator wants a message for (DESIGN.md, "Errors from a platform")."""

    ITEM_FAILED = "item_failed"  # failed for good: no retry left, or a permanent error
    ACCOUNT_PAUSED = "account_paused"  # rate limit, quota, or a refused token
    DAEMON_CRASHED = "daemon_crashed"
    DAEMON_RESTARTED = "daemon_restarted"
    # The database file was deleted or replaced under a running daemon, which stopped.
    DATABASE_LOST = "database_lost"
    DAILY_SUMMARY = "daily_summary"
    # A login ends soon (Yahoo!'s four weeks: 3 days and 1 day before), or has ended.
    LOGIN_ENDING = "login_ending"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def kind_label(kind: NotifyKind | str) -> str:
    """A readable name for a kind; unknown kinds are shown as given, not refused, since a
    notification must never fail because of how it was labelled."""
    try:
        return NotifyKind(kind).label
    except ValueError:
        return str(kind).replace("_", " ")


@dataclass(frozen=True)
class NotifyEvent:
    kind: str
    account_key: str  # "platform/account_id", e.g. "base/base_account_1"
    message: str
    at: datetime
