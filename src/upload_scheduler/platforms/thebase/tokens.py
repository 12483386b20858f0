"""BASE's token manager: the shared one (`platforms.token_manager`) on BASE's grants."""

from __future__ import annotations

from sqlalchemy import Engine

from upload_scheduler.clock import Clock
from upload_scheduler.config import Settings
from upload_scheduler.platforms import token_manager
from upload_scheduler.platforms.thebase.client import BaseClient
from upload_scheduler.platforms.thebase.oauth import BaseGrants
from upload_scheduler.platforms.token_manager import refresh_due, still_usable

__all__ = ["TokenManager", "refresh_due", "still_usable"]


class TokenManager(token_manager.TokenManager):
    """Access tokens for the BASE shops, refreshed through `client`."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        client: BaseClient,
        *,
        platform: str = "base",
    ) -> None:
        super().__init__(settings, engine, clock, BaseGrants(client), platform=platform)
        self.client = client
