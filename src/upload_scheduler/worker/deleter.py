"""Run one claimed delete job through the platform and record what happened.

The same error model as uploads (DESIGN.md), decided by `outcome.decide`. At most once:
a job whose earlier attempt may have reached the platform (a lost answer, a killed
worker) first asks whether the item is still there; one that is gone counts as done, as
does BASE's bad_item_id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from upload_scheduler.limits import LimitSettings
from upload_scheduler.platforms.errors import Permanent, PlatformError
from upload_scheduler.platforms.interface import Account
from upload_scheduler.queue import transitions
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.states import QueueStatus
from upload_scheduler.worker.job_runner import JobRunner
from upload_scheduler.worker.outcome import (
    Decision,
    NoAttemptLeft,
    Verdict,
)

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings

log = logging.getLogger("upload_scheduler.worker")


def delete_cost(item: QueueItem) -> int:
    """One call, plus the existence check when an earlier attempt may have deleted it."""
    return 2 if item.call_started_at is not None else 1


class Deleter(JobRunner):
    """Runs one delete job for one daemon."""

    def process(
        self,
        item: QueueItem,
        account: AccountSettings,
        limits: LimitSettings,
        previous_call: datetime | None,
        reserved_calls: int,
        pace: Callable[[], None] | None = None,
        *,
        lookup_only: bool = False,
    ) -> Decision:
        target = Account(account.platform, account.account_id, account)
        item_id = item.platform_item_id or ""
        calls = 0
        settled = previous_call is None  # until a check answers, the delete may have happened
        acted = False
        note = ""
        try:
            if not item_id:
                settled = True  # nothing on the platform could have been deleted
                raise Permanent(f"{item.asin}: the listing has no platform item id to delete")
            gone = False
            if previous_call is not None:
                calls += 1
                gone = not self.platform.exists(item_id, target, asin=item.asin)
                settled = True
                if gone:
                    note = "already gone when checked after an unanswered delete"
                elif lookup_only:
                    raise NoAttemptLeft(
                        f"{item.error_message or 'the last attempt was not answered'}; "
                        f"still on {account.platform} when checked "
                        f"(after {item.attempts} attempts)"
                    )
            if not gone:
                if pace is not None:
                    pace()
                acted = True
                result = self.platform.delete(item_id, target, asin=item.asin)
                calls += result.calls
                if result.already_gone:
                    note = "already gone on the platform"
        except PlatformError as exc:
            attempt = self.attempt(
                item,
                account,
                previous_call,
                settled=settled,
                acted=acted,
                lookup_only=lookup_only,
                platform_item_id=item.platform_item_id,
                images_done=item.images_done,
            )
            return self.finish(
                item,
                account,
                limits,
                exc,
                attempt,
                calls=max(calls, 1),
                reserved=reserved_calls,
                created=False,
            )
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            transitions.mark_deleted(conn, item, self.owner, note, now)
            self.settle_calls(conn, account, limits, now, calls, reserved_calls)
        log.info(
            "delete success: ASIN %s item %s%s (attempt %d, %d call(s))",
            item.asin,
            item_id,
            f", {note}" if note else "",
            item.attempts,
            calls,
        )
        return Decision(Verdict.SUCCESS, note or item_id, QueueStatus.SUCCESS)
