"""Which platform adapters are installed, and loading one.

Adapters register under the entry-point group `upload_scheduler.platforms`, so a third
party adds one by packaging it, without touching this code. Listing reads names only;
an adapter module is imported when a worker needs it.

The built-in adapters (the package's own entry points) are known without scanning the
installed distributions' metadata: a daemon for BASE starts without reading every
package's entry points, and they are found even in a checkout run without installing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

ENTRY_POINT_GROUP = "upload_scheduler.platforms"

# The names and targets pyproject.toml declares under this group (a test holds them equal).
BUILT_IN = {
    "base": "upload_scheduler.platforms.thebase:create_platform",
    "ebay": "upload_scheduler.platforms.ebay:create_platform",
    "fake": "upload_scheduler.platforms.fake:create_platform",
    "yahoo": "upload_scheduler.platforms.yahoo:create_platform",
}


@cache
def installed_platforms() -> frozenset[str]:
    from importlib.metadata import entry_points

    return frozenset(BUILT_IN) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def is_installed(name: str) -> bool:
    return name in BUILT_IN or name in installed_platforms()


def platform_factory(name: str) -> Callable[..., Any]:
    """The adapter factory registered as `name`; call it with a `PlatformContext`."""
    if name in BUILT_IN:
        module, _, attribute = BUILT_IN[name].partition(":")
        return getattr(importlib.import_module(module), attribute)
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    installed = ", ".join(sorted(installed_platforms())) or "none"
    raise LookupError(f"no adapter is installed for platform {name!r} (installed: {installed})")
