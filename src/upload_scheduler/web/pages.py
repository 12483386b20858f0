"""The GET routes: every page's first answer already holds its data (htmx only
refreshes it), and every filter is in the URL so a view can be bookmarked and shared."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from upload_scheduler.operations import activity
from upload_scheduler.operations.explain import UnknownItem, explain
from upload_scheduler.store.tables import (
    QUEUE_STATUSES,
    listings,
    products,
    queue_events,
    upload_queue,
)
from upload_scheduler.web import queue_view, schedule_view
from upload_scheduler.web.figures import attention, collect_figures, crash_looping_accounts
from upload_scheduler.web.metrics import CONTENT_TYPE, render_metrics
from upload_scheduler.web.render import dashboard_of, render

# The largest id a queue or activity row can have (PostgreSQL's integer); a larger
# number in an address names no row.
MAX_ID = 2**31 - 1


def row_id(text: str) -> int | None:
    """A row id written in ASCII digits, None for anything else or out of range."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def _int_param(request: Request, name: str) -> int | None:
    return row_id(request.query_params.get(name, ""))


def _accounts(request: Request) -> dict[str, list[str]]:
    settings = dashboard_of(request).settings
    found: dict[str, list[str]] = {}
    for platform, account_id in settings.all_accounts():
        found.setdefault(platform, []).append(account_id)
    return found


def overview(request: Request) -> Response:
    board = dashboard_of(request)
    platform = request.query_params.get("platform", "").strip() or None
    now = board.clock.now()
    figures = collect_figures(board.settings, board.engine, now, platform=platform)
    looping = crash_looping_accounts(board.settings)
    context = {
        "figures": figures,
        "attention": attention(figures, now, looping),
        "notice": _notice(request),
        "now": now,
        "platform": platform or "",
        "refresh_url": "/?" + urlencode({**_kept(request), "fragment": "overview"}),
    }
    if request.query_params.get("fragment") == "overview":
        return render(request, "_overview_body.html", context)
    return render(request, "overview.html", context)


def _kept(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k not in ("fragment", "done", "n")}


def queue(request: Request) -> Response:
    board = dashboard_of(request)
    zone = board.settings.zone
    try:
        flt = queue_view.QueueFilter.parse(request.query_params, zone)
    except queue_view.FilterError as exc:
        return render(request, "error.html", {"why": str(exc)}, status_code=400)
    before = _int_param(request, "before")
    after = _int_param(request, "after")
    with board.engine.connect() as conn:
        result = queue_view.page(conn, flt, before=before, after=after)
    context = {
        "flt": flt,
        "filter_params": flt.params(zone),
        "page": result,
        "cap": f"{queue_view.COUNT_CAP:,}",
        "statuses": QUEUE_STATUSES,
        "accounts": _accounts(request),
        "zone_of": board.zone_of,
        "zone_key": zone.key,
        "newer_query": flt.query_string(zone, after=result.newer) if result.newer else "",
        "older_query": flt.query_string(zone, before=result.older) if result.older else "",
        "notice": _notice(request),
    }
    return render(request, "queue.html", context)


# What a redirect after an action may ask the page to say: known words only.
_NOTICES = frozenset({"retry_all", "cancel_all", "retry", "cancel", "pause", "resume", "nothing"})


def _notice(request: Request) -> tuple[str, int] | None:
    done = request.query_params.get("done", "")
    if done not in _NOTICES:
        return None
    return (f"done_{done}", _int_param(request, "n") or 0)


def item(request: Request) -> Response:
    board = dashboard_of(request)
    queue_id = int(request.path_params["queue_id"])
    if queue_id > MAX_ID:
        return render(request, "error.html", {"why": None}, status_code=404)
    now = board.clock.now()
    with board.engine.connect() as conn:
        row = conn.execute(select(upload_queue).where(upload_queue.c.id == queue_id))
        found = row.mappings().first()
        if found is None:
            return render(request, "error.html", {"why": None}, status_code=404)
        product = (
            conn.execute(select(products).where(products.c.asin == found["asin"]))
            .mappings()
            .first()
        )
        listing = (
            conn.execute(select(listings).where(listings.c.id == found["listing_id"]))
            .mappings()
            .first()
        )
        events = (
            conn.execute(
                select(queue_events)
                .where(queue_events.c.queue_id == queue_id)
                .order_by(queue_events.c.id)
            )
            .mappings()
            .all()
        )
        try:
            why = explain(conn, board.settings, queue_id, now)
        except UnknownItem:
            why = None
    images = json.loads(product["images"]) if product else []
    context = {
        "item": found,
        "product": product,
        "images": images,
        "listing": listing,
        "events": events,
        "why": why,
        "zone": board.zone_of(found["platform"], found["account_id"]),
        "notice": _notice(request),
    }
    return render(request, "item.html", context)


def schedule(request: Request) -> Response:
    board = dashboard_of(request)
    platform = request.query_params.get("platform", "").strip()
    account = request.query_params.get("account", "").strip()
    now = board.clock.now()
    with board.engine.connect() as conn:
        lines = schedule_view.schedules(board.settings, conn, now, platform, account)
    context = {
        "schedules": lines,
        "platform": platform,
        "account": account,
        "accounts": _accounts(request),
        "hours": list(range(0, 25, 3)),
        "now": now,
    }
    return render(request, "schedule.html", context)


def activity_page(request: Request) -> Response:
    board = dashboard_of(request)
    before = _int_param(request, "before")
    platform = request.query_params.get("platform", "").strip() or None
    account = request.query_params.get("account", "").strip() or None
    source = request.query_params.get("source", "").strip() or None
    size = 100
    entries = activity.recent(
        board.engine,
        limit=size + 1,
        before_id=before,
        platform=platform,
        account_id=account,
        source=source,
    )
    older = entries[size - 1].id if len(entries) > size else None
    context = {
        "entries": entries[:size],
        "older": older,
        "platform": platform or "",
        "account": account or "",
        "source": source or "",
        "accounts": _accounts(request),
        "zone": board.settings.zone,
    }
    return render(request, "activity.html", context)


def metrics(request: Request) -> Response:
    board = dashboard_of(request)
    body = render_metrics(board.settings, board.engine, board.clock.now())
    return Response(body, media_type=CONTENT_TYPE)


def healthz(request: Request) -> Response:
    """200 when the database answers, 503 when it does not."""
    board = dashboard_of(request)
    try:
        with board.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return PlainTextResponse("database unavailable", status_code=503)
    return PlainTextResponse("ok")
