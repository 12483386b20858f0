"""BASE on the wire: one httpx client, requests out, JSON or a typed wire error back.

This module knows HTTP and BASE's error envelope, nothing about tokens or the worker.
Nothing it raises or logs holds a token: the Authorization header is built here and
never formatted into a message.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiError(Exception):
    """BASE answered with an error: normally HTTP 400 and {"error", "error_description"}.

    `platform_body` says the answer carried that envelope, i.e. BASE itself answered;
    a 404 or a redirect without it comes from whatever else sits at a wrong URL.
    `path` is the request's path (never its query string), for messages."""

    status: int
    code: str
    description: str
    platform_body: bool = True
    path: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.description} (HTTP {self.status})"


class WireError(Exception):
    """No usable answer. `sent` says the request may have reached BASE, so it may have
    acted (a lost response): only connection set-up failures are known to be harmless."""

    def __init__(self, message: str, *, sent: bool, timeout: bool) -> None:
        super().__init__(message)
        self.sent = sent
        self.timeout = timeout


# Failures before a single byte of the request left: BASE cannot have acted.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class BaseClient:
    """A thin, synchronous client; the adapter and the token manager share one."""

    def __init__(
        self,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            verify=ssl_context(),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    def call(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON body of a successful answer; ApiError or WireError otherwise."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            response = self._http.request(method, url, data=data, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise WireError(
                f"timed out ({type(exc).__name__})",
                sent=not isinstance(exc, _NOT_SENT),
                timeout=True,
            ) from None
        except httpx.TransportError as exc:
            raise WireError(
                f"connection failed ({type(exc).__name__}: {_reason(exc)})",
                sent=not isinstance(exc, _NOT_SENT),
                timeout=False,
            ) from None
        except httpx.RequestError as exc:  # e.g. an undecodable body: BASE did answer
            raise WireError(
                f"unusable answer ({type(exc).__name__})", sent=True, timeout=False
            ) from None
        log.debug("%s %s -> HTTP %s", method, _path(url), response.status_code)
        return _body(response)

    def close(self) -> None:
        self._http.close()


@cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default verification (the certifi bundle, or $SSL_CERT_FILE /
    $SSL_CERT_DIR), built once: loading the CA bundle costs tens of milliseconds per
    client. The bundle is loaded on the first TLS connection: a daemon that talks to
    an http:// URL (the sandbox) never pays its ~1 MB, which the issue's 45 MB per
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


def _body(response: httpx.Response) -> dict[str, Any]:
    status = response.status_code
    path = response.request.url.path
    try:
        body = response.json()
    except ValueError:
        body = None
    if status == 200 and isinstance(body, dict):
        return body
    if isinstance(body, dict) and "error" in body:
        return _raise(status, body.get("error"), body.get("error_description"), path=path)
    if status == 200:
        text = "the answer was not a JSON object"
        return _raise(200, "bad_response", text, path=path, platform_body=False)
    return _raise(status, f"http_{status}", response.reason_phrase, path=path, platform_body=False)


def _raise(
    status: int, code: object, description: object, *, path: str, platform_body: bool = True
) -> Any:
    raise ApiError(
        status,
        str(code or f"http_{status}"),
        str(description or "").strip(),
        platform_body=platform_body,
        path=path,
    )


def _path(url: str) -> str:
    return httpx.URL(url).path


def _reason(exc: Exception) -> str:
    # httpx messages name the host at most, never headers or form fields.
    return str(exc) or "no details"
