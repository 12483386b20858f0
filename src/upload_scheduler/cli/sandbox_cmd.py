"""`upload-scheduler sandbox serve`: a local BASE-compatible server for rehearsals, the
demo and the tests. Point `[platforms.base] api_base_url` at the URL it prints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from upload_scheduler import defaults
from upload_scheduler.cli.context import fail


def register(app: typer.Typer) -> None:
    sandbox = typer.Typer(
        help="A local BASE-compatible server (no config file needed).", no_args_is_help=True
    )
    sandbox.command("serve")(serve)
    app.add_typer(sandbox, name="sandbox")


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, help="Port; 0 picks a free one.")] = 0,
    token_lifetime: Annotated[
        int, typer.Option("--token-lifetime", min=1, help="Seconds an access token lives.")
    ] = 3600,
    hour_limit: Annotated[
        int, typer.Option("--hour-limit", min=0, help="API calls per shop and clock hour.")
    ] = defaults.HOUR_CALL_LIMIT,
    day_limit: Annotated[
        int, typer.Option("--day-limit", min=0, help="API calls per shop and day.")
    ] = defaults.DAY_CALL_LIMIT,
    daily_item_limit: Annotated[
        int, typer.Option("--daily-item-limit", min=0, help="items/add per shop and day.")
    ] = defaults.DAILY_LIMIT,
    latency: Annotated[
        float, typer.Option("--latency", min=0.0, help="Seconds added to every API request.")
    ] = 0.0,
    p_server_error: Annotated[
        float,
        typer.Option(
            "--p-server-error", min=0.0, max=1.0, help="Probability of an HTTP 500 (no action)."
        ),
    ] = 0.0,
    p_timeout: Annotated[
        float,
        typer.Option(
            "--p-timeout", min=0.0, max=1.0, help="Probability of no answer at all (no action)."
        ),
    ] = 0.0,
    p_reset: Annotated[
        float,
        typer.Option(
            "--p-reset", min=0.0, max=1.0, help="Probability of a connection reset (no action)."
        ),
    ] = 0.0,
    p_lost_response: Annotated[
        float,
        typer.Option(
            "--p-lost-response",
            min=0.0,
            max=1.0,
            help="Probability that a request is carried out and its answer lost.",
        ),
    ] = 0.0,
    timeout_hang: Annotated[
        float,
        typer.Option("--timeout-hang", min=0.0, help="Seconds a timeout fault keeps silent."),
    ] = 35.0,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the random faults.")] = None,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Append every request to this JSONL file.", metavar="FILE"),
    ] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", help="Where the day limits' day ends.")
    ] = defaults.TIMEZONE,
) -> None:
    """Serve BASE's OAuth and items API locally until Ctrl+C. Prints its URL first."""
    from upload_scheduler.platforms.thebase.sandbox import SandboxOptions, SandboxServer
    from upload_scheduler.platforms.thebase.sandbox import serve as run

    try:
        options = SandboxOptions(
            token_lifetime=token_lifetime,
            hour_call_limit=hour_limit,
            day_call_limit=day_limit,
            daily_item_limit=daily_item_limit,
            latency=latency,
            p_server_error=p_server_error,
            p_timeout=p_timeout,
            p_reset=p_reset,
            p_lost_response=p_lost_response,
            timeout_hang=timeout_hang,
            seed=seed,
            record_path=record,
            timezone=timezone,
        )
        server = SandboxServer(options, host=host, port=port)
    except (ValueError, OSError) as exc:
        fail(f"cannot start the sandbox: {exc}")
    run(server)
