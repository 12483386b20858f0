"""Where messages go: a Chatwork room, a Slack-compatible webhook.

Both hold a secret (the Chatwork token; a webhook URL *is* its secret), so nothing a
sender raises or logs may contain it: errors name the room or the webhook's host only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import quote

import httpx

from upload_scheduler import defaults

REDACTED = "***"


class NotifySendError(Exception):
    """A message was not delivered. The text is safe to log. `retry_after` is set when
    the service asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Sender(Protocol):
    @property
    def name(self) -> str:
        """A description safe to log, e.g. "chatwork room 123" or "webhook example.com"."""
        ...

    def send(self, text: str) -> None:
        """Deliver one message or raise `NotifySendError`."""
        ...

    def close(self) -> None: ...


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in `text`; the longest first, so a secret that contains
    another is replaced whole."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs secrets from records of another library's logger. httpx logs every request
    URL at INFO, and a webhook URL is a secret."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix, only to not leak
            message = str(record.msg)
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def default_timeout() -> httpx.Timeout:
    """Connect 5 s, every other phase 10 s. httpx has no overall deadline; these bound
    the background thread only, never the caller."""
    return httpx.Timeout(
        defaults.NOTIFY_TIMEOUT_SECONDS, connect=defaults.NOTIFY_CONNECT_TIMEOUT_SECONDS
    )


def _retry_after(response: httpx.Response) -> float:
    """Seconds to hold after a 429: `Retry-After`, or Chatwork's `x-ratelimit-reset`
    (epoch seconds), or a default; capped, since a wrong header must not mute us."""
    seconds: float | None = None
    try:
        if "retry-after" in response.headers:
            seconds = float(response.headers["retry-after"])
        elif "x-ratelimit-reset" in response.headers:
            seconds = float(response.headers["x-ratelimit-reset"]) - time.time()
    except ValueError:
        seconds = None
    if seconds is None or seconds <= 0:
        seconds = defaults.NOTIFY_RATE_LIMITED_HOLD_SECONDS
    return min(seconds, defaults.NOTIFY_MAX_RATE_LIMITED_HOLD_SECONDS)


class _HttpSender:
    """Shared HTTP plumbing: one client, errors turned into safe `NotifySendError`s."""

    def __init__(self, name: str, secrets: Iterable[str], timeout: httpx.Timeout | None) -> None:
        self._name = name
        self._secrets = tuple(s for s in secrets if s)
        # No redirects: a redirect would carry the token to a host nobody configured.
        self._client = httpx.Client(timeout=timeout or default_timeout(), follow_redirects=False)
        self._filter = RedactingFilter(self._secrets)
        logging.getLogger("httpx").addFilter(self._filter)

    @property
    def name(self) -> str:
        return self._name

    @property
    def secrets(self) -> tuple[str, ...]:
        """What the notifier must scrub from anything it logs about this sender."""
        return self._secrets

    def _post(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        json: object = None,
    ) -> httpx.Response:
        try:
            response = self._client.post(url, headers=headers, data=data, json=json)
        except httpx.HTTPError as exc:
            # The exception text may quote the URL; only its class and a scrubbed text go on.
            detail = redact(str(exc), self._secrets) or "no detail"
            raise NotifySendError(f"{self._name}: {type(exc).__name__}: {detail}") from None
        if response.status_code == 429:
            raise NotifySendError(
                f"{self._name}: HTTP 429 (rate limited)", retry_after=_retry_after(response)
            )
        if not response.is_success:
            excerpt = redact(response.text[:200], self._secrets).strip()
            raise NotifySendError(f"{self._name}: HTTP {response.status_code} {excerpt}".rstrip())
        return response

    def close(self) -> None:
        logging.getLogger("httpx").removeFilter(self._filter)
        self._client.close()


class ChatworkSender(_HttpSender):
    """Chatwork API v2: `POST /v2/rooms/{room_id}/messages`, token in `X-ChatWorkToken`,
    form fields `body` and `self_unread=0`. With 0 the post counts as read for the
    token's own user, so the token should belong to a bot account, not the operator."""

    def __init__(
        self,
        token: str,
        room_id: str,
        *,
        base_url: str = defaults.NOTIFY_CHATWORK_API_URL,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        room_id = room_id.strip()
        if not token:
            raise ValueError("the Chatwork token is empty")
        if not room_id.isdigit():
            raise ValueError(f"chatwork_room_id must be a number, got {room_id!r}")
        super().__init__(f"chatwork room {room_id}", [token], timeout)
        self._token = token
        self._url = f"{base_url.rstrip('/')}/v2/rooms/{quote(room_id)}/messages"

    def send(self, text: str) -> None:
        self._post(
            self._url,
            headers={"X-ChatWorkToken": self._token},
            data={"body": text, "self_unread": "0"},
        )


class WebhookSender(_HttpSender):
    """A Slack-compatible incoming webhook: `POST <url>` with JSON `{"text": ...}`.
    The URL embeds its secret, so it is only ever named by its host."""

    def __init__(self, url: str, *, timeout: httpx.Timeout | None = None) -> None:
        url = url.strip()
        try:
            parsed = httpx.URL(url)
        except Exception:
            raise ValueError("webhook_url is not a valid URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("webhook_url must be an http:// or https:// URL with a host")
        # Everything after the host is secret; the full URL too, in case it is logged whole.
        secrets = [url, parsed.raw_path.decode("ascii", "replace")]
        if parsed.raw_path in (b"", b"/"):
            secrets = [url]
        super().__init__(f"webhook {parsed.host}", secrets, timeout)
        self._url = url

    def send(self, text: str) -> None:
        self._post(self._url, json={"text": text})
