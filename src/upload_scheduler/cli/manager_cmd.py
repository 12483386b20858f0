"""`upload-scheduler manager start|stop|status|restart`: the seed's recommended mode,
`multi_account_manager.py`, with its console output (in English, like the rest of the
command line)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from upload_scheduler import defaults
from upload_scheduler.cli.context import app_context, console, fail
from upload_scheduler.cli.render import local_time

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from upload_scheduler.config import Settings
    from upload_scheduler.supervisor.events import ManagerEvent
    from upload_scheduler.supervisor.policy import RestartPolicy
    from upload_scheduler.supervisor.state import ChildRecord
    from upload_scheduler.supervisor.status import ManagerStatus, ProcessStatus

RULE = "=" * 60
NOT_RUNNING_EXIT_CODE = 3
INTERRUPTED_EXIT_CODE = 130
CHECK_INTERVAL = defaults.MANAGER_CHECK_INTERVAL_SECONDS

STATE_LABELS = {
    "running": "Running",
    "stopped": "Stopped",
    "stopping": "Stopping",
    "restarting": "Restarting",
    "crash_looping": "Crash-looping",
    "lease_held": "Waiting for lease",
}


def register(app: typer.Typer) -> None:
    manager = typer.Typer(
        help="Run one daemon per account, restarted when it dies (recommended).",
        no_args_is_help=True,
    )
    manager.command("start")(start)
    manager.command("stop")(stop)
    manager.command("status")(status)
    manager.command("restart")(restart)
    app.add_typer(manager, name="manager")


CheckIntervalOpt = Annotated[
    float,
    typer.Option(
        "--check-interval",
        min=0.1,
        help="Seconds between health checks (a dead process is noticed at once regardless).",
    ),
]
DetachOpt = Annotated[
    bool,
    typer.Option("--detach", help="Run in the background; return once every process is running."),
]
# Test knobs: hidden, for making crash loops and restarts fast in tests.
CrashLimitOpt = Annotated[int | None, typer.Option("--crash-limit", min=1, hidden=True)]
CrashWindowOpt = Annotated[float | None, typer.Option("--crash-window", min=0.1, hidden=True)]
CrashRetryOpt = Annotated[float | None, typer.Option("--crash-retry", min=0.0, hidden=True)]
BackoffBaseOpt = Annotated[float | None, typer.Option("--backoff-base", min=0.0, hidden=True)]
BackoffMaxOpt = Annotated[float | None, typer.Option("--backoff-max", min=0.0, hidden=True)]
LeaseRetryOpt = Annotated[float | None, typer.Option("--lease-retry", min=0.0, hidden=True)]
StopTimeoutOpt = Annotated[float | None, typer.Option("--stop-timeout", min=0.1, hidden=True)]


@dataclass(frozen=True)
class Knobs:
    """The restart policy and stop timeout, when a test overrides them."""

    crash_limit: int | None = None
    crash_window: float | None = None
    crash_retry: float | None = None
    backoff_base: float | None = None
    backoff_max: float | None = None
    lease_retry: float | None = None
    stop_timeout: float | None = None

    def policy(self) -> RestartPolicy:
        from upload_scheduler.supervisor.policy import RestartPolicy

        changes: dict[str, Any] = {
            "crash_limit": self.crash_limit,
            "crash_window_seconds": self.crash_window,
            "crash_retry_seconds": self.crash_retry,
            "backoff_base_seconds": self.backoff_base,
            "backoff_max_seconds": self.backoff_max,
            "lease_retry_seconds": self.lease_retry,
        }
        return RestartPolicy(**{k: v for k, v in changes.items() if v is not None})

    def stop_seconds(self) -> float:
        if self.stop_timeout is not None:
            return self.stop_timeout
        return defaults.MANAGER_STOP_TIMEOUT_SECONDS

    def arguments(self) -> list[str]:
        """The same knobs as options for the background manager."""
        args: list[str] = []
        for name, value in self.__dict__.items():
            if value is not None:
                args += [f"--{name.replace('_', '-')}", str(value)]
        return args


# ---------------------------------------------------------------------- commands


def start(
    ctx: typer.Context,
    check_interval: CheckIntervalOpt = CHECK_INTERVAL,
    detach: DetachOpt = False,
    background: Annotated[bool, typer.Option("--background", hidden=True)] = False,
    crash_limit: CrashLimitOpt = None,
    crash_window: CrashWindowOpt = None,
    crash_retry: CrashRetryOpt = None,
    backoff_base: BackoffBaseOpt = None,
    backoff_max: BackoffMaxOpt = None,
    lease_retry: LeaseRetryOpt = None,
    stop_timeout: StopTimeoutOpt = None,
) -> None:
    """Start one daemon per configured account and watch them: a process that stops is
    restarted. Ctrl+C stops every process gracefully (each finishes its current item).
    Config changes take effect with `manager restart`."""
    settings = _settings_with_accounts(ctx)
    knobs = Knobs(
        crash_limit, crash_window, crash_retry, backoff_base, backoff_max, lease_retry, stop_timeout
    )
    if detach and not background:
        _start_in_background(settings, check_interval, knobs)
        return
    _run_in_foreground(settings, check_interval, knobs, quiet=background)


def stop(ctx: typer.Context) -> None:
    """Stop the running manager from any terminal; it stops every process gracefully.
    Waits, then reports each process."""
    settings = app_context(ctx).settings
    _stop_and_report(settings, quiet_when_idle=False)


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Each process (Running/Stopped, PID, uptime, restarts, last exit code, settings)
    with today's results and the next item of its account. Exit status 3 when the
    manager is not running."""
    from upload_scheduler.supervisor.status import read_status

    context = app_context(ctx)
    settings = context.settings
    try:
        engine = context.read_engine()
    except Exception:  # the status of the processes matters more than the figures
        engine = None
    report = read_status(settings, engine)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print_status(settings, report)
    if not report.running:
        raise typer.Exit(NOT_RUNNING_EXIT_CODE)


