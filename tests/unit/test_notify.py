"""The notifier's time logic (coalescing windows, room limit) under a FakeClock, and its
promise to callers: `notify()` never raises and never waits, whatever the sender does."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from upload_scheduler.clock import FakeClock
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.notify import (
    Batch,
    Coalescer,
    Notifier,
    NotifyEvent,
    NotifyKind,
    NotifySendError,
    RoomLimiter,
)
from upload_scheduler.notify.coalesce import describe_window

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
A = "base/base_account_1"
B = "base/base_account_2"
SECRET = "cw-token-0123456789abcdef"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(account: str, message: str, seconds: float = 0, kind: str = "item_failed") -> NotifyEvent:
    return NotifyEvent(kind, account, message, at(seconds))


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within the deadline")
        time.sleep(0.005)


def settle(notifier: Notifier) -> None:
    """Wait until the thread has taken everything queued and made two full passes after
    that, so whatever it would send at this clock time is sent."""
    wait_for(lambda: notifier.stats().queued == 0)
    start = notifier.stats().cycles
    wait_for(lambda: notifier.stats().cycles >= start + 2)


class RecordingSender:
    """Keeps what it is sent; `fail_with` makes every send raise."""

    name = "recording"

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.texts: list[str] = []
        self.fail_with = fail_with
        self.closed = False
        self._lock = threading.Lock()

    def send(self, text: str) -> None:
        with self._lock:
            self.texts.append(text)
        if self.fail_with is not None:
            raise self.fail_with

    def close(self) -> None:
        self.closed = True

    def count(self) -> int:
        with self._lock:
            return len(self.texts)


class BlockingSender(RecordingSender):
    """Blocks in `send` until released, like a server that does not answer."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def send(self, text: str) -> None:
        self.entered.set()
        self.release.wait(5)
        super().send(text)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def make_notifier(clock: FakeClock) -> Iterator[Callable[..., Notifier]]:
    made: list[Notifier] = []

    def make(*senders: object, **kwargs: object) -> Notifier:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("poll_seconds", 0.01)
        notifier = Notifier(senders, **kwargs)  # type: ignore[arg-type]
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        assert notifier.close(timeout=5)


# -- Coalescer: pure ---------------------------------------------------------------------


def test_first_event_goes_out_at_once_and_a_burst_waits_for_the_window() -> None:
    c = Coalescer(60)
    c.add(event(A, "first"))
    assert c.due(at(0)) == [A]
    first = c.take(A, at(0))
    assert [e.message for e in first.events] == ["first"]

    for i in range(3):
        c.add(event(A, f"burst {i}", seconds=10 + i))
    assert c.due(at(59.9)) == []
    assert c.next_due(at(12)) == at(60)
    assert c.due(at(60)) == [A]
    burst = c.take(A, at(60))
    assert len(burst.events) == 3
    text = burst.render(60)
    assert text.startswith("[upload-scheduler] 3 events for base/base_account_1 in the last minute")
    assert "3 item failed" in text
    assert c.pending_events == 0


def test_accounts_have_their_own_windows() -> None:
    c = Coalescer(60)
    c.add(event(A, "a1"))
    c.take(A, at(0))
    c.add(event(A, "a2", 5))
    c.add(event(B, "b1", 6))
    assert c.due(at(6)) == [B]  # A is inside its window, B never sent anything
    c.take(B, at(6))
    assert c.next_due(at(6)) == at(60)


def test_a_quiet_account_is_due_at_once_again() -> None:
    c = Coalescer(60)
    c.add(event(A, "a1"))
    c.take(A, at(0))
    c.add(event(A, "a2", 61))
    assert c.due(at(61)) == [A]


def test_many_events_quote_the_first_five_and_count_the_rest() -> None:
    events = tuple(event(A, f"item {i} failed", i) for i in range(8))
    text = Batch(A, events).render(60, max_quoted=5)
    assert text.splitlines()[0] == (
        "[upload-scheduler] 8 events for base/base_account_1 in the last minute (8 item failed):"
    )
    assert "- item failed: item 0 failed" in text
    assert "item 4 failed" in text
    assert "item 5 failed" not in text
    assert text.splitlines()[-1] == "+3 more"


def test_single_event_and_mixed_kinds_render() -> None:
    one = Batch(A, (event(A, "exit code 1", kind=NotifyKind.DAEMON_CRASHED),)).render()
    assert one == "[upload-scheduler] daemon crashed: base/base_account_1\nexit code 1"
    mixed = Batch(
        A,
        (
            event(A, "x", kind=NotifyKind.ITEM_FAILED),
            event(A, "hour_api_limit", kind=NotifyKind.ACCOUNT_PAUSED),
            event(A, "y", kind=NotifyKind.ITEM_FAILED),
            event(A, "custom", kind="my_own_kind"),
        ),
    ).render(5)
    assert "4 events for base/base_account_1 in the last 5 s" in mixed
    assert "(2 item failed, 1 account paused, 1 my own kind)" in mixed


def test_long_messages_are_clipped() -> None:
    text = Batch(A, (event(A, "x" * 5000),)).render()
    assert len(text) < 400
    assert text.endswith("…")


