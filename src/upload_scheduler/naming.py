"""Names both the workers and the supervisor must agree on: this host's identity and
the seed's log file names. Neither imports the other, so they meet here."""

from __future__ import annotations

import os
import socket

HOST_ENV_VAR = "UPLOAD_SCHEDULER_HOST_ID"


def host_id() -> str:
    """This host's name in leases and the manager's state; tests set the variable to
    play several hosts on one machine."""
    return os.environ.get(HOST_ENV_VAR) or socket.gethostname()


def log_file_name(platform: str, account_id: str | None) -> str:
    """The seed's names: upload_scheduler_{platform}_{account}.log, and
    upload_scheduler_{platform}.log for the platform-wide daemon."""
    if account_id is None:
        return f"upload_scheduler_{platform}.log"
    return f"upload_scheduler_{platform}_{account_id}.log"


def child_stderr_name(platform: str, account_id: str) -> str:
    """Where a managed daemon's early crash output goes (before its log is set up)."""
    return f"{platform}_{account_id}.stderr"
