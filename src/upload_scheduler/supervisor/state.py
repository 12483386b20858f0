"""The state file (`logs/multi_account_manager.state.json`): what the manager runs, for
`status` and `stop` in other processes. Written whole and renamed into place at every
change, so a reader sees the old or the new state, never half of one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from upload_scheduler.config import AccountSettings

STATE_VERSION = 1

# Child states. `running` means a process is there; the three waiting states say why
# none is; `stopping` and `stopped` belong to a shutdown.
RUNNING = "running"
RESTARTING = "restarting"
CRASH_LOOPING = "crash_looping"
LEASE_HELD = "lease_held"
STOPPING = "stopping"
STOPPED = "stopped"

# Manager states.
MANAGER_STARTING = "starting"
MANAGER_RUNNING = "running"
MANAGER_STOPPING = "stopping"
MANAGER_STOPPED = "stopped"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def settings_summary(account: AccountSettings) -> dict[str, Any]:
    """The settings shown next to each process (seed: batch_size=10, interval=60s)."""
    return {
        "batch_size": account.batch_size,
        "interval_seconds": account.interval_seconds,
        "business_hours_start": account.business_hours_start,
        "business_hours_end": account.business_hours_end,
        "min_interval_seconds": account.min_interval_seconds,
        "timezone": account.timezone,
    }


@dataclass
class ChildRecord:
    platform: str
    account_id: str
    pid: int | None = None  # the current process, else the last one
    create_time: float | None = None  # psutil's: tells our process from a reused PID
    started_at: str | None = None
    restarts: int = 0
    last_exit_code: int | None = None
    state: str = STOPPED
    crash_looping: bool = False
    next_start_at: str | None = None
    message: str = ""
    stop_result: str | None = None  # stopped | killed | not_running, set by a shutdown
    settings: dict[str, Any] = field(default_factory=dict)
    stderr_path: str = ""
    log_path: str = ""

    @property
    def key(self) -> str:
        """The seed's process name: base_base_account_1."""
        return f"{self.platform}_{self.account_id}"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChildRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ManagerRecord:
    pid: int
    host: str
    started_at: str
    create_time: float | None = None
    state: str = MANAGER_STARTING
    check_interval: float = 60.0
    stop_timeout: float = 60.0
    config: str = ""
    updated_at: str | None = None
    processes: list[ChildRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = STATE_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManagerRecord:
        known = {f.name for f in fields(cls)} - {"processes"}
        record = cls(**{k: v for k, v in data.items() if k in known})
        record.processes = [ChildRecord.from_json(p) for p in data.get("processes", [])]
        return record


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    for _ in range(20):
        try:
            os.replace(temporary, path)
            return
        except PermissionError:
            # Windows refuses to replace a file another process is reading; retry.
            time.sleep(0.05)
    os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any] | None:
    for _ in range(5):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, PermissionError, UnicodeDecodeError):
            time.sleep(0.05)  # Windows: caught mid-replace
            continue
        return data if isinstance(data, dict) else None
    return None


def write_state(path: Path, record: ManagerRecord) -> None:
    record.updated_at = iso(utc_now())
    write_json_atomic(path, record.to_json())


def read_state(path: Path) -> ManagerRecord | None:
    data = read_json(path)
    if data is None:
        return None
    try:
        return ManagerRecord.from_json(data)
    except (TypeError, ValueError):
        return None
