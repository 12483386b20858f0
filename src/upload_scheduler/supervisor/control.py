"""Acting on a manager from another process: start one in the background, stop one.

`stop` works from any terminal: on POSIX it sends SIGTERM; on Windows, where console
events do not cross consoles, it writes the stop-request file the manager polls. If
the manager is gone but daemons it started still run (it was killed), they are
stopped directly.
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
    read_state,
)

WAIT_POLL_SECONDS = 0.1
STDERR_TAIL_CHARS = 2000


class BackgroundStartFailed(RuntimeError):
    """The background manager ended or stalled before it was running."""


@dataclass
class StopOutcome:
    """What `stop` did, for the CLI to report."""

    manager: ManagerInfo | None  # the manager that was running, if one was
    manager_stopped: bool = True  # False: it did not end in time
    children: list[ChildRecord] = field(default_factory=list)  # final records
    stopped_directly: list[tuple[ChildRecord, bool]] = field(default_factory=list)  # (, killed)

    @property
    def nothing_running(self) -> bool:
        return self.manager is None and not self.stopped_directly


def spawn_background(
    config: Path, manager_args: Sequence[str], paths: ManagerPaths
) -> subprocess.Popen[bytes]:
    """Start `upload-scheduler manager start --background ...` detached from the caller:
    stdin from the null device, output to a file, its own session or process group, no
    inherited handles. A script capturing our output thus never waits for it."""
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
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=env,
            **oskit.background_popen_options(),
        )


def wait_until_running(
    paths: ManagerPaths, process: subprocess.Popen[bytes], timeout: float
) -> ManagerRecord:
    """Wait until the state file shows `process` as the running manager with every
    child started; raise BackgroundStartFailed if it ends or the time runs out."""
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
        if code is not None:
            raise BackgroundStartFailed(
                f"the background manager exited with code {code}"
                + _tail(paths.manager_stderr, STDERR_TAIL_CHARS)
            )
        if time.monotonic() >= deadline:
            raise BackgroundStartFailed(
                f"the background manager (PID {process.pid}) was not running after "
                f"{timeout:g}s; see {paths.log} and {paths.manager_stderr}"
            )
        time.sleep(WAIT_POLL_SECONDS)


def stop_manager(paths: ManagerPaths, timeout: float | None = None) -> StopOutcome:
    """Stop the running manager and wait for it (it stops its children gracefully);
    then stop directly any daemon of ours that still runs."""
    info = running_manager(paths)
    outcome = StopOutcome(manager=info)
    if info is not None:
        state = read_state(paths.state)
        if timeout is None:
            budget = state.stop_timeout if state else defaults.MANAGER_STOP_TIMEOUT_SECONDS
            timeout = budget + defaults.MANAGER_STOP_MARGIN_SECONDS
        # One request, not two: a second one would be a cold stop, killing items.
        if not oskit.signal_manager(info.pid):
            paths.stop_request.write_text(f"{os.getpid()}\n", encoding="utf-8")
        deadline = time.monotonic() + timeout
        while procs.is_manager(info.pid, info.create_time):
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


def _tail(path: Path, chars: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    text = text[-chars:].strip()
    return f"; its output ({path}):\n{text}" if text else ""
