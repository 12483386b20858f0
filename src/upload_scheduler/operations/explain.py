"""Why is this item not uploading now? (issue 18, `queue explain`)

Answered from the same code the daemon decides with: the account's limits state as
`store.account_state.load_state` reads it, every limit `limits.holds` finds broken (the
first of which is what `limits.admit` would report), the one due order of `queue.order`,
the account's lease and, for platforms with OAuth tokens, what `token status` says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select

from upload_scheduler import defaults, limits
from upload_scheduler.config import Settings
from upload_scheduler.limits import FOREVER, LimitSettings, holds
from upload_scheduler.queue.records import QueueItem
from upload_scheduler.store import account_state
from upload_scheduler.store.states import JobKind, PauseKind, QueueStatus
from upload_scheduler.store.tables import products, upload_queue

# Platforms whose adapter keeps OAuth tokens in `oauth_tokens` (as `account list`).
TOKEN_PLATFORMS = frozenset(defaults.TOKEN_PLATFORMS)

_LIMIT_TEXT = {
    limits.RESTART: "waiting for the restart spacing",
    limits.HOURS: "outside business hours",
    limits.SPACING: "waiting for spacing after the last start",
    limits.HOUR_BUDGET: "this hour's call budget is spent",
    limits.DAY_BUDGET: "today's call budget is spent",
    limits.DAILY_QUOTA: "the daily quota of new items is full",
}


class UnknownItem(LookupError):
    """No queue row has this id."""


@dataclass(frozen=True)
class Reason:
    """One thing holding the item back; `until` is when it stops holding, if known."""

    code: str
    text: str
    until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "text": self.text,
            "until": self.until.isoformat() if self.until is not None else None,
        }


@dataclass(frozen=True)
class Explanation:
    id: int
    platform: str
    account_id: str
    status: str
    reasons: list[Reason] = field(default_factory=list)
    ahead: int = 0

    def to_json(self) -> dict[str, Any]:
        """The `queue explain --json` shape: a contract with users' scripts."""
        return {
            "id": self.id,
            "status": self.status,
            "reasons": [r.to_json() for r in self.reasons],
            "ahead": self.ahead,
        }


def explain(
    conn_or_engine: Connection | Engine, settings: Settings, queue_id: int, now: datetime
) -> Explanation:
    """Every reason the item `queue_id` does not start at `now`, in the order a person
    needs them; raises UnknownItem for an id the queue does not have."""
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return _explain(conn, settings, queue_id, now)
    return _explain(conn_or_engine, settings, queue_id, now)


def _explain(conn: Connection, settings: Settings, queue_id: int, now: datetime) -> Explanation:
    row = conn.execute(select(upload_queue).where(upload_queue.c.id == queue_id)).mappings()
    found = row.first()
    if found is None:
        raise UnknownItem(f"no queue item has id {queue_id}")
    item = QueueItem.from_row(found)
    answer = Explanation(item.id, item.platform, item.account_id, item.status)
    if item.status != QueueStatus.PENDING:
        answer.reasons.append(_not_pending(item))
        return answer
    try:
        account = settings.account(item.platform, item.account_id)
    except KeyError:
        text = f"account {item.platform}/{item.account_id} is not configured: no daemon takes it"
        answer.reasons.append(Reason("not_configured", text))
        return answer

    reasons = answer.reasons
    if item.scheduled_time > now:
        reasons.append(Reason("scheduled", "scheduled for later", item.scheduled_time))
    state = account_state.load_state(
        conn, item.platform, item.account_id, LimitSettings.of(account), now
    )
    cost = _cost(conn, item)
    creates = item.kind != JobKind.DELETE and item.platform_item_id is None
    for hold in holds(state, now, cost, creates=creates):
        reason = _limit_reason(hold, state)
        if reason.code == limits.APPLICATION_BUDGET and any(
            r.code == limits.APPLICATION_BUDGET for r in reasons
        ):
            continue  # the pause it set already says so
        reasons.append(reason)
    if item.platform in TOKEN_PLATFORMS:
        login = _login_needed(conn.engine, item.platform, item.account_id, now)
        if login is not None:
            reasons.append(login)
    record = account_state.read_account(conn, item.platform, item.account_id)
    if record is None or record.live_lease(now) is None:
        text = f"no daemon is running for {item.platform}/{item.account_id}"
        reasons.append(Reason("no_daemon", text))
    ahead = _ahead(conn, item, now)
    answer = Explanation(item.id, item.platform, item.account_id, item.status, reasons, ahead)
    if ahead:
        reasons.append(Reason("ahead", f"{ahead} item(s) ahead of it in the due order"))
    elif not reasons:
        reasons.append(Reason("due", "due now: the daemon takes it next"))
    return answer


