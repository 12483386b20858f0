"""Pure time logic of the notifier: per-account coalescing windows and the room limit.

Both take `now` and never read a clock, so unit tests drive them with plain datetimes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from upload_scheduler import defaults
from upload_scheduler.notify.events import NotifyEvent, kind_label


@dataclass(frozen=True)
class Batch:
    """The events of one account that go out as one message."""

    account_key: str
    events: tuple[NotifyEvent, ...]
    dropped: int = 0  # events lost to a full queue, told to the operator in this message

    def render(
        self,
        window_seconds: float = defaults.NOTIFY_COALESCE_SECONDS,
        max_quoted: int = defaults.NOTIFY_MAX_QUOTED_EVENTS,
    ) -> str:
        return render_batch(self, window_seconds, max_quoted)


def _clip(text: str, limit: int = defaults.NOTIFY_MAX_EVENT_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_window(seconds: float) -> str:
    """'minute', '5 minutes', '2 s': the words after 'in the last'."""
    if seconds == 60:
        return "minute"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds:g} s"


def render_batch(
    batch: Batch,
    window_seconds: float = defaults.NOTIFY_COALESCE_SECONDS,
    max_quoted: int = defaults.NOTIFY_MAX_QUOTED_EVENTS,
) -> str:
    """One event reads as itself; several read as a count, the first few, and '+N more'."""
    events = batch.events
    lines: list[str]
    if len(events) == 1:
        only = events[0]
        lines = [f"[upload-scheduler] {kind_label(only.kind)}: {batch.account_key}"]
        lines.append(_clip(only.message))
    else:
        counts: dict[str, int] = {}
        for event in events:
            counts[kind_label(event.kind)] = counts.get(kind_label(event.kind), 0) + 1
        breakdown = ", ".join(f"{n} {label}" for label, n in counts.items())
        lines = [
            f"[upload-scheduler] {len(events)} events for {batch.account_key} in the last "
            f"{describe_window(window_seconds)} ({breakdown}):"
        ]
        lines += [f"- {kind_label(e.kind)}: {_clip(e.message)}" for e in events[:max_quoted]]
        if len(events) > max_quoted:
            lines.append(f"+{len(events) - max_quoted} more")
    if batch.dropped:
        lines.append(f"({batch.dropped} more events were dropped: the notifier queue was full)")
    return "\n".join(lines)


@dataclass
class _AccountWindow:
    pending: list[NotifyEvent] = field(default_factory=list)
    next_allowed: datetime | None = None


class Coalescer:
    """At most one message per account per `interval_seconds`.

    The first event after a quiet spell goes out at once (a crash should not wait a
    minute); events arriving within the interval after a message are held and go out
    together when the interval ends.
    """

    def __init__(self, interval_seconds: float = defaults.NOTIFY_COALESCE_SECONDS) -> None:
        if interval_seconds < 0:
            raise ValueError("interval_seconds must not be negative")
        self.interval = timedelta(seconds=interval_seconds)
        self._windows: dict[str, _AccountWindow] = {}
        self._dropped = 0

    def add(self, event: NotifyEvent) -> None:
        self._windows.setdefault(event.account_key, _AccountWindow()).pending.append(event)

    def add_dropped(self, count: int) -> None:
        """Events lost before they got here; the next message says how many."""
        self._dropped += count

    @property
    def pending_events(self) -> int:
        return sum(len(w.pending) for w in self._windows.values())

    def due(self, now: datetime) -> list[str]:
        """Accounts whose held events may go out now, longest-waiting first."""
        ready = [
            (w.pending[0].at, key)
            for key, w in self._windows.items()
            if w.pending and (w.next_allowed is None or w.next_allowed <= now)
        ]
        return [key for _, key in sorted(ready)]

    def next_due(self, now: datetime) -> datetime | None:
        """When the next held account becomes due (`now` if one already is)."""
        times = [
            w.next_allowed if w.next_allowed is not None and w.next_allowed > now else now
            for w in self._windows.values()
            if w.pending
        ]
        return min(times, default=None)

    def take(self, account_key: str, now: datetime) -> Batch:
        """The account's held events as one batch; its window restarts at `now`."""
        window = self._windows[account_key]
        batch = Batch(account_key, tuple(window.pending), self._dropped)
        self._dropped = 0
        window.pending = []
        window.next_allowed = now + self.interval
        self._forget_idle(now)
        return batch

    def take_all(self, now: datetime, limit: int | None = None) -> list[Batch]:
        """Held events with windows ignored (what a closing notifier still owes), one
        batch per account, longest-waiting first, at most `limit` batches."""
        keys = sorted((w.pending[0].at, k) for k, w in self._windows.items() if w.pending)
        return [self.take(key, now) for _, key in keys[:limit]]

    def _forget_idle(self, now: datetime) -> None:
        # An account that went quiet needs no state: its next event goes out at once.
        for key in [
            k
            for k, w in self._windows.items()
            if not w.pending and w.next_allowed is not None and w.next_allowed <= now
        ]:
            del self._windows[key]


class RoomLimiter:
    """A sliding window of posts to one room (Chatwork: 10 per 10 s), plus a hold set
    after the service answered 429. Over the limit, messages wait; they are not lost."""

    def __init__(
        self,
        max_posts: int = defaults.NOTIFY_ROOM_MAX_POSTS,
        window_seconds: float = defaults.NOTIFY_ROOM_WINDOW_SECONDS,
    ) -> None:
        if max_posts < 1:
            raise ValueError("max_posts must be at least 1")
        self.max_posts = max_posts
        self.window = timedelta(seconds=window_seconds)
        self._posts: deque[datetime] = deque()
        self._hold_until: datetime | None = None

    def _expire(self, now: datetime) -> None:
        while self._posts and self._posts[0] <= now - self.window:
            self._posts.popleft()

    def allowance(self, now: datetime) -> int:
        """How many posts may start now."""
        if self._hold_until is not None and now < self._hold_until:
            return 0
        self._expire(now)
        return self.max_posts - len(self._posts)

    def next_free(self, now: datetime) -> datetime:
        """The earliest moment a post may start."""
        if self.allowance(now) > 0:
            return now
        candidates = [now]
        if self._hold_until is not None:
            candidates.append(self._hold_until)
        if len(self._posts) >= self.max_posts:
            candidates.append(self._posts[0] + self.window)
        return max(candidates)

    def record(self, now: datetime) -> None:
        self._posts.append(now)

    def hold(self, until: datetime) -> None:
        if self._hold_until is None or until > self._hold_until:
            self._hold_until = until
