"""`upload-scheduler logs`: every account's log at once, like `tail -f` (the seed's
view_multi_logs.py). Lines are prefixed [account], one colour per account and one per
level; without a terminal there are no colour codes, so it can be piped or saved."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, err_console

if TYPE_CHECKING:
    from upload_scheduler.supervisor.logtail import LogLine

# None of these is a level's colour, so an account never looks like a warning.
ACCOUNT_COLOURS = (
    "cyan",
    "magenta",
    "blue",
    "bright_cyan",
    "bright_magenta",
    "bright_blue",
    "orange1",
    "turquoise2",
    "purple",
    "deep_pink2",
)
LEVEL_COLOURS = {
    "DEBUG": "dim",
    "INFO": "green",
    "WARNING": "yellow",
    "ERROR": "red",
    "CRITICAL": "bold red",
}
MANAGER_COLOUR = "bold white"


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)


def logs(
    ctx: typer.Context,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Only this platform's logs.")
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account's log.", metavar="ID")
    ] = None,
    tail: Annotated[
        int, typer.Option("--tail", min=0, help="Show this many last lines of each file first.")
    ] = defaults.MANAGER_TAIL_LINES,
    no_follow: Annotated[
        bool, typer.Option("--no-follow", help="Show the last lines and exit.")
    ] = False,
) -> None:
    """Follow every account's log file at once, across log rotation, including files
    that appear later. Ctrl+C ends it."""
    from upload_scheduler.supervisor.logtail import LogFollower, LogSelection

    settings = app_context(ctx).settings
    follower = LogFollower(
        settings.log_dir, LogSelection(platform, account), list(settings.accounts)
    )
    painter = Painter()
    try:
        painter.show(follower.start(tail))
        if no_follow:
            return
        if err_console.is_terminal:
            err_console.print(
                f"Following {len(follower.files)} log file(s) in {settings.log_dir} "
                "(Ctrl+C to stop)",
                markup=False,
            )
        while True:
            time.sleep(defaults.MANAGER_FOLLOW_POLL_SECONDS)
            painter.show(follower.poll())
    except KeyboardInterrupt:
        return
    except BrokenPipeError:  # `upload-scheduler logs | head`: the reader is gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class Painter:
    """One colour per account, in order of first appearance."""

    def __init__(self) -> None:
        self.colours: dict[str, str] = {}

    def colour(self, label: str) -> str:
        if label == "manager":
            return MANAGER_COLOUR
        if label not in self.colours:
            self.colours[label] = ACCOUNT_COLOURS[len(self.colours) % len(ACCOUNT_COLOURS)]
        return self.colours[label]

    def render(self, line: LogLine) -> Text:
        text = Text()
        text.append(f"[{line.label}]", style=self.colour(line.label))
        text.append(" ")
        body = Text(line.text)
        level = line.level
        if level in ("WARNING", "ERROR", "CRITICAL"):
            body.stylize(LEVEL_COLOURS[level])
        elif level is not None:
            start = line.text.find(f" {level} ")
            if start >= 0:
                body.stylize(LEVEL_COLOURS[level], start + 1, start + 1 + len(level))
        text.append_text(body)
        return text

    def show(self, lines: list[LogLine]) -> None:
        if not lines:
            return
        for line in lines:
            console.print(self.render(line), soft_wrap=True)
        console.file.flush()
