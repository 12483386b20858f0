"""Shared by the eBay tests: an in-process eBay sandbox, settings pointing at it (both
`api_base_url` and `auth_base_url` are the sandbox's URL), a logged-in adapter, and a
fake clock that the sandbox and the adapter share.

The database is the `database_url` fixture's (tests/conftest.py): the tokens live there,
so these tests run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from upload_scheduler.clock import FakeClock
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.platforms.ebay.adapter import EbayPlatform
from upload_scheduler.platforms.ebay.sandbox import EbaySandboxOptions, EbaySandboxServer
from upload_scheduler.platforms.ebay.sandbox.login import consent_code
from upload_scheduler.platforms.interface import Account, PlatformContext, Product
from upload_scheduler.store.database import open_database

CLIENT_ID = "upload-sch-PRD-0a1b2c3d4"
CLIENT_SECRET = "PRD-ebay-cert-9f8e7d6c5b4a"  # distinctive, so a leak is easy to grep for
RUNAME = "Upload_Sched-UploadSc-PRD-runame"
SELLER_A = "ebay_seller_a"
SELLER_B = "ebay_seller_b"
# Monday 2026-01-05 09:00 in Tokyo (Sunday 16:00 in Los Angeles, where eBay's day ends).
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
ITEM = "/sell/inventory/v1/inventory_item/"
OFFER = "/sell/inventory/v1/offer"


def ebay_config(database_url: str, sandbox_url: str, **platform: Any) -> dict[str, Any]:
    return {
        "database": database_url,
        "accounts": {"ebay": [SELLER_A, SELLER_B]},
        "platforms": {
            "ebay": {
                "api_base_url": sandbox_url,
                "auth_base_url": sandbox_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uri": RUNAME,
                "category_id": "9355",
                "pricing": {"currency": "USD", "exchange_rate": 150.0, "markup": 1.0},
                **platform,
            }
        },
    }


def product(asin: str = "B0EBAY0001", images: int = 2, **fields: Any) -> Product:
    values: dict[str, Any] = {
        "asin": asin,
        "title": f"テスト商品 {asin}",
        "description": "説明文です。",
        "price": 1980,
        "stock": 4,
        "images": tuple(f"https://images.example/{asin}/{n}.jpg" for n in range(1, images + 1)),
        "brand": "Acme",
        "category": "Toys",
        "title_en": f"Acme tin robot {asin}",
        "description_en": "<p>A <b>tin</b> robot.</p>",
    }
    values.update(fields)
    return Product(**values)


@dataclass
class EbayEnv:
    """A sandbox, settings and database, and an adapter logged in to the sellers."""

    sandbox: EbaySandboxServer
    settings: Settings
    engine: Engine
    clock: FakeClock
    platform: EbayPlatform
    first_call: int = 0  # the record's calls before this index were the set-up's logins

    def account(self, account_id: str = SELLER_A) -> Account:
        return Account("ebay", account_id, self.settings.account("ebay", account_id))

    def calls(self, prefix: str = "/sell/") -> list[dict[str, Any]]:
        """The sandbox's record since the set-up's logins, of paths under `prefix`."""
        recorded = self.sandbox.calls()[self.first_call :]
        return [c for c in recorded if c["path"].startswith(prefix)]

    def seller(self, name: str = SELLER_A) -> dict[str, Any]:
        snapshot: dict[str, Any] = self.sandbox.state.snapshot(name)
        return dict(snapshot["sellers"][name])

    def offers(self, name: str = SELLER_A) -> list[dict[str, Any]]:
        return list(self.seller(name)["offers"])

    def publishes(self, name: str = SELLER_A) -> dict[str, int]:
        """Successful publish calls per offer id."""
        state = self.sandbox.state.seller(name)
        return {offer_id: offer.publishes for offer_id, offer in state.offers.items()}

    def control(self, path: str, **form: str) -> dict[str, Any]:
        """The sandbox's own endpoints (`/_sandbox/...`), as another process uses them."""
        answer = httpx.post(f"{self.sandbox.url}/_sandbox/{path}", data=form, timeout=5)
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def login(self, account_id: str) -> None:
        code = consent_code(self.sandbox.url, CLIENT_ID, RUNAME, account_id)
        self.platform.tokens.login_with_code(account_id, code)

    def adapter(self, settings: Settings | None = None, **kwargs: Any) -> EbayPlatform:
        """Another adapter on the same database (as another worker process would have)."""
        context = PlatformContext("ebay", settings or self.settings, self.engine, self.clock)
        return EbayPlatform(context, **kwargs)


@contextmanager
def ebay_env(
    tmp_path: Path,
    database_url: str,
    *,
    read_timeout: float = 2.0,
    login: tuple[str, ...] = (SELLER_A,),
    platform: dict[str, Any] | None = None,
    **options: Any,
) -> Iterator[EbayEnv]:
    """`options` are the sandbox's (EbaySandboxOptions), `platform` the [platforms.ebay]
    keys over the defaults above."""
    clock = FakeClock(START)
    sandbox_options = EbaySandboxOptions(client_secret=CLIENT_SECRET, **options)
    sandbox = EbaySandboxServer(sandbox_options, clock=clock).start()
    engine = None
    adapter = None
    try:
        raw = ebay_config(database_url, sandbox.url, **(platform or {}))
        settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
        engine = open_database(settings.database_url)
        context = PlatformContext("ebay", settings, engine, clock)
        adapter = EbayPlatform(context, connect_timeout=1.0, read_timeout=read_timeout)
        env = EbayEnv(sandbox, settings, engine, clock, adapter)
        for account_id in login:
            env.login(account_id)
        env.first_call = len(sandbox.calls())
        yield env
    finally:
        if adapter is not None:
            adapter.close()
        if engine is not None:
            engine.dispose()
        sandbox.stop()