def test_describe_window() -> None:
    assert describe_window(60) == "minute"
    assert describe_window(300) == "5 minutes"
    assert describe_window(0.5) == "0.5 s"


# -- RoomLimiter: pure -------------------------------------------------------------------


def test_room_limit_allows_ten_posts_per_ten_seconds() -> None:
    limiter = RoomLimiter(10, 10)
    for i in range(10):
        assert limiter.allowance(at(i * 0.1)) > 0
        limiter.record(at(i * 0.1))
    assert limiter.allowance(at(1)) == 0
    assert limiter.next_free(at(1)) == at(10)
    assert limiter.allowance(at(9.99)) == 0
    assert limiter.allowance(at(10)) == 1


def test_a_429_hold_stops_posts_until_it_ends() -> None:
    limiter = RoomLimiter(10, 10)
    limiter.hold(at(30))
    assert limiter.allowance(at(29)) == 0
    assert limiter.next_free(at(0)) == at(30)
    assert limiter.allowance(at(30)) == 10


# -- Notifier on its thread, with a FakeClock --------------------------------------------


def test_a_burst_becomes_one_message_per_account_per_minute(
    clock: FakeClock, make_notifier: Callable[..., Notifier]
) -> None:
    sender = RecordingSender()
    notifier = make_notifier(sender, interval_seconds=60)
    assert notifier.notify(NotifyKind.ITEM_FAILED, A, "item 0: validation_error")
    wait_for(lambda: sender.count() == 1)
    assert sender.texts[0] == (
        "[upload-scheduler] item failed: base/base_account_1\nitem 0: validation_error"
    )
    for i in (1, 2, 3):
        assert notifier.notify(NotifyKind.ITEM_FAILED, A, f"item {i}: validation_error")
    settle(notifier)
    assert sender.count() == 1
    assert notifier.stats().held == 3

    clock.advance(59)
    # B's message proves the thread looked at A at +59 s and held it.
    notifier.notify(NotifyKind.ACCOUNT_PAUSED, B, "hour_api_limit")
    wait_for(lambda: sender.count() == 2)
    assert "base_account_2" in sender.texts[1]
    settle(notifier)
    assert sender.count() == 2
    assert notifier.stats().held == 3

    clock.advance(1)
    wait_for(lambda: sender.count() == 3)
    assert sender.texts[2].startswith(
        "[upload-scheduler] 3 events for base/base_account_1 in the last minute"
    )
    for i in (1, 2, 3):
        assert f"item {i}" in sender.texts[2]
    settle(notifier)
    stats = notifier.stats()
    assert (stats.accepted, stats.delivered, stats.failed, stats.held) == (5, 3, 0, 0)


def test_room_limit_delays_the_eleventh_account_and_loses_nothing(
    clock: FakeClock, make_notifier: Callable[..., Notifier]
) -> None:
    sender = RecordingSender()
    notifier = make_notifier(sender, room_max_posts=10, room_window_seconds=10)
    for i in range(12):
        notifier.notify(NotifyKind.DAEMON_CRASHED, f"base/account_{i}", "exit 1")
    settle(notifier)
    assert sender.count() == 10
    assert notifier.stats().held == 2

    clock.advance(9.9)
    settle(notifier)
    assert sender.count() == 10
    clock.advance(0.1)
    wait_for(lambda: sender.count() == 12)
    settle(notifier)
    assert notifier.stats().held == 0


def test_notify_never_raises_when_the_sender_raises(
    caplog: pytest.LogCaptureFixture, make_notifier: Callable[..., Notifier]
) -> None:
    caplog.set_level(logging.WARNING, logger="upload_scheduler.notify")
    sender = RecordingSender(fail_with=RuntimeError(f"boom with {SECRET} inside"))
    notifier = make_notifier(sender, interval_seconds=0, secrets=[SECRET])
    assert notifier.notify(NotifyKind.ITEM_FAILED, A, "one") is True
    wait_for(lambda: notifier.stats().failed == 1)
    assert notifier.notify(NotifyKind.ITEM_FAILED, A, "two") is True  # the thread survived
    wait_for(lambda: notifier.stats().failed == 2)

    assert "RuntimeError" in caplog.text
    assert SECRET not in caplog.text
    assert "***" in caplog.text


def test_a_429_from_the_service_holds_every_account(
    clock: FakeClock, make_notifier: Callable[..., Notifier]
) -> None:
    sender = RecordingSender(fail_with=NotifySendError("HTTP 429", retry_after=30))
    notifier = make_notifier(sender)
    notifier.notify(NotifyKind.ITEM_FAILED, A, "first")
    wait_for(lambda: notifier.stats().failed == 1)
    sender.fail_with = None
    notifier.notify(NotifyKind.ITEM_FAILED, B, "held by the 429")
    settle(notifier)
    assert sender.count() == 1
    assert notifier.stats().held == 1

    clock.advance(30)
    wait_for(lambda: sender.count() == 2)


