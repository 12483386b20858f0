"""The per-account figures that the dashboard's overview and `/metrics` both show: one
reading of each fact, so the page and the scraped series never disagree.

Read in a few queries over all accounts, whatever the size of the queue (a page view
and a scrape both stay within 0.3 s on a 1,000,000-row queue): the queue is counted by
GROUP BYs that the claim index covers (index entries only, never a query per row), the
uploads come from `upload_counts` (kept by the trigger of migration 0011, so a purge
does not lower them), and each account's limits state is one keyed read, as the daemon
reads it (`account_state.load_state`), through the pieces `account list` uses
(`operations.accounts`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, case, func, select

from upload_scheduler.config import Settings
from upload_scheduler.hours import local_hour
from upload_scheduler.limits import (
    LimitState,
    admit,
    application_reset,
    hour_of,
    local_day,
    next_local_midnight,
)
from upload_scheduler.operations.accounts import (
    TokenState,
    Usage,
    limits_state,
    queue_counts,
    queue_of,
    token_states,
    usage_of,
)
from upload_scheduler.operations.pauses import Pause, pause_of
from upload_scheduler.platforms.token_health import LOGIN_REQUIRED, days_left
from upload_scheduler.store import account_state
from upload_scheduler.store.states import QueueStatus
from upload_scheduler.store.tables import upload_counts, upload_queue

Key = tuple[str, str]  # (platform, account_id)

RESULTS = (QueueStatus.SUCCESS.value, QueueStatus.FAILED.value)
# A login that ends within this is shown as needing attention (Yahoo!'s own warning).
LOGIN_ENDING_WITHIN = timedelta(days=3)
# The attention strip, most urgent first: what stops an account's work before what
# only slows it.
ATTENTION_KINDS = (
    "login_required",
    "crash_loop",
    "failed_items",
    "login_ending",
    "budget_spent",
    "daily_quota_full",
)


@dataclass(frozen=True)
class Budget:
    """One limit and what is spent of it. `application` is the client id of a budget
    shared by every account on one application (eBay, Yahoo!): for grouping accounts on
    a page only, never a metric label (it names the operator's OAuth client)."""

    used: int
    limit: int
    scope: str  # "account" or "application"
    application: str | None = None
    resets_at: datetime | None = None  # when the window ends and `used` starts again at 0

    @property
    def spent(self) -> bool:
        return self.used >= self.limit


@dataclass
class AccountFigures:
    platform: str
    account_id: str
    zone: ZoneInfo
    queue: dict[str, int]  # every queue status (zero-filled) and "total"
    due: int  # pending and scheduled_time <= now
    oldest_due_at: datetime | None
    today_success: int  # uploads ended since the account's local midnight
    today_failed: int
    uploads_total: dict[str, int]  # {"success": n, "failed": n}, all time
    hour_calls: Budget
    day_calls: Budget
    creations: Budget
    pause: Pause | None
    daemon_host: str | None  # of the live lease; None: no daemon works the account
    daemon_pid: int | None
    login_ends_at: datetime | None
    login_required: bool
    token_status: str | None  # ok | warning | login_required; None: no tokens here
    next_slot: datetime | None

    @property
    def remaining_quota(self) -> int:
        return max(0, self.creations.limit - self.creations.used)

    @property
    def daemon_up(self) -> bool:
        return self.daemon_host is not None


def collect_figures(
    settings: Settings,
    engine: Engine,
    now: datetime,
    platform: str | None = None,
    account_id: str | None = None,
) -> list[AccountFigures]:
    """One entry per configured account (settings.all_accounts()), in config order;
    `platform` and `account_id` narrow it to those."""
    accounts = [
        (p, a)
        for p, a in settings.all_accounts()
        if platform in (None, p) and account_id in (None, a)
    ]
    if not accounts:
        return []
    with engine.connect() as conn:
        queue = queue_counts(conn, platform, account_id)
        pending = _pending(conn, now, accounts)
        records = {
            (r.platform, r.account_id): r for r in account_state.read_accounts(conn, platform)
        }
        states = {key: limits_state(conn, settings, *key, now) for key in accounts}
        starts = {key: _day_start_hour(now, state.settings.zone) for key, state in states.items()}
        totals, today = _uploads(conn, starts, now)
    tokens = token_states(engine, accounts, now)
    figures = []
    for key in accounts:
        state, record = states[key], records.get(key)
        earliest, due = pending.get(key, (None, 0))
        lease = record.live_lease(now) if record is not None else None
        hour_calls, day_calls, creations = _budgets(state, now)
        login_ends_at, login_required, token_status = _login(tokens.get(key))
        figures.append(
            AccountFigures(
                platform=key[0],
                account_id=key[1],
                zone=state.settings.zone,
                queue=queue_of(queue, key),
                due=due,
                oldest_due_at=earliest if due else None,
                today_success=today.get((*key, QueueStatus.SUCCESS.value), 0),
                today_failed=today.get((*key, QueueStatus.FAILED.value), 0),
                uploads_total={r: totals.get((*key, r), 0) for r in RESULTS},
                hour_calls=hour_calls,
                day_calls=day_calls,
                creations=creations,
                pause=pause_of(record, now),
                daemon_host=lease.host if lease is not None else None,
                daemon_pid=lease.pid if lease is not None else None,
                login_ends_at=login_ends_at,
                login_required=login_required,
                token_status=token_status,
                next_slot=_next_slot(state, earliest, now),
            )
        )
    return figures


def _pending(
    conn: Connection, now: datetime, accounts: list[Key]
) -> dict[Key, tuple[datetime, int]]:
    """Per account: the earliest pending scheduled_time and how many pending items are
    due at `now` (the earliest is also the oldest due one when any is due). The accounts
    are named so the claim index is searched for each one's pending entries only,
    instead of scanning every finished row."""
    q = upload_queue.c
    query = (
        select(
            q.platform,
            q.account_id,
            func.min(q.scheduled_time),
            func.count(case((q.scheduled_time <= now, 1))),
        )
        .where(q.status == QueueStatus.PENDING.value, *_of_accounts(q, accounts))
        .group_by(q.platform, q.account_id)
    )
    return {(p, a): (earliest, int(due)) for p, a, earliest, due in conn.execute(query)}


def _of_accounts(columns: Any, accounts: list[Key]) -> tuple[ColumnElement[bool], ...]:
    """Conditions on (platform, account_id) that an index led by both can search: every
    pair of the accounts' platforms and ids (a pair not configured is dropped later)."""
    return (
        columns.platform.in_(sorted({p for p, _ in accounts})),
        columns.account_id.in_(sorted({a for _, a in accounts})),
    )


def _hour_key(moment: datetime) -> str:
    """`upload_counts.hour` of a moment: its UTC clock hour, 'YYYY-MM-DD HH'."""
    return hour_of(moment).strftime("%Y-%m-%d %H")


def _day_start_hour(now: datetime, zone: ZoneInfo) -> str:
    """The first `upload_counts` hour of the account's local day: its local midnight in
    UTC, floored to the hour (a zone off UTC by a half hour counts that half hour in)."""
    return _hour_key(local_hour(local_day(now, zone), 0, zone))


def _uploads(
    conn: Connection, starts: dict[Key, str], now: datetime
) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]]:
    """All-time and today's uploads per (platform, account, result) from `upload_counts`:
    the totals in one GROUP BY, today's as the few hours since the earliest local
    midnight of the accounts (searched by the primary key), each account counting from
    its own midnight."""
    c = upload_counts.c
    accounts = list(starts)
    totals = {
        (p, a, r): int(n)
        for p, a, r, n in conn.execute(
            select(c.platform, c.account_id, c.result, func.sum(c.count))
            .where(*_of_accounts(c, accounts))
            .group_by(c.platform, c.account_id, c.result)
        )
    }
    last = _hour_key(now)
    recent = select(c.platform, c.account_id, c.result, c.hour, c.count).where(
        *_of_accounts(c, accounts),
        c.result.in_(RESULTS),
        c.hour >= min(starts.values()),
        c.hour <= last,
    )
    today: dict[tuple[str, str, str], int] = {}
    for name, account, result, hour, count in conn.execute(recent):
        start = starts.get((name, account))
        if start is not None and hour >= start:
            key = (name, account, result)
            today[key] = today.get(key, 0) + int(count)
    return totals, today


