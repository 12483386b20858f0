"""Find, parse and validate the configuration file, reporting every problem at once."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from upload_scheduler.config.files import (
    POSTGRES_DRIVER,
    ConfigError,
    PlatformCatalog,
    account_problems,
    database_problems,
    find_config,
    platform_problems,
    read_config,
    required_key_problems,
    resolve_database_url,
)
from upload_scheduler.config.files import check_zone as _check_zone
from upload_scheduler.config.model import DaemonConfig, FileConfig, PlatformConfig
from upload_scheduler.config.settings import Settings
from upload_scheduler.config.values import (
    DAEMON_KEYS,
    OVERRIDE_KEYS,
    PLATFORM_KEYS,
    DaemonValues,
    FileValues,
    as_dict,
    build,
    with_platform_defaults,
)

__all__ = [
    "POSTGRES_DRIVER",
    "ConfigError",
    "find_config",
    "load_settings",
    "resolve_database_url",
    "settings_from_dict",
]


def load_settings(
    explicit: str | os.PathLike[str] | None = None, *, platforms: PlatformCatalog | None = None
) -> Settings:
    """The settings of the file `find_config` finds. `platforms` (the caller's view of the
    installed adapters, `platforms.registry`) checks the platform names; None skips that
    check. Raises ConfigError naming every problem."""
    path = find_config(explicit)
    return settings_from_dict(read_config(path), path, platforms=platforms)


def settings_from_dict(
    raw: dict[str, Any], source: Path, *, platforms: PlatformCatalog | None = None
) -> Settings:
    """The settings of a TOML document read from `source` (see `load_settings`)."""
    try:
        model = FileConfig.model_validate(with_platform_defaults(raw))
    except ValidationError as exc:
        raise ConfigError(source, _describe(exc, FileConfig)) from None
    file = build(FileValues, model.model_dump())
    problems = _check_semantics(file, platforms)
    if problems:
        raise ConfigError(source, problems)
    return Settings.from_file(source, file)


def _check_semantics(file: FileValues, platforms: PlatformCatalog | None) -> list[str]:
    problems = database_problems(file.database)
    problems += _check_zone("timezone", file.timezone)
    if platforms is not None:
        problems += platform_problems(file.accounts, file.platforms, platforms)
    account_issues, seen = account_problems(file.accounts)
    problems += account_issues
    problems += required_key_problems(file.accounts, file.platforms, file.account_overrides)
    for account_id, overrides in file.account_overrides.items():
        section = f"[account_overrides.{account_id}]"
        if account_id not in seen:
            problems.append(
                f"{section}: account {account_id!r} is not listed under [accounts]"
                + _suggest(account_id, seen)
            )
        problems += _check_overrides(section, overrides, file.daemon)
    return problems


def _check_overrides(section: str, overrides: dict[str, object], daemon: DaemonValues) -> list[str]:
    problems: list[str] = []
    for key in overrides:
        if key not in OVERRIDE_KEYS:
            problems.append(f"{section} {key}: unknown key" + _suggest(key, OVERRIDE_KEYS))
    known = {k: v for k, v in overrides.items() if k in OVERRIDE_KEYS}
    if "timezone" in known:
        if isinstance(known["timezone"], str):
            problems += _check_zone(f"{section} timezone", known["timezone"])
        else:
            problems.append(f"{section} timezone: must be a time zone name such as 'Asia/Tokyo'")
    # The [daemon] keys are checked merged with the file's [daemon], so that the window's
    # rule sees the account's own window.
    for model, keys, base in (
        (DaemonConfig, DAEMON_KEYS, as_dict(daemon)),
        (PlatformConfig, PLATFORM_KEYS, {}),
    ):
        try:
            model.model_validate({**base, **{k: v for k, v in known.items() if k in keys}})
        except ValidationError as exc:
            problems += _describe(exc, model, section)
    return problems


def _describe(exc: ValidationError, model: type[BaseModel], section: str = "") -> list[str]:
    """One message per error, naming the key as the file spells it; `section` is the
    table the validated values came from, when `model` is not the whole file."""
    messages: list[str] = []
    for err in exc.errors():
        if err["type"] == "string_type" and isinstance(err.get("input"), dict):
            continue  # a table where `str | table` is allowed: the table's own errors say it
        loc = [str(p) for p in err["loc"] if not _union_member(str(p))]
        key = _location(loc)
        private = any(word in key for word in ("secret", "token", "webhook"))
        if section:
            key = f"{section} {key}" if loc else section
        if err["type"] == "extra_forbidden":
            messages.append(f"{key}: unknown key" + _suggest(loc[-1], _siblings(model, loc[:-1])))
        elif err["type"] == "value_error":
            messages.append(f"{key}: {err['msg'].removeprefix('Value error, ')}")
        else:
            got = err.get("input")
            shown = "" if private or isinstance(got, dict | list) else f" (got {got!r})"
            messages.append(f"{key}: {err['msg'].lower()}{shown}")
    return messages


def _union_member(part: str) -> bool:
    """A step pydantic adds to an error's location inside a `str | table` value (the
    member it tried: "str", "function-after[…, CategoryConfig]"), which the file has not."""
    return part == "str" or part.startswith("function-after[")


def _location(loc: list[str]) -> str:
    """('daemon', 'batch_size') -> '[daemon] batch_size', as the user wrote it in the file."""
    if not loc:
        return "(top level)"
    sections = {
        "daemon": 1,
        "notify": 1,
        "cluster": 1,
        "dashboard": 1,
        "platforms": 2,
        "account_overrides": 2,
    }
    depth = sections.get(loc[0], 0)
    # [platforms.X.rules] and [platforms.X.pricing] are tables of their own; a rule across
    # pricing's keys (the currency) is reported at its table.
    if loc[0] == "platforms" and len(loc) > 2 and loc[2] in ("rules", "pricing"):
        depth = 3
    if depth and len(loc) > depth:
        return f"[{'.'.join(loc[:depth])}] {'.'.join(loc[depth:])}"
    if depth:
        return f"[{'.'.join(loc)}]"
    return ".".join(loc)


def _siblings(model: type[BaseModel], parent: list[str]) -> set[str]:
    """The valid key names at `parent`, for a 'did you mean'."""
    current: Any = model
    for part in parent:
        if (
            isinstance(current, type)
            and issubclass(current, BaseModel)
            and part in current.model_fields
        ):
            annotation = current.model_fields[part].annotation
            args = getattr(annotation, "__args__", ())
            current = args[-1] if args else annotation
        elif part.isdigit() or not isinstance(current, type):
            continue
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return set()


def _suggest(word: str, options: object) -> str:
    matches = difflib.get_close_matches(word, sorted(options), n=1)  # type: ignore[call-overload]
    return f" (did you mean {matches[0]!r}?)" if matches else ""
