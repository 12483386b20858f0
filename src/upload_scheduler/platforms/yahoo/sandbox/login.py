"""A store user's consent and tokens from a local Yahoo! sandbox without a browser: for
tests, the demo and a quick rehearsal. The sandbox lets the user named by `user` agree
at once, so the code can be read straight off its redirect to redirect_uri.

Only loopback URLs are accepted: the application's secret is never sent to a real host
from here.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from upload_scheduler.platforms.ebay.sandbox.login import _require_loopback
from upload_scheduler.platforms.yahoo.sandbox.app import AUTHORIZE_PATH, TOKEN_PATH
from upload_scheduler.platforms.yahoo.sandbox.options import DEFAULT_CLIENT_SECRET

SCOPE = "openid profile"
REDIRECT_URI = "http://127.0.0.1/yahoo-callback"


def login_redirect(
    sandbox_url: str,
    client_id: str,
    user: str,
    *,
    redirect_uri: str = REDIRECT_URI,
    state: str | None = None,
) -> str:
    """The URL the sandbox sends the browser to once `user` agreed: redirect_uri with
    `code` and `state`, what a user pastes into `token login`."""
    _require_loopback(sandbox_url)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": state or secrets.token_urlsafe(8),
            "bail": "1",
            "user": user,
        }
    )
    with httpx.Client(timeout=10) as client:
        answer = client.get(f"{sandbox_url}{AUTHORIZE_PATH}?{query}")
    location = answer.headers.get("location", "")
    if answer.status_code != 302 or not _code_of(location):
        raise ValueError(f"the sandbox did not hand out a code (HTTP {answer.status_code})")
    return location


def login_code(
    sandbox_url: str, client_id: str, user: str, *, redirect_uri: str = REDIRECT_URI
) -> str:
    """The authorization code for `user` under `client_id` (single use)."""
    return _code_of(login_redirect(sandbox_url, client_id, user, redirect_uri=redirect_uri))


def user_tokens(
    sandbox_url: str,
    client_id: str,
    user: str,
    *,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    redirect_uri: str = REDIRECT_URI,
) -> dict[str, Any]:
    """The token endpoint's answer to the login (access, refresh and id token)."""
    code = login_code(sandbox_url, client_id, user, redirect_uri=redirect_uri)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    answer = httpx.post(
        f"{sandbox_url}{TOKEN_PATH}", data=form, auth=(client_id, client_secret), timeout=10
    )
    if answer.status_code != 200:
        raise ValueError(f"the sandbox refused the code (HTTP {answer.status_code})")
    tokens: dict[str, Any] = answer.json()
    return tokens


def _code_of(location: str) -> str:
    return parse_qs(urlsplit(location).query).get("code", [""])[0]
