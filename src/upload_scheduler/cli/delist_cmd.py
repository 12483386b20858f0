"""`upload-scheduler delist`: queue delete jobs for listed items, by ASIN, by file, or by
a content rule that would now block them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, fail

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from upload_scheduler.operations.delist import DelistReport, Selection


def register(app: typer.Typer) -> None:
    app.command("delist")(delist)


def delist(
    ctx: typer.Context,
    platform: Annotated[
        str, typer.Option("--platform", help="Platform the items are listed on.")
    ] = defaults.DEFAULT_PLATFORM,
    asin: Annotated[
        list[str] | None, typer.Option("--asin", help="Delist this ASIN (repeatable).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="A file with one ASIN per line.", metavar="PATH"),
    ] = None,
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule",
            help="Listed items this content rule would now block: ng_words, "
            "blocked_categories, min_price, emoji, title, or any.",
            metavar="NAME",
        ),
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account (default: every one).")
    ] = None,
    priority: Annotated[
        int,
        typer.Option(
            "--priority", min=defaults.PRIORITY_MIN, max=defaults.PRIORITY_MAX, help="1-20."
        ),
    ] = defaults.PRIORITY_HIGH,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be delisted; queue nothing.")
    ] = False,
) -> None:
    """Queue delete jobs for listed items. The account daemons delete them with the same
    pacing, budgets and retries as uploads; a done delete makes the listing `delisted`."""
    from upload_scheduler.clock import SystemClock
    from upload_scheduler.operations import delist as ops
    from upload_scheduler.platforms.thebase.rules import RulesError, load_rules

    chosen = [
        name for name, value in (("--asin", asin), ("--file", file), ("--rule", rule)) if value
    ]
    if len(chosen) != 1:
        fail("say which items with exactly one of --asin, --file or --rule", code=2)
    context = app_context(ctx)
    settings = context.settings
    configured = settings.account_ids(platform)
    if account is not None and account not in configured:
        fail(
            f"account {account!r} is not configured for platform {platform!r} "
            f"(configured: {', '.join(configured) or 'none'})"
        )
    if rule is not None:
        if rule not in ops.RULE_NAMES:
            fail(f"unknown rule {rule!r} (use one of: {', '.join(ops.RULE_NAMES)})", code=2)
        try:
            rules = load_rules(settings.platform_config(platform).rules, settings.base_dir)
        except RulesError as exc:
            fail(str(exc))

        def select(conn: Connection) -> Selection:
            return ops.by_rule(conn, platform, rules, rule, account), []
    else:
        if file is not None:
            try:
                asins = ops.read_asin_file(file)
            except (OSError, UnicodeDecodeError) as exc:
                fail(f"cannot read {file}: {exc}")
        else:
            asins = list(asin or [])

        def select(conn: Connection) -> Selection:
            return ops.by_asins(conn, platform, asins, account)

    report = ops.queue_deletes(
        context.engine,
        platform,
        select,
        now=SystemClock().now(),
        priority=priority,
        dry_run=dry_run,
    )
    _print(report, platform, rule)


def _print(report: DelistReport, platform: str, rule: str | None) -> None:
    verb = "Would queue" if report.dry_run else "Queued"
    if report.targets:
        table = Table(
            "asin", "account", "item id", *(("why",) if rule else ()), title=f"{verb} delete jobs"
        )
        for target in report.targets:
            cells = [target.asin, target.account_id, target.platform_item_id]
            table.add_row(*cells, *((target.why,) if rule else ()))
        console.print(table)
    per_account = Counter(t.account_id for t in report.targets)
    summary = ", ".join(f"{n} on {a}" for a, n in sorted(per_account.items())) or "none"
    console.print(f"{verb} {len(report.targets)} delete job(s) on {platform}: {summary}.")
    for asin, reason in report.skipped:
        console.print(f"[yellow]skipped[/] {escape(asin)}: {escape(reason)}")
    if report.dry_run:
        console.print("Dry run: nothing was queued.")
    elif report.targets:
        console.print(
            "The account daemons delete them in priority order; follow with "
            "`upload-scheduler check-queue`."
        )
