"""`MultiAccountUploadManager` (seed `multi_account_manager.py`): one daemon subprocess
per configured account, restarted when it dies, stopped gracefully.

The loop polls its children every `poll_seconds` (a dead child is restarted at once,
then with exponential backoff), runs a health pass every check interval, and writes
the state file at every change. Signal handlers only set flags (huey, rq); the loop
acts on them. The first stop signal is a warm stop of every child; a second one, while
stopping, kills them.

An SQLite database file that vanishes or is replaced while the manager runs (its device
and inode change) stops everything: restarting daemons would only fill a new, empty
database while the records of the old one are lost. `fatal_error` then says why.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from sqlalchemy import Engine

from upload_scheduler import defaults
from upload_scheduler.config import Settings, load_settings
from upload_scheduler.supervisor import figures, oskit, procs
from upload_scheduler.supervisor.child import ChildProcess, CommandFactory, default_command
from upload_scheduler.supervisor.events import EventKind, EventSink, ManagerEvent, ignore
from upload_scheduler.supervisor.lock import ManagerInfo, ManagerLock
from upload_scheduler.supervisor.paths import ManagerPaths
from upload_scheduler.supervisor.policy import RestartPolicy
from upload_scheduler.supervisor.state import (
    CRASH_LOOPING,
    LEASE_HELD,
    MANAGER_RUNNING,
    MANAGER_STARTING,
    MANAGER_STOPPED,
    MANAGER_STOPPING,
    RESTARTING,
    RUNNING,
    STOPPED,
    STOPPING,
    ChildRecord,
    ManagerRecord,
    read_state,
    settings_summary,
    utc_now,
    write_state,
)

log = logging.getLogger("upload_scheduler.supervisor")

# Two stop signals this close together are one: a terminal and a service manager may
# both send one for the same Ctrl+C (rq does the same).
SIGNAL_DEBOUNCE_SECONDS = 1.0
SHUTDOWN_POLL_SECONDS = 0.05


class Notifier(Protocol):
    def notify(self, kind: str, account_key: str, message: str) -> Any: ...


class MultiAccountUploadManager:
    """Supervise one `upload-scheduler daemon --platform P --account A` per account.

    `config` is a Settings object, a config path, or None (found as the CLI finds it).
    `command` replaces the daemon command (tests run small stand-ins with it).
    """

    def __init__(
        self,
        config: Settings | str | os.PathLike[str] | None = None,
        *,
        policy: RestartPolicy | None = None,
        notifier: Notifier | None = None,
        on_event: EventSink | None = None,
        poll_seconds: float = defaults.MANAGER_POLL_SECONDS,
        stop_timeout: float = defaults.MANAGER_STOP_TIMEOUT_SECONDS,
        command: CommandFactory | None = None,
    ) -> None:
        self.settings = config if isinstance(config, Settings) else load_settings(config)
        self.paths = ManagerPaths(self.settings.log_dir)
        self.policy = policy or RestartPolicy()
        self._own_notifier = notifier is None
        self.notifier: Notifier = notifier if notifier is not None else _notifier(self.settings)
        self.on_event: EventSink = on_event or ignore
        self.poll_seconds = poll_seconds
        self.stop_timeout = stop_timeout
        self.check_interval = defaults.MANAGER_CHECK_INTERVAL_SECONDS
        factory = command or default_command(
            self.settings.source, standby=self.settings.file.cluster.standby
        )
        self.children: dict[str, ChildProcess] = {}
        for platform, account_id in self.settings.all_accounts():
            record = ChildRecord(
                platform,
                account_id,
                settings=settings_summary(self.settings.account(platform, account_id)),
                stderr_path=str(self.paths.child_stderr(platform, account_id)),
                log_path=str(self.paths.child_log(platform, account_id)),
            )
            self.children[record.key] = ChildProcess(
                record, factory(platform, account_id), self.settings.base_dir
            )
        self.record: ManagerRecord | None = None
        self._lock = ManagerLock(self.paths)
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._abort_reported = False
        self._last_signal_at: float | None = None
        self._stop_signal: int | None = None
        self._stop_by_request = False
        self._signal_depth = 0
        self._shut_down = False
        self._engine: Engine | None = None
        # Stop requests older than this (a file's mtime, epoch seconds) are an earlier
        # manager's and dropped; None: older than this process. The background manager
        # of `start --detach` sets 0.0, since its launcher has dropped the old ones.
        self.stop_requests_since: float | None = None
        self.fatal_error: str | None = None
        self._database_file = _sqlite_file(self.settings.database_url)
        self._database_identity: tuple[int, int] | None = None

    # ------------------------------------------------------------------ seed API

    def start_all(self) -> dict[str, Any]:
        """Take the manager lock (ManagerAlreadyRunning if another manager has it), stop
        daemons a killed manager left behind, and start one daemon per account."""
        if self._shut_down:
            raise RuntimeError("this manager has been shut down; create a new one")
        if self.record is not None:
            return self.get_status()
        info = self.acquire_lock()
        self._drop_old_stop_request(info)
        self._database_identity = _file_identity(self._database_file)
        previous = read_state(self.paths.state)
        self.record = ManagerRecord(
            pid=info.pid,
            host=info.host,
            started_at=info.started_at or "",
            create_time=info.create_time,
            state=MANAGER_STARTING,
            check_interval=self.check_interval,
            stop_timeout=self.stop_timeout,
            config=str(self.settings.source),
        )
        self._save()
        self._stop_if_requested()
        log.info(
            "manager started (PID %d, config %s): %d account(s)",
            info.pid,
            self.settings.source,
            len(self.children),
        )
        self._stop_leftovers(previous)
        self._emit(EventKind.STARTING, count=len(self.children))
        now = time.monotonic()
        for child in self.children.values():
            if self._stop_if_requested():
                break
            self._spawn(child, now, restart=False)
        if not self._stop.is_set():
            self.record.state = MANAGER_RUNNING
        self._save()
        running = sum(1 for c in self.children.values() if c.running)
        self._emit(EventKind.STARTED, count=running)
        return self.get_status()

    def acquire_lock(self) -> ManagerInfo:
        """Take the manager lock now (`start_all` does it too): a caller that sets up
        the manager's log file first must know it is the only manager."""
        return self._lock.acquire()

    def monitor(self, check_interval: float = defaults.MANAGER_CHECK_INTERVAL_SECONDS) -> None:
        """Supervise until a stop signal, `request_stop()` or `manager stop`; then stop
        every child gracefully (`shutdown_all`)."""
        with self.handle_signals():
            if self.record is None:
                self.start_all()
            assert self.record is not None
            self.check_interval = check_interval
            self.record.check_interval = check_interval
            self._save()
            log.info("monitoring every %.3g s (check interval)", check_interval)
            next_check = time.monotonic() + check_interval
            while not self._stop.is_set():
                now = time.monotonic()
                if self._database_lost():
                    break
                self._reap(now)
                self._start_due(now)
                if now >= next_check:
                    self._check(now)
                    next_check = now + check_interval
                if self._stop_if_requested():
                    break
                self._stop.wait(self.poll_seconds)
            self._report_stop_reason()
            self.shutdown_all()

    def shutdown_all(self) -> dict[str, Any]:
        """Send each running child one warm stop, wait for all of them (each finishes
        its current item) up to `stop_timeout`, kill what is left, release the lock."""
        if self._shut_down:
            return self.get_status()
        self._stop.set()
        if self.record is not None:
            self.record.state = MANAGER_STOPPING
        stopping: list[ChildProcess] = []
        for child in self.children.values():
            code = child.poll()
            if code is not None:
                child.record.last_exit_code = code
            child.next_start_mono = None
            child.record.next_start_at = None
            if child.popen is not None and child.send_stop():
                child.record.state = STOPPING
                stopping.append(child)
            elif child.popen is not None:  # gone between poll and signal
                stopping.append(child)
            else:
                child.record.state = STOPPED
                child.record.stop_result = "not_running"
        self._save()
        self._emit(EventKind.STOPPING_ALL, count=len(stopping))
        log.info("stopping %d process(es)", len(stopping))
        deadline = time.monotonic() + self.stop_timeout
        for child in stopping:
            record = child.record
            self._emit(EventKind.CHILD_STOPPING, child=record, pid=record.pid)
            code, forced = self._wait_stopped(child, deadline)
            record.last_exit_code = code
            record.state = STOPPED
            record.stop_result = "killed" if forced else "stopped"
            self._save()
            log.info(
                "%s (PID %s) %s, exit code %s",
                record.key,
                record.pid,
                "killed" if forced else "stopped",
                code,
            )
            self._emit(
                EventKind.CHILD_STOPPED, child=record, pid=record.pid, exit_code=code, forced=forced
            )
        self._shut_down = True
        if self.record is not None:
            self.record.state = MANAGER_STOPPED
            self._save()
        self._emit(EventKind.ALL_STOPPED, count=len(stopping))
        log.info("manager stopped")
        self._close()
        return self.get_status()

    def get_status(self) -> dict[str, Any]:
        """Seed shape: {'total', 'running', 'stopped', 'processes': {key: {...}}}."""
        now = utc_now()
        processes: dict[str, dict[str, Any]] = {}
        for key, child in self.children.items():
            record = child.record
            running = child.running
            processes[key] = {
                "platform": record.platform,
                "account_id": record.account_id,
                "state": RUNNING if running else record.state,
                "running": running,
                "pid": record.pid if running else None,
                "uptime_seconds": child.uptime_seconds(now),
                "restarts": record.restarts,
                "last_exit_code": record.last_exit_code,
                "crash_looping": record.crash_looping,
                "message": record.message,
                "settings": dict(record.settings),
                "stderr_path": record.stderr_path,
                "log_path": record.log_path,
            }
        running_count = sum(1 for p in processes.values() if p["running"])
        return {
            "total": len(processes),
            "running": running_count,
            "stopped": len(processes) - running_count,
            "processes": processes,
        }

    def request_stop(self) -> None:
        """Ask `monitor()` to stop (from another thread, say)."""
        self._stop.set()

    @contextmanager
    def handle_signals(self) -> Iterator[None]:
        """Route SIGINT/SIGTERM (Windows: Ctrl+C, CTRL_BREAK) to flags while inside;
        the previous handlers come back on exit. Main thread only; nesting is fine."""
        if self._signal_depth or threading.current_thread() is not threading.main_thread():
            self._signal_depth += 1
            try:
                yield
            finally:
                self._signal_depth -= 1
            return
        previous: dict[int, Any] = {}
        for signum in oskit.stop_signals():
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue  # `nohup` and background shells ask for that: respect it
            try:
                previous[signum] = signal.signal(signum, self._on_signal)
            except (OSError, ValueError):
                continue
        self._signal_depth += 1
        try:
            yield
        finally:
            self._signal_depth -= 1
            for signum, old in previous.items():
                signal.signal(signum, old)

    # ------------------------------------------------------------------ supervision

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        now = time.monotonic()
        last, self._last_signal_at = self._last_signal_at, now
        if last is not None and now - last < SIGNAL_DEBOUNCE_SECONDS:
            return
        if self._stop.is_set():
            self._abort.set()  # already stopping: this one is a cold stop
            return
        self._stop_signal = signum
        self._stop.set()

    def _stop_if_requested(self) -> bool:
        """True (and stopping) after a signal or a `manager stop` request file."""
        if self._stop.is_set():
            return True
        if not self.paths.stop_request.exists():
            return False
        self._stop_by_request = True
        self._last_signal_at = time.monotonic()  # a signal just after is the same stop
        self._stop.set()
        return True

    def _drop_old_stop_request(self, info: ManagerInfo) -> None:
        """A stop request written before this manager began was for an earlier one."""
        since = self.stop_requests_since
        if since is None:
            since = info.create_time if info.create_time is not None else time.time()
        try:
            if self.paths.stop_request.stat().st_mtime < since:
                self.paths.stop_request.unlink(missing_ok=True)
        except OSError:
            pass

    def _database_lost(self) -> bool:
        """Compare the SQLite file at the configured path with the one found at start
        (or when it first appeared); on a difference, stop everything with an error."""
        path = self._database_file
        if path is None or self.fatal_error is not None:
            return self.fatal_error is not None
        now = _file_identity(path)
        if self._database_identity is None:
            self._database_identity = now
            return False
        if now == self._database_identity:
            return False
        what = "was deleted" if now is None else "was replaced by another file"
        self.fatal_error = (
            f"the database file {path} {what} while the manager was running; every daemon "
            "was stopped so that no upload goes unrecorded. Restore the file from a backup "
            "(upload-scheduler db backup) and start the manager again"
        )
        log.error("%s", self.fatal_error)
        try:
            self.notifier.notify("database_lost", "manager", self.fatal_error)
        except Exception:  # a message must never stop the shutdown
            log.exception("notification failed")
        self._stop.set()
        return True

    def _report_stop_reason(self) -> None:
        if self._stop_signal is not None:
            log.info("signal %d received: stopping every process", self._stop_signal)
            self._emit(EventKind.SIGNAL, signum=self._stop_signal)
        elif self._stop_by_request:
            log.info("stop requested (manager stop): stopping every process")
            self._emit(EventKind.STOP_REQUESTED)

    def _spawn(self, child: ChildProcess, now: float, *, restart: bool) -> None:
        record = child.record
        try:
            pid = child.spawn(now)
        except OSError as exc:
            log.error("%s could not be started: %s", record.key, exc)
            self._emit(EventKind.CHILD_START_FAILED, child=record, detail=str(exc))
            child.started_mono = now
            self._after_exit(child, None, now)
            return
        if restart:
            record.restarts += 1
            child.restart_times.append(now)
            log.warning(
                "%s restarted as PID %d (restart %d; last exit code %s)",
                record.key,
                pid,
                record.restarts,
                record.last_exit_code,
            )
            self._notify(
                "daemon_restarted",
                record,
                f"{record.key} exited with code {record.last_exit_code}; restarted as "
                f"PID {pid} (restart {record.restarts})",
            )
            self._emit(EventKind.CHILD_RESTARTED, child=record, pid=pid)
        else:
            log.info("%s started (PID %d)", record.key, pid)
            self._emit(EventKind.CHILD_STARTED, child=record, pid=pid)
        self._save()

    def _reap(self, now: float) -> None:
        for child in self.children.values():
            code = child.poll()
            if code is not None:
                self._after_exit(child, code, now)

    def _after_exit(self, child: ChildProcess, code: int | None, now: float) -> None:
        record = child.record
        record.last_exit_code = code
        if code is not None:
            log.warning("%s (PID %s) exited with code %s", record.key, record.pid, code)
            self._emit(EventKind.CHILD_EXITED, child=record, pid=record.pid, exit_code=code)
        if self._stop.is_set():
            record.state = STOPPED
            self._save()
            return
        lease = self._lease_elsewhere(child) if code not in (0, None) else None
        if lease is not None:
            delay = self.policy.lease_retry_seconds
            child.schedule(
                delay,
                now,
                LEASE_HELD,
                f"another worker holds the account's lease (PID {lease.pid} on host "
                f"{lease.host}); retrying every {delay:g}s",
            )
            log.warning("%s: %s", record.key, record.message)
            self._emit(EventKind.LEASE_HELD, child=record, delay=delay)
            self._save()
            return
        decision = self.policy.decide(
            started_at=child.started_mono,
            exited_at=now,
            failures=child.failures,
            restarts=child.restart_times,
        )
        child.failures = decision.failures
        entering = decision.crash_looping and not record.crash_looping
        record.crash_looping = decision.crash_looping
        if decision.crash_looping:
            recent = len(self.policy.recent(child.restart_times, now))
            child.schedule(
                decision.delay,
                now,
                CRASH_LOOPING,
                f"restarted {recent} times in "
                f"{self.policy.crash_window_seconds:g}s; retrying every "
                f"{decision.delay:g}s; see {record.stderr_path} and {record.log_path}",
            )
            if entering:
                log.error("%s is crash-looping: %s", record.key, record.message)
                self._notify(
                    "daemon_crashed", record, f"{record.key} is crash-looping: {record.message}"
                )
                self._emit(EventKind.CRASH_LOOPING, child=record, delay=decision.delay)
        else:
            child.schedule(
                decision.delay,
                now,
                RESTARTING,
                f"exited with code {code}; restarting in {decision.delay:g}s",
            )
        self._save()

    def _start_due(self, now: float) -> None:
        if any(c.next_start_mono is not None for c in self.children.values()):
            if self._database_lost():  # a new daemon would create an empty database
                return
        for child in self.children.values():
            due = child.next_start_mono
            if child.popen is None and due is not None and now >= due and not self._stop.is_set():
                self._spawn(child, now, restart=True)

    def _check(self, now: float) -> None:
        """The check-interval pass: a child that has run long enough is healthy again,
        and a child with no process and no restart planned gets one (never stuck)."""
        for child in self.children.values():
            record = child.record
            if child.running and child.failures and self.policy.is_stable(child.started_mono, now):
                child.failures = 0
                if record.crash_looping:
                    record.crash_looping = False
                    log.info("%s is running steadily again", record.key)
            elif child.popen is None and child.next_start_mono is None:
                child.schedule(0.0, now, RESTARTING, "no process; starting")
        running = sum(1 for c in self.children.values() if c.running)
        if running < len(self.children):
            log.info("check: %d of %d process(es) running", running, len(self.children))
        self._save()

    def _wait_stopped(self, child: ChildProcess, deadline: float) -> tuple[int | None, bool]:
        popen = child.popen
        if popen is None:
            return child.record.last_exit_code, False
        while True:
            code = popen.poll()
            if code is not None:
                child.popen = None
                return code, False
            if self._abort.is_set() or time.monotonic() >= deadline:
                break
            time.sleep(SHUTDOWN_POLL_SECONDS)
        if self._abort.is_set() and not self._abort_reported:
            self._abort_reported = True
            log.warning("second stop signal: killing the remaining processes")
            self._emit(EventKind.ABORTING)
        child.kill()
        code = child.wait(defaults.MANAGER_KILL_WAIT_SECONDS)
        child.popen = None
        return code, True

    def _stop_leftovers(self, previous: ManagerRecord | None) -> None:
        """Daemons started by a manager that was killed keep working. Stop them (each
        finishes its item) before starting ours: an account never has two workers."""
        found: dict[int, str] = {}
        if previous is not None:
            for old in previous.processes:
                if procs.is_daemon_of(old.pid, old.account_id, old.create_time):
                    assert old.pid is not None
                    found[old.pid] = old.key
        tails = {key: child.command[1:] for key, child in self.children.items()}
        for pid, key in procs.find_commands(tails).items():
            found.setdefault(pid, key)
        found.pop(os.getpid(), None)
        if not found:
            return
        for pid, key in found.items():
            log.warning("%s: PID %d was left running by a previous manager; stopping it", key, pid)
            self._emit(EventKind.LEFTOVER_STOPPING, pid=pid, detail=key)
            oskit.request_stop(pid)
        alive = procs.wait_gone(found, self.stop_timeout)
        for pid in alive:
            oskit.force_stop(pid)
        procs.wait_gone(alive, defaults.MANAGER_KILL_WAIT_SECONDS)
        for pid, key in found.items():
            self._emit(EventKind.LEFTOVER_STOPPED, pid=pid, detail=key, forced=pid in alive)

    def _lease_elsewhere(self, child: ChildProcess) -> figures.Lease | None:
        """The lease of another live worker, if that is why the child exited."""
        record = child.record
        if self._database_file is not None and not self._database_file.exists():
            return None  # connecting would create an empty database in its place
        try:
            lease = figures.current_lease(
                self._database(), record.platform, record.account_id, utc_now()
            )
        except Exception as exc:  # no database yet, or busy: judge it a crash
            log.debug("lease check for %s failed: %s", record.key, exc)
            return None
        if lease is None:
            return None
        here = lease.host == procs.host_name()
        if here and (lease.pid == record.pid or not procs.is_alive(lease.pid)):
            return None  # our own dead child's lease, or a dead worker's: not a conflict
        return lease

    # ------------------------------------------------------------------ helpers

    def _database(self) -> Engine:
        if self._engine is None:
            from upload_scheduler.store.engine import create_db_engine

            self._engine = create_db_engine(self.settings.database_url)
        return self._engine

    def _notify(self, kind: str, record: ChildRecord, message: str) -> None:
        try:
            self.notifier.notify(kind, f"{record.platform}/{record.account_id}", message)
        except Exception:  # a message must never stop the supervision
            log.exception("notification failed")

    def _emit(self, kind: EventKind, **fields: Any) -> None:
        try:
            self.on_event(ManagerEvent(kind, **fields))
        except Exception:  # a closed terminal must not stop the supervision
            log.debug("event sink failed", exc_info=True)

    def _save(self) -> None:
        if self.record is None:
            return
        self.record.processes = [c.record for c in self.children.values()]
        try:
            write_state(self.paths.state, self.record)
        except OSError as exc:
            log.error("could not write %s: %s", self.paths.state, exc)

    def _close(self) -> None:
        self.paths.stop_request.unlink(missing_ok=True)
        self._lock.release()
        if self._own_notifier:
            close = getattr(self.notifier, "close", None)
            if close is not None:
                close(timeout=5)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _sqlite_file(url: str) -> Path | None:
    from upload_scheduler.store.engine import sqlite_path

    path = sqlite_path(url)
    return path.resolve() if path is not None else None


def _file_identity(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of `path` (on Windows, volume serial and file index), or None."""
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _notifier(settings: Settings) -> Notifier:
    from upload_scheduler.notify import Notifier as SettingsNotifier

    return SettingsNotifier.from_settings(settings)
