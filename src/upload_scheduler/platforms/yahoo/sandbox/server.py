"""The Yahoo! sandbox's server: in-process for pytest (`with YahooSandboxServer(options)
as sandbox:` … `sandbox.url` …), or a process for the demo and rehearsals
(`upload-scheduler sandbox serve --platform yahoo`). The HTTP layer is the sandboxes'
shared one (`platforms.sandbox_http`); bodies up to 16 MB are read, so an image over
Yahoo!'s 2 MB gets Yahoo!'s refusal rather than a cut-off upload.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.platforms import sandbox_http
from upload_scheduler.platforms.sandbox_http import HttpSettings, SandboxHttpServer
from upload_scheduler.platforms.yahoo.sandbox.app import (
    API_ROOT,
    AUTHORIZE_PATH,
    TOKEN_PATH,
    YahooSandboxApp,
)
from upload_scheduler.platforms.yahoo.sandbox.faults import new_plan
from upload_scheduler.platforms.yahoo.sandbox.images import ImageOrigin
from upload_scheduler.platforms.yahoo.sandbox.options import YahooSandboxOptions
from upload_scheduler.platforms.yahoo.sandbox.record import Recorder
from upload_scheduler.platforms.yahoo.sandbox.state import YahooSandboxState

MAX_BODY = 16 * 1024 * 1024


class YahooSandboxServer(SandboxHttpServer):
    """Binds at once, so the port is known before `start()`; YConnect, the store API and
    the image origin are all on `url`."""

    def __init__(
        self,
        options: YahooSandboxOptions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.options = options or YahooSandboxOptions()
        self.clock = clock or SystemClock()
        self.recorder = Recorder(self.options.record_path)
        o = self.options
        self.faults = new_plan(
            {
                "server_error": o.p_server_error,
                "unavailable": o.p_unavailable,
                "timeout": o.p_timeout,
                "reset": o.p_reset,
                "lost_response": o.p_lost_response,
            },
            seed=o.seed,
        )
        self.state = YahooSandboxState(self.options, self.clock)
        self.origin = ImageOrigin()
        self.app = YahooSandboxApp(self.state, self.faults, self.recorder, self.clock, self.origin)
        settings = HttpSettings(
            name="Yahoo-sandbox",
            latency=o.latency,
            timeout_hang=o.timeout_hang,
            max_body=MAX_BODY,
        )
        super().__init__(self.app, settings, host=host, port=port, on_stop=self.recorder.close)

    def calls(self) -> list[dict[str, Any]]:
        return self.recorder.calls()


def serve(server: YahooSandboxServer, out: TextIO = sys.stdout) -> None:
    """Run until SIGINT or SIGTERM; the first line printed is the URL."""
    url = server.url
    line = (
        f"Yahoo! sandbox: consent page {url}{AUTHORIZE_PATH}, token {url}{TOKEN_PATH}, "
        f"APIs {url}{API_ROOT}, images {url}/images/"
    )
    sandbox_http.serve(server, [line], out)
