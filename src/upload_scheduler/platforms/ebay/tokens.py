"""eBay's access tokens: the shared token manager (`platforms.token_manager`) on eBay's
grants. Access tokens (about 2 hours) are refreshed before they run out, once across
processes; an ended or refused refresh token asks for a new login."""

from __future__ import annotations

from sqlalchemy import Engine

from upload_scheduler.clock import Clock
from upload_scheduler.config import Settings
from upload_scheduler.platforms.ebay.client import EbayClient
from upload_scheduler.platforms.ebay.oauth import EbayGrants
from upload_scheduler.platforms.token_manager import TokenManager

PLATFORM = "ebay"


def token_manager(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    client: EbayClient,
    *,
    platform: str = PLATFORM,
) -> TokenManager:
    """The token manager of the eBay accounts, talking through `client`."""
    return TokenManager(settings, engine, clock, EbayGrants(client), platform=platform)
