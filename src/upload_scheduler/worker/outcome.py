"""What a failed job comes to: DESIGN.md's error table, row for row, as one pure function.

`decide` is the only place that knows the table, for uploads and deletes alike; the
writer (`JobRunner.finish`) applies its `Decision` in one transaction, then logs it once
and notifies once. Two rules keep the truth when the platform's answer is missing:

- An ambiguous outcome is never final. When the acting call (a creation, a deletion)
  may have been carried out but its answer was lost, or the lookup that should settle
  an earlier one failed, the job goes back to `pending` with its call marker, to be
  looked up first; only a lookup that answers decides.
- Only an answer spends an attempt. A failed lookup, a pause, a crash or a kill gives
  the attempt back; a lookup made after the last attempt (`lookup_only`) spends none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from upload_scheduler.platforms.errors import (
    AuthExpired,
    Misconfigured,
    PartialUpload,
    Permanent,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Throttled,
    Transient,
)
from upload_scheduler.store.states import JobKind, PauseKind, QueueStatus

# Lookups after a lost answer back off from retry_delay_seconds, doubling, up to this.
LOOKUP_BACKOFF_MAX_SECONDS = 60.0
LOGIN_HINT = "; run `upload-scheduler token login` for this account"


class Verdict(StrEnum):
    """What a job came to, as logged and notified."""

    SUCCESS = "success"
    FAILED = "failed"  # for good, with the platform's text
    RETRY = "retry"  # pending again after retry_delay_seconds; the attempt is spent
    LOOKUP = "lookup"  # pending; whether the platform acted is looked up first
    PAUSED = "paused"  # the account pauses; the item keeps its place, no attempt spent


class Marker(StrEnum):
    """What becomes of the row's call marker (`call_started_at`), which makes the next
    attempt look the item up before acting again."""

    KEEP = "keep"  # this attempt's: its acting call may have been carried out
    RESTORE = "restore"  # the one from before this claim: only the lookup failed
    CLEAR = "clear"  # nothing is in doubt


class NoAttemptLeft(PlatformError):
    """A lookup made after the last attempt answered that the platform never acted (the
    item is not there, or the item to delete still is), and no attempt is left."""


@dataclass(frozen=True)
class Pause:
    kind: PauseKind
    until: datetime | None  # None: until someone resumes the account
    reason: str  # stored, with its kind at the head

    @property
    def text(self) -> str:
        return self.kind.reason(self.reason)


@dataclass(frozen=True)
class Attempt:
    """What is known of a job when its attempt ended in `error`."""

    kind: JobKind
    attempts: int  # as counted, this attempt included (unless lookup_only)
    max_attempts: int
    retry_delay_seconds: float
    scheduled_time: datetime  # its place in the due order
    previous_call: datetime | None  # the call marker from before this claim
    settled: bool  # no earlier acting call is in doubt (there was none, or a lookup answered)
    acted: bool  # this attempt sent its acting call (create, delete)
    lookup_only: bool = False  # claimed after its last attempt, only to be looked up
    platform_item_id: str | None = None  # the item's id, if known to exist
    images_done: int = 0
    throttled: int = 0  # the account's refusals for rate in a row before this one


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    message: str  # logged and notified
    status: QueueStatus  # pending or failed
    retry_at: datetime | None = None  # when pending: due again at
    refund_attempt: bool = False  # give back the attempt counted at the claim
    marker: Marker = Marker.CLEAR
    pause: Pause | None = None
    platform_item_id: str | None = None  # kept on the row (and the listing)
    images_done: int | None = None
    error_message: str | None = None  # kept on the row, when not the message itself
    # The platform refused for rate: the account's next start waits until then too, so
    # its other items do not spend calls on the same refusal.
    hold_account_until: datetime | None = None

    @property
    def row_message(self) -> str:
        return self.error_message if self.error_message is not None else self.message


@dataclass(frozen=True)
class _Kept:
    item_id: str | None
    images: int | None


def decide(error: PlatformError, attempt: Attempt, now: datetime) -> Decision:
    """The error table of DESIGN.md. Pure: everything it needs is in its arguments."""
    partial = error if isinstance(error, PartialUpload) else None
    cause = partial.cause if partial is not None else error
    item_id = partial.platform_item_id if partial is not None else attempt.platform_item_id
    images = partial.images_done if partial is not None else attempt.images_done
    keep = _Kept(item_id, images if item_id else None)
    counted = not attempt.lookup_only
    in_doubt = _in_doubt(cause, attempt)
    marker = _marker(attempt, in_doubt)
    message = _message(error)

    pause = _pause_for(cause)
    if pause is not None:
        return Decision(
            Verdict.PAUSED,
            pause.text if partial is None else f"{message}; {pause.text}",
            QueueStatus.PENDING,
            retry_at=attempt.scheduled_time,
            refund_attempt=counted,
            marker=marker,
            pause=pause,
            platform_item_id=keep.item_id,
            images_done=keep.images,
        )
    if isinstance(cause, Throttled) and not in_doubt:
        # Refused for its rate, nothing done: again after the platform's Retry-After, or
        # retry_delay_seconds doubling with each refusal in a row; no attempt spent.
        delay = _throttle_delay(cause, attempt)
        return Decision(
            Verdict.RETRY,
            f"{message}; tried again in {delay:g} s, no attempt spent",
            QueueStatus.PENDING,
            error_message=message,
            retry_at=now + timedelta(seconds=delay),
            refund_attempt=counted,
            marker=marker,
            platform_item_id=keep.item_id,
            images_done=keep.images,
            hold_account_until=now + timedelta(seconds=delay),
        )
    attempts_left = counted and attempt.attempts < attempt.max_attempts
    if in_doubt and not (attempt.acted and attempts_left):
        # The last attempt's answer was lost, or the lookup failed: look it up, after
        # retry_delay_seconds doubling, spending no attempt. A lookup refused for its rate
        # is not asked again before the platform allows (Retry-After, or the refusals'
        # own backoff): sooner would only be refused again.
        delay = _lookup_delay(attempt, now)
        if isinstance(cause, Throttled):
            delay = max(delay, _throttle_delay(cause, attempt))
        return Decision(
            Verdict.LOOKUP,
            f"{message}; it will be looked up before anything else is tried",
            QueueStatus.PENDING,
            error_message=message,
            retry_at=now + timedelta(seconds=delay),
            refund_attempt=counted and not attempt.acted,
            marker=marker,
            platform_item_id=keep.item_id,
            images_done=keep.images,
        )
    if not in_doubt and (isinstance(cause, Permanent | NoAttemptLeft) or not attempts_left):
        final = isinstance(cause, Permanent | NoAttemptLeft)
        return Decision(
            Verdict.FAILED,
            message if final else f"{message} (after {attempt.attempts} attempts)",
            QueueStatus.FAILED,
            error_message=message,
            marker=marker,
            platform_item_id=keep.item_id,
            images_done=keep.images,
        )
    # Attempts are left (after a lost answer, the next attempt looks the item up first).
    return Decision(
        Verdict.RETRY,
        message,
        QueueStatus.PENDING,
        retry_at=now + timedelta(seconds=attempt.retry_delay_seconds),
        marker=marker,
        platform_item_id=keep.item_id,
        images_done=keep.images,
    )


def _in_doubt(cause: PlatformError, attempt: Attempt) -> bool:
    """Whether the platform may have acted without our knowing: an earlier call that no
    lookup has settled, or this attempt's acting call (a creation, an image, a deletion)
    with its answer lost."""
    if not attempt.settled:
        return True
    if not attempt.acted or not isinstance(cause, Transient):
        return False
    # A transient error after a deletion was sent may come after it was carried out.
    return cause.maybe_created or attempt.kind == JobKind.DELETE


def _marker(attempt: Attempt, in_doubt: bool) -> Marker:
    if not in_doubt:
        return Marker.CLEAR
    # Only the lookup failed: the earlier call is still the one to look for.
    return Marker.RESTORE if not attempt.settled else Marker.KEEP


def _lookup_delay(attempt: Attempt, now: datetime) -> float:
    """retry_delay_seconds at first, then as long as the doubt has lasted (the call
    marker is the doubtful call's time): the waits double, up to a minute."""
    since = attempt.previous_call if not attempt.settled else None
    elapsed = (now - since).total_seconds() if since is not None else 0.0
    ceiling = max(LOOKUP_BACKOFF_MAX_SECONDS, attempt.retry_delay_seconds)
    return min(max(attempt.retry_delay_seconds, elapsed), ceiling)


def _throttle_delay(error: Throttled, attempt: Attempt) -> float:
    if error.retry_after is not None:
        return max(0.0, error.retry_after)
    ceiling = max(LOOKUP_BACKOFF_MAX_SECONDS, attempt.retry_delay_seconds)
    return min(attempt.retry_delay_seconds * 2 ** min(attempt.throttled, 16), ceiling)


def _pause_for(error: PlatformError) -> Pause | None:
    if isinstance(error, RateLimited):
        return Pause(
            PauseKind.RATE_LIMIT, error.until, f"{error.message} (until {error.until.isoformat()})"
        )
    if isinstance(error, QuotaExhausted):
        return Pause(
            PauseKind.QUOTA, error.until, f"{error.message} (until {error.until.isoformat()})"
        )
    if isinstance(error, AuthExpired):
        hint = "" if "token login" in error.message else LOGIN_HINT
        return Pause(PauseKind.AUTH, None, f"{error.message}{hint}")
    if isinstance(error, Misconfigured):
        return Pause(PauseKind.CONFIG, None, error.message)
    return None


def _message(error: PlatformError) -> str:
    if isinstance(error, PartialUpload):
        missing = error.images_total - error.images_done
        return f"{missing} of {error.images_total} images missing: {error.cause.message}"
    return error.message
