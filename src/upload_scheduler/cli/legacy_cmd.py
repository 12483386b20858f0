"""`upload-scheduler import-legacy OLD_ROOT`: move over from the old scripts' files."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, err_console, fail

if TYPE_CHECKING:
    from upload_scheduler.legacy.report import ImportReport, Skip

EXAMPLES_PER_REASON = 5
HELP = (
    "Bring the old system over: a configuration from its accounts and scheduler settings "
    "(unless one exists), its products, listings and pending queue rows, and its tokens. "
    "The old files are only read. Every row that cannot come along is reported with the "
    "reason; running it again adds nothing twice."
)


def register(app: typer.Typer) -> None:
    app.command("import-legacy", help=HELP)(import_legacy_command)


def import_legacy_command(
    ctx: typer.Context,
    old_root: Annotated[
        Path,
        typer.Argument(
            help="The old project's root folder (holding inventory/data/master.db).",
            metavar="OLD_ROOT",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Report what would happen; write no file and no row."),
    ] = False,
    secrets_to_env: Annotated[
        bool,
        typer.Option(
            "--secrets-to-env",
            help="Put client secrets in environment variables named in the config "
            "(client_secret_env) instead of the file, and print the lines that set them.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from upload_scheduler.legacy import LegacyError, import_legacy

    explicit = app_context(ctx).config_path or os.environ.get(defaults.CONFIG_ENV_VAR)
    config_path = Path(explicit) if explicit else Path.cwd() / defaults.CONFIG_FILE_NAME
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("products"),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    with progress:
        task = progress.add_task("Starting", total=None)

        def phase(name: str) -> None:
            progress.update(task, description=name, completed=0, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            report = import_legacy(
                old_root,
                config_path,
                now=datetime.now(UTC),
                dry_run=dry_run,
                secrets_to_env=secrets_to_env,
                on_phase=phase,
                on_progress=advance,
            )
        except LegacyError as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    if as_json:
        # The secrets are the point of --secrets-to-env; a dry run sets nothing, so it
        # shows only the variables' names.
        shown = secrets_to_env and not dry_run
        typer.echo(json.dumps(report.to_json(include_secrets=shown), ensure_ascii=False))
        return
    _print(report)


def _print(report: ImportReport) -> None:
    console.print(f"Old system: {escape(str(report.old_root))}")
    _print_config(report)
    console.print(f"Database: {escape(report.database)}")
    console.print(_counts_table(report))
    _print_skipped(report.skipped)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    added = report.rows_added
    already = sum(sum(t.already.values()) for t in report.tables.values())
    if not report.changed:
        console.print(f"Nothing new: everything was already here ({already} row(s)).")
    else:
        verb = "Would add" if report.dry_run else "Added"
        console.print(f"{verb} {added} row(s); {already} were already here.")
    if report.dry_run:
        console.print("Dry run: nothing was written.")
    elif report.changed:
        console.print(
            "Next: `upload-scheduler config check`, then `upload-scheduler token status`, then "
            "`upload-scheduler manager start`."
        )


def _print_config(report: ImportReport) -> None:
    from upload_scheduler.legacy.config_writer import secret_lines

    config = report.config
    path = escape(str(config.path))
    if config.existed:
        console.print(f"Configuration: using the existing {path} (not changed)")
    elif config.written:
        console.print(f"Configuration: wrote {path} (readable by its owner only)")
    else:
        console.print(f"Configuration: would write {path}")
    for platform, ids in config.accounts.items():
        console.print(f"  \\[accounts] {escape(platform)}: {escape(', '.join(ids)) or '(none)'}")
    for platform, account_id, reason in config.left_out:
        console.print(
            f"  [yellow]left out of \\[accounts]:[/] {escape(platform)}/{escape(account_id)} "
            f"({escape(reason)})"
        )
    if config.secrets == "file":
        console.print("  client secret(s): in the file")
    elif config.secrets == "environment":
        if report.dry_run:
            names = ", ".join(config.secret_variables)
            console.print(f"  client secret(s): would go in {names} (values not shown)")
        else:
            console.print("  client secret(s): set these variables where the daemons run:")
            for line in secret_lines(config.secret_variables):
                console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)


def _counts_table(report: ImportReport) -> Table:
    from upload_scheduler.legacy.plan_rows import STATUS_MAPPING
    from upload_scheduler.legacy.report import ROWS
    from upload_scheduler.store.tables import LISTING_STATUSES, QUEUE_STATUSES

    ours = {
        "products": (ROWS,),
        "listings": LISTING_STATUSES,
        "upload_queue": QUEUE_STATUSES,
        "oauth_tokens": (ROWS,),
    }
    title = "Old against new" + (" (dry run: what would be)" if report.dry_run else "")
    table = Table(title=title, title_justify="left")
    for column in ("table", "status", "old", "added", "already here", "not carried", "new"):
        table.add_column(column, justify="left" if column in ("table", "status") else "right")
    for name, counts in report.tables.items():
        shown_name = name
        statuses = list(counts.old)
        statuses += [s for s in counts.new if s not in statuses]
        mapping = STATUS_MAPPING.get(name, {})
        for status in statuses or [ROWS]:
            label = status
            target = mapping.get(status, status).split(" ")[0].rstrip(",")
            if target != status:
                label = f"{status} → {target}"
            not_carried = counts.not_carried[status] + counts.left_behind[status]
            table.add_row(
                shown_name,
                escape(label),
                str(counts.old[status]),
                str(counts.added[status]),
                str(counts.already[status]),
                str(not_carried),
                str(counts.new.get(status, 0)) if status in ours[name] else "",
            )
            shown_name = ""
    table.caption = (
        "old, added, already here and not carried count the old rows by their old status; "
        "new counts our rows by our status."
    )
    table.caption_justify = "left"
    return table


def _print_skipped(skipped: list[Skip]) -> None:
    if not skipped:
        return
    groups: dict[tuple[str, str], list[Skip]] = defaultdict(list)
    for skip in skipped:
        groups[(skip.table, skip.reason)].append(skip)
    console.print(f"[bold]Not carried over: {len(skipped)} row(s)[/]")
    for (table, reason), rows in groups.items():
        console.print(f"  {escape(table)}: {escape(reason)}: {len(rows)}", soft_wrap=True)
        for skip in rows[:EXAMPLES_PER_REASON]:
            detail = f" ({skip.detail})" if skip.detail else ""
            console.print(
                f"    {escape(skip.old_id)}: {escape(skip.what)}{escape(detail)}", soft_wrap=True
            )
        if len(rows) > EXAMPLES_PER_REASON:
            console.print(
                f"    … and {len(rows) - EXAMPLES_PER_REASON} more (--json lists every one)"
            )
