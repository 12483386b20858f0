"""The upload loop: one process working one account (or, for the seed's platform-wide
daemon, all of a platform's accounts in one due order).

Each step: find the most urgent due item of an account that may start now, claim it and
reserve its calls in one transaction, upload it, record the outcome. Between items it
sleeps until `limits.admit` allows the next start, or, when nothing is due, until the
next item falls due while polling cheaply so an urgent item starts within a second.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from upload_scheduler import defaults
from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.limits import (
    APPLICATION_BUDGET,
    Admit,
    LimitSettings,
    LimitState,
    admit,
    after_start,
    application_reset,
    holds,
)
from upload_scheduler.platforms.interface import (
    Account,
    Platform,
    PlatformContext,
    Product,
)
from upload_scheduler.platforms.registry import platform_factory
from upload_scheduler.platforms.token_manager import TokenManager
from upload_scheduler.queue import transitions
from upload_scheduler.queue.order import due_key
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.queue.transitions import Candidate
from upload_scheduler.store import account_state
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.file_identity import OpenedFile, change, record
from upload_scheduler.store.identity import Identity
from upload_scheduler.store.states import JobKind, QueueStatus
from upload_scheduler.worker.deleter import Deleter, delete_cost
from upload_scheduler.worker.job_runner import JobRunner, budget_pause_reason
from upload_scheduler.worker.login_watch import LoginWatch
from upload_scheduler.worker.notifying import Notifier, notifier_for
from upload_scheduler.worker.outcome import Decision, Verdict
from upload_scheduler.worker.uploader import Uploaded, Uploader, needs_lookup
from upload_scheduler.worker.wakeup import DueListener

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings, Settings

log = logging.getLogger("upload_scheduler.worker")

# What a lost or refused database connection raises (psycopg, sqlite3 "locked" included).
_CONNECTION_ERRORS = (OperationalError, InterfaceError)
WAKE_POLL_SECONDS = 0.25  # how often an idle daemon looks for newly due items
# PostgreSQL: how long one LISTEN wait lasts before the loop checks for a stop request.
LISTEN_SLICE_SECONDS = 0.5
SHORT_WAIT_SECONDS = 1.0  # waits up to this long keep the chosen item (spacing)
# A paused account's daemon looks at its pause at least this often, so a resume takes
# effect within a second (on PostgreSQL the pause's change also wakes it: migration 0007).
PAUSE_POLL_SECONDS = 0.5
PAUSED = "paused: "  # how limits.admit's reason starts for a paused account
# Housekeeping triggered by a count of items waits at least this long after the last.
HOUSEKEEPING_MIN_GAP = timedelta(seconds=1)
# A burst's successes are written at its end, or after this long, whichever is first.
SUCCESS_FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class _Job:
    """A claimed item, with what was known of it before the claim."""

    item: QueueItem
    product: Product | None
    previous_call: datetime | None  # the call marker before this claim
    cost: int  # the calls reserved for it
    lookup_only: bool = False  # its attempts are spent: only its lookup is left


def _creates(candidate: Candidate) -> bool:
    """Whether the job would create an item (an image-only retry or a delete does not)."""
    return candidate.item.platform_item_id is None


def _lookup_due(candidate: Candidate) -> bool:
    """Whether the job starts by asking the platform what an earlier call did."""
    item = candidate.item
    if item.kind == JobKind.DELETE:
        return item.call_started_at is not None
    if candidate.product is None:
        return False
    return needs_lookup(item, candidate.product, item.call_started_at)


def _lookup_only(candidate: Candidate, max_attempts: int) -> bool:
    """A job whose last attempt's answer was lost: it is claimed only to look up whether
    the platform acted, which spends no attempt (`outcome.decide`)."""
    return _lookup_due(candidate) and candidate.item.attempts >= max_attempts


class DatabaseFileChanged(RuntimeError):
    """The SQLite file this daemon opened is no longer at the configured path (deleted,
    moved, or replaced): whatever it writes from now on would be lost, so it stops."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        # Short: a notification quotes at most 300 characters, and the path comes first.
        super().__init__(
            f"the database file {path} {what}; the daemon stopped before another upload. "
            f"Restore it there (a `db backup` copy) or find what removed it, then start "
            f"the daemon again"
        )


