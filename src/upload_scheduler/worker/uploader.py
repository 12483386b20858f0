"""Upload one claimed item and record what happened, by the error model of DESIGN.md.

The item is already `uploading` under our lease and its calls are reserved. This module
talks to the platform and notes what it learns; what a failure means is `outcome.decide`'s
to say and `JobRunner.finish`'s to write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from upload_scheduler.limits import LimitSettings
from upload_scheduler.platforms.errors import PartialUpload, PlatformError, Transient
from upload_scheduler.platforms.interface import Account, Product
from upload_scheduler.queue import transitions
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.queue.transitions import Success
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.worker.job_runner import JobRunner
from upload_scheduler.worker.outcome import Attempt, Decision, NoAttemptLeft

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings

log = logging.getLogger("upload_scheduler.worker")


@dataclass(frozen=True)
class Uploaded(Success):
    """An item the platform accepted, whose success the daemon writes with the rest of
    its burst (`Uploader.record_uploads`); until then the row stays `uploading` with its
    call marker, so a crash in between leads to a lookup, never a second creation."""

    created: bool
    calls: int
    reserved_calls: int


def needs_lookup(item: QueueItem, product: Product, previous_call: datetime | None) -> bool:
    """Whether an earlier attempt (its call marker) may have acted unseen: the item may
    have been created, or images added, so the platform is asked before anything is
    sent again."""
    unfinished = item.platform_item_id is None or item.images_done < len(product.images)
    return previous_call is not None and unfinished


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
        *,
        lookup_only: bool = False,
    ) -> Uploaded | Decision:
        """`previous_call` is the row's call marker from before this claim: when set,
        an earlier attempt may have created the item, so it is looked up first.
        `lookup_only`: the attempts are spent, only the lookup is left to do.

        A failure is written before this returns; a success is returned unwritten."""
        target = Account(account.platform, account.account_id, account)
        item_id = item.platform_item_id
        images_done = item.images_done
        total = len(product.images)
        calls = 0
        created_here = False
        offer_id: str | None = None
        calls_before_upload: int | None = None
        # Until the lookup has answered, what the earlier call did is unknown: the call
        # marker must stay.
        settled = not needs_lookup(item, product, previous_call)
        acted = False

        def learnt() -> Attempt:
            """What this attempt knows so far, for `decide`."""
            return self.attempt(
                item,
                account,
                previous_call,
                settled=settled,
                acted=acted,
                lookup_only=lookup_only,
                platform_item_id=item_id,
                images_done=images_done,
            )

        try:
            if not settled:
                assert previous_call is not None
                calls += 1  # at least one page; a found item says how many it took
                found = self.platform.find_existing(
                    item.asin, target, since=previous_call - timedelta(minutes=5)
                )
                settled = True
                if found is not None:
                    calls += found.calls - 1
                    log.info(
                        "recovered %s: already on %s as %s (%d image(s))",
                        item.asin,
                        account.platform,
                        found.platform_item_id,
                        found.images,
                    )
                    if item_id is None:
                        item_id, created_here = found.platform_item_id, True
                        offer_id = found.offer_id
                    if found.platform_item_id == item_id:
                        images_done = found.images
                if lookup_only and item_id is None:
                    raise NoAttemptLeft(
                        f"{item.error_message or 'the last attempt was not answered'}; "
                        f"not on {account.platform} when looked up "
                        f"(after {item.attempts} attempts)"
                    )
                if lookup_only and images_done < total:
                    raise NoAttemptLeft(
                        f"{total - images_done} of {total} images missing when looked up "
                        f"(after {item.attempts} attempts)"
                    )
            if item_id is None or images_done < total:
                acted = True
                # From here a failure's calls are the upload's: those it says it made.
                calls_before_upload = calls
                result = self.platform.upload(
                    product, target, platform_item_id=item_id, images_done=images_done, pace=pace
                )
                calls += result.calls
                created_here = created_here or item_id is None
                item_id = result.platform_item_id
                offer_id = result.offer_id or offer_id
                images_done = total
        except PartialUpload as exc:
            calls += exc.calls
            created = item.platform_item_id is None
            return self.finish(
                item,
                account,
                limits,
                exc,
                learnt(),
                calls=calls,
                reserved=reserved_calls,
                created=created,
            )
        except PlatformError as exc:
            # The adapter's own count when it gives one (none for a blocked item, which
            # sent nothing); else the failing call, at least.
            known = calls_before_upload is not None and exc.calls is not None
            made = (calls_before_upload or 0) + (exc.calls or 0) if known else max(calls, 1)
            return self.finish(
                item,
                account,
                limits,
                exc,
                learnt(),
                calls=made,
                reserved=reserved_calls,
                created=created_here,
            )
        except Exception as exc:  # an adapter bug must not lose the item
            log.exception("unexpected error uploading %s", item.asin)
            error = Transient(f"unexpected error: {type(exc).__name__}: {exc}", maybe_created=True)
            return self.finish(
                item,
                account,
                limits,
                error,
                learnt(),
                calls=max(calls, 1),
                reserved=reserved_calls,
                created=created_here,
            )
        return Uploaded(
            item, item_id, images_done, created_here, calls, reserved_calls, offer_id=offer_id
        )

    def record_uploads(
        self, uploads: list[Uploaded], account: AccountSettings, limits: LimitSettings
    ) -> None:
        """Write a burst's successes in one transaction: queue rows, listings, the day's
        creations, and the calls made beyond (or short of) those reserved."""
        if not uploads:
            return
        self.throttled.pop(account.account_id, None)
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            transitions.mark_successes(conn, self.owner, uploads, now)
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