def restart(
    ctx: typer.Context,
    check_interval: Annotated[
        float | None,
        typer.Option(
            "--check-interval",
            min=0.1,
            help="Seconds between health checks. Default: the stopped manager's.",
        ),
    ] = None,
    crash_limit: CrashLimitOpt = None,
    crash_window: CrashWindowOpt = None,
    crash_retry: CrashRetryOpt = None,
    backoff_base: BackoffBaseOpt = None,
    backoff_max: BackoffMaxOpt = None,
    lease_retry: LeaseRetryOpt = None,
    stop_timeout: StopTimeoutOpt = None,
) -> None:
    """Stop the manager, then start it in the background with the config read afresh:
    how a config change takes effect."""
    settings = _settings_with_accounts(ctx)
    knobs = Knobs(
        crash_limit, crash_window, crash_retry, backoff_base, backoff_max, lease_retry, stop_timeout
    )
    if check_interval is None:
        check_interval = _previous_check_interval(settings)
    _stop_and_report(settings, quiet_when_idle=True)
    console.print()
    _start_in_background(settings, check_interval, knobs)


def _previous_check_interval(settings: Settings) -> float:
    from upload_scheduler.supervisor.paths import ManagerPaths
    from upload_scheduler.supervisor.state import read_state

    previous = read_state(ManagerPaths(settings.log_dir).state)
    return previous.check_interval if previous else CHECK_INTERVAL


# ---------------------------------------------------------------------- start


def _settings_with_accounts(ctx: typer.Context) -> Settings:
    settings = app_context(ctx).settings
    if not settings.all_accounts():
        fail(f"no accounts are configured under [accounts] in {settings.source}", code=2)
    return settings


def _run_in_foreground(
    settings: Settings, check_interval: float, knobs: Knobs, quiet: bool
) -> None:
    from upload_scheduler.supervisor.lock import ManagerAlreadyRunning
    from upload_scheduler.supervisor.logsetup import setup_manager_logging
    from upload_scheduler.supervisor.manager import MultiAccountUploadManager
    from upload_scheduler.supervisor.paths import ManagerPaths

    reporter = None if quiet else ConsoleReporter()
    manager = MultiAccountUploadManager(
        settings, policy=knobs.policy(), on_event=reporter, stop_timeout=knobs.stop_seconds()
    )
    manager.check_interval = check_interval
    if quiet:  # `start --detach` spawned us after dropping old stop requests: honour any
        manager.stop_requests_since = 0.0
    try:
        with manager.handle_signals():
            manager.acquire_lock()  # before the log: one process per log file
            setup_manager_logging(ManagerPaths(settings.log_dir).log, settings.zone)
            manager.start_all()
            if not quiet and manager.record is not None and manager.record.state == "running":
                _print_started(_rows_from_status(manager.get_status()))
                _print_monitoring(check_interval, background_pid=None)
            manager.monitor(check_interval)
    except ManagerAlreadyRunning as exc:
        fail(str(exc), code=1)
    finally:
        if manager.record is not None:
            manager.shutdown_all()  # after an unexpected error: never leave children behind
    if manager.fatal_error is not None:
        fail(manager.fatal_error, code=2)


