"""The BASE sandbox's server: in-process for pytest, or a process for the demo and for
rehearsals (`upload-scheduler sandbox serve`). The HTTP layer is the sandboxes' shared
one (`platforms.sandbox_http`); BASE's app reads a form and an Authorization header,
so each request is handed to it in that shape.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.platforms import sandbox_http
from upload_scheduler.platforms.sandbox_http import HttpSettings, SandboxHttpServer
from upload_scheduler.platforms.thebase.sandbox.app import Reply, Request, SandboxApp
from upload_scheduler.platforms.thebase.sandbox.faults import FaultPlan
from upload_scheduler.platforms.thebase.sandbox.options import SandboxOptions
from upload_scheduler.platforms.thebase.sandbox.record import Recorder
from upload_scheduler.platforms.thebase.sandbox.state import SandboxState

MAX_BODY = 1 << 20


class _FormApp:
    """BASE's app behind the shared HTTP layer: the body read as a form."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.clock = app.clock

    def is_api(self, path: str) -> bool:
        return self.app.is_api(path)

    def handle(self, request: sandbox_http.Request) -> Reply:
        return self.app.handle(
            Request(
                method=request.method,
                path=request.path,
                query=request.query,
                form=request.form(),
                authorization=request.header("authorization"),
                received_at=request.received_at,
            )
        )


class SandboxServer(SandboxHttpServer):
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
        settings = HttpSettings(
            name="BASE-sandbox",
            latency=self.options.latency,
            timeout_hang=self.options.timeout_hang,
            max_body=MAX_BODY,
        )
        super().__init__(
            _FormApp(self.app), settings, host=host, port=port, on_stop=self.recorder.close
        )

    def calls(self) -> list[dict[str, Any]]:
        return self.recorder.calls()


def serve(server: SandboxServer, out: TextIO = sys.stdout) -> None:
    """Run until SIGINT or SIGTERM (Ctrl+C, or Ctrl+Break on Windows). The first line
    printed is the URL, flushed, so a parent process can read it."""
    sandbox_http.serve(server, [], out)
