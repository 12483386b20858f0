"""The API calls one adapter method makes, counted as it goes: they count against the
budgets, a failure's as a success's (the refused call included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from upload_scheduler.platforms.errors import PlatformError


@dataclass
class CallCount:
    """API calls made by one adapter method."""

    count: int = 0


@contextmanager
def counting(calls: CallCount) -> Iterator[None]:
    """A PlatformError leaving the block carries the calls made (`PlatformError.calls`)."""
    try:
        yield
    except PlatformError as err:
        err.calls = calls.count
        raise
