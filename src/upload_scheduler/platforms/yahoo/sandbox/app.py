"""Routing: a parsed request in, a `Reply` out, every OAuth and store API request
recorded (in the order the sandbox carried them out).

YConnect (authorization and token endpoints), the store API and the image origin share
one host. Control paths under /_sandbox/ are the sandbox's own: never faulted or
recorded. The order of a store API request is the package docstring's.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.sandbox_http import DROP, HANG, RESET, Request
from upload_scheduler.platforms.yahoo.sandbox import answers, faults, images, pages
from upload_scheduler.platforms.yahoo.sandbox.answers import OAuthError, Reply, YahooError
from upload_scheduler.platforms.yahoo.sandbox.faults import FaultPlan
from upload_scheduler.platforms.yahoo.sandbox.oauth import Caller, client_of
from upload_scheduler.platforms.yahoo.sandbox.record import Recorder, now_iso
from upload_scheduler.platforms.yahoo.sandbox.state import YahooSandboxState
from upload_scheduler.platforms.yahoo.sandbox.store_api import APIS, Call
from upload_scheduler.platforms.yahoo.sandbox.verdict import check_calls

AUTHORIZE_PATH = pages.AUTHORIZE_PATH
TOKEN_PATH = "/yconnect/v2/token"
AUTHORIZE_REQUIRED = ("response_type", "client_id", "redirect_uri")
API_ROOT = "/ShoppingWebService/V1/"
CONTROL_ROOT = "/_sandbox/"
log = logging.getLogger(__name__)


class YahooSandboxApp:
    def __init__(
        self,
        state: YahooSandboxState,
        fault_plan: FaultPlan,
        recorder: Recorder,
        clock: Clock,
        origin: images.ImageOrigin,
    ) -> None:
        self.state, self.options, self.clock = state, state.options, clock
        self.faults, self.recorder, self.origin = fault_plan, recorder, origin

    def is_api(self, path: str) -> bool:
        """Requests that get the simulated latency: the store API."""
        return path.startswith(API_ROOT)

    def handle(self, request: Request) -> Reply:
        if request.path.startswith(images.ROOT):
            return self._image(request)
        entry: dict[str, Any] = {
            "time": now_iso(request.received_at or self.clock.now()),
            "method": request.method,
            "path": request.path,
            "api": None,
            "seller_id": None,
            "item_code": None,
            "file_name": None,
            "client_id": None,
            "user": None,
            "refused": None,
            "fault": None,
            "effect": None,
        }
        with self.state.lock:
            try:
                reply = self._route(request, entry)
            except (YahooError, OAuthError) as err:
                reply, entry["outcome"] = _refusal(err)
            except Exception:  # a sandbox bug must not pass for one of Yahoo!'s answers
                log.exception("yahoo sandbox: %s %s failed", request.method, request.path)
                reply = Reply.json(500, {"sandbox_error": "the sandbox failed; see its log"})
                entry["outcome"] = "sandbox_error"
            entry.setdefault("outcome", "ok")
            entry["status"] = reply.status if reply.action == "send" else None
            if not request.path.startswith(CONTROL_ROOT):
                self.recorder.add(entry)
        return reply

    # ------------------------------------------------------------------ routes

    def _route(self, request: Request, entry: dict[str, Any]) -> Reply:
        path = request.path
        if path.startswith(CONTROL_ROOT):
            return self._control(request, path.rstrip("/"))
        if path == AUTHORIZE_PATH:
            return self._authorize(request, entry)
        if path == TOKEN_PATH:
            return self._token(request, entry)
        if path.startswith(API_ROOT):
            return self._api(request, entry, path.removeprefix(API_ROOT).strip("/"))
        entry["outcome"] = "no_route"
        return Reply.html(404, pages.error_page(404, "Not Found"))

    def _authorize(self, request: Request, entry: dict[str, Any]) -> Reply:
        """YConnect's consent. With the sandbox-only `user` the user agrees at once
        (`deny=1`: declines) and the browser goes to redirect_uri with the code."""
        params = {**request.query, **request.form()}
        entry["client_id"] = params.get("client_id") or None
        missing = [name for name in AUTHORIZE_REQUIRED if not params.get(name)]
        if missing:
            raise OAuthError(400, "invalid_request", f"{', '.join(missing)} missing")
        client_id, redirect_uri = params["client_id"], params["redirect_uri"]
        if params["response_type"] != "code":
            raise OAuthError(400, "unsupported_response_type", "response_type must be code")
        if "openid" not in params.get("scope", "").split():
            raise OAuthError(400, "invalid_scope", "scope must include openid")
        state = params.get("state", "")
        if params.get("deny") == "1":
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        user = params.get("user", "").strip()
        if not user:
            return Reply.html(200, pages.consent_page(params))
        entry["user"] = user
        code = self.state.grants.consent(client_id, user, redirect_uri)
        return _redirect(redirect_uri, {"code": code, "state": state})

    def _token(self, request: Request, entry: dict[str, Any]) -> Reply:
        """YConnect's token endpoint: HTTP Basic client authentication, then a grant."""
        form = request.form()
        entry["grant_type"] = form.get("grant_type")
        if request.method != "POST":
            raise OAuthError(405, "invalid_request", "the token endpoint takes POST")
        entry["client_id"] = client_id = client_of(
            request.header("authorization"), self.options.client_secret
        )
        fault = self.faults.draw(request.method, request.path, random_faults=False)
        if fault in faults.NOTHING_DONE:
            return _fault_reply(fault, entry)
        login, answer = self.state.grants.exchange(client_id, form)
        entry["user"] = login.user
        return _maybe_lost(Reply.json(200, answer), fault, entry)

    def _api(self, request: Request, entry: dict[str, Any], api: str) -> Reply:
        if api not in APIS:
            raise YahooError(404, f"no API {api}", outcome="no_route")
        method, seller_in, handler = APIS[api]
        entry["api"] = api
        if request.method != method:
            raise YahooError(405, f"{api} takes {method}", outcome="method_not_allowed")
        caller = self._caller(request, entry)
        params = request.query if seller_in == "query" else {**request.query, **request.form()}
        seller_id = params.get("seller_id", "")
        entry.update(seller_id=seller_id or None, item_code=params.get("item_code"))
        if not seller_id:
            raise YahooError(400, "seller_id is required", answers.MISSING_SELLER_CODE)
        if seller_id in self.options.foreign_stores:
            entry["refused"] = "foreign_store"
            raise answers.foreign_store(seller_id)
        now = request.received_at or self.clock.now()
        self._admit(api, seller_id, caller.client_id, now, entry)
        fault = self.faults.draw(request.method, request.path)
        if fault in faults.NOTHING_DONE:
            return _fault_reply(fault, entry)
        store = self.state.store(seller_id, now)
        reply = handler(Call(store, params, request, entry, now, self.options))
        return _maybe_lost(reply, fault, entry)

    def _caller(self, request: Request, entry: dict[str, Any]) -> Caller:
        try:
            caller = self.state.grants.authenticate(request.header("authorization"))
        except YahooError:
            entry["refused"] = "invalid_token"
            raise
        entry.update(client_id=caller.client_id, user=caller.user)
        return caller

    def _admit(
        self, api: str, seller_id: str, client_id: str, now: datetime, entry: dict[str, Any]
    ) -> None:
        """The limits: too soon for this (api, store) -> 429; the application's day
        spent -> 403; either refuses without counting or doing anything."""
        try:
            self.state.pacer.check(api, seller_id, now)
            self.state.quota.count(client_id, now)
        except YahooError as err:
            entry["refused"] = err.outcome
            raise
        self.state.pacer.note(api, seller_id, now)

    def _image(self, request: Request) -> Reply:
        """The image origin: not recorded, not counted, faulted only when asked by path."""
        fault = self.faults.draw(request.method, request.path, random_faults=False)
        if fault is not None:
            return _fault_reply(fault, {})
        found = self.origin.get(request.path)
        if found is None or request.method != "GET":
            return Reply.html(404, pages.error_page(404, "Not Found"))
        data, media_type = found
        return Reply(200, data, media_type)

    # ------------------------------------------------------------------ control

    def _control(self, request: Request, path: str) -> Reply:
        """The sandbox's own endpoints, for tests and the demo in other processes."""
        params = {**request.query, **request.form()}
        user = params.get("user") or None
        client_id = params.get("client_id") or None
        post = request.method == "POST"
        grants = self.state.grants
        try:
            if path == "/_sandbox/calls":
                return Reply.json(200, {"calls": self.recorder.calls()})
            if path == "/_sandbox/state":
                return Reply.json(200, self.state.snapshot(params.get("seller_id") or None))
            if path == "/_sandbox/verdict":
                verdict = check_calls(
                    self.recorder.calls(),
                    now=self.clock.now(),
                    expect_all_published=_flag(params.get("expect_all_published")),
                    require_whole_items=_flag(params.get("require_whole_items", "1")),
                )
                return Reply.json(200, verdict.to_json())
            if path == "/_sandbox/faults" and post:
                self._inject(params)
                return Reply.json(200, {"result": True})
            if path == "/_sandbox/odds" and post:
                odds = {faults.kind_of(k): float(p) for k, p in request.form().items()}
                self.faults.set_odds(odds)
                return Reply.json(200, {"result": True})
            if path == "/_sandbox/expire_tokens" and post:
                return Reply.json(200, {"expired": grants.expire_access(user, client_id)})
            if path == "/_sandbox/end_logins" and post:
                return Reply.json(200, {"ended": grants.end_logins(user, client_id)})
            if path == "/_sandbox/spend_budget" and post:
                if client_id is None:
                    raise ValueError("client_id is required")
                spent = self.state.quota.spend(client_id, self.clock.now())
                return Reply.json(200, {"spent": spent})
        except ValueError as exc:
            raise OAuthError(400, "bad_params", str(exc)) from None
        raise OAuthError(404, "not_found", f"no sandbox endpoint {request.method} {path}")

    def _inject(self, params: dict[str, str]) -> None:
        """A fault for the next matching request: `path` (exact, or a prefix ending in
        `*`), or `api` (a store API's name); neither: any store API request."""
        api = params.get("api")
        path = params.get("path") or (API_ROOT + api if api else API_ROOT + "*")
        self.faults.inject(
            faults.kind_of(params.get("kind", "")),
            path=path,
            method=params.get("method") or None,
            count=int(params.get("count", "1")),
            after=int(params.get("after", "0")),
        )


