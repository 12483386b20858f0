"""`upload-scheduler init` and `upload-scheduler config check`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, fail
from upload_scheduler.cli.errors import unreadable_config

if TYPE_CHECKING:
    from upload_scheduler.config import Settings


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    config = typer.Typer(help="Check the configuration file.", no_args_is_help=True)
    config.command("check")(check)
    app.add_typer(config, name="config")


def init(ctx: typer.Context) -> None:
    """Write a commented starter configuration file (never overwrites one)."""
    from upload_scheduler.config.template import write_starter

    explicit = app_context(ctx).config_path or os.environ.get(defaults.CONFIG_ENV_VAR)
    path = Path(explicit) if explicit else Path.cwd() / defaults.CONFIG_FILE_NAME
    try:
        write_starter(path)
    except FileExistsError:
        fail(f"{path} already exists; not overwriting it (edit it, or remove it first)")
    console.print(f"Wrote {path}")
    console.print("Next: edit the accounts, then run `upload-scheduler config check`.")


def check(ctx: typer.Context) -> None:
    """Validate the configuration and print every account's effective settings.

    Exits 1 when the file is invalid, naming each problem and its key.
    """
    from upload_scheduler.config import ConfigError, load_settings
    from upload_scheduler.platforms import registry

    try:
        settings = load_settings(app_context(ctx).config_path, platforms=registry)
    except ConfigError as exc:
        fail(f"invalid configuration ({len(exc.problems)} problem(s)):\n{exc}")
    except OSError as exc:  # there, but unreadable: the machine's fault, exit 2
        raise unreadable_config(exc) from exc
    console.print(f"[bold]{settings.source}[/]: valid")
    console.print(f"database: {_safe_url(settings.database_url)}{_not_yet(settings)}")
    console.print(f"timezone: {settings.timezone}    log_dir: {settings.log_dir}")
    if not settings.all_accounts():
        console.print("[yellow]warning:[/] no accounts are configured under \\[accounts]")
        _warn_about_the_database(settings)
        return
    for platform in settings.accounts:
        console.print(_account_table(settings, platform))
        console.print(_secret_line(settings, platform))
    for warning in [*settings.secret_warnings(), *settings.pricing_warnings()]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    _warn_about_the_database(settings)


def _warn_about_the_database(settings: Settings) -> None:
    """Problems a valid file can still have: adapters that do not load, and queued work
    of accounts the file no longer lists (no daemon will ever take it)."""
    from upload_scheduler.operations.config_audit import (
        broken_adapters,
        unconfigured_queue_accounts,
    )

    for platform, error in broken_adapters(settings).items():
        console.print(
            f"[yellow]warning:[/] the adapter of platform {escape(platform)!r} is registered "
            f"but does not load ({escape(error)}); its accounts cannot upload. Reinstall it."
        )
    try:
        orphans = unconfigured_queue_accounts(settings)
    except Exception as exc:  # a database problem must not hide the file's verdict
        reason = " ".join(str(exc).splitlines()[:1])  # not SQLAlchemy's "Background" link
        console.print(f"[yellow]warning:[/] could not read the queue: {escape(reason)}")
        return
    for work in orphans:
        console.print(
            f"[yellow]warning:[/] {work.count} {work.status} queue item(s) belong to "
            f"{escape(work.platform)}/{escape(work.account_id)}, which is not under "
            "\\[accounts]: no daemon will take them. Add the account back, or cancel "
            f"its pending items: `upload-scheduler queue cancel --platform {escape(work.platform)} "
            f"--account-id {escape(work.account_id)}`."
        )


def _account_table(settings: Settings, platform: str) -> Table:
    ids = settings.account_ids(platform)
    table = Table(title=f"platform {platform}: effective settings", title_justify="left")
    table.add_column("setting")
    for account_id in ids:
        table.add_column(account_id)
    resolved = [settings.account(platform, a) for a in ids]
    for key in resolved[0].public_dict():
        cells = []
        for account in resolved:
            value = str(account.public_dict()[key])
            cells.append(
                f"[bold cyan]{value}[/] (override)" if key in account.overridden else value
            )
        table.add_row(key, *cells)
    return table


def _secret_line(settings: Settings, platform: str) -> str:
    """Where each account's client secret comes from, and whether it is there: an
    account may have its own (`[account_overrides]`, e.g. from import-legacy)."""
    sources: dict[str, list[str]] = {}
    for account_id in settings.account_ids(platform):
        variable, written = settings.client_secret_source(platform, account_id)
        if variable:
            state = "set" if os.environ.get(variable) else "[yellow]not set[/]"
            text = f"from ${variable} ({state})"
        else:
            text = "set in the file" if written else "not set"
        sources.setdefault(text, []).append(account_id)
    if len(sources) <= 1:
        return f"client secret: {next(iter(sources), 'not set')}"
    parts = [f"{', '.join(accounts)}: {text}" for text, accounts in sources.items()]
    return "client secret: " + "; ".join(parts)


def _not_yet(settings: Settings) -> str:
    """`config check` only reads: it says the SQLite file is missing, never creates it."""
    from upload_scheduler.store.engine import sqlite_path

    path = sqlite_path(settings.database_url)
    if path is None or path.exists():
        return ""
    return " (does not exist yet; the first command that writes creates it)"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
