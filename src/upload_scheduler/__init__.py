"""upload-scheduler: list products on marketplaces from many seller accounts, safely.

The heavy pieces are imported lazily so that a daemon process, which needs only a
few modules, stays small (see the benchmark issue's RSS target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from upload_scheduler.queue.manager import UploadQueueManager

__all__ = ["UploadQueueManager", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "UploadQueueManager":
        from upload_scheduler.queue.manager import UploadQueueManager

        return UploadQueueManager
    raise AttributeError(name)
