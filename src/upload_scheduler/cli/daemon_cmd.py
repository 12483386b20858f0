"""`upload-scheduler daemon`: the seed's upload_daemon_account.py (with --account) and
upload_daemon.py / daemon.py (without it). Its flags are `worker/flags.py`'s, shared with
the light entry point the manager starts."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer
from rich.markup import escape

from upload_scheduler.cli.context import app_context, fail
from upload_scheduler.worker.flags import DAEMON_FLAGS, DAEMON_HELP, Flag


def register(app: typer.Typer) -> None:
    app.command("daemon", help=DAEMON_HELP)(daemon)


def daemon(ctx: typer.Context, **flags: Any) -> None:
    """Typer reads the flags from `__signature__`, built from DAEMON_FLAGS below."""
    from upload_scheduler.worker.entry import DaemonRequestError, run_daemon

    settings = app_context(ctx).settings
    try:
        run_daemon(settings, **flags)
    except DaemonRequestError as exc:
        fail(str(exc), code=exc.code)


def _parameter(flag: Flag) -> inspect.Parameter:
    """A flag as the keyword parameter Typer would read from a hand-written signature."""
    if flag.is_switch:
        kind: Any = bool
        default: Any = False
    elif flag.required:
        kind, default = flag.kind, inspect.Parameter.empty
    else:
        kind, default = flag.kind | None, None
    # escape: a help text is plain text; Rich would read "[cluster]" as markup.
    option = typer.Option(flag.name, help=escape(flag.help), min=flag.minimum, max=flag.maximum)
    return inspect.Parameter(
        flag.dest,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[kind, option],
    )


daemon.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        *(_parameter(flag) for flag in DAEMON_FLAGS),
    ]
)
