"""The Yahoo!ショッピング adapter (the store API: editItem, uploadItemImage, setStock,
submitItem), its YConnect login (four weeks, never extended), content rules and images,
and a Yahoo!-compatible sandbox server (`sandbox/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from upload_scheduler.platforms.interface import PlatformContext
    from upload_scheduler.platforms.yahoo.adapter import YahooPlatform


def create_platform(context: PlatformContext) -> YahooPlatform:
    """The entry point `upload_scheduler.platforms: yahoo`."""
    from upload_scheduler.platforms.yahoo.adapter import YahooPlatform

    return YahooPlatform(context)
