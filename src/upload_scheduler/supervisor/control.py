"""Acting on a manager from another process: start one in the background, stop one.

`stop` works from any terminal: on POSIX it sends SIGTERM; on Windows, where console
events do not cross consoles, it writes the stop-request file the manager polls. If
the manager is gone but daemons it started still run (it was killed), they are
stopped directly.

A `start --detach` writes a start marker (its own PID, then the background manager's)
before anything else and removes it when it returns. A `stop` that finds a live marker
but no manager yet writes the stop request, which the starting manager honours as soon
as it holds the lock, and waits until both processes are gone: a stop never misses a
manager that is coming up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from upload_scheduler import defaults
from upload_scheduler.supervisor import oskit, procs
from upload_scheduler.supervisor.lock import ManagerInfo, running_manager
from upload_scheduler.supervisor.paths import ManagerPaths
from upload_scheduler.supervisor.state import (
    MANAGER_RUNNING,
    ChildRecord,
    ManagerRecord,
    read_json,
    read_state,
    write_json_atomic,
)

WAIT_POLL_SECONDS = 0.1
STDERR_TAIL_CHARS = 2000


class BackgroundStartFailed(RuntimeError):
    """The background manager ended or stalled before it was running."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # the background manager's, when it ended


@dataclass(frozen=True)
class StartInProgress:
    """A `start --detach` still running, or the background manager it spawned."""

    launcher_pid: int
    launcher_create_time: float | None
    pid: int | None  # the background manager, once spawned
    create_time: float | None

    @property
    def alive(self) -> bool:
        return procs.is_manager(self.launcher_pid, self.launcher_create_time) or (
            self.pid is not None and procs.is_manager(self.pid, self.create_time)
        )


@dataclass
class StopOutcome:
    """What `stop` did, for the CLI to report."""

    manager: ManagerInfo | None  # the manager that was running, if one was
    manager_stopped: bool = True  # False: it did not end in time
    children: list[ChildRecord] = field(default_factory=list)  # final records
    stopped_directly: list[tuple[ChildRecord, bool]] = field(default_factory=list)  # (, killed)
    starting: StartInProgress | None = None  # a start that was still in progress

    @property
    def nothing_running(self) -> bool:
        return self.manager is None and self.starting is None and not self.stopped_directly


def begin_start(paths: ManagerPaths) -> None:
    """First step of `start --detach`: drop an old stop request (it was for an earlier
    manager), then write the start marker. In this order, a stop that sees the marker
    writes its request after the old one is gone."""
    paths.stop_request.unlink(missing_ok=True)
    _write_marker(paths, None)


def record_background(paths: ManagerPaths, pid: int) -> None:
    """Add the spawned background manager's PID to the start marker."""
    _write_marker(paths, pid)


def end_start(paths: ManagerPaths) -> None:
    """`start --detach` returns: remove its marker (only its own)."""
    data = read_json(paths.start_marker)
    if data is not None and data.get("launcher_pid") == os.getpid():
        paths.start_marker.unlink(missing_ok=True)


def start_in_progress(paths: ManagerPaths) -> StartInProgress | None:
    """The start whose launcher or background manager is still alive, or None."""
    data = read_json(paths.start_marker)
    if data is None or not isinstance(data.get("launcher_pid"), int):
        return None
    pid = data.get("pid")
    start = StartInProgress(
        launcher_pid=data["launcher_pid"],
        launcher_create_time=data.get("launcher_create_time"),
        pid=pid if isinstance(pid, int) else None,
        create_time=data.get("create_time"),
    )
    return start if start.alive else None


def _write_marker(paths: ManagerPaths, pid: int | None) -> None:
    launcher = os.getpid()
    write_json_atomic(
        paths.start_marker,
        {
            "launcher_pid": launcher,
            "launcher_create_time": procs.create_time(launcher),
            "pid": pid,
            "create_time": procs.create_time(pid) if pid is not None else None,
        },
    )


def spawn_background(
    config: Path, manager_args: Sequence[str], paths: ManagerPaths
) -> tuple[subprocess.Popen[bytes], int]:
    """Start `upload-scheduler manager start --background ...` detached from the caller:
    stdin from the null device, output to a file, its own session or process group, no
    inherited handles. A script capturing our output thus never waits for it. Returns
    the process and where its output starts in the (appended) output file."""
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "upload_scheduler",
        "--config",
        str(config),
        "manager",
        "start",
        "--background",
        *manager_args,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    with open(paths.manager_stderr, "ab") as output:
        offset = output.seek(0, os.SEEK_END)
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=env,
            **oskit.background_popen_options(),
        )
    return process, offset


