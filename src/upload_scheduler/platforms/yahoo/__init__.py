"""Yahoo!ショッピング's store API (PLATFORMS.md, Yahoo! section): the adapter, its
YConnect login, and a local sandbox (issue 17)."""

from __future__ import annotations

from typing import Any


def create_platform(context: Any) -> Any:
    """The adapter factory registered as `yahoo` (imported only when a worker needs it)."""
    from upload_scheduler.platforms.yahoo.adapter import YahooPlatform

    return YahooPlatform(context)
