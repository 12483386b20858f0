"""`add-to-queue`, `check-queue` and `queue cancel|requeue` (seed add_to_queue.py and
check_queue.py, with the same flags and meanings)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import AppContext, app_context, console, fail
from upload_scheduler.cli.render import interval, local_time, parse_duration
from upload_scheduler.planning import Mode

if TYPE_CHECKING:
    from upload_scheduler.queue.manager import UploadQueueManager
    from upload_scheduler.queue.records import EnqueueResult

PlatformOpt = Annotated[str, typer.Option("--platform", help="Platform name (seed: base).")]
AccountOpt = Annotated[
    str | None, typer.Option("--account-id", help="Only this account.", metavar="ID")
]


def register(app: typer.Typer) -> None:
    app.command("add-to-queue")(add_to_queue)
    app.command("check-queue")(check_queue)
    queue = typer.Typer(help="User actions on queued items.", no_args_is_help=True)
    queue.command("cancel")(cancel)
    queue.command("requeue")(requeue)
    queue.command("purge")(purge)
    app.add_typer(queue, name="queue")


def _manager(ctx: typer.Context) -> UploadQueueManager:
    from upload_scheduler.queue.manager import UploadQueueManager

    context: AppContext = app_context(ctx)
    return UploadQueueManager(context.settings, engine=context.engine)


def add_to_queue(
    ctx: typer.Context,
    platform: PlatformOpt = defaults.DEFAULT_PLATFORM,
    account_id: Annotated[
        str | None,
        typer.Option(
            "--account-id", help="Account to use (default: shared among accounts).", metavar="ID"
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="How many pending listings to queue.")
    ] = defaults.ADD_LIMIT,
    priority: Annotated[
        int,
        typer.Option(
            "--priority",
            min=defaults.PRIORITY_MIN,
            max=defaults.PRIORITY_MAX,
            help="1 low, 5 normal, 10 high, 20 urgent.",
        ),
    ] = defaults.PRIORITY_NORMAL,
    distribute: Annotated[
        bool,
        typer.Option(
            "--distribute",
            help="Spread over business hours (default: tomorrow). Without it, items are "
            "scheduled now.",
        ),
    ] = False,
    start_date: Annotated[
        str | None,
        typer.Option(
            "--start-date", help="With --distribute: the first day.", metavar="YYYY-MM-DD"
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="With --distribute: 'now' uses what is left of today.", metavar="now"
        ),
    ] = None,
    within: Annotated[
        str | None,
        typer.Option(
            "--within",
            help="With --start now: spread over the next DURATION (30m, 2h), clipped to "
            "business hours.",
            metavar="DURATION",
        ),
    ] = None,
    max_days: Annotated[
        int, typer.Option("--max-days", min=1, help="How many days items may spill over.")
    ] = defaults.MAX_DAYS,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and write nothing.")
    ] = False,
) -> None:
    """Queue pending listings from the master DB, choosing accounts and time slots."""
    mode, first_day, span = _mode(distribute, start_date, start, within)
    manager = _manager(ctx)
    try:
        result = manager.enqueue(
            platform,
            limit=limit,
            account_id=account_id,
            priority=priority,
            mode=mode,
            start_date=first_day,
            within=span,
            max_days=max_days,
            dry_run=dry_run,
        )
    except ValueError as exc:  # QueueError: a request the queue refuses
        fail(str(exc))
    _print_enqueue(result, manager)


def _mode(
    distribute: bool, start_date: str | None, start: str | None, within: str | None
) -> tuple[Mode, date | None, timedelta | None]:
    if start_date and start:
        fail("--start-date and --start cannot be used together")
    if (start_date or start or within) and not distribute:
        fail("--start-date, --start and --within choose how to distribute: add --distribute")
    if start is not None and start != "now":
        fail(f"--start takes only 'now', got {start!r}")
    if within and start != "now":
        fail("--within needs --start now")
    if not distribute:
        return Mode.NOW, None, None
    if start_date:
        try:
            return Mode.DISTRIBUTE, date.fromisoformat(start_date), None
        except ValueError:
            fail(f"--start-date {start_date!r} is not a date in the form YYYY-MM-DD")
    if start == "now" and within:
        try:
            return Mode.WITHIN, None, parse_duration(within)
        except ValueError as exc:
            fail(f"--within: {exc}")
    if start == "now":
        return Mode.REST_OF_TODAY, None, None
    return Mode.DISTRIBUTE, None, None


def _print_enqueue(result: EnqueueResult, manager: UploadQueueManager) -> None:
    zone = manager.settings.zone
    verb = "Would queue" if result.dry_run else "Queued"
    if result.days:
        table = Table(title=f"{verb} {result.queued} item(s)", title_justify="left")
        for column in ("account", "day", "count", "first slot", "last slot", "interval"):
            table.add_column(column, justify="right" if column == "count" else "left", no_wrap=True)
        for d in result.days:
            table.add_row(
                d.account_id,
                d.day.isoformat(),
                str(d.count),
                local_time(d.first, zone),
                local_time(d.last, zone),
                interval(d.interval_seconds),
            )
        console.print(table)
        console.print(f"Times are in {manager.settings.timezone}.")
    else:
        console.print(f"{verb} 0 items.")
    if result.moved:
        console.print(
            f"{result.moved} item(s) already queued on those days were re-spaced so that the "
            "day stays evenly spread."
        )
    for reason, count in Counter(r for _, r in result.unplaced).items():
        console.print(f"[yellow]{count} item(s) not queued:[/] {reason}; they stay pending.")
    for reason, count in Counter(r for _, r in result.skipped).items():
        console.print(f"[yellow]{count} item(s) skipped:[/] {reason}")
    if result.queued == 0 and not result.unplaced and not result.skipped:
        console.print(
            "No pending listing was found. Import products first: "
            "`upload-scheduler products import FILE`."
        )
    if result.dry_run:
        console.print("Dry run: nothing was written.")


def check_queue(
    ctx: typer.Context,
    platform: PlatformOpt = defaults.DEFAULT_PLATFORM,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="pending, uploading, success, failed or cancelled.", metavar="STATUS"
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="How many items to list.")
    ] = defaults.CHECK_LIMIT,
    show_due: Annotated[
        bool, typer.Option("--show-due", help="Only pending items whose time has come.")
    ] = False,
    account_id: AccountOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show queue statistics and items (the newest first, or due ones in claim order)."""
    app_context(ctx).read_engine()  # only reads: a missing database is reported, not created
    manager = _manager(ctx)
    if show_due and status not in (None, "pending"):
        fail("--show-due lists pending items; it cannot be combined with another --status")
    try:
        stats = manager.get_queue_statistics(platform, account_id)
        items = manager.list_items(
            platform=platform,
            account_id=account_id,
            status="pending" if show_due else status,
            due=show_due,
            limit=limit,
        )
    except ValueError as exc:  # QueueError: a request the queue refuses
        fail(str(exc))
    if as_json:
        typer.echo(
            json.dumps(
                {"statistics": stats, "items": [i.to_json() for i in items]}, ensure_ascii=False
            )
        )
        return
    zone = manager.settings.zone
    summary = Table(title=f"Queue: {platform}", title_justify="left")
    summary.add_column("account")
    for key in stats:
        summary.add_column(key, justify="right")
    per_account = manager.get_account_statistics(platform)
    for account, counts in sorted(per_account.items()):
        if account_id is None or account == account_id:
            summary.add_row(account, *(str(counts[k]) for k in stats))
    summary.add_row("[bold]all[/]", *(f"[bold]{v}[/]" for v in stats.values()))
    console.print(summary)
    _print_pauses(manager, platform, account_id)
    what = "due" if show_due else (status or "latest")
    table = Table(
        title=f"Items ({what}, up to {limit})",
        title_justify="left",
        caption=f"Times are in {manager.settings.timezone}.",
        caption_justify="left",
    )
    for column in ("id", "asin", "account", "status", "priority", "scheduled", "attempts"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", overflow="fold", min_width=10)
    for item in items:
        table.add_row(
            str(item.id),
            item.asin,
            item.account_id,
            item.status if item.kind == "upload" else f"{item.status} ({item.kind})",
            str(item.priority),
            local_time(item.scheduled_time, zone, "%Y-%m-%d %H:%M"),
            str(item.attempts),
            item.error_message or "",
        )
    console.print(table if items else "No items match.")


def _print_pauses(manager: UploadQueueManager, platform: str, account_id: str | None) -> None:
    """A paused account's items stay pending however due they are: say why, and until when."""
    from upload_scheduler.operations.pauses import active_pauses

    for pause in active_pauses(manager.engine, manager.clock.now(), platform):
        if account_id not in (None, pause.account_id):
            continue
        until = local_time(pause.until, manager.settings.zone) if pause.until else "resumed"
        console.print(
            f"[yellow]paused:[/] {escape(pause.account_id)} until {until} "
            f"({escape(pause.reason)}); `upload-scheduler account resume --platform "
            f"{escape(platform)} --account {escape(pause.account_id)}` lifts it"
        )


def cancel(
    ctx: typer.Context,
    queue_ids: Annotated[list[int] | None, typer.Argument(help="Queue IDs to cancel.")] = None,
    asin: Annotated[
        list[str] | None, typer.Option("--asin", help="Cancel this ASIN (repeatable).")
    ] = None,
    platform: PlatformOpt = defaults.DEFAULT_PLATFORM,
    account_id: AccountOpt = None,
    all_pending: Annotated[
        bool, typer.Option("--all", help="Every pending item of the platform (and account).")
    ] = False,
) -> None:
    """Cancel pending items; their listings return to pending and can be queued again."""
    _require_selector(queue_ids, asin, account_id, all_pending)
    count = _manager(ctx).cancel(
        queue_ids or None, platform=platform, account_id=account_id, asins=asin or None
    )
    console.print(f"Cancelled {count} pending item(s).")


def requeue(
    ctx: typer.Context,
    queue_ids: Annotated[list[int] | None, typer.Argument(help="Queue IDs to requeue.")] = None,
    asin: Annotated[
        list[str] | None, typer.Option("--asin", help="Requeue this ASIN (repeatable).")
    ] = None,
    platform: PlatformOpt = defaults.DEFAULT_PLATFORM,
    account_id: AccountOpt = None,
    all_failed: Annotated[
        bool, typer.Option("--all", help="Every failed item of the platform (and account).")
    ] = False,
) -> None:
    """Put failed items back in the queue, due now, with their attempts reset."""
    _require_selector(queue_ids, asin, account_id, all_failed)
    count = _manager(ctx).requeue_failed(
        queue_ids or None, platform=platform, account_id=account_id, asins=asin or None
    )
    console.print(f"Requeued {count} failed item(s).")


def _require_selector(
    queue_ids: list[int] | None, asins: list[str] | None, account_id: str | None, everything: bool
) -> None:
    if not (queue_ids or asins or account_id or everything):
        fail("say which items: queue IDs, --asin, --account-id, or --all", code=2)


def purge(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Rows that finished longer ago than this (30d, 12h).",
            metavar="AGE",
        ),
    ],
    status: Annotated[
        str,
        typer.Option(
            "--status", help="Which finished rows: success and/or cancelled.", metavar="S1,S2"
        ),
    ] = "success,cancelled",
    platform: Annotated[
        str | None, typer.Option("--platform", help="Only this platform (default: all).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; delete nothing.")] = False,
) -> None:
    """Delete finished queue rows in batches of 1,000, each its own short transaction, so
    running daemons are not held up. Pending, uploading and failed rows are never touched;
    listings keep their status and platform item ids."""
    from upload_scheduler.operations.purge import PurgeError, check_statuses, purge_queue

    try:
        age = parse_duration(older_than)
        statuses = check_statuses(status.split(","))
    except ValueError as exc:  # PurgeError too
        fail(f"{exc}", code=2 if not isinstance(exc, PurgeError) else 1)
    manager = _manager(ctx)
    cutoff = manager.clock.now() - age
    report = purge_queue(
        manager.engine, cutoff=cutoff, statuses=statuses, platform=platform, dry_run=dry_run
    )
    verb = "Would delete" if dry_run else "Deleted"
    parts = ", ".join(f"{report.counts.get(s, 0)} {s}" for s in statuses)
    when = local_time(cutoff, manager.settings.zone)
    console.print(f"{verb} {report.total} queue row(s) finished before {when}: {parts}.")
    if not dry_run and report.batches:
        console.print(f"({report.batches} batch(es) of up to 1,000 rows.)")
