"""What every platform's HTTP client shares: the TLS context, the timeouts, a failed
exchange told apart by whether the request may have reached the platform (`WireError`),
the OAuth error envelope (`ApiError`) and the "wrong URL" rule.

Nothing here holds or formats a token: clients build their Authorization headers
themselves and never put them into a message.
"""

from __future__ import annotations

import base64
import os
import ssl
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

from upload_scheduler.platforms.errors import Misconfigured, Transient

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


@dataclass(frozen=True)
class ApiError(Exception):
    """An answer in OAuth's error envelope, {"error", "error_description"} (BASE answers
    every endpoint with it; eBay only its token endpoint).

    `platform_body` says the answer carried that envelope, i.e. the platform itself
    answered; a 404 or a redirect without it comes from whatever else sits at a wrong URL.
    `path` is the request's path (never its query string), for messages."""

    status: int
    code: str
    description: str
    platform_body: bool = True
    path: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.description} (HTTP {self.status})"


class WireError(Exception):
    """No usable answer. `sent` says the request may have reached the platform, so it may
    have acted (a lost response): only connection set-up failures are known harmless."""

    def __init__(self, message: str, *, sent: bool, timeout: bool) -> None:
        super().__init__(message)
        self.sent = sent
        self.timeout = timeout


# Failures before a single byte of the request left: the platform cannot have acted.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def wire_error(exc: httpx.RequestError) -> WireError:
    """httpx's failure as a WireError; its message names the host at most, never a
    header or a form field."""
    sent = not isinstance(exc, _NOT_SENT)
    if isinstance(exc, httpx.TimeoutException):
        return WireError(f"timed out ({type(exc).__name__})", sent=sent, timeout=True)
    if isinstance(exc, httpx.TransportError):
        reason = str(exc) or "no details"
        return WireError(
            f"connection failed ({type(exc).__name__}: {reason})", sent=sent, timeout=False
        )
    # e.g. an undecodable body: the platform did answer
    return WireError(f"unusable answer ({type(exc).__name__})", sent=True, timeout=False)


def lost_answer(
    err: WireError, *, what: str, acting: bool, effect: str = "the item may have been created"
) -> Transient:
    """No answer is always worth another try. `acting`: the request acts on the platform
    (a creation, an image, a publish, a delete), so an answer lost after it was sent
    leaves the act in doubt, and the item must be looked up first; `effect` says what
    may have happened."""
    maybe = acting and err.sent
    suffix = f"; {effect}" if maybe else ""
    return Transient(f"{what}: {err}{suffix}", maybe_created=maybe)


def http_client(
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client that follows no redirect (a redirect means a wrong URL, and would carry
    the token elsewhere) and verifies TLS as httpx does, lazily (`ssl_context`)."""
    return httpx.Client(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        verify=ssl_context(),
        transport=transport,
        follow_redirects=False,
        headers={"Accept": "application/json"},
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header; an HTTP date (or nonsense) gives None, and the
    worker then backs off by its own rule."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None


def basic_token_request(
    http: httpx.Client, url: str, *, client_id: str, client_secret: str, form: dict[str, str]
) -> dict[str, Any]:
    """POST to an OAuth token endpoint with `Authorization: Basic` (client id and secret,
    never in the form): the JSON answer, `ApiError` for OAuth's error answers, `WireError`
    for none. eBay's and Yahoo!'s token endpoints both take it so."""
    pair = f"{client_id}:{client_secret}".encode()
    headers = {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}
    try:
        response = http.post(url, data=form, headers=headers)
    except httpx.RequestError as exc:
        raise wire_error(exc) from None
    return oauth_body(response)


def oauth_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 200 answer, or ApiError (in the envelope, or `http_<status>`
    with `platform_body=False` when the answer is not the platform's)."""
    status = response.status_code
    path = response.request.url.path
    try:
        body = response.json()
    except ValueError:
        body = None
    if status == 200 and isinstance(body, dict):
        return body
    if isinstance(body, dict) and "error" in body:
        raise _api_error(status, body.get("error"), body.get("error_description"), path=path)
    if status == 200:
        text = "the answer was not a JSON object"
        raise _api_error(200, "bad_response", text, path=path, platform_body=False)
    raise _api_error(
        status, f"http_{status}", response.reason_phrase, path=path, platform_body=False
    )


def _api_error(
    status: int, code: object, description: object, *, path: str, platform_body: bool = True
) -> ApiError:
    return ApiError(
        status,
        str(code or f"http_{status}"),
        str(description or "").strip(),
        platform_body=platform_body,
        path=path,
    )


def is_wrong_endpoint(status: int, platform_body: bool) -> bool:
    """A 404 or a redirect (the clients follow none) without the platform's own error body:
    not the platform answering about an item or a token, but something else at a wrong
    URL. A 404 with the platform's body (an item lookup's "not found") keeps its meaning."""
    return not platform_body and (status == 404 or 300 <= status < 400)


def wrong_endpoint(status: int, path: str) -> Misconfigured:
    """The account pauses until the URL is fixed; the message names the status and the
    request's path, never a query string or a token."""
    return Misconfigured(f"check api_base_url (answered {status} for {path or '/'})")


@cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default verification (the certifi bundle, or $SSL_CERT_FILE /
    $SSL_CERT_DIR), built once: loading the CA bundle costs tens of milliseconds per
    client. The bundle is loaded on the first TLS connection: a daemon that talks to
    an http:// URL (a sandbox) never pays its ~1 MB, which the issue's 45 MB per
    daemon process has no room for."""
    return _LazyCAContext(ssl.PROTOCOL_TLS_CLIENT)


class _LazyCAContext(ssl.SSLContext):
    """A client context (certificate and host name checked, as any PROTOCOL_TLS_CLIENT
    context) whose trusted CAs are loaded just before its first handshake."""

    _ca_lock = threading.Lock()
    _ca_loaded = False

    def load_trusted_cas(self) -> None:
        with self._ca_lock:
            if self._ca_loaded:
                return
            if os.environ.get("SSL_CERT_FILE"):
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
            self._ca_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_trusted_cas()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_trusted_cas()
        return super().wrap_bio(*args, **kwargs)
