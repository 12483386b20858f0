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
) -> None:
    """Upload due items, paced within the platform's limits, until stopped (Ctrl+C or
    SIGTERM finishes the current item first). The flags override the config for this
    run only."""
    from upload_scheduler.config.model import check_window
    from upload_scheduler.worker.daemon import AlreadyRunning, DaemonOptions, UploadDaemon
    from upload_scheduler.worker.logs import log_file_name, setup_daemon_logging
    from upload_scheduler.worker.signals import stop_on_signals

    settings = app_context(ctx).settings
    if platform not in settings.accounts:
        fail(f"platform {platform!r} has no accounts in {settings.source}", code=2)
    if account is not None and account not in settings.account_ids(platform):
        fail(
            f"account {account!r} is not configured for platform {platform!r} "
            f"(configured: {', '.join(settings.account_ids(platform))})",
            code=2,
        )
    if start_hour is not None or end_hour is not None:
        try:
            check_window(
                start_hour if start_hour is not None else settings.file.daemon.business_hours_start,
                end_hour if end_hour is not None else settings.file.daemon.business_hours_end,
            )
        except ValueError as exc:
            fail(str(exc), code=2)
    options = DaemonOptions(interval, batch_size, start_hour, end_hour)
    log_path = setup_daemon_logging(
        settings.log_dir, log_file_name(platform, account), settings.zone
    )
    try:
        worker = UploadDaemon(settings, platform, [account] if account else None, options=options)
    except (LookupError, ValueError) as exc:
        fail(str(exc), code=2)
    with stop_on_signals(worker.stop):
        try:
            worker.run()
        except AlreadyRunning as exc:
            fail(str(exc))
    # Nothing is printed: under a service stdout may be closed. The log says it all.
    del log_path
