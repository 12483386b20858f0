"""eBay's OAuth 2.0 (authorization code grant): the consent URL and the token endpoint's
two grants (`EbayGrants`, what the shared token manager calls).

The consent page is on its own host (`auth_base_url`); the token endpoint is on the API's.
The client id and secret travel as `Authorization: Basic`, never in the form. A refresh
returns a new access token only: the stored refresh token and its end stay
(`platforms.token_store`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import urlencode

from upload_scheduler.config import AccountSettings
from upload_scheduler.platforms.oauth import BasicAuthGrants, is_loopback_url

AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/identity/v1/oauth2/token"
# The sandbox-only consent parameter naming the seller who agrees at once; sent only to a
# consent page on this machine (a local sandbox), never to eBay.
SANDBOX_SELLER_PARAM = "seller"
SCOPES = (
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.account",
)


def consent_host(account: AccountSettings) -> str:
    """Where the browser goes: auth_base_url, or the API's host when it is empty."""
    return (account.auth_base_url or account.api_base_url).rstrip("/")


def authorize_url(account: AccountSettings, state: str, *, seller: str | None = None) -> str:
    """The consent page for `account`; eBay sends the browser on to the RuName's page
    with `code` and `state`. `seller` names the sandbox's seller, for a local sandbox only."""
    params = {
        "client_id": account.client_id,
        "redirect_uri": account.redirect_uri,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "state": state,
    }
    if seller and is_loopback_url(consent_host(account)):
        params[SANDBOX_SELLER_PARAM] = seller
    return f"{consent_host(account)}{AUTHORIZE_PATH}?{urlencode(params)}"


def login_problem(account: AccountSettings) -> str | None:
    """What stops a login that the token refresh does not need: the RuName."""
    if not account.redirect_uri:
        return (
            f"ebay account {account.account_id}: redirect_uri is empty; set it to the "
            "application's RuName in [platforms.ebay]"
        )
    return None


class EbayGrants(BasicAuthGrants):
    """eBay's token endpoint (on the API's host) for the shared token manager; a refresh
    names the scopes again."""

    refresh_extra: ClassVar[Mapping[str, str]] = {"scope": " ".join(SCOPES)}

    def token_url(self, account: AccountSettings) -> str:
        return f"{account.api_base_url.rstrip('/')}{TOKEN_PATH}"
