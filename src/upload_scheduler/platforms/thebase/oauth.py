"""BASE's OAuth 2.0 endpoints: the authorize URL, and the two token grants.

The sandbox names the shop a browser "is logged into" with a sandbox-only `shop` query
parameter; real BASE knows the shop from its own login page, so the parameter is added
only for loopback API URLs (a local sandbox).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from upload_scheduler.platforms.thebase.client import ApiError, BaseClient

AUTHORIZE_PATH = "/1/oauth/authorize"
TOKEN_PATH = "/1/oauth/token"
SCOPES = ("read_items", "write_items")
SANDBOX_SHOP_PARAM = "shop"


@dataclass(frozen=True)
class TokenGrant:
    """A token endpoint answer. The tokens are hidden from repr so a stray log of the
    object shows no secret."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_type: str
    expires_in: int

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TokenGrant:
        access = body.get("access_token")
        expires_in = body.get("expires_in", 3600)
        if not isinstance(access, str) or not access:
            raise ApiError(200, "bad_response", "the token answer has no access_token")
        try:
            seconds = int(expires_in)
        except (TypeError, ValueError):
            raise ApiError(
                200, "bad_response", "the token answer has no valid expires_in"
            ) from None
        refresh = body.get("refresh_token")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            token_type=str(body.get("token_type") or "bearer"),
            expires_in=max(seconds, 1),
        )


def new_state() -> str:
    """An unguessable `state`, checked on the redirect so a forged one is refused."""
    return secrets.token_urlsafe(24)


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


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP addresses (127.0.0.0/8, ::1); an empty host
    or 0.0.0.0 means every interface, which is not loopback."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_api_url(url: str) -> str | None:
    """Why `url` must not receive tokens, or None. HTTPS only, except a local sandbox."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and is_loopback_url(url):
        return None
    return (
        f"api_base_url {url!r} is not HTTPS: tokens would travel in clear text "
        "(plain http is accepted only for a sandbox on this machine)"
    )


def _token_url(api_base_url: str) -> str:
    return f"{api_base_url.rstrip('/')}{TOKEN_PATH}"