def _not_pending(item: QueueItem) -> Reason:
    texts = {
        QueueStatus.SUCCESS: "already done",
        QueueStatus.FAILED: "it failed",
        QueueStatus.CANCELLED: "it was cancelled",
        QueueStatus.UPLOADING: "a daemon is working on it now",
    }
    text = f"not pending ({item.status}): {texts.get(QueueStatus(item.status), item.status)}"
    if item.error_message:
        text += f": {item.error_message}"
    return Reason("not_pending", text)


def _limit_reason(hold: limits.Hold, state: limits.LimitState) -> Reason:
    until = None if hold.until == FOREVER else hold.until
    application = state.settings.application is not None
    if hold.code == limits.PAUSED and application and _application_pause(state.pause_reason):
        # The daemons pause every account on an application whose day budget is spent.
        text = f"account paused: {_application_text(state)}"
        return Reason(limits.APPLICATION_BUDGET, text, until)
    if hold.code == limits.PAUSED:
        text = f"account {hold.reason}" + ("" if until else " (until resumed)")
        return Reason(hold.code, text, until)
    if hold.code == limits.APPLICATION_BUDGET:
        return Reason(hold.code, _application_text(state), until)
    return Reason(hold.code, _LIMIT_TEXT.get(hold.code, hold.reason), until)


def _application_pause(pause_reason: str | None) -> bool:
    """Whether a stored pause is the one a spent application budget sets."""
    head = PauseKind.RATE_LIMIT.reason(limits.APPLICATION_BUDGET_REASON)
    return bool(pause_reason) and str(pause_reason).startswith(head)


def _application_text(state: limits.LimitState) -> str:
    settings = state.settings
    return (
        f"the day call budget of application {settings.application} is spent "
        f"({state.application_calls} of {settings.day_call_limit} calls today, shared by "
        f"every account on it); it starts again at midnight {settings.application_timezone}"
    )


def _cost(conn: Connection, item: QueueItem) -> int:
    """The calls the daemon reserves before starting it. The daemon asks the adapter;
    both built-in adapters count one create call plus one per image still to add, plus a
    look-up when an earlier attempt's answer was lost, which is what is counted here."""
    if item.kind == JobKind.DELETE:
        return 2 if item.call_started_at is not None else 1
    images = conn.execute(select(products.c.images).where(products.c.asin == item.asin)).scalar()
    if images is None:
        return 1
    count = len(json.loads(images or "[]"))
    cost = (1 if item.images_done == 0 else 0) + max(0, count - item.images_done)
    unfinished = item.platform_item_id is None or item.images_done < count
    if item.call_started_at is not None and unfinished:
        cost += 1
    return max(cost, 1)


def _login_needed(engine: Engine, platform: str, account_id: str, now: datetime) -> Reason | None:
    """What `token status` would say: a login is required, or no token is stored."""
    from upload_scheduler.platforms.thebase.token_health import assess
    from upload_scheduler.platforms.thebase.token_store import TokenStore

    health = assess(TokenStore(engine, platform).get(account_id), now)
    if not health.login_required:
        return None
    return Reason("login", f"login needed: {health.message}")


def _ahead(conn: Connection, item: QueueItem, now: datetime) -> int:
    """Pending items of the same account, due at `now`, before it in the due order
    (`queue.order.due_order`: priority down, then scheduled time, then id)."""
    q = upload_queue.c
    earlier = or_(
        q.priority > item.priority,
        and_(q.priority == item.priority, q.scheduled_time < item.scheduled_time),
        and_(
            q.priority == item.priority,
            q.scheduled_time == item.scheduled_time,
            q.id < item.id,
        ),
    )
    count = conn.execute(
        select(func.count()).where(
            q.platform == item.platform,
            q.account_id == item.account_id,
            q.status == QueueStatus.PENDING,
            q.scheduled_time <= now,
            earlier,
        )
    ).scalar()
    return int(count or 0)
