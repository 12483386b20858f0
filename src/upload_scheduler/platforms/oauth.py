"""OAuth 2.0 parts every platform shares: a token endpoint's answer (`TokenGrant`), the
login's `state`, and which URLs may receive tokens. Each platform's own endpoints and
grant forms are its `Grants` (`platforms.token_manager`)."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlsplit

from upload_scheduler.platforms.wire import ApiError

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings


@dataclass(frozen=True)
class TokenGrant:
    """A token endpoint answer. The tokens are hidden from repr so a stray log of the
    object shows no secret. `refresh_token_expires_in` is the refresh token's lifetime
    when the platform says it (eBay); None when it does not (BASE)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_type: str
    expires_in: int
    refresh_token_expires_in: int | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TokenGrant:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ApiError(200, "bad_response", "the token answer has no access_token")
        seconds = _seconds(body.get("expires_in", 3600), "expires_in")
        refresh = body.get("refresh_token")
        refresh_life = body.get("refresh_token_expires_in")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            token_type=str(body.get("token_type") or "bearer"),
            expires_in=max(seconds, 1),
            refresh_token_expires_in=(
                None if refresh_life is None else _seconds(refresh_life, "refresh_token_expires_in")
            ),
        )


def _seconds(value: object, name: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ApiError(200, "bad_response", f"the token answer has no valid {name}") from None


def new_state() -> str:
    """An unguessable `state`, checked on the redirect so a forged one is refused."""
    return secrets.token_urlsafe(24)


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


def check_api_url(url: str, key: str = "api_base_url") -> str | None:
    """Why `url` must not receive tokens (or codes), or None. HTTPS only, except a local
    sandbox. `key` names the setting in the message."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and is_loopback_url(url):
        return None
    return (
        f"{key} {url!r} is not HTTPS: tokens would travel in clear text "
        "(plain http is accepted only for a sandbox on this machine)"
    )


class TokenClient(Protocol):
    """A client that POSTs to a token endpoint with HTTP Basic client authentication."""

    def token(
        self, url: str, *, client_id: str, client_secret: str, form: dict[str, str]
    ) -> dict[str, Any]: ...


class BasicAuthGrants:
    """A token endpoint taking the client id and secret as HTTP Basic (eBay, Yahoo!): the
    authorization-code and refresh-token grants for the shared token manager. A platform
    says where its endpoint is (`token_url`) and what else a refresh sends."""

    refresh_extra: ClassVar[Mapping[str, str]] = {}

    def __init__(self, client: TokenClient) -> None:
        self.client = client

    def token_url(self, account: AccountSettings) -> str:
        raise NotImplementedError

    def check(self, account: AccountSettings) -> str | None:
        problem = check_api_url(account.api_base_url)
        if problem is None and account.auth_base_url:
            problem = check_api_url(account.auth_base_url, "auth_base_url")
        return problem

    def exchange_code(self, account: AccountSettings, client_secret: str, code: str) -> TokenGrant:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": account.redirect_uri,
        }
        return self._grant(account, client_secret, form)

    def refresh(
        self, account: AccountSettings, client_secret: str, refresh_token: str
    ) -> TokenGrant:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            **self.refresh_extra,
        }
        return self._grant(account, client_secret, form)

    def _grant(
        self, account: AccountSettings, client_secret: str, form: dict[str, str]
    ) -> TokenGrant:
        body = self.client.token(
            self.token_url(account),
            client_id=account.client_id,
            client_secret=client_secret,
            form=form,
        )
        return TokenGrant.from_json(body)
