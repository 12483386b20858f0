"""`upload-scheduler import-legacy OLD_ROOT`: move over from the old scripts' files."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Mapping
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
    from upload_scheduler.legacy.report import EbayOutcome, ImportReport, Skip

EXAMPLES_PER_REASON = 5
HELP = (
    "Bring the old system over: a configuration from its accounts (BASE's and eBay's) and "
    "scheduler settings (unless one exists), its products, listings (eBay's with their "
    "listing and offer ids) and pending queue rows, and its tokens. "
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
    if report.ebay is not None:
        _print_ebay(report.ebay, report.dry_run)
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


_NONE_UNDER_ACCOUNTS = "(none under \\[accounts])"
_EBAY_SETTINGS = {
    "shared": "one App ID: written once under \\[platforms.ebay]",
    "per account": "App IDs differ: the first production account's under \\[platforms.ebay], "
    "each other account's own in \\[account_overrides.<id>]",
    "existing": "the existing configuration's (not changed)",
    "": "not written (no eBay account under \\[accounts])",
}


def _print_ebay(ebay: EbayOutcome, dry_run: bool) -> None:
    """The eBay part's own lines: the counts table adds every platform's rows together."""
    added = "would be added" if dry_run else "added"
    lines = ["[bold]eBay[/]"]
    accounts = ", ".join(f"{escape(a)} ({env})" for a, env in ebay.environments.items())
    source = f"from {escape(ebay.accounts_file)}" if ebay.accounts_file else "no account file"
    lines.append(f"  accounts: {accounts or _NONE_UNDER_ACCOUNTS}; {source}")
    lines.append(
        f"  App ID, Cert ID, RuName, location key, day limit: {_EBAY_SETTINGS[ebay.settings]}"
    )
    prefixes = "".join(f', {escape(a)}: "{escape(p)}"' for a, p in ebay.sku_prefixes.items())
    sku = f'  SKUs: sku_prefix "{escape(ebay.sku_prefix)}"{prefixes}'
    if ebay.sku_prefix_derived:
        sku += " (what the old SKUs suggest: no eBay account is configured)"
    sku += " + ASIN gives "
    sku += f"{ebay.skus - ebay.sku_mismatches} of {ebay.skus} old SKU(s)"
    if ebay.sku_mismatches:
        sku += f"; {ebay.sku_mismatches} not (see the notes)"
    lines.append(sku)
    listings = (
        f"  listings: {_old(ebay.listings_old)}: {ebay.listings_added} {added}, "
        f"{ebay.listings_already} already here, {ebay.listings_not_carried} not carried; "
        f"{ebay.listed_with_id} listed with their listing id, {ebay.with_offer_id} with an "
        "offer id"
    )
    if not ebay.metadata_table:
        listings += " (the old database has no ebay_listing_metadata)"
    if ebay.offer_ids_filled:
        listings += f"; offer ids {added} to {ebay.offer_ids_filled} listing(s) already here"
    lines.append(listings)
    lines.append(
        f"  queue rows: {_old(ebay.queue_old)}: {ebay.queue_added} {added}, "
        f"{ebay.queue_already} already here, {ebay.queue_not_carried} not carried"
    )
    not_stored = ebay.token_files - ebay.tokens_added - ebay.tokens_already
    lines.append(
        f"  tokens: {ebay.token_files} file(s): {ebay.tokens_added} {added}, "
        f"{ebay.tokens_already} already here, {not_stored} not carried"
    )
    for line in lines:
        console.print(line, soft_wrap=True)


def _old(by_status: Mapping[str, int]) -> str:
    """'5 old (listed 3, pending 2)'."""
    total = sum(by_status.values())
    if not total:
        return "0 old"
    shown = ", ".join(f"{escape(s)} {n}" for s, n in sorted(by_status.items()))
    return f"{total} old ({shown})"


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
