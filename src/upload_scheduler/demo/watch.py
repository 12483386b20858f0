"""The last step: watch the daemons work until every queued item is final, the deadline
passes or the user stops. Meanwhile, as in a real day, an urgent item arrives (on every
platform of the run) and the access tokens run out early; the manager and the sandboxes
must stay alive throughout."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from rich.console import Console
from sqlalchemy import Engine, select

from upload_scheduler import defaults
from upload_scheduler.config import Settings
from upload_scheduler.demo.live import LiveView
from upload_scheduler.demo.options import PLATFORM, PLATFORM_NAMES, DemoPlan, spoken
from upload_scheduler.demo.procs import process_alive
from upload_scheduler.demo.sandbox_process import SandboxProcess
from upload_scheduler.demo.signals import StopFlag
from upload_scheduler.demo.snapshot import take_snapshots
from upload_scheduler.demo.workdir import DemoPaths
from upload_scheduler.planning import Mode
from upload_scheduler.store.tables import upload_queue

POLL_SECONDS = 0.5
URGENT_AFTER_SECONDS = 30.0  # at most; a quarter of the window when that is sooner
EXPIRE_TOKENS_AT = 0.6  # of the window: the sandbox ends every access token early
URGENT_PRIORITY = defaults.PRIORITY_URGENT

FINISHED, TIMEOUT, INTERRUPTED = "finished", "timeout", "interrupted"


class WatchError(Exception):
    """The run cannot end well (the sandbox or the manager died); the message says where
    to look."""


@dataclass
class Watch:
    plan: DemoPlan
    paths: DemoPaths
    settings: Settings
    engine: Engine
    sandboxes: dict[str, SandboxProcess]  # platform -> its sandbox
    stop: StopFlag
    urgent_asins: Mapping[str, str]  # platform -> its catalogue's urgent item
    manager_pid: int | None
    # platform -> (asin, when it was queued there)
    urgent: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def run(self, console: Console) -> str:
        """FINISHED, TIMEOUT or INTERRUPTED; raises WatchError."""
        begun = time.monotonic()
        since = datetime.now(UTC)
        deadline = begun + self.plan.deadline_seconds
        urgent_at = begun + min(URGENT_AFTER_SECONDS, self.plan.window_seconds / 4)
        expire_at = begun + self.plan.window_seconds * EXPIRE_TOKENS_AT
        expired = False
        urgent_seen: set[str] = set()
        accounts = {p: self.plan.accounts_of(p) for p in self.plan.platforms}
        view = LiveView(
            console, self.settings.zone, self._heading(), deadline, show_platform=self.plan.multi
        )
        with view:
            while not self.stop.requested:
                now_mono, now = time.monotonic(), datetime.now(UTC)
                if not self.urgent and now_mono >= urgent_at:
                    self._queue_urgent(view)
                if not expired and now_mono >= expire_at:
                    expired = True
                    self._expire_tokens(view)
                for platform in self.urgent.keys() - urgent_seen:
                    if self._urgent_final(view, platform):
                        urgent_seen.add(platform)
                self._check_alive()
                snapshot = take_snapshots(self.engine, accounts, now, since)
                view.update(snapshot)
                if self.urgent and snapshot.unfinished == 0:
                    return FINISHED
                if now_mono >= deadline:
                    return TIMEOUT
                self._sleep(POLL_SECONDS)
        return INTERRUPTED

    def _heading(self) -> str:
        options = self.plan.options
        if self.plan.platforms == (PLATFORM,):
            return (
                f"{options.items} items on {options.accounts} shop(s) in the BASE sandbox "
                f"{self.sandboxes[PLATFORM].url}"
            )
        where = spoken(
            [
                f"{len(self.plan.accounts_of(p))} {PLATFORM_NAMES[p]} account(s)"
                for p in self.plan.platforms
            ]
        )
        return f"{options.items} items on each platform: {where}"

    def _queue_urgent(self, view: LiveView) -> None:
        """The code of `add-to-queue --priority 20`: due now, ahead of everything, on
        every platform of the run (Yahoo!'s copy of the catalogue names it otherwise)."""
        from upload_scheduler.queue.manager import UploadQueueManager

        manager = UploadQueueManager(self.settings, engine=self.engine)
        first = self.urgent_asins[self.plan.platforms[0]]
        where = []
        for platform in self.plan.platforms:
            asin = self.urgent_asins[platform]
            result = manager.enqueue(
                platform, asins=[asin], priority=URGENT_PRIORITY, mode=Mode.NOW
            )
            self.urgent[platform] = (asin, datetime.now(UTC))
            account = result.days[0].account_id if result.days else "no account"
            named = f", as {asin}" if asin != first else ""
            where.append(
                f"{account} ({PLATFORM_NAMES[platform]}{named})" if self.plan.multi else account
            )
        view.event(
            f"urgent item {first} queued with priority {URGENT_PRIORITY} for {', '.join(where)}",
            datetime.now(UTC),
        )

    def _urgent_final(self, view: LiveView, platform: str) -> bool:
        asin, queued_at = self.urgent[platform]
        with self.engine.connect() as conn:
            row = conn.execute(
                select(upload_queue.c.status, upload_queue.c.processed_at).where(
                    upload_queue.c.platform == platform,
                    upload_queue.c.asin == asin,
                    upload_queue.c.priority == URGENT_PRIORITY,
                )
            ).first()
        if row is None or row.status not in ("success", "failed") or row.processed_at is None:
            return False
        after = (row.processed_at - queued_at).total_seconds()
        on = f" on {PLATFORM_NAMES[platform]}" if self.plan.multi else ""
        view.event(
            f"urgent item {asin}{on}: {row.status} {after:.2f} s after it was queued",
            row.processed_at,
        )
        return True

    def _expire_tokens(self, view: LiveView) -> None:
        ended: list[str] = []
        for platform, sandbox in self.sandboxes.items():
            try:
                answer = httpx.post(f"{sandbox.url}/_sandbox/expire_tokens", timeout=5)
                count = answer.json().get("expired", 0)
            except (httpx.HTTPError, ValueError) as exc:
                view.event(f"could not end the access tokens early: {exc}", datetime.now(UTC))
                return
            ended.append(f"{PLATFORM_NAMES[platform]} {count}" if self.plan.multi else str(count))
        if self.plan.platforms == (PLATFORM,):
            message = (
                f"the sandbox ended the shops' access tokens early ({ended[0]}); each daemon "
                "refreshes its token when BASE refuses it"
            )
        elif not self.plan.multi:
            name = PLATFORM_NAMES[self.plan.platforms[0]]
            message = (
                f"the sandbox ended the accounts' access tokens early ({ended[0]}); each "
                f"daemon refreshes its token when {name} refuses it"
            )
        else:
            message = (
                f"the sandboxes ended the access tokens early ({', '.join(ended)}); each "
                "daemon refreshes its token when its platform refuses it"
            )
        view.event(message, datetime.now(UTC))

    def _check_alive(self) -> None:
        """Without a sandbox or the manager the run cannot end well: say so at once
        instead of waiting for the deadline."""
        for platform, sandbox in self.sandboxes.items():
            if sandbox.process.poll() is not None:
                which = "sandbox" if not self.plan.multi else f"{PLATFORM_NAMES[platform]} sandbox"
                raise WatchError(
                    f"the {which} stopped unexpectedly (exit {sandbox.process.returncode}); "
                    f"see {sandbox.output}"
                )
        if self.manager_pid is not None and not process_alive(self.manager_pid):
            raise WatchError(
                f"the manager (PID {self.manager_pid}) stopped unexpectedly; see "
                f"{self.paths.log_dir / defaults.MANAGER_LOG_FILE}"
            )

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stop.requested and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
