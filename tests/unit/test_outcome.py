"""`worker.outcome.decide`: DESIGN.md's error table ("Errors from a platform") row for row,
and issue 14's two rules that keep the truth when an answer is missing (an ambiguous
outcome is never final; only an answer spends an attempt), for uploads and deletes alike.

Pure: no database, no clock. Every `now` is passed in, and the `Attempt`s are built the
way `Uploader.upload` and `Deleter.process` build them (`settled` turns true only when a
lookup answers, `acted` only when the acting call is sent). The expectations are written
from the table and the issue, not read back from `decide`'s own helpers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from upload_scheduler.worker.outcome import (
    LOOKUP_BACKOFF_MAX_SECONDS,
    Attempt,
    Decision,
    Marker,
    NoAttemptLeft,
    Verdict,
    decide,
)

NOW = datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
SCHEDULED = datetime(2026, 1, 6, 1, 30, tzinfo=UTC)  # the item's place in the due order
UNTIL = datetime(2026, 1, 6, 4, 0, tzinfo=UTC)
DELAY = 5.0  # the seed's retry_delay_seconds
MAX = 3  # the seed's max_attempts
ITEM_ID = "123456789"
KINDS = [JobKind.UPLOAD, JobKind.DELETE]
PENDING_VERDICTS = {Verdict.RETRY, Verdict.LOOKUP, Verdict.PAUSED}


def fresh(kind: JobKind, attempts: int = 1, **changes: Any) -> Attempt:
    """An attempt with no call marker from before (nothing to look up) that sent its acting
    call: an upload of a new item, or a delete of a listed one (which always has its id)."""
    base = Attempt(
        kind=kind,
        attempts=attempts,
        max_attempts=MAX,
        retry_delay_seconds=DELAY,
        scheduled_time=SCHEDULED,
        previous_call=None,
        settled=True,
        acted=True,
        platform_item_id=ITEM_ID if kind == JobKind.DELETE else None,
    )
    return replace(base, **changes)


def failed_lookup(kind: JobKind, attempts: int = 1, since: float = 30.0, **changes: Any) -> Attempt:
    """The claim found a call marker `since` seconds old and the lookup that should settle
    it did not answer: nothing was sent this time."""
    return fresh(
        kind,
        attempts,
        previous_call=NOW - timedelta(seconds=since),
        settled=False,
        acted=False,
        **changes,
    )


def lost_answer() -> Transient:
    return Transient("connection reset after the request was sent", maybe_created=True)


def pending_at(decision: Decision, seconds: float) -> None:
    assert decision.status == QueueStatus.PENDING
    assert decision.retry_at == NOW + timedelta(seconds=seconds)


# ---------------------------------------------------------------------------
# Transient: retry after retry_delay_seconds, up to max_attempts


def test_transient_with_attempts_left_retries_after_the_delay_spending_the_attempt() -> None:
    error = Transient("BASE answered 503")
    decision = decide(error, fresh(JobKind.UPLOAD, attempts=1), NOW)
    assert decision.verdict == Verdict.RETRY
    pending_at(decision, DELAY)
    assert decision.refund_attempt is False
    assert decision.marker == Marker.CLEAR  # no creation can have happened: nothing to look up
    assert decision.pause is None
    assert decision.row_message == "BASE answered 503"


def test_transient_retry_uses_the_accounts_own_delay() -> None:
    attempt = fresh(JobKind.UPLOAD, attempts=2, retry_delay_seconds=42.5)
    decision = decide(Transient("timeout"), attempt, NOW)
    assert decision.verdict == Verdict.RETRY
    pending_at(decision, 42.5)


def test_transient_at_the_last_attempt_fails_naming_the_attempts_but_stores_the_platform_text() -> (
    None
):
    decision = decide(Transient("BASE answered 500"), fresh(JobKind.UPLOAD, attempts=MAX), NOW)
    assert decision.verdict == Verdict.FAILED
    assert decision.status == QueueStatus.FAILED
    assert decision.message == f"BASE answered 500 (after {MAX} attempts)"
    assert decision.row_message == "BASE answered 500"
    assert decision.retry_at is None
    assert decision.refund_attempt is False
    assert decision.marker == Marker.CLEAR
    assert decision.platform_item_id is None


def test_transient_beyond_max_attempts_still_fails() -> None:
    # max_attempts lowered in the config below what an item has already spent.
    decision = decide(Transient("timeout"), fresh(JobKind.UPLOAD, attempts=MAX + 2), NOW)
    assert decision.verdict == Verdict.FAILED
    assert decision.message == f"timeout (after {MAX + 2} attempts)"


def test_transient_on_an_image_only_retry_keeps_the_item() -> None:
    # The item exists (its id is on the row), but a lost answer to an image call may
    # have added the image: the next attempt looks the item's images up first.
    attempt = fresh(JobKind.UPLOAD, attempts=1, platform_item_id=ITEM_ID, images_done=2)
    decision = decide(lost_answer(), attempt, NOW)
    assert decision.verdict == Verdict.RETRY
    assert decision.marker == Marker.KEEP
    assert decision.platform_item_id == ITEM_ID
    assert decision.images_done == 2


def test_an_image_answer_lost_at_the_last_attempt_is_looked_up_not_failed() -> None:
    # The fault-mix run: BASE held every image while the queue said "1 of 2 missing".
    attempt = fresh(JobKind.UPLOAD, attempts=MAX)
    decision = decide(partial(lost_answer(), images_done=1), attempt, NOW)
    assert decision.verdict == Verdict.LOOKUP
    assert decision.status == QueueStatus.PENDING
    assert decision.marker == Marker.KEEP
    assert decision.platform_item_id == ITEM_ID


# ---------------------------------------------------------------------------
# Pauses: AuthExpired, RateLimited(until), QuotaExhausted(until), Misconfigured


PAUSES: list[tuple[PlatformError, PauseKind, datetime | None]] = [
    (AuthExpired("BASE refused the access token"), PauseKind.AUTH, None),
    (RateLimited("BASE answered hour_api_limit", UNTIL), PauseKind.RATE_LIMIT, UNTIL),
    (QuotaExhausted("daily creation limit reached", UNTIL), PauseKind.QUOTA, UNTIL),
    (
        Misconfigured("check api_base_url (answered 404 for /1/items/add)"),
        PauseKind.CONFIG,
        None,
    ),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("error", "pause_kind", "until"), PAUSES)
@pytest.mark.parametrize("attempts", [1, MAX])
def test_pause_keeps_the_items_place_and_spends_no_attempt(
    kind: JobKind,
    error: PlatformError,
    pause_kind: PauseKind,
    until: datetime | None,
    attempts: int,
) -> None:
    attempt = fresh(kind, attempts=attempts)
    decision = decide(error, attempt, NOW)
    assert decision.verdict == Verdict.PAUSED
    assert decision.status == QueueStatus.PENDING  # even at the last attempt: not its fault
    assert decision.retry_at == SCHEDULED
    assert decision.refund_attempt is True
    assert decision.pause is not None
    assert decision.pause.kind == pause_kind
    assert decision.pause.until == until
    assert decision.pause.text.startswith(f"{pause_kind.value}: {error.message}")
    assert decision.message == decision.pause.text
    assert decision.platform_item_id == attempt.platform_item_id


def test_rate_limit_and_quota_reasons_name_their_end() -> None:
    for error in (RateLimited("hour_api_limit", UNTIL), QuotaExhausted("day quota", UNTIL)):
        decision = decide(error, fresh(JobKind.UPLOAD), NOW)
        assert decision.pause is not None
        assert decision.pause.reason == f"{error.message} (until {UNTIL.isoformat()})"


def test_auth_pause_tells_the_operator_to_log_in_once() -> None:
    plain = decide(AuthExpired("BASE refused the access token"), fresh(JobKind.UPLOAD), NOW)
    assert plain.pause is not None
    assert plain.pause.reason.count("token login") == 1
    assert "upload-scheduler token login" in plain.pause.reason

    already = AuthExpired("refresh failed; run `upload-scheduler token login` for base_account_1")
    decision = decide(already, fresh(JobKind.UPLOAD), NOW)
    assert decision.pause is not None
    assert decision.pause.reason == already.message
    assert decision.message.count("token login") == 1


def test_misconfigured_pauses_until_resumed_and_fails_nothing() -> None:
    error = Misconfigured("check api_base_url (answered 404 for /1/items/add)")
    decision = decide(error, fresh(JobKind.UPLOAD, attempts=MAX), NOW)
    assert decision.verdict == Verdict.PAUSED
    assert decision.pause is not None
    assert decision.pause.until is None
    assert decision.message == f"config: {error.message}"


@pytest.mark.parametrize(("error", "pause_kind", "until"), PAUSES)
def test_pause_after_a_lookup_only_claim_refunds_nothing(
    error: PlatformError, pause_kind: PauseKind, until: datetime | None
) -> None:
    # A lookup-only claim counted no attempt, so there is none to give back.
    attempt = failed_lookup(JobKind.UPLOAD, attempts=MAX, lookup_only=True)
    decision = decide(error, attempt, NOW)
    assert decision.verdict == Verdict.PAUSED
    assert decision.refund_attempt is False
    assert decision.marker == Marker.RESTORE  # the earlier call is still to be looked up
    assert decision.retry_at == SCHEDULED


@pytest.mark.parametrize("kind", KINDS)
def test_pause_while_the_lookup_is_pending_restores_the_marker(kind: JobKind) -> None:
    decision = decide(RateLimited("hour_api_limit", UNTIL), failed_lookup(kind), NOW)
    assert decision.verdict == Verdict.PAUSED
    assert decision.marker == Marker.RESTORE
    assert decision.refund_attempt is True


# ---------------------------------------------------------------------------
# Permanent: fail at once, never retried


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attempts", [1, 2, MAX])
def test_permanent_fails_at_once_with_the_platform_text(kind: JobKind, attempts: int) -> None:
    error = Permanent("validation_error: title contains an NG word")
    attempt = fresh(kind, attempts=attempts)
    decision = decide(error, attempt, NOW)
    assert decision.verdict == Verdict.FAILED
    assert decision.status == QueueStatus.FAILED
    assert decision.message == error.message  # no "(after N attempts)": it was never retried
    assert decision.row_message == error.message
    assert decision.retry_at is None
    assert decision.refund_attempt is False
    assert decision.marker == Marker.CLEAR
    assert decision.pause is None
    assert decision.platform_item_id == attempt.platform_item_id


def test_permanent_rule_of_our_own_before_any_call_fails() -> None:
    decision = decide(Permanent("emoji in title"), fresh(JobKind.UPLOAD, acted=False), NOW)
    assert decision.verdict == Verdict.FAILED


# ---------------------------------------------------------------------------
# PartialUpload: the item exists; its id and images are kept in every verdict


def partial(cause: PlatformError, images_done: int = 1) -> PartialUpload:
    return PartialUpload(
        "images failed",
        platform_item_id=ITEM_ID,
        images_done=images_done,
        images_total=4,
        calls=3,
        cause=cause,
    )


def test_partial_with_a_transient_cause_retries_only_the_images() -> None:
    decision = decide(partial(Transient("BASE answered 502")), fresh(JobKind.UPLOAD), NOW)
    assert decision.verdict == Verdict.RETRY
    pending_at(decision, DELAY)
    assert decision.platform_item_id == ITEM_ID
    assert decision.images_done == 1
    assert decision.marker == Marker.CLEAR  # the creation is known: nothing to look up
    assert decision.message == "3 of 4 images missing: BASE answered 502"


def test_partial_with_a_lost_image_answer_keeps_the_marker() -> None:
    decision = decide(partial(lost_answer(), images_done=2), fresh(JobKind.UPLOAD), NOW)
    assert decision.verdict == Verdict.RETRY
    assert decision.marker == Marker.KEEP  # the image may have been added: look it up
    assert decision.images_done == 2


def test_partial_at_the_last_attempt_fails_keeping_the_item() -> None:
    decision = decide(partial(Transient("timeout")), fresh(JobKind.UPLOAD, attempts=MAX), NOW)
    assert decision.verdict == Verdict.FAILED
    assert decision.status == QueueStatus.FAILED
    assert decision.platform_item_id == ITEM_ID
    assert decision.images_done == 1
    assert decision.message == f"3 of 4 images missing: timeout (after {MAX} attempts)"
    assert decision.row_message == "3 of 4 images missing: timeout"


def test_partial_with_a_permanent_cause_fails_at_once_keeping_the_item() -> None:
    cause = Permanent("image too large")
    decision = decide(partial(cause, images_done=0), fresh(JobKind.UPLOAD, attempts=1), NOW)
    assert decision.verdict == Verdict.FAILED
    assert decision.platform_item_id == ITEM_ID
    assert decision.images_done == 0  # kept even when none was added
    assert decision.message == "4 of 4 images missing: image too large"


@pytest.mark.parametrize(("cause", "pause_kind", "until"), PAUSES)
def test_partial_with_a_pause_cause_pauses_keeping_the_item(
    cause: PlatformError, pause_kind: PauseKind, until: datetime | None
) -> None:
    decision = decide(partial(cause, images_done=3), fresh(JobKind.UPLOAD, attempts=MAX), NOW)
    assert decision.verdict == Verdict.PAUSED
    assert decision.status == QueueStatus.PENDING
    assert decision.pause is not None
    assert decision.pause.kind == pause_kind
    assert decision.pause.until == until
    assert decision.refund_attempt is True
    assert decision.retry_at == SCHEDULED
    assert decision.platform_item_id == ITEM_ID
    assert decision.images_done == 3
    assert decision.message.startswith("1 of 4 images missing: ")
    assert decision.message.endswith(decision.pause.text)


def test_partial_images_win_over_the_rows_older_count() -> None:
    attempt = fresh(JobKind.UPLOAD, platform_item_id=ITEM_ID, images_done=1)
    decision = decide(partial(Transient("timeout"), images_done=3), attempt, NOW)
    assert decision.images_done == 3


# ---------------------------------------------------------------------------
# Hole 1: an ambiguous outcome is never final


def test_lost_answer_with_attempts_left_retries_keeping_the_marker() -> None:
    decision = decide(lost_answer(), fresh(JobKind.UPLOAD, attempts=1), NOW)
    assert decision.verdict == Verdict.RETRY
    pending_at(decision, DELAY)
    assert decision.marker == Marker.KEEP  # the next attempt looks it up before creating
    assert decision.refund_attempt is False


def test_lost_answer_at_the_last_attempt_is_looked_up_not_failed() -> None:
    decision = decide(lost_answer(), fresh(JobKind.UPLOAD, attempts=MAX), NOW)
    assert decision.verdict == Verdict.LOOKUP
    pending_at(decision, DELAY)
    assert decision.marker == Marker.KEEP
    assert decision.refund_attempt is False  # the create was sent: the attempt is spent
    assert decision.platform_item_id is None
    assert decision.row_message == lost_answer().message
    assert "looked up" in decision.message


@pytest.mark.parametrize(
    "error", [Transient("BASE answered 500"), lost_answer()], ids=["5xx", "lost"]
)
def test_delete_transient_after_sending_is_in_doubt(error: Transient) -> None:
    early = decide(error, fresh(JobKind.DELETE, attempts=1), NOW)
    assert early.verdict == Verdict.RETRY
    assert early.marker == Marker.KEEP  # the next attempt checks whether it is gone
    assert early.platform_item_id == ITEM_ID

    last = decide(error, fresh(JobKind.DELETE, attempts=MAX), NOW)
    assert last.verdict == Verdict.LOOKUP
    assert last.status == QueueStatus.PENDING
    assert last.marker == Marker.KEEP
    assert last.refund_attempt is False
    assert last.platform_item_id == ITEM_ID
    pending_at(last, DELAY)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attempts", [1, MAX])
@pytest.mark.parametrize(
    "error",
    [Transient("BASE answered 500"), lost_answer(), Permanent("looking for asin: 400")],
    ids=["5xx", "lost", "permanent"],
)
def test_failed_lookup_is_looked_up_again_with_the_attempt_given_back(
    kind: JobKind, attempts: int, error: PlatformError
) -> None:
    decision = decide(error, failed_lookup(kind, attempts=attempts, since=1.0), NOW)
    assert decision.verdict == Verdict.LOOKUP
    assert decision.status == QueueStatus.PENDING
    assert decision.marker == Marker.RESTORE
    assert decision.refund_attempt is True
    pending_at(decision, DELAY)  # the doubt is younger than the delay: the delay itself


@pytest.mark.parametrize(
    ("since", "delay", "wait"),
    [
        (0.0, DELAY, DELAY),
        (3.0, DELAY, DELAY),
        (10.0, DELAY, 10.0),  # due again when the doubt has lasted twice as long
        (20.0, DELAY, 20.0),
        (45.0, DELAY, 45.0),
        (60.0, DELAY, LOOKUP_BACKOFF_MAX_SECONDS),
        (3600.0, DELAY, LOOKUP_BACKOFF_MAX_SECONDS),
        (3600.0, 90.0, 90.0),  # a delay above the cap is the cap
        (30.0, 90.0, 90.0),
        (-10.0, DELAY, DELAY),  # a marker from the future (clock step) waits the delay
    ],
)
def test_failed_lookup_backoff_doubles_up_to_a_minute(
    since: float, delay: float, wait: float
) -> None:
    attempt = failed_lookup(JobKind.UPLOAD, since=since, retry_delay_seconds=delay)
    decision = decide(Transient("BASE answered 500"), attempt, NOW)
    assert LOOKUP_BACKOFF_MAX_SECONDS == 60.0
    pending_at(decision, wait)


def test_repeated_failed_lookups_double_their_wait() -> None:
    marker = NOW
    now = NOW + timedelta(seconds=DELAY)
    waits = []
    for _ in range(8):
        attempt = replace(
            failed_lookup(JobKind.DELETE, attempts=MAX, lookup_only=True), previous_call=marker
        )
        decision = decide(Transient("BASE answered 500"), attempt, now)
        assert decision.marker == Marker.RESTORE  # the marker stays the doubtful call's time
        assert decision.retry_at is not None
        waits.append((decision.retry_at - now).total_seconds())
        now = decision.retry_at
    assert waits == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0, 60.0]


# ---------------------------------------------------------------------------
# Hole 2: lookup-only jobs (claimed after the last attempt, counting none)


@pytest.mark.parametrize("kind", KINDS)
def test_lookup_only_that_finds_nothing_done_fails(kind: JobKind) -> None:
    error = NoAttemptLeft(
        "connection reset; not on base when looked up (after 3 attempts)"
        if kind == JobKind.UPLOAD
        else "connection reset; still on base when checked (after 3 attempts)"
    )
    attempt = fresh(
        kind,
        attempts=MAX,
        lookup_only=True,
        previous_call=NOW - timedelta(seconds=30),
        acted=False,
    )
    decision = decide(error, attempt, NOW)
    assert decision.verdict == Verdict.FAILED
    assert decision.status == QueueStatus.FAILED
    assert decision.message == error.message  # its own "(after N attempts)", not doubled
    assert decision.message.count("attempts)") == 1
    assert decision.marker == Marker.CLEAR
    assert decision.refund_attempt is False


@pytest.mark.parametrize("kind", KINDS)
def test_lookup_only_whose_lookup_fails_looks_again_without_refund(kind: JobKind) -> None:
    attempt = failed_lookup(kind, attempts=MAX, since=12.0, lookup_only=True)
    decision = decide(Transient("looking for asin: BASE answered 500"), attempt, NOW)
    assert decision.verdict == Verdict.LOOKUP
    assert decision.status == QueueStatus.PENDING
    assert decision.refund_attempt is False  # the claim counted nothing to give back
    assert decision.marker == Marker.RESTORE
    pending_at(decision, 12.0)


def test_lookup_only_that_found_the_item_fails_on_its_images_keeping_it() -> None:
    # The lookup answered "found"; only its images failed and no attempt is left.
    attempt = fresh(
        JobKind.UPLOAD,
        attempts=MAX,
        lookup_only=True,
        previous_call=NOW - timedelta(seconds=30),
        platform_item_id=ITEM_ID,
        images_done=1,
    )
    decision = decide(partial(Transient("timeout")), attempt, NOW)
    assert decision.verdict == Verdict.FAILED
    assert decision.platform_item_id == ITEM_ID
    assert decision.images_done == 1


def test_lookup_only_never_retries() -> None:
    attempt = fresh(
        JobKind.UPLOAD,
        attempts=MAX,
        lookup_only=True,
        previous_call=NOW - timedelta(seconds=30),
        platform_item_id=ITEM_ID,
    )
    decision = decide(Transient("timeout"), attempt, NOW)
    assert decision.verdict == Verdict.FAILED


# ---------------------------------------------------------------------------
# Throttled (issue 16: eBay's 429 / 2001): refused for its rate, nothing done. No attempt
# is spent; again after Retry-After, else retry_delay_seconds doubling per refusal in a
# row up to a minute. (When our own count says the application's day budget is spent,
# JobRunner.finish turns it into a RateLimited pause before `decide` sees it.)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attempts", [1, MAX, MAX + 1])
def test_throttled_spends_no_attempt_even_at_the_last_one(kind: JobKind, attempts: int) -> None:
    error = Throttled("eBay answered 429 (errorId 2001): too many requests")
    decision = decide(error, fresh(kind, attempts=attempts), NOW)
    assert decision.verdict == Verdict.RETRY
    pending_at(decision, DELAY)
    assert decision.refund_attempt is True
    assert decision.pause is None
    assert decision.marker == Marker.CLEAR  # nothing was done: nothing to look up
    assert decision.row_message == error.message
    assert "no attempt spent" in decision.message
    assert decision.platform_item_id == fresh(kind).platform_item_id


@pytest.mark.parametrize("throttled", [0, 1, 3, 9])
@pytest.mark.parametrize("retry_after", [0.0, 2.5, 17.0, 3600.0])
def test_throttled_waits_the_platforms_retry_after_whatever_the_count(
    retry_after: float, throttled: int
) -> None:
    attempt = fresh(JobKind.UPLOAD, throttled=throttled)
    decision = decide(Throttled("429", retry_after=retry_after), attempt, NOW)
    assert decision.verdict == Verdict.RETRY
    pending_at(decision, retry_after)
    assert decision.refund_attempt is True


def test_a_negative_retry_after_is_now() -> None:
    decision = decide(Throttled("429", retry_after=-3.0), fresh(JobKind.UPLOAD), NOW)
    pending_at(decision, 0.0)


def test_throttled_without_retry_after_doubles_per_refusal_in_a_row_up_to_a_minute() -> None:
    waits = []
    for in_a_row in range(8):
        attempt = fresh(JobKind.UPLOAD, throttled=in_a_row)
        decision = decide(Throttled("429"), attempt, NOW)
        assert decision.retry_at is not None
        waits.append((decision.retry_at - NOW).total_seconds())
    assert waits == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0, 60.0]


@pytest.mark.parametrize(("delay", "wait"), [(90.0, 90.0), (0.5, 0.5 * 2**6), (0.0, 0.0)])
def test_throttled_backoff_from_the_accounts_own_delay(delay: float, wait: float) -> None:
    """A delay above the minute is the ceiling; a short one doubles from itself."""
    attempt = fresh(JobKind.UPLOAD, retry_delay_seconds=delay, throttled=6)
    pending_at(decide(Throttled("429"), attempt, NOW), wait)


def test_throttled_after_a_thousand_refusals_still_waits_a_minute() -> None:
    attempt = fresh(JobKind.UPLOAD, throttled=1000)
    pending_at(decide(Throttled("429"), attempt, NOW), LOOKUP_BACKOFF_MAX_SECONDS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attempts", [1, MAX])
def test_a_throttled_lookup_leaves_the_lookup_owed(kind: JobKind, attempts: int) -> None:
    """The lookup that should settle an earlier call was refused: whether the platform
    acted is still unknown, so the marker from before the claim stays and the job is
    looked up first next time, with its attempt given back."""
    decision = decide(Throttled("429"), failed_lookup(kind, attempts=attempts, since=2.0), NOW)
    assert decision.verdict == Verdict.LOOKUP
    assert decision.marker == Marker.RESTORE
    assert decision.refund_attempt is True
    assert decision.status == QueueStatus.PENDING
    pending_at(decision, DELAY)


@pytest.mark.parametrize(
    ("since", "retry_after", "throttled", "wait"),
    [
        (30.0, None, 0, 30.0),  # the lookup's own backoff: as long as the doubt has lasted
        (30.0, 2.0, 0, 30.0),
        (2.0, 45.0, 0, 45.0),  # but never before the platform's Retry-After
        (2.0, 3600.0, 0, 3600.0),
        (2.0, None, 3, 40.0),  # nor before the refusals in a row allow
    ],
)
def test_a_throttled_lookup_waits_for_the_later_of_its_backoff_and_the_throttle(
    since: float, retry_after: float | None, throttled: int, wait: float
) -> None:
    attempt = failed_lookup(JobKind.UPLOAD, since=since, throttled=throttled)
    decision = decide(Throttled("429", retry_after=retry_after), attempt, NOW)
    assert decision.verdict == Verdict.LOOKUP
    pending_at(decision, wait)


def test_a_throttled_lookup_of_a_lookup_only_job_refunds_nothing() -> None:
    attempt = failed_lookup(JobKind.UPLOAD, attempts=MAX, lookup_only=True)
    decision = decide(Throttled("429", retry_after=1.0), attempt, NOW)
    assert decision.verdict == Verdict.LOOKUP
    assert decision.marker == Marker.RESTORE
    assert decision.refund_attempt is False


def test_a_throttled_image_keeps_the_item_and_spends_no_attempt() -> None:
    error = PartialUpload(
        "1 of 3 images added: 429",
        platform_item_id="987654321",
        images_done=1,
        images_total=3,
        calls=2,
        cause=Throttled("429", retry_after=8.0),
    )
    decision = decide(error, fresh(JobKind.UPLOAD, attempts=MAX), NOW)
    assert decision.verdict == Verdict.RETRY
    pending_at(decision, 8.0)
    assert decision.refund_attempt is True
    assert (decision.platform_item_id, decision.images_done) == ("987654321", 1)
    assert decision.marker == Marker.CLEAR


def test_a_throttled_retry_of_a_known_item_keeps_it() -> None:
    attempt = fresh(JobKind.UPLOAD, platform_item_id=ITEM_ID, images_done=2)
    decision = decide(Throttled("429"), attempt, NOW)
    assert (decision.platform_item_id, decision.images_done) == (ITEM_ID, 2)


# ---------------------------------------------------------------------------
# Properties over the Attempts the uploader and the deleter can build


@dataclass(frozen=True)
class Case:
    error: PlatformError
    attempt: Attempt
    now: datetime


def _cause_errors() -> st.SearchStrategy[PlatformError]:
    text = st.sampled_from(["BASE answered 500", "timeout", "token login needed", "bad_params"])
    until = st.integers(0, 86_400).map(lambda s: NOW + timedelta(seconds=s))
    return st.one_of(
        st.builds(lambda m, c: Transient(m, maybe_created=c), text, st.booleans()),
        st.builds(AuthExpired, text),
        st.builds(RateLimited, text, until),
        st.builds(QuotaExhausted, text, until),
        st.builds(Permanent, text),
        st.builds(Misconfigured, text),
        st.builds(
            lambda m, after: Throttled(m, retry_after=after),
            text,
            st.none() | st.floats(0, 7200, allow_nan=False),
        ),
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(KINDS))
    max_attempts = draw(st.integers(1, 5))
    delay = draw(st.sampled_from([0.0, 1.0, 5.0, 30.0, 90.0]))
    marker_age = draw(st.none() | st.floats(0, 7200, allow_nan=False))
    previous_call = None if marker_age is None else NOW - timedelta(seconds=marker_age)
    # The row's id: a delete always has one; an upload has one on an image-only retry.
    row_id = ITEM_ID if kind == JobKind.DELETE else draw(st.sampled_from([None, ITEM_ID]))
    # The daemon claims a job lookup-only when its attempts are spent and its marker says
    # the platform may have acted.
    doubtful_row = previous_call is not None and (kind == JobKind.DELETE or row_id is None)
    lookup_only = doubtful_row and draw(st.booleans())
    if lookup_only:
        attempts = draw(st.integers(max_attempts, max_attempts + 2))
    else:
        attempts = draw(st.integers(1, max_attempts + 1))
    # Where the attempt ended: in the lookup, after a lookup said "not done", or in the act.
    settled = previous_call is None or (kind == JobKind.UPLOAD and row_id is not None)
    stage = draw(st.sampled_from(["lookup", "act"] if not settled else ["act"]))
    if lookup_only and stage == "act":
        # Only a found upload goes on (for its images); otherwise NoAttemptLeft.
        stage = draw(st.sampled_from(["no attempt left", "found, images"]))
        if kind == JobKind.DELETE:
            stage = "no attempt left"
    item_id = row_id
    error: PlatformError
    if stage == "lookup":
        settled, acted = False, False
        error = draw(_cause_errors())
    elif stage == "no attempt left":
        settled, acted = True, False
        error = NoAttemptLeft("not on the platform when looked up")
    else:
        settled, acted = True, True
        if stage == "found, images":
            item_id = ITEM_ID
        error = draw(_cause_errors())
        if kind == JobKind.UPLOAD and draw(st.booleans()):
            error = PartialUpload(
                "images failed",
                platform_item_id=item_id or "987654321",
                images_done=draw(st.integers(0, 3)),
                images_total=4,
                calls=2,
                cause=error,
            )
    attempt = Attempt(
        kind=kind,
        attempts=attempts,
        max_attempts=max_attempts,
        retry_delay_seconds=delay,
        scheduled_time=SCHEDULED,
        previous_call=previous_call,
        settled=settled,
        acted=acted,
        lookup_only=lookup_only,
        platform_item_id=item_id,
        images_done=draw(st.integers(0, 3)) if item_id else 0,
        throttled=draw(st.integers(0, 20)),
    )
    return Case(error, attempt, NOW + timedelta(seconds=draw(st.integers(0, 600))))


def _known_id(case: Case) -> str | None:
    if isinstance(case.error, PartialUpload):
        return case.error.platform_item_id
    return case.attempt.platform_item_id


def _in_doubt(case: Case) -> bool:
    """Issue 14: a lookup that did not answer, or an acting call (a creation, an image, a
    deletion) whose answer was lost (any transient error after a delete was sent)."""
    attempt, error = case.attempt, case.error
    cause = error.cause if isinstance(error, PartialUpload) else error
    if not attempt.settled:
        return True
    lost = isinstance(cause, Transient) and (cause.maybe_created or attempt.kind == JobKind.DELETE)
    return attempt.acted and lost


def _throttled(case: Case) -> bool:
    """Refused for its rate with nothing in doubt: no attempt spent, a retry after it."""
    error = case.error
    cause = error.cause if isinstance(error, PartialUpload) else error
    return isinstance(cause, Throttled) and not _in_doubt(case)


def _throttle_wait(case: Case) -> float:
    """Issue 16: Retry-After, else retry_delay_seconds doubling per refusal in a row, up
    to a minute (or the delay itself when it is longer)."""
    error = case.error
    cause = error.cause if isinstance(error, PartialUpload) else error
    assert isinstance(cause, Throttled)
    if cause.retry_after is not None:
        return max(0.0, cause.retry_after)
    delay = case.attempt.retry_delay_seconds
    return min(delay * 2 ** min(case.attempt.throttled, 30), max(60.0, delay))


PROPERTY_SETTINGS = settings(max_examples=400, deadline=None)


@PROPERTY_SETTINGS
@given(cases())
def test_property_an_outcome_in_doubt_is_never_final(case: Case) -> None:
    decision = decide(case.error, case.attempt, case.now)
    if _in_doubt(case):
        assert decision.verdict != Verdict.FAILED
        assert decision.status == QueueStatus.PENDING
        assert decision.marker != Marker.CLEAR  # the next claim must look it up
    else:
        assert decision.marker == Marker.CLEAR
    if not case.attempt.settled:
        assert decision.marker == Marker.RESTORE


@PROPERTY_SETTINGS
@given(cases())
def test_property_only_an_answer_spends_an_attempt(case: Case) -> None:
    attempt = case.attempt
    decision = decide(case.error, attempt, case.now)
    counted = not attempt.lookup_only
    throttled = _throttled(case)
    if attempt.lookup_only:
        assert decision.refund_attempt is False  # nothing was counted to give back
        if not throttled:
            assert decision.verdict != Verdict.RETRY  # and no attempt is left to spend
    if decision.verdict == Verdict.PAUSED or throttled:
        assert decision.refund_attempt is counted
    elif decision.verdict == Verdict.LOOKUP:
        assert decision.refund_attempt is (counted and not attempt.acted)
    else:
        assert decision.refund_attempt is False
    if decision.verdict == Verdict.RETRY and not throttled:
        assert attempt.attempts < attempt.max_attempts


@PROPERTY_SETTINGS
@given(cases())
def test_property_a_known_item_is_always_kept(case: Case) -> None:
    decision = decide(case.error, case.attempt, case.now)
    known = _known_id(case)
    assert decision.platform_item_id == known
    if isinstance(case.error, PartialUpload):
        assert decision.images_done == case.error.images_done
    elif known is not None:
        assert decision.images_done == case.attempt.images_done


@PROPERTY_SETTINGS
@given(cases())
def test_property_status_and_due_time_follow_the_verdict(case: Case) -> None:
    attempt = case.attempt
    decision = decide(case.error, attempt, case.now)
    assert decision.verdict != Verdict.SUCCESS
    pending = decision.verdict in PENDING_VERDICTS
    assert (decision.status == QueueStatus.PENDING) is pending
    if not pending:
        assert decision.status == QueueStatus.FAILED
        assert decision.retry_at is None
    assert (decision.pause is not None) is (decision.verdict == Verdict.PAUSED)
    if decision.verdict == Verdict.PAUSED:
        assert decision.retry_at == attempt.scheduled_time
    if _throttled(case):
        assert decision.verdict == Verdict.RETRY
        assert decision.retry_at is not None
        wait = (decision.retry_at - case.now).total_seconds()
        assert wait == pytest.approx(_throttle_wait(case), abs=1e-6)  # whole microseconds
    elif decision.verdict in (Verdict.RETRY, Verdict.LOOKUP):
        assert decision.retry_at is not None
        wait = (decision.retry_at - case.now).total_seconds()
        assert wait >= attempt.retry_delay_seconds - 1e-6
        ceiling = max(LOOKUP_BACKOFF_MAX_SECONDS, attempt.retry_delay_seconds)
        if isinstance(case.error, Throttled):  # a refused lookup: not before it is allowed
            assert wait >= _throttle_wait(case) - 1e-6
            ceiling = max(ceiling, _throttle_wait(case))
        assert wait <= ceiling + 1e-6
        if decision.verdict == Verdict.RETRY:
            assert wait == pytest.approx(attempt.retry_delay_seconds)
    assert decision.row_message  # the row always says why


@PROPERTY_SETTINGS
@given(cases())
def test_property_the_table_row_decides(case: Case) -> None:
    """Outside doubt, the cause's row of DESIGN.md's table alone says what happens."""
    decision = decide(case.error, case.attempt, case.now)
    cause = case.error.cause if isinstance(case.error, PartialUpload) else case.error
    if isinstance(cause, AuthExpired | RateLimited | QuotaExhausted | Misconfigured):
        assert decision.verdict == Verdict.PAUSED  # whatever the doubt: nothing fails
    elif _in_doubt(case):
        assert decision.verdict in (Verdict.RETRY, Verdict.LOOKUP)
    elif isinstance(cause, Permanent | NoAttemptLeft):
        assert decision.verdict == Verdict.FAILED
    elif isinstance(cause, Throttled):
        assert decision.verdict == Verdict.RETRY  # even after the last attempt
    else:
        assert isinstance(cause, Transient)
        left = not case.attempt.lookup_only and case.attempt.attempts < case.attempt.max_attempts
        assert decision.verdict == (Verdict.RETRY if left else Verdict.FAILED)
