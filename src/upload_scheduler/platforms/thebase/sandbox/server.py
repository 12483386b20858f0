"""The sandbox's HTTP server (stdlib only): in-process for pytest, or a process for the
demo and for rehearsals (`upload-scheduler sandbox serve`).

HTTP/1.0, one connection per request: a fault can then drop or reset exactly one
request's connection, and no idle keep-alive socket outlives a test.
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
from upload_scheduler.platforms.thebase.sandbox.app import (
    DROP,
    HANG,
    RESET,
    Reply,
    Request,
    SandboxApp,
)
from upload_scheduler.platforms.thebase.sandbox.faults import FaultPlan
from upload_scheduler.platforms.thebase.sandbox.options import SandboxOptions
from upload_scheduler.platforms.thebase.sandbox.record import Recorder
from upload_scheduler.platforms.thebase.sandbox.state import SandboxState

MAX_BODY = 1 << 20
log = logging.getLogger(__name__)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    app: SandboxApp
    options: SandboxOptions
    stopping: threading.Event


class _IPv6HTTPServer(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"
    server_version = "BASE-sandbox/1"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds no token (tokens travel in a header or a POST body).
        log.debug("sandbox: " + format, *args)

    def _serve(self, method: str) -> None:
        app, options, stopping = self.server.app, self.server.options, self.server.stopping
        received_at = app.clock.now()
        parts = urlsplit(self.path)
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        request = Request(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            form=dict(parse_qsl(raw, keep_blank_values=True)),
            authorization=self.headers.get("Authorization"),
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


class SandboxServer:
    """`with SandboxServer(options) as sandbox:` … `sandbox.url` …; binds at once, so the
    port is known before `start()`."""

    def __init__(
        self,
        options: SandboxOptions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.options = options or SandboxOptions()
        self.clock = clock or SystemClock()
        self.recorder = Recorder(self.options.record_path)
        self.faults = FaultPlan(
            p_server_error=self.options.p_server_error,
            p_timeout=self.options.p_timeout,
            p_reset=self.options.p_reset,
            p_lost_response=self.options.p_lost_response,
            seed=self.options.seed,
        )
        self.state = SandboxState(self.options, self.clock)
        self.app = SandboxApp(self.state, self.faults, self.recorder, self.clock)
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
        # getsockname() gives a str; the socket API also allows bytes for an AF_INET host.
        host = address if isinstance(address, str) else bytes(address).decode("ascii")
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="base-sandbox",
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

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(server: SandboxServer, out: TextIO = sys.stdout) -> None:
    """Run until SIGINT or SIGTERM (Ctrl+C, or Ctrl+Break on Windows). The first line
    printed is the URL, flushed, so a parent process can read it."""
    stop = threading.Event()
    previous = _install_handlers(lambda: stop.set())
    try:
        server.start()
        print(f"Sandbox listening on {server.url}", file=out, flush=True)
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
