"""Which platform adapters are installed.

Adapters register under the entry-point group `upload_scheduler.platforms`, so a third
party adds one by packaging it, without touching this code. Only names are read here;
an adapter module is imported when a worker needs it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "upload_scheduler.platforms"


@cache
def installed_platforms() -> frozenset[str]:
    return frozenset(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
