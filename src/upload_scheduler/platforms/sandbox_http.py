"""The HTTP layer the local marketplace sandboxes share (stdlib only): a threaded server
bound at once (port 0 picks a free one, so the URL is known before `start()`), one
request in as a `Request`, one answer out, and the faults an answer may ask for (drop
the connection, reset it, or hang).

HTTP/1.0, one connection per request: a fault can then drop or reset exactly one
request's connection, and no idle keep-alive socket outlives a test. What a sandbox
says is its app's business (`SandboxApp.handle`); this module only carries it.
"""

from __future__ import annotations

import logging
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Protocol, Self, TextIO
from urllib.parse import parse_qsl, urlsplit

from upload_scheduler.clock import Clock

SEND, DROP, RESET, HANG = "send", "drop", "reset", "hang"
LISTENING = "Sandbox listening on "  # the first line printed; the demo and tests read it
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as sent, percent-encoded
    query: dict[str, str]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    received_at: datetime | None = None  # before any simulated latency

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


class Answer(Protocol):
    """What an app hands back: sent as it is, unless `action` asks for a fault."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> dict[str, str]: ...

    @property
    def action(self) -> str: ...

    def payload(self) -> bytes: ...

    def content_type(self) -> str | None: ...


class SandboxApp(Protocol):
    @property
    def clock(self) -> Clock: ...

    def is_api(self, path: str) -> bool:
        """Requests that get the simulated latency."""
        ...

    def handle(self, request: Request) -> Answer: ...


@dataclass(frozen=True)
class HttpSettings:
    name: str  # the thread's name and the Server header's product
    latency: float = 0.0  # seconds added to every request the app calls an API request
    timeout_hang: float = 35.0  # how long a HANG answer keeps silent
    max_body: int = 1 << 20  # bytes read of a body at the most
    # The answer to a POST or PUT that says nothing of its length (eBay's front end
    # refuses those with 411); None reads such a body as empty.
    length_required: Answer | None = None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    app: SandboxApp
    settings: HttpSettings
    stopping: threading.Event


class _IPv6HTTPServer(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return f"{self.server.settings.name}/1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds no token (tokens travel in headers and POST bodies).
        log.debug(self.server.settings.name + ": " + format, *args)

    def _serve(self, method: str) -> None:
        app, settings, stopping = self.server.app, self.server.settings, self.server.stopping
        received_at = app.clock.now()
        parts = urlsplit(self.path)
        body = self._body(method, settings.max_body)
        if body is None:
            if settings.length_required is not None:
                self._send(settings.length_required)
                return
            body = b""
        request = Request(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            body=body,
            headers={name.lower(): value for name, value in self.headers.items()},
            received_at=received_at,
        )
        if settings.latency and app.is_api(parts.path):
            stopping.wait(settings.latency)
        answer = app.handle(request)
        if answer.action == HANG:
            stopping.wait(settings.timeout_hang)
            self.close_connection = True
            return
        if answer.action == RESET:
            self._reset()
            return
        if answer.action == DROP:
            self.close_connection = True
            return
        self._send(answer)

    def _body(self, method: str, limit: int) -> bytes | None:
        """The request body; None for a POST or PUT that says nothing of its length."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._chunked(limit)
        length = self.headers.get("Content-Length")
        if length is None:
            return None if method in ("POST", "PUT") else b""
        try:
            size = min(max(int(length), 0), limit)
        except ValueError:
            return None
        return self.rfile.read(size) if size else b""

    def _chunked(self, limit: int) -> bytes:
        body = bytearray()
        while len(body) <= limit:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers, up to the blank line
                    pass
                break
            body += self.rfile.read(size)
            self.rfile.readline()  # the CRLF after each chunk
        return bytes(body)

    def _send(self, answer: Answer) -> None:
        payload = answer.payload()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        content_type = answer.content_type()
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN: a "connection reset by peer".
        for layout in ("ii", "HH"):  # POSIX struct linger; Windows uses two u_short
            try:
                linger = struct.pack(layout, 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                break
            except OSError:
                continue
        self.close_connection = True
        self.connection.close()


class SandboxHttpServer:
    """`with server:` … `server.url` …: serves `app` on a thread until `stop()`. A
    sandbox's server class builds its app, then calls `__init__`; `on_stop` closes
    what the sandbox holds open (its record file), also when binding fails."""

    def __init__(
        self,
        app: SandboxApp,
        settings: HttpSettings,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings
        self._on_stop = on_stop
        server_class = _IPv6HTTPServer if ":" in host else _HTTPServer
        try:
            self._httpd = server_class((host, port), _Handler)
        except OSError:
            if on_stop is not None:
                on_stop()
            raise
        self._httpd.app = app
        self._httpd.settings = settings
        self._httpd.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        address, port = self._httpd.server_address[:2]
        # getsockname() gives a str; the socket API also allows bytes for an AF_INET host.
        host = address if isinstance(address, str) else bytes(address).decode("ascii")
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self._settings.name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging faults are woken so no thread outlives the server long."""
        self._httpd.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        if self._on_stop is not None:
            self._on_stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(server: SandboxHttpServer, lines: list[str], out: TextIO = sys.stdout) -> None:
    """Run until SIGINT or SIGTERM (Ctrl+C, or Ctrl+Break on Windows). The first line
    printed is the URL, flushed, so a parent process can read it; `lines` follow it."""
    stop = threading.Event()
    previous = _install_handlers(stop.set)
    try:
        server.start()
        print(f"{LISTENING}{server.url}", file=out, flush=True)
        for line in lines:
            print(line, file=out, flush=True)
        while not stop.wait(0.2):  # a bounded wait stays interruptible on Windows
            pass
    finally:
        _restore_handlers(previous)
        server.stop()
    print("Sandbox stopped.", file=out, flush=True)


def run_main(make_server: Callable[[], SandboxHttpServer], run: Callable[[Any], None]) -> int:
    """A sandbox module's `main`: 1 when the server cannot bind, else serve until stopped."""
    try:
        server = make_server()
    except OSError as exc:
        print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
        return 1
    run(server)
    return 0


def _install_handlers(on_signal: Callable[[], None]) -> dict[int, Any]:
    def handler(signum: int, frame: FrameType | None) -> None:
        on_signal()

    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    for sig in (getattr(signal, n) for n in names if hasattr(signal, n)):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
