"""Yahoo!'s access tokens: the shared token manager (`platforms.token_manager`) on
YConnect's grants. Access tokens (1 hour) are refreshed before they run out, once across
processes; the login itself ends after four weeks, and then only `token login` helps."""

from __future__ import annotations

from sqlalchemy import Engine

from upload_scheduler.clock import Clock
from upload_scheduler.config import Settings
from upload_scheduler.platforms.token_manager import TokenManager
from upload_scheduler.platforms.yahoo.client import YahooClient
from upload_scheduler.platforms.yahoo.oauth import YahooGrants, login_hint

PLATFORM = "yahoo"


def token_manager(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    client: YahooClient,
    *,
    platform: str = PLATFORM,
) -> TokenManager:
    """The token manager of the Yahoo! accounts, talking through `client`."""
    return TokenManager(
        settings, engine, clock, YahooGrants(client), platform=platform, login_hint=login_hint
    )
