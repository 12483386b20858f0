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
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from upload_scheduler import defaults
from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.limits import Admit, LimitSettings, admit
from upload_scheduler.platforms.interface import Account, Platform, PlatformContext, Product
from upload_scheduler.platforms.registry import platform_factory
from upload_scheduler.queue import worker_ops
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.worker import account_state
from upload_scheduler.worker.deleter import Deleter, delete_cost
from upload_scheduler.worker.identity import Identity
from upload_scheduler.worker.notifying import Notifier
from upload_scheduler.worker.uploader import Uploader, load_product
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


def limit_settings(account: AccountSettings) -> LimitSettings:
    return LimitSettings(
        min_interval_seconds=account.min_interval_seconds,
        hour_call_limit=account.hour_call_limit,
        day_call_limit=account.day_call_limit,
        daily_limit=account.daily_limit,
        business_hours_start=account.business_hours_start,
        business_hours_end=account.business_hours_end,
        timezone=account.timezone,
    )


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
        self.limits = {a: limit_settings(s) for a, s in self.accounts.items()}
        first = self.accounts[self.account_ids[0]]
        self.interval_seconds = first.interval_seconds
        self.batch_size = first.batch_size
        self.lease_seconds = settings.file.cluster.lease_ttl_seconds
        if engine is None:
            from upload_scheduler.store.database import open_database

            engine = open_database(settings.database_url)
        self.engine = engine
        self.clock = clock or SystemClock()
        self.identity = identity or Identity.current()
        self.adapter = adapter or platform_factory(platform)(
            PlatformContext(platform, settings, engine, self.clock)
        )
        if notifier is None:
            from upload_scheduler.notify import Notifier

            notifier = Notifier.from_settings(settings)
        self.notifier = notifier
        self.uploader = Uploader(engine, self.adapter, self.identity.owner, self.clock, notifier)
        self.deleter = Deleter(engine, self.adapter, self.identity.owner, self.clock, notifier)
        self.listener: DueListener | None = None
        if engine.dialect.name == "postgresql" and isinstance(self.clock, SystemClock):
            self.listener = DueListener(engine, platform, self.account_ids)
        self.stop_event = threading.Event()
        self.lease_lost = threading.Event()
        self.restart_not_before: dict[str, datetime] = {}
        self.last_call: dict[str, datetime] = {}
        self._product_cache: tuple[str, Product | None] | None = None
        self.next_housekeeping = self.clock.now()
        self.since_housekeeping = 0
        self.uploaded = 0

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
        for resource in (self.adapter, self.notifier, self.listener):
            close = getattr(resource, "close", None)
            if close is not None:
                close()
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
        """Upload at most one item, or wait; True if an item was processed."""
        now = self.clock.now()
        # Housekeeping every check interval, and after every batch_size items (the seed's
        # batch): leases and stale items never wait behind a long run of uploads.
        if now >= self.next_housekeeping or self.since_housekeeping >= self.batch_size:
            self._housekeeping(now)
        choice = self._choose(now)
        if choice is None:
            self._idle(now)
            return False
        item, decision = choice
        if decision.ok:
            return self._run_item(item, now)
        if (decision.not_before - now).total_seconds() > SHORT_WAIT_SECONDS:
            self._wait_until(decision.not_before, decision.reason)
            return False
        # A short wait (spacing): sleep to the exact slot and start there, so the cadence
        # is the interval itself and not the interval plus this loop's own overhead.
        if self.clock.wait(
            (decision.not_before - self.clock.now()).total_seconds(), self.stop_event
        ):
            return False
        return self._run_item(item, decision.not_before)

    def _choose(self, now: datetime) -> tuple[QueueItem, Admit] | None:
        """The first due item whose account may start now; else the one that may start
        soonest, with why it must wait."""
        with self.engine.connect() as conn:
            candidates = self._due_items(conn, now)
            if not candidates:
                return None
            best: tuple[QueueItem, Admit] | None = None
            for item in candidates:
                decision = self._admit(conn, item, now)
                if decision.ok:
                    return item, decision
                if best is None or decision.not_before < best[1].not_before:
                    best = (item, decision)
            return best

    def _due_items(self, conn: Connection, now: datetime) -> list[QueueItem]:
        if len(self.account_ids) == 1:
            item = worker_ops.next_due(conn, self.platform_name, self.account_ids, now)
            return [item] if item else []
        # One due order across accounts (the seed's platform daemon): only each account's
        # first item matters, since an account's limits hold back all of its items alike.
        items: list[QueueItem] = []
        for account_id in self.account_ids:
            item = worker_ops.next_due(conn, self.platform_name, [account_id], now)
            if item is not None:
                items.append(item)
        items.sort(key=lambda i: (-i.priority, i.scheduled_time, i.id))
        return items

    def _admit(self, conn: Connection, item: QueueItem, now: datetime) -> Admit:
        product = self._product(item.asin)
        cost = self._cost(item, product)
        state = account_state.load_state(
            conn,
            self.platform_name,
            item.account_id,
            self.limits[item.account_id],
            now,
            self.restart_not_before.get(item.account_id),
        )
        return admit(state, now, cost, creates=item.platform_item_id is None)

    def _product(self, asin: str) -> Product | None:
        """The product of the item being considered; kept from the admission check to
        the upload, which follow each other within one step."""
        if self._product_cache is None or self._product_cache[0] != asin:
            self._product_cache = (asin, load_product(self.engine, asin))
        return self._product_cache[1]

    def _cost(self, item: QueueItem, product: Product | None) -> int:
        if item.kind == "delete":
            return delete_cost(item)
        if product is None:
            return 1
        cost = self.adapter.calls_for(product, item.images_done)
        if item.call_started_at is not None and item.platform_item_id is None:
            cost += 1  # the identifier lookup before creating again
        return max(cost, 1)

    def _run_item(self, peeked: QueueItem, slot: datetime) -> bool:
        """Claim `peeked` and upload it. `slot` is the start the limits granted; it is
        what is recorded as the start, so spacing is measured slot to slot."""
        account = self.accounts[peeked.account_id]
        limits = self.limits[peeked.account_id]
        product = self._product(peeked.asin)
        cost = self._cost(peeked, product)
        now = slot
        with write_transaction(self.engine) as conn:
            state = account_state.load_state(
                conn,
                self.platform_name,
                peeked.account_id,
                limits,
                now,
                self.restart_not_before.get(peeked.account_id),
                lock=True,
            )
            if not admit(state, now, cost, creates=peeked.platform_item_id is None).ok:
                return False  # another step will wait for it
            lease_until = now + timedelta(seconds=self.lease_seconds)
            item = worker_ops.claim_one(conn, peeked.id, self.identity.owner, lease_until, now)
            if item is None:
                return False  # cancelled or taken meanwhile
            if product is None and item.kind == "upload":
                worker_ops.mark_failed(
                    conn, item, self.identity.owner, "product not found in the master DB", now
                )
                log.error("upload failed: ASIN %s is not in the master DB", item.asin)
                return True
            account_state.record_calls(
                conn, self.platform_name, item.account_id, limits, now, cost, started_item=True
            )
        self.restart_not_before.pop(peeked.account_id, None)
        # A due token refresh happens now, not between the spacing guard and the call.
        prepare = getattr(self.adapter, "prepare", None)
        if prepare is not None:
            try:
                prepare(Account(account.platform, account.account_id, account))
            except Exception:  # the upload itself will meet and classify the problem
                log.debug("prepare failed for %s", account.account_id, exc_info=True)
        self._product_cache = None  # a re-imported product must be read afresh next time
        if item.kind == "delete":
            self.deleter.process(
                item,
                account,
                limits,
                peeked.call_started_at,
                cost,
                pace=lambda: self._keep_spacing(peeked.account_id, limits),
            )
            self.since_housekeeping += 1
            return True
        assert product is not None
        outcome = self.uploader.process(
            item,
            product,
            account,
            limits,
            peeked.call_started_at,
            cost,
            pace=lambda: self._keep_spacing(peeked.account_id, limits),
        )
        if outcome.status == "success":
            self.uploaded += 1
        self.since_housekeeping += 1
        return True

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
            upcoming = worker_ops.next_scheduled_time(conn, self.platform_name, self.account_ids)
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
                upcoming = worker_ops.next_scheduled_time(
                    conn, self.platform_name, self.account_ids
                )
            if upcoming is not None and upcoming <= self.clock.now():
                return  # something fell due, or an urgent item arrived

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
        self.since_housekeeping = 0
        with write_transaction(self.engine) as conn:
            for account_id in self.account_ids:
                account_state.expired_pause(conn, self.platform_name, account_id, now)
        self.recover()

    def recover(self) -> int:
        """Return items another (dead) worker left `uploading` to the queue. Their
        call marker stays, so the next attempt looks the item up before creating it."""
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            stale = worker_ops.stale_items(
                conn, self.platform_name, self.account_ids, self.identity.owner, now
            )
            for item in stale:
                worker_ops.release(conn, item, None, now, retry_at=min(item.scheduled_time, now))
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
            mine = worker_ops.own_items(
                conn, self.platform_name, self.account_ids, self.identity.owner
            )
            for item in mine:
                # The lost connection is not the item's fault: its attempt is given back.
                worker_ops.release(
                    conn,
                    item,
                    None,
                    now,
                    retry_at=min(item.scheduled_time, now),
                    refund_attempt=True,
                )
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
            worker_ops.renew_item_leases(
                conn,
                self.identity.owner,
                now + timedelta(seconds=self.lease_seconds),
                self.platform_name,
                self.account_ids,
            )


def _apply(account: AccountSettings, options: DaemonOptions) -> AccountSettings:
    changes = {k: v for k, v in options.__dict__.items() if v is not None}
    return replace(account, **changes) if changes else account
