"""Our record of a listing's accepted calls, for platforms that cannot be asked about them
(Yahoo!: whether each image was uploaded and the publish taken). One row per step; a new
listing of the same key starts from an empty record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, select

from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import listing_steps
from upload_scheduler.store.upsert import dialect_insert


class ListingSteps:
    """The steps of one platform's listings, per account and item key."""

    def __init__(self, engine: Engine, platform: str) -> None:
        self.engine = engine
        self.platform = platform

    def done(self, account_id: str, item_key: str) -> set[str]:
        query = select(listing_steps.c.step).where(
            listing_steps.c.platform == self.platform,
            listing_steps.c.account_id == account_id,
            listing_steps.c.item_key == item_key,
        )
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def record(self, account_id: str, item_key: str, step: str, now: datetime) -> None:
        """Remember that the platform accepted `step` (again: the time is kept)."""
        with write_transaction(self.engine) as conn:
            insert = dialect_insert(conn, listing_steps).values(
                platform=self.platform,
                account_id=account_id,
                item_key=item_key,
                step=step,
                done_at=now,
            )
            conn.execute(insert.on_conflict_do_nothing())

    def forget(self, account_id: str, item_key: str, steps: set[str] | None = None) -> None:
        """Drop the record (or the named steps): a new listing, a delete, or a change
        that must be published again."""
        query = delete(listing_steps).where(
            listing_steps.c.platform == self.platform,
            listing_steps.c.account_id == account_id,
            listing_steps.c.item_key == item_key,
        )
        if steps is not None:
            query = query.where(listing_steps.c.step.in_(sorted(steps)))
        with write_transaction(self.engine) as conn:
            conn.execute(query)
