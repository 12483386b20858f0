"""The eBay sandbox's HTTP server (stdlib only, like the BASE sandbox's): in-process for
pytest, or a process for the demo and rehearsals (`upload-scheduler sandbox serve
--platform ebay`).

HTTP/1.0, one connection per request: a fault can then drop or reset exactly one
request's connection, and no idle keep-alive socket outlives a test. A POST or PUT
without Content-Length (or a chunked body) is refused with 411, as eBay's front end
does: a publish must send `Content-Length: 0`.
"""

from __future__ import annotations

import logging
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.platforms.ebay.sandbox.app import (
    DROP,
    HANG,
    RESET,
    EbaySandboxApp,
    Reply,
    Request,
)
from upload_scheduler.platforms.ebay.sandbox.faults import FaultPlan
from upload_scheduler.platforms.ebay.sandbox.options import EbaySandboxOptions
from upload_scheduler.platforms.ebay.sandbox.pages import LENGTH_REQUIRED_PAGE
from upload_scheduler.platforms.ebay.sandbox.record import Recorder
from upload_scheduler.platforms.ebay.sandbox.state import EbaySandboxState

MAX_BODY = 1 << 20
LISTENING = "Sandbox listening on "  # the first line printed; the demo and tests read it
log = logging.getLogger(__name__)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    app: EbaySandboxApp
    options: EbaySandboxOptions
    stopping: threading.Event


class _IPv6HTTPServer(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"
    server_version = "eBay-sandbox/1"

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
        log.debug("ebay sandbox: " + format, *args)

    def _serve(self, method: str) -> None:
        app, options, stopping = self.server.app, self.server.options, self.server.stopping
        received_at = app.clock.now()
        parts = urlsplit(self.path)
        body = self._body(method)
        if body is None:
            self._send(Reply(411, html=LENGTH_REQUIRED_PAGE))
            return
        request = Request(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            body=body,
            headers={name.lower(): value for name, value in self.headers.items()},
            received_at=received_at,
        )
        if options.latency and app.is_api(parts.path):
            stopping.wait(options.latency)
        reply = app.handle(request)
        if reply.action == HANG:
            stopping.wait(options.timeout_hang)
            self.close_connection = True
            return
        if reply.action == RESET:
            self._reset()
            return
        if reply.action == DROP:
            self.close_connection = True
            return
        self._send(reply)

    def _body(self, method: str) -> bytes | None:
        """The request body; None for a POST or PUT that says nothing of its length."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return None if method in ("POST", "PUT") else b""
        try:
            size = min(max(int(length), 0), MAX_BODY)
        except ValueError:
            return None
        return self.rfile.read(size) if size else b""

    def _chunked(self) -> bytes:
        body = bytearray()
        while len(body) <= MAX_BODY:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers, up to the blank line
                    pass
                break
            body += self.rfile.read(size)
            self.rfile.readline()  # the CRLF after each chunk
        return bytes(body)

    def _send(self, reply: Reply) -> None:
        payload = reply.payload()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        content_type = reply.content_type()
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


class EbaySandboxServer:
    """`with EbaySandboxServer(options) as sandbox:` … `sandbox.url` …; binds at once,
    so the port is known before `start()`. OAuth and both APIs are on `url`."""

    def __init__(
        self,
        options: EbaySandboxOptions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.options = options or EbaySandboxOptions()
        self.clock = clock or SystemClock()
        self.recorder = Recorder(self.options.record_path)
        self.faults = FaultPlan(
            {
                "server_error": self.options.p_server_error,
                "timeout": self.options.p_timeout,
                "reset": self.options.p_reset,
                "lost_response": self.options.p_lost_response,
                "concurrency": self.options.p_concurrency,
            },
            seed=self.options.seed,
        )
        self.state = EbaySandboxState(self.options, self.clock)
        self.app = EbaySandboxApp(self.state, self.faults, self.recorder, self.clock)
        server_class = _IPv6HTTPServer if ":" in host else _HTTPServer
        try:
            self._httpd = server_class((host, port), _Handler)
        except OSError:
            self.recorder.close()
            raise
        self._httpd.app = self.app
        self._httpd.options = self.options
        self._httpd.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        address, port = self._httpd.server_address[:2]
        host = address if isinstance(address, str) else bytes(address).decode("ascii")
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> EbaySandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="ebay-sandbox",
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
        self.recorder.close()

    def calls(self) -> list[dict[str, Any]]:
        return self.recorder.calls()

    def __enter__(self) -> EbaySandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(server: EbaySandboxServer, out: TextIO = sys.stdout) -> None:
    """Run until SIGINT or SIGTERM (Ctrl+C, or Ctrl+Break on Windows). The first line
    printed is the URL, flushed, so a parent process can read it."""
    stop = threading.Event()
    previous = _install_handlers(stop.set)
    try:
        server.start()
        print(f"{LISTENING}{server.url}", file=out, flush=True)
        print(
            f"eBay sandbox: consent page {server.url}/oauth2/authorize, "
            f"APIs {server.url}/sell/, token {server.url}/identity/v1/oauth2/token",
            file=out,
            flush=True,
        )
        while not stop.wait(0.2):  # a bounded wait stays interruptible on Windows
            pass
    finally:
        _restore_handlers(previous)
        server.stop()
    print("Sandbox stopped.", file=out, flush=True)


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
