"""An in-process platform for the daemon tests: it records every call at the fake
clock's time, keeps the items it created, and answers each upload of an ASIN with the
next step of a script (succeed, raise any error class, lose the response after creating,
fail an image).

`HookedClock` is a `FakeClock` that runs callbacks when time passes given instants, as
another process adding an item while the daemon sleeps would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from upload_scheduler.clock import FakeClock
from upload_scheduler.platforms.errors import PartialUpload, PlatformError, Transient
from upload_scheduler.platforms.interface import (
    Account,
    ExistingItem,
    Product,
    UploadResult,
)

# ---------------------------------------------------------------------- the clock


class HookedClock(FakeClock):
    """`wait` advances time as FakeClock does, stopping at each hook's instant to run it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._hooks: list[tuple[datetime, Callable[[], None]]] = []

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        self._hooks.append((moment, action))
        self._hooks.sort(key=lambda h: h[0])

    def wait(self, seconds: float, stop_event: threading.Event | None = None) -> bool:
        seconds = max(0.0, seconds)
        self.waits.append(seconds)
        if stop_event is not None and stop_event.is_set():
            return True
        target = self.now() + timedelta(seconds=seconds)
        while self._hooks and self._hooks[0][0] <= target:
            moment, action = self._hooks.pop(0)
            if moment > self.now():
                self.set(moment)
            action()
        self.set(target)
        return False


# ---------------------------------------------------------------------- the script


@dataclass(frozen=True)
class Succeed:
    """Create the item (if needed) and add every remaining image."""


@dataclass(frozen=True)
class Fail:
    """Raise `error` before anything is created."""

    error: PlatformError


@dataclass(frozen=True)
class LoseResponse:
    """Create the item with all its images, then lose the answer."""

    message: str = "connection reset after the request was sent"


@dataclass(frozen=True)
class ImageFails:
    """Create the item (if needed); the image at absolute index `index` fails with
    `error` (default Transient), after the images before it were added."""

    index: int
    error: PlatformError | None = None


Step = Succeed | Fail | LoseResponse | ImageFails


@dataclass
class Call:
    at: datetime
    kind: str  # "upload" or "find"
    asin: str
    account_id: str
    platform_item_id: str | None  # what the caller passed (None: create)
    images_done: int
    outcome: str
    calls: int = 1


@dataclass
class Created:
    platform_item_id: str
    account_id: str
    asin: str
    images: int
    at: datetime


@dataclass
class ScriptedPlatform:
    clock: FakeClock
    latency_seconds: float = 0.0  # fake time each API call takes
    name: str = "fake"
    scripts: dict[str, list[Step]] = field(default_factory=dict)
    find_errors: dict[str, list[PlatformError]] = field(default_factory=dict)
    on_upload: Callable[[str], None] | None = None  # called with the ASIN as a call starts
    calls: list[Call] = field(default_factory=list)
    items: list[Created] = field(default_factory=list)
    closed: bool = False

    # -------------------------------------------------------------- scripting

    def script(self, asin: str, *steps: Step) -> None:
        """What the next uploads of `asin` do, in order; after them, Succeed."""
        self.scripts.setdefault(asin, []).extend(steps)

    def script_find(self, asin: str, *errors: PlatformError) -> None:
        """The next lookups of `asin` raise these errors, in order; then they answer."""
        self.find_errors.setdefault(asin, []).extend(errors)

    def already_created(self, asin: str, account_id: str, images: int) -> Created:
        """An item the platform holds although we never recorded it (a crash)."""
        return self._create(asin, account_id, images)

    # -------------------------------------------------------------- checks

    def uploads(self, asin: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.kind == "upload" and asin in (None, c.asin)]

    def creations(self, asin: str | None = None) -> list[Created]:
        return [i for i in self.items if asin in (None, i.asin)]

    def upload_starts(self) -> list[datetime]:
        return [c.at for c in self.uploads()]

    # -------------------------------------------------------------- Platform

    def calls_for(self, product: Product, images_done: int = 0) -> int:
        return (1 if images_done == 0 else 0) + max(0, len(product.images) - images_done)

    def upload(
        self,
        product: Product,
        account: Account,
        *,
        platform_item_id: str | None = None,
        images_done: int = 0,
        pace: Callable[[], None] | None = None,
    ) -> UploadResult:
        if pace is not None and platform_item_id is None:
            pace()
        started = self.clock.now()
        if self.on_upload is not None:
            self.on_upload(product.asin)
        steps = self.scripts.get(product.asin) or []
        step: Step = steps.pop(0) if steps else Succeed()
        total = len(product.images)

        def record(outcome: str, calls: int) -> None:
            self.calls.append(
                Call(
                    started,
                    "upload",
                    product.asin,
                    account.account_id,
                    platform_item_id,
                    images_done,
                    outcome,
                    calls,
                )
            )

        if isinstance(step, Fail):
            self._spend(1)
            record(type(step.error).__name__, 1)
            raise step.error
        calls = 0
        item_id = platform_item_id
        if item_id is None:
            calls += 1
            self._spend(1)
            item_id = self._create(product.asin, account.account_id, 0).platform_item_id
        first_failing = step.index if isinstance(step, ImageFails) else total
        for index in range(images_done, total):
            calls += 1
            self._spend(1)
            if index >= first_failing:
                assert isinstance(step, ImageFails)
                cause = step.error or Transient(f"image {index + 1} upload failed")
                record("partial", calls)
                raise PartialUpload(
                    f"{index} of {total} images added: {cause.message}",
                    platform_item_id=item_id,
                    images_done=index,
                    images_total=total,
                    calls=calls,
                    cause=cause,
                )
            self._item(item_id).images += 1
        if isinstance(step, LoseResponse):
            record("lost", calls)
            raise Transient(step.message, maybe_created=True)
        record("ok", calls)
        return UploadResult(item_id, calls, total - images_done)

    def find_existing(
        self, asin: str, account: Account, *, since: datetime | None = None
    ) -> ExistingItem | None:
        started = self.clock.now()
        self._spend(1)
        errors = self.find_errors.get(asin) or []
        if errors:
            error = errors.pop(0)
            self.calls.append(
                Call(started, "find", asin, account.account_id, None, 0, type(error).__name__)
            )
            raise error
        found = [i for i in self.items if i.asin == asin and i.account_id == account.account_id]
        self.calls.append(
            Call(
                started,
                "find",
                asin,
                account.account_id,
                None,
                0,
                "found" if found else "none",
            )
        )
        if not found:
            return None
        return ExistingItem(found[-1].platform_item_id, found[-1].images)

    def prepare(self, account: Account) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    # -------------------------------------------------------------- internals

    def _spend(self, calls: int) -> None:
        if self.latency_seconds:
            self.clock.advance(self.latency_seconds * calls)

    def _create(self, asin: str, account_id: str, images: int) -> Created:
        created = Created(f"item-{len(self.items) + 1}", account_id, asin, images, self.clock.now())
        self.items.append(created)
        return created

    def _item(self, platform_item_id: str) -> Created:
        return next(i for i in self.items if i.platform_item_id == platform_item_id)
