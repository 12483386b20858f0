"""Which file an SQLite database is: (device, inode) of the path, as recorded when a
process opened it, so that a file deleted or replaced under a running daemon is noticed.

An SQLite connection keeps writing into the file it opened even after `rm` removed it
from its folder (or another file was put at its path): every record written from then on
is lost. Comparing one `os.stat` of the configured path with the identity recorded at
open is cheap enough to do before every burst. On Windows `st_ino` is the NTFS file index.
PostgreSQL and in-memory SQLite have no such file: there is nothing to check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


@dataclass(frozen=True)
class FileIdentity:
    """What makes a file the same file, whatever its path or contents."""

    device: int
    inode: int


@dataclass(frozen=True)
class OpenedFile:
    """The database file a process opened: its absolute path and its identity then."""

    path: Path
    identity: FileIdentity


def database_file(url: str | URL) -> Path | None:
    """The absolute path of an SQLite URL's file; None for other databases and memory.

    Absolute so that a message names the file whatever the reader's folder is."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None  # an SQLite URI ("file:...?mode=memory"): not a plain path
    return Path(database).absolute()


def identity_of(path: Path) -> FileIdentity | None:
    """The identity of the file at `path`, or None when nothing is there.

    Any other failure of `os.stat` (a permission) raises: it says nothing about the file."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return FileIdentity(st.st_dev, st.st_ino)


def record(url: str | URL) -> OpenedFile | None:
    """What to compare with later: the file of `url` as it is now, or None when there is
    no file to watch (PostgreSQL, memory, or no file at the path yet)."""
    path = database_file(url)
    if path is None:
        return None
    identity = identity_of(path)
    return None if identity is None else OpenedFile(path, identity)


def change(opened: OpenedFile) -> str | None:
    """Why the file at the opened path is no longer the one opened, or None if it is.

    The text completes "the database file PATH ..."."""
    try:
        now = identity_of(opened.path)
    except OSError:
        return None  # cannot be told now (a permission); the next check looks again
    if now is None:
        return "is gone (deleted or moved away)"
    if now != opened.identity:
        return "was replaced by another file"
    return None