def _start_in_background(settings: Settings, check_interval: float, knobs: Knobs) -> None:
    from upload_scheduler.supervisor import control
    from upload_scheduler.supervisor.lock import ManagerAlreadyRunning, running_manager
    from upload_scheduler.supervisor.paths import ManagerPaths

    paths = ManagerPaths(settings.log_dir)
    info = running_manager(paths)
    if info is not None:
        fail(str(ManagerAlreadyRunning(info, paths.lock)), code=1)
    _check_writable(settings)
    try:
        control.begin_start(paths)  # first: a `manager stop` from now on stops this start
        process, offset = control.spawn_background(
            settings.source, ["--check-interval", str(check_interval), *knobs.arguments()], paths
        )
        control.record_background(paths, process.pid)
        timeout = defaults.MANAGER_DETACH_WAIT_SECONDS + knobs.stop_seconds()
        record = control.wait_until_running(paths, process, timeout, offset)
    except OSError as exc:
        fail(f"cannot start the manager in {paths.log_dir}: {_os_reason(exc)}", code=2)
    except control.BackgroundStartFailed as exc:
        fail(str(exc), code=2 if exc.exit_code == 2 else 1)
    except KeyboardInterrupt:
        fail(
            "stopped waiting; the manager goes on starting in the background: see "
            "`upload-scheduler manager status`",
            code=INTERRUPTED_EXIT_CODE,
        )
    finally:
        control.end_start(paths)
    _print_header(len(record.processes))
    for child in record.processes:
        console.print(f"[START] {child.key} (PID: {child.pid})", markup=False)
    _print_started(_rows_from_records(record.processes))
    _print_monitoring(check_interval, background_pid=record.pid)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_writable(settings: Settings) -> None:
    """Before `--detach` reports success: a log folder or SQLite database the daemons
    cannot write would only make them crash-loop out of sight. Exit 2, one line."""
    import tempfile

    from upload_scheduler.store.engine import sqlite_path

    folder = settings.log_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        fail(
            f"the log folder {folder} cannot be written ({_os_reason(exc)}); set log_dir in "
            f"{settings.source} to a folder you can write",
            code=2,
        )
    database = sqlite_path(settings.database_url)
    if database is None:
        return  # a server database: its daemons report their own connection errors
    try:
        if database.exists():
            with open(database, "r+b"):  # opened for writing, nothing written
                pass
        with tempfile.TemporaryFile(dir=database.parent):  # its journal goes beside it
            pass
    except OSError as exc:
        fail(
            f"the database {database} cannot be written ({_os_reason(exc)}); fix its folder "
            f"or set database in {settings.source}",
            code=2,
        )


class ConsoleReporter:
    """Renders the manager's events as the seed's console output."""

    def __call__(self, event: ManagerEvent) -> None:
        from upload_scheduler.supervisor.events import EventKind

        child = event.child
        key = child.key if child else event.detail
        lines: list[str] = []
        match event.kind:
            case EventKind.STARTING:
                _print_header(event.count)
            case EventKind.LEFTOVER_STOPPING:
                lines.append(
                    f"[CLEANUP] {key} (PID: {event.pid}) was left running by a previous "
                    "manager; stopping it..."
                )
            case EventKind.LEFTOVER_STOPPED:
                lines.append(_stopped_line(None, event.forced))
            case EventKind.CHILD_STARTED:
                lines.append(f"[START] {key} (PID: {event.pid})")
            case EventKind.CHILD_START_FAILED:
                lines.append(f"[ERROR] {key} could not be started: {event.detail}")
            case EventKind.CHILD_EXITED:
                lines.append(f"[EXIT] {key} (PID: {event.pid}) exited with code {event.exit_code}")
            case EventKind.CHILD_RESTARTED:
                restarts = child.restarts if child else 0
                lines.append(f"[RESTART] {key} (PID: {event.pid}), restarts: {restarts}")
            case EventKind.CRASH_LOOPING | EventKind.LEASE_HELD:
                tag = "CRASH-LOOP" if event.kind == EventKind.CRASH_LOOPING else "WAIT"
                lines.append(f"[{tag}] {key}: {child.message if child else ''}")
            case EventKind.SIGNAL:
                lines.append(f"Signal {event.signum} received. Stopping processes...")
            case EventKind.STOP_REQUESTED:
                lines.append("Stop requested (manager stop). Stopping processes...")
            case EventKind.ABORTING:
                lines.append("Second signal: killing the remaining processes...")
            case EventKind.STOPPING_ALL:
                lines += ["", RULE, "Stopping all processes...", RULE, ""]
            case EventKind.CHILD_STOPPING:
                lines.append(f"[STOP] Stopping {key} (PID: {event.pid})...")
            case EventKind.CHILD_STOPPED:
                lines.append(_stopped_line(event.exit_code, event.forced))
            case EventKind.ALL_STOPPED:
                lines += _goodbye()
        for line in lines:
            console.print(line, markup=False, soft_wrap=True)


