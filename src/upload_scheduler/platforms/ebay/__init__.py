"""The eBay adapter (Sell Inventory and Account APIs), its OAuth tokens, content rules,
and an eBay-compatible sandbox server (`sandbox/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from upload_scheduler.platforms.ebay.adapter import EbayPlatform
    from upload_scheduler.platforms.interface import PlatformContext


def create_platform(context: PlatformContext) -> EbayPlatform:
    """The entry point `upload_scheduler.platforms: ebay`."""
    from upload_scheduler.platforms.ebay.adapter import EbayPlatform

    return EbayPlatform(context)
