"""Step 6: watch the daemons work until every queued item is final, the deadline passes
or the user stops. Meanwhile, as in a real day, an urgent item arrives and the access
tokens run out early; the manager and the sandbox must stay alive throughout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from rich.console import Console
from sqlalchemy import Engine, select

from upload_scheduler import defaults
from upload_scheduler.config import Settings
from upload_scheduler.demo.live import LiveView
from upload_scheduler.demo.options import PLATFORM, DemoPlan
from upload_scheduler.demo.procs import process_alive
from upload_scheduler.demo.sandbox_process import SandboxProcess
from upload_scheduler.demo.signals import StopFlag
from upload_scheduler.demo.snapshot import take_snapshot
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
    sandbox: SandboxProcess
    stop: StopFlag
    urgent_asin: str
    manager_pid: int | None
    urgent: tuple[str, datetime] | None = None  # (asin, when it was queued)

    def run(self, console: Console) -> str:
        """FINISHED, TIMEOUT or INTERRUPTED; raises WatchError."""
        begun = time.monotonic()
        since = datetime.now(UTC)
        deadline = begun + self.plan.deadline_seconds
        urgent_at = begun + min(URGENT_AFTER_SECONDS, self.plan.window_seconds / 4)
        expire_at = begun + self.plan.window_seconds * EXPIRE_TOKENS_AT
        expired = urgent_seen = False
        options = self.plan.options
        heading = (
            f"{options.items} items on {options.accounts} shop(s) in the BASE sandbox "
            f"{self.sandbox.url}"
        )
        with LiveView(console, self.settings.zone, heading, deadline) as view:
            while not self.stop.requested:
                now_mono, now = time.monotonic(), datetime.now(UTC)
                if self.urgent is None and now_mono >= urgent_at:
                    self._queue_urgent(view)
                if not expired and now_mono >= expire_at:
                    expired = True
                    self._expire_tokens(view)
                if self.urgent is not None and not urgent_seen:
                    urgent_seen = self._urgent_final(view)
                self._check_alive()
                snapshot = take_snapshot(self.engine, PLATFORM, self.plan.account_ids, now, since)
                view.update(snapshot)
                if self.urgent is not None and snapshot.unfinished == 0:
                    return FINISHED
                if now_mono >= deadline:
                    return TIMEOUT
                self._sleep(POLL_SECONDS)
        return INTERRUPTED

    def _queue_urgent(self, view: LiveView) -> None:
        """The code of `add-to-queue --priority 20`: due now, ahead of everything."""
        from upload_scheduler.queue.manager import UploadQueueManager

        manager = UploadQueueManager(self.settings, engine=self.engine)
        result = manager.enqueue(
            PLATFORM, asins=[self.urgent_asin], priority=URGENT_PRIORITY, mode=Mode.NOW
        )
        queued_at = datetime.now(UTC)
        self.urgent = (self.urgent_asin, queued_at)
        where = result.days[0].account_id if result.days else "no account"
        view.event(
            f"urgent item {self.urgent_asin} queued with priority {URGENT_PRIORITY} for {where}",
            queued_at,
        )

    def _urgent_final(self, view: LiveView) -> bool:
        assert self.urgent is not None
        asin, queued_at = self.urgent
        with self.engine.connect() as conn:
            row = conn.execute(
                select(upload_queue.c.status, upload_queue.c.processed_at).where(
                    upload_queue.c.asin == asin, upload_queue.c.priority == URGENT_PRIORITY
                )
            ).first()
        if row is None or row.status not in ("success", "failed") or row.processed_at is None:
            return False
        after = (row.processed_at - queued_at).total_seconds()
        view.event(
            f"urgent item {asin}: {row.status} {after:.2f} s after it was queued", row.processed_at
        )
        return True

    def _expire_tokens(self, view: LiveView) -> None:
        try:
            answer = httpx.post(f"{self.sandbox.url}/_sandbox/expire_tokens", timeout=5)
            ended = answer.json().get("expired", 0)
        except (httpx.HTTPError, ValueError) as exc:
            view.event(f"could not end the access tokens early: {exc}", datetime.now(UTC))
            return
        view.event(
            f"the sandbox ended the shops' access tokens early ({ended}); each daemon "
            "refreshes its token when BASE refuses it",
            datetime.now(UTC),
        )

    def _check_alive(self) -> None:
        """Without the sandbox or the manager the run cannot end well: say so at once
        instead of waiting for the deadline."""
        if self.sandbox.process.poll() is not None:
            raise WatchError(
                f"the sandbox stopped unexpectedly (exit {self.sandbox.process.returncode}); "
                f"see {self.paths.sandbox_output}"
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
