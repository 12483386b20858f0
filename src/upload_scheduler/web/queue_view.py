"""The Queue page's filter, its keyset pages and its capped count, and the rows a bulk
action works on: one filter, read from the URL, for the list, the count and the action,
so "retry all failed matching" retries exactly what the page counted.

Fast on a million rows: pages go by id (`id < before`, no OFFSET) and the count stops at
COUNT_CAP ("10,000+"); the exact count is taken only for a bulk action's confirmation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from upload_scheduler import defaults
from upload_scheduler.store.tables import QUEUE_STATUSES, products, upload_queue

PAGE_SIZE = 50
COUNT_CAP = 10_000
# Bulk actions change rows in batches of this many ids, each its own transaction, so a
# daemon's claim never waits behind one huge update.
BATCH_SIZE = 500


class FilterError(ValueError):
    """A filter value the page cannot use (the message names it)."""


@dataclass(frozen=True)
class QueueFilter:
    platform: str = ""
    account: str = ""
    status: str = ""
    priority: int | None = None
    since: datetime | None = None  # scheduled_time >= since
    until: datetime | None = None  # scheduled_time < until
    search: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str], zone: ZoneInfo) -> QueueFilter:
        """From the URL's (or a form's) fields; times without an offset are in `zone`."""
        status = params.get("status", "").strip()
        if status and status not in QUEUE_STATUSES:
            raise FilterError(f"status must be one of {', '.join(QUEUE_STATUSES)}")
        priority_text = params.get("priority", "").strip()
        priority = None
        if priority_text:
            try:
                priority = int(priority_text)
            except ValueError:
                raise FilterError("priority must be a whole number") from None
            if not defaults.PRIORITY_MIN <= priority <= defaults.PRIORITY_MAX:
                raise FilterError(
                    f"priority must be {defaults.PRIORITY_MIN} to {defaults.PRIORITY_MAX}"
                )
        return cls(
            platform=params.get("platform", "").strip()[:32],
            account=params.get("account", "").strip()[:128],
            status=status,
            priority=priority,
            since=_moment(params.get("from", ""), zone, "from"),
            until=_moment(params.get("to", ""), zone, "to"),
            search=params.get("q", "").strip()[:200],
        )

    def params(self, zone: ZoneInfo) -> dict[str, str]:
        """The URL fields that give this filter back (empty ones left out)."""
        values = {
            "platform": self.platform,
            "account": self.account,
            "status": self.status,
            "priority": "" if self.priority is None else str(self.priority),
            "from": _shown(self.since, zone),
            "to": _shown(self.until, zone),
            "q": self.search,
        }
        return {k: v for k, v in values.items() if v}

    def query_string(self, zone: ZoneInfo, **extra: str | int) -> str:
        fields = {**self.params(zone), **{k: str(v) for k, v in extra.items()}}
        return urlencode(fields)

    def with_status(self, status: str) -> QueueFilter:
        return replace(self, status=status)

    def conditions(self) -> list[ColumnElement[bool]]:
        q = upload_queue.c
        found: list[ColumnElement[bool]] = []
        if self.platform:
            found.append(q.platform == self.platform)
        if self.account:
            found.append(q.account_id == self.account)
        if self.status:
            found.append(q.status == self.status)
        if self.priority is not None:
            found.append(q.priority == self.priority)
        if self.since is not None:
            found.append(q.scheduled_time >= self.since)
        if self.until is not None:
            found.append(q.scheduled_time < self.until)
        if self.search:
            found.append(_search(self.search))
        return found


def _search(text: str) -> ColumnElement[bool]:
    """An ASIN (exact or its beginning) or words of the title, in any case: the same
    rows on SQLite (whose LIKE ignores case) and PostgreSQL (whose LIKE does not)."""
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    titled = select(products.c.asin).where(products.c.title.ilike(f"%{pattern}%", escape="\\"))
    return or_(
        upload_queue.c.asin == text,
        upload_queue.c.asin.ilike(f"{pattern}%", escape="\\"),
        upload_queue.c.asin.in_(titled),
    )


def _moment(text: str, zone: ZoneInfo, name: str) -> datetime | None:
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        parsed = datetime.fromisoformat(cleaned)
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        moment.astimezone(UTC)  # the database compares in UTC: year 1 or 9999 overflow
    except (ValueError, OverflowError):
        raise FilterError(f"{name} must be a date-time such as 2026-01-06T09:00") from None
    return moment


def _shown(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class QueueRow:
    id: int
    platform: str
    account_id: str
    asin: str
    title: str
    status: str
    priority: int
    scheduled_time: datetime
    attempts: int
    error_message: str | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    count: int  # capped at COUNT_CAP + 1
    newer: int | None  # `after` for the previous page, None on the first
    older: int | None  # `before` for the next page, None on the last

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def page(
    conn: Connection,
    flt: QueueFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """Newest first; `before`: the page after the one that ended at that id, `after`: the
    page before the one that began there."""
    q = upload_queue.c
    where = flt.conditions()
    query = select(
        q.id,
        q.platform,
        q.account_id,
        q.asin,
        q.status,
        q.priority,
        q.scheduled_time,
        q.attempts,
        q.error_message,
    ).where(*where)
    if after is not None:
        query = query.where(q.id > after).order_by(q.id.asc())
    else:
        if before is not None:
            query = query.where(q.id < before)
        query = query.order_by(q.id.desc())
    found = conn.execute(query.limit(size + 1)).mappings().all()
    more = len(found) > size
    found = found[:size]
    if after is not None:
        found = list(reversed(found))
    titles = _titles(conn, {r["asin"] for r in found})
    rows = [QueueRow(title=titles.get(r["asin"], ""), **dict(r)) for r in found]
    first_page = after is None and before is None
    newer = None if first_page or not rows else rows[0].id
    if after is not None and not more:
        newer = None
    older = rows[-1].id if rows and (more or after is not None) else None
    if after is not None and rows and not _exists_older(conn, where, rows[-1].id):
        older = None
    return QueuePage(rows, capped_count(conn, where), newer, older)


def _exists_older(conn: Connection, where: list[ColumnElement[bool]], below: int) -> bool:
    query = select(upload_queue.c.id).where(*where, upload_queue.c.id < below).limit(1)
    return conn.execute(query).first() is not None


def _titles(conn: Connection, asins: set[str]) -> dict[str, str]:
    if not asins:
        return {}
    rows = conn.execute(select(products.c.asin, products.c.title).where(products.c.asin.in_(asins)))
    return {asin: title for asin, title in rows}


def capped_count(conn: Connection, where: list[ColumnElement[bool]]) -> int:
    """The matching rows, counted no further than COUNT_CAP + 1."""
    inner = select(upload_queue.c.id).where(*where).limit(COUNT_CAP + 1).subquery()
    return int(conn.execute(select(func.count()).select_from(inner)).scalar() or 0)


def exact_count(conn: Connection, flt: QueueFilter, upto: int | None = None) -> tuple[int, int]:
    """(how many rows match, the highest id among them): the confirmation's figures, and
    the bound the action keeps to, so rows added after it are left alone."""
    q = upload_queue.c
    where = flt.conditions()
    if upto is not None:
        where.append(q.id <= upto)
    count, top = conn.execute(select(func.count(), func.max(q.id)).where(*where)).one()
    return int(count or 0), int(top or 0)


def batch_ids(conn: Connection, flt: QueueFilter, upto: int, after: int) -> list[int]:
    """The next BATCH_SIZE matching ids above `after`, none above `upto`."""
    q = upload_queue.c
    query = (
        select(q.id)
        .where(and_(*flt.conditions(), q.id <= upto, q.id > after))
        .order_by(q.id.asc())
        .limit(BATCH_SIZE)
    )
    return [int(i) for (i,) in conn.execute(query)]


def describe(flt: QueueFilter, zone: ZoneInfo) -> str:
    """The filter in words, for the activity log ("all" when empty)."""
    parts = [f"{k}={v}" for k, v in flt.params(zone).items()]
    return " ".join(parts) or "all"
