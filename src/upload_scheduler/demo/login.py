"""A seller's consent without a browser, on eBay's or Yahoo!'s sandbox: the demo opens
the consent page that `token login --platform P` prints, with the sandbox-only parameter
naming who agrees at once (eBay's `seller`, Yahoo!'s `user`), and reads where the sandbox
sends the browser (eBay's accept page, Yahoo!'s redirect_uri, with the code). That
address is what a seller pastes into `token login --code`.

Only the local sandbox agrees at once; the URL is checked to be a loopback one, so the
demo never opens a real consent page.
"""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from upload_scheduler.config import Settings
from upload_scheduler.demo.options import YAHOO

TIMEOUT_SECONDS = 10.0


class ConsentError(RuntimeError):
    """The sandbox handed out no code; the message says what it answered."""


def consent_url(settings: Settings, platform: str, account_id: str) -> str:
    """The consent page `token login` would print for `account_id`, as that account."""
    account = settings.account(platform, account_id)
    state = secrets.token_urlsafe(16)
    if platform == YAHOO:
        from upload_scheduler.platforms.yahoo.oauth import authorize_url

        return authorize_url(account, state, user=account_id)
    from upload_scheduler.platforms.ebay.oauth import authorize_url as ebay_authorize_url

    return f"{ebay_authorize_url(account, state)}&{urlencode({'seller': account_id})}"


def consent_redirect(settings: Settings, platform: str, account_id: str) -> str:
    """The address the consent page sends the seller's browser to, `...?code=...&state=...`.
    Raises ConsentError."""
    url = consent_url(settings, platform, account_id)
    if not is_loopback(url):
        raise ConsentError(f"{urlsplit(url).hostname} is not a local sandbox")
    try:
        answer = httpx.get(url, timeout=TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ConsentError(f"the consent page did not answer: {exc}") from None
    location = answer.headers.get("location", "")
    if answer.status_code != 302 or "code=" not in location:
        raise ConsentError(f"the consent page answered HTTP {answer.status_code}, no code")
    return urljoin(url, location)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
