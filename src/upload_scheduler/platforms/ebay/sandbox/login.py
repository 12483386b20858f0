"""A seller's consent and tokens from a local eBay sandbox without a browser: for tests,
the demo and a quick rehearsal. The sandbox lets the seller named by `seller` agree at
once, so the code can be read straight off its redirect to the accept page.

Only loopback URLs are accepted: the application's secret is never sent to a real host
from here.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from upload_scheduler.platforms.ebay.sandbox.oauth import ACCOUNT_SCOPE, INVENTORY_SCOPE
from upload_scheduler.platforms.ebay.sandbox.options import DEFAULT_CLIENT_SECRET

SCOPES = f"{INVENTORY_SCOPE} {ACCOUNT_SCOPE}"


def consent_code(
    sandbox_url: str, client_id: str, redirect_uri: str, seller: str, scope: str = SCOPES
) -> str:
    """The code the sandbox's consent page hands out for `seller` under `client_id`."""
    _require_loopback(sandbox_url)
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": secrets.token_urlsafe(8),
            "seller": seller,
        }
    )
    with httpx.Client(timeout=10) as client:
        answer = client.get(f"{sandbox_url}/oauth2/authorize?{query}")
    location = answer.headers.get("location", "")
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    if answer.status_code != 302 or not code:
        raise ValueError(f"the sandbox did not hand out a code (HTTP {answer.status_code})")
    return code


def user_tokens(
    sandbox_url: str,
    client_id: str,
    seller: str,
    *,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    redirect_uri: str = "sandbox-RuName",
    scope: str = SCOPES,
) -> dict[str, Any]:
    """The token endpoint's answer (access and refresh token) for `seller` under
    `client_id`: consent, then the authorization-code grant."""
    code = consent_code(sandbox_url, client_id, redirect_uri, seller, scope)
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
    with httpx.Client(timeout=10) as client:
        answer = client.post(
            f"{sandbox_url}/identity/v1/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            headers={"Authorization": f"Basic {basic}"},
        )
    if answer.status_code != 200:
        raise ValueError(f"the sandbox refused the code (HTTP {answer.status_code})")
    tokens: dict[str, Any] = answer.json()
    return tokens


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{url} is not a local sandbox: a real seller consents in a browser")