def test_notify_never_raises_on_a_broken_clock_or_message(
    make_notifier: Callable[..., Notifier],
) -> None:
    class BrokenClock(FakeClock):
        def now(self) -> datetime:
            raise RuntimeError("clock gone")

    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("no text")

    notifier = make_notifier(RecordingSender(), clock=BrokenClock(T0))
    assert notifier.notify(NotifyKind.ITEM_FAILED, A, "x") is False
    working = make_notifier(RecordingSender())
    assert working.notify(NotifyKind.ITEM_FAILED, A, Unprintable()) is False  # type: ignore[arg-type]


def test_a_full_queue_drops_without_blocking_and_says_so_later(
    clock: FakeClock, make_notifier: Callable[..., Notifier]
) -> None:
    sender = BlockingSender()
    notifier = make_notifier(sender, queue_size=2)
    notifier.notify(NotifyKind.ITEM_FAILED, A, "first")
    assert sender.entered.wait(5)  # the thread is now stuck in a send

    started = time.monotonic()
    results = [notifier.notify(NotifyKind.ITEM_FAILED, A, f"more {i}") for i in range(5)]
    assert time.monotonic() - started < 0.5
    assert results == [True, True, False, False, False]
    assert notifier.stats().dropped == 3

    sender.release.set()
    wait_for(lambda: sender.count() == 1)
    settle(notifier)
    assert notifier.stats().held == 2
    clock.advance(60)
    wait_for(lambda: sender.count() == 2)
    assert "2 events for base/base_account_1" in sender.texts[1]
    assert "3 more events were dropped" in sender.texts[1]


def test_close_sends_what_the_window_was_holding(
    clock: FakeClock, make_notifier: Callable[..., Notifier]
) -> None:
    sender = RecordingSender()
    notifier = make_notifier(sender)
    notifier.notify(NotifyKind.ITEM_FAILED, A, "first")
    wait_for(lambda: sender.count() == 1)
    notifier.notify(NotifyKind.ITEM_FAILED, A, "second")
    notifier.notify(NotifyKind.DAEMON_CRASHED, A, "stopping: unhandled error")
    assert notifier.close(timeout=5) is True
    assert sender.count() == 2
    assert "2 events for base/base_account_1" in sender.texts[1]
    assert sender.closed
    assert notifier.notify(NotifyKind.ITEM_FAILED, A, "after close") is False


def test_close_is_bounded_by_its_timeout() -> None:
    sender = BlockingSender()
    notifier = Notifier([sender], poll_seconds=0.01)
    notifier.notify(NotifyKind.ITEM_FAILED, A, "stuck")
    assert sender.entered.wait(5)
    started = time.monotonic()
    assert notifier.close(timeout=0.2) is False
    assert time.monotonic() - started < 1
    sender.release.set()
    assert notifier.close(timeout=5) is True


# -- no-op notifier and settings ---------------------------------------------------------


def test_a_notifier_without_senders_does_nothing() -> None:
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.notify(NotifyKind.ITEM_FAILED, A, "x") is False
    assert notifier.close() is True


def _settings(tmp_path: Path, **notify: str) -> Settings:
    return settings_from_dict({"notify": notify}, tmp_path / "upload-scheduler.toml")


def test_from_settings_with_nothing_configured_is_a_no_op(tmp_path: Path) -> None:
    before = threading.active_count()
    notifier = Notifier.from_settings(_settings(tmp_path))
    assert not notifier.enabled
    assert threading.active_count() == before
    assert notifier.close()


def test_from_settings_reads_the_token_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_NOTIFY_TOKEN", SECRET)
    settings = _settings(tmp_path, chatwork_token_env="TEST_NOTIFY_TOKEN", chatwork_room_id="42")
    with Notifier.from_settings(settings) as notifier:
        assert notifier.sender_names == ("chatwork room 42",)


def test_from_settings_skips_half_configured_senders_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="upload_scheduler.notify")
    monkeypatch.delenv("TEST_NOTIFY_MISSING", raising=False)
    cases = [
        {"chatwork_token_env": "TEST_NOTIFY_MISSING", "chatwork_room_id": "42"},
        {"chatwork_token": SECRET},
        {"chatwork_token": SECRET, "chatwork_room_id": "not-a-room"},
        {"webhook_url": "ftp://hooks.example.com/services/T0/SECRETPATH"},
    ]
    for notify in cases:
        notifier = Notifier.from_settings(_settings(tmp_path, **notify))
        assert not notifier.enabled, notify
        notifier.close()
    assert "TEST_NOTIFY_MISSING is not set" in caplog.text
    assert "chatwork_room_id is empty" in caplog.text
    assert "must be a number" in caplog.text
    assert "webhook notifications are off" in caplog.text
    assert SECRET not in caplog.text
    assert "SECRETPATH" not in caplog.text


def test_from_settings_builds_both_senders(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        chatwork_token=SECRET,
        chatwork_room_id="42",
        webhook_url="https://hooks.example.com/services/T0/B0/SECRETPATH",
    )
    with Notifier.from_settings(settings) as notifier:
        assert notifier.sender_names == ("chatwork room 42", "webhook hooks.example.com")
        assert SECRET not in repr(notifier.sender_names)
