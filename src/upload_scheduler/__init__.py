"""upload-scheduler: list products on marketplaces from many seller accounts, safely.

The heavy pieces are imported lazily so that a daemon process, which needs only a
few modules, stays small (see the benchmark issue's RSS target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from upload_scheduler.queue.manager import UploadQueueManager
    from upload_scheduler.supervisor.manager import MultiAccountUploadManager
    from upload_scheduler.worker.account_daemon import UploadSchedulerAccountDaemon

__all__ = [
    "MultiAccountUploadManager",
    "UploadQueueManager",
    "UploadSchedulerAccountDaemon",
    "__version__",
]

# The seed's API names, importable from the package: each one's module loads on first use.
_LAZY = {
    "UploadQueueManager": "upload_scheduler.queue.manager",
    "MultiAccountUploadManager": "upload_scheduler.supervisor.manager",
    "UploadSchedulerAccountDaemon": "upload_scheduler.worker.account_daemon",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
