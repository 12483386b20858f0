"""BASE's OAuth 2.0 endpoints: the authorize URL, and the two token grants (`BaseGrants`,
what the shared token manager calls).

The sandbox names the shop a browser "is logged into" with a sandbox-only `shop` query
parameter; real BASE knows the shop from its own login page, so the parameter is added
only for loopback API URLs (a local sandbox).
"""

from __future__ import annotations

from urllib.parse import urlencode

from upload_scheduler.config import AccountSettings
from upload_scheduler.platforms.oauth import (
    TokenGrant,
    check_api_url,
    is_loopback_host,
    is_loopback_url,
    new_state,
)
from upload_scheduler.platforms.thebase.client import BaseClient

__all__ = [
    "BaseGrants",
    "TokenGrant",
    "authorize_url",
    "check_api_url",
    "exchange_code",
    "is_loopback_host",
    "is_loopback_url",
    "new_state",
    "refresh_grant",
]

AUTHORIZE_PATH = "/1/oauth/authorize"
TOKEN_PATH = "/1/oauth/token"
SCOPES = ("read_items", "write_items")
SANDBOX_SHOP_PARAM = "shop"


def authorize_url(
    api_base_url: str, client_id: str, redirect_uri: str, state: str, *, shop: str | None = None
) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
    }
    if shop and is_loopback_url(api_base_url):
        params[SANDBOX_SHOP_PARAM] = shop
    return f"{api_base_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(params)}"


def exchange_code(
    client: BaseClient,
    api_base_url: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
) -> TokenGrant:
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    return TokenGrant.from_json(client.call("POST", _token_url(api_base_url), data=form))


def refresh_grant(
    client: BaseClient,
    api_base_url: str,
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    redirect_uri: str,
) -> TokenGrant:
    form = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
        "redirect_uri": redirect_uri,
    }
    return TokenGrant.from_json(client.call("POST", _token_url(api_base_url), data=form))


class BaseGrants:
    """BASE's grants for the shared token manager: the client id and secret travel in
    the form, the token endpoint is on the API's host."""

    def __init__(self, client: BaseClient) -> None:
        self.client = client

    def check(self, account: AccountSettings) -> str | None:
        return check_api_url(account.api_base_url)

    def exchange_code(self, account: AccountSettings, client_secret: str, code: str) -> TokenGrant:
        return exchange_code(
            self.client,
            account.api_base_url,
            client_id=account.client_id,
            client_secret=client_secret,
            code=code,
            redirect_uri=account.redirect_uri,
        )

    def refresh(
        self, account: AccountSettings, client_secret: str, refresh_token: str
    ) -> TokenGrant:
        return refresh_grant(
            self.client,
            account.api_base_url,
            client_id=account.client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            redirect_uri=account.redirect_uri,
        )


def _token_url(api_base_url: str) -> str:
    return f"{api_base_url.rstrip('/')}{TOKEN_PATH}"
