"""The end of the demo, for a person: what happened to every item, the token refreshes,
the sandbox's verdict, where the files are, and the commands to look further."""

from __future__ import annotations

import os
import shlex
import subprocess

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from upload_scheduler.demo.summary import AccountSummary, FailedItem, Summary
from upload_scheduler.demo.workdir import DemoPaths

LOOK_FURTHER = ("check-queue", "check-queue --status failed", "logs --no-follow", "manager status")
COLUMNS = ("queued", "success", "failed", "blocked by rules", "retried", "unfinished")


def print_summary(console: Console, summary: Summary) -> None:
    table = Table(title="Summary", title_justify="left")
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
    _items(console, "Failed for good", summary.failed)
    _items(console, "Blocked by rules (nothing was sent to BASE)", summary.blocked)
    if summary.import_rejected:
        console.print(f"Rejected by the import ({len(summary.import_rejected)} rows, not queued):")
        for line in summary.import_rejected:
            console.print(f"  {line}", markup=False)
    if summary.urgent is not None:
        u = summary.urgent
        reached = (
            "has not reached the platform"
            if u.created_after_seconds is None
            else f"reached the platform {_seconds(u.created_after_seconds)} after it was queued"
        )
        console.print(
            f"Urgent item {u.asin} (priority 20, {u.account_id or 'no account'}): {reached}.",
            markup=False,
        )


def print_tokens(console: Console, summary: Summary) -> None:
    parts = []
    for t in summary.tokens:
        refused = f", {t.refused} after BASE refused an expired token" if t.refused else ""
        parts.append(f"{t.account_id}: {t.refreshes} refresh(es){refused}")
    console.print("Token refreshes: " + "; ".join(parts) + ".", markup=False)


def print_verdict(console: Console, summary: Summary) -> None:
    created = f"{summary.items_created} item(s) created with {summary.api_calls} API call(s)"
    if summary.verdict_clean:
        console.print(
            f"[green]Sandbox verdict: clean[/] — {created}; no identifier listed twice in a "
            "shop, no limit answered or exceeded, item creations spaced, every success "
            "really on the platform."
        )
        return
    console.print(f"[red]Sandbox verdict: {len(summary.problems)} problem(s)[/] — {created}:")
    for problem in summary.problems[:20]:
        console.print(f"  {problem}", markup=False)


def print_locations(console: Console, paths: DemoPaths) -> None:
    config = _quoted(str(paths.config))
    console.print(f"Database: {paths.database}", markup=False)
    console.print(
        f"Logs:     {paths.log_dir} (one file per account; the sandbox's record of every "
        f"request: {paths.sandbox_record.name})",
        markup=False,
    )
    console.print("Look further:")
    for command in (
        "check-queue",
        "check-queue --status failed",
        "logs --no-follow",
        "manager status",
    ):
        console.print(f"  upload-scheduler --config {config} {command}", markup=False)


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
