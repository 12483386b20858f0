"""The end of the demo, for a person: what happened to every item on each platform, the
token refreshes, each sandbox's verdict (eBay's prices against the formula, Yahoo!'s
items in the store), where the files are, and the commands to look further.

With one platform the output is the BASE demo's of old, word for word; with several,
each table and verdict names its platform."""

from __future__ import annotations

import os
import shlex
import subprocess

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from upload_scheduler.demo.options import EBAY, PLATFORM, PLATFORM_NAMES, YAHOO
from upload_scheduler.demo.summary import (
    AccountSummary,
    FailedItem,
    PriceCheck,
    RunSummary,
    Summary,
)
from upload_scheduler.demo.workdir import DemoPaths

LOOK_FURTHER = (
    "check-queue",
    "check-queue --status failed",
    "logs --no-follow",
    "manager status",
    "dashboard",
)
COLUMNS = ("queued", "success", "failed", "blocked by rules", "retried", "unfinished")
PRICE_EXAMPLES = 5


def print_summary(console: Console, run: RunSummary) -> None:
    multi = len(run.platforms) > 1
    for summary in run.platforms:
        _platform_summary(console, summary, multi)
    if run.import_rejected:
        console.print(f"Rejected by the import ({len(run.import_rejected)} rows, not queued):")
        for line in run.import_rejected:
            console.print(f"  {line}", markup=False)
    for summary in run.platforms:
        if summary.urgent is None:
            continue
        u = summary.urgent
        reached = (
            "has not reached the platform"
            if u.created_after_seconds is None
            else f"reached the platform {_seconds(u.created_after_seconds)} after it was queued"
        )
        on = f" on {_name(summary)}" if multi else ""
        console.print(
            f"Urgent item {u.asin}{on} (priority 20, {u.account_id or 'no account'}): {reached}.",
            markup=False,
        )


def print_tokens(console: Console, run: RunSummary) -> None:
    multi = len(run.platforms) > 1
    for summary in run.platforms:
        parts = []
        for t in summary.tokens:
            refused = (
                f", {t.refused} after {_name(summary)} refused an expired token"
                if t.refused
                else ""
            )
            parts.append(f"{t.account_id}: {t.refreshes} refresh(es){refused}")
        on = f" on {_name(summary)}" if multi else ""
        console.print(f"Token refreshes{on}: " + "; ".join(parts) + ".", markup=False)


def print_verdict(console: Console, run: RunSummary) -> None:
    multi = len(run.platforms) > 1
    for summary in run.platforms:
        which = f"{_name(summary)} sandbox verdict" if multi else "Sandbox verdict"
        _verdict(console, summary, which)


def print_locations(console: Console, paths: DemoPaths, platforms: tuple[str, ...] = ()) -> None:
    config = _quoted(str(paths.config))
    files = {
        PLATFORM: paths.sandbox_record,
        EBAY: paths.ebay_sandbox_record,
        YAHOO: paths.yahoo_sandbox_record,
    }
    records = ", ".join(files[p].name for p in platforms or (PLATFORM,))
    sandboxes = "the sandboxes' records" if len(platforms) > 1 else "the sandbox's record"
    console.print(f"Database: {paths.database}", markup=False)
    console.print(
        f"Logs:     {paths.log_dir} (one file per account; {sandboxes} of every "
        f"request: {records})",
        markup=False,
    )
    console.print("Look further:")
    for command in look_further(platforms):
        console.print(f"  upload-scheduler --config {config} {command}", markup=False)


def look_further(platforms: tuple[str, ...]) -> list[str]:
    """The commands to look further: `check-queue` shows one platform (BASE unless
    --platform says), so the others' queues are named."""
    if platforms in ((), (PLATFORM,)):
        return list(LOOK_FURTHER)
    queues = ["check-queue"] if PLATFORM in platforms else []
    queues += [f"check-queue --platform {p}" for p in platforms if p != PLATFORM]
    # The demo's order puts BASE first, so the last platform is another's.
    queues.append(f"check-queue --platform {platforms[-1]} --status failed")
    return [*queues, "logs --no-follow", "manager status", "dashboard"]


# ---------------------------------------------------------------------- one platform


