"""The old system's files, read and never changed (LEGACY.md has the layout).

The master DB is opened read-only through SQLite's URI form, so not even a journal or a
WAL index is created next to it; JSON and Python files are only read as text.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upload_scheduler.legacy.settings_parse import SchedulerSettings, parse_settings

MASTER_DB = Path("inventory/data/master.db")
ACCOUNT_FILE = Path("platforms/base/accounts/account_config.json")
TOKEN_DIR = Path("platforms/base/accounts/tokens")
# The old system's later eBay module keeps its sellers and tokens beside BASE's.
EBAY_ACCOUNT_FILE = Path("platforms/ebay/accounts/account_config.json")
EBAY_TOKEN_DIR = Path("platforms/ebay/accounts/tokens")
ACCOUNT_FILES = {"base": ACCOUNT_FILE, "ebay": EBAY_ACCOUNT_FILE}
TOKEN_DIRS = {"base": TOKEN_DIR, "ebay": EBAY_TOKEN_DIR}
TOKEN_SUFFIX = "_token.json"
SETTINGS_FILE = Path("scheduler/config/accounts_config.py")
OLD_TABLES = ("products", "listings", "upload_queue")
# sku -> listing_id, offer_id of the eBay module's listings; older databases lack it.
EBAY_METADATA_TABLE = "ebay_listing_metadata"
_EBAY_METADATA_COLUMNS = ("sku", "listing_id", "offer_id", "created_at")


class LegacyError(Exception):
    """The old root cannot be used at all (not a folder, no master DB, not SQLite)."""


@dataclass
class OldDatabase:
    """The master DB's rows as dicts; a column an older schema lacks reads as None."""

    products: list[dict[str, Any]] = field(default_factory=list)
    listings: list[dict[str, Any]] = field(default_factory=list)
    upload_queue: list[dict[str, Any]] = field(default_factory=list)
    # ebay_listing_metadata's rows (sku, listing_id, offer_id, created_at); None: no
    # such table.
    ebay_metadata: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TokenFile:
    account_id: str
    path: Path
    data: dict[str, Any] | None  # None: unreadable, see `problem`
    problem: str = ""
    platform: str = "base"


@dataclass
class OldAccounts:
    accounts: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    found: bool = False
    file: str = ACCOUNT_FILE.as_posix()  # relative to the old root, for messages


class LegacyRoot:
    """The old project's root folder and the files import-legacy reads from it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def master_db(self) -> Path:
        return self.root / MASTER_DB

    def check(self) -> None:
        """Fail early, with what to do, when there is nothing to import from."""
        if not self.root.exists():
            raise LegacyError(f"{self.root} does not exist; give the old project's root folder")
        if not self.root.is_dir():
            raise LegacyError(f"{self.root} is not a folder; give the old project's root folder")
        if not self.master_db.is_file():
            raise LegacyError(
                f"no master database at {self.master_db}; is {self.root} the old project's "
                f"root folder (the one holding inventory/, platforms/ and scheduler/)?"
            )

    def read_database(self) -> OldDatabase:
        result = OldDatabase()
        with self._connect() as conn:
            for table in OLD_TABLES:
                try:
                    rows = [dict(row) for row in conn.execute(f'SELECT * FROM "{table}"')]
                except sqlite3.OperationalError as exc:
                    if "no such table" not in str(exc):
                        raise LegacyError(f"cannot read {self.master_db}: {exc}") from None
                    result.notes.append(f"the old database has no {table} table")
                    continue
                except sqlite3.DatabaseError as exc:
                    raise LegacyError(f"cannot read {self.master_db}: {exc}") from None
                if rows and "id" in rows[0]:
                    rows.sort(key=lambda r: (r["id"] is None, _sort_id(r["id"])))
                setattr(result, table, rows)
            result.ebay_metadata = self._ebay_metadata(conn)
        return result

    def _ebay_metadata(self, conn: sqlite3.Connection) -> list[dict[str, Any]] | None:
        """The eBay module's offer ids by SKU, or None when the database predates it."""
        try:
            columns = {
                str(row[1]) for row in conn.execute(f'PRAGMA table_info("{EBAY_METADATA_TABLE}")')
            }
            if "sku" not in columns:
                return None
            wanted = [c for c in _EBAY_METADATA_COLUMNS if c in columns]
            quoted = ", ".join(f'"{c}"' for c in wanted)
            rows = conn.execute(f'SELECT {quoted} FROM "{EBAY_METADATA_TABLE}"')
            return [{**dict.fromkeys(_EBAY_METADATA_COLUMNS), **dict(row)} for row in rows]
        except sqlite3.DatabaseError as exc:
            raise LegacyError(f"cannot read {self.master_db}: {exc}") from None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """Read-only; if SQLite refuses that (a WAL database whose index file is gone
        needs write access to rebuild it), read it as immutable: the old system is
        stopped when its data is moved over."""
        uri = self.master_db.resolve().as_uri()
        last: Exception | None = None
        for mode in ("?mode=ro", "?mode=ro&immutable=1"):
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(uri + mode, uri=True)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA query_only = ON")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as exc:
                last = exc
                if conn is not None:
                    conn.close()
                continue
            try:
                yield conn
            finally:
                conn.close()
            return
        raise LegacyError(f"cannot open {self.master_db} as an SQLite database: {last}")

    def read_accounts(self, platform: str = "base") -> OldAccounts:
        """A platform's account_config.json. A missing BASE file is worth a note; a
        missing eBay one only means the old system never listed on eBay."""
        relative = ACCOUNT_FILES[platform]
        name = relative.as_posix()
        path = self.root / relative
        result = OldAccounts(file=name)
        if not path.is_file():
            if platform == "base":
                result.problems.append(f"no {name}: no account credentials")
            return result
        result.found = True
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            result.problems.append(f"{name} cannot be read: {_no_secret(exc)}")
            return result
        accounts = data.get("accounts") if isinstance(data, dict) else None
        if not isinstance(accounts, list):
            result.problems.append(f"{name} has no 'accounts' list")
            return result
        for index, account in enumerate(accounts):
            if isinstance(account, dict) and str(account.get("id") or "").strip():
                result.accounts.append(account)
            else:
                result.problems.append(f"{name}: accounts[{index}] has no id; ignored")
        return result

    def read_settings(self) -> SchedulerSettings | None:
        """None when the old scheduler had no settings file."""
        path = self.root / SETTINGS_FILE
        if not path.is_file():
            return None
        try:
            source = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            return SchedulerSettings(problems=[f"{SETTINGS_FILE.as_posix()}: {exc}"])
        return parse_settings(source, SETTINGS_FILE.as_posix())

    def read_tokens(self, platform: str = "base") -> list[TokenFile]:
        folder = self.root / TOKEN_DIRS[platform]
        if not folder.is_dir():
            return []
        files = []
        for path in sorted(folder.glob(f"*{TOKEN_SUFFIX}")):
            account_id = path.name[: -len(TOKEN_SUFFIX)]
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                problem = f"not readable JSON: {_no_secret(exc)}"
                files.append(TokenFile(account_id, path, None, problem, platform))
                continue
            if not isinstance(data, dict):
                files.append(TokenFile(account_id, path, None, "not a JSON object", platform))
                continue
            files.append(TokenFile(account_id, path, data, platform=platform))
        return files


def _sort_id(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int) else (1, str(value))


def _no_secret(exc: Exception) -> str:
    """A JSON error's message quotes no document text, but its class name and position
    are enough to find the problem; never echo the file's content (it holds secrets)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno}, column {exc.colno}"
    return type(exc).__name__
