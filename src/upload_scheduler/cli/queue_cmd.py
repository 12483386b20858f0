"""`add-to-queue`, `check-queue` and `queue cancel|requeue` (seed add_to_queue.py and
check_queue.py, with the same flags and meanings)."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import AppContext, app_context, console, fail
from upload_scheduler.cli.render import interval, local_time, parse_duration
from upload_scheduler.planning import (
    MAX_DAYS,
    MAX_START_YEARS,
    MAX_WITHIN,
    Mode,
    PlanRequestError,
    within_span,
)

if TYPE_CHECKING:
    from upload_scheduler.queue.manager import UploadQueueManager
    from upload_scheduler.queue.records import EnqueueResult

PlatformOpt = Annotated[str, typer.Option("--platform", help="Platform name (seed: base).")]
# Bounds on flags: beyond them a value overflows a date or a database integer.
MAX_LIMIT = 1_000_000
MAX_PURGE_AGE = timedelta(days=36525)  # 100 years

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
    queue.command("explain")(explain)
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
        int,
        typer.Option("--limit", min=1, max=MAX_LIMIT, help="How many pending listings to queue."),
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
            "--start-date",
            help=f"With --distribute: the first day, from today to {MAX_START_YEARS} years ahead.",
            metavar="YYYY-MM-DD",
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
            help="With --start now: spread over the next DURATION (30m, 2h, at most "
            f"{MAX_WITHIN.days}d) of business hours, from the next opening when closed.",
            metavar="DURATION",
        ),
    ] = None,
    max_days: Annotated[
        int,
        typer.Option("--max-days", min=1, max=MAX_DAYS, help="How many days items may spill over."),
    ] = defaults.MAX_DAYS,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and write nothing.")
    ] = False,
) -> None:
    """Queue pending listings from the master DB, choosing accounts and time slots."""
    mode, first_day, span = _mode(distribute, start_date, start, within)
    manager = _manager(ctx)
    # One `now` for the plan and for saying where a --within span starts.
    now = manager.clock.now()
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
            at=now,
            dry_run=dry_run,
        )
    except PlanRequestError as exc:  # a date or span out of range: the input is wrong
        fail(str(exc), code=2)
    except ValueError as exc:  # QueueError: a request the queue refuses
        fail(str(exc))
    if not dry_run:
        from upload_scheduler.operations.activity import ADD_TO_QUEUE, record_cli

        record_cli(
            manager.engine,
            action=ADD_TO_QUEUE,
            now=now,
            platform=platform,
            account_id=account_id,
            target=f"pending listings, up to {limit}",
            items=result.queued,
            detail=_plan_text(mode, first_day, within, priority, result),
        )
    if span is not None:
        _print_within_start(manager, platform, account_id, now, span)
    _print_enqueue(result, manager)


def _plan_text(
    mode: Mode, first_day: date | None, within: str | None, priority: int, result: EnqueueResult
) -> str:
    """How add-to-queue placed the items, for the activity log."""
    how = {
        Mode.NOW: "scheduled now",
        Mode.DISTRIBUTE: f"distributed from {first_day or 'tomorrow'}",
        Mode.REST_OF_TODAY: "distributed over the rest of today",
        Mode.WITHIN: f"distributed within {within}",
    }[mode]
    parts = [how, f"priority {priority}"]
    per_account: Counter[str] = Counter()
    for day in result.days:
        per_account[day.account_id] += day.count
    parts += [f"{account}: {count}" for account, count in sorted(per_account.items())]
    if result.unplaced or result.skipped:
        parts.append(f"{len(result.unplaced) + len(result.skipped)} not queued")
    return ", ".join(parts)


def _print_within_start(
    manager: UploadQueueManager,
    platform: str,
    account_id: str | None,
    now: datetime,
    within: timedelta,
) -> None:
    """Outside business hours a --within span starts at the next opening: say so, so that
    nobody expects the items in the next minutes."""
    zone = manager.settings.zone
    later: dict[datetime, list[str]] = {}
    for window in manager.windows(platform, account_id):
        span = within_span(window, now, within)
        if span is not None and span[0] > now:
            later.setdefault(span[0], []).append(window.account_id)
    for start, accounts in sorted(later.items()):
        console.print(
            f"Business hours are closed now: the --within span of {printable(', '.join(accounts))} "
            f"starts when they open, {local_time(start, zone)}, and ends "
            f"{local_time(start + within, zone)}."
        )


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
            fail(f"--start-date {start_date!r} is not a date in the form YYYY-MM-DD", code=2)
    if start == "now" and within:
        try:
            span = parse_duration(within)
        except (ValueError, OverflowError) as exc:
            too_long = f"--within {within} is too long: at most {MAX_WITHIN.days} days"
            fail(f"--within: {exc}" if isinstance(exc, ValueError) else too_long, code=2)
        if span > MAX_WITHIN:
            fail(f"--within {within} is too long: at most {MAX_WITHIN.days} days", code=2)
        return Mode.WITHIN, None, span
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
                printable(d.account_id),
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
        console.print(
            f"[yellow]{count} item(s) not queued:[/] {printable(reason)}; they stay pending."
        )
    for reason, count in Counter(r for _, r in result.skipped).items():
        console.print(f"[yellow]{count} item(s) skipped:[/] {printable(reason)}")
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
        int, typer.Option("--limit", min=0, max=MAX_LIMIT, help="How many items to list.")
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
        text = json.dumps(
            {"statistics": stats, "items": [i.to_json() for i in items]}, ensure_ascii=False
        )
        typer.echo(_json_safe(text))
        return
    zone = manager.settings.zone
    summary = Table(title=f"Queue: {platform}", title_justify="left")
    summary.add_column("account")
    for key in stats:
        summary.add_column(key, justify="right")
    per_account = manager.get_account_statistics(platform)
    for account, counts in sorted(per_account.items()):
        if account_id is None or account == account_id:
            summary.add_row(printable(account), *(str(counts[k]) for k in stats))
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
            printable(item.asin),
            printable(item.account_id),
            item.status if item.kind == "upload" else f"{item.status} ({item.kind})",
            str(item.priority),
            local_time(item.scheduled_time, zone, "%Y-%m-%d %H:%M"),
            str(item.attempts),
            printable(item.error_message or ""),
        )
    console.print(table if items else "No items match.")


# Line and paragraph separators and bidi overrides rearrange or break a terminal line too.
_INVISIBLE = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """`text` for a Rich line: control characters shown as \\xNN (or \\uNNNN) so
    that an ASIN or an error message cannot send terminal escape codes or forge a line,
    and Rich markup escaped so that `[red]` stays text."""
    return escape(
        "".join(
            (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
            if unicodedata.category(c) == "Cc" or c in _INVISIBLE
            else c
            for c in text
        )
    )


def _json_safe(text: str) -> str:
    """json.dumps escapes U+0000-U+001F but not DEL, the C1 controls (U+009B is a
    one-character escape sequence on some terminals) or the separators: escape them the
    JSON way too, which parses back to the same strings."""
    return "".join(
        f"\\u{ord(c):04x}" if "\x7f" <= c <= "\x9f" or c in _INVISIBLE else c for c in text
    )


def _print_pauses(manager: UploadQueueManager, platform: str, account_id: str | None) -> None:
    """A paused account's items stay pending however due they are: say why, and until when."""
    from upload_scheduler.operations.pauses import active_pauses

    for pause in active_pauses(manager.engine, manager.clock.now(), platform):
        if account_id not in (None, pause.account_id):
            continue
        until = local_time(pause.until, manager.settings.zone) if pause.until else "resumed"
        console.print(
            f"[yellow]paused:[/] {printable(pause.account_id)} until {until} "
            f"({printable(pause.reason)}); `upload-scheduler account resume --platform "
            f"{printable(platform)} --account {printable(pause.account_id)}` lifts it"
        )


