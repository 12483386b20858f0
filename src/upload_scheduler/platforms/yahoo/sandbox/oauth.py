"""YConnect v2's authorization-code grant: single-use codes, access tokens, and refresh
tokens whose end is fixed at the login (four weeks later by default) and never moved
by refreshing: a refresh answers an access token only. A login belongs to (client_id,
user); the user may act for every store but the sandbox's foreign ones.
Callers hold the state's lock.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.ebay.sandbox.oauth import client_of
from upload_scheduler.platforms.yahoo.sandbox.answers import OAuthError, invalid_token
from upload_scheduler.platforms.yahoo.sandbox.options import YahooSandboxOptions

__all__ = ["Caller", "Grants", "Login", "client_of"]
ISSUER = "https://auth.login.yahoo.co.jp/yconnect/v2"


@dataclass
class Login:
    """One consent: its refresh token's end is the login's, whatever is refreshed."""

    client_id: str
    user: str
    refresh_ends: datetime
    revoked: bool = False


@dataclass
class _Code:
    login: Login
    redirect_uri: str
    expires_at: datetime


@dataclass
class _Access:
    login: Login
    expires_at: datetime


@dataclass(frozen=True)
class Caller:
    client_id: str
    user: str


class Grants:
    def __init__(self, options: YahooSandboxOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, Login] = {}
        self.issued: list[str] = []  # every code and token handed out, for leak checks

    def consent(self, client_id: str, user: str, redirect_uri: str) -> str:
        """The code `user` agreeing hands to `client_id`; the login starts here."""
        now = self.clock.now()
        login = Login(client_id, user, now + timedelta(seconds=self.options.refresh_lifetime))
        code = secrets.token_urlsafe(24)
        expires = now + timedelta(seconds=self.options.code_lifetime)
        self._codes[code] = _Code(login, redirect_uri, expires)
        self.issued.append(code)
        return code

    def exchange(self, client_id: str, form: dict[str, str]) -> tuple[Login, dict[str, object]]:
        """(login, answer) for POST /yconnect/v2/token once the client is known."""
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(client_id, form)
        if grant_type == "refresh_token":
            return self._refresh_access(client_id, form)
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        raise OAuthError(400, "unsupported_grant_type", f"unsupported grant_type {grant_type}")

    def _exchange_code(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[Login, dict[str, object]]:
        code = _required(form, "code")
        grant = self._codes.pop(code, None)  # a code is good for one exchange
        now = self.clock.now()
        if grant is None or grant.login.client_id != client_id or grant.expires_at <= now:
            raise OAuthError(400, "invalid_grant", "the code is invalid, used or expired")
        if form.get("redirect_uri", "") != grant.redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match")
        refresh = secrets.token_urlsafe(48)
        self._refresh[refresh] = grant.login
        self.issued.append(refresh)
        answer = {
            **self._access_token(grant.login),
            "refresh_token": refresh,
            "id_token": self._id_token(grant.login, now),
        }
        return grant.login, answer

    def _refresh_access(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[Login, dict[str, object]]:
        token = _required(form, "refresh_token")
        login = self._refresh.get(token)
        if login is None or login.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "the refresh token is invalid")
        if login.revoked or login.refresh_ends <= self.clock.now():
            raise OAuthError(400, "invalid_grant", "the refresh token has expired")
        return login, self._access_token(login)

    def _access_token(self, login: Login) -> dict[str, object]:
        token = secrets.token_urlsafe(96)
        lifetime = timedelta(seconds=self.options.token_lifetime)
        self._access[token] = _Access(login, self.clock.now() + lifetime)
        self.issued.append(token)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.options.token_lifetime,
        }

    def _id_token(self, login: Login, now: datetime) -> str:
        """A JWT-shaped token (header.payload.signature); nobody checks its signature."""
        claims = {
            "iss": ISSUER,
            "sub": login.user,
            "aud": [login.client_id],
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + self.options.token_lifetime,
        }
        parts = [{"typ": "JWT", "alg": "none"}, claims]
        encoded = [_b64(json.dumps(part).encode()) for part in parts]
        token = ".".join([*encoded, _b64(secrets.token_bytes(32))])
        self.issued.append(token)
        return token

    def authenticate(self, authorization: str | None) -> Caller:
        """Who `Authorization: Bearer …` stands for; 401 with Yahoo!'s header if none."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise invalid_token("no token")
        access = self._access.get(token.strip())
        if access is None:
            raise invalid_token("invalid token")
        if access.expires_at <= self.clock.now():
            raise invalid_token("expired token")
        return Caller(access.login.client_id, access.login.user)

    def expire_access(self, user: str | None = None, client_id: str | None = None) -> int:
        """End the matching access tokens now, as if their hour were up."""
        now, ended = self.clock.now(), 0
        for access in self._access.values():
            if _matches(access.login, user, client_id) and access.expires_at > now:
                access.expires_at = now
                ended += 1
        return ended

    def end_logins(self, user: str | None = None, client_id: str | None = None) -> int:
        """End the matching logins' refresh tokens now: invalid_grant from here on."""
        ended = 0
        for login in {id(g): g for g in self._refresh.values()}.values():
            if _matches(login, user, client_id) and not login.revoked:
                login.revoked = True
                ended += 1
        return ended

    def logins(self) -> list[dict[str, object]]:
        """The logins, for the state (never a token)."""
        unique = {id(g): g for g in self._refresh.values()}.values()
        now = self.clock.now()
        return [
            {
                "client_id": g.client_id,
                "user": g.user,
                "refresh_ends": g.refresh_ends.isoformat(),
                "alive": not g.revoked and g.refresh_ends > now,
            }
            for g in unique
        ]


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise OAuthError(400, "invalid_request", f"{name} is required")
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _matches(login: Login, user: str | None, client_id: str | None) -> bool:
    return (user is None or login.user == user) and (
        client_id is None or login.client_id == client_id
    )
