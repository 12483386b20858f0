"""eBay on the wire: one httpx client, JSON requests out, JSON or a typed error back.

This module knows HTTP and eBay's two error envelopes (the Sell APIs'
`{"errors":[…]}`, the token endpoint's OAuth `{"error", …}`), nothing about tokens'
lifetimes or the worker. Every write carries `Content-Language`. The access token and the
client secret go into headers built here and are never formatted into a message or a log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from upload_scheduler.platforms.wire import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    basic_token_request,
    http_client,
    retry_after_seconds,
    wire_error,
)

log = logging.getLogger(__name__)

_WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass(frozen=True)
class ErrorEntry:
    """One entry of eBay's `errors[]`."""

    error_id: int | None
    message: str
    parameters: tuple[tuple[str, str], ...] = ()

    def parameter(self, name: str) -> str | None:
        return next((value for key, value in self.parameters if key == name), None)

    def __str__(self) -> str:
        return f"{self.error_id} {self.message}" if self.error_id is not None else self.message


@dataclass(frozen=True)
class EbayError(Exception):
    """eBay (or whatever sits at the URL) refused a Sell API call.

    `platform_body` says the answer carried eBay's `{"errors":[…]}`; a 404 or a redirect
    without it is a wrong URL. `path` is the request's path (never its query string).
    `retry_after` is the Retry-After header in seconds, when given as seconds."""

    status: int
    entries: tuple[ErrorEntry, ...]
    platform_body: bool
    path: str
    reason: str = ""
    retry_after: float | None = None

    @property
    def error_ids(self) -> tuple[int, ...]:
        return tuple(e.error_id for e in self.entries if e.error_id is not None)

    def describe(self) -> str:
        """eBay's own words: every entry's id and message (a publish lists every problem
        at once), or the HTTP status when the answer had none."""
        if self.entries:
            return "; ".join(str(entry) for entry in self.entries)
        return f"HTTP {self.status} {self.reason}".strip()

    def __str__(self) -> str:
        return f"{self.describe()} (HTTP {self.status})"


class EbayClient:
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
        token: str,
        content_language: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The JSON object of a 2xx answer ({} when it has none, as a 204);
        EbayError or `wire.WireError` otherwise. A write without a body (publish) is
        sent with Content-Length: 0."""
        headers = {"Authorization": f"Bearer {token}"}
        content = b""
        if method in _WRITES:
            headers["Content-Language"] = content_language
            if body is not None:
                headers["Content-Type"] = "application/json"
                content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            else:
                headers["Content-Length"] = "0"
        try:
            response = self._http.request(
                method, url, params=params, headers=headers, content=content or None
            )
        except httpx.RequestError as exc:
            raise wire_error(exc) from None
        log.debug("%s %s -> HTTP %s", method, response.request.url.path, response.status_code)
        return read_answer(response)

    def token(
        self, url: str, *, client_id: str, client_secret: str, form: dict[str, str]
    ) -> dict[str, Any]:
        """POST to the OAuth token endpoint (`wire.basic_token_request`)."""
        return basic_token_request(
            self._http, url, client_id=client_id, client_secret=client_secret, form=form
        )

    def close(self) -> None:
        self._http.close()


def read_answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer ({} when it has none); EbayError otherwise."""
    status = response.status_code
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = None
    if 200 <= status < 300:
        return body if isinstance(body, dict) else {}
    entries = _entries(body)
    raise EbayError(
        status,
        entries or (),
        platform_body=entries is not None,
        path=response.request.url.path,
        reason=response.reason_phrase,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def _entries(body: Any) -> tuple[ErrorEntry, ...] | None:
    """The entries of eBay's `{"errors":[…]}`, or None when the body is not that."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return None
    entries = []
    for raw in body["errors"]:
        if not isinstance(raw, dict):
            continue
        try:
            error_id: int | None = int(raw["errorId"])
        except (KeyError, TypeError, ValueError):
            error_id = None
        parameters = tuple(
            (str(p.get("name", "")), str(p.get("value", "")))
            for p in raw.get("parameters") or ()
            if isinstance(p, dict)
        )
        message = str(raw.get("message") or raw.get("longMessage") or "").strip()
        entries.append(ErrorEntry(error_id, message, parameters))
    return tuple(entries)
