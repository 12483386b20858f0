"""The POST routes: retry and cancel one item, retry or cancel everything matching the
Queue page's filter (confirmed with the exact count, done in batches), pause and resume
an account. Each checks the CSRF token first (the middleware already refused read-only
and cross-site requests), does the work through the same queue and operations code as
the CLI, writes the activity log, and answers 303 to the page to show."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from upload_scheduler.operations import activity, pauses
from upload_scheduler.operations.until import parse_until
from upload_scheduler.queue.manager import UploadQueueManager
from upload_scheduler.store.states import QueueStatus
from upload_scheduler.web import queue_view
from upload_scheduler.web.pages import MAX_ID, row_id
from upload_scheduler.web.render import Dashboard, dashboard_of, lang_query, render
from upload_scheduler.web.security import CSRF_COOKIE, CSRF_FIELD, forbidden, user_of

# The bulk actions, the status each works on, and the manager's method for it.
BULK = {
    activity.RETRY_ALL: QueueStatus.FAILED.value,
    activity.CANCEL_ALL: QueueStatus.PENDING.value,
}


def _log(board: Dashboard, actor: str, action: str, **fields: Any) -> None:
    """One activity entry for an action taken from the dashboard."""
    activity.record(
        board.engine,
        source=activity.DASHBOARD,
        actor=actor,
        action=action,
        now=board.clock.now(),
        **fields,
    )


class Refused(Exception):
    """A request that must be answered 403 (bad CSRF token)."""


async def _form(request: Request) -> FormData:
    """The form, once its CSRF token matches the browser's cookie."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    board = dashboard_of(request)
    if not board.csrf.valid(
        request.cookies.get(CSRF_COOKIE), token if isinstance(token, str) else None
    ):
        raise Refused("CSRF token missing or invalid: reload the page and try again")
    return form


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _manager(board: Dashboard) -> UploadQueueManager:
    return UploadQueueManager(board.settings, engine=board.engine, clock=board.clock)


def _redirect(path: str, request: Request, **params: str | int) -> RedirectResponse:
    query = urlencode({k: str(v) for k, v in params.items()})
    extra = lang_query(request)
    joined = "&".join(part for part in (query, extra) if part)
    return RedirectResponse(f"{path}?{joined}" if joined else path, status_code=303)


async def item_action(request: Request) -> Response:
    """POST /items/{id}/retry or /items/{id}/cancel."""
    try:
        await _form(request)
    except Refused as exc:
        return forbidden(str(exc))
    board = dashboard_of(request)
    queue_id = int(request.path_params["queue_id"])
    action = request.path_params["action"]
    if action not in (activity.RETRY, activity.CANCEL) or queue_id > MAX_ID:
        return render(request, "error.html", {"why": None}, status_code=404)
    changed, item = await run_in_threadpool(_item_action, board, queue_id, action, user_of(request))
    if item is None:
        return render(request, "error.html", {"why": None}, status_code=404)
    return _redirect(f"/items/{queue_id}", request, done=action if changed else "nothing")


def _item_action(board: Dashboard, queue_id: int, action: str, actor: str) -> tuple[int, object]:
    manager = _manager(board)
    item = manager.get_item(queue_id)
    if item is None:
        return 0, None
    if action == activity.RETRY:
        changed = manager.requeue_failed([queue_id])
    else:
        changed = manager.cancel([queue_id])
    _log(
        board,
        actor,
        action,
        platform=item.platform,
        account_id=item.account_id,
        target=f"item {queue_id} ({item.asin})",
        items=changed,
    )
    return changed, item


async def bulk(request: Request) -> Response:
    """POST /queue/bulk: without `confirm`, the confirmation page with the exact count;
    with it, the action on the rows counted then (ids up to `upto`), in batches."""
    try:
        form = await _form(request)
    except Refused as exc:
        return forbidden(str(exc))
    board = dashboard_of(request)
    action = _field(form, "action")
    if action not in BULK:
        return render(request, "error.html", {"why": f"unknown action {action!r}"}, 400)
    zone = board.settings.zone
    fields = {
        name: _field(form, name) for name in ("platform", "account", "priority", "from", "to", "q")
    }
    try:
        flt = queue_view.QueueFilter.parse(fields, zone)
    except queue_view.FilterError as exc:
        return render(request, "error.html", {"why": str(exc)}, status_code=400)
    shown = flt  # the page's own filter, to return to
    flt = flt.with_status(BULK[action])
    upto_text = _field(form, "upto")
    if not upto_text:
        count, top = await run_in_threadpool(_count, board, flt, None)
        context = {
            "action": action,
            "count": count,
            "upto": top,
            "filter_params": shown.params(zone),
            "back_query": shown.query_string(zone),
        }
        return render(request, "confirm.html", context)
    upto = row_id(upto_text)
    if upto is None:
        return render(request, "error.html", {"why": "upto must be a queue id"}, 400)
    done = await run_in_threadpool(_bulk_run, board, action, flt, upto, user_of(request))
    return _redirect("/queue", request, **shown.params(zone), done=action, n=done)


def _count(board: Dashboard, flt: queue_view.QueueFilter, upto: int | None) -> tuple[int, int]:
    with board.engine.connect() as conn:
        return queue_view.exact_count(conn, flt, upto)


def _bulk_run(
    board: Dashboard, action: str, flt: queue_view.QueueFilter, upto: int, actor: str
) -> int:
    """Change the matching rows in batches; rows added after the confirmation (id above
    `upto`) or no longer in the action's status are left alone."""
    manager = _manager(board)
    change = manager.requeue_failed if action == activity.RETRY_ALL else manager.cancel
    done = 0
    after = 0
    while True:
        with board.engine.connect() as conn:
            ids = queue_view.batch_ids(conn, flt, upto, after)
        if not ids:
            break
        done += change(ids)
        after = ids[-1]
    _log(
        board,
        actor,
        action,
        platform=flt.platform or None,
        account_id=flt.account or None,
        target=queue_view.describe(flt, board.settings.zone),
        items=done,
    )
    return done


async def account_action(request: Request) -> Response:
    """POST /accounts/pause or /accounts/resume, the account as `platform/account`."""
    try:
        form = await _form(request)
    except Refused as exc:
        return forbidden(str(exc))
    board = dashboard_of(request)
    platform, _, account_id = _field(form, "account").partition("/")
    action = request.path_params["action"]
    if action not in (activity.PAUSE, activity.RESUME) or account_id not in (
        board.settings.account_ids(platform)
    ):
        return render(request, "error.html", {"why": None}, status_code=404)
    now = board.clock.now()
    if action == activity.PAUSE:
        zone = board.zone_of(platform, account_id)
        until_text = _field(form, "until")
        try:
            until = parse_until(until_text, now, zone) if until_text else None
        except ValueError as exc:
            return render(request, "error.html", {"why": str(exc)}, status_code=400)
        reason = _field(form, "reason")[:500]
        await run_in_threadpool(
            lambda: pauses.pause(
                board.engine, platform, account_id, until=until, reason=reason, now=now
            )
        )
        detail = reason + (f" (until {until.isoformat()})" if until else "")
    else:
        await run_in_threadpool(pauses.resume, board.engine, platform, account_id, now)
        detail = ""
    await run_in_threadpool(
        lambda: activity.record(
            board.engine,
            source=activity.DASHBOARD,
            actor=user_of(request),
            action=action,
            now=now,
            platform=platform,
            account_id=account_id,
            target=f"{platform}/{account_id}",
            detail=detail,
        )
    )
    return _redirect("/", request, done=action)
