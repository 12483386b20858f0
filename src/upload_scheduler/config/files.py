"""Finding and reading the configuration file, and the checks that need no pydantic:
shared by the full loader (`load.py`) and the daemon child's light one (`light.py`)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from upload_scheduler import defaults

POSTGRES_DRIVER = "postgresql+psycopg"
# The URL schemes the store supports; any other (mysql://) would fail in every command.
SUPPORTED_DRIVERS = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", POSTGRES_DRIVER}
)
# An account id names its log, lock and state files in log_dir: no separator, no "..".
ACCOUNT_ID = re.compile(r"[A-Za-z0-9_.-]+")


class ConfigError(Exception):
    """An unusable configuration; `problems` holds one message per problem."""

    def __init__(self, source: Path | None, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        where = f"{source}: " if source else ""
        super().__init__("\n".join(f"{where}{p}" for p in problems))


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else $UPLOAD_SCHEDULER_CONFIG, else ./upload-scheduler.toml."""
    if explicit:
        path, origin = Path(explicit), "--config"
    elif os.environ.get(defaults.CONFIG_ENV_VAR):
        path, origin = Path(os.environ[defaults.CONFIG_ENV_VAR]), f"${defaults.CONFIG_ENV_VAR}"
    else:
        path, origin = Path.cwd() / defaults.CONFIG_FILE_NAME, "the current folder"
    if not path.is_file():
        raise ConfigError(
            None,
            [
                f"no configuration file at {path} (from {origin}); "
                "create one with `upload-scheduler init`, or pass --config PATH"
            ],
        )
    return path.resolve()


def read_config(path: Path) -> dict[str, Any]:
    """The file's TOML document; a file that is no TOML or no UTF-8 is a ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError(path, ["not UTF-8 text; save the file as UTF-8"]) from None


def resolve_database_url(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file, not the cwd, and give a
    bare `postgresql://` URL the psycopg 3 driver (SQLAlchemy 2.0 would pick psycopg2)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # reported by the semantic checks
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername=POSTGRES_DRIVER).render_as_string(hide_password=False)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    db_path = Path(parsed.database)
    if not db_path.is_absolute():
        db_path = (base / db_path).resolve()
    return parsed.set(database=str(db_path)).render_as_string(hide_password=False)


def check_zone(key: str, name: str) -> list[str]:
    """`key`'s problem when `name` is no time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [f"{key}: unknown time zone {name!r} (use an IANA name such as 'Asia/Tokyo')"]
    return []


def database_problems(url: str) -> list[str]:
    """What is wrong with the `database` URL: not a URL, or PostgreSQL without psycopg."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return [f"database: {url!r} is not a database URL"]
    if parsed.drivername not in SUPPORTED_DRIVERS:
        # Only the scheme is shown: the rest of a URL may hold a password.
        return [
            f"database: {parsed.drivername}:// is not supported; use sqlite:///PATH or "
            "postgresql://user:password@host/db"
        ]
    if parsed.drivername in ("postgresql", "postgres", POSTGRES_DRIVER) and not find_spec(
        "psycopg"
    ):
        return [
            "database: PostgreSQL needs the psycopg driver; install it with "
            'pip install "upload-scheduler[postgres]"'
        ]
    return []


class PlatformCatalog(Protocol):
    """The installed platform adapters, as the caller knows them (`platforms.registry` is
    one). Config sits above `platforms` in DESIGN.md's layer table, so the caller hands
    it in: config never imports `platforms`."""

    def is_installed(self, name: str, /) -> bool: ...

    def installed_platforms(self) -> frozenset[str]: ...


def platform_problems(
    accounts: Mapping[str, Any], platforms: Mapping[str, Any], catalog: PlatformCatalog
) -> list[str]:
    """Platforms named in [accounts] or [platforms] that have no adapter installed."""
    missing = sorted(p for p in {*accounts, *platforms} if not catalog.is_installed(p))
    if not missing:
        return []
    installed = ", ".join(sorted(catalog.installed_platforms())) or "none"
    return [
        f"{'[platforms.' + p + ']' if p in platforms else '[accounts]'}: no adapter is "
        f"installed for platform {p!r} (installed: {installed})"
        for p in missing
    ]


def account_problems(accounts: Mapping[str, list[str]]) -> tuple[list[str], dict[str, str]]:
    """Empty, malformed or twice-listed account ids, and the platform of each account
    listed. An id names files in log_dir, so "../x" or "a/b" would put them elsewhere."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for platform, ids in accounts.items():
        for account_id in ids:
            if not account_id.strip():
                problems.append(f"[accounts] {platform}: an account id is empty")
            elif not ACCOUNT_ID.fullmatch(account_id) or ".." in account_id:
                problems.append(
                    f"[accounts] {platform}: account id {account_id!r} may only hold letters, "
                    'digits, "_", "." and "-" (and no "..")'
                )
            elif account_id in seen:
                problems.append(
                    f"[accounts] account {account_id!r} is listed twice "
                    f"({seen[account_id]} and {platform})"
                )
            seen.setdefault(account_id, platform)
    return problems, seen


def required_key_problems(
    accounts: Mapping[str, list[str]],
    platforms: Mapping[str, Any],
    overrides: Mapping[str, Mapping[str, object]],
) -> list[str]:
    """Accounts without a key their platform needs (`defaults.PLATFORM_REQUIRED_KEYS`:
    a Yahoo! store's seller_id), set neither for the platform nor for the account."""
    problems: list[str] = []
    for platform, keys in defaults.PLATFORM_REQUIRED_KEYS.items():
        section = platforms.get(platform)
        for account_id in accounts.get(platform, []):
            own = overrides.get(account_id, {})
            for key in keys:
                if not str(own.get(key) or getattr(section, key, "") or "").strip():
                    problems.append(
                        f"[account_overrides.{account_id}] {key}: required for a {platform} "
                        f'account (set {key} = "..." there, or in [platforms.{platform}])'
                    )
    return problems