def _budgets(state: LimitState, now: datetime) -> tuple[Budget, Budget, Budget]:
    """The hour's calls, the day's calls and the day's creations, each with when it
    starts again; the day's calls are the application's where its budget is shared."""
    limits = state.settings
    hour, day, creations = usage_of(state, now)
    midnight = next_local_midnight(now, limits.zone)

    def budget(usage: Usage, resets_at: datetime) -> Budget:
        return Budget(usage.used, usage.limit, "account", None, resets_at)

    day_budget = (
        budget(day, midnight)
        if limits.application is None
        else Budget(
            day.used, day.limit, "application", limits.application, application_reset(limits, now)
        )
    )
    return budget(hour, hour_of(now) + timedelta(hours=1)), day_budget, budget(creations, midnight)


def _login(token: TokenState | None) -> tuple[datetime | None, bool, str | None]:
    """(login_ends_at, login_required, token_status): all empty on a platform without
    tokens."""
    if token is None:
        return None, False, None
    return token.login_ends_at, token.status == LOGIN_REQUIRED, token.status


def _next_slot(state: LimitState, earliest: datetime | None, now: datetime) -> datetime | None:
    """When the daemon can next start an item: `limits.admit` (every hold in turn, as
    the daemon decides) from the earliest pending item's time, for the cheapest new item
    (one call, one creation). None with nothing pending or a pause without end."""
    if earliest is None:
        return None
    decision = admit(state, max(now, earliest), 1)
    return None if decision.forever else decision.not_before


