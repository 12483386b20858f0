"""Upload one claimed item and record what happened, by the error model of DESIGN.md.

The item is already `uploading` under our lease and its calls are reserved. Whatever
the platform answers, the row leaves this module in a definite state: success, failed
with the platform's text, or pending again (a retry, or a pause that spends no attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from upload_scheduler.limits import LimitSettings
from upload_scheduler.platforms.errors import (
    AuthExpired,
    PartialUpload,
    Permanent,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from upload_scheduler.platforms.interface import Account, Product
from upload_scheduler.queue import hot_path, worker_ops
from upload_scheduler.queue.hot_path import Success
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.worker import account_state
from upload_scheduler.worker.job_runner import JobRunner

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings

log = logging.getLogger("upload_scheduler.worker")


@dataclass(frozen=True)
class _Known:
    """What an attempt learnt before it failed: the item's id on the platform (from
    the row or from the lookup), its images, and whether the lookup answered."""

    platform_item_id: str | None
    images_done: int
    looked_up: bool


@dataclass(frozen=True)
class Outcome:
    status: str  # success | failed | retry | paused
    detail: str
    calls: int


@dataclass(frozen=True)
class Uploaded(Success):
    """An item the platform accepted, whose success the daemon writes with the rest of
    its burst (`Uploader.record_uploads`); until then the row stays `uploading` with its
    call marker, so a crash in between leads to a lookup, never a second creation."""

    created: bool
    calls: int
    reserved_calls: int


class Uploader(JobRunner):
    """Runs one item through the platform for one daemon."""

    def upload(
        self,
        item: QueueItem,
        product: Product,
        account: AccountSettings,
        limits: LimitSettings,
        previous_call: datetime | None,
        reserved_calls: int,
        pace: Callable[[], None] | None = None,
    ) -> Uploaded | Outcome:
        """`previous_call` is the row's call marker from before this claim: when set,
        an earlier attempt may have created the item, so it is looked up first.

        A failure is written before this returns; a success is returned unwritten."""
        target = Account(account.platform, account.account_id, account)
        item_id = item.platform_item_id
        images_done = item.images_done
        calls = 0
        created_here = False
        # Until the lookup has answered, the item may exist: the call marker must stay.
        looked_up = previous_call is None or item_id is not None
        try:
            if previous_call is not None and item_id is None:
                calls += 1  # at least one page; a found item says how many it took
                found = self.platform.find_existing(
                    item.asin, target, since=previous_call - timedelta(minutes=5)
                )
                looked_up = True
                if found is not None:
                    calls += found.calls - 1
                    log.info(
                        "recovered %s: already on %s as %s (%d image(s))",
                        item.asin,
                        account.platform,
                        found.platform_item_id,
                        found.images,
                    )
                    item_id, images_done, created_here = found.platform_item_id, found.images, True
            if item_id is None or images_done < len(product.images):
                result = self.platform.upload(
                    product, target, platform_item_id=item_id, images_done=images_done, pace=pace
                )
                calls += result.calls
                created_here = created_here or item_id is None
                item_id = result.platform_item_id
                images_done = len(product.images)
        except PartialUpload as exc:
            calls += exc.calls
            return self._partial(item, account, limits, exc, calls, reserved_calls)
        except PlatformError as exc:
            known = _Known(item_id, images_done, looked_up)
            return self._failure(item, account, limits, exc, calls, reserved_calls, known)
        except Exception as exc:  # an adapter bug must not lose the item
            log.exception("unexpected error uploading %s", item.asin)
            error = Transient(f"unexpected error: {type(exc).__name__}: {exc}", maybe_created=True)
            known = _Known(item_id, images_done, looked_up)
            return self._failure(item, account, limits, error, calls, reserved_calls, known)
        return Uploaded(item, item_id, images_done, created_here, calls, reserved_calls)

    def record_uploads(
        self, uploads: list[Uploaded], account: AccountSettings, limits: LimitSettings
    ) -> None:
        """Write a burst's successes in one transaction: queue rows, listings, the day's
        creations, and the calls made beyond (or short of) those reserved."""
        if not uploads:
            return
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            hot_path.mark_successes(conn, self.owner, uploads, now)
            # Created on the platform whether or not our lease still held: count them.
            created = sum(1 for u in uploads if u.created)
            if created:
                self.count_creation(conn, account, limits, now, created)
            self.settle_calls(
                conn,
                account,
                limits,
                now,
                sum(u.calls for u in uploads),
                sum(u.reserved_calls for u in uploads),
            )
        for u in uploads:
            log.info(
                "upload success: ASIN %s -> %s (attempt %d, %d call(s))",
                u.item.asin,
                u.platform_item_id,
                u.item.attempts,
                u.calls,
            )

    # ------------------------------------------------------------------ outcomes

    def _partial(
        self,
        item: QueueItem,
        account: AccountSettings,
        limits: LimitSettings,
        exc: PartialUpload,
        calls: int,
        reserved: int,
    ) -> Outcome:
        now = self.clock.now()
        missing = exc.images_total - exc.images_done
        message = f"{missing} of {exc.images_total} images missing: {exc.cause.message}"
        with write_transaction(self.engine) as conn:
            self.settle_calls(conn, account, limits, now, calls, reserved)
            if item.platform_item_id is None:
                self.count_creation(conn, account, limits, now)
            if isinstance(exc.cause, RateLimited | QuotaExhausted | AuthExpired):
                # The platform said when to come back: pause, spend no attempt.
                known = _Known(exc.platform_item_id, exc.images_done, True)
                status, detail = self._record_failure(conn, item, account, exc.cause, now, known)
                log.warning(
                    "upload paused: ASIN %s item %s, %s; %s (attempt %d, %d call(s))",
                    item.asin,
                    exc.platform_item_id,
                    message,
                    detail,
                    item.attempts,
                    calls,
                )
                self.notify_outcome(account, "paused", item.asin, detail)
                return Outcome(status, detail, calls)
            if item.attempts >= account.max_attempts or isinstance(exc.cause, Permanent):
                worker_ops.mark_failed(
                    conn,
                    item,
                    self.owner,
                    message,
                    now,
                    platform_item_id=exc.platform_item_id,
                    images_done=exc.images_done,
                    nothing_created=False,
                )
                status = "failed"
            else:
                worker_ops.release(
                    conn,
                    item,
                    self.owner,
                    now,
                    retry_at=now + timedelta(seconds=account.retry_delay_seconds),
                    error=message,
                    platform_item_id=exc.platform_item_id,
                    images_done=exc.images_done,
                    nothing_created=True,
                )
                status = "retry"
        log_fn = log.error if status == "failed" else log.warning
        log_fn(
            "upload %s: ASIN %s item %s, %s (attempt %d, %d call(s))",
            "failed" if status == "failed" else "partial, will retry images",
            item.asin,
            exc.platform_item_id,
            message,
            item.attempts,
            calls,
        )
        self.notify_outcome(account, status, item.asin, message)
        return Outcome(status, message, calls)

    def _failure(
        self,
        item: QueueItem,
        account: AccountSettings,
        limits: LimitSettings,
        exc: PlatformError,
        calls: int,
        reserved: int,
        known: _Known,
    ) -> Outcome:
        now = self.clock.now()
        # A failed first call is one call spent; what was reserved beyond it is given back.
        spent = max(calls, 1)
        with write_transaction(self.engine) as conn:
            self.settle_calls(conn, account, limits, now, spent, reserved)
            if known.platform_item_id is not None and item.platform_item_id is None:
                # The lookup found the item this attempt: it was created, count it.
                self.count_creation(conn, account, limits, now)
            status, detail = self._record_failure(conn, item, account, exc, now, known)
        log_fn = {"failed": log.error, "paused": log.warning}.get(status, log.warning)
        log_fn(
            "upload %s: ASIN %s: %s (attempt %d, %d call(s))",
            {"failed": "failed", "paused": "paused", "retry": "error, will retry"}[status],
            item.asin,
            detail,
            item.attempts,
            spent,
        )
        self.notify_outcome(account, status, item.asin, detail)
        return Outcome(status, detail, spent)

    def _record_failure(
        self,
        conn: Connection,
        item: QueueItem,
        account: AccountSettings,
        exc: PlatformError,
        now: datetime,
        known: _Known,
    ) -> tuple[str, str]:
        platform, account_id = account.platform, account.account_id
        maybe_created = isinstance(exc, Transient) and exc.maybe_created
        # What the row must keep: the id of an item that exists, or else the call marker
        # while it is not known that nothing was created.
        keep: dict[str, Any] = {
            "platform_item_id": known.platform_item_id,
            "images_done": known.images_done if known.platform_item_id else None,
            "nothing_created": known.looked_up and not maybe_created,
        }
        pause = _pause_for(exc)
        if pause is not None:
            until, reason, detail = pause
            # The platform said when to come back: pause the account, spend no attempt,
            # and keep the item's place in the due order.
            account_state.set_pause(conn, platform, account_id, until, reason, now)
            worker_ops.release(
                conn,
                item,
                self.owner,
                now,
                retry_at=item.scheduled_time,
                refund_attempt=True,
                **keep,
            )
            return "paused", detail
        if isinstance(exc, Permanent):
            worker_ops.mark_failed(conn, item, self.owner, exc.message, now, **keep)
            return "failed", exc.message
        if item.attempts >= account.max_attempts:
            worker_ops.mark_failed(conn, item, self.owner, exc.message, now, **keep)
            return "failed", f"{exc.message} (after {item.attempts} attempts)"
        worker_ops.release(
            conn,
            item,
            self.owner,
            now,
            retry_at=now + timedelta(seconds=account.retry_delay_seconds),
            error=exc.message,
            **keep,
        )
        return "retry", exc.message


def _pause_for(exc: PlatformError) -> tuple[datetime | None, str, str] | None:
    """(until, reason, detail) when `exc` pauses the account; None otherwise."""
    if isinstance(exc, RateLimited | QuotaExhausted):
        kind = "rate limit" if isinstance(exc, RateLimited) else "quota"
        reason = f"{kind}: {exc.message}"
        return exc.until, reason, f"{reason} (until {exc.until.isoformat()})"
    if isinstance(exc, AuthExpired):
        reason = f"auth: {exc.message}"
        return None, reason, f"{reason}; run `upload-scheduler token login` for this account"
    return None
