"""One account's daemon as a subprocess: its command, its files, its Popen.

Its stdout and stderr go to `logs/{platform}_{account}.stderr` (append), never to a
pipe: the seed's manager hung when a child filled a pipe nobody read. The daemon logs
to its own file; this file catches what happens before that, such as an import error.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from upload_scheduler.supervisor import oskit, procs
from upload_scheduler.supervisor.state import RUNNING, ChildRecord, iso, utc_now

log = logging.getLogger("upload_scheduler.supervisor")

CommandFactory = Callable[[str, str], Sequence[str]]
STDERR_MAX_BYTES = 1024 * 1024


def daemon_command_tail(
    config: Path, platform: str, account_id: str, *, standby: bool = False
) -> list[str]:
    """Everything after the interpreter: also how leftover daemons are recognised.

    The light entry point takes the same arguments as `upload-scheduler daemon` and
    behaves the same, without loading Typer and Rich (a daemon's memory is counted).
    `--standby` (config `[cluster] standby`): another host's daemon may hold the
    account; this one waits to take over instead of exiting."""
    tail = [
        "-m",
        "upload_scheduler.worker",
        "--config",
        str(config),
        "daemon",
        "--platform",
        platform,
        "--account",
        account_id,
    ]
    return [*tail, "--standby"] if standby else tail


class ChildProcess:
    """A daemon the manager supervises, and the bookkeeping its restarts need (monotonic
    times, for the restart policy)."""

    def __init__(
        self,
        record: ChildRecord,
        command: Sequence[str],
        cwd: Path,
    ) -> None:
        self.record = record
        self.command = list(command)
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_mono = 0.0
        self.next_start_mono: float | None = None
        self.failures = 0
        self.restart_times: list[float] = []
        self.stop_sent = False

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def spawn(self, now_mono: float) -> int:
        """Start the daemon; raises OSError when the interpreter cannot be started."""
        stderr_path = Path(self.record.stderr_path)
        stderr_path.parent.mkdir(parents=True, exist_ok=True)
        _keep_small(stderr_path)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        with open(stderr_path, "ab") as output:
            output.write(f"--- {iso(utc_now())} starting {self.key}\n".encode())
            output.flush()
            self.popen = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=env,
                **oskit.child_popen_options(),
            )
        self.started_mono = now_mono
        self.next_start_mono = None
        self.stop_sent = False
        pid = self.popen.pid
        self.record.pid = pid
        self.record.create_time = procs.create_time(pid)
        self.record.started_at = iso(utc_now())
        self.record.state = RUNNING
        self.record.next_start_at = None
        self.record.message = ""
        self.record.stop_result = None
        return pid

    def poll(self) -> int | None:
        """The exit code if the process has ended (each end is reported once)."""
        if self.popen is None:
            return None
        code = self.popen.poll()
        if code is None:
            return None
        self.popen = None
        return code

    def send_stop(self) -> bool:
        """One warm stop, never two: a second signal would abort the daemon's item."""
        if self.popen is None or self.stop_sent:
            return False
        self.stop_sent = True
        return oskit.request_stop(self.popen.pid)

    def wait(self, timeout: float) -> int | None:
        if self.popen is None:
            return None
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.popen is not None:
            oskit.force_stop(self.popen.pid)

    def schedule(self, delay: float, now_mono: float, state: str, message: str) -> None:
        self.next_start_mono = now_mono + delay
        self.record.state = state
        self.record.message = message
        self.record.next_start_at = iso(utc_now() + timedelta(seconds=delay))

    def uptime_seconds(self, now: datetime | None = None) -> float | None:
        if not self.running or not self.record.started_at:
            return None
        started = datetime.fromisoformat(self.record.started_at)
        return max(0.0, ((now or utc_now()) - started).total_seconds())


def _keep_small(path: Path) -> None:
    """A crash loop appends a traceback every few minutes for as long as it lasts:
    keep one previous file, like a log rotation."""
    try:
        if path.stat().st_size > STDERR_MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except OSError:
        pass


def default_command(config: Path, *, standby: bool = False) -> CommandFactory:
    def command(platform: str, account_id: str) -> list[str]:
        tail = daemon_command_tail(config, platform, account_id, standby=standby)
        return [sys.executable, *tail]

    return command
