"""Running one daemon, shared by `upload-scheduler daemon` and the light entry point
`python -m upload_scheduler.worker` that the manager starts its children with.

The light entry point takes the same arguments as the command (`--config PATH daemon` and
the flags of `worker/flags.py`, which both build their parser from) and behaves the
same: same checks, messages, exit codes and log file. It parses with argparse and reads
the config with `config.light`, so a daemon process imports neither Typer, Rich nor
pydantic, which the benchmark issue's memory target (45 MB per daemon process) leaves
no room for.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from upload_scheduler.worker.flags import DAEMON_FLAGS, DAEMON_HELP, Flag

# httpx imports its own command line (click, Rich, Pygments: several MB) whenever those
# are installed, and uvicorn (the dashboard's server) installs click. A daemon never runs
# httpx's command line: an empty entry makes that optional import fail as when they are
# absent (httpx then defines a stub), so each daemon process stays within its budget.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from upload_scheduler.config import Settings

PROG = "python -m upload_scheduler.worker"


class DaemonRequestError(Exception):
    """A daemon cannot run as asked; `code` is the process exit code (2: a usage
    problem, or the database file deleted or replaced under the daemon; 1: anything
    else, such as another daemon holding the account)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def run_daemon(
    settings: Settings,
    platform: str,
    account: str | None = None,
    *,
    interval: float | None = None,
    batch_size: int | None = None,
    start_hour: int | None = None,
    end_hour: int | None = None,
    standby: bool = False,
) -> None:
    """Check the request, log to the daemon's file, and work until stopped (the first
    SIGINT/SIGTERM finishes the current item). Raises DaemonRequestError."""
    from upload_scheduler.config.values import check_window
    from upload_scheduler.store.database import open_database
    from upload_scheduler.worker.daemon import (
        AlreadyRunning,
        DaemonOptions,
        DatabaseFileChanged,
        UploadDaemon,
    )
    from upload_scheduler.worker.logs import log_file_name, setup_daemon_logging
    from upload_scheduler.worker.signals import stop_on_signals

    if platform not in settings.accounts:
        raise DaemonRequestError(f"platform {platform!r} has no accounts in {settings.source}", 2)
    if account is not None and account not in settings.account_ids(platform):
        raise DaemonRequestError(
            f"account {account!r} is not configured for platform {platform!r} "
            f"(configured: {', '.join(settings.account_ids(platform))})",
            2,
        )
    if start_hour is not None or end_hour is not None:
        try:
            check_window(
                start_hour if start_hour is not None else settings.file.daemon.business_hours_start,
                end_hour if end_hour is not None else settings.file.daemon.business_hours_end,
            )
        except ValueError as exc:
            raise DaemonRequestError(str(exc), 2) from None
    options = DaemonOptions(interval, batch_size, start_hour, end_hour)
    setup_daemon_logging(settings.log_dir, log_file_name(platform, account), settings.zone)
    try:
        engine = open_database(settings.database_url, daemon=True)
        worker = UploadDaemon(
            settings,
            platform,
            [account] if account else None,
            options=options,
            engine=engine,
            standby=standby,
        )
    except (LookupError, ValueError) as exc:
        raise DaemonRequestError(str(exc), 2) from None
    with stop_on_signals(worker.stop):
        try:
            worker.run()
        except AlreadyRunning as exc:
            raise DaemonRequestError(str(exc), 1) from None
        except DatabaseFileChanged as exc:
            # Already logged and notified. 2: not a passing fault; an operator must act
            # before a daemon runs on that path again.
            raise DaemonRequestError(str(exc), 2) from None
    # Nothing is printed: under a service stdout may be closed. The log says it all.


# ---------------------------------------------------------------------- light entry point


def _bounded(flag: Flag) -> Callable[[str], Any]:
    """argparse's `type` for a flag: its kind, within its bounds (Typer's own messages
    differ in wording, not in what they accept)."""
    kind, low, high = flag.kind, flag.minimum, flag.maximum

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            bound = f"{low}<=x<={high}" if high is not None else f"x>={low}"
            raise argparse.ArgumentTypeError(f"{value} is not in the range {bound}")
        return value

    return convert


def parser() -> argparse.ArgumentParser:
    """`--config PATH daemon <DAEMON_FLAGS>`, as `upload-scheduler` takes them."""
    root = argparse.ArgumentParser(
        prog=PROG,
        description="Run one upload daemon (what `upload-scheduler daemon` runs), without "
        "loading the command line's libraries.",
    )
    root.add_argument("--config", metavar="PATH", default=None)
    commands = root.add_subparsers(dest="command", required=True)
    daemon = commands.add_parser(
        "daemon", help="Upload due items until stopped.", description=DAEMON_HELP
    )
    for flag in DAEMON_FLAGS:
        if flag.is_switch:
            daemon.add_argument(flag.name, action="store_true", help=flag.help)
        else:
            daemon.add_argument(
                flag.name, type=_bounded(flag), required=flag.required, help=flag.help
            )
    return root


def _fail(message: str, code: int) -> NoReturn:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Not load_settings: pydantic would cost this process ~9 MB; the light loader
    # gives the same Settings, and the same errors (it asks pydantic when in doubt).
    from upload_scheduler.config.files import ConfigError
    from upload_scheduler.config.light import load_settings_light
    from upload_scheduler.platforms import registry

    try:
        settings = load_settings_light(args.config, platforms=registry)
    except ConfigError as exc:
        _fail(str(exc), 1)
    try:
        run_daemon(settings, **{flag.dest: getattr(args, flag.dest) for flag in DAEMON_FLAGS})
    except DaemonRequestError as exc:
        _fail(str(exc), exc.code)
    return 0
