"""BASE on the wire: one httpx client, requests out, JSON or a typed wire error back.

This module knows HTTP and BASE's error envelope (OAuth's, `wire.ApiError`), nothing
about tokens or the worker. Nothing it raises or logs holds a token: the Authorization
header is built here and never formatted into a message. What every platform's client
shares (timeouts, TLS, the wire errors) is `platforms.wire`.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from upload_scheduler.platforms.wire import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    ApiError,
    WireError,
    http_client,
    oauth_body,
    ssl_context,
    wire_error,
)

__all__ = [
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "ApiError",
    "BaseClient",
    "WireError",
    "ssl_context",
]

log = logging.getLogger(__name__)


class BaseClient:
    """A thin, synchronous client; the adapter and the token manager share one."""

    def __init__(
        self,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = http_client(
            connect_timeout=connect_timeout, read_timeout=read_timeout, transport=transport
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
        except httpx.RequestError as exc:
            raise wire_error(exc) from None
        log.debug("%s %s -> HTTP %s", method, response.request.url.path, response.status_code)
        return oauth_body(response)

    def close(self) -> None:
        self._http.close()
