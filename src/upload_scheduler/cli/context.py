"""State shared by every command: the --config option, and lazy settings and database."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from upload_scheduler.cli.errors import Where
    from upload_scheduler.config import Settings

# Commands import their heavy modules (SQLAlchemy, pydantic) when they run, not when the
# CLI starts: `--help` and `sandbox serve` stay quick.


def _width(stream: TextIO) -> int | None:
    """Rich assumes 80 columns when output is not a terminal, which folds tables into
    unreadable columns in logs and pipes; use a wide page there unless COLUMNS says."""
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return None if interactive or "COLUMNS" in os.environ else 160


console = Console(highlight=False, width=_width(sys.stdout))
err_console = Console(stderr=True, highlight=False, width=_width(sys.stderr))


@dataclass
class AppContext:
    config_path: str | None = None
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from upload_scheduler.config import ConfigError, load_settings
            from upload_scheduler.platforms import registry

            try:
                self._settings = load_settings(self.config_path, platforms=registry)
            except ConfigError as exc:
                fail(str(exc))
            except OSError as exc:  # there, but unreadable: the machine's fault, exit 2
                from upload_scheduler.cli.errors import unreadable_config

                raise unreadable_config(exc) from exc
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from upload_scheduler.store.database import open_database

            self._engine = open_database(self.settings.database_url)
        return self._engine

    def read_engine(self) -> Engine:
        """The engine of a command that only reads: it never creates the SQLite file
        (raises DatabaseMissing), so a deleted database or a typo'd path is reported,
        not replaced by an empty one. Later `engine` uses get the same engine."""
        if self._engine is None:
            from upload_scheduler.store.database import open_database

            self._engine = open_database(self.settings.database_url, create=False)
        return self._engine

    def where(self) -> Where:
        """What this command was using, for the error line of a fault."""
        from upload_scheduler.cli.errors import Where

        if self._settings is None:
            return Where(config=self.config_path)
        settings = self._settings
        return Where(str(settings.source), settings.database_url, settings.log_dir)

    def close(self) -> None:
        """Close the database's pooled connections when the command ends. Left to the
        garbage collector, a PostgreSQL connection is dropped without a goodbye (and warns
        where the CLI runs in-process, as in the tests)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error for a person (no traceback) and exit with `code`. The message is
    plain text: config sections such as [daemon] must not be read as Rich markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    raise typer.Exit(code)
