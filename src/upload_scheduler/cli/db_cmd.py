"""`upload-scheduler db ...`: migrations and a look at what the database holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from upload_scheduler.cli.context import app_context, console, fail


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The database: migrations and contents.", no_args_is_help=True)
    db.command("upgrade")(upgrade)
    db.command("status")(status)
    db.command("backup")(backup)
    app.add_typer(db, name="db")


def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (they also apply on first use of an SQLite file)."""
    from upload_scheduler.store.engine import create_db_engine
    from upload_scheduler.store.migrate import HEAD_REVISION, current_revision
    from upload_scheduler.store.migrate import upgrade as run_upgrade

    settings = app_context(ctx).settings
    engine = create_db_engine(settings.database_url)
    try:
        before = current_revision(engine)
        if before == HEAD_REVISION:
            console.print(f"Already at the current schema (revision {before}).")
            return
        run_upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    console.print(f"Upgraded the schema from {before or 'empty'} to {after}.")


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Count the rows of every table, per status (the seed's test_db.py)."""
    from upload_scheduler.store.census import census
    from upload_scheduler.store.migrate import current_revision

    engine = app_context(ctx).read_engine()
    counts = census(engine)
    if as_json:
        typer.echo(json.dumps(counts))
        return
    console.print(f"schema revision: {current_revision(engine)}")
    table = Table("table", "status", "rows")
    for name, by_status in counts.items():
        for status_name, count in by_status.items():
            table.add_row(name, status_name, str(count))
            name = ""
    console.print(table)


def backup(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="Where to write the copy (must not exist).", metavar="PATH")
    ],
) -> None:
    """Copy the SQLite database consistently while daemons keep running (SQLite's
    online backup). Never overwrites a file. For PostgreSQL, use pg_dump."""
    from upload_scheduler.operations.backup import BackupError, backup_database

    settings = app_context(ctx).settings
    try:
        report = backup_database(settings.database_url, path)
    except BackupError as exc:
        fail(str(exc))
    size = report.size_bytes / 1_000_000
    console.print(f"Backed up {report.source} to {report.destination} ({size:.1f} MB).")
    queue = report.tables.get("upload_queue", 0)
    console.print(
        f"It holds {report.tables.get('products', 0)} product(s), "
        f"{report.tables.get('listings', 0)} listing(s) and {queue} queue row(s); "
        "it is readable by its owner only, as it holds the OAuth tokens."
    )
