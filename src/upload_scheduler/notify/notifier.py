"""The notifier: callers hand it events and move on; a background thread coalesces them
per account, paces them for the room, and posts them.

An upload must never be stopped or slowed by a notification, so `notify()` does no I/O,
takes no lock that I/O holds, and never raises; every failure is logged (without a
secret) on the background thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Final

from upload_scheduler import defaults
from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.notify.coalesce import Batch, Coalescer, RoomLimiter
from upload_scheduler.notify.events import NotifyEvent, NotifyKind
from upload_scheduler.notify.senders import (
    ChatworkSender,
    NotifySendError,
    Sender,
    WebhookSender,
    redact,
)

if TYPE_CHECKING:
    import httpx

    from upload_scheduler.config.settings import Settings

log = logging.getLogger(defaults.NOTIFY_LOGGER_NAME)

_WAKE: Final = object()


@dataclass(frozen=True)
class NotifierStats:
    accepted: int  # events taken by notify()
    dropped: int  # events refused because the queue was full
    delivered: int  # posts a sender accepted (one message to two senders counts twice)
    failed: int  # posts a sender refused or could not make
    queued: int  # events not yet seen by the background thread
    held: int  # events the thread holds for coalescing or the room limit
    cycles: int  # passes of the background loop: it moves while the thread lives


class Notifier:
    """Sends events to every sender, at most one message per account per interval.

    With no sender it is a no-op: `notify()` returns False and no thread is started,
    so callers never need to ask whether notifications are configured.
    """

    def __init__(
        self,
        senders: Sequence[Sender] = (),
        *,
        clock: Clock | None = None,
        interval_seconds: float = defaults.NOTIFY_COALESCE_SECONDS,
        room_max_posts: int = defaults.NOTIFY_ROOM_MAX_POSTS,
        room_window_seconds: float = defaults.NOTIFY_ROOM_WINDOW_SECONDS,
        queue_size: int = defaults.NOTIFY_QUEUE_SIZE,
        poll_seconds: float = defaults.NOTIFY_POLL_SECONDS,
        secrets: Iterable[str] = (),
    ) -> None:
        self._senders = tuple(senders)
        self._clock: Clock = clock or SystemClock()
        self._interval = interval_seconds
        self._coalescer = Coalescer(interval_seconds)
        self._limiter = RoomLimiter(room_max_posts, room_window_seconds)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._queue_size = queue_size
        self._poll = poll_seconds
        own = [s for sender in self._senders for s in getattr(sender, "secrets", ())]
        self._secrets = tuple(s for s in (*secrets, *own) if s)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._close_deadline = 0.0
        self._accepted = self._dropped = self._dropped_unreported = 0
        self._delivered = self._failed = self._held = self._cycles = 0
        self._thread: threading.Thread | None = None
        if self._senders:
            self._thread = threading.Thread(
                target=self._run, name="upload-scheduler-notify", daemon=True
            )
            self._thread.start()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        chatwork_base_url: str | None = None,
        interval_seconds: float = defaults.NOTIFY_COALESCE_SECONDS,
        timeout: httpx.Timeout | None = None,
    ) -> Notifier:
        """The notifier the `[notify]` section asks for; a no-op one when it asks for
        nothing. A half-filled section is logged and skipped, never fatal: a daemon
        must not refuse to upload because a message could not be sent."""
        conf = settings.file.notify
        token = settings.chatwork_token()
        senders: list[Sender] = []
        if token or conf.chatwork_room_id or conf.chatwork_token_env or conf.chatwork_token:
            if not token:
                where = (
                    f"environment variable {conf.chatwork_token_env} is not set"
                    if conf.chatwork_token_env
                    else "chatwork_token is empty"
                )
                log.warning("Chatwork notifications are off: %s", where)
            elif not conf.chatwork_room_id:
                log.warning("Chatwork notifications are off: chatwork_room_id is empty")
            else:
                try:
                    senders.append(
                        ChatworkSender(
                            token,
                            conf.chatwork_room_id,
                            base_url=chatwork_base_url or conf.chatwork_api_url,
                            timeout=timeout,
                        )
                    )
                except ValueError as exc:
                    log.warning("Chatwork notifications are off: %s", redact(str(exc), [token]))
        if conf.webhook_url:
            try:
                senders.append(WebhookSender(conf.webhook_url, timeout=timeout))
            except ValueError as exc:
                log.warning("webhook notifications are off: %s", exc)
        if senders:
            log.info("notifications go to %s", ", ".join(s.name for s in senders))
        return cls(
            senders,
            clock=clock,
            interval_seconds=interval_seconds,
            secrets=(token, conf.webhook_url),
        )

    @property
    def enabled(self) -> bool:
        return bool(self._senders)

    @property
    def sender_names(self) -> tuple[str, ...]:
        """Safe to show: "chatwork room 123", "webhook hooks.slack.com"."""
        return tuple(s.name for s in self._senders)

    def notify(self, kind: NotifyKind | str, account_key: str, message: str) -> bool:
        """Queue an event; True if it was taken. Never blocks on I/O, never raises."""
        try:
            if not self._senders or self._closing.is_set():
                return False
            event = NotifyEvent(str(kind), str(account_key), str(message), self._clock.now())
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                with self._lock:
                    self._dropped += 1
                    self._dropped_unreported += 1
                return False
            with self._lock:
                self._accepted += 1
            return True
        except Exception:  # the caller's upload matters more than this message
            return False

    def stats(self) -> NotifierStats:
        with self._lock:
            return NotifierStats(
                accepted=self._accepted,
                dropped=self._dropped,
                delivered=self._delivered,
                failed=self._failed,
                queued=self._queue.qsize(),
                held=self._held,
                cycles=self._cycles,
            )

    def close(self, timeout: float = defaults.NOTIFY_CLOSE_TIMEOUT_SECONDS) -> bool:
        """Send what is held (windows ignored, the room limit kept) and stop, waiting at
        most `timeout` seconds. True if everything finished in time."""
        with self._lock:
            if not self._closing.is_set():
                self._close_deadline = time.monotonic() + max(0.0, timeout)
                self._closing.set()
        try:
            self._queue.put_nowait(_WAKE)
        except queue.Full:
            pass  # the thread is busy with the queue and sees the flag when done
        if self._thread is None:
            return True
        self._thread.join(max(0.0, timeout))
        return not self._thread.is_alive()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- background thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._closing.is_set():
                try:
                    self._ingest(self._wait_seconds())
                    if not self._closing.is_set():
                        self._send_due()
                    with self._lock:
                        self._cycles += 1
                except Exception as exc:  # a bug here must not end notifications for good
                    log.error("notifier error: %s", self._safe(exc))
                    self._closing.wait(self._poll)
            self._finish()
        except Exception as exc:
            log.error("notifier error while closing: %s", self._safe(exc))
        finally:
            for sender in self._senders:
                try:
                    sender.close()
                except Exception as exc:
                    log.warning("closing %s failed: %s", sender.name, self._safe(exc))

    def _safe(self, exc: BaseException) -> str:
        """An exception as log text: a sender's own errors are built without secrets, any
        other may quote anything, and both are scrubbed all the same."""
        text = str(exc) if isinstance(exc, NotifySendError) else f"{type(exc).__name__}: {exc}"
        return redact(text, self._secrets)

    def _wait_seconds(self) -> float:
        now = self._clock.now()
        due = self._coalescer.next_due(now)
        if due is None:
            return self._poll
        due = max(due, self._limiter.next_free(now))
        return min(max((due - now).total_seconds(), 0.0), self._poll)

    def _ingest(self, block_seconds: float) -> None:
        """Move queued events into the coalescer, waiting up to `block_seconds` for one."""
        items: list[object] = []
        try:
            items.append(
                self._queue.get(timeout=block_seconds)
                if block_seconds > 0
                else self._queue.get_nowait()
            )
            # Bounded: a caller flooding the queue must not keep us from sending.
            for _ in range(self._queue_size):
                items.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        for item in items:
            if isinstance(item, NotifyEvent):
                self._coalescer.add(item)
        with self._lock:
            dropped, self._dropped_unreported = self._dropped_unreported, 0
        if dropped:
            self._coalescer.add_dropped(dropped)
            log.warning("%d notifications dropped: the notifier queue was full", dropped)
        self._update_held()

    def _update_held(self) -> None:
        with self._lock:
            self._held = self._coalescer.pending_events

    def _send_due(self) -> None:
        now = self._clock.now()
        allowance = self._limiter.allowance(now)
        for key in self._coalescer.due(now)[: max(allowance, 0)]:
            self._deliver(self._coalescer.take(key, now), now)
        self._update_held()

    def _deliver(self, batch: Batch, now: datetime) -> None:
        text = batch.render(self._interval)
        self._limiter.record(now)
        for sender in self._senders:
            try:
                sender.send(text)
            except NotifySendError as exc:
                self._count(failed=1)
                log.warning(
                    "notification for %s (%d events) not sent: %s",
                    batch.account_key,
                    len(batch.events),
                    self._safe(exc),
                )
                if exc.retry_after:
                    self._limiter.hold(now + timedelta(seconds=exc.retry_after))
            except Exception as exc:
                self._count(failed=1)
                log.warning(
                    "notification for %s (%d events) not sent: %s failed: %s",
                    batch.account_key,
                    len(batch.events),
                    sender.name,
                    self._safe(exc),
                )
            else:
                self._count(delivered=1)

    def _count(self, delivered: int = 0, failed: int = 0) -> None:
        with self._lock:
            self._delivered += delivered
            self._failed += failed

    def _finish(self) -> None:
        """Closing: everything queued or held goes out now, within the close deadline."""
        self._ingest(0)
        while self._coalescer.pending_events:
            remaining = self._close_deadline - time.monotonic()
            if remaining <= 0:
                break
            now = self._clock.now()
            allowance = self._limiter.allowance(now)
            if allowance > 0:
                for batch in self._coalescer.take_all(now, limit=allowance):
                    self._deliver(batch, now)
                self._update_held()
                continue
            wait = (self._limiter.next_free(now) - now).total_seconds()
            time.sleep(min(max(wait, 0.01), remaining, self._poll))
        self._update_held()
        if self._coalescer.pending_events:
            log.warning(
                "%d notifications not sent: the notifier was closed before the room "
                "limit allowed them",
                self._coalescer.pending_events,
            )
