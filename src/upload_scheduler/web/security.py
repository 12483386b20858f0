"""Who may use the dashboard, and what a request must carry to change anything.

The anchors' worst complaints (no auth, CSRF, read-only only hidden in the page) are
answered here, once, as a middleware in front of every route:

- **Logins.** With `[dashboard] username` set, every request but `/healthz` needs HTTP
  Basic credentials: the operator's, or the viewer's (read only). Without it the
  dashboard only listens on the loopback address (the CLI refuses any other).
- **Read only.** `--read-only` or a viewer login: every POST is refused with 403 by the
  server, whatever the page shows.
- **CSRF.** Every POST carries `csrf_token`, an HMAC of the browser's cookie under a key
  this process made at start, and an Origin (or Referer) of this very host when the
  browser sends one. A cookie planted by another site is not enough without the key.
- **Headers.** A strict Content-Security-Policy (scripts and styles from the package's
  own files only, no inline code), no framing, no sniffing.

Refusals answer 401 or 403 directly, never a redirect.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

CSRF_COOKIE = "upload_scheduler_csrf"
CSRF_FIELD = "csrf_token"
OPERATOR = "operator"
VIEWER = "viewer"
# Open without a login: a load balancer's probe learns only that the database answers.
OPEN_PATHS = frozenset({"/healthz"})

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str


@dataclass(frozen=True)
class Credentials:
    """The logins `[dashboard]` sets, passwords read from the environment at start."""

    operator: Login
    viewer: Login | None = None

    def match(self, username: str, password: str) -> Login | None:
        """The login these credentials are, compared in constant time."""
        found = None
        for login in (self.operator, self.viewer):
            if login is None:
                continue
            same_user = hmac.compare_digest(username.encode(), login.username.encode())
            same_password = hmac.compare_digest(password.encode(), login.password.encode())
            if same_user and same_password:
                found = login
        return found


class CsrfKey:
    """Tokens tied to the browser's cookie: HMAC-SHA256 of the cookie under a key made
    when the process starts (a restart asks the browser to reload its page)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def token_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.token_for(cookie), token)


def new_cookie_value() -> str:
    return secrets.token_urlsafe(32)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an `Authorization: Basic` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def same_origin(request: Request) -> bool:
    """Whether the browser says the POST comes from a page of this host. A browser sends
    Origin with every POST; a client that sends neither header is not a browser that
    another site could steer, and still needs the CSRF token."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and urlsplit(origin).netloc == host
    referer = request.headers.get("referer")
    if referer is not None:
        return urlsplit(referer).netloc == host
    return True


class SecurityMiddleware:
    """Logins, read-only, and the security headers on every answer (see the module)."""

    def __init__(self, app: ASGIApp, credentials: Credentials | None, read_only: bool) -> None:
        self.app = app
        self.credentials = credentials
        self.read_only = read_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        role = OPERATOR
        if self.credentials is not None and scope["path"] not in OPEN_PATHS:
            given = basic_credentials(request.headers.get("authorization"))
            login = self.credentials.match(*given) if given else None
            if login is None:
                refusal = PlainTextResponse(
                    "login required",
                    status_code=401,
                    headers={"www-authenticate": 'Basic realm="upload-scheduler", charset="UTF-8"'},
                )
                await _with_headers(refusal)(scope, receive, send)
                return
            role = login.role
            scope["upload_scheduler.user"] = login.username
        read_only = self.read_only or role == VIEWER
        scope["upload_scheduler.read_only"] = read_only
        if request.method not in ("GET", "HEAD") and read_only:
            await _with_headers(forbidden("read only: actions are refused"))(scope, receive, send)
            return
        if request.method == "POST" and not same_origin(request):
            refusal = forbidden("cross-site request refused (Origin)")
            await _with_headers(refusal)(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answered here, not by Starlette's outer error page, so that a 500 carries
            # the same headers; the traceback goes to the log, never to the browser.
            if started:
                raise
            log.exception("dashboard: %s %s failed", request.method, scope["path"])
            failure = PlainTextResponse("internal error: see the dashboard's log", 500)
            await _with_headers(failure)(scope, receive, send)


def forbidden(text: str) -> PlainTextResponse:
    return PlainTextResponse(text, status_code=403)


def _with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def is_read_only(request: Request) -> bool:
    return bool(request.scope.get("upload_scheduler.read_only", False))


def user_of(request: Request) -> str:
    """Who is acting, for the activity log: the login, or the loopback client."""
    user = request.scope.get("upload_scheduler.user")
    if user:
        return str(user)
    client = request.client.host if request.client else "unknown"
    return f"dashboard@{client}"
