"""`upload-scheduler products import`: load a CSV/JSONL product file into the master DB."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, err_console, fail

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from upload_scheduler.config import Settings
    from upload_scheduler.inventory.importer import ImportReport

USAGE_ERROR = 2
IMPORT_HELP = (
    "Import products (upserted by asin) and give each a pending listing on the platform. "
    "Columns: asin, title, price (required); description, stock, images (URLs separated by | "
    "or a JSON list), brand, category, title_en and description_en (eBay lists in English). "
    "Bad rows are reported with their line and skipped; "
    "the exit status is 1 when any row was rejected."
)


class Encoding(StrEnum):
    auto = "auto"
    utf8 = "utf-8"
    cp932 = "cp932"


def register(app: typer.Typer) -> None:
    products = typer.Typer(help="The master DB's products.", no_args_is_help=True)
    products.command("import", help=IMPORT_HELP)(import_command)
    app.add_typer(products, name="products")


def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="A .csv, .jsonl or .ndjson file.", metavar="FILE", show_default=False),
    ],
    platform: Annotated[
        str, typer.Option("--platform", help="Platform the products are listed on.")
    ] = defaults.DEFAULT_PLATFORM,
    account_id: Annotated[
        str | None,
        typer.Option(
            "--account-id",
            help="Give the new listings to this account (default: unassigned; "
            "add-to-queue picks one).",
            metavar="ID",
        ),
    ] = None,
    encoding: Annotated[
        Encoding,
        typer.Option(
            "--encoding",
            help="CSV text encoding; auto tells UTF-8 (with or without BOM) from CP932/Shift_JIS.",
        ),
    ] = Encoding.auto,
    strict: Annotated[
        bool, typer.Option("--strict", help="Import nothing if any row is bad.")
    ] = False,
) -> None:
    """Excel exports are messy, so bad rows are reported and skipped rather than fatal;
    --strict is for pipelines that want all or nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    from upload_scheduler.inventory.reader import ImportFileError

    context = app_context(ctx)
    _check_target(context.settings, platform, account_id)
    try:
        report = _run_import(context.engine, file, platform, account_id, encoding.value, strict)
    except ImportFileError as exc:
        fail(str(exc), code=USAGE_ERROR)
    except SQLAlchemyError as exc:
        fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    if report.rows_read == 0:
        # Nothing to import is a mistake (the wrong file, an unsaved export), in CSV and
        # JSONL alike: not a success.
        fail(f"{file}: the file has no rows")
    _print_report(report)
    if report.errors:
        raise typer.Exit(1)


def _check_target(settings: Settings, platform: str, account_id: str | None) -> None:
    """Refuse an unknown platform or account before reading the file: a listing for a
    shop that is not configured would never be uploaded."""
    configured = sorted(p for p, ids in settings.accounts.items() if ids)
    if platform not in configured:
        known = ", ".join(configured) or "none"
        hint = f", or name one with --platform {configured[0]}" if configured else ""
        fail(
            f"platform {platform!r} has no accounts in {settings.source} "
            f"(platforms with accounts: {known}); add them under [accounts]{hint}",
            code=USAGE_ERROR,
        )
    accounts = settings.account_ids(platform)
    if account_id is not None and account_id not in accounts:
        fail(
            f"account {account_id!r} is not configured for platform {platform!r} "
            f"(configured: {', '.join(accounts)}); add it under [accounts] in "
            f"{settings.source}",
            code=USAGE_ERROR,
        )


def _run_import(
    engine: Engine, file: Path, platform: str, account_id: str | None, encoding: str, strict: bool
) -> ImportReport:
    from upload_scheduler.inventory.importer import import_products

    progress = Progress(
        TextColumn("Importing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    with progress:
        task = progress.add_task(escape(file.name), total=None)

        def advance(line: int, total: int) -> None:
            progress.update(task, completed=line, total=total)

        return import_products(
            engine,
            file,
            platform,
            account_id=account_id,
            encoding=encoding,
            strict=strict,
            now=datetime.now(UTC),
            on_progress=advance,
        )


def _print_report(report: ImportReport) -> None:
    for error in report.errors:
        err_console.print(str(error), markup=False, soft_wrap=True)
    console.print(f"Rows read: {report.rows_read}", markup=False)
    if not report.written:
        console.print(
            f"Rejected: {report.rows_rejected} row(s); --strict: nothing was imported.",
            markup=False,
        )
        return
    console.print(
        f"Imported: {report.rows_imported} "
        f"({report.products_created} new, {report.products_updated} updated)",
        markup=False,
    )
    console.print(f"Listings created: {report.listings_created}", markup=False)
    console.print(f"Rejected: {report.rows_rejected}", markup=False)
