"""`queue purge`: delete finished queue rows older than a cutoff, in short batches.

The queue grows for months; finished rows are history, and the listings keep what
matters (status, platform item id). Each batch is its own short transaction, so a
running daemon waits at most one batch for the write lock, never the whole purge.
Pending, uploading and failed rows are never touched: they are still work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, delete, func, select

from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import upload_queue

PURGEABLE_STATUSES = ("success", "cancelled")
DEFAULT_BATCH_ROWS = 1000


class PurgeError(ValueError):
    """A purge the queue refuses (a status that is still work)."""


@dataclass
class PurgeReport:
    cutoff: datetime
    counts: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def check_statuses(statuses: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip() for s in statuses if s.strip()))
    refused = [s for s in chosen if s not in PURGEABLE_STATUSES]
    if refused or not chosen:
        raise PurgeError(
            f"purge removes only finished rows ({', '.join(PURGEABLE_STATUSES)}); "
            f"refused: {', '.join(refused) or 'no status given'}. Pending, uploading and "
            "failed rows are still work: cancel or requeue them instead"
        )
    return chosen


def purge_queue(
    engine: Engine,
    *,
    cutoff: datetime,
    statuses: Iterable[str] = PURGEABLE_STATUSES,
    platform: str | None = None,
    dry_run: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> PurgeReport:
    """Delete rows in `statuses` that finished before `cutoff` (rows without a finish
    time count from their last update)."""
    chosen = check_statuses(statuses)
    finished = func.coalesce(upload_queue.c.processed_at, upload_queue.c.updated_at)
    conditions = [upload_queue.c.status.in_(chosen), finished < cutoff]
    if platform is not None:
        conditions.append(upload_queue.c.platform == platform)
    report = PurgeReport(cutoff=cutoff, dry_run=dry_run)
    if dry_run:
        query = (
            select(upload_queue.c.status, func.count())
            .where(and_(*conditions))
            .group_by(upload_queue.c.status)
        )
        with engine.connect() as conn:
            report.counts.update({s: int(n) for s, n in conn.execute(query)})
        return report
    last_id = 0
    while True:
        with write_transaction(engine) as conn:
            # Walking up the primary key keeps each batch an index range scan, and the
            # status check is repeated in the DELETE so a row that changed between the
            # SELECT and the DELETE is left alone.
            rows = conn.execute(
                select(upload_queue.c.id, upload_queue.c.status)
                .where(and_(*conditions), upload_queue.c.id > last_id)
                .order_by(upload_queue.c.id)
                .limit(batch_rows)
            ).all()
            if not rows:
                break
            ids = [r.id for r in rows]
            deleted = conn.execute(
                delete(upload_queue)
                .where(upload_queue.c.id.in_(ids), and_(*conditions))
                .returning(upload_queue.c.status)
            ).all()
        report.counts.update(status for (status,) in deleted)
        report.batches += 1
        last_id = ids[-1]
    return report