def _platform_summary(console: Console, summary: Summary, multi: bool) -> None:
    name = _name(summary)
    title = f"Summary: {name}" if multi else "Summary"
    table = Table(title=title, title_justify="left")
    table.add_column("account", no_wrap=True)
    for column in COLUMNS:
        table.add_column(column, justify="right", no_wrap=True)
    for account in summary.accounts:
        table.add_row(account.account_id, *_cells(account))
    table.add_row(*(f"[bold]{c}[/]" for c in ("all", *_cells(summary.total))))
    console.print(table)
    console.print(
        "retried: items that needed more than one attempt (server errors, resets, lost "
        "responses); each ended in the state shown.",
        style="dim",
    )
    on = f" on {name}" if multi else ""
    _items(console, f"Failed for good{on}", summary.failed)
    _items(console, f"Blocked by rules (nothing was sent to {name})", summary.blocked)
    if summary.platform == EBAY:
        _prices(console, summary)


def _prices(console: Console, summary: Summary) -> None:
    """eBay's prices: how many published offers carry the formula's price, and a few
    examples (yen, the formula's dollars, what the sandbox holds)."""
    checks = summary.prices
    if not checks:
        return
    right = sum(1 for c in checks if c.matches)
    console.print(
        f"eBay prices ({summary.pricing_rule}, half up to the cent): {right} of "
        f"{len(checks)} listed item(s) carry the formula's price; for example:",
        markup=False,
    )
    table = Table(show_edge=False, box=None, padding=(0, 2))
    for column in ("asin", "price (yen)", "formula", "listed"):
        table.add_column(column, justify="left" if column == "asin" else "right", no_wrap=True)
    shown = [c for c in checks if not c.matches] or _spread(checks, PRICE_EXAMPLES)
    for check in shown[:PRICE_EXAMPLES]:
        listed = "none" if check.listed is None else f"{check.listed} {check.currency}"
        table.add_row(check.asin, f"\uffe5{check.yen:,}", f"{check.expected}", escape(listed))
    console.print(table)


# What each platform's figures count, and what a clean verdict vouches for.
COUNTED = {
    PLATFORM: "item(s) created",
    EBAY: "listing(s) published",
    YAHOO: "item(s) published",
}
VOUCHED = {
    PLATFORM: "no identifier listed twice in a shop, no limit answered or exceeded, item "
    "creations spaced, every success really on the platform.",
    EBAY: "one offer and one listing per SKU, no 429 answered, inventory items spaced, "
    "every inventory item with a published offer, every success really listed, every "
    "price as the formula says.",
    YAHOO: "every item once in its store, published with its main image, nothing left "
    "pending, no request refused for frequency or the day's budget, editItem spaced, "
    "every success really in the store.",
}


def _verdict(console: Console, summary: Summary, which: str) -> None:
    """Clean, with what that vouches for; or each problem. BASE's sandbox injects its
    faults without counting them."""
    platform = summary.platform if summary.platform in COUNTED else PLATFORM
    figures = f"{summary.items_created} {COUNTED[platform]} with {summary.api_calls} API call(s)"
    if platform != PLATFORM:
        figures += f", {summary.faults} fault(s) injected"
    if summary.verdict_clean:
        console.print(f"[green]{which}: clean[/] - {figures}; {VOUCHED[platform]}")
        return
    console.print(f"[red]{which}: {len(summary.problems)} problem(s)[/] - {figures}:")
    for problem in summary.problems[:20]:
        console.print(f"  {problem}", markup=False)


def _name(summary: Summary) -> str:
    return PLATFORM_NAMES.get(summary.platform, summary.platform)


def _spread(items: list[PriceCheck], count: int) -> list[PriceCheck]:
    """`count` items spread over the list (first, ..., last), not just its head."""
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def _cells(account: AccountSummary) -> list[str]:
    values = (
        account.queued,
        account.success,
        account.failed,
        account.blocked,
        account.retried,
        account.unfinished,
    )
    return [str(v) for v in values]


def _items(console: Console, title: str, items: list[FailedItem]) -> None:
    if not items:
        return
    table = Table(title=f"{title}: {len(items)}", title_justify="left")
    for column in ("asin", "account", "attempts", "reason"):
        table.add_column(column, no_wrap=column != "reason", overflow="fold")
    for item in items:
        table.add_row(item.asin, item.account_id, str(item.attempts), escape(item.reason))
    console.print(table)


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _quoted(text: str) -> str:
    if os.name == "nt":
        return subprocess.list2cmdline([text])
    return shlex.quote(text)
