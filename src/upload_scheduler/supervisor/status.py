"""`manager status`: the state file checked against the live processes, plus what the
database says about each account. Plain data; the CLI renders it or dumps it as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from upload_scheduler.config import Settings
from upload_scheduler.supervisor import procs
from upload_scheduler.supervisor.figures import AccountFigures, Lease, NextItem, account_figures
from upload_scheduler.supervisor.lock import running_manager
from upload_scheduler.supervisor.paths import ManagerPaths
from upload_scheduler.supervisor.state import (
    RUNNING,
    STOPPED,
    ChildRecord,
    ManagerRecord,
    iso,
    parse_iso,
    read_state,
    settings_summary,
    utc_now,
)


@dataclass
class ProcessStatus:
    platform: str
    account_id: str
    state: str
    pid: int | None
    uptime_seconds: float | None
    restarts: int
    last_exit_code: int | None
    paused_until: datetime | None = None
    pause_reason: str | None = None
    crash_looping: bool = False
    message: str = ""
    next_start_at: datetime | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    stderr_path: str = ""
    log_path: str = ""
    figures: AccountFigures | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}_{self.account_id}"

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def lease(self) -> Lease | None:
        return self.figures.lease if self.figures else None

    @property
    def standby(self) -> bool:
        """Running here while another process (on another host) holds the account."""
        lease = self.lease
        return self.running and lease is not None and lease.pid != self.pid

    def to_json(self) -> dict[str, Any]:
        """The contract keys first, in the documented order; extras after them."""
        next_item: NextItem | None = self.figures.next_item if self.figures else None
        return {
            "platform": self.platform,
            "account_id": self.account_id,
            "state": self.state,
            "pid": self.pid,
            "uptime_seconds": None if self.uptime_seconds is None else round(self.uptime_seconds),
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "paused_until": iso(self.paused_until),
            "pause_reason": self.pause_reason,
            "crash_looping": self.crash_looping,
            "message": self.message,
            "next_start_at": iso(self.next_start_at),
            "settings": self.settings,
            "today_success": self.figures.today_success if self.figures else None,
            "today_failed": self.figures.today_failed if self.figures else None,
            "pending": self.figures.pending if self.figures else None,
            "next_item": None
            if next_item is None
            else {
                "queue_id": next_item.queue_id,
                "asin": next_item.asin,
                "scheduled_time": iso(next_item.scheduled_time),
                "priority": next_item.priority,
            },
            "stderr_path": self.stderr_path,
            "log_path": self.log_path,
            "lease_host": self.lease.host if self.lease else None,
            "lease_pid": self.lease.pid if self.lease else None,
            "lease_expires_at": iso(self.lease.expires_at) if self.lease else None,
            "standby": self.standby,
            "today_deleted": self.figures.today_deleted if self.figures else None,
        }


@dataclass
class ManagerStatus:
    running: bool
    pid: int | None
    host: str | None
    started_at: str | None
    check_interval: float | None
    processes: list[ProcessStatus]
    database_error: str | None = None

    @property
    def running_count(self) -> int:
        return sum(1 for p in self.processes if p.running)

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "host": self.host,
            "processes": [p.to_json() for p in self.processes],
            "started_at": self.started_at,
            "check_interval": self.check_interval,
            "total": len(self.processes),
            "running_count": self.running_count,
            "database_error": self.database_error,
        }


def read_status(
    settings: Settings, engine: Engine | None = None, now: datetime | None = None
) -> ManagerStatus:
    """The manager's and each account's status. Accounts come from the state file (what
    runs) and from the config (what would run after a restart)."""
    now = now or utc_now()
    paths = ManagerPaths(settings.log_dir)
    manager = running_manager(paths)
    state = read_state(paths.state)
    records = _records(settings, state, paths)
    processes = [_process(r, manager is not None, now) for r in records]
    database_error = None
    if engine is not None:
        database_error = _add_figures(settings, engine, processes, now)
    return ManagerStatus(
        running=manager is not None,
        pid=manager.pid if manager else None,
        host=manager.host if manager else (state.host if state else None),
        started_at=manager.started_at if manager else None,
        check_interval=state.check_interval if state and manager else None,
        processes=processes,
        database_error=database_error,
    )


def _records(
    settings: Settings, state: ManagerRecord | None, paths: ManagerPaths
) -> list[ChildRecord]:
    recorded = {r.key: r for r in state.processes} if state else {}
    records = list(recorded.values())
    for platform, account_id in settings.all_accounts():
        key = f"{platform}_{account_id}"
        if key not in recorded:
            records.append(
                ChildRecord(
                    platform,
                    account_id,
                    settings=settings_summary(settings.account(platform, account_id)),
                    stderr_path=str(paths.child_stderr(platform, account_id)),
                    log_path=str(paths.child_log(platform, account_id)),
                )
            )
    return records


def _process(record: ChildRecord, manager_running: bool, now: datetime) -> ProcessStatus:
    alive = procs.is_daemon_of(record.pid, record.account_id, record.create_time)
    if alive:
        state = RUNNING
    elif manager_running and record.state != RUNNING:
        state = record.state  # restarting, crash_looping, lease_held: the manager knows why
    else:
        state = STOPPED
    started = parse_iso(record.started_at)
    uptime = (now - started).total_seconds() if alive and started else None
    return ProcessStatus(
        platform=record.platform,
        account_id=record.account_id,
        state=state,
        pid=record.pid if alive else None,
        uptime_seconds=uptime,
        restarts=record.restarts,
        last_exit_code=record.last_exit_code,
        crash_looping=record.crash_looping and manager_running,
        message=record.message if manager_running else "",
        next_start_at=parse_iso(record.next_start_at) if manager_running and not alive else None,
        settings=record.settings,
        stderr_path=record.stderr_path,
        log_path=record.log_path,
    )


def _add_figures(
    settings: Settings, engine: Engine, processes: list[ProcessStatus], now: datetime
) -> str | None:
    try:
        with engine.connect() as conn:
            for process in processes:
                zone = settings.zone
                if process.account_id in settings.account_ids(process.platform):
                    zone = settings.account(process.platform, process.account_id).zone
                figures = account_figures(conn, process.platform, process.account_id, zone, now)
                process.figures = figures
                process.paused_until = figures.paused_until
                process.pause_reason = figures.pause_reason
    except Exception as exc:  # status must show the processes even without a database
        return f"{type(exc).__name__}: {exc}"
    return None
