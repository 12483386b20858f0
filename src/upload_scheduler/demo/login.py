"""The eBay seller's consent without a browser: the demo opens the consent page that
`token login --platform ebay` prints, as the seller named by the sandbox-only `seller`
parameter, and reads where the sandbox sends the browser (its accept page, with the
code). That address is what a seller pastes into `token login --code`.

Only the local sandbox agrees at once; the URL is checked to be a loopback one, so the
demo never opens a real eBay consent page.
"""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from upload_scheduler.config import Settings

TIMEOUT_SECONDS = 10.0


class ConsentError(RuntimeError):
    """The sandbox handed out no code; the message says what it answered."""


def consent_url(settings: Settings, account_id: str) -> str:
    """The consent page `token login` would print for `account_id`, with `seller`."""
    from upload_scheduler.platforms.ebay.oauth import authorize_url

    account = settings.account("ebay", account_id)
    url = authorize_url(account, secrets.token_urlsafe(16))
    return f"{url}&{urlencode({'seller': account_id})}"


def consent_redirect(settings: Settings, account_id: str) -> str:
    """The address the consent page sends the seller's browser to: the accept page,
    `...?code=...&state=...`. Raises ConsentError."""
    url = consent_url(settings, account_id)
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
