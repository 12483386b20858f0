"""Log an account in to a sandbox without a browser: the demo's set-up, and a quick
start for a rehearsal. The sandbox approves every authorize request, so the code can be
read straight off its redirect."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import Engine

from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.config import Settings
from upload_scheduler.platforms.thebase import oauth
from upload_scheduler.platforms.thebase.client import BaseClient, ssl_context
from upload_scheduler.platforms.thebase.token_store import TokenRecord
from upload_scheduler.platforms.thebase.tokens import TokenManager


def authorize_code(api_base_url: str, client_id: str, redirect_uri: str, shop: str) -> str:
    """The code the sandbox's authorize endpoint hands out for `shop`."""
    if not oauth.is_loopback_url(api_base_url):
        raise ValueError(
            f"{api_base_url} is not a local sandbox: log in to a real shop with "
            "`upload-scheduler token login`"
        )
    url = oauth.authorize_url(api_base_url, client_id, redirect_uri, oauth.new_state(), shop=shop)
    with httpx.Client(timeout=10, verify=ssl_context()) as client:
        answer = client.get(url)
    location = answer.headers.get("location", "")
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    if answer.status_code != 302 or not code:
        raise ValueError(f"the sandbox did not hand out a code (HTTP {answer.status_code})")
    return code


def sandbox_login(
    settings: Settings,
    engine: Engine,
    account_id: str,
    *,
    platform: str = "base",
    clock: Clock | None = None,
) -> TokenRecord:
    """Store fresh sandbox tokens for `account_id` (its shop in the sandbox has the same
    name), exactly as `token login --code` would."""
    account = settings.account(platform, account_id)
    code = authorize_code(account.api_base_url, account.client_id, account.redirect_uri, account_id)
    client = BaseClient()
    try:
        manager = TokenManager(settings, engine, clock or SystemClock(), client, platform=platform)
        return manager.login_with_code(account_id, code)
    finally:
        client.close()
