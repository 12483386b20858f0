"""One manager per log folder: an OS-level lock on `multi_account_manager.lock`, and
the holder's PID in `multi_account_manager.pid` for messages and for `stop`.

The operating system drops the lock when its process dies, even by kill -9, so a lock
left behind never blocks a new start; the PID file is only believed when that PID is
alive, started when recorded, and is a manager.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from filelock import FileLock, Timeout

from upload_scheduler.supervisor import procs
from upload_scheduler.supervisor.paths import ManagerPaths
from upload_scheduler.supervisor.state import iso, read_json, utc_now, write_json_atomic


@dataclass(frozen=True)
class ManagerInfo:
    pid: int
    create_time: float | None
    host: str
    started_at: str | None


class ManagerAlreadyRunning(RuntimeError):
    def __init__(self, info: ManagerInfo | None, lock_path: os.PathLike[str]) -> None:
        self.info = info
        if info is not None:
            message = (
                f"the manager is already running (PID {info.pid} on host {info.host}, "
                f"started {info.started_at}); stop it with `upload-scheduler manager stop`"
            )
        else:
            message = f"another manager holds {lock_path}; stop it first"
        super().__init__(message)


def read_manager_info(paths: ManagerPaths) -> ManagerInfo | None:
    data = read_json(paths.pid_file)
    if not data or not isinstance(data.get("pid"), int):
        return None
    return ManagerInfo(
        pid=data["pid"],
        create_time=data.get("create_time"),
        host=str(data.get("host", "")),
        started_at=data.get("started_at"),
    )


def running_manager(paths: ManagerPaths) -> ManagerInfo | None:
    """The live manager of this log folder, or None. Reads files only: taking the lock
    to look would make a concurrent `start` fail."""
    info = read_manager_info(paths)
    if info is None or not procs.is_manager(info.pid, info.create_time):
        return None
    return info


class ManagerLock:
    def __init__(self, paths: ManagerPaths) -> None:
        self.paths = paths
        self._lock: Any = None
        self.info: ManagerInfo | None = None

    @property
    def held(self) -> bool:
        return self._lock is not None

    def acquire(self) -> ManagerInfo:
        """Take the lock or raise ManagerAlreadyRunning (with the holder's PID)."""
        if self._lock is not None:
            assert self.info is not None
            return self.info
        self.paths.log_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.paths.lock), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise ManagerAlreadyRunning(read_manager_info(self.paths), self.paths.lock) from None
        pid = os.getpid()
        info = ManagerInfo(pid, procs.create_time(pid), procs.host_name(), iso(utc_now()))
        write_json_atomic(
            self.paths.pid_file,
            {
                "pid": info.pid,
                "create_time": info.create_time,
                "host": info.host,
                "started_at": info.started_at,
            },
        )
        self._lock, self.info = lock, info
        return info

    def release(self) -> None:
        if self._lock is None:
            return
        try:
            current = read_manager_info(self.paths)
            if current is not None and current.pid == os.getpid():
                self.paths.pid_file.unlink(missing_ok=True)
        finally:
            self._lock.release()
            self._lock = None
