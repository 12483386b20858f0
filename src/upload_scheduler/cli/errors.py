"""The last line of every command: a storage or permission fault becomes one line that
names the file, server or setting and what to do, instead of a 100-line traceback a
person cannot act on. Anything we do not recognise keeps its traceback: it is a bug, and
the traceback is what a bug report needs."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Exit statuses (README, "Exit statuses"): 1 is a request we refuse or a verdict (invalid
# configuration, nothing to show); 2 is the environment (files, disk, database server).
EXIT_ERROR = 1
EXIT_ENVIRONMENT = 2
DEBUG_ENV_VAR = "UPLOAD_SCHEDULER_DEBUG"
# SQLite reports a full disk as SQLITE_FULL, or as an I/O error when the shared-memory
# file cannot grow; below this much free space we call the disk full.
FULL_DISK_BYTES = 1024 * 1024

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


class EnvironmentFault(Exception):
    """A fault of the machine, not of the request, already worded for a person."""

    exit_code = EXIT_ENVIRONMENT


@dataclass(frozen=True)
class Where:
    """What the command was using when it failed, to name the setting to change."""

    config: str | None = None
    database_url: str | None = None
    log_dir: Path | None = None


@dataclass(frozen=True)
class Problem:
    message: str
    exit_code: int


def debug_requested(flag: bool) -> bool:
    """--debug, or UPLOAD_SCHEDULER_DEBUG set to anything but empty/0/false."""
    value = os.environ.get(DEBUG_ENV_VAR, "").strip().lower()
    return flag or value not in ("", "0", "false", "no")


def unreadable_config(exc: OSError) -> EnvironmentFault:
    """The configuration file exists but cannot be read (mode, owner, a folder)."""
    return EnvironmentFault(
        f"cannot read the configuration file {exc.filename} ({_reason(exc)}): make it "
        "readable by this user, or pass another one with --config"
    )


def safe_url(url: str) -> str:
    """A database URL fit to print: the password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: show nothing of it rather than a secret
        return "the configured database_url"


def explain(exc: BaseException, where: Where) -> Problem | None:
    """One line for a fault we recognise, or None (then the traceback is shown)."""
    for link in _chain(exc):
        problem = _explain_one(link, where)
        if problem is not None:
            return Problem(_scrub(_one_line(problem.message), where), problem.exit_code)
    return None


def _explain_one(exc: BaseException, where: Where) -> Problem | None:
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    from upload_scheduler.store.database import DatabaseMissing

    if isinstance(exc, EnvironmentFault):
        return Problem(str(exc), exc.exit_code)
    if isinstance(exc, DatabaseMissing):
        return Problem(
            f"{exc} (database_url in {_config(where)}); nothing has been stored. A command "
            "that writes (`products import`, `add-to-queue`, `token login`, `db upgrade`) "
            "creates it; if it should exist, check database_url",
            EXIT_ERROR,
        )
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return _database_problem(exc.orig, where)
    if isinstance(exc, sqlite3.Error):
        return _database_problem(exc, where)
    if isinstance(exc, OSError) and exc.filename:
        return _file_problem(exc, where)
    return None


def _database_problem(orig: BaseException, where: Where) -> Problem | None:
    import sqlite3

    if isinstance(orig, sqlite3.Error):
        return _sqlite_problem(orig, where)
    if type(orig).__module__.split(".")[0] in ("psycopg", "psycopg2"):
        return _postgres_problem(orig, where)
    return None


def _sqlite_problem(orig: BaseException, where: Where) -> Problem | None:
    name = str(getattr(orig, "sqlite_errorname", ""))
    text = str(orig)
    path = _database_path(where)
    shown = str(path) if path is not None else "the SQLite database"
    setting = f"database_url in {_config(where)}"
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text:
        return _env(
            f"{shown} is not a usable SQLite database ({text}): restore it from a backup, "
            f"or move it aside to start an empty one, or fix {setting}"
        )
    if name.startswith("SQLITE_FULL") or (name.startswith("SQLITE_IOERR") and _disk_is_full(path)):
        return _env(
            f"the disk holding {shown} is full: free some space there, or move the "
            f"database ({setting}); this command changed nothing"
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        folder = path.parent if path is not None else "its folder"
        return _env(
            f"cannot write {shown} or its folder {folder} ({text}; SQLite keeps -wal and "
            f"-shm files beside it): give this user write access there, or change {setting}"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return _env(f"{shown} stayed locked by another process ({text}): try again")
    if name.startswith("SQLITE_IOERR"):
        return _env(f"disk I/O error on {shown} ({text}): check the disk and its folder")
    return None


def _postgres_problem(orig: BaseException, where: Where) -> Problem | None:
    names = {cls.__name__ for cls in type(orig).__mro__}
    if not names & {"OperationalError", "InterfaceError"}:
        return None  # a query the server refused: a bug, keep the traceback
    server = safe_url(where.database_url) if where.database_url else "the PostgreSQL server"
    return _env(
        f"cannot use the PostgreSQL database {server} ({_one_line(str(orig)).rstrip('.')}): "
        f"check that the server is running and reachable, and database_url in {_config(where)}"
    )


def _file_problem(exc: OSError, where: Where) -> Problem | None:
    name = Path(str(exc.filename))
    if exc.errno in _FULL_ERRNOS:
        return _env(
            f"the disk is full: cannot write {name} ({_reason(exc)}); free some space "
            "there, then run the command again"
        )
    what, hint = _which_setting(name, where)
    if exc.errno in _DENIED_ERRNOS:
        return _env(f"cannot write {what} {name} ({_reason(exc)}): {hint}")
    return _env(f"{what} {name}: {_reason(exc)}; {hint}")


def _which_setting(name: Path, where: Where) -> tuple[str, str]:
    """Which configured place `name` belongs to, and how to fix it."""
    config = _config(where)
    if where.log_dir is not None and _inside(name, where.log_dir):
        return (
            "the log file or folder",
            f"make the log folder {where.log_dir} writable by this user, or set log_dir "
            f"in {config}",
        )
    path = _database_path(where)
    if path is not None and _inside(name, path.parent):
        return (
            "the database file or folder",
            f"make the folder {path.parent} writable by this user (SQLite writes files "
            f"beside the database), or change database_url in {config}",
        )
    return ("the file", "check its owner, mode and disk")


def _database_path(where: Where) -> Path | None:
    if not where.database_url:
        return None
    from upload_scheduler.store.engine import sqlite_path

    try:
        return sqlite_path(where.database_url)
    except Exception:  # an unparsable URL: no path to name
        return None


def _disk_is_full(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return shutil.disk_usage(path.parent).free < FULL_DISK_BYTES
    except OSError:
        return False


def _inside(name: Path, folder: Path) -> bool:
    try:
        return name.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes, outermost first, each once."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _env(message: str) -> Problem:
    return Problem(message, EXIT_ENVIRONMENT)


def _config(where: Where) -> str:
    return where.config or "the configuration file"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _scrub(text: str, where: Where) -> str:
    """Never print a secret: a driver's message may quote the URL it was given."""
    if not where.database_url:
        return text
    from sqlalchemy.engine import make_url

    try:
        password = make_url(where.database_url).password
    except Exception:
        return text
    if password:
        text = text.replace(str(password), "***")
    return text
