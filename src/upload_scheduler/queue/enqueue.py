"""The body of an add-to-queue transaction: read what the planner needs, plan, write.

Kept apart from `UploadQueueManager` so that the one place that turns pending listings
into queue rows is small enough to read at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from upload_scheduler.planning import (
    AccountWindow,
    ExistingSlot,
    PlanItem,
    PlanRequest,
    check_request,
    plan_queue,
)
from upload_scheduler.queue.records import DayPlan, EnqueueResult
from upload_scheduler.store.bulk import (
    create_temp_table,
    db_time,
    drop_temp_table,
    enlarge_cache,
    execute,
    executemany,
)
from upload_scheduler.store.tables import (
    ACTIVE_QUEUE_STATUSES,
    account_usage,
    listings,
    upload_queue,
)

# Well below every database's bound-parameter limit (SQLite: 32766).
IN_CHUNK = 900
# Above this many asins, candidates are found by one scan instead of IN lookups.
BULK_ASINS = 5000


def enqueue_listings(
    conn: Connection,
    *,
    platform: str,
    windows: Sequence[AccountWindow],
    request: PlanRequest,
    asins: Sequence[str] | None,
    limit: int | None,
    priority: int,
    dry_run: bool,
    now: datetime,
) -> EnqueueResult:
    """Queue pending listings as `request` plans them; `now` stamps the rows (it differs
    from `request.now` when a caller asked for an explicit time)."""
    check_request(request, windows)
    account_ids = [w.account_id for w in windows]
    candidates = _candidates(conn, platform, account_ids, asins, limit)
    skipped: list[tuple[str, str]] = []
    if asins is not None:
        skipped = _explain_missing(conn, platform, asins, {c.asin for c in candidates})
    taken = _assigned_accounts(conn, platform, [c.asin for c in candidates if c.account_id is None])
    nobody: frozenset[str] = frozenset()
    items = [
        PlanItem(
            c.id,
            c.asin,
            c.account_id,
            frozenset(taken[c.asin]) if c.asin in taken and c.account_id is None else nobody,
        )
        for c in candidates
    ]
    existing = _existing_slots(conn, platform, account_ids, request)
    used = _used(conn, platform, account_ids, min(now, request.now))
    plan = plan_queue(items, windows, request, existing, used)

    asin_of = {c.id: c.asin for c in candidates}
    placements = plan.placements
    queue_ids: list[int] = []
    if placements and not dry_run:
        queue_ids = _write(conn, platform, placements, asin_of, priority, now)
    if plan.moves and not dry_run:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == bindparam("qid"), upload_queue.c.status == "pending")
            .values(scheduled_time=bindparam("new_time"), updated_at=now),
            [{"qid": qid, "new_time": t} for qid, t in plan.moves],
        )
    return EnqueueResult(
        queued=len(placements),
        queue_ids=queue_ids,
        days=[
            DayPlan(d.account_id, d.day, d.count, d.first, d.last, d.interval_seconds)
            for d in plan.days
        ],
        moved=len(plan.moves),
        unplaced=[(asin_of[u.key], u.reason) for u in plan.unplaced],
        skipped=skipped,
        dry_run=dry_run,
    )


def _candidates(
    conn: Connection,
    platform: str,
    account_ids: Sequence[str],
    asins: Sequence[str] | None,
    limit: int | None,
) -> list[Any]:
    """Pending listings, oldest first: unassigned ones and those of the chosen accounts,
    as rows with `id`, `asin` and `account_id`."""
    base = (
        select(listings.c.id, listings.c.asin, listings.c.account_id)
        .where(
            listings.c.platform == platform,
            listings.c.status == "pending",
            listings.c.account_id.is_(None) | listings.c.account_id.in_(account_ids),
        )
        .order_by(listings.c.id)
    )
    if conn.dialect.name == "postgresql":
        base = base.with_for_update(skip_locked=True)
    rows: list[Any]
    if asins is None:
        rows = list(conn.execute(base.limit(limit) if limit is not None else base))
    elif len(asins) > BULK_ASINS:
        # One pass over the pending listings beats hundreds of IN lookups for a big batch.
        wanted = set(asins)
        rows = [r for r in conn.execute(base) if r.asin in wanted]
    else:
        rows = []
        for chunk in _chunks(list(dict.fromkeys(asins)), IN_CHUNK):
            rows += conn.execute(base.where(listings.c.asin.in_(chunk))).all()
        rows.sort(key=lambda r: r.id)
    return rows[:limit] if limit is not None else rows


def _explain_missing(
    conn: Connection, platform: str, asins: Sequence[str], found: set[str]
) -> list[tuple[str, str]]:
    """Why each requested asin that has no pending listing was not queued."""
    missing = [a for a in dict.fromkeys(asins) if a not in found]
    statuses: dict[str, list[str]] = {}
    for chunk in _chunks(missing, IN_CHUNK):
        rows = conn.execute(
            select(listings.c.asin, listings.c.account_id, listings.c.status).where(
                listings.c.platform == platform, listings.c.asin.in_(chunk)
            )
        )
        for asin, account, status in rows:
            statuses.setdefault(asin, []).append(f"{status} on {account or 'no account'}")
    return [
        (a, "already " + ", ".join(statuses[a]) if a in statuses else f"no {platform} listing")
        for a in missing
    ]


def _assigned_accounts(
    conn: Connection, platform: str, asins: Sequence[str]
) -> dict[str, set[str]]:
    """asin -> the accounts that already have a listing for it (in any status)."""
    taken: dict[str, set[str]] = {}
    query = select(listings.c.asin, listings.c.account_id).where(
        listings.c.platform == platform, listings.c.account_id.is_not(None)
    )
    if len(asins) > BULK_ASINS:
        # As for candidates: one pass beats hundreds of IN lookups for a big batch.
        wanted = set(asins)
        rows = [(a, acc) for a, acc in conn.execute(query) if a in wanted]
    else:
        rows = []
        for chunk in _chunks(list(dict.fromkeys(asins)), IN_CHUNK):
            rows += conn.execute(query.where(listings.c.asin.in_(chunk))).all()
    for asin, account in rows:
        taken.setdefault(asin, set()).add(account)
    return taken


def _existing_slots(
    conn: Connection, platform: str, account_ids: Sequence[str], request: PlanRequest
) -> list[ExistingSlot]:
    start = request.now
    if request.start_date is not None:
        start = max(
            start, datetime.combine(request.start_date, datetime.min.time(), request.now.tzinfo)
        )
    # A --within span (which may wait for the next opening) comes before the spill days.
    horizon = start + (request.within or timedelta(0)) + timedelta(days=request.max_days + 3)
    rows = conn.execute(
        select(
            upload_queue.c.id,
            upload_queue.c.account_id,
            upload_queue.c.scheduled_time,
            upload_queue.c.status,
        ).where(
            upload_queue.c.platform == platform,
            upload_queue.c.account_id.in_(account_ids),
            upload_queue.c.status.in_(ACTIVE_QUEUE_STATUSES),
            upload_queue.c.kind == "upload",  # delete jobs are due now and never re-spaced
            upload_queue.c.scheduled_time < horizon,
        )
    )
    return [
        ExistingSlot(qid, account, when, movable=status == "pending")
        for qid, account, when, status in rows
    ]


def _used(
    conn: Connection, platform: str, account_ids: Sequence[str], now: datetime
) -> dict[tuple[str, date], int]:
    since = (now - timedelta(days=2)).date().isoformat()
    rows = conn.execute(
        select(account_usage.c.account_id, account_usage.c.day, account_usage.c.creations).where(
            account_usage.c.platform == platform,
            account_usage.c.account_id.in_(account_ids),
            account_usage.c.day >= since,
        )
    )
    return {(account, date.fromisoformat(day)): creations for account, day, creations in rows}


def _write(
    conn: Connection,
    platform: str,
    placements: Sequence[Any],
    asin_of: dict[int, str],
    priority: int,
    now: datetime,
) -> list[int]:
    """Listings become queued and queue rows are added, set-based through a scratch
    table (see store.bulk for why)."""
    stamp = db_time(conn, now)
    if len(placements) > BULK_ASINS:
        enlarge_cache(conn)
    create_temp_table(
        conn, "enqueue_plan", "listing_id INTEGER PRIMARY KEY, asin TEXT, account_id TEXT, at TEXT"
    )
    executemany(
        conn,
        "INSERT INTO enqueue_plan (listing_id, asin, account_id, at) VALUES (?, ?, ?, ?)",
        [
            (p.key, asin_of[p.key], p.account_id, db_time(conn, p.scheduled_time))
            for p in placements
        ],
    )
    execute(
        conn,
        "UPDATE listings SET account_id = enqueue_plan.account_id, status = 'queued', "
        "updated_at = ? FROM enqueue_plan "
        "WHERE listings.id = enqueue_plan.listing_id AND listings.status = 'pending'",
        (stamp,),
    )
    before = conn.execute(select(func.coalesce(func.max(upload_queue.c.id), 0))).scalar_one()
    # In index order, so each B-tree grows at its end instead of splitting pages all over.
    execute(
        conn,
        "INSERT INTO upload_queue (listing_id, asin, platform, account_id, kind, "
        "scheduled_time, priority, status, attempts, created_at, updated_at) "
        "SELECT listing_id, asin, ?, account_id, 'upload', CAST(at AS "
        + ("TEXT" if conn.dialect.name == "sqlite" else "TIMESTAMPTZ")
        + "), ?, 'pending', 0, ?, ? FROM enqueue_plan ORDER BY account_id, at",
        (platform, priority, stamp, stamp),
    )
    drop_temp_table(conn, "enqueue_plan")
    # Ids are handed out in increasing order; rows another host added meanwhile (on
    # PostgreSQL) are told apart by their listing.
    id_of = dict(
        conn.execute(
            select(upload_queue.c.listing_id, upload_queue.c.id).where(upload_queue.c.id > before)
        ).all()
    )
    return [id_of[p.key] for p in placements]


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
