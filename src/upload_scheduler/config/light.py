"""The daemon child's configuration loader: the same `Settings` as `load_settings`,
without pydantic, which would cost each of a host's daemon processes ~9 MB (the issue's
target is 45 MB per process).

It reads the file, checks it with `values.parse_file` and the same semantic checks as
`load.py`, and hands anything unusual to the full loader, which explains it with the
same messages and raises the same ConfigError: a good file gives equal Settings either
way, a bad one the same errors.
"""

from __future__ import annotations

import os
from typing import Any

from upload_scheduler.config.files import (
    PlatformCatalog,
    account_problems,
    check_zone,
    database_problems,
    find_config,
    platform_problems,
    read_config,
    required_key_problems,
)
from upload_scheduler.config.settings import Settings
from upload_scheduler.config.values import (
    DAEMON_KEYS,
    DaemonValues,
    FileValues,
    as_dict,
    build,
    override_ok,
    parse_file,
)


def load_settings_light(
    explicit: str | os.PathLike[str] | None = None, *, platforms: PlatformCatalog | None = None
) -> Settings:
    """`load_settings`, with pydantic loaded only when the file has a problem (or
    something the light check is unsure of). Raises ConfigError."""
    path = find_config(explicit)
    raw = read_config(path)
    file = parse_file(raw)
    if file is None or not _plainly_fine(file, platforms):
        from upload_scheduler.config.load import settings_from_dict

        return settings_from_dict(raw, path, platforms=platforms)
    return Settings.from_file(path, file)


def _plainly_fine(file: FileValues, platforms: PlatformCatalog | None) -> bool:
    """False whenever load._check_semantics could report a problem (it runs the same
    database, zone, platform and account checks, then validates overrides with pydantic)."""
    if database_problems(file.database) or check_zone("timezone", file.timezone):
        return False
    if platforms is not None and platform_problems(file.accounts, file.platforms, platforms):
        return False
    account_issues, seen = account_problems(file.accounts)
    if required_key_problems(file.accounts, file.platforms, file.account_overrides):
        return False
    return not account_issues and all(
        account_id in seen and _overrides_fine(overrides, file.daemon)
        for account_id, overrides in file.account_overrides.items()
    )


def _overrides_fine(overrides: dict[str, Any], daemon: DaemonValues) -> bool:
    if not all(override_ok(key, value) for key, value in overrides.items()):
        return False
    if "timezone" in overrides and check_zone("timezone", overrides["timezone"]):
        return False
    # The account's [daemon] keys, merged, keep the section's rules (the window).
    own = {k: v for k, v in overrides.items() if k in DAEMON_KEYS}
    try:
        build(DaemonValues, {**as_dict(daemon), **own})
    except ValueError:
        return False
    return True
