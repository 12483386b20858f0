"""Routing: a parsed request in, a `Reply` out, every request but the control paths
recorded (in the order the sandbox carried them out).

OAuth (consent page, accept page, token endpoint), the Account API and the Inventory
API share one host. A `Reply` may tell the HTTP layer to misbehave (a fault): drop the
connection, reset it, or hang. Control paths under /_sandbox/ are the sandbox's own and
are never faulted or recorded.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.ebay.sandbox import faults, inventory, pages, sellers
from upload_scheduler.platforms.ebay.sandbox.errors import (
    BAD_CONTENT_LANGUAGE,
    NOT_FOUND,
    EbayError,
    OAuthError,
    bad_request,
    concurrent_access,
    not_found_path,
    system_error,
    user_error,
)
from upload_scheduler.platforms.ebay.sandbox.faults import FaultPlan
from upload_scheduler.platforms.ebay.sandbox.oauth import (
    ACCOUNT_SCOPE,
    INVENTORY_SCOPE,
    client_of,
)
from upload_scheduler.platforms.ebay.sandbox.record import Recorder, now_iso
from upload_scheduler.platforms.ebay.sandbox.state import EbaySandboxState
from upload_scheduler.platforms.ebay.sandbox.verdict import check_calls
from upload_scheduler.platforms.sandbox_http import DROP, HANG, RESET, SEND, Request

AUTHORIZE_PATH = "/oauth2/authorize"
ACCEPTED_PATH = "/oauth2/accepted"
DECLINED_PATH = "/oauth2/declined"
TOKEN_PATH = "/identity/v1/oauth2/token"
INVENTORY_ROOT = "/sell/inventory/v1/"
ACCOUNT_ROOT = "/sell/account/v1/"
CONTENT_LANGUAGE = re.compile(r"[a-z]{2}-[A-Z]{2}")
LIST_LIMIT = 200

log = logging.getLogger(__name__)


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
        return None if self.body is None else "application/json"


class EbaySandboxApp:
    def __init__(
        self,
        state: EbaySandboxState,
        fault_plan: FaultPlan,
        recorder: Recorder,
        clock: Clock,
    ) -> None:
        self.state = state
        self.options = state.options
        self.faults = fault_plan
        self.recorder = recorder
        self.clock = clock

    def is_api(self, path: str) -> bool:
        """Requests that get the simulated latency: the APIs and the token endpoint."""
        return path.startswith(("/sell/", "/identity/"))

    def handle(self, request: Request) -> Reply:
        entry: dict[str, Any] = {
            "time": now_iso(request.received_at or self.clock.now()),
            "method": request.method,
            "path": request.path,
            "seller": None,
            "client_id": None,
        }
        with self.state.lock:
            try:
                reply = self._route(request, entry)
            except EbayError as err:
                reply = Reply(err.status, err.body())
                entry["outcome"] = str(err.error_id)
            except OAuthError as err:
                reply = Reply(err.status, err.body())
                entry["outcome"] = err.error
            except Exception:  # a sandbox bug must not pass for one of eBay's answers
                log.exception("ebay sandbox: %s %s failed", request.method, request.path)
                reply = Reply(500, {"sandbox_error": "the sandbox failed; see its log"})
                entry["outcome"] = "sandbox_error"
            entry.setdefault("outcome", "ok")
            entry.setdefault("fault", None)
            entry["status"] = reply.status if reply.action == SEND else None
            if not request.path.startswith("/_sandbox/"):
                self.recorder.add(entry)
        return reply

    # ------------------------------------------------------------------ routes

    def _route(self, request: Request, entry: dict[str, Any]) -> Reply:
        path = request.path
        if path.startswith("/_sandbox/"):
            return self._control(request, path.rstrip("/"))
        if path == AUTHORIZE_PATH:
            return self._authorize(request, entry)
        if path == ACCEPTED_PATH:
            q = request.query
            return Reply(200, html=pages.accepted_page(q.get("code", ""), q.get("state", "")))
        if path == DECLINED_PATH:
            q = request.query
            return Reply(200, html=pages.declined_page(q.get("error", ""), q.get("state", "")))
        if path == TOKEN_PATH:
            return self._token(request, entry)
        if path.startswith((INVENTORY_ROOT, ACCOUNT_ROOT)):
            return self._api(request, entry)
        entry["outcome"] = "no_route"
        return Reply(404, html=pages.NOT_FOUND_PAGE)

    def _authorize(self, request: Request, entry: dict[str, Any]) -> Reply:
        """eBay's consent page. With the sandbox-only `seller` the seller agrees at once
        (`deny=1`: declines) and the browser goes to the accept page with the code."""
        params = {**request.query, **request.form()}
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        entry["client_id"] = client_id or None
        if not client_id or not redirect_uri:
            raise OAuthError(400, "invalid_request", "client_id and redirect_uri are required")
        if params.get("response_type") != "code":
            raise OAuthError(400, "unsupported_response_type", "response_type must be code")
        if not params.get("scope", "").split():
            raise OAuthError(400, "invalid_scope", "the requested scope is missing")
        state = params.get("state", "")
        host = request.header("host")
        origin = f"http://{host}" if host else ""
        if params.get("deny") == "1":
            query = urlencode({"error": "access_denied", "state": state})
            return Reply(302, headers={"Location": f"{origin}{DECLINED_PATH}?{query}"})
        seller = params.get("seller", "").strip()
        if not seller:
            return Reply(200, html=pages.consent_page(params))
        entry["seller"] = seller
        self.state.seller(seller)
        code = self.state.grants.consent(client_id, seller, params["scope"], redirect_uri)
        query = urlencode(
            {
                "isAuthSuccessful": "true",
                "state": state,
                "code": code,
                "expires_in": self.options.code_lifetime,
            }
        )
        return Reply(302, headers={"Location": f"{origin}{ACCEPTED_PATH}?{query}"})

    def _token(self, request: Request, entry: dict[str, Any]) -> Reply:
        if request.method != "POST":
            raise OAuthError(405, "invalid_request", "the token endpoint takes POST")
        client_id = client_of(request.header("authorization"), self.options.client_secret)
        entry["client_id"] = client_id
        form = request.form()
        entry["grant_type"] = form.get("grant_type")
        fault = self.faults.draw(
            request.method, request.path, random_faults=self.options.token_faults
        )
        if fault in faults.NOTHING_DONE:
            entry["fault"], entry["outcome"] = fault, f"fault:{fault}"
            if fault in (faults.SERVER_ERROR, faults.CONCURRENCY):
                return Reply(500, {"error": "server_error", "error_description": "system error"})
            return Reply(200, action=HANG if fault == faults.TIMEOUT else RESET)
        grant, answer = self.state.grants.exchange(client_id, form)
        entry["seller"] = grant.seller
        return self._maybe_lost(Reply(200, answer), fault, entry)

    def _api(self, request: Request, entry: dict[str, Any]) -> Reply:
        account = request.path.startswith(ACCOUNT_ROOT)
        caller = self.state.grants.authenticate(
            request.header("authorization"),
            ACCOUNT_SCOPE if account else INVENTORY_SCOPE,
            read=request.method == "GET",
        )
        entry["seller"], entry["client_id"] = caller.seller, caller.client_id
        fault = self.faults.draw(request.method, request.path)
        if fault in faults.NOTHING_DONE:
            entry["fault"], entry["outcome"] = fault, f"fault:{fault}"
            return _fault_reply(fault, "API_ACCOUNT" if account else "API_INVENTORY")
        self.state.quota.count(caller.client_id, self.clock.now(), account=account)
        seller = self.state.seller(caller.seller)
        if account:
            reply = self._account(request, seller)
        else:
            reply = self._inventory(request, seller, entry)
        return self._maybe_lost(reply, fault, entry)

    def _maybe_lost(self, reply: Reply, fault: str | None, entry: dict[str, Any]) -> Reply:
        """The request was carried out; a lost-response fault drops its answer."""
        if fault != faults.LOST_RESPONSE:
            return reply
        entry["fault"], entry["outcome"] = fault, f"fault:{fault}"
        return Reply(reply.status, action=DROP)

    # ------------------------------------------------------------------ Account API

    def _account(self, request: Request, seller: sellers.Seller) -> Reply:
        parts = _parts(request.path, ACCOUNT_ROOT)
        now = self.clock.now()
        method = request.method
        if parts == ["program", "opt_in"]:
            _allow(method, "POST")
            body = inventory.json_object(_json(request), "body")
            return Reply(200, sellers.opt_in(seller, body, now, self.options.opt_in_delay))
        if parts == ["program", "get_opted_in_programs"]:
            _allow(method, "GET")
            return Reply(200, sellers.opted_in_programs(seller, now))
        if len(parts) == 1 and parts[0].endswith("_policy"):
            kind = parts[0].removesuffix("_policy")
            if kind in sellers.POLICY_KINDS:
                _allow(method, "GET")
                marketplace = request.query.get("marketplace_id")
                return Reply(200, sellers.policies(seller, kind, marketplace, now))
        if parts == ["privilege"]:
            _allow(method, "GET")
            return Reply(200, sellers.privilege())
        raise not_found_path(request.path)

    # ------------------------------------------------------------------ Inventory API

    def _inventory(self, request: Request, seller: sellers.Seller, entry: dict[str, Any]) -> Reply:
        parts = _parts(request.path, INVENTORY_ROOT)
        method = request.method
        if method != "GET":  # every write, bodyless ones too (PLATFORMS.md)
            _content_language(request)
        match parts:
            case ["location"]:
                _allow(method, "GET")
                return Reply(200, inventory.list_locations(seller))
            case ["location", key]:
                _allow(method, "GET", "POST")
                if method == "GET":
                    return Reply(200, inventory.get_location(seller, key))
                inventory.create_location(seller, key, _json(request))
                entry["effect"] = "location_created"
                return Reply(204)
            case ["inventory_item"]:
                _allow(method, "GET")
                limit, offset = _page(request.query, default_limit=25)
                return Reply(200, inventory.list_items(seller, limit, offset))
            case ["inventory_item", sku]:
                return self._item(request, seller, sku, entry)
            case ["offer"]:
                _allow(method, "GET", "POST")
                if method == "GET":
                    entry["sku"] = request.query.get("sku")
                    answer = inventory.find_offers(
                        seller, request.query, self.options.empty_offer_list
                    )
                    return Reply(200, answer)
                offer = inventory.create_offer(seller, _json(request), self.state.ids)
                entry.update(_offer_entry(offer), effect="offer_created")
                return Reply(201, {"offerId": offer.offer_id, "warnings": []})
            case ["offer", offer_id]:
                return self._offer(request, seller, offer_id, entry)
            case ["offer", offer_id, "publish" | "withdraw" as action]:
                _allow(method, "POST")
                target = seller.offers.get(offer_id)
                if target is not None:
                    entry.update(_offer_entry(target))
                if action == "withdraw":
                    listing_id = inventory.withdraw(seller, offer_id)
                    entry.update(listing_id=listing_id, effect="listing_ended")
                    return Reply(200, {"listingId": listing_id, "warnings": []})
                listing_id, created = inventory.publish(
                    seller,
                    offer_id,
                    self.state.ids,
                    required_aspects=self.options.required_aspects,
                    selling_limit=self.options.selling_limit,
                    now=self.clock.now(),
                )
                effect = "listing_created" if created else "listing_revised"
                entry.update(listing_id=listing_id, effect=effect)
                return Reply(200, {"listingId": listing_id, "warnings": []})
        raise not_found_path(request.path)

    def _item(
        self, request: Request, seller: sellers.Seller, sku: str, entry: dict[str, Any]
    ) -> Reply:
        method = request.method
        _allow(method, "GET", "PUT", "DELETE")
        entry["sku"] = sku
        if method == "GET":
            return Reply(200, inventory.get_item(seller, sku))
        if method == "PUT":
            locale = _content_language(request).replace("-", "_")
            revised = inventory.put_item(seller, sku, _json(request), locale)
            entry.update(effect="item_put", revised=len(revised))
            return Reply(204)
        ended = inventory.delete_item(seller, sku)
        entry.update(effect="item_deleted", listings_ended=ended)
        return Reply(204)

    def _offer(
        self, request: Request, seller: sellers.Seller, offer_id: str, entry: dict[str, Any]
    ) -> Reply:
        method = request.method
        _allow(method, "GET", "PUT", "DELETE")
        offer = seller.offers.get(offer_id)
        if offer is not None:
            entry.update(_offer_entry(offer))
        if method == "GET":
            return Reply(200, inventory.get_offer(seller, offer_id))
        if method == "PUT":
            revised = inventory.update_offer(
                seller, offer_id, _json(request), self.options.required_aspects, self.clock.now()
            )
            entry["effect"] = "listing_revised" if revised else "offer_updated"
            return Reply(204)
        ended = inventory.delete_offer(seller, offer_id)
        entry.update(effect="offer_deleted", listings_ended=[ended] if ended else [])
        return Reply(204)

    # ------------------------------------------------------------------ control

    def _control(self, request: Request, path: str) -> Reply:
        """The sandbox's own endpoints, for tests and the demo in other processes."""
        params = {**request.query, **request.form()}
        seller = params.get("seller") or None
        client_id = params.get("client_id") or None
        post = request.method == "POST"
        try:
            if path == "/_sandbox/calls":
                return Reply(200, {"calls": self.recorder.calls()})
            if path == "/_sandbox/state":
                return Reply(200, self.state.snapshot(seller))
            if path == "/_sandbox/verdict":
                verdict = check_calls(
                    self.recorder.calls(),
                    min_interval_seconds=_float(params.get("min_interval")),
                    tolerance_seconds=_float(params.get("tolerance")) or 0.0,
                    expect_all_listed=params.get("expect_all_listed") in ("1", "true"),
                )
                return Reply(200, verdict.to_json())
            if path == "/_sandbox/faults" and post:
                self.faults.inject(
                    params.get("kind", ""),
                    path=params.get("path") or None,
                    method=params.get("method") or None,
                    count=int(params.get("count", "1")),
                    after=int(params.get("after", "0")),
                )
                return Reply(200, {"result": True})
            if path == "/_sandbox/odds" and post:
                self.faults.set_odds({kind: float(p) for kind, p in request.form().items()})
                return Reply(200, {"result": True})
            if path == "/_sandbox/expire_tokens" and post:
                return Reply(200, {"expired": self.state.grants.expire_access(seller, client_id)})
            if path == "/_sandbox/revoke_refresh_tokens" and post:
                revoked = self.state.grants.revoke_refresh(seller, client_id)
                return Reply(200, {"revoked": revoked})
            if path == "/_sandbox/spend_budget" and post:
                if client_id is None:
                    raise ValueError("client_id is required")
                return Reply(200, {"spent": self.state.quota.spend(client_id, self.clock.now())})
        except ValueError as exc:
            raise OAuthError(400, "bad_params", str(exc)) from None
        raise OAuthError(404, "not_found", f"no sandbox endpoint {request.method} {path}")