def _print_header(count: int) -> None:
    for line in (
        RULE,
        "Multi-account upload manager",
        RULE,
        "",
        f"Processes to start: {count}",
        "",
    ):
        console.print(line, markup=False)


@dataclass(frozen=True)
class _Row:
    key: str
    running: bool
    pid: int | None
    uptime_seconds: float | None
    restarts: int
    last_exit_code: int | None
    settings: dict[str, Any]


def _rows_from_status(status: dict[str, Any]) -> list[_Row]:
    return [
        _Row(
            key,
            p["running"],
            p["pid"],
            p["uptime_seconds"],
            p["restarts"],
            p["last_exit_code"],
            p["settings"],
        )
        for key, p in status["processes"].items()
    ]


def _rows_from_records(records: list[ChildRecord]) -> list[_Row]:
    from upload_scheduler.supervisor.state import parse_iso, utc_now

    rows = []
    for record in records:
        started = parse_iso(record.started_at)
        running = record.state == "running"
        uptime = (utc_now() - started).total_seconds() if started and running else None
        rows.append(
            _Row(
                record.key,
                running,
                record.pid,
                uptime,
                record.restarts,
                record.last_exit_code,
                record.settings,
            )
        )
    return rows


def _print_started(rows: list[_Row]) -> None:
    running = sum(1 for r in rows if r.running)
    lines = ["", RULE, f"[OK] Started {running} process{'es' if running != 1 else ''}", RULE]
    lines += ["", "Running processes:", ""]
    for row in rows:
        lines.append(f"  [{'Running' if row.running else 'Stopped'}] {row.key}")
        lines.append(f"    PID: {row.pid if row.pid is not None else '-'}")
        lines.append(f"    Uptime: {_uptime(row.uptime_seconds)}")
        lines.append(f"    Restarts: {row.restarts}")
        if not row.running and row.last_exit_code is not None:
            lines.append(f"    Last exit code: {row.last_exit_code}")
        lines.append(f"    Settings: {_settings_text(row.settings)}")
        lines.append("")
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


def _print_monitoring(check_interval: float, background_pid: int | None) -> None:
    lines = [RULE]
    if background_pid is None:
        lines += ["Monitoring processes", f"Check interval: {check_interval:g}s"]
        lines.append("Press Ctrl+C to stop")
    else:
        lines.append(f"Monitoring processes in the background (manager PID: {background_pid})")
        lines += [
            f"Check interval: {check_interval:g}s",
            "Stop with: upload-scheduler manager stop",
        ]
    lines.append(RULE)
    for line in lines:
        console.print(line, markup=False)


def _uptime(seconds: float | None) -> str:
    return "-" if seconds is None else str(timedelta(seconds=int(seconds)))


def _settings_text(settings: dict[str, Any]) -> str:
    batch = settings.get("batch_size", "-")
    interval = settings.get("interval_seconds")
    return f"batch_size={batch}, interval={interval:g}s" if interval else f"batch_size={batch}"


# ---------------------------------------------------------------------- stop


def _stopped_line(exit_code: int | None, forced: bool) -> str:
    if forced:
        return "  [KILLED] Did not stop in time; killed"
    if exit_code in (0, None):
        return "  [OK] Stopped"
    return f"  [OK] Stopped (exit code {exit_code})"


def _goodbye() -> list[str]:
    return ["", RULE, "All processes stopped", "Thank you for your hard work", RULE]


