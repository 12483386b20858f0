"""Where the manager keeps its files: all of them in the configured log folder, so one
installation has one manager, whichever folder it is started from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from upload_scheduler import defaults
from upload_scheduler.naming import child_stderr_name, log_file_name

# Written by `manager start --detach` before anything else, so that a `manager stop` run
# while the background manager is still starting finds it (see control.py).
START_MARKER_FILE = "multi_account_manager.starting"


@dataclass(frozen=True)
class ManagerPaths:
    log_dir: Path

    @property
    def lock(self) -> Path:
        return self.log_dir / defaults.MANAGER_LOCK_FILE

    @property
    def pid_file(self) -> Path:
        return self.log_dir / defaults.MANAGER_PID_FILE

    @property
    def state(self) -> Path:
        return self.log_dir / defaults.MANAGER_STATE_FILE

    @property
    def log(self) -> Path:
        return self.log_dir / defaults.MANAGER_LOG_FILE

    @property
    def stop_request(self) -> Path:
        return self.log_dir / defaults.MANAGER_STOP_REQUEST_FILE

    @property
    def start_marker(self) -> Path:
        return self.log_dir / START_MARKER_FILE

    @property
    def manager_stderr(self) -> Path:
        return self.log_dir / defaults.MANAGER_STDERR_FILE

    def child_stderr(self, platform: str, account_id: str) -> Path:
        return self.log_dir / child_stderr_name(platform, account_id)

    def child_log(self, platform: str, account_id: str) -> Path:
        return self.log_dir / log_file_name(platform, account_id)