def _fault_reply(fault: str, domain: str) -> Reply:
    if fault == faults.SERVER_ERROR:
        return Reply(500, system_error(domain).body())
    if fault == faults.CONCURRENCY:
        return Reply(500, concurrent_access(domain).body())
    return Reply(200, action=HANG if fault == faults.TIMEOUT else RESET)


def _parts(path: str, root: str) -> list[str]:
    return [unquote(part) for part in path[len(root) :].strip("/").split("/")]


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise EbayError(405, NOT_FOUND, "Method Not Allowed", domain="ACCESS")


def _content_language(request: Request) -> str:
    """The write's Content-Language (400 / 25709 when missing or malformed)."""
    value = request.header("content-language") or ""
    if not CONTENT_LANGUAGE.fullmatch(value):
        raise user_error(
            BAD_CONTENT_LANGUAGE,
            "Invalid value for header Content-Language.",
            ("Content-Language", value[:20]),
        )
    return value


def _json(request: Request) -> Any:
    try:
        return json.loads(request.body.decode("utf-8")) if request.body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request("The request body is not valid JSON.") from None


def _page(query: dict[str, str], *, default_limit: int) -> tuple[int, int]:
    try:
        limit = int(query.get("limit", default_limit))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise bad_request("limit and offset must be integers") from None
    if not 1 <= limit <= LIST_LIMIT or offset < 0:
        raise bad_request(f"limit must be 1 to {LIST_LIMIT} and offset not negative")
    return limit, offset


def _offer_entry(offer: sellers.Offer) -> dict[str, Any]:
    return {"sku": offer.sku, "marketplace_id": offer.marketplace_id, "offer_id": offer.offer_id}


def _float(text: str | None) -> float | None:
    return float(text) if text not in (None, "") else None
