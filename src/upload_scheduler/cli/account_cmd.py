"""`upload-scheduler account pause|resume|list|setup`: stop and restart one shop's uploads
without stopping its daemon, see every account's pause, usage, tokens and queue, and make
a marketplace's seller ready to list (eBay: business policies, location, policies)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import AppContext, app_context, console, fail
from upload_scheduler.cli.render import local_time
from upload_scheduler.operations.until import UntilOutOfRange, parse_until

if TYPE_CHECKING:
    from upload_scheduler.operations.pauses import Pause
    from upload_scheduler.platforms.ebay.setup import SetupReport

PlatformOpt = Annotated[str, typer.Option("--platform", help="Platform name (seed: base).")]
AccountOpt = Annotated[str, typer.Option("--account", help="The account (shop) id.")]


def register(app: typer.Typer) -> None:
    account = typer.Typer(help="Accounts: pause, resume, list, setup.", no_args_is_help=True)
    account.command("pause")(pause)
    account.command("resume")(resume)
    account.command("list")(list_accounts)
    account.command("setup")(setup)
    app.add_typer(account, name="account")


# Platforms whose sellers need a one-time set-up before the first listing, and the
# function that does it: (settings, engine, clock, account_id) -> SetupReport.
SETUPS = {"ebay": "upload_scheduler.platforms.ebay.setup:setup_account"}

USAGE_ERROR = 2


def _check_account(context: AppContext, platform: str, account: str) -> None:
    configured = context.settings.account_ids(platform)
    if account not in configured:
        fail(
            f"account {account!r} is not configured for platform {platform!r} "
            f"(configured: {', '.join(configured) or 'none'})"
        )


def _now() -> datetime:
    from upload_scheduler.clock import SystemClock

    return SystemClock().now()


def pause(
    ctx: typer.Context,
    account: AccountOpt,
    platform: PlatformOpt = defaults.DEFAULT_PLATFORM,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="When the pause ends: a duration (2h, 1d) or a date-time ('2026-01-06 09:00', "
            "read in the configured zone). Default: until `account resume`.",
            metavar="TIME",
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, shown by status commands.")
    ] = None,
) -> None:
    """Stop starting uploads for an account. Its daemon finishes the current item and
    stays alive, waiting; the pause survives restarts."""
    from upload_scheduler.operations import pauses
    from upload_scheduler.operations.activity import PAUSE

    context = app_context(ctx)
    _check_account(context, platform, account)
    now = _now()
    zone = context.settings.account(platform, account).zone
    try:
        end = parse_until(until, now, zone) if until else None
    except UntilOutOfRange as exc:
        fail(str(exc), code=USAGE_ERROR)
    except ValueError as exc:
        fail(str(exc))
    done = pauses.pause(context.engine, platform, account, until=end, reason=reason, now=now)
    _record(context, PAUSE, now, platform, account, _pause_text(done, zone))
    console.print(f"Paused {platform}/{account} {_until_text(done, zone)}: {done.reason}")


def resume(
    ctx: typer.Context,
    account: AccountOpt,
    platform: PlatformOpt = defaults.DEFAULT_PLATFORM,
) -> None:
    """Lift an account's pause, whether the operator or a rate limit, quota or refused
    token set it. Its daemon starts again within its check interval."""
    from upload_scheduler.operations import pauses
    from upload_scheduler.operations.activity import RESUME

    context = app_context(ctx)
    _check_account(context, platform, account)
    now = _now()
    lifted = pauses.resume(context.engine, platform, account, now)
    zone = context.settings.account(platform, account).zone
    lifted_text = "was not paused" if lifted is None else f"lifted {_pause_text(lifted, zone)}"
    _record(context, RESUME, now, platform, account, lifted_text)
    if lifted is None:
        console.print(f"{platform}/{account} was not paused.")
        return
    console.print(
        f"Resumed {platform}/{account} (it was paused {_until_text(lifted, zone)}: {lifted.reason})"
    )
    if lifted.kind == "auth":
        console.print(
            "[yellow]note:[/] that pause came from a refused token; if the token is still "
            f"bad, run `upload-scheduler token login --platform {platform} --account {account}`."
        )


def _pause_text(pause: Pause, zone: ZoneInfo) -> str:
    """The pause for the activity log: its reason and its end, with the zone named."""
    if pause.until is None:
        return f"{pause.reason}; until resumed"
    return f"{pause.reason}; until {local_time(pause.until, zone)} {zone.key}"


def _record(
    context: AppContext, action: str, now: datetime, platform: str, account: str, detail: str
) -> None:
    """Log a pause or a resume of one account (no queue item changes: items 0)."""
    from upload_scheduler.operations.activity import record_cli

    record_cli(
        context.engine, action=action, now=now, platform=platform, account_id=account, detail=detail
    )


def list_accounts(
    ctx: typer.Context,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Only this platform (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Each configured account: paused or not, today's usage against every limit, token
    state and queue counts."""
    from upload_scheduler.operations.accounts import account_overviews

    context = app_context(ctx)
    now = _now()
    overviews = account_overviews(context.settings, context.read_engine(), now, platform)
    if as_json:
        typer.echo(json.dumps({"accounts": [o.to_json() for o in overviews]}, ensure_ascii=False))
        return
    if not overviews:
        console.print("No accounts are configured under \\[accounts].")
        return
    table = Table(
        title="Accounts",
        title_justify="left",
        caption=f"Usage is today's (the account's local day); hour calls are this clock hour. "
        f"Times are in {context.settings.timezone}.",
        caption_justify="left",
    )
    for column in ("platform", "account", "paused", "hour calls", "day calls", "creations"):
        table.add_column(column, no_wrap=column != "paused")
    table.add_column("token", min_width=14)
    table.add_column("queue", min_width=12)
    zone = context.settings.zone
    for o in overviews:
        paused = "no" if o.pause is None else f"yes, {_until_text(o.pause, zone)}: {o.pause.reason}"
        token = "-" if o.token is None else o.token.status
        if o.token is not None and o.token.message:
            token += f" ({o.token.message})"
        queue = ", ".join(f"{n} {s}" for s, n in o.queue.items() if n and s != "total")
        table.add_row(
            o.platform,
            o.account_id,
            paused,
            *(f"{u.used}/{u.limit}" for u in o.usage),
            token,
            queue or "empty",
        )
    console.print(table)