@dataclass(frozen=True)
class Attention:
    kind: str  # one of ATTENTION_KINDS
    platform: str
    account_id: str
    count: int = 0  # failed items, or whole days left for login_ending
    until: datetime | None = None  # when it ends by itself (a budget's reset, the login's end)


def attention(
    figures: list[AccountFigures], now: datetime, crash_looping: Collection[Key] = ()
) -> list[Attention]:
    """The overview's strip of what needs attention, most urgent kind first, accounts in
    the order given: failed items, logins needed or ending within 3 days, hour/day call
    budgets spent, daily quota full; and a daemon the manager reports crash-looping, for
    the accounts in `crash_looping` (see `crash_looping_accounts`)."""
    found: list[Attention] = []
    for f in figures:
        found.extend(_attention_of(f, now, (f.platform, f.account_id) in crash_looping))
    order = {kind: rank for rank, kind in enumerate(ATTENTION_KINDS)}
    return sorted(found, key=lambda a: order[a.kind])  # stable: accounts keep their order


def _attention_of(f: AccountFigures, now: datetime, crash_looping: bool) -> Iterable[Attention]:
    key = (f.platform, f.account_id)
    if f.login_required:
        yield Attention("login_required", *key)
    elif f.login_ends_at is not None and f.login_ends_at - now <= LOGIN_ENDING_WITHIN:
        yield Attention("login_ending", *key, days_left(f.login_ends_at, now) or 0, f.login_ends_at)
    if crash_looping:
        yield Attention("crash_loop", *key)
    failed = f.queue.get(QueueStatus.FAILED.value, 0)
    if failed:
        yield Attention("failed_items", *key, failed)
    spent = [b.resets_at for b in (f.hour_calls, f.day_calls) if b.spent]
    if spent:
        yield Attention("budget_spent", *key, until=max(spent, key=_latest))
    if f.creations.spent:
        yield Attention("daily_quota_full", *key, until=f.creations.resets_at)


def _latest(moment: datetime | None) -> datetime:
    return moment if moment is not None else datetime.min.replace(tzinfo=UTC)


def crash_looping_accounts(settings: Settings) -> frozenset[Key]:
    """The accounts whose daemon the manager of this host's log folder reports as
    crash-looping (its state file, as `manager status` reads it); none when no manager
    runs, since a stopped manager's file tells only the past. Reads a small file and
    checks one process: cheap enough for every page view and scrape."""
    from upload_scheduler.supervisor.lock import running_manager
    from upload_scheduler.supervisor.paths import ManagerPaths
    from upload_scheduler.supervisor.state import read_state

    paths = ManagerPaths(settings.log_dir)
    if running_manager(paths) is None:
        return frozenset()
    state = read_state(paths.state)
    if state is None:
        return frozenset()
    return frozenset((r.platform, r.account_id) for r in state.processes if r.crash_looping)
