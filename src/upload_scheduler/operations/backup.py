"""`db backup PATH`: a consistent copy of the SQLite database while daemons run.

SQLite's online backup API copies the pages as of one read transaction; in WAL mode
that read does not block the writers, so daemons keep working meanwhile. Copying the
file with `cp` instead could catch it between a write to the WAL and a checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from upload_scheduler.store.engine import SQLITE_BUSY_TIMEOUT_MS, sqlite_path


class BackupError(Exception):
    """The backup cannot be made; the message says what to do instead."""


@dataclass(frozen=True)
class BackupReport:
    source: Path
    destination: Path
    size_bytes: int
    tables: dict[str, int]


def backup_database(url: str, destination: Path) -> BackupReport:
    """Copy the database at `url` to `destination`, which must not exist. The copy is a
    single self-contained file (no -wal), readable by its owner only: it holds tokens."""
    source = sqlite_path(url)
    if source is None:
        backend = make_url(url).get_backend_name()
        raise BackupError(
            f"db backup copies SQLite files; this database is {backend}. Use its own tool, "
            "for PostgreSQL: pg_dump --format=custom --file=PATH DBNAME"
        )
    if not source.exists():
        raise BackupError(f"there is no database at {source} yet: nothing to back up")
    destination = destination.expanduser()
    if destination.exists():
        raise BackupError(f"{destination} already exists; not overwriting it")
    if destination.resolve() == source.resolve():
        raise BackupError("the backup path is the database itself")
    destination.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL claims the name atomically: a file that appeared meanwhile is never replaced.
    try:
        fd = os.open(destination, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise BackupError(f"{destination} already exists; not overwriting it") from None
    os.close(fd)
    try:
        _copy(source, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            destination.unlink()
        raise
    return BackupReport(source, destination, destination.stat().st_size, _tables(destination))


def _copy(source: Path, destination: Path) -> None:
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        dst = sqlite3.connect(destination)
        try:
            # pages=-1: every page in one step, from one snapshot. Stepwise copies restart
            # whenever another connection writes, which a busy daemon does all the time.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
            problems = dst.execute("PRAGMA quick_check").fetchall()
            if problems != [("ok",)]:
                raise BackupError(f"the copy failed its check: {problems[:3]}")
        finally:
            dst.close()
    finally:
        src.close()


def _tables(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [
            n
            for (n,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        return {n: int(db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}
