"""Is this PID still the process we think it is? A PID in a file may belong to another
program by now, so a process counts as ours only if it is alive, not a zombie, started
when we recorded, and runs the command we expect."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

import psutil

from upload_scheduler.naming import host_id

# psutil's create_time is exact on Linux and Windows; allow for rounding in the file.
CREATE_TIME_TOLERANCE = 1.0
PACKAGE_NAMES = ("upload_scheduler", "upload-scheduler")


def host_name() -> str:
    return host_id()


def create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _command(pid: int, recorded_create_time: float | None) -> list[str] | None:
    """The command line of a live, non-zombie process (None otherwise)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        if (
            recorded_create_time is not None
            and abs(process.create_time() - recorded_create_time) > CREATE_TIME_TOLERANCE
        ):
            return None
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _ours(command: Sequence[str]) -> bool:
    return any(name in part for part in command for name in PACKAGE_NAMES)


def is_alive(pid: int | None, recorded_create_time: float | None = None) -> bool:
    return pid is not None and _command(pid, recorded_create_time) is not None


def is_daemon_of(
    pid: int | None, account_id: str, recorded_create_time: float | None = None
) -> bool:
    """True if `pid` is a live upload-scheduler daemon working `account_id`."""
    if pid is None:
        return False
    command = _command(pid, recorded_create_time)
    return command is not None and _ours(command) and "daemon" in command and account_id in command


def is_manager(pid: int | None, recorded_create_time: float | None = None) -> bool:
    if pid is None:
        return False
    command = _command(pid, recorded_create_time)
    return command is not None and _ours(command) and "manager" in command


def find_commands(tails: Mapping[str, Sequence[str]]) -> dict[int, str]:
    """Live processes whose command line ends with one of `tails` (daemon commands as
    the manager builds them), wherever their parent is: {pid: key of the tail}."""
    wanted = {key: list(tail) for key, tail in tails.items() if tail}
    found: dict[int, str] = {}
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        info = process.info
        command = info.get("cmdline") or []
        if info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        for key, tail in wanted.items():
            if len(command) >= len(tail) and list(command[-len(tail) :]) == tail:
                found[int(info["pid"])] = key
                break
    return found


def wait_gone(pids: Iterable[int], timeout: float, poll: float = 0.1) -> list[int]:
    """Wait until none of `pids` is alive; returns those still alive at the deadline."""
    remaining = list(pids)
    deadline = time.monotonic() + timeout
    while remaining:
        remaining = [p for p in remaining if is_alive(p)]
        if not remaining or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    return remaining
