"""Who holds a lease: host, process and its start time, so that a lease left by a
process that died (kill -9) on this host is recognised at once, even if its PID has
been reused since."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import psutil

from upload_scheduler.naming import HOST_ENV_VAR, host_id

__all__ = ["HOST_ENV_VAR", "Identity", "host_id", "owner_is_dead"]


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
        return None


@dataclass(frozen=True)
class Identity:
    host: str
    pid: int
    owner: str  # unique per process run: host, pid, start time and a random part

    @classmethod
    def current(cls) -> Identity:
        pid = os.getpid()
        started = _create_time(pid) or 0.0
        host = host_id()
        return cls(host, pid, f"{host}:{pid}:{started:.2f}:{uuid.uuid4().hex[:8]}")


def owner_is_dead(owner: str | None, host: str | None, pid: int | None) -> bool:
    """True when the owner ran on this host and that process no longer runs. An owner
    on another host can only be judged by its lease's expiry."""
    if not owner or host != host_id() or pid is None:
        return False
    started = _create_time(pid)
    if started is None:
        return True
    parts = owner.split(":")
    try:
        recorded = float(parts[-2])
    except (IndexError, ValueError):
        return False
    return abs(started - recorded) > 0.05
