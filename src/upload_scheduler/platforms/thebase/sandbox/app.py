"""Routing: a parsed request in, a `Reply` out, every request recorded.

The paths, form fields, answers and error envelope are BASE's (BASE_API.md). A `Reply`
may also tell the HTTP layer to misbehave (a fault): drop the connection, reset it, or
hang. Control paths under /_sandbox/ are the sandbox's own and are never faulted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.thebase.sandbox import faults
from upload_scheduler.platforms.thebase.sandbox.faults import FaultPlan
from upload_scheduler.platforms.thebase.sandbox.record import Recorder
from upload_scheduler.platforms.thebase.sandbox.state import (
    SandboxError,
    SandboxState,
    now_iso,
)

SEND, DROP, RESET, HANG = "send", "drop", "reset", "hang"
DETAIL_PREFIX = "/1/items/detail"
API_ROOT = "/1/"
# What the web server in front of BASE answers for a path outside its API (a wrong
# api_base_url): a 404 page, not BASE's JSON error envelope.
NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
    "<body><h1>Not Found</h1></body></html>\n"
)
_POST_ONLY = frozenset({"/1/items/add", "/1/items/add_image", "/1/items/delete"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorization: str | None = None
    received_at: datetime | None = None  # before any simulated latency


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str = SEND
    html: str | None = None  # an HTML page instead of a JSON body

    def payload(self) -> bytes:
        if self.html is not None:
            return self.html.encode("utf-8")
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")

    def content_type(self) -> str | None:
        if self.html is not None:
            return "text/html; charset=utf-8"
        return None if self.body is None else "application/json; charset=utf-8"


class SandboxApp:
    def __init__(
        self, state: SandboxState, fault_plan: FaultPlan, recorder: Recorder, clock: Clock
    ) -> None:
        self.state = state
        self.faults = fault_plan
        self.recorder = recorder
        self.clock = clock

    def is_api(self, path: str) -> bool:
        return path.startswith("/1/items")

    def handle(self, request: Request) -> Reply:
        entry: dict[str, Any] = {
            "time": now_iso(request.received_at or self.clock.now()),
            "method": request.method,
            "path": request.path,
            "shop": None,
            "token": _tail(request.authorization),
        }
        try:
            with self.state.lock:
                reply = self._route(request, entry)
        except SandboxError as err:
            reply = _error(err)
            entry["outcome"] = err.code
        except Exception:  # a sandbox bug must not look like a BASE answer
            log.exception("sandbox: %s %s failed", request.method, request.path)
            reply = Reply(500, {"error": "server_error", "error_description": "sandbox error"})
            entry["outcome"] = "server_error"
        entry.setdefault("outcome", "ok")
        entry["status"] = reply.status if reply.action == SEND else None
        if not request.path.startswith("/_sandbox/"):
            self.recorder.add(entry)
        return reply

    # ------------------------------------------------------------------ routes

    def _route(self, request: Request, entry: dict[str, Any]) -> Reply:
        path = request.path.rstrip("/") or "/"
        if path.startswith("/_sandbox/"):
            return self._control(request, path)
        if not path.startswith(API_ROOT):
            entry["outcome"] = "no_route"
            return Reply(404, html=NOT_FOUND_PAGE)
        if path == "/1/oauth/authorize":
            location = self.state.authorize(request.query)
            entry["shop"] = request.query.get("shop")
            return Reply(302, None, {"Location": location})
        if path == "/1/oauth/token":
            self._post_only(request)
            shop, answer = self.state.token(request.form)
            entry["shop"] = shop
            return Reply(200, answer)
        if not self.is_api(path):
            raise SandboxError("not_found", "APIが見つかりませんでした。")
        if path == "/1/items/add":
            entry["identifier"] = request.form.get("identifier")
        shop = self.state.authenticate(request.authorization)
        entry["shop"] = shop
        fault = self.faults.draw(path)
        if fault in (faults.SERVER_ERROR, faults.TIMEOUT, faults.RESET):
            entry["outcome"] = f"fault:{fault}"
            return _fault_reply(fault)
        self.state.count_call(shop)
        reply = Reply(200, self._items(request, path, shop, entry))
        if fault == faults.LOST_RESPONSE:
            entry["outcome"] = f"fault:{fault}"
            return Reply(200, None, action=DROP)
        return reply

    def _items(self, request: Request, path: str, shop: str, entry: dict[str, Any]) -> Any:
        if path in _POST_ONLY:
            self._post_only(request)
        form = request.form
        if path == "/1/items/add":
            answer = self.state.add_item(shop, form)
            entry["item_id"] = str(answer["item"]["item_id"])
            return answer
        if path == "/1/items/add_image":
            entry["item_id"] = form.get("item_id")
            entry["image_no"] = form.get("image_no")
            return self.state.add_image(shop, form)
        if path == "/1/items/delete":
            entry["item_id"] = form.get("item_id")
            return self.state.delete(shop, form)
        if path == "/1/items":
            return self.state.list_items(shop, request.query)
        if path == DETAIL_PREFIX or path.startswith(DETAIL_PREFIX + "/"):
            item_id = path[len(DETAIL_PREFIX) + 1 :]
            entry["item_id"] = item_id or None
            return self.state.detail(shop, item_id)
        raise SandboxError("not_found", "APIが見つかりませんでした。")

    def _control(self, request: Request, path: str) -> Reply:
        """The sandbox's own endpoints, for tests and the demo in other processes."""
        params = {**request.query, **request.form}
        shop = params.get("shop") or None
        if path == "/_sandbox/calls":
            return Reply(200, {"calls": self.recorder.calls()})
        if path == "/_sandbox/items":
            return Reply(200, {"items": self.state.items_of(shop or "")})
        if path == "/_sandbox/expire_tokens" and request.method == "POST":
            return Reply(200, {"expired": self.state.expire_tokens(shop)})
        if path == "/_sandbox/revoke_refresh_tokens" and request.method == "POST":
            return Reply(200, {"revoked": self.state.revoke_refresh_tokens(shop)})
        if path == "/_sandbox/spend_budget" and request.method == "POST":
            if shop is None:
                raise SandboxError("bad_params", "shopは必須です。")
            spent = self.state.spend_budget(shop, params.get("period", "hour"))
            return Reply(200, {"spent": spent})
        if path == "/_sandbox/faults" and request.method == "POST":
            try:
                self.faults.inject(
                    params.get("kind", ""),
                    path=params.get("path"),
                    count=int(params.get("count", "1")),
                    after=int(params.get("after", "0")),
                )
            except ValueError as exc:
                raise SandboxError("bad_params", str(exc)) from None
            return Reply(200, {"result": True})
        if path == "/_sandbox/odds" and request.method == "POST":
            try:
                self.faults.set_odds({kind: float(p) for kind, p in request.form.items()})
            except ValueError as exc:
                raise SandboxError("bad_params", str(exc)) from None
            return Reply(200, {"result": True})
        raise SandboxError("not_found", "APIが見つかりませんでした。")

    def _post_only(self, request: Request) -> None:
        if request.method != "POST":
            raise SandboxError("not_post_method", "POSTで送信してください。")


def _error(err: SandboxError) -> Reply:
    return Reply(err.status, {"error": err.code, "error_description": err.description})


def _fault_reply(fault: str) -> Reply:
    if fault == faults.SERVER_ERROR:
        return Reply(500, {"error": "server_error", "error_description": "サーバーエラーです。"})
    return Reply(200, None, action=HANG if fault == faults.TIMEOUT else RESET)


def _tail(authorization: str | None) -> str | None:
    token = (authorization or "").partition(" ")[2].strip()
    return token[-4:] if len(token) > 8 else None
