"""Helpers for the eBay acceptance tests, run as a user runs them: the eBay sandbox as a
process of its own (`upload-scheduler sandbox serve --platform ebay`, its output in a
file, never an unread pipe), a config file pointing at it, sellers logged in with the
real `token login --platform ebay --code <the address the browser ended on>`, a product
CSV with English text and yen prices, and reads of the sandbox's state and verdict and
of our database."""

from __future__ import annotations

import csv
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.acceptance.demo_helpers import listing_rows as listing_rows
from tests.acceptance.demo_helpers import queue_rows as queue_rows
from tests.acceptance.demo_helpers import sandbox_server, token_login, write_platform_config
from upload_scheduler.platforms.ebay.sandbox.login import SCOPES

CLIENT_ID = "UploadSc-accept-PRD-5e1f0a2b3"
CLIENT_SECRET = "sandbox-secret"  # the sandbox's secret for every client_id
RUNAME = "Upload_Sched-UploadSc-accept-runame"  # an RuName, not a URL
CATEGORY_ID = "9355"
SANDBOX_START_SECONDS = 30.0
HTTP_TIMEOUT = 10.0
PRODUCT_COLUMNS = (
    *("asin", "title", "title_en", "description", "description_en", "price", "stock", "images"),
)


@dataclass(frozen=True)
class EbaySandbox:
    """A running eBay sandbox: its URL and the JSONL record of every request."""

    url: str
    record: Path

    def _get(self, path: str, **params: str | float) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}{path}", params=params, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def state(self) -> dict[str, Any]:
        """`GET /_sandbox/state`: per seller its inventory items and offers, and the
        applications' usage today."""
        return self._get("/_sandbox/state")

    def verdict(
        self, *, min_interval: float | None = None, tolerance: float = 0.0, all_listed: bool
    ) -> dict[str, Any]:
        """`GET /_sandbox/verdict`, drawn from the sandbox's record of the run."""
        params: dict[str, str | float] = {"tolerance": tolerance}
        if min_interval is not None:
            params["min_interval"] = min_interval
        if all_listed:
            params["expect_all_listed"] = "1"
        return self._get("/_sandbox/verdict", **params)

    def calls(self) -> list[dict[str, Any]]:
        return list(self._get("/_sandbox/calls")["calls"])

    def consent_redirect(self, seller: str, client_id: str = CLIENT_ID) -> str:
        """The address a browser ends on after `seller` agreed on the consent page (the
        sandbox's `seller` parameter agrees at once): eBay's accept page with the code."""
        query = urlencode(
            {
                "client_id": client_id,
                "redirect_uri": RUNAME,
                "response_type": "code",
                "scope": SCOPES,
                "state": secrets.token_urlsafe(8),
                "seller": seller,
            }
        )
        answer = httpx.get(f"{self.url}/oauth2/authorize?{query}", timeout=HTTP_TIMEOUT)
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        return location if location.startswith("http") else f"{self.url}{location}"


@contextmanager
def ebay_sandbox(folder: Path, *options: str) -> Iterator[EbaySandbox]:
    """`upload-scheduler sandbox serve --platform ebay --port 0 --record … OPTIONS`,
    stopped (SIGTERM, then kill) whatever the test did."""
    command = [sys.executable, "-m", "upload_scheduler", "sandbox", "serve"]
    command += ["--platform", "ebay", *options]
    starting = sandbox_server(folder, command, "the eBay sandbox's URL", SANDBOX_START_SECONDS)
    with starting as (url, record):
        yield EbaySandbox(url, record)


def write_ebay_config(
    workdir: Path,
    sandbox_url: str,
    sellers: Sequence[str],
    *,
    platform: Mapping[str, Any] | None = None,
    pricing: Mapping[str, Any] | None = None,
    database: str = "sqlite:///data/us.db",
    cluster: Mapping[str, Any] | None = None,
    interval_seconds: float = 1.0,
) -> Path:
    """A config with `sellers` on eBay, both eBay hosts at the sandbox, one application
    (CLIENT_ID) for all of them; `platform` and `pricing` add or replace keys of
    `[platforms.ebay]` and `[platforms.ebay.pricing]`."""
    values = {
        "api_base_url": sandbox_url,
        "auth_base_url": sandbox_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": RUNAME,
        "category_id": CATEGORY_ID,
        **(platform or {}),
    }
    prices = {"currency": "USD", "exchange_rate": 150.0, "markup": 1.0, **(pricing or {})}
    return write_platform_config(
        workdir,
        "ebay",
        sellers,
        {"platforms.ebay": values, "platforms.ebay.pricing": prices},
        interval_seconds=interval_seconds,
        database=database,
        cluster=cluster,
    )


def login(workdir: Path, sandbox: EbaySandbox, seller: str) -> str:
    """`token login --platform ebay --account SELLER --code <address>`: the address the
    browser ended on after the seller agreed, as an operator pastes it."""
    return token_login(workdir, "ebay", seller, sandbox.consent_redirect(seller))


def write_ebay_products(path: Path, prices: Mapping[str, int]) -> None:
    """One row per ASIN with the English title and description eBay lists with, two
    https images, a stock of 3 (eBay publishes only an offer with something to sell) and
    its yen price (UTF-8 CSV)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PRODUCT_COLUMNS)
        for n, (asin, yen) in enumerate(prices.items()):
            images = [f"https://images.example/{asin}/{i}.jpg" for i in (1, 2)]
            writer.writerow(
                [
                    asin,
                    f"テスト商品 {n}",
                    f"Test item {n} in black",
                    "説明文です。",
                    f"<p>A <b>fine</b> item, number {n}.</p>",
                    str(yen),
                    "3",
                    "|".join(images),
                ]
            )


def offers_by_seller(state: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {name: list(seller["offers"]) for name, seller in state["sellers"].items()}
