"""`upload-scheduler rules check`: which queued items their platform's content rules would
block, and what each would cost there, so the operator sees both before the daemon acts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, fail

if TYPE_CHECKING:
    from upload_scheduler.platforms.listing_check import CheckedItem


def register(app: typer.Typer) -> None:
    rules = typer.Typer(
        help="Content rules ([platforms.X.rules]; eBay's own rules) and prices.",
        no_args_is_help=True,
    )
    rules.command("check")(check)
    app.add_typer(rules, name="rules")


def check(
    ctx: typer.Context,
    platform: Annotated[
        str, typer.Option("--platform", help="Platform whose rules and queue to check.")
    ] = defaults.DEFAULT_PLATFORM,
    prices: Annotated[
        bool,
        typer.Option("--prices", help="List every pending item with its price, blocked or not."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the pending queue items whose products the platform's rules would block, with
    the price each would be listed at ([platforms.X.pricing], per account). BASE checks
    [platforms.base.rules]; eBay its content rules (an English title, https images, a
    category, the title's length). Nothing is sent or changed."""
    from upload_scheduler.platforms.listing_check import check_queue, listing_check
    from upload_scheduler.platforms.thebase.rules import RulesError

    context = app_context(ctx)
    settings = context.settings
    try:
        rule_check = listing_check(settings, platform)
    except RulesError as exc:
        fail(str(exc))
    items = check_queue(context.engine, settings, platform, rule_check)
    blocked = [item for item in items if item.violation is not None]
    if as_json:
        payload = {
            "checked": len(items),
            "blocked": [_blocked_json(item) for item in blocked],
            "items": [item.to_json() for item in items],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    if blocked:
        table = Table(
            "queue id", "asin", "account", "price", "rule", "why", title="Would be blocked"
        )
        for item in blocked:
            assert item.violation is not None
            table.add_row(
                str(item.queue_id),
                *map(escape, (item.asin, item.account_id, item.price_text)),
                escape(item.violation.rule),
                escape(item.violation.detail),  # "[platforms.ebay.categories]" is no markup
            )
        console.print(table)
    if prices and items:
        table = Table("queue id", "asin", "account", "price", "blocked by", title="Pending items")
        for item in items:
            rule = item.violation.rule if item.violation is not None else ""
            cells = (item.asin, item.account_id, item.price_text, rule)
            table.add_row(str(item.queue_id), *map(escape, cells))
        console.print(table)
    console.print(
        f"{len(blocked)} of {len(items)} pending {platform} item(s) would be blocked by the rules.",
        markup=False,
    )
    for line in _price_summary(items, listed=prices):
        console.print(line, markup=False)


def _blocked_json(item: CheckedItem) -> dict[str, object]:
    """The keys `blocked` always had (queue_id, asin, account_id, rule, detail), then the
    price and its currency."""
    shown = item.to_json()
    return {
        key: shown[key]
        for key in ("queue_id", "asin", "account_id", "rule", "detail", "price", "currency")
    }


def _price_summary(items: list[CheckedItem], *, listed: bool) -> list[str]:
    """One line per currency: the range of the prices the items not blocked would be
    listed at."""
    by_currency: dict[str, list[CheckedItem]] = {}
    unpriced = 0
    for item in items:
        if item.violation is not None:
            continue
        if item.price is None:
            unpriced += 1
        else:
            by_currency.setdefault(item.price.currency, []).append(item)
    lines = []
    for currency, group in sorted(by_currency.items()):
        amounts = sorted(item.price.amount for item in group if item.price is not None)
        span = f"{amounts[0]}" if amounts[0] == amounts[-1] else f"{amounts[0]} to {amounts[-1]}"
        lines.append(f"Prices: {len(group)} item(s) would be listed at {span} {currency}.")
    if unpriced:
        lines.append(f"{unpriced} item(s) have no price (account not configured, or no pricing).")
    if lines and not listed:
        lines.append("`rules check --prices` lists each item's price.")
    return lines
