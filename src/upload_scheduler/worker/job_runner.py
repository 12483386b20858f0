"""What the uploader and the deleter share: who they are, and how a job's actual API
calls are squared with the calls reserved for it before it started."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from upload_scheduler.clock import Clock
from upload_scheduler.limits import LimitSettings
from upload_scheduler.platforms.interface import Platform
from upload_scheduler.store.usage import add_usage
from upload_scheduler.worker import account_state
from upload_scheduler.worker.notifying import Notifier, NullNotifier

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings


class JobRunner:
    """Base of the per-kind job runners of one daemon."""

    def __init__(
        self,
        engine: Engine,
        platform: Platform,
        owner: str,
        clock: Clock,
        notifier: Notifier | None = None,
    ) -> None:
        self.engine = engine
        self.platform = platform
        self.owner = owner
        self.clock = clock
        self.notifier = notifier or NullNotifier()

    @staticmethod
    def settle_calls(
        conn: Connection,
        account: AccountSettings,
        limits: LimitSettings,
        now: datetime,
        calls: int,
        reserved: int,
    ) -> None:
        """Give back (or add) the difference between the calls made and those reserved."""
        if calls != reserved:
            account_state.record_calls(
                conn,
                account.platform,
                account.account_id,
                limits,
                now,
                calls - reserved,
                started_item=False,
            )

    def notify_outcome(
        self, account: AccountSettings, status: str, subject: str, detail: str
    ) -> None:
        """An item failed for good, or the account paused: tell the operator."""
        key = f"{account.platform}/{account.account_id}"
        if status == "failed":
            self.notifier.notify("item_failed", key, f"{subject}: {detail}")
        elif status == "paused":
            self.notifier.notify("account_paused", key, detail)

    @staticmethod
    def count_creation(
        conn: Connection,
        account: AccountSettings,
        limits: LimitSettings,
        now: datetime,
        count: int = 1,
    ) -> None:
        """Items created today (the account's local day), counted against daily_limit."""
        day = now.astimezone(limits.zone).date().isoformat()
        add_usage(conn, account.platform, account.account_id, day, creations=count)
