"""The BASE (thebase.in) adapter, its OAuth token management, content rules, and a
BASE-compatible sandbox server (`sandbox/`).

The package is named `thebase` because `base` reads as "base class" in Python; the
platform is still registered and configured as `base`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from upload_scheduler.platforms.interface import PlatformContext
    from upload_scheduler.platforms.thebase.adapter import BasePlatform


def create_platform(context: PlatformContext) -> BasePlatform:
    """The entry point `upload_scheduler.platforms: base`."""
    from upload_scheduler.platforms.thebase.adapter import BasePlatform

    return BasePlatform(context)
