"""`upload-scheduler dashboard`: the web dashboard and `/metrics` (README, "Dashboard").

It listens on 127.0.0.1 unless `[dashboard]` sets logins: any other address without them
is refused (exit 2), since the pages can retry, cancel and pause every shop's uploads.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from upload_scheduler.cli.context import app_context, fail

if TYPE_CHECKING:
    from upload_scheduler.config import Settings
    from upload_scheduler.web.security import Credentials

USAGE_ERROR = 2


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)


def dashboard(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; any but the loopback needs \\[dashboard] logins.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = 8080,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Refuse every action (403): pages only.")
    ] = False,
) -> None:
    """Serve the dashboard: every account, the queue, why an item waits, /metrics.

    The first line printed is `Dashboard: http://HOST:PORT/`. Stop it with Ctrl+C.
    """
    context = app_context(ctx)
    settings = context.settings
    credentials = _credentials(settings)
    from upload_scheduler.platforms.oauth import is_loopback_host

    if credentials is None and not is_loopback_host(host):
        fail(
            f"--host {host} is not the loopback address: set [dashboard] username and "
            "password_env (an operator login) in the config first, and put TLS in front "
            'of it (README, "Dashboard")',
            USAGE_ERROR,
        )
    listener = _listen(host, port)
    bound_port = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    sys.stdout.write(f"Dashboard: http://{shown}:{bound_port}/\n")
    sys.stdout.flush()

    import uvicorn

    from upload_scheduler.clock import SystemClock
    from upload_scheduler.web.app import create_app
    from upload_scheduler.web.render import Dashboard

    board = Dashboard(settings, context.engine, SystemClock(), read_only=read_only)
    app = create_app(board, credentials)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    )
    server.run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the URL is printed (so `--port 0` prints the
    port actually given)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    if os.name != "nt":  # on Windows this option would let two servers share a port
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host.strip("[]"), port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", USAGE_ERROR)
    listener.setblocking(False)
    return listener


def _credentials(settings: Settings) -> Credentials | None:
    """The logins of `[dashboard]`, their passwords read from the environment now."""
    from upload_scheduler.web.security import OPERATOR, VIEWER, Credentials, Login

    values = settings.file.dashboard
    if not values.username:
        return None
    operator = Login(values.username, _password(values.password_env), OPERATOR)
    viewer = None
    if values.viewer_username:
        viewer = Login(values.viewer_username, _password(values.viewer_password_env), VIEWER)
    return Credentials(operator, viewer)


def _password(variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        fail(
            f"[dashboard] names the environment variable {variable} for a password, "
            "but it is not set (or empty)",
            USAGE_ERROR,
        )
    return value
