"""Which platform adapters are installed, and loading one.

Adapters register under the entry-point group `upload_scheduler.platforms`, so a third
party adds one by packaging it, without touching this code. Listing reads names only;
an adapter module is imported when a worker needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "upload_scheduler.platforms"


@cache
def installed_platforms() -> frozenset[str]:
    return frozenset(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def is_installed(name: str) -> bool:
    return name in installed_platforms()


def platform_factory(name: str) -> Callable[..., Any]:
    """The adapter factory registered as `name`; call it with a `PlatformContext`."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()  # type: ignore[no-any-return]
    installed = ", ".join(sorted(installed_platforms())) or "none"
    raise LookupError(f"no adapter is installed for platform {name!r} (installed: {installed})")
