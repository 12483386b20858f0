"""`upload-scheduler daemon`: the seed's upload_daemon_account.py (with --account) and
upload_daemon.py / daemon.py (without it)."""

from __future__ import annotations

from typing import Annotated

import typer

from upload_scheduler.cli.context import app_context, fail


def register(app: typer.Typer) -> None:
    app.command("daemon")(daemon)


def daemon(
    ctx: typer.Context,
    platform: Annotated[str, typer.Option("--platform", help="Platform name (required).")],
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            help="Work this account only (recommended). Without it, one process works all "
            "of the platform's accounts in one due order, like the seed's upload_daemon.py: "
            "backward compatible, not recommended.",
        ),
    ] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", min=0.01, help="Check interval in seconds.")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Items per cycle.")
    ] = None,
    start_hour: Annotated[
        int | None, typer.Option("--start-hour", min=0, max=24, help="Business hours start.")
    ] = None,
    end_hour: Annotated[
        int | None, typer.Option("--end-hour", min=0, max=24, help="Business hours end.")
    ] = None,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="If another host's daemon holds the account, wait and take over when its "
            "lease expires ([cluster] lease_ttl_seconds) instead of exiting.",
        ),
    ] = False,
) -> None:
    """Upload due items, paced within the platform's limits, until stopped (Ctrl+C or
    SIGTERM finishes the current item first). The flags override the config for this
    run only."""
    from upload_scheduler.worker.entry import DaemonRequestError, run_daemon

    settings = app_context(ctx).settings
    try:
        run_daemon(
            settings,
            platform,
            account,
            interval=interval,
            batch_size=batch_size,
            start_hour=start_hour,
            end_hour=end_hour,
            standby=standby,
        )
    except DaemonRequestError as exc:
        fail(str(exc), code=exc.code)
