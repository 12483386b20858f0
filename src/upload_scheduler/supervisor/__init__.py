"""The multi-account manager (seed `multi_account_manager.py`): one daemon subprocess
per account, restarted when it dies, stopped gracefully; its lock and state files; and
the pure tailing logic of the multi-log viewer (seed `view_multi_logs.py`).

The worker runs as a subprocess command and is never imported here, so a crash or a
hang in a worker cannot take the manager with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upload_scheduler.supervisor.manager import MultiAccountUploadManager

__all__ = ["MultiAccountUploadManager"]


def __getattr__(name: str) -> Any:
    if name == "MultiAccountUploadManager":
        from upload_scheduler.supervisor.manager import MultiAccountUploadManager

        return MultiAccountUploadManager
    raise AttributeError(name)
