"""The demo from start to end, with one rule above the others: whatever happens (an
error, Ctrl+C, a timeout), the manager and the sandboxes are stopped before it returns,
and the work folder stays usable for `check-queue` and `logs`.

By default it lists on BASE, eBay and Yahoo! at once (two BASE shops, one eBay seller
and one Yahoo! store, one manager); `--platforms base` is the BASE demo of old, step for
step."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import Engine

from upload_scheduler.config import ConfigError, Settings, load_settings
from upload_scheduler.demo import commands, report
from upload_scheduler.demo.config_file import (
    EBAY_CLIENT_SECRET,
    YAHOO_CLIENT_SECRET,
    render_config,
)
from upload_scheduler.demo.options import (
    EBAY,
    PLATFORM,
    PLATFORM_NAMES,
    YAHOO,
    YAHOO_STORES,
    DemoOptions,
    DemoPlan,
    make_plan,
    platform_names,
)
from upload_scheduler.demo.procs import stop_pid
from upload_scheduler.demo.sample import (
    YAHOO_PREFIX,
    SampleFile,
    build_sample,
    ebay_categories,
    ebay_category_id,
    ng_words,
    remove_phrases,
    yahoo_categories,
    yahoo_category,
    yahoo_images,
)
from upload_scheduler.demo.sample import write_csv as write_sample_csv
from upload_scheduler.demo.sandbox_process import (
    CONTROL_TIMEOUT_SECONDS,
    EBAY_FAULTS,
    FAULTS,
    LATENCY_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    YAHOO_FAULTS,
    YAHOO_PUBLISH_DELAY_SECONDS,
    YAHOO_URL_INTERVAL_SECONDS,
    SandboxProcess,
    SandboxStartError,
    faults_on,
    start_ebay_sandbox,
    start_sandbox,
    start_yahoo_sandbox,
)
from upload_scheduler.demo.signals import StopFlag, stop_requests
from upload_scheduler.demo.summary import Checks, RunSummary, Summary, summarize
from upload_scheduler.demo.watch import FINISHED, INTERRUPTED, TIMEOUT, Watch, WatchError
from upload_scheduler.demo.workdir import DemoPaths, claim_workdir, write_private
from upload_scheduler.planning import Mode

BASE_STEPS = 6  # the BASE demo's: folder, sandbox, login, import, manager, upload
ERROR = "error"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # as a shell reports a Ctrl+C
INDENT = "      "
# The sandboxes that start quiet (logins and set-up are shown, not tested) and the
# faults they get once the daemons are about to start.
LATER_FAULTS = {EBAY: EBAY_FAULTS, YAHOO: YAHOO_FAULTS}


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
    yahoo_sample: SampleFile | None = None  # Yahoo!'s copy, once its sandbox runs
    sandboxes: dict[str, SandboxProcess] = field(default_factory=dict)
    settings: Settings | None = None
    engine: Engine | None = None
    manager_tried: bool = False
    manager_pid: int | None = None
    urgent: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    import_rejected: list[str] = field(default_factory=list)
    ebay_state: dict[str, Any] | None = None  # the eBay sandbox's state at the end
    outcome: str = FINISHED  # or TIMEOUT, INTERRUPTED, ERROR
    error: str = ""
    step_no: int = 0

    @property
    def steps(self) -> int:
        """eBay adds one step: `account setup` before the manager starts."""
        return BASE_STEPS + (1 if EBAY in self.plan.platforms else 0)

    # ------------------------------------------------------------------ steps

    def execute(self) -> None:
        self.sample = build_sample(self.plan.options.items, english=EBAY in self.plan.platforms)
        write_sample_csv(self.sample, self.paths.products_csv)
        english = ", English titles for eBay" if self.sample.english else ""
        self._step(
            f"Work folder {self.paths.root}: {self.paths.config.name}, "
            f"{self.paths.products_csv.name} ({len(self.sample.rows)} rows, CP932{english})",
        )
        self._check_stop()
        self._start_sandboxes()
        self._configure()
        self._check_stop()
        self._login()
        self._check_stop()
        if EBAY in self.plan.platforms:
            self._account_setup()
            self._check_stop()
        self._faults_on()
        self._import_and_queue()
        self._check_stop()
        self._start_manager()
        self._watch()

    def _start_sandboxes(self) -> None:
        lines = []
        if PLATFORM in self.plan.platforms:
            self.sandboxes[PLATFORM] = self._started(lambda: start_sandbox(self.paths))
            faults = sum(FAULTS.values())
            lines.append(
                f"{'BASE sandbox' if self.plan.multi else 'Sandbox'} listening on "
                f"{self.sandboxes[PLATFORM].url} (latency {LATENCY_SECONDS * 1000:.0f} ms, "
                f"{faults:.0%} transient faults, access tokens live {TOKEN_LIFETIME_SECONDS} s)"
            )
        if EBAY in self.plan.platforms:
            self._check_stop()
            sellers = self.plan.ebay_account_ids
            self.sandboxes[EBAY] = self._started(
                lambda: start_ebay_sandbox(self.paths, EBAY_CLIENT_SECRET, sellers)
            )
            lines.append(
                f"{self._quiet_sandbox(EBAY)}; {', '.join(sellers)} starts without a "
                "merchant location)"
            )
        if YAHOO in self.plan.platforms:
            self._check_stop()
            self.sandboxes[YAHOO] = self._started(
                lambda: start_yahoo_sandbox(self.paths, YAHOO_CLIENT_SECRET)
            )
            lines += self._yahoo_catalogue()
        self._step(lines[0])
        for line in lines[1:]:
            self.console.print(f"{INDENT}{line}", markup=False)

    def _quiet_sandbox(self, platform: str) -> str:
        """The line of a sandbox whose faults start with the daemons, its parenthesis open."""
        faults = sum(LATER_FAULTS[platform].values())
        return (
            f"{PLATFORM_NAMES[platform]} sandbox listening on {self.sandboxes[platform].url} "
            f"(latency {LATENCY_SECONDS * 1000:.0f} ms, {faults:.0%} transient faults once "
            f"the daemons start, access tokens live {TOKEN_LIFETIME_SECONDS} s"
        )

    def _yahoo_catalogue(self) -> list[str]:
        """Yahoo!'s copy of the catalogue, its images on the Yahoo! sandbox's origin:
        Yahoo! downloads each image, eBay takes https ones only, and a product has one
        set of images for every platform."""
        url = self.sandboxes[YAHOO].url
        self.yahoo_sample = build_sample(
            self.plan.options.items,
            english=False,
            asin_prefix=YAHOO_PREFIX,
            image_url=yahoo_images(url),
        )
        write_sample_csv(self.yahoo_sample, self.paths.yahoo_products_csv)
        return [
            f"{self._quiet_sandbox(YAHOO)}, one request per API URL and store each "
            f"{YAHOO_URL_INTERVAL_SECONDS:g} s, published {YAHOO_PUBLISH_DELAY_SECONDS:g} s "
            "after submitItem)",
            f"{self.paths.yahoo_products_csv.name}: Yahoo!'s copy of the catalogue "
            f"({len(self.yahoo_sample.rows)} rows, ASINs {YAHOO_PREFIX}...), its images "
            f"on that sandbox's image origin ({url}/images/...), which the lister downloads",
        ]

    def _started(self, start: Any) -> SandboxProcess:
        try:
            sandbox: SandboxProcess = start()
        except SandboxStartError as exc:
            raise DemoError(str(exc)) from None
        return sandbox

    def _configure(self) -> None:
        text = render_config(
            self.plan,
            {p: s.url for p, s in self.sandboxes.items()},
            ng_words(),
            remove_phrases(),
            ebay_categories=ebay_categories(),
            ebay_category_id=ebay_category_id(),
            yahoo_categories=yahoo_categories(),
            yahoo_category=yahoo_category(),
        )
        write_private(self.paths.config, text)
        try:
            self.settings = load_settings(self.paths.config)
        except ConfigError as exc:  # a bug in the demo's own config: say so plainly
            raise DemoError(f"the demo wrote a config that does not load: {exc}") from None
        from upload_scheduler.store.database import open_database

        self.engine = open_database(self.settings.database_url)

    def _login(self) -> None:
        lines = []
        if PLATFORM in self.plan.platforms:
            self._base_login()
            lines.append(
                f"Logged in {', '.join(self.plan.account_ids)} "
                f"{'on BASE ' if self.plan.multi else ''}through OAuth "
                "(authorize, code, token; tokens stored in the database)"
            )
        for platform in (EBAY, YAHOO):
            if platform in self.plan.platforms:
                lines += self._consent_login(platform)
        self._step(lines[0])
        for line in lines[1:]:
            self.console.print(f"{INDENT}{line}", markup=False)

    def _base_login(self) -> None:
        from upload_scheduler.platforms.thebase.sandbox.login import sandbox_login

        assert self.settings is not None and self.engine is not None
        for account_id in self.plan.account_ids:
            try:
                sandbox_login(self.settings, self.engine, account_id)
            except Exception as exc:
                raise DemoError(f"logging {account_id} in to the sandbox failed: {exc}") from None

    def _consent_login(self, platform: str) -> list[str]:
        """Each eBay seller or Yahoo! store through the real `token login --platform P
        --code`, with the address the sandbox's consent page sent the browser to."""
        from upload_scheduler.demo.login import ConsentError, consent_redirect

        assert self.settings is not None
        name = PLATFORM_NAMES[platform]
        lines = []
        for account_id in self.plan.accounts_of(platform):
            try:
                redirect = consent_redirect(self.settings, platform, account_id)
            except ConsentError as exc:
                raise DemoError(f"{account_id}'s consent on the {name} sandbox: {exc}") from None
            done = commands.token_login(self.paths, platform, account_id, redirect)
            command = f"token login --platform {platform} --account {account_id} --code <address>"
            if not done.ok:
                raise DemoError(
                    f"`{command}` failed (exit {done.returncode}); see "
                    f"{self.paths.commands_log}:\n{done.output.strip()[-1500:]}"
                )
            lines.append(
                f"Logged in {account_id} on {name}: consent page, then `{command}` with the "
                "address the browser ended on:"
            )
            lines += [f"  {line}" for line in _last_lines(done.output, 1)]
        return lines

    def _account_setup(self) -> None:
        """`account setup` makes each eBay seller ready: the sandbox started it without a
        merchant location, which the command creates."""
        results = []
        for account_id in self.plan.ebay_account_ids:
            done = commands.account_setup(self.paths, EBAY, account_id)
            results.append((account_id, done))
            if not done.ok:
                raise DemoError(
                    f"`account setup --platform ebay --account {account_id}` failed (exit "
                    f"{done.returncode}); see {self.paths.commands_log}:\n"
                    f"{done.output.strip()[-1500:]}"
                )
        for n, (account_id, done) in enumerate(results):
            text = f"`account setup --platform ebay --account {account_id}` (exit 0):"
            if n == 0:
                self._step(text)
            else:
                self.console.print(f"{INDENT}{text}", markup=False)
            for line in done.output.strip().splitlines():
                self.console.print(f"{INDENT}  {line}", markup=False)

    def _faults_on(self) -> None:
        """The quiet sandboxes' faults start now, before the daemons do."""
        for platform, odds in LATER_FAULTS.items():
            if platform not in self.sandboxes:
                continue
            try:
                faults_on(self.sandboxes[platform], odds)
            except httpx.HTTPError as exc:
                name = PLATFORM_NAMES[platform]
                raise DemoError(f"could not turn on the {name} sandbox's faults: {exc}") from None

    def _import_and_queue(self) -> None:
        from upload_scheduler.inventory.importer import import_products
        from upload_scheduler.inventory.reader import open_source
        from upload_scheduler.queue.manager import UploadQueueManager

        assert self.settings is not None and self.engine is not None
        files: dict[Path, list[str]] = {}  # each file and the platforms it is imported for
        for platform in self.plan.platforms:
            files.setdefault(self._csv_of(platform), []).append(platform)
        for n, (path, platforms) in enumerate(files.items()):
            imported = None
            for platform in platforms:
                done = import_products(self.engine, path, platform, now=datetime.now(UTC))
                imported = imported or done  # the rows are the same file's each time
            assert imported is not None
            where = f" for {platform_names(tuple(platforms))}" if self.plan.multi else ""
            if n > 0:  # Yahoo!'s copy: the same rows, so the same rejections
                self.console.print(
                    f"{INDENT}Imported {imported.rows_imported} products{where} from "
                    f"{path.name}; the same {imported.rows_rejected} rows rejected",
                    markup=False,
                )
                continue
            self.import_rejected = [str(e) for e in imported.errors]
            codec = open_source(path).encoding
            self._step(
                f"Imported {imported.rows_imported} products{where} (`products import`; "
                f"encoding detected: {codec.upper()}); {imported.rows_rejected} rows rejected:",
            )
            for line in self.import_rejected:
                self.console.print(f"{INDENT}{line}", markup=False)
        manager = UploadQueueManager(self.settings, engine=self.engine)
        minutes = f"{self.plan.options.minutes:g} minute(s)"
        for platform in self.plan.platforms:
            result = manager.enqueue(
                platform,
                limit=self.plan.queued_at_start,
                mode=Mode.WITHIN,
                within=timedelta(seconds=self.plan.window_seconds),
            )
            on = f" on {PLATFORM_NAMES[platform]}" if self.plan.multi else ""
            self.console.print(
                f"{INDENT}Queued {result.queued} items{on} with --distribute --start now "
                f"--within {minutes} (the code of add-to-queue):",
                markup=False,
            )
            for day in result.days:
                self.console.print(
                    f"{INDENT}  {day.account_id}: {day.count} items, one every "
                    f"{day.interval_seconds:.1f} s",
                    markup=False,
                )
            if result.queued == 0:
                raise DemoError("nothing was queued; see the messages above")
        if EBAY in self.plan.platforms:
            self._show_pricing()

    def _csv_of(self, platform: str) -> Path:
        return self.paths.yahoo_products_csv if platform == YAHOO else self.paths.products_csv

    def _show_pricing(self) -> None:
        """What the eBay listings will cost: the formula and the first product's price."""
        from upload_scheduler.demo.ebay_summary import pricing_rule
        from upload_scheduler.pricing import PricingSettings, list_price

        assert self.settings is not None and self.sample is not None
        pricing = self.settings.account(EBAY, self.plan.ebay_account_ids[0]).pricing
        rule = PricingSettings(pricing.currency, pricing.exchange_rate, pricing.markup)
        first = next(r for r in self.sample.rows if r.asin == self.sample.valid[0])
        yen = int(first.price.replace(",", "").lstrip("\uffe5"))
        price = list_price(yen, rule)
        self.console.print(
            f"{INDENT}eBay prices: {pricing_rule(rule)}, half up to the cent "
            f"({first.asin}: \uffe5{yen:,} → {price.amount} {price.currency})",
            markup=False,
        )

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
            f"{_daemon_label(p, self.plan.multi)} (PID {p.get('pid')})"
            for p in status.get("processes", [])
        )
        self._step(
            f"`manager start --detach`: manager PID {status.get('pid', '?')}, "
            f"one daemon per account: {daemons or 'see manager status'}",
        )

    def _watch(self) -> None:
        assert self.settings is not None and self.engine is not None
        assert self.sample is not None
        urgent = {p: self.sample.urgent for p in self.plan.platforms}
        if self.yahoo_sample is not None:
            urgent[YAHOO] = self.yahoo_sample.urgent
        self._step("Uploading (Ctrl+C stops gracefully):")
        watch = Watch(
            self.plan,
            self.paths,
            self.settings,
            self.engine,
            self.sandboxes,
            self.stop,
            urgent,
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
        """Stop the manager (the daemons finish their current item), keep what the eBay
        sandbox holds (its prices), then stop the sandboxes."""
        if self.manager_tried:
            self.console.print("Stopping the manager (`manager stop`)...")
            stopped = commands.manager_stop(self.paths)
            if not stopped.ok:
                self.console.print(
                    f"[yellow]`manager stop` failed (exit {stopped.returncode}); stopping "
                    "its processes directly[/]"
                )
                kill_manager_processes(self.paths)
        ebay = self.sandboxes.get(EBAY)
        if ebay is not None and ebay.url:
            self.ebay_state = _read_state(ebay, self.paths)
        for sandbox in reversed(list(self.sandboxes.values())):
            sandbox.stop()

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
            report.print_locations(self.console, self.paths, self.plan.platforms)
        return self._status(summary)

    def _summary(self) -> RunSummary | None:
        if self.engine is None or self.settings is None:
            return None
        parts = []
        if PLATFORM in self.plan.platforms:
            parts.append(self._base_summary())
        if EBAY in self.plan.platforms:
            parts.append(self._ebay_summary())
        if YAHOO in self.plan.platforms:
            parts.append(self._yahoo_summary())
        return RunSummary(parts, import_rejected=self.import_rejected)

    def _base_summary(self) -> Summary:
        from upload_scheduler.platforms.thebase.sandbox import load_calls

        assert self.engine is not None and self.settings is not None
        record = self.paths.sandbox_record
        calls = load_calls(record) if record.exists() else []
        account = self.settings.account(PLATFORM, self.plan.account_ids[0])
        checks = Checks(
            min_interval_seconds=account.min_interval_seconds,
            hour_call_limit=account.hour_call_limit,
            daily_limit=account.daily_limit,
            timezone=account.timezone,
            business_hours=(account.business_hours_start, account.business_hours_end),
        )
        return summarize(
            self.engine,
            PLATFORM,
            self.plan.account_ids,
            calls,
            checks,
            self.urgent.get(PLATFORM),
        )

    def _ebay_summary(self) -> Summary:
        from upload_scheduler.demo.ebay_summary import summarize_ebay
        from upload_scheduler.platforms.ebay.sandbox import load_calls
        from upload_scheduler.pricing import PricingSettings

        assert self.engine is not None and self.settings is not None
        record = self.paths.ebay_sandbox_record
        calls = load_calls(record) if record.exists() else []
        account = self.settings.account(EBAY, self.plan.ebay_account_ids[0])
        pricing = account.pricing
        return summarize_ebay(
            self.engine,
            self.plan.ebay_account_ids,
            calls,
            self.ebay_state,
            min_interval_seconds=account.min_interval_seconds,
            pricing=PricingSettings(pricing.currency, pricing.exchange_rate, pricing.markup),
            urgent=self.urgent.get(EBAY),
        )

    def _yahoo_summary(self) -> Summary:
        from upload_scheduler.demo.yahoo_summary import summarize_yahoo
        from upload_scheduler.platforms.yahoo.sandbox import load_calls

        assert self.engine is not None and self.settings is not None
        record = self.paths.yahoo_sandbox_record
        calls = load_calls(record) if record.exists() else []
        account = self.settings.account(YAHOO, self.plan.yahoo_account_ids[0])
        return summarize_yahoo(
            self.engine,
            YAHOO_STORES,
            calls,
            item_code_prefix=account.item_code_prefix,
            min_interval_seconds=account.min_interval_seconds,
            urgent=self.urgent.get(YAHOO),
        )

    def _status(self, summary: RunSummary | None) -> int:
        if self.outcome == ERROR:
            self.console.print("[red]The demo stopped on an error:[/] ", end="")
            self.console.print(self.error, markup=False)
            return EXIT_FAILED
        sandboxes = "the sandboxes" if self.plan.multi else "the sandbox"
        if self.outcome == INTERRUPTED:
            self.console.print(
                f"Stopped by Ctrl+C: the manager and {sandboxes} are stopped; the work folder "
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
        verdicts = "the sandboxes' verdicts" if self.plan.multi else "the sandbox's verdict"
        if unfinished or not summary.verdict_clean:
            self.console.print(
                f"[red]Not clean:[/] {unfinished} item(s) unfinished, "
                f"{len(summary.problems)} problem(s) in {verdicts}."
            )
            return EXIT_FAILED
        clean = "every sandbox's verdict is clean" if self.plan.multi else ""
        self.console.print(
            "[green]Done:[/] every queued item reached a final state and "
            + (clean or "the sandbox's verdict is clean")
            + "."
        )
        return 0

    # ------------------------------------------------------------------ helpers

    def _step(self, text: str) -> None:
        self.step_no += 1
        self.console.print(f"[bold][{self.step_no}/{self.steps}][/] ", end="")
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
    and sandboxes running there."""
    if paths.config.exists():
        if not commands.manager_stop(paths).ok:
            kill_manager_processes(paths)
    for pid_file, record in (
        (paths.sandbox_pid, paths.sandbox_record),
        (paths.ebay_sandbox_pid, paths.ebay_sandbox_record),
        (paths.yahoo_sandbox_pid, paths.yahoo_sandbox_record),
    ):
        if not pid_file.exists():
            continue
        try:
            pid = int(pid_file.read_text(encoding="utf-8").strip())
        except ValueError:
            continue
        stop_pid(pid, must_contain=str(record))


def kill_manager_processes(paths: DemoPaths) -> None:
    """The last resort when `manager stop` fails: the PIDs `manager status` reports,
    each checked to be a process of this work folder."""
    status = commands.manager_status(paths) or {}
    pids = [status.get("pid")] + [p.get("pid") for p in status.get("processes", [])]
    for pid in pids:
        if isinstance(pid, int):
            stop_pid(pid, must_contain=str(paths.config))


def _read_state(sandbox: SandboxProcess, paths: DemoPaths) -> dict[str, Any] | None:
    """GET /_sandbox/state, kept in the work folder: the offers' prices are only there."""
    try:
        answer = httpx.get(f"{sandbox.url}/_sandbox/state", timeout=CONTROL_TIMEOUT_SECONDS)
        answer.raise_for_status()
        state = answer.json()
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    paths.ebay_sandbox_state.write_text(
        json.dumps(state, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return state


def _daemon_label(process: dict[str, Any], multi: bool) -> str:
    account = str(process.get("account_id"))
    return f"{process.get('platform')}/{account}" if multi else account


def _last_lines(text: str, count: int) -> list[str]:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return lines[-count:]