def _refusal(err: YahooError | OAuthError) -> tuple[Reply, str]:
    """A refusal's answer (XML for the store API, JSON for OAuth) and its outcome."""
    if isinstance(err, YahooError):
        return err.reply(), err.outcome
    return Reply.json(err.status, err.body()), err.error


def _fault_reply(fault: str, entry: dict[str, Any]) -> Reply:
    entry["fault"], entry["outcome"] = fault, f"fault:{fault}"
    if fault == faults.SERVER_ERROR:
        return answers.server_error().reply()
    if fault == faults.UNAVAILABLE:
        return answers.unavailable().reply()
    return Reply(200, action={faults.TIMEOUT: HANG, faults.RESET: RESET}.get(fault, DROP))


def _maybe_lost(reply: Reply, fault: str | None, entry: dict[str, Any]) -> Reply:
    """The request was carried out; a lost-response fault closes the connection
    instead of answering."""
    if fault != faults.LOST_RESPONSE:
        return reply
    entry["fault"], entry["outcome"] = fault, f"fault:{fault}"
    return Reply(reply.status, action=DROP)


def _redirect(uri: str, params: dict[str, str]) -> Reply:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return Reply(302, headers={"Location": urlunsplit(parts._replace(query=query))})


def _flag(text: str | None) -> bool:
    return text in ("1", "true", "yes")
