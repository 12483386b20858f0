"""Stop signals for daemons: handlers only set flags; the loop acts on them.

The first SIGINT/SIGTERM (Windows: Ctrl+C or CTRL_BREAK) asks for a warm stop: finish
the current item, then exit 0. A second one aborts at once; the item's lease then
brings it back. Handlers are installed only in the main thread and restored on exit.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger("upload_scheduler.worker")

ABORT_EXIT_CODE = 130


def _stop_signals() -> list[int]:
    names = ["SIGINT", "SIGTERM", "SIGBREAK"]  # SIGBREAK: Windows' CTRL_BREAK_EVENT
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


@contextmanager
def stop_on_signals(request_stop: Callable[[], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = {"count": 0}

    def handler(signum: int, _frame: FrameType | None) -> None:
        received["count"] += 1
        if received["count"] == 1:
            log.info("signal %s received: finishing the current item, then stopping", signum)
            request_stop()
            return
        log.warning("second signal %s: aborting now; the lease will recover the item", signum)
        logging.shutdown()
        os._exit(ABORT_EXIT_CODE)

    previous = {}
    for signum in _stop_signals():
        try:
            previous[signum] = signal.signal(signum, handler)
        except (OSError, ValueError):
            continue
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