def _until_text(pause: Pause, zone: ZoneInfo) -> str:
    if pause.until is None:
        return "until resumed"
    return f"until {local_time(pause.until, zone)}"


def setup(
    ctx: typer.Context,
    account: AccountOpt,
    platform: Annotated[
        str, typer.Option("--platform", help="Platform name: ebay (others need no set-up).")
    ] = defaults.DEFAULT_PLATFORM,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Make a seller ready to list, and say what was done; never asks anything.

    eBay: opts in to business policies if needed, creates the merchant location
    (merchant_location_key) from [platforms.ebay.location] if eBay has none, and finds the
    fulfillment, payment and return policies (an empty *_policy_id with exactly one policy
    of that kind uses it; several are listed with the key to set). Uses the account's
    stored token (`token login` first). Safe to run again: a second run changes nothing.
    It does not lift a pause: run `account resume` afterwards.

    Exit status 0 when the account can list, 1 when something is missing (shown), 2 for
    an unknown platform."""
    import importlib

    from upload_scheduler.clock import SystemClock
    from upload_scheduler.platforms import registry

    if not registry.is_installed(platform):
        installed = ", ".join(sorted(registry.installed_platforms()))
        fail(f"unknown platform {platform!r} (installed: {installed})", code=USAGE_ERROR)
    context = app_context(ctx)
    _check_account(context, platform, account)
    target = SETUPS.get(platform)
    if target is None:
        message = f"nothing to set up for {platform}"
        if as_json:
            payload = {"platform": platform, "account": account, "ready": True, "changed": False}
            payload.update(error=None, steps=[], paused=None, hint=None, message=message)
            typer.echo(json.dumps(payload))
        else:
            console.print(f"{message}.")
        return
    module, _, name = target.partition(":")
    run = getattr(importlib.import_module(module), name)
    engine = context.read_engine()
    clock = SystemClock()
    report: SetupReport = run(context.settings, engine, clock, account)
    paused = _current_pause(context, platform, account)
    hint = _setup_hint(report, paused, platform, account)
    if as_json:
        pause_json = None
        if paused is not None:
            until = paused.until.isoformat() if paused.until else None
            pause_json = {"kind": paused.kind, "reason": paused.reason, "until": until}
        payload = {**report.to_json(), "paused": pause_json, "hint": hint}
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        _print_setup(report, hint)
    if not report.ready:
        raise typer.Exit(1)


_MARKS = {
    "in_place": "ok",
    "done": "done",
    "processing": "processing",
    "waiting": "waiting",
    "missing": "MISSING",
}


def _print_setup(report: SetupReport, hint: str | None) -> None:
    """One line per step (plain words, no symbols a Windows console may lack; a step's
    message lists the policies to choose from), then the verdict, then what to do next.
    An error that stopped the run (no token, eBay unreachable) goes to stderr, exit 1."""
    from rich.markup import escape

    console.print(f"Set-up of {report.platform}/{report.account_id}:")
    for step in report.steps:
        mark = _MARKS.get(step.status.value, step.status.value)
        label = step.name.replace("_", " ")
        console.print(f"  {mark:<10} {label}: {escape(step.message)}", soft_wrap=True)
    who = f"{report.platform}/{report.account_id}"
    if report.error is not None:  # the steps so far, then the error on stderr
        if hint:
            console.print(escape(hint), soft_wrap=True)
        fail(f"{who}: {report.error}")
    if report.ready and not report.changed:
        console.print(f"Everything was already in place: {who} can list.")
    elif report.ready:
        console.print(f"{who} is ready to list.")
    else:
        console.print(f"{who} cannot list yet: see above.")
    if hint:
        console.print(escape(hint), soft_wrap=True)


def _current_pause(context: AppContext, platform: str, account: str) -> Pause | None:
    from upload_scheduler.operations.pauses import read_pause

    with context.read_engine().connect() as conn:
        return read_pause(conn, platform, account, _now())


def _setup_hint(
    report: SetupReport, paused: Pause | None, platform: str, account: str
) -> str | None:
    """What to run next about the account's pause, which the set-up never lifts."""
    if paused is None:
        return None
    resume_cmd = f"upload-scheduler account resume --platform {platform} --account {account}"
    if paused.kind == "config" and report.ready:
        return f"The account is paused ({paused.reason}); run `{resume_cmd}`"
    if paused.kind == "config":
        return (
            f"The account is paused ({paused.reason}); once the set-up is complete, "
            f"run `{resume_cmd}`"
        )
    return f"The account is paused ({paused.reason}); this command does not lift it"
