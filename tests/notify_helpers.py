"""A real HTTP server on 127.0.0.1 that stands in for Chatwork or a Slack-compatible
webhook: it records every request, so a test can read what a notifier (in this process
or in a daemon it started) actually put on the wire. Shared by the notifier's own tests
and the acceptance tests that run the real command line."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def form(self) -> dict[str, list[str]]:
        """The body as a form (Chatwork's `body=...&self_unread=0`)."""
        return parse_qs(self.body.decode(), strict_parsing=True)

    def json(self) -> Any:
        """The body as JSON (a webhook's `{"text": ...}`)."""
        return json.loads(self.body)


@dataclass
class LocalServer:
    """Records every request; `mode` decides the answer."""

    url: str
    requests: list[Seen] = field(default_factory=list)
    mode: str = "ok"  # ok | 500 | close | hang
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self) -> list[Seen]:
        with self.lock:
            return list(self.requests)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[Seen]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            if time.monotonic() > deadline:
                raise AssertionError(f"the server saw {len(self.requests)} of {count} requests")
            time.sleep(0.005)


def _handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with server.lock:
                server.requests.append(
                    Seen("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            if server.mode == "close":
                self.close_connection = True
                return  # no status line at all: the client sees a dropped connection
            if server.mode == "hang":
                server.release.wait(5)
                self.close_connection = True
                return
            if server.mode == "500":
                # A careless server that echoes what it got, secret included.
                payload = json.dumps({"errors": [f"boom {self.headers.get('X-ChatWorkToken')}"]})
                self._answer(500, payload)
                return
            self._answer(200, json.dumps({"message_id": "1234"}))

        def _answer(self, status: int, payload: str) -> None:
            data = payload.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """A recording server on a free port of 127.0.0.1, shut down with the block."""
    local = LocalServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(local))
    local.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield local
    finally:
        local.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
