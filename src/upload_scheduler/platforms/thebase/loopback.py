"""The loopback listener of `token login`: receives BASE's redirect to `redirect_uri`
and hands over the code once the `state` matches.

A redirect with a wrong `state` is answered with an error page and ignored (a stale
browser tab, or a forged request), and the listener keeps waiting for the right one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>upload-scheduler</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


class LoginError(Exception):
    """The login did not produce a code; the message says why and what to do."""


@dataclass(frozen=True)
class Redirect:
    code: str | None
    error: str | None


class _Server(HTTPServer):
    path: str
    expected_state: str
    result: Redirect | None
    ignored: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # a browser's idle pre-connection must not stall the wait loop

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.rstrip("/") != self.server.path.rstrip("/"):
            self._page(404, "Not found", "This address only receives the BASE login.")
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if query.get("state") != self.server.expected_state:
            self.server.ignored += 1
            self._page(400, "Login refused", "This redirect does not belong to the running login.")
            return
        if query.get("error"):
            self.server.result = Redirect(None, query["error"])
            self._page(200, "Login refused", "BASE did not grant access. You can close this tab.")
            return
        if not query.get("code"):
            self._page(400, "Login failed", "The redirect carries no code.")
            return
        self.server.result = Redirect(query["code"], None)
        self._page(200, "Logged in", "upload-scheduler received the code. You can close this tab.")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the query string holds the authorization code: never log it

    def _page(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=title, text=text).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LoopbackReceiver:
    """Bind at once (so the URL can be printed before the browser opens), then `wait`."""

    def __init__(self, host: str, port: int, path: str, expected_state: str) -> None:
        try:
            self._server = _Server((host, port), _Handler)
        except OSError as exc:
            raise LoginError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self._server.path = path or "/"
        self._server.expected_state = expected_state
        self._server.result = None
        self._server.ignored = 0
        self._server.timeout = 0.2

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def wait(self, timeout: float, stop: threading.Event | None = None) -> str:
        """The authorization code, or LoginError (refusal or timeout)."""
        deadline = time.monotonic() + timeout
        while self._server.result is None:
            if time.monotonic() >= deadline:
                raise LoginError(
                    f"no redirect arrived within {timeout:g} s; open the URL above in a browser "
                    "and approve, or use --code"
                )
            if stop is not None and stop.is_set():
                raise LoginError("login cancelled")
            self._server.handle_request()
        result = self._server.result
        if result.error:
            raise LoginError(f"BASE refused the authorization ({result.error})")
        return str(result.code)

    @property
    def ignored(self) -> int:
        """Redirects refused for a wrong `state`."""
        return self._server.ignored

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
