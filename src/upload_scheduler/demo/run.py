"""The demo from start to end, with one rule above the others: whatever happens (an
error, Ctrl+C, a timeout), the manager and the sandbox are stopped before it returns,
and the work folder stays usable for `check-queue` and `logs`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rich.console import Console
from sqlalchemy import Engine

from upload_scheduler.config import ConfigError, Settings, load_settings
from upload_scheduler.demo import commands, report
from upload_scheduler.demo.config_file import render_config
from upload_scheduler.demo.options import PLATFORM, DemoOptions, DemoPlan, make_plan
from upload_scheduler.demo.procs import stop_pid
from upload_scheduler.demo.sample import SampleFile, build_sample, ng_words, remove_phrases
from upload_scheduler.demo.sample import write_csv as write_sample_csv
from upload_scheduler.demo.sandbox_process import (
    FAULTS,
    LATENCY_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    SandboxProcess,
    SandboxStartError,
    start_sandbox,
)
from upload_scheduler.demo.signals import StopFlag, stop_requests
from upload_scheduler.demo.summary import Checks, Summary, summarize
from upload_scheduler.demo.watch import FINISHED, INTERRUPTED, TIMEOUT, Watch, WatchError
from upload_scheduler.demo.workdir import DemoPaths, claim_workdir, write_private
from upload_scheduler.planning import Mode
from upload_scheduler.platforms.thebase.sandbox import load_calls

STEPS = 6
ERROR = "error"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # as a shell reports a Ctrl+C


class DemoError(Exception):
    """A step that cannot go on; the message says what happened and where to look."""


class _Interrupted(Exception):
    pass


@dataclass
class _Run:
    plan: DemoPlan
    paths: DemoPaths
    console: Console
    stop: StopFlag
    sample: SampleFile | None = None
    sandbox: SandboxProcess | None = None
    settings: Settings | None = None
    engine: Engine | None = None
    manager_tried: bool = False
    manager_pid: int | None = None
    urgent: tuple[str, datetime] | None = None
    import_rejected: list[str] = field(default_factory=list)
    outcome: str = FINISHED  # or TIMEOUT, INTERRUPTED, ERROR
    error: str = ""

    # ------------------------------------------------------------------ steps

    def execute(self) -> None:
        self.sample = build_sample(self.plan.options.items)
        write_sample_csv(self.sample, self.paths.products_csv)
        self._step(
            1,
            f"Work folder {self.paths.root}: {self.paths.config.name}, "
            f"{self.paths.products_csv.name} ({len(self.sample.rows)} rows, CP932)",
        )
        self._check_stop()
        try:
            self.sandbox = start_sandbox(self.paths)
        except SandboxStartError as exc:
            raise DemoError(str(exc)) from None
        faults = sum(FAULTS.values())
        self._step(
            2,
            f"Sandbox listening on {self.sandbox.url} (latency {LATENCY_SECONDS * 1000:.0f} ms, "
            f"{faults:.0%} transient faults, access tokens live {TOKEN_LIFETIME_SECONDS} s)",
        )
        self._configure(self.sandbox.url)
        self._check_stop()
        self._login()
        self._check_stop()
        self._import_and_queue()
        self._check_stop()
        self._start_manager()
        self._watch()

    def _configure(self, sandbox_url: str) -> None:
        text = render_config(self.plan, sandbox_url, ng_words(), remove_phrases())
        write_private(self.paths.config, text)
        try:
            self.settings = load_settings(self.paths.config)
        except ConfigError as exc:  # a bug in the demo's own config: say so plainly
            raise DemoError(f"the demo wrote a config that does not load: {exc}") from None
        from upload_scheduler.store.database import open_database

        self.engine = open_database(self.settings.database_url)

    def _login(self) -> None:
        from upload_scheduler.platforms.thebase.sandbox.login import sandbox_login

        assert self.settings is not None and self.engine is not None
        for account_id in self.plan.account_ids:
            try:
                sandbox_login(self.settings, self.engine, account_id)
            except Exception as exc:
                raise DemoError(f"logging {account_id} in to the sandbox failed: {exc}") from None
        self._step(
            3,
            f"Logged in {', '.join(self.plan.account_ids)} through OAuth "
            "(authorize, code, token; tokens stored in the database)",
        )

    def _import_and_queue(self) -> None:
        from upload_scheduler.inventory.importer import import_products
        from upload_scheduler.inventory.reader import open_source
        from upload_scheduler.queue.manager import UploadQueueManager

        assert self.settings is not None and self.engine is not None
        codec = open_source(self.paths.products_csv).encoding
        imported = import_products(
            self.engine, self.paths.products_csv, PLATFORM, now=datetime.now(UTC)
        )
        self.import_rejected = [str(e) for e in imported.errors]
        self._step(
            4,
            f"Imported {imported.rows_imported} products (`products import`; encoding "
            f"detected: {codec.upper()}); {imported.rows_rejected} rows rejected:",
        )
        for line in self.import_rejected:
            self.console.print(f"      {line}", markup=False)
        manager = UploadQueueManager(self.settings, engine=self.engine)
        result = manager.enqueue(
            PLATFORM,
            limit=self.plan.queued_at_start,
            mode=Mode.WITHIN,
            within=timedelta(seconds=self.plan.window_seconds),
        )
        minutes = f"{self.plan.options.minutes:g} minute(s)"
        self.console.print(
            f"      Queued {result.queued} items with --distribute --start now --within "
            f"{minutes} (the code of add-to-queue):",
            markup=False,
        )
        for day in result.days:
            self.console.print(
                f"        {day.account_id}: {day.count} items, one every "
                f"{day.interval_seconds:.1f} s",
                markup=False,
            )
        if result.queued == 0:
            raise DemoError("nothing was queued; see the messages above")

    def _start_manager(self) -> None:
        self.manager_tried = True
        started = commands.manager_start(self.paths)
        if not started.ok:
            raise DemoError(
                f"`manager start --detach` failed (exit {started.returncode}); see "
                f"{self.paths.commands_log}:\n{started.output.strip()[-1500:]}"
            )
        status = commands.manager_status(self.paths) or {}
        pid = status.get("pid")
        self.manager_pid = pid if isinstance(pid, int) else None
        daemons = ", ".join(
            f"{p.get('account_id')} (PID {p.get('pid')})" for p in status.get("processes", [])
        )
        self._step(
            5,
            f"`manager start --detach`: manager PID {status.get('pid', '?')}, "
            f"one daemon per account: {daemons or 'see manager status'}",
        )

    def _watch(self) -> None:
        assert self.settings is not None and self.engine is not None
        assert self.sandbox is not None and self.sample is not None
        self._step(6, "Uploading (Ctrl+C stops gracefully):")
        watch = Watch(
            self.plan,
            self.paths,
            self.settings,
            self.engine,
            self.sandbox,
            self.stop,
            self.sample.urgent,
            self.manager_pid,
        )
        try:
            self.outcome = watch.run(self.console)
        except WatchError as exc:
            raise DemoError(str(exc)) from None
        finally:
            self.urgent = watch.urgent

    # ------------------------------------------------------------------ clean-up

    def cleanup(self) -> None:
        """Stop the manager (the daemons finish their current item), then the sandbox."""
        if self.manager_tried:
            self.console.print("Stopping the manager (`manager stop`)...")
            stopped = commands.manager_stop(self.paths)
            if not stopped.ok:
                self.console.print(
                    f"[yellow]`manager stop` failed (exit {stopped.returncode}); stopping "
                    "its processes directly[/]"
                )
                kill_manager_processes(self.paths)
        if self.sandbox is not None:
            self.sandbox.stop()

    # ------------------------------------------------------------------ the end

    def finish(self) -> int:
        """Print the summary and return the exit status."""
        summary = self._summary()
        if summary is not None:
            self.console.print()
            report.print_summary(self.console, summary)
            report.print_tokens(self.console, summary)
            report.print_verdict(self.console, summary)
            self.paths.summary_json.write_text(
                json.dumps(summary.to_json(), ensure_ascii=False, indent=2) + "\n",
                encoding="utf-8",
            )
        if self.settings is not None:
            report.print_locations(self.console, self.paths)
        return self._status(summary)

    def _summary(self) -> Summary | None:
        if self.engine is None or self.settings is None:
            return None
        calls = load_calls(self.paths.sandbox_record) if self.paths.sandbox_record.exists() else []
        account = self.settings.account(PLATFORM, self.plan.account_ids[0])
        checks = Checks(
            min_interval_seconds=account.min_interval_seconds,
            hour_call_limit=account.hour_call_limit,
            daily_limit=account.daily_limit,
            timezone=account.timezone,
            business_hours=(account.business_hours_start, account.business_hours_end),
        )
        summary = summarize(
            self.engine, PLATFORM, self.plan.account_ids, calls, checks, self.urgent
        )
        summary.import_rejected = self.import_rejected
        return summary

    def _status(self, summary: Summary | None) -> int:
        if self.outcome == ERROR:
            self.console.print("[red]The demo stopped on an error:[/] ", end="")
            self.console.print(self.error, markup=False)
            return EXIT_FAILED
        if self.outcome == INTERRUPTED:
            self.console.print(
                "Stopped by Ctrl+C: the manager and the sandbox are stopped; the work folder "
                "is kept for check-queue and logs."
            )
            return EXIT_INTERRUPTED
        if summary is None:
            return EXIT_FAILED
        unfinished = summary.total.unfinished
        if self.outcome == TIMEOUT:
            self.console.print(
                f"[red]Timed out[/] after {self.plan.deadline_seconds / 60:.1f} minutes "
                f"(--minutes plus 2) with {unfinished} item(s) unfinished; `check-queue` "
                "shows them."
            )
            return EXIT_FAILED
        if unfinished or not summary.verdict_clean:
            self.console.print(
                f"[red]Not clean:[/] {unfinished} item(s) unfinished, "
                f"{len(summary.problems)} problem(s) in the sandbox's verdict."
            )
            return EXIT_FAILED
        self.console.print(
            "[green]Done:[/] every queued item reached a final state and the sandbox's "
            "verdict is clean."
        )
        return 0

    # ------------------------------------------------------------------ helpers

    def _step(self, number: int, text: str) -> None:
        self.console.print(f"[bold][{number}/{STEPS}][/] ", end="")
        self.console.print(text, markup=False)

    def _check_stop(self) -> None:
        if self.stop.requested:
            raise _Interrupted


def run_demo(options: DemoOptions, console: Console) -> int:
    """Run the demo; returns the exit status. Raises ValueError for options that cannot
    work and WorkdirRefused for a folder it must not use, before anything starts."""
    plan = make_plan(options)
    paths = claim_workdir(options.workdir, fresh=options.fresh, before_emptying=stop_leftovers)
    with stop_requests(lambda: console.print("Still stopping; please wait...")) as stop:
        run = _Run(plan, paths, console, stop)
        try:
            run.execute()
        except _Interrupted:
            run.outcome = INTERRUPTED
        except DemoError as exc:
            run.outcome, run.error = ERROR, str(exc)
        finally:
            run.cleanup()
        try:
            return run.finish()
        finally:
            if run.engine is not None:
                run.engine.dispose()


def stop_leftovers(paths: DemoPaths) -> None:
    """Before `--fresh` empties a folder: a killed earlier run may have left its manager
    and sandbox running there."""
    if paths.config.exists():
        if not commands.manager_stop(paths).ok:
            kill_manager_processes(paths)
    if paths.sandbox_pid.exists():
        try:
            pid = int(paths.sandbox_pid.read_text(encoding="utf-8").strip())
        except ValueError:
            return
        stop_pid(pid, must_contain=str(paths.sandbox_record))


def kill_manager_processes(paths: DemoPaths) -> None:
    """The last resort when `manager stop` fails: the PIDs `manager status` reports,
    each checked to be a process of this work folder."""
    status = commands.manager_status(paths) or {}
    pids = [status.get("pid")] + [p.get("pid") for p in status.get("processes", [])]
    for pid in pids:
        if isinstance(pid, int):
            stop_pid(pid, must_contain=str(paths.config))
