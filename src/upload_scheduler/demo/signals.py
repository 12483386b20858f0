"""Ctrl+C as a graceful stop: the handlers only set a flag, which the demo reads between
steps and while it watches, so the clean-up (stopping the manager, then the sandbox)
always runs to its end. A repeated Ctrl+C during the clean-up is acknowledged, not
obeyed: leaving processes behind is worse than waiting a few seconds."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

_NAMES = ("SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP")


@dataclass
class StopFlag:
    count: int = 0

    @property
    def requested(self) -> bool:
        return self.count > 0


@contextmanager
def stop_requests(on_repeat: Callable[[], None]) -> Iterator[StopFlag]:
    flag = StopFlag()

    def handler(signum: int, frame: FrameType | None) -> None:
        flag.count += 1
        if flag.count > 1:
            on_repeat()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (getattr(signal, n) for n in _NAMES if hasattr(signal, n)):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
