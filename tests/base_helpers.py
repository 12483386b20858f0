"""Shared by the BASE tests: an in-process sandbox, settings pointing at it, a logged-in
adapter, and a fake clock that the sandbox and the adapter share.

The database is the `database_url` fixture's (tests/conftest.py): the tokens live there,
so these tests run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from upload_scheduler.clock import FakeClock
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.platforms.interface import Account, PlatformContext, Product
from upload_scheduler.platforms.thebase.adapter import BasePlatform
from upload_scheduler.platforms.thebase.sandbox import SandboxOptions, SandboxServer
from upload_scheduler.platforms.thebase.sandbox.login import authorize_code
from upload_scheduler.store.database import open_database

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "cs-7b1d9e02f4a5-secret"  # distinctive, so a leak is easy to grep for
REDIRECT_URI = "http://127.0.0.1:8765/callback"
SHOP_A = "shop_a"
SHOP_B = "shop_b"
# Monday 2026-01-05 09:00 in Tokyo: inside business hours.
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def base_config(
    database_url: str, api_url: str, *, rules: dict[str, Any] | None = None, **platform: Any
) -> dict[str, Any]:
    return {
        "database": database_url,
        "accounts": {"base": [SHOP_A, SHOP_B]},
        "platforms": {
            "base": {
                "api_base_url": api_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uri": REDIRECT_URI,
                "rules": rules or {},
                **platform,
            }
        },
    }


def obtain_code(sandbox_url: str, shop: str, redirect_uri: str = REDIRECT_URI) -> str:
    """What a browser does: authorize as `shop`, and read the code off the redirect."""
    return authorize_code(sandbox_url, CLIENT_ID, redirect_uri, shop)


def product(asin: str = "B000000001", images: int = 3, **fields: Any) -> Product:
    values: dict[str, Any] = {
        "asin": asin,
        "title": f"テスト商品 {asin}",
        "description": "説明文です。",
        "price": 1980,
        "stock": 5,
        "images": tuple(f"https://images.example/{asin}/{n}.jpg" for n in range(1, images + 1)),
    }
    values.update(fields)
    return Product(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BaseEnv:
    """A sandbox, settings and database, and an adapter logged in to both shops."""

    sandbox: SandboxServer
    settings: Settings
    engine: Engine
    clock: FakeClock
    platform: BasePlatform

    def account(self, account_id: str = SHOP_A) -> Account:
        return Account("base", account_id, self.settings.account("base", account_id))

    def calls(self, path: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.sandbox.calls() if path is None or c["path"] == path]

    def items(self, shop: str = SHOP_A) -> list[dict[str, Any]]:
        return self.sandbox.state.items_of(shop)

    def login(self, account_id: str) -> None:
        self.platform.tokens.login_with_code(account_id, obtain_code(self.sandbox.url, account_id))

    def adapter(self, **kwargs: Any) -> BasePlatform:
        """Another adapter on the same database (as another worker process would have)."""
        context = PlatformContext("base", self.settings, self.engine, self.clock)
        return BasePlatform(context, **kwargs)


@contextmanager
def base_env(
    tmp_path: Path,
    database_url: str,
    *,
    rules: dict[str, Any] | None = None,
    read_timeout: float = 2.0,
    login: tuple[str, ...] = (SHOP_A,),
    **options: Any,
) -> Iterator[BaseEnv]:
    clock = FakeClock(START)
    sandbox = SandboxServer(SandboxOptions(**options), clock=clock).start()
    engine = None
    platform = None
    try:
        raw = base_config(database_url, sandbox.url, rules=rules)
        settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
        engine = open_database(settings.database_url)
        context = PlatformContext("base", settings, engine, clock)
        platform = BasePlatform(context, connect_timeout=1.0, read_timeout=read_timeout)
        env = BaseEnv(sandbox, settings, engine, clock, platform)
        for account_id in login:
            env.login(account_id)
        yield env
    finally:
        if platform is not None:
            platform.close()
        if engine is not None:
            engine.dispose()
        sandbox.stop()
