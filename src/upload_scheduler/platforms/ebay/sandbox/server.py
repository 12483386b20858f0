"""The eBay sandbox's server: in-process for pytest, or a process for the demo and
rehearsals (`upload-scheduler sandbox serve --platform ebay`). The HTTP layer is the
sandboxes' shared one (`platforms.sandbox_http`).

A POST or PUT without Content-Length (or a chunked body) is refused with 411, as eBay's
front end does: a publish must send `Content-Length: 0`.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.platforms import sandbox_http
from upload_scheduler.platforms.ebay.sandbox.app import EbaySandboxApp, Reply
from upload_scheduler.platforms.ebay.sandbox.faults import FaultPlan
from upload_scheduler.platforms.ebay.sandbox.options import EbaySandboxOptions
from upload_scheduler.platforms.ebay.sandbox.pages import LENGTH_REQUIRED_PAGE
from upload_scheduler.platforms.ebay.sandbox.record import Recorder
from upload_scheduler.platforms.ebay.sandbox.state import EbaySandboxState
from upload_scheduler.platforms.sandbox_http import LISTENING, HttpSettings, SandboxHttpServer

MAX_BODY = 1 << 20
__all__ = ["LISTENING", "MAX_BODY", "EbaySandboxServer", "serve"]


class EbaySandboxServer(SandboxHttpServer):
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
        settings = HttpSettings(
            name="eBay-sandbox",
            latency=self.options.latency,
            timeout_hang=self.options.timeout_hang,
            max_body=MAX_BODY,
            length_required=Reply(411, html=LENGTH_REQUIRED_PAGE),
        )
        super().__init__(self.app, settings, host=host, port=port, on_stop=self.recorder.close)

    def calls(self) -> list[dict[str, Any]]:
        return self.recorder.calls()


def serve(server: EbaySandboxServer, out: TextIO = sys.stdout) -> None:
    """Run until SIGINT or SIGTERM; the first line printed is the URL."""
    url = server.url
    line = (
        f"eBay sandbox: consent page {url}/oauth2/authorize, "
        f"APIs {url}/sell/, token {url}/identity/v1/oauth2/token"
    )
    sandbox_http.serve(server, [line], out)
