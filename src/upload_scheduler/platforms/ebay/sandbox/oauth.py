"""eBay's authorization-code grant: consent codes, user access tokens and refresh tokens.

A grant belongs to one (client_id, seller) pair. Access tokens look like eBay's: about
2,000 characters holding `# ^ + / =`, so a client that forgets to form-encode them or
trims them fails here as it would against eBay. Refresh tokens live 18 months and are
reused (eBay does not rotate them); a refresh answers a new access token only.
Callers hold the state's lock.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.ebay.sandbox.errors import (
    OAuthError,
    insufficient_scope,
    invalid_token,
)
from upload_scheduler.platforms.ebay.sandbox.options import EbaySandboxOptions

SCOPE_ROOT = "https://api.ebay.com/oauth/api_scope"
INVENTORY_SCOPE = f"{SCOPE_ROOT}/sell.inventory"
ACCOUNT_SCOPE = f"{SCOPE_ROOT}/sell.account"
TOKEN_TYPE = "User Access Token"
_ACCESS_PREFIX = "v^1.1#i^1#p^3#I^3#r^0#f^0#t^"
_REFRESH_PREFIX = "v^1.1#i^1#r^1#I^3#p^3#f^0#t^"
_CODE_PREFIX = "v^1.1#i^1#f^0#I^3#p^3#r^1#t^"


@dataclass
class Grant:
    client_id: str
    seller: str
    scopes: frozenset[str]
    expires_at: datetime
    redirect_uri: str = ""


@dataclass(frozen=True)
class Caller:
    """Who an API request comes from: its application and its seller."""

    client_id: str
    seller: str
    scopes: frozenset[str]


class Grants:
    def __init__(self, options: EbaySandboxOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self._codes: dict[str, Grant] = {}
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self.issued: list[str] = []  # every code and token handed out, for leak checks

    def consent(self, client_id: str, seller: str, scope: str, redirect_uri: str) -> str:
        """A consent code for `seller`, as eBay hands out when the seller agrees."""
        code = _opaque(_CODE_PREFIX, 60)
        expires = self.clock.now() + timedelta(seconds=self.options.code_lifetime)
        self._codes[code] = Grant(client_id, seller, _scopes(scope), expires, redirect_uri)
        self.issued.append(code)
        return code

    def exchange(self, client_id: str, form: dict[str, str]) -> tuple[Grant, dict[str, object]]:
        """(grant, answer) for POST /identity/v1/oauth2/token once the client is known."""
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(client_id, form)
        if grant_type == "refresh_token":
            return self._refresh_access(client_id, form)
        raise OAuthError(
            400, "unsupported_grant_type", "grant type in request is not supported by the server"
        )

    def _exchange_code(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[Grant, dict[str, object]]:
        code = form.get("code", "")
        grant = self._codes.pop(code, None)  # a code is good for one exchange
        if grant is None or grant.client_id != client_id or grant.expires_at <= self.clock.now():
            raise OAuthError(
                400,
                "invalid_grant",
                "the provided authorization grant code is invalid or was issued to another client",
            )
        if form.get("redirect_uri", "") != grant.redirect_uri:
            raise OAuthError(
                400,
                "invalid_grant",
                "the redirect_uri does not match the one of the authorization request",
            )
        now = self.clock.now()
        refresh = _opaque(_REFRESH_PREFIX, 80)
        lifetime = timedelta(seconds=self.options.refresh_token_lifetime)
        self._refresh[refresh] = Grant(client_id, grant.seller, grant.scopes, now + lifetime)
        self.issued.append(refresh)
        answer: dict[str, object] = {
            **self._access_token(grant, grant.scopes),
            "refresh_token": refresh,
            "refresh_token_expires_in": self.options.refresh_token_lifetime,
        }
        return grant, answer

    def _refresh_access(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[Grant, dict[str, object]]:
        grant = self._refresh.get(form.get("refresh_token", ""))
        if grant is None or grant.client_id != client_id or grant.expires_at <= self.clock.now():
            raise OAuthError(
                400,
                "invalid_grant",
                "the provided authorization refresh token is invalid or was issued to another "
                "client",
            )
        asked = _scopes(form.get("scope", ""))
        if not asked <= grant.scopes:
            raise OAuthError(
                400,
                "invalid_scope",
                "the requested scope is invalid, unknown, malformed, or exceeds the scope "
                "granted to the client",
            )
        return grant, self._access_token(grant, asked or grant.scopes)

    def _access_token(self, grant: Grant, scopes: frozenset[str]) -> dict[str, object]:
        token = _opaque(_ACCESS_PREFIX, 1490)
        lifetime = timedelta(seconds=self.options.token_lifetime)
        self._access[token] = Grant(
            grant.client_id, grant.seller, scopes, self.clock.now() + lifetime
        )
        self.issued.append(token)
        return {
            "access_token": token,
            "expires_in": self.options.token_lifetime,
            "token_type": TOKEN_TYPE,
        }

    def authenticate(self, authorization: str | None, scope: str, *, read: bool) -> Caller:
        """The caller an `Authorization: Bearer …` header stands for (401 / 1001 if none),
        holding `scope` (or its `.readonly` form for a read; 403 / 1100 if not)."""
        scheme, _, token = (authorization or "").partition(" ")
        grant = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires_at <= self.clock.now():
            raise invalid_token()
        allowed = {scope, f"{scope}.readonly"} if read else {scope}
        if not allowed & grant.scopes:
            raise insufficient_scope()
        return Caller(grant.client_id, grant.seller, grant.scopes)

    def expire_access(self, seller: str | None = None, client_id: str | None = None) -> int:
        """End the matching access tokens now, as if their two hours were up."""
        now, ended = self.clock.now(), 0
        for grant in self._access.values():
            if _matches(grant, seller, client_id) and grant.expires_at > now:
                grant.expires_at = now
                ended += 1
        return ended

    def revoke_refresh(self, seller: str | None = None, client_id: str | None = None) -> int:
        """Make the matching refresh tokens dead (invalid_grant), as a revoked consent."""
        doomed = [t for t, g in self._refresh.items() if _matches(g, seller, client_id)]
        for token in doomed:
            del self._refresh[token]
        return len(doomed)


def client_of(authorization: str | None, secret: str) -> str:
    """The client_id of an `Authorization: Basic base64(client_id:client_secret)` header
    whose secret is the sandbox's (401 invalid_client otherwise)."""
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    client_id, colon, given = decoded.partition(":")
    if scheme.lower() != "basic" or not colon or not client_id or given != secret:
        raise OAuthError(401, "invalid_client", "client authentication failed")
    return client_id


def _opaque(prefix: str, size: int) -> str:
    """eBay-looking opaque text: a version prefix, then base64 holding `+`, `/` and `=`."""
    size += 1 if size % 3 == 0 else 0  # a whole number of 3-byte groups has no padding
    while True:
        body = base64.b64encode(secrets.token_bytes(size)).decode("ascii")
        if "+" in body and "/" in body and body.endswith("="):
            return prefix + body


def _scopes(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _matches(grant: Grant, seller: str | None, client_id: str | None) -> bool:
    return (seller is None or grant.seller == seller) and (
        client_id is None or grant.client_id == client_id
    )
