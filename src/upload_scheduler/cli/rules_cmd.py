"""`upload-scheduler rules check`: which queued items the content rules would block, so
the operator sees them before the daemon fails them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, fail


def register(app: typer.Typer) -> None:
    rules = typer.Typer(help="Content rules ([platforms.X.rules]).", no_args_is_help=True)
    rules.command("check")(check)
    app.add_typer(rules, name="rules")


def check(
    ctx: typer.Context,
    platform: Annotated[
        str, typer.Option("--platform", help="Platform whose rules and queue to check.")
    ] = defaults.DEFAULT_PLATFORM,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the pending queue items whose products the rules would block (nothing is
    sent or changed)."""
    from upload_scheduler.platforms.thebase.rules import RulesError, load_rules
    from upload_scheduler.platforms.thebase.rules_check import blocked_items

    context = app_context(ctx)
    settings = context.settings
    try:
        rules = load_rules(settings.platform_config(platform).rules, settings.base_dir)
    except RulesError as exc:
        fail(str(exc))
    checked, blocked = blocked_items(context.engine, platform, rules)
    if as_json:
        payload = {"checked": checked, "blocked": [b.to_json() for b in blocked]}
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    if blocked:
        table = Table("queue id", "asin", "account", "rule", "why", title="Would be blocked")
        for item in blocked:
            table.add_row(str(item.queue_id), item.asin, item.account_id, item.rule, item.detail)
        console.print(table)
    console.print(
        f"{len(blocked)} of {checked} pending {platform} item(s) would be blocked by the rules."
    )
