"""Yahoo! ID連携 (YConnect v2): the authorization URL and the token endpoint's two grants
(`YahooGrants`, what the shared token manager calls).

The login's refresh token lasts four weeks and a refresh does not extend it (PLATFORMS.md):
the token answer does not say so, so the end is stored at the login
(`refresh_token_expires_in`), and a refresh, which returns no new refresh token, keeps it.
The answer's `id_token` is not used. The client id and secret travel as HTTP Basic.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

from upload_scheduler.config import AccountSettings
from upload_scheduler.platforms.oauth import BasicAuthGrants, TokenGrant, is_loopback_url
from upload_scheduler.platforms.token_health import REFRESH_TOKEN_LIFETIMES

AUTHORIZE_PATH = "/yconnect/v2/authorization"
TOKEN_PATH = "/yconnect/v2/token"
SCOPE = "openid profile"
# The sandbox-only parameter naming the Yahoo! ID that agrees at once; sent only to an
# authorization page on this machine (a local sandbox), never to Yahoo!.
SANDBOX_USER_PARAM = "user"
LOGIN_LIFETIME: timedelta = REFRESH_TOKEN_LIFETIMES["yahoo"]


def auth_host(account: AccountSettings) -> str:
    """YConnect's host: auth_base_url, or the API's host when it is empty."""
    return (account.auth_base_url or account.api_base_url).rstrip("/")


def authorize_url(account: AccountSettings, state: str, *, user: str | None = None) -> str:
    """The page where the store's staff log in and agree; Yahoo! sends the browser on to
    redirect_uri with `code` and `state`. `bail=1` returns there on "cancel" too."""
    params = {
        "response_type": "code",
        "client_id": account.client_id,
        "redirect_uri": account.redirect_uri,
        "scope": SCOPE,
        "state": state,
        "bail": "1",
    }
    if user and is_loopback_url(auth_host(account)):
        params[SANDBOX_USER_PARAM] = user
    return f"{auth_host(account)}{AUTHORIZE_PATH}?{urlencode(params)}"


def login_hint(account_id: str, reason: str) -> str:
    """The pause and failure text when a new login is needed: the refresh token ended
    (four weeks, or early: a password change), or none is stored."""
    command = f"upload-scheduler token login --platform yahoo --account {account_id}"
    if reason.startswith("no tokens"):
        return f"yahoo account {account_id}: not logged in: run `{command}`"
    return f"Yahoo! login ended: run `{command}`"


class YahooGrants(BasicAuthGrants):
    """YConnect's token endpoint for the shared token manager. A login's grant carries the
    refresh token's end, four weeks on, which Yahoo!'s answer does not say."""

    def token_url(self, account: AccountSettings) -> str:
        return f"{auth_host(account)}{TOKEN_PATH}"

    def exchange_code(self, account: AccountSettings, client_secret: str, code: str) -> TokenGrant:
        grant = super().exchange_code(account, client_secret, code)
        if grant.refresh_token_expires_in is None:
            seconds = int(LOGIN_LIFETIME.total_seconds())
            grant = replace(grant, refresh_token_expires_in=seconds)
        return grant