def wait_until_running(
    paths: ManagerPaths, process: subprocess.Popen[bytes], timeout: float, output_offset: int = 0
) -> ManagerRecord:
    """Wait until the state file shows `process` as the running manager with every
    child started; raise BackgroundStartFailed if it ends or the time runs out. Its
    output is read from `output_offset`: earlier runs' output is not this start's."""
    deadline = time.monotonic() + timeout
    while True:
        record = read_state(paths.state)
        if (
            record is not None
            and record.pid == process.pid
            and record.state == MANAGER_RUNNING
            and all(p.pid is not None for p in record.processes)
        ):
            return record
        code = process.poll()
        if code == 0:  # it ends well only when asked to: a stop overlapped this start
            raise BackgroundStartFailed(
                "the manager was stopped (upload-scheduler manager stop) before it was running",
                code,
            )
        if code is not None:
            raise BackgroundStartFailed(
                f"the background manager exited with code {code}"
                + _tail(paths.manager_stderr, output_offset, STDERR_TAIL_CHARS),
                code,
            )
        if time.monotonic() >= deadline:
            raise BackgroundStartFailed(
                f"the background manager (PID {process.pid}) was not running after "
                f"{timeout:g}s; see {paths.log} and {paths.manager_stderr}"
            )
        time.sleep(WAIT_POLL_SECONDS)


def stop_manager(paths: ManagerPaths, timeout: float | None = None) -> StopOutcome:
    """Stop the running manager, or the one a `start --detach` is bringing up, and wait
    for it (it stops its children gracefully); then stop directly any daemon of ours
    that still runs."""
    info = running_manager(paths)
    starting = start_in_progress(paths)
    outcome = StopOutcome(manager=info, starting=starting)
    if info is not None or starting is not None:
        state = read_state(paths.state)
        if timeout is None:
            budget = state.stop_timeout if state else defaults.MANAGER_STOP_TIMEOUT_SECONDS
            timeout = budget + defaults.MANAGER_STOP_MARGIN_SECONDS
            if starting is not None:
                timeout += defaults.MANAGER_DETACH_WAIT_SECONDS
        # One request, not two: a second one would be a cold stop, killing items. A
        # manager still starting may not handle signals yet: it reads the file instead.
        if info is None or not oskit.signal_manager(info.pid):
            paths.stop_request.write_text(f"{os.getpid()}\n", encoding="utf-8")
        deadline = time.monotonic() + timeout
        while _still_up(paths, info):
            if time.monotonic() >= deadline:
                outcome.manager_stopped = False
                break
            time.sleep(WAIT_POLL_SECONDS)
    final = read_state(paths.state)
    if final is not None:
        outcome.children = list(final.processes)
        if outcome.manager_stopped:
            outcome.stopped_directly = stop_leftover_children(final.processes, final.stop_timeout)
    if outcome.manager_stopped:
        paths.stop_request.unlink(missing_ok=True)
    return outcome


def _still_up(paths: ManagerPaths, info: ManagerInfo | None) -> bool:
    if info is not None and procs.is_manager(info.pid, info.create_time):
        return True
    return running_manager(paths) is not None or start_in_progress(paths) is not None


def stop_leftover_children(
    records: Sequence[ChildRecord], timeout: float
) -> list[tuple[ChildRecord, bool]]:
    """Warm-stop the recorded daemons that are still alive; kill them after `timeout`.
    Returns (record, killed) for each one found."""
    alive = [r for r in records if procs.is_daemon_of(r.pid, r.account_id, r.create_time)]
    for record in alive:
        assert record.pid is not None
        oskit.request_stop(record.pid)
    remaining = set(procs.wait_gone([r.pid for r in alive if r.pid is not None], timeout))
    for pid in remaining:
        oskit.force_stop(pid)
    procs.wait_gone(remaining, defaults.MANAGER_KILL_WAIT_SECONDS)
    return [(r, r.pid in remaining) for r in alive]


def _tail(path: Path, offset: int, chars: int) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    text = text[-chars:].strip()
    return f"; its output ({path}):\n{text}" if text else ""