def explain(
    ctx: typer.Context,
    queue_id: Annotated[int, typer.Argument(help="The queue ID to explain.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Why this item is not uploading now: every reason holding it, each with its end."""
    from upload_scheduler.clock import SystemClock
    from upload_scheduler.operations.explain import UnknownItem
    from upload_scheduler.operations.explain import explain as explain_item

    context = app_context(ctx)
    engine = context.read_engine()  # only reads: a missing database is reported, not created
    try:
        answer = explain_item(engine, context.settings, queue_id, SystemClock().now())
    except UnknownItem as exc:
        fail(str(exc))
    if as_json:
        typer.echo(_json_safe(json.dumps(answer.to_json(), ensure_ascii=False)))
        return
    try:
        zone = context.settings.account(answer.platform, answer.account_id).zone
    except KeyError:  # no longer configured: the global zone
        zone = context.settings.zone
    console.print(
        f"Item {answer.id} ({escape(answer.platform)}/{escape(answer.account_id)}): "
        f"{escape(answer.status)}"
    )
    for reason in answer.reasons:
        until = "" if reason.until is None else f" until {local_time(reason.until, zone)}"
        console.print(f"- {escape(reason.text)}{until}", soft_wrap=True)


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
    from upload_scheduler.operations.activity import CANCEL

    _require_selector(queue_ids, asin, account_id, all_pending)
    manager = _manager(ctx)
    count = manager.cancel(
        queue_ids or None, platform=platform, account_id=account_id, asins=asin or None
    )
    _record_selection(manager, CANCEL, "pending", count, queue_ids, asin, platform, account_id)
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
    from upload_scheduler.operations.activity import RETRY

    _require_selector(queue_ids, asin, account_id, all_failed)
    manager = _manager(ctx)
    count = manager.requeue_failed(
        queue_ids or None, platform=platform, account_id=account_id, asins=asin or None
    )
    _record_selection(manager, RETRY, "failed", count, queue_ids, asin, platform, account_id)
    console.print(f"Requeued {count} failed item(s).")


def _require_selector(
    queue_ids: list[int] | None, asins: list[str] | None, account_id: str | None, everything: bool
) -> None:
    if not (queue_ids or asins or account_id or everything):
        fail("say which items: queue IDs, --asin, --account-id, or --all", code=2)


def _record_selection(
    manager: UploadQueueManager,
    action: str,
    status: str,
    count: int,
    queue_ids: list[int] | None,
    asins: list[str] | None,
    platform: str,
    account_id: str | None,
) -> None:
    """Log a cancel or requeue with its selector: "ids 3,4", "asin B0..", or "all pending
    of base/shop1" for --all and --account-id alone."""
    from upload_scheduler.operations.activity import record_cli

    parts: list[str] = []
    if queue_ids:
        parts.append("ids " + ",".join(str(i) for i in queue_ids))
    if asins:
        parts.append("asin " + ",".join(asins))
    scope = platform if account_id is None else f"{platform}/{account_id}"
    target = ", ".join(parts) or f"all {status} of {scope}"
    record_cli(
        manager.engine,
        action=action,
        now=manager.clock.now(),
        platform=platform,
        account_id=account_id,
        target=target,
        items=count,
    )


def purge(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Rows that finished longer ago than this (30d, 12h; at most 100 years).",
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
    except OverflowError:
        fail(f"--older-than {older_than} is too long: at most 100 years", code=2)
    except ValueError as exc:  # PurgeError too
        fail(f"{exc}", code=2 if not isinstance(exc, PurgeError) else 1)
    if age > MAX_PURGE_AGE:
        fail(f"--older-than {older_than} is too long: at most 100 years", code=2)
    manager = _manager(ctx)
    now = manager.clock.now()
    cutoff = now - age
    report = purge_queue(
        manager.engine, cutoff=cutoff, statuses=statuses, platform=platform, dry_run=dry_run
    )
    verb = "Would delete" if dry_run else "Deleted"
    parts = ", ".join(f"{report.counts.get(s, 0)} {s}" for s in statuses)
    if not dry_run:
        from upload_scheduler.operations.activity import PURGE, record_cli

        record_cli(
            manager.engine,
            action=PURGE,
            now=now,
            platform=platform,
            target=f"{','.join(statuses)} finished over {older_than.strip()} ago",
            items=report.total,
            detail=f"{parts}; finished before {cutoff.isoformat(timespec='seconds')}",
        )
    when = local_time(cutoff, manager.settings.zone)
    console.print(f"{verb} {report.total} queue row(s) finished before {when}: {parts}.")
    if not dry_run and report.batches:
        console.print(f"({report.batches} batch(es) of up to 1,000 rows.)")
