"""Log files for daemons: one handler per file per process, flushed per line, rotated
by size, with times in the configured zone.

The old system lost its logs when two handlers rotated one file, and hung when a
service's closed stdout was printed to; here each process owns its file, and console
output is added only when a console is really there.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from zoneinfo import ZoneInfo

from upload_scheduler.naming import log_file_name

__all__ = ["ZoneFormatter", "log_file_name", "setup_daemon_logging"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5
ROOT_LOGGER = "upload_scheduler"
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: what moves a
# terminal's cursor, recolours it, or starts a new line in a log viewer.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class ZoneFormatter(logging.Formatter):
    """`YYYY-MM-DD HH:MM:SS` in the configured zone (the logs say JST, and mean it)."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__(LOG_FORMAT)
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line with control characters escaped: a title or id holding a newline or
        an escape code, formatted into the message, cannot forge a log line or drive the
        terminal of whoever reads the log. A traceback, appended after this, keeps its
        lines."""
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def escape_controls(text: str) -> str:
    """`text` with each control character written as a visible escape (\\n, \\x1b)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def setup_daemon_logging(
    log_dir: Path,
    file_name: str,
    zone: ZoneInfo,
    *,
    level: int = logging.INFO,
    console: bool = True,
) -> Path:
    """Route the package's loggers to `log_dir/file_name` (and to stderr if it is a
    terminal). Calling it again replaces the handlers instead of adding more."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / file_name
    logger = logging.getLogger(ROOT_LOGGER)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    formatter = ZoneFormatter(zone)
    file_handler = RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    file_handler.setFormatter(formatter)
    logger.addHandler(file_handler)
    if console and _is_terminal(sys.stderr):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        logger.addHandler(stream)
    logger.setLevel(level)
    logger.propagate = False
    return path


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream) and stream.isatty()  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False
