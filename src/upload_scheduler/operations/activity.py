"""The activity log: what operators did, from the dashboard or the CLI's queue and
account commands (who, what, on what, how many items, when).

One writer for both sources, so the dashboard's Activity page reads the CLI's actions
and its own the same way. An entry is written after the action, in its own small
transaction: the action has happened whether or not the log write succeeds, and a
failed log write must not undo it.
"""

from __future__ import annotations

import getpass
import logging
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import activity_log

log = logging.getLogger(__name__)

CLI = "cli"
DASHBOARD = "dashboard"

# Actions. The dashboard and the CLI use the same word for the same action, so the
# Activity page shows (and filters) them alike whichever side acted.
ADD_TO_QUEUE = "add_to_queue"  # CLI add-to-queue: items queued
CANCEL = "cancel"  # pending items cancelled (CLI queue cancel, any selector)
CANCEL_ALL = "cancel_all"  # the dashboard's cancel of every pending item of an account
RETRY = "retry"  # failed items put back in the queue (CLI queue requeue, any selector)
RETRY_ALL = "retry_all"  # the dashboard's retry of every failed item of an account
PURGE = "purge"  # finished queue rows deleted (CLI queue purge)
PAUSE = "pause"  # an account paused; detail: the reason and until when
RESUME = "resume"  # an account's pause lifted; detail: the pause that was lifted
# Longest text kept per field: a pasted reason cannot grow the log without bound.
_MAX_TEXT = 500


@dataclass(frozen=True)
class Activity:
    id: int
    at: datetime
    actor: str
    source: str
    action: str
    platform: str | None
    account_id: str | None
    target: str
    items: int
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "source": self.source,
            "action": self.action,
            "platform": self.platform,
            "account_id": self.account_id,
            "target": self.target,
            "items": self.items,
            "detail": self.detail,
        }


def cli_actor() -> str:
    """`user@host` of the person running the CLI."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (a service account)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def record(
    engine: Engine,
    *,
    source: str,
    actor: str,
    action: str,
    now: datetime,
    platform: str | None = None,
    account_id: str | None = None,
    target: str = "",
    items: int = 0,
    detail: str = "",
) -> None:
    """Log one action. A database error is logged and swallowed: see the module."""
    values = {
        "at": now,
        "actor": actor[:255],
        "source": source,
        "action": action,
        "platform": platform,
        "account_id": account_id,
        "target": target[:_MAX_TEXT],
        "items": items,
        "detail": detail[:_MAX_TEXT],
    }
    try:
        with write_transaction(engine) as conn:
            conn.execute(insert(activity_log).values(values))
    except SQLAlchemyError as exc:
        log.warning("could not write the activity log entry for %s: %s", action, exc)


def record_cli(
    engine: Engine,
    *,
    action: str,
    now: datetime,
    platform: str | None = None,
    account_id: str | None = None,
    target: str = "",
    items: int = 0,
    detail: str = "",
) -> None:
    """Log an action of the CLI's queue and account commands, by whoever runs it."""
    record(
        engine,
        source=CLI,
        actor=cli_actor(),
        action=action,
        now=now,
        platform=platform,
        account_id=account_id,
        target=target,
        items=items,
        detail=detail,
    )


def recent(
    engine: Engine,
    *,
    limit: int = 100,
    before_id: int | None = None,
    platform: str | None = None,
    account_id: str | None = None,
    source: str | None = None,
) -> list[Activity]:
    """The newest entries first, `limit` of them, older than `before_id` (keyset)."""
    a = activity_log.c
    query = select(activity_log).order_by(a.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(a.id < before_id)
    if platform:
        query = query.where(a.platform == platform)
    if account_id:
        query = query.where(a.account_id == account_id)
    if source:
        query = query.where(a.source == source)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [Activity(**dict(row)) for row in rows]