class AlreadyRunning(RuntimeError):
    """Another live worker holds an account's lease."""

    def __init__(self, platform: str, account_id: str, holder: account_state.LeaseHolder) -> None:
        self.holder = holder
        expires = holder.expires_at.isoformat() if holder.expires_at else "unknown"
        super().__init__(
            f"a daemon for {platform}/{account_id} is already running "
            f"(PID {holder.pid} on host {holder.host}; its lease expires {expires})"
        )


@dataclass(frozen=True)
class DaemonOptions:
    """Per-run overrides of the config (the daemon command's flags)."""

    interval_seconds: float | None = None
    batch_size: int | None = None
    business_hours_start: int | None = None
    business_hours_end: int | None = None


class UploadDaemon:
    def __init__(
        self,
        settings: Settings,
        platform: str,
        account_ids: list[str] | None = None,
        *,
        options: DaemonOptions | None = None,
        engine: Engine | None = None,
        clock: Clock | None = None,
        adapter: Platform | None = None,
        notifier: Notifier | None = None,
        identity: Identity | None = None,
        standby: bool = False,
    ) -> None:
        self.settings = settings
        self.standby = standby
        self.platform_name = platform
        self.account_ids = list(account_ids or settings.account_ids(platform))
        if not self.account_ids:
            raise ValueError(f"no account is configured for platform {platform!r}")
        options = options or DaemonOptions()
        self.accounts = {
            a: _apply(settings.account(platform, a), options) for a in self.account_ids
        }
        self.limits = {a: LimitSettings.of(s) for a, s in self.accounts.items()}
        for account_id, account in self.accounts.items():
            if account.exchange_rate_unset:
                log.warning(
                    "%s lists in %s at exchange_rate 1.0 (one yen per %s): set exchange_rate "
                    "in [platforms.%s.pricing]; `config check` says more",
                    account_id,
                    account.pricing.currency,
                    account.pricing.currency,
                    platform,
                )
        first = self.accounts[self.account_ids[0]]
        self.interval_seconds = first.interval_seconds
        self.batch_size = first.batch_size
        self.lease_seconds = settings.file.cluster.lease_ttl_seconds
        if engine is None:
            from upload_scheduler.store.database import open_database

            engine = open_database(settings.database_url)
        self.engine = engine
        # The file the engine opened (SQLite): a file deleted or replaced under the daemon
        # is noticed before the next burst (`check_database_file`).
        self.database_file: OpenedFile | None = record(engine.url)
        self.clock = clock or SystemClock()
        self.identity = identity or Identity.current()
        self.adapter = adapter or platform_factory(platform)(
            PlatformContext(platform, settings, engine, self.clock)
        )
        self.notifier = notifier if notifier is not None else notifier_for(settings)
        self.uploader = Uploader(
            engine, self.adapter, self.identity.owner, self.clock, self.notifier
        )
        self.deleter = Deleter(engine, self.adapter, self.identity.owner, self.clock, self.notifier)
        self.application_accounts = _application_accounts(settings, platform)
        # A login with a known end is watched: notices before it, a pause after it.
        tokens = getattr(self.adapter, "tokens", None)
        self.login_watch = (
            LoginWatch(engine, tokens, self.account_ids, self.notifier)
            if isinstance(tokens, TokenManager)
            else None
        )
        for runner in (self.uploader, self.deleter):
            runner.application_accounts = self.application_accounts
        self.listener: DueListener | None = None
        if engine.dialect.name == "postgresql" and isinstance(self.clock, SystemClock):
            self.listener = DueListener(engine, platform, self.account_ids)
        self.stop_event = threading.Event()
        self.lease_lost = threading.Event()
        self.restart_not_before: dict[str, datetime] = {}
        self.last_call: dict[str, datetime] = {}
        self.next_housekeeping = self.clock.now()
        self.last_housekeeping = self.next_housekeeping
        self.since_housekeeping = 0
        self.uploaded = 0
        self.pause_logged: dict[str, str] = {}  # the pause each account last logged
        self.pause_poll_seconds = PAUSE_POLL_SECONDS

    # ------------------------------------------------------------------ life cycle

    def start(self) -> bool:
        """Take every account's lease and recover what a previous worker left in flight.

        A held lease raises AlreadyRunning, or, in standby, is waited for: the holder on
        another host may die, and its lease then expires. False if stopped meanwhile."""
        announced: str | None = None
        while True:
            try:
                self._take_leases()
                break
            except AlreadyRunning as exc:
                if not self.standby:
                    raise
                if announced != exc.holder.owner:
                    announced = exc.holder.owner
                    log.info("standby: %s; taking over when that lease ends", exc)
                poll = min(defaults.STANDBY_POLL_SECONDS, self.lease_seconds / 4)
                if self.clock.wait(poll, self.stop_event):
                    return False
        self.recover()
        return True

    def _take_leases(self) -> None:
        """All of this daemon's leases in one transaction: a held one rolls back all."""
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            for account_id in self.account_ids:
                holder = account_state.acquire_lease(
                    conn, self.platform_name, account_id, self.identity, now, self.lease_seconds
                )
                if holder is not None:
                    raise AlreadyRunning(self.platform_name, account_id, holder)
        for account_id, limits in self.limits.items():
            # The last start may not have been recorded before a crash: wait one interval.
            self.restart_not_before[account_id] = now + timedelta(
                seconds=limits.min_interval_seconds
            )
        log.info(
            "daemon started for %s/%s (owner %s)",
            self.platform_name,
            ",".join(self.account_ids),
            self.identity.owner,
        )

    def stop(self) -> None:
        """Ask for a warm stop: the current item finishes, then the loop exits."""
        self.stop_event.set()

    def shutdown(self) -> None:
        try:
            with write_transaction(self.engine) as conn:
                for account_id in self.account_ids:
                    account_state.release_lease(conn, self.platform_name, account_id, self.identity)
        except _CONNECTION_ERRORS:
            log.warning("could not release the leases (database unavailable); they expire")
        self.adapter.close()
        self.notifier.close()
        if self.listener is not None:
            self.listener.close()
        log.info("daemon stopped after %d upload(s)", self.uploaded)

    def run(self) -> None:
        """Work until `stop()`; leases are renewed by a heartbeat thread meanwhile.

        A lost database connection (a PostgreSQL restart, a network cut) is waited out
        with backoff; afterwards our own in-flight item goes back to the queue with its
        call marker, so whether it reached the platform is looked up, not guessed."""
        if not self.start():
            return
        heartbeat = threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)
        heartbeat.start()
        delay = 0.0
        try:
            while not self.stop_event.is_set() and not self.lease_lost.is_set():
                try:
                    if delay:
                        self.check_database_file()
                        self._recover_own()
                        log.info("database reachable again")
                        delay = 0.0
                    self.step()
                except _CONNECTION_ERRORS as exc:
                    delay = min(
                        max(delay * 2, defaults.DB_RETRY_MIN_SECONDS),
                        defaults.DB_RETRY_MAX_SECONDS,
                    )
                    log.warning(
                        "database unavailable (%s); retrying in %.1f s",
                        type(exc.orig).__name__ if exc.orig else type(exc).__name__,
                        delay,
                    )
                    self.clock.wait(delay, self.stop_event)
        finally:
            self.stop_event.set()
            heartbeat.join(timeout=5)
            self.shutdown()

    # ------------------------------------------------------------------ one step

    def step(self) -> bool:
        """Upload one burst of items (one item, unless the limits allow several starts
        at the same moment), or wait; True if an item was processed.

        Raises DatabaseFileChanged when the database file is not the one opened."""
        self.check_database_file()
        now = self.clock.now()
        # Housekeeping every check interval, and after every batch_size items (the seed's
        # batch) but at most once a second: leases and stale items never wait behind a
        # long run of uploads, and fast bursts do not pay for it on every cycle.
        if now >= self.next_housekeeping or (
            self.since_housekeeping >= self.batch_size
            and now >= self.last_housekeeping + HOUSEKEEPING_MIN_GAP
        ):
            self._housekeeping(now)
        choice = self._choose(now)
        if choice is None:
            self._idle(now)
            return False
        burst, decision = choice
        account_id = burst[0].item.account_id
        if decision.reason.startswith(PAUSED):
            self._wait_paused(account_id, decision)
            return False
        self.pause_logged.pop(account_id, None)
        if decision.ok:
            return self._run_burst(burst, now)
        if self._application_held(burst[0], now):
            self._pause_application(account_id)
            return False
        if (decision.not_before - now).total_seconds() > SHORT_WAIT_SECONDS:
            self._wait_until(decision.not_before, decision.reason)
            return False
        # A short wait (spacing): sleep to the exact slot and start there, so the cadence
        # is the interval itself and not the interval plus this loop's own overhead.
        if self.clock.wait(
            (decision.not_before - self.clock.now()).total_seconds(), self.stop_event
        ):
            return False
        self.check_database_file()
        return self._run_burst(burst, decision.not_before)

    def _choose(self, now: datetime) -> tuple[list[Candidate], Admit] | None:
        """The due items of the first account (in the one due order) whose first item may
        start now; else those of the account that may start soonest, with why it must
        wait. Only an account's first item decides: its limits hold back all alike."""
        with self.engine.connect() as conn:
            per_account = [
                due
                for account_id in self.account_ids
                if (
                    due := transitions.due_candidates(
                        conn, self.platform_name, account_id, now, self._burst_limit(account_id)
                    )
                )
            ]
            if not per_account:
                return None
            per_account.sort(key=lambda due: due_key(due[0].item))
            best: tuple[list[Candidate], Admit] | None = None
            for due in per_account:
                first = due[0]
                state = self._state(conn, first.item.account_id, now)
                decision = admit(state, now, self._cost(first), creates=_creates(first))
                if decision.ok:
                    return due, decision
                if best is None or decision.not_before < best[1].not_before:
                    best = (due, decision)
            return best

    def _burst_limit(self, account_id: str) -> int:
        """How many due items to read at once: with spacing, only one can start at a
        time; without, up to the account's batch_size may start together."""
        if self.limits[account_id].min_interval_seconds > 0:
            return 1
        return max(1, self.accounts[account_id].batch_size)

    def _state(
        self, conn: Connection, account_id: str, now: datetime, *, lock: bool = False
    ) -> LimitState:
        return account_state.load_state(
            conn,
            self.platform_name,
            account_id,
            self.limits[account_id],
            now,
            self.restart_not_before.get(account_id),
            lock=lock,
        )

    def _cost(self, candidate: Candidate) -> int:
        item, product = candidate.item, candidate.product
        if item.kind == JobKind.DELETE:
            return delete_cost(item)
        if product is None:
            return 1
        cost = self.adapter.calls_for(product, item.images_done)
        if _lookup_due(candidate):
            cost += 1  # the identifier lookup before anything is sent again
        return max(cost, 1)

    def _run_burst(self, due: list[Candidate], slot: datetime) -> bool:
        """Claim what of `due` the limits admit at `slot` (the start they granted, and
        what is recorded, so spacing is measured slot to slot) and work it."""
        account_id = due[0].item.account_id
        jobs = self._claim(due, slot)
        if jobs is None:
            return False  # cancelled or taken meanwhile, or the limits changed: look again
        self.restart_not_before.pop(account_id, None)
        if jobs:
            self._work(jobs)
        return True

    def _claim(self, due: list[Candidate], now: datetime) -> list[_Job] | None:
        """In one write transaction: the account's state (locked), the longest prefix of
        `due` its limits admit at `now`, their claim, and their calls reserved."""
        account_id = due[0].item.account_id
        with write_transaction(self.engine) as conn:
            locked = state = self._state(conn, account_id, now, lock=True)
            admitted: list[tuple[Candidate, int]] = []
            for candidate in due:
                cost, creates = self._cost(candidate), _creates(candidate)
                if not admit(state, now, cost, creates=creates).ok:
                    break
                admitted.append((candidate, cost))
                state = after_start(state, now, cost, creates=creates)
            if not admitted:
                return None
            lease_until = now + timedelta(seconds=self.lease_seconds)
            claimed = transitions.claim(
                conn, [c for c, _ in admitted], self.identity.owner, lease_until, now
            )
            if not claimed:
                return None
            max_attempts = self.accounts[account_id].max_attempts
            lookups = [c.item.id for c, _ in admitted if _lookup_only(c, max_attempts)]
            if lookups:
                claimed.update(transitions.uncount_attempts(conn, claimed, lookups))
            jobs: list[_Job] = []
            for candidate, cost in admitted:
                item = claimed.get(candidate.item.id)
                if item is None:
                    continue
                if candidate.product is None and item.kind == JobKind.UPLOAD:
                    transitions.settle(
                        conn,
                        item,
                        self.identity.owner,
                        now,
                        status=QueueStatus.FAILED,
                        message="product not found in the master DB",
                    )
                    log.error("upload failed: ASIN %s is not in the master DB", item.asin)
                    continue
                previous = candidate.item.call_started_at
                jobs.append(_Job(item, candidate.product, previous, cost, item.id in lookups))
            if jobs:
                account_state.record_start(
                    conn,
                    self.platform_name,
                    account_id,
                    locked,
                    now,
                    sum(job.cost for job in jobs),
                )
        return jobs

    def _work(self, jobs: list[_Job]) -> None:
        """Run a claimed burst in due order. Successes are written together (at the end,
        or every SUCCESS_FLUSH_SECONDS); a failure is written when it happens. After a
        pause, or when asked to stop, the unstarted rest goes back to the queue."""
        account_id = jobs[0].item.account_id
        account = self.accounts[account_id]
        limits = self.limits[account_id]
        # A due token refresh happens now, not between the spacing guard and the call.
        try:
            self.adapter.prepare(Account(account.platform, account.account_id, account))
        except Exception:  # the upload itself will meet and classify the problem
            log.debug("prepare failed for %s", account.account_id, exc_info=True)

        def pace() -> None:
            self._keep_spacing(account_id, limits)

        done: list[Uploaded] = []
        paused = False
        flush_at = self.clock.now() + timedelta(seconds=SUCCESS_FLUSH_SECONDS)
        try:
            for index, job in enumerate(jobs):
                if index and (self.stop_event.is_set() or paused):
                    self._give_back(jobs[index:], account, limits)
                    break
                if index:
                    self.check_database_file()  # no further call into a lost database
                if job.item.kind == JobKind.DELETE:
                    result: Uploaded | Decision = self.deleter.process(
                        job.item,
                        account,
                        limits,
                        job.previous_call,
                        job.cost,
                        pace=pace,
                        lookup_only=job.lookup_only,
                    )
                else:
                    assert job.product is not None
                    result = self.uploader.upload(
                        job.item,
                        job.product,
                        account,
                        limits,
                        job.previous_call,
                        job.cost,
                        pace,
                        lookup_only=job.lookup_only,
                    )
                self.since_housekeeping += 1
                if isinstance(result, Uploaded):
                    done.append(result)
                    self.uploaded += 1
                paused = isinstance(result, Decision) and result.verdict == Verdict.PAUSED
                if isinstance(result, Decision) and result.hold_account_until is not None:
                    # Refused for rate: back off with the whole account, not just the item.
                    held = self.restart_not_before.get(account_id, result.hold_account_until)
                    self.restart_not_before[account_id] = max(held, result.hold_account_until)
                    paused = True
                if done and self.clock.now() >= flush_at:
                    self.uploader.record_uploads(done, account, limits)
                    done = []
                    flush_at = self.clock.now() + timedelta(seconds=SUCCESS_FLUSH_SECONDS)
        finally:
            self.uploader.record_uploads(done, account, limits)

    def _give_back(self, jobs: list[_Job], account: AccountSettings, limits: LimitSettings) -> None:
        """Return claimed items that were never started, with their attempts and the
        calls reserved for them."""
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            for job in jobs:
                transitions.give_back(conn, job.item, self.identity.owner, job.previous_call, now)
            JobRunner.settle_calls(conn, account, limits, now, 0, sum(j.cost for j in jobs))
        log.info(
            "%d claimed item(s) of %s returned to the queue unstarted",
            len(jobs),
            account.account_id,
        )

    def check_database_file(self) -> None:
        """Stop (log, notify, raise DatabaseFileChanged) if the SQLite file at the
        configured path is gone or is not the one this daemon opened: its connections
        would go on writing into a file nobody can read any more. One `os.stat`."""
        if self.database_file is None:
            return  # PostgreSQL or memory: no file to lose
        what = change(self.database_file)
        if what is None:
            return
        error = DatabaseFileChanged(self.database_file.path, what)
        log.error("%s", error)
        # A plain string: importing notify.events would load the notify package.
        self.notifier.notify(
            "database_lost", f"{self.platform_name}/{','.join(self.account_ids)}", str(error)
        )
        self.stop_event.set()
        raise error

    # ------------------------------------------------------------------ waiting

    def _keep_spacing(self, account_id: str, limits: LimitSettings) -> None:
        """The slots are spaced, but the time from a slot to its creation request varies
        (database, token); the adapter calls this right before sending the request, so
        the requests themselves are spaced too."""
        last = self.last_call.get(account_id)
        if last is not None:
            earliest = last + timedelta(seconds=limits.min_interval_seconds)
            self.clock.wait((earliest - self.clock.now()).total_seconds())
        self.last_call[account_id] = self.clock.now()

    def _idle(self, now: datetime) -> None:
        with self.engine.connect() as conn:
            upcoming = transitions.next_scheduled_time(conn, self.platform_name, self.account_ids)
        deadline = now + timedelta(seconds=self.interval_seconds)
        if upcoming is not None:
            deadline = min(deadline, max(upcoming, now))
        while not self.stop_event.is_set():
            remaining = (deadline - self.clock.now()).total_seconds()
            if remaining <= 0:
                return
            notified = False
            if self.listener is not None:
                notified = self.listener.wait(min(remaining, LISTEN_SLICE_SECONDS))
            if self.listener is not None and self.listener.listening:
                if not notified:
                    continue  # a quiet slice: look at stop and the deadline again
            elif self.clock.wait(min(remaining, WAKE_POLL_SECONDS), self.stop_event):
                return  # no notifications here (SQLite, or the listener is down): poll
            with self.engine.connect() as conn:
                upcoming = transitions.next_scheduled_time(
                    conn, self.platform_name, self.account_ids
                )
            if upcoming is not None and upcoming <= self.clock.now():
                return  # something fell due, or an urgent item arrived

    def _wait_paused(self, account_id: str, decision: Admit) -> None:
        """Say once why the account waits (again only when the reason changes), then
        wait a short slice: a resume, or a pause's end, is seen within a second."""
        reason = decision.reason.removeprefix(PAUSED)
        if self.pause_logged.get(account_id) != reason:
            self.pause_logged[account_id] = reason
            until = (
                "resumed"
                if decision.forever
                else decision.not_before.astimezone(self.limits[account_id].zone).isoformat()
            )
            log.info("%s paused until %s (%s)", account_id, until, reason)
        deadline = min(
            decision.not_before, self.clock.now() + timedelta(seconds=self.interval_seconds)
        )
        seen = self._pause_of(account_id)
        while not self.stop_event.is_set():
            remaining = (deadline - self.clock.now()).total_seconds()
            if remaining <= 0:
                return
            slice_seconds = min(remaining, self.pause_poll_seconds)
            if self.listener is not None and self.listener.wait(slice_seconds):
                return  # told of a change (PostgreSQL)
            if self.listener is None or not self.listener.listening:
                self.clock.wait(slice_seconds, self.stop_event)
            if self._pause_of(account_id) != seen:
                return

    def _application_held(self, candidate: Candidate, now: datetime) -> bool:
        """Whether the application's day budget holds the account's next item back now,
        whatever holds it first: `admit` names only the first limit (spacing, a closed
        window), and behind it the spent budget would only be seen a check interval
        later, after a wait logged under the other limit's name."""
        account_id = candidate.item.account_id
        if self.limits[account_id].application is None:
            return False
        with self.engine.connect() as conn:
            state = self._state(conn, account_id, now)
        cost, creates = self._cost(candidate), _creates(candidate)
        return any(h.code == APPLICATION_BUDGET for h in holds(state, now, cost, creates=creates))

    def _pause_application(self, account_id: str) -> None:
        """The application's day budget is spent by our own count: pause every account
        on it until the reset, so `account list` and `manager status` say why all of
        them wait, and the daemons of the others (on any host) wait without asking.

        Until the reset itself (midnight in the application's zone), not until this
        account may next start: that may be later (its business hours, its own limits),
        and the other accounts' hours and limits are their own."""
        limits = self.limits[account_id]
        assert limits.application is not None
        now = self.clock.now()
        reset = application_reset(limits, now)
        sharing = [*self.application_accounts.get(limits.application, []), account_id]
        reason = budget_pause_reason(limits, reset)
        with write_transaction(self.engine) as conn:
            paused = account_state.pause_unless_stronger(
                conn, self.platform_name, sharing, reset, reason, now
            )
        if paused:
            log.warning("%s: %s", ",".join(paused), reason)
            self.notifier.notify(
                "account_paused", f"{self.platform_name}/{','.join(paused)}", reason
            )

    def _pause_of(self, account_id: str) -> tuple[str | None, datetime | None]:
        with self.engine.connect() as conn:
            return account_state.read_pause(conn, self.platform_name, account_id)

    def _wait_until(self, moment: datetime, reason: str) -> None:
        seconds = (moment - self.clock.now()).total_seconds()
        if seconds > 5:
            log.info("waiting %.0f s (%s)", seconds, reason)
        # Long waits (a closed window, a pause) are cut at the check interval so that a
        # resumed account or a housekeeping pass is not delayed by them.
        self.clock.wait(min(seconds, self.interval_seconds), self.stop_event)

    # ------------------------------------------------------------------ housekeeping

    def _housekeeping(self, now: datetime) -> None:
        self.next_housekeeping = now + timedelta(seconds=self.interval_seconds)
        self.last_housekeeping = now
        self.since_housekeeping = 0
        with write_transaction(self.engine) as conn:
            for account_id in self.account_ids:
                account_state.expired_pause(conn, self.platform_name, account_id, now)
            self._recover_in(conn, now)
        if self.login_watch is not None:
            self.login_watch.check(now)

    def recover(self) -> int:
        """Return items another (dead) worker left `uploading` to the queue. Their
        call marker stays, so the next attempt looks the item up before creating it."""
        with write_transaction(self.engine) as conn:
            return self._recover_in(conn, self.clock.now())

    def _recover_in(self, conn: Connection, now: datetime) -> int:
        stale = transitions.stale_items(
            conn, self.platform_name, self.account_ids, self.identity.owner, now
        )
        for item in stale:
            # A killed worker is not the item's fault: its attempt is given back.
            transitions.release(conn, item, now)
            log.warning(
                "recovered ASIN %s left uploading by %s; it will be checked on the "
                "platform before any new creation",
                item.asin,
                item.lease_owner,
            )
        return len(stale)

    def _recover_own(self) -> None:
        """After a lost connection: an item of ours left `uploading` may or may not have
        reached the platform. It goes back to the queue with its call marker (looked up
        before any creation), and the next start waits one interval, as after a crash."""
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            mine = transitions.own_items(
                conn, self.platform_name, self.account_ids, self.identity.owner
            )
            for item in mine:
                # The lost connection is not the item's fault: its attempt is given back.
                transitions.release(conn, item, now)
                log.warning("ASIN %s was in flight when the database went away", item.asin)
        for account_id, limits in self.limits.items():
            self.restart_not_before[account_id] = now + timedelta(
                seconds=limits.min_interval_seconds
            )

    def _heartbeat(self) -> None:
        period = max(0.5, self.lease_seconds / 3)
        while not self.stop_event.wait(period):
            try:
                self.renew_leases()
            except Exception:  # a database hiccup: try again next period
                log.exception("lease renewal failed")

    def renew_leases(self) -> None:
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            for account_id in self.account_ids:
                if not account_state.renew_lease(
                    conn, self.platform_name, account_id, self.identity, now, self.lease_seconds
                ):
                    log.error("lost the lease of %s/%s; stopping", self.platform_name, account_id)
                    self.lease_lost.set()
                    self.stop_event.set()
            transitions.renew_item_leases(
                conn,
                self.identity.owner,
                now + timedelta(seconds=self.lease_seconds),
                self.platform_name,
                self.account_ids,
            )


def _application_accounts(settings: Settings, platform: str) -> dict[str, list[str]]:
    """The platform's accounts by the application whose day budget they share (from the
    whole configuration: the accounts of other daemons too)."""
    shared: dict[str, list[str]] = {}
    for account_id in settings.account_ids(platform):
        application = settings.account(platform, account_id).application
        if application is not None:
            shared.setdefault(application, []).append(account_id)
    return shared


def _apply(account: AccountSettings, options: DaemonOptions) -> AccountSettings:
    changes = {k: v for k, v in options.__dict__.items() if v is not None}
    return replace(account, **changes) if changes else account
