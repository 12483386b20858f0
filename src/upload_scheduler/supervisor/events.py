"""What the manager tells its caller as it works. Only the CLI prints (DESIGN.md), so
the manager hands these to a callback, and the CLI renders them as the seed's console
output; the background manager and the Python API only log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from upload_scheduler.supervisor.state import ChildRecord


class EventKind(StrEnum):
    STARTING = "starting"  # count: how many processes will be started
    LEFTOVER_STOPPING = "leftover_stopping"  # a daemon of a previous manager is stopped
    LEFTOVER_STOPPED = "leftover_stopped"
    CHILD_STARTED = "child_started"
    CHILD_START_FAILED = "child_start_failed"
    STARTED = "started"  # count: how many processes run
    CHILD_EXITED = "child_exited"
    CHILD_RESTARTED = "child_restarted"
    CRASH_LOOPING = "crash_looping"
    LEASE_HELD = "lease_held"
    SIGNAL = "signal"  # signum
    STOP_REQUESTED = "stop_requested"  # by `manager stop` (the stop-request file)
    ABORTING = "aborting"  # a second signal: children are killed
    STOPPING_ALL = "stopping_all"
    CHILD_STOPPING = "child_stopping"
    CHILD_STOPPED = "child_stopped"  # exit_code; forced when it had to be killed
    ALL_STOPPED = "all_stopped"


@dataclass(frozen=True)
class ManagerEvent:
    kind: EventKind
    child: ChildRecord | None = None
    count: int = 0
    pid: int | None = None
    exit_code: int | None = None
    signum: int | None = None
    forced: bool = False
    delay: float = 0.0
    detail: str = ""


EventSink = Callable[[ManagerEvent], None]


def ignore(_event: ManagerEvent) -> None:
    return None