def _stop_and_report(settings: Settings, *, quiet_when_idle: bool) -> None:
    from upload_scheduler.supervisor import control
    from upload_scheduler.supervisor.lock import running_manager
    from upload_scheduler.supervisor.paths import ManagerPaths

    paths = ManagerPaths(settings.log_dir)
    info = running_manager(paths)
    starting = control.start_in_progress(paths) if info is None else None
    if info is not None:
        console.print(f"Stopping the manager (PID: {info.pid})...", markup=False)
    elif starting is not None:
        pid = starting.pid if starting.pid is not None else starting.launcher_pid
        console.print(f"Stopping the manager that is starting (PID: {pid})...", markup=False)
    try:
        outcome = control.stop_manager(paths)
    except KeyboardInterrupt:
        fail(
            "stopped waiting; the manager goes on stopping its processes: see "
            "`upload-scheduler manager status`",
            code=INTERRUPTED_EXIT_CODE,
        )
    if outcome.nothing_running:
        if not quiet_when_idle:
            console.print("The manager is not running; nothing to stop.", markup=False)
        else:
            console.print("The manager was not running.", markup=False)
        return
    if not outcome.manager_stopped:
        fail(
            f"the manager (PID {info.pid if info else '?'}) did not stop in time; see {paths.log}",
            code=1,
        )
    lines = ["", RULE, "Stopping all processes...", RULE, ""]
    if outcome.manager is None and outcome.starting is None:
        lines.insert(0, "The manager is not running, but processes it started are.")
    for record in outcome.children:
        if record.stop_result in ("stopped", "killed"):
            lines.append(f"[STOP] Stopping {record.key} (PID: {record.pid})...")
            lines.append(_stopped_line(record.last_exit_code, record.stop_result == "killed"))
    for record, killed in outcome.stopped_directly:
        lines.append(f"[STOP] Stopping {record.key} (PID: {record.pid}) directly...")
        lines.append(_stopped_line(None, killed))
    lines += _goodbye()
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


# ---------------------------------------------------------------------- status


def _print_status(settings: Settings, report: ManagerStatus) -> None:
    zone = settings.zone
    if report.running:
        title = f"Multi-account upload manager: running (PID: {report.pid}, host: {report.host})"
    else:
        title = "Multi-account upload manager: not running"
    lines = [RULE, title]
    if report.running:
        from upload_scheduler.supervisor.state import parse_iso

        since = local_time(parse_iso(report.started_at), zone)
        interval = f"{report.check_interval:g}s" if report.check_interval else "-"
        lines.append(f"Started: {since} ({settings.timezone}), check interval: {interval}")
    lines += [RULE, ""]
    for process in report.processes:
        lines += _process_lines(process, zone)
    lines.append(f"Running: {report.running_count} of {len(report.processes)}")
    if report.database_error:
        lines.append(f"(database figures unavailable: {report.database_error})")
    if not report.running:
        if report.running_count:
            lines.append(
                f"{report.running_count} process(es) run without their manager (it was "
                "killed): `manager start` stops and replaces them, `manager stop` stops them."
            )
        else:
            lines.append("Start it with: upload-scheduler manager start")
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


def _process_lines(process: ProcessStatus, zone: ZoneInfo) -> list[str]:
    label = STATE_LABELS.get(process.state, process.state)
    lines = [f"  [{label}] {process.key}"]
    lines.append(f"    PID: {process.pid if process.pid is not None else '-'}")
    lines.append(f"    Uptime: {_uptime(process.uptime_seconds)}")
    lines.append(f"    Restarts: {process.restarts}")
    code = process.last_exit_code
    lines.append(f"    Last exit code: {code if code is not None else '-'}")
    lines.append(f"    Settings: {_settings_text(process.settings)}")
    hours = (
        process.settings.get("business_hours_start"),
        process.settings.get("business_hours_end"),
    )
    if None not in hours:
        lines.append(
            f"    Business hours: {hours[0]}-{hours[1]} ({process.settings.get('timezone')})"
        )
    figures = process.figures
    if figures is not None:
        lines.append(
            f"    Today: {figures.today_success} succeeded, {figures.today_failed} failed; "
            f"{figures.pending} pending"
            + (f"; {figures.today_deleted} delisted" if figures.today_deleted else "")
        )
        item = figures.next_item
        if item is not None:
            when = local_time(item.scheduled_time, zone)
            lines.append(f"    Next item: {item.asin} at {when} (priority {item.priority})")
        else:
            lines.append("    Next item: -")
    lease = process.lease
    if lease is not None:
        holder = f"host {lease.host}, PID {lease.pid}"
        if process.standby:
            holder += "; this host's daemon waits as standby"
        lines.append(f"    Worked by: {holder}")
    if process.pause_reason:
        until = local_time(process.paused_until, zone) if process.paused_until else "resumed"
        lines.append(f"    Paused: until {until} ({process.pause_reason})")
    if process.message and process.state != "running":
        lines.append(f"    Note: {process.message}")
    if process.next_start_at is not None:
        lines.append(f"    Next start: {local_time(process.next_start_at, zone)}")
    if process.crash_looping or (code not in (None, 0) and process.state != "running"):
        lines.append(f"    Early output: {process.stderr_path}")
    lines.append("")
    return lines
