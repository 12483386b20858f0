"""`import-legacy`: bring the old system's files (master DB, accounts, tokens, scheduler
settings; see LEGACY.md) into upload-scheduler. The old files are only ever read."""

from __future__ import annotations

from upload_scheduler.legacy.old_files import LegacyError
from upload_scheduler.legacy.report import ImportReport
from upload_scheduler.legacy.run import import_legacy

__all__ = ["ImportReport", "LegacyError", "import_legacy"]
