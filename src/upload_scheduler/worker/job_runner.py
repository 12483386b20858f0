"""What the uploader and the deleter share: who they are, how a job's actual API calls
are squared with the calls reserved for it, and the one writer of a job's failure."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from upload_scheduler.clock import Clock
from upload_scheduler.limits import (
    APPLICATION_BUDGET_REASON,
    LimitSettings,
    application_reset,
    application_spent,
)
from upload_scheduler.platforms.errors import (
    ApplicationLimited,
    PlatformError,
    RateLimited,
    Throttled,
)
from upload_scheduler.platforms.interface import Platform
from upload_scheduler.queue import transitions
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store import account_state
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.states import JobKind, PauseKind
from upload_scheduler.store.usage import add_usage, application_calls
from upload_scheduler.worker.notifying import Notifier, NullNotifier
from upload_scheduler.worker.outcome import Attempt, Decision, Marker, Verdict, decide

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings

log = logging.getLogger("upload_scheduler.worker")

_LOG_LEVEL = {
    Verdict.SUCCESS: logging.INFO,
    Verdict.FAILED: logging.ERROR,
    Verdict.RETRY: logging.WARNING,
    Verdict.LOOKUP: logging.WARNING,
    Verdict.PAUSED: logging.WARNING,
}
_VERDICT_WORDS = {
    Verdict.SUCCESS: "success",
    Verdict.FAILED: "failed",
    Verdict.RETRY: "error, will retry",
    Verdict.LOOKUP: "outcome unknown, will look it up",
    Verdict.PAUSED: "paused",
}


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
        # The accounts (of this platform) on each application whose day budget they share:
        # a budget found spent pauses them all. Set by the daemon from the settings.
        self.application_accounts: dict[str, list[str]] = {}
        # Refusals for rate in a row, per account: the retry delay doubles with each.
        self.throttled: dict[str, int] = {}

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

    def attempt(
        self,
        item: QueueItem,
        account: AccountSettings,
        previous_call: datetime | None,
        *,
        settled: bool,
        acted: bool,
        lookup_only: bool,
        platform_item_id: str | None,
        images_done: int,
    ) -> Attempt:
        """What a job's attempt learnt, with the account's retry policy, for `decide`."""
        return Attempt(
            kind=JobKind(item.kind),
            attempts=item.attempts,
            max_attempts=account.max_attempts,
            retry_delay_seconds=account.retry_delay_seconds,
            scheduled_time=item.scheduled_time,
            previous_call=previous_call,
            settled=settled,
            acted=acted,
            lookup_only=lookup_only,
            platform_item_id=platform_item_id,
            images_done=images_done,
            throttled=self.throttled.get(account.account_id, 0),
        )

    def finish(
        self,
        item: QueueItem,
        account: AccountSettings,
        limits: LimitSettings,
        error: PlatformError,
        attempt: Attempt,
        *,
        calls: int,
        reserved: int,
        created: bool,
    ) -> Decision:
        """The one writer of a job that did not succeed: `decide` says what `error` means
        for it, and the decision, the calls it made and an item it created (found by a
        lookup, or with images missing) are written in one transaction; then it is logged
        once and notified once."""
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            error, sharing = self._application_spent(
                conn, error, account, limits, now, calls - reserved
            )
            decision = decide(error, attempt, now)
            marker: object = {
                Marker.KEEP: transitions.KEEP_MARKER,
                Marker.RESTORE: attempt.previous_call,
                Marker.CLEAR: None,
            }[decision.marker]
            others: list[str] = []
            if decision.pause is not None and sharing:
                # The application's day is spent: every account on it pauses until the
                # reset. The account rows go first, in one order, then the counter
                # (settle_calls): as a claim takes them (store.account_state).
                assert decision.pause.until is not None
                paused = account_state.pause_unless_stronger(
                    conn, account.platform, sharing, decision.pause.until, decision.pause.text, now
                )
                others = [a for a in paused if a != account.account_id]
            elif decision.pause is not None:
                account_state.set_pause(
                    conn,
                    account.platform,
                    account.account_id,
                    decision.pause.until,
                    decision.pause.text,
                    now,
                )
            self.settle_calls(conn, account, limits, now, calls, reserved)
            if created:
                self.count_creation(conn, account, limits, now)
            transitions.settle(
                conn,
                item,
                self.owner,
                now,
                status=decision.status,
                message=decision.row_message,
                retry_at=decision.retry_at,
                refund_attempt=decision.refund_attempt,
                call_marker=marker,
                platform_item_id=decision.platform_item_id,
                images_done=decision.images_done,
            )
        if isinstance(error, Throttled):
            self.throttled[account.account_id] = self.throttled.get(account.account_id, 0) + 1
        else:
            self.throttled.pop(account.account_id, None)
        self._log(item, decision, calls)
        self._notify(account, item, decision)
        if others and decision.pause is not None:
            log.warning("%s: %s", ",".join(others), decision.pause.text)
            self.notifier.notify(
                "account_paused", f"{account.platform}/{','.join(others)}", decision.pause.text
            )
        return decision

    def _application_spent(
        self,
        conn: Connection,
        error: PlatformError,
        account: AccountSettings,
        limits: LimitSettings,
        now: datetime,
        unsettled: int,
    ) -> tuple[PlatformError, list[str]]:
        """A refusal for rate when our own count says the application's day budget is
        spent: the day is over for every account on it, which all pause until the reset
        (returned: the accounts to pause, this one included). Otherwise `error` as it is.

        The count is the calls actually made: `unsettled` (made minus reserved, about to
        be settled) is added to what is stored, which still holds this job's whole
        reservation. Read without a lock: the account rows are locked first."""
        if isinstance(error, ApplicationLimited):
            # The platform's own word: the day is over whatever our count says.
            reset = application_reset(limits, now)
            text = f"{application_budget_text(limits)}; {error.message}"
            sharing = self.application_accounts.get(limits.application or "", [])
            return RateLimited(text, reset), sorted({*sharing, account.account_id})
        if not isinstance(error, Throttled) or limits.application is None:
            return error, []
        day = limits.application_day(now).isoformat()
        calls = application_calls(conn, account.platform, limits.application, day) + unsettled
        if not application_spent(limits, calls):
            return error, []
        reset = application_reset(limits, now)
        text = f"{application_budget_text(limits)}; refused by {account.platform}: {error.message}"
        sharing = self.application_accounts.get(limits.application, [])
        return RateLimited(text, reset), sorted({*sharing, account.account_id})

    @staticmethod
    def _log(item: QueueItem, decision: Decision, calls: int) -> None:
        item_id = f" item {decision.platform_item_id}" if decision.platform_item_id else ""
        log.log(
            _LOG_LEVEL[decision.verdict],
            "%s %s: ASIN %s%s: %s (attempt %d, %d call(s))",
            item.kind,
            _VERDICT_WORDS[decision.verdict],
            item.asin,
            item_id,
            decision.message,
            item.attempts,
            calls,
        )

    def _notify(self, account: AccountSettings, item: QueueItem, decision: Decision) -> None:
        """An item failed for good, or the account paused: tell the operator, naming the
        account, the item and the reason (messages hold no secret: see PlatformError)."""
        key = f"{account.platform}/{account.account_id}"
        subject = item.asin if item.kind == JobKind.UPLOAD else f"{item.kind} {item.asin}"
        if decision.verdict == Verdict.FAILED:
            self.notifier.notify("item_failed", key, f"{subject}: {decision.message}")
        elif decision.verdict == Verdict.PAUSED:
            self.notifier.notify("account_paused", key, f"{subject}: {decision.message}")

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


def application_budget_text(limits: LimitSettings) -> str:
    """Why every account on an application pauses, as `account list` shows it."""
    return (
        f"{APPLICATION_BUDGET_REASON} ({limits.day_call_limit} calls a day for "
        f"application {limits.application}, shared by its accounts)"
    )


def budget_pause_reason(limits: LimitSettings, until: datetime) -> str:
    """The stored pause reason of an application's spent day budget."""
    return PauseKind.RATE_LIMIT.reason(
        f"{application_budget_text(limits)} (until {until.isoformat()})"
    )
