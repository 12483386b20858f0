"""The manager's own log file, `logs/multi_account_manager.log`: one rotating handler,
flushed per line, in the same format as the daemons' logs so the log viewer reads it.
Only the manager's process calls this; the Python API leaves logging to its host."""

from __future__ import annotations

import logging
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from zoneinfo import ZoneInfo

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5
PACKAGE_LOGGER = "upload_scheduler"


class _ZoneFormatter(logging.Formatter):
    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__(LOG_FORMAT)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.zone).strftime("%Y-%m-%d %H:%M:%S")


def setup_manager_logging(path: Path, zone: ZoneInfo, level: int = logging.INFO) -> None:
    """Send the package's log records to `path`; calling again replaces the handler."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(PACKAGE_LOGGER)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    handler = RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.setFormatter(_ZoneFormatter(zone))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
