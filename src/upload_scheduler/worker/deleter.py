"""Run one claimed delete job through the platform and record what happened.

The same error model as uploads (DESIGN.md): transient errors retry after the delay up
to max_attempts, permanent ones fail at once, rate limits and refused tokens pause the
account without spending an attempt. At most once: a job whose earlier attempt may
have reached the platform (a lost answer, a killed worker) first asks whether the item
is still there; one that is gone counts as done, as does BASE's bad_item_id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from upload_scheduler.limits import LimitSettings
from upload_scheduler.platforms.errors import Permanent, PlatformError, Transient
from upload_scheduler.platforms.interface import Account
from upload_scheduler.queue import delete_ops, worker_ops
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.worker import account_state

# One pause rule for uploads and deletes: the uploader's.
from upload_scheduler.worker.job_runner import JobRunner
from upload_scheduler.worker.uploader import Outcome, _pause_for

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
    ) -> Outcome:
        target = Account(account.platform, account.account_id, account)
        item_id = item.platform_item_id or ""
        calls = 0
        checked = previous_call is None  # until a check answers, the delete may have happened
        note = ""
        try:
            if not item_id:
                raise Permanent(f"{item.asin}: the listing has no platform item id to delete")
            gone = False
            if previous_call is not None:
                calls += 1
                gone = not self.platform.exists(item_id, target)
                checked = True
                if gone:
                    note = "already gone when checked after an unanswered delete"
            if not gone:
                if pace is not None:
                    pace()
                result = self.platform.delete(item_id, target)
                calls += result.calls
                if result.already_gone:
                    note = "already gone on the platform"
        except PlatformError as exc:
            return self._failure(item, account, limits, exc, max(calls, 1), reserved_calls, checked)
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            delete_ops.mark_deleted(conn, item, self.owner, note, now)
            self.settle_calls(conn, account, limits, now, calls, reserved_calls)
        log.info(
            "delete success: ASIN %s item %s%s (attempt %d, %d call(s))",
            item.asin,
            item_id,
            f", {note}" if note else "",
            item.attempts,
            calls,
        )
        return Outcome("success", item_id, calls)

    def _failure(
        self,
        item: QueueItem,
        account: AccountSettings,
        limits: LimitSettings,
        exc: PlatformError,
        calls: int,
        reserved: int,
        checked: bool,
    ) -> Outcome:
        now = self.clock.now()
        # A transient error may come after the platform acted (a lost answer): keep the
        # call marker so the next attempt checks the item before deleting again.
        nothing_done = checked and not isinstance(exc, Transient)
        pause = _pause_for(exc)
        with write_transaction(self.engine) as conn:
            self.settle_calls(conn, account, limits, now, calls, reserved)
            if pause is not None:
                until, reason, detail = pause
                account_state.set_pause(
                    conn, account.platform, account.account_id, until, reason, now
                )
                worker_ops.release(
                    conn,
                    item,
                    self.owner,
                    now,
                    retry_at=item.scheduled_time,
                    refund_attempt=True,
                    nothing_created=nothing_done,
                )
                status = "paused"
            elif isinstance(exc, Permanent) or item.attempts >= account.max_attempts:
                detail = exc.message
                if not isinstance(exc, Permanent):
                    detail = f"{exc.message} (after {item.attempts} attempts)"
                delete_ops.mark_delete_failed(
                    conn, item, self.owner, detail, now, keep_call_marker=not nothing_done
                )
                status = "failed"
            else:
                detail = exc.message
                worker_ops.release(
                    conn,
                    item,
                    self.owner,
                    now,
                    retry_at=now + timedelta(seconds=account.retry_delay_seconds),
                    error=exc.message,
                    nothing_created=nothing_done,
                )
                status = "retry"
        log_fn = log.error if status == "failed" else log.warning
        log_fn(
            "delete %s: ASIN %s item %s: %s (attempt %d, %d call(s))",
            {"failed": "failed", "paused": "paused", "retry": "error, will retry"}[status],
            item.asin,
            item.platform_item_id,
            detail,
            item.attempts,
            calls,
        )
        self.notify_outcome(account, status, f"delete {item.asin}", detail)
        return Outcome(status, detail, calls)
