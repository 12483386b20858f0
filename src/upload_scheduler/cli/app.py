"""The `upload-scheduler` command."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer
from rich.markup import escape

from upload_scheduler import __version__
from upload_scheduler.cli import (
    account_cmd,
    config_cmd,
    daemon_cmd,
    dashboard_cmd,
    db_cmd,
    delist_cmd,
    demo_cmd,
    legacy_cmd,
    logs_cmd,
    manager_cmd,
    products_cmd,
    queue_cmd,
    rules_cmd,
    sandbox_cmd,
    token_cmd,
)
from upload_scheduler.cli.context import AppContext, app_context, err_console

app = typer.Typer(
    name="upload-scheduler",
    help="List products on marketplaces from many seller accounts, paced by each "
    "platform's limits and spread across business hours.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"upload-scheduler {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="Configuration file. Default: $UPLOAD_SCHEDULER_CONFIG, else "
            "./upload-scheduler.toml.",
            metavar="PATH",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show the full traceback of an error (also: UPLOAD_SCHEDULER_DEBUG=1).",
        ),
    ] = False,
) -> None:
    context = app_context(ctx)
    context.config_path = config
    context.debug = debug
    ctx.call_on_close(context.close)


config_cmd.register(app)
db_cmd.register(app)
products_cmd.register(app)
queue_cmd.register(app)
dashboard_cmd.register(app)
token_cmd.register(app)
daemon_cmd.register(app)
rules_cmd.register(app)
sandbox_cmd.register(app)
manager_cmd.register(app)
logs_cmd.register(app)
account_cmd.register(app)
delist_cmd.register(app)
demo_cmd.register(app)
legacy_cmd.register(app)


def main() -> None:
    """The console script: faults of the machine (files, disk, database server) end in one
    line and exit status 2, not a traceback; --debug shows the traceback as well."""
    from upload_scheduler.cli.errors import debug_requested, explain

    context = AppContext()
    try:
        app(obj=context)
    except Exception as exc:
        problem = explain(exc, context.where())
        if problem is None:
            raise  # not a fault we know: a bug, whose traceback is what a report needs
        if debug_requested(context.debug):
            traceback.print_exception(exc)
        err_console.print(f"[bold red]error:[/] {escape(problem.message)}", soft_wrap=True)
        sys.exit(problem.exit_code)
