"""The eBay sandbox speaks eBay: OAuth's authorization-code grant, the Account API's
set-up calls and the Inventory API's item → offer → publish, with eBay's error envelope
and ids, a day budget per application, faults, a record and a verdict."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from upload_scheduler.clock import FakeClock
from upload_scheduler.platforms.ebay.sandbox import (
    EbaySandboxOptions,
    EbaySandboxServer,
    check_calls,
    load_calls,
)
from upload_scheduler.platforms.ebay.sandbox.login import SCOPES, consent_code, user_tokens

CLIENT_ID = "app-one-PRD-1234"
OTHER_CLIENT_ID = "app-two-PRD-5678"
SECRET = "sandbox-secret"
RUNAME = "Test_App-TestApp-PRD-runame"
INVENTORY = "/sell/inventory/v1"
ACCOUNT = "/sell/account/v1"
# 2026-01-04 23:00 in Los Angeles: the application's day ends an hour later (08:00 UTC).
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class Seller:
    """An HTTP client holding one seller's user token under one application."""

    def __init__(self, url: str, name: str, client_id: str = CLIENT_ID) -> None:
        self.url = url
        self.name = name
        self.client_id = client_id
        self.tokens = user_tokens(url, client_id, name, redirect_uri=RUNAME)
        self.http = httpx.Client(base_url=url, timeout=5)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}", **extra}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers())

    def write(self, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
        sent = {"Content-Language": "en-US", **headers}
        if body is None:
            return self.http.request(method, path, headers=self.headers(**sent), content=b"")
        return self.http.request(method, path, json=body, headers=self.headers(**sent))

    def put_item(self, sku: str, **changes: Any) -> httpx.Response:
        return self.write("PUT", f"{INVENTORY}/inventory_item/{sku}", item_body(**changes))

    def policy_ids(self, marketplace: str = "EBAY_US") -> dict[str, str]:
        ids = {}
        for kind in ("fulfillment", "payment", "return"):
            answer = self.get(f"{ACCOUNT}/{kind}_policy", marketplace_id=marketplace)
            assert answer.status_code == 200, answer.text
            ids[f"{kind}PolicyId"] = answer.json()[f"{kind}Policies"][0][f"{kind}PolicyId"]
        return ids

    def offer_body(self, sku: str, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sku": sku,
            "marketplaceId": "EBAY_US",
            "format": "FIXED_PRICE",
            "availableQuantity": 3,
            "categoryId": "261186",
            "merchantLocationKey": "JP_LOCATION",
            "listingPolicies": self.policy_ids(),
            "pricingSummary": {"price": {"value": "12.34", "currency": "USD"}},
            "listingDuration": "GTC",
        }
        return {**body, **changes}

    def create_offer(self, sku: str, **changes: Any) -> httpx.Response:
        return self.write("POST", f"{INVENTORY}/offer", self.offer_body(sku, **changes))

    def publish(self, offer_id: str) -> httpx.Response:
        return self.write("POST", f"{INVENTORY}/offer/{offer_id}/publish")

    def list_item(self, sku: str) -> tuple[str, str]:
        """item → offer → publish: (offerId, listingId)."""
        assert self.put_item(sku).status_code == 204
        created = self.create_offer(sku)
        assert created.status_code == 201, created.text
        offer_id = created.json()["offerId"]
        published = self.publish(offer_id)
        assert published.status_code == 200, published.text
        return offer_id, published.json()["listingId"]

    def close(self) -> None:
        self.http.close()


def item_body(**changes: Any) -> dict[str, Any]:
    product = {
        "title": "Tin robot, wind-up, 1960s",
        "description": "A wind-up tin robot from Japan.",
        "imageUrls": ["https://images.example/robot-1.jpg"],
        "aspects": {"Brand": ["Nomura"]},
    }
    body: dict[str, Any] = {
        "product": {**product, **changes.pop("product", {})},
        "condition": "NEW",
        "availability": {"shipToLocationAvailability": {"quantity": 3}},
    }
    return {**body, **changes}


def error_of(answer: httpx.Response, status: int) -> dict[str, Any]:
    """errors[0] of an eBay error answer, after checking the envelope."""
    assert answer.status_code == status, answer.text
    errors = answer.json()["errors"]
    for entry in errors:
        assert set(entry) == {
            "errorId",
            "domain",
            "category",
            "message",
            "longMessage",
            "parameters",
        }
    first: dict[str, Any] = errors[0]
    return first


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sandbox(clock: FakeClock, request: pytest.FixtureRequest) -> Iterator[EbaySandboxServer]:
    options = getattr(request, "param", {})
    with EbaySandboxServer(EbaySandboxOptions(**options), clock=clock) as server:
        yield server


@pytest.fixture
def alice(sandbox: EbaySandboxServer) -> Iterator[Seller]:
    seller = Seller(sandbox.url, "alice")
    yield seller
    seller.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def state_of(sandbox: EbaySandboxServer, seller: str) -> dict[str, Any]:
    answer = httpx.get(f"{sandbox.url}/_sandbox/state", params={"seller": seller}, timeout=5)
    result: dict[str, Any] = answer.json()["sellers"][seller]
    return result


def verdict_of(sandbox: EbaySandboxServer, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(
        f"{sandbox.url}/_sandbox/verdict", params=params, timeout=5
    ).json()
    return result


# ---------------------------------------------------------------------------- OAuth


def test_consent_page_asks_then_redirects_to_the_accept_page_with_the_code(
    sandbox: EbaySandboxServer, http: httpx.Client
) -> None:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": RUNAME,
        "response_type": "code",
        "scope": SCOPES,
        "state": "s-1",
    }
    page = http.get(f"{sandbox.url}/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert 'name="seller" value="sandbox-seller"' in page.text
    agreed = http.get(f"{sandbox.url}/oauth2/authorize", params={**params, "seller": "bob"})
    assert agreed.status_code == 302
    location = urlsplit(agreed.headers["location"])
    assert location.path == "/oauth2/accepted"
    query = parse_qs(location.query)
    assert query["state"] == ["s-1"]
    code = query["code"][0]
    assert "#" in code and "^" in code  # the client must decode the address it is given
    accepted = http.get(agreed.headers["location"])
    assert accepted.status_code == 200
    assert code.replace("&", "&amp;") in accepted.text
    declined = http.get(f"{sandbox.url}/oauth2/authorize", params={**params, "deny": "1"})
    assert urlsplit(declined.headers["location"]).path == "/oauth2/declined"


def test_code_for_tokens_then_refresh_gives_an_access_token_only(
    sandbox: EbaySandboxServer, http: httpx.Client
) -> None:
    code = consent_code(sandbox.url, CLIENT_ID, RUNAME, "alice")
    token_url = f"{sandbox.url}/identity/v1/oauth2/token"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": RUNAME}
    wrong = http.post(token_url, data=form, headers=basic(secret="nope"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    answer = http.post(token_url, data=form, headers=basic())
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert set(tokens) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
    }
    assert tokens["token_type"] == "User Access Token"
    assert tokens["expires_in"] == 7200
    assert tokens["refresh_token_expires_in"] == 47_304_000
    access = tokens["access_token"]
    assert len(access) > 1900
    assert all(ch in access for ch in "#^+/=")
    again = http.post(token_url, data=form, headers=basic())  # a code is used once
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    refreshed = http.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": SCOPES,
        },
        headers=basic(),
    )
    assert refreshed.status_code == 200, refreshed.text
    assert set(refreshed.json()) == {"access_token", "expires_in", "token_type"}
    assert refreshed.json()["access_token"] != access
    wider = http.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": f"{SCOPES} https://api.ebay.com/oauth/api_scope/sell.fulfillment",
        },
        headers=basic(),
    )
    assert wider.json()["error"] == "invalid_scope"
    other_app = http.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(OTHER_CLIENT_ID),
    )
    assert other_app.status_code == 400
    assert other_app.json()["error"] == "invalid_grant"


def test_dead_refresh_token_is_invalid_grant(
    sandbox: EbaySandboxServer, alice: Seller, http: httpx.Client
) -> None:
    revoked = http.post(f"{sandbox.url}/_sandbox/revoke_refresh_tokens", data={"seller": "alice"})
    assert revoked.json() == {"revoked": 1}
    answer = http.post(
        f"{sandbox.url}/identity/v1/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": alice.tokens["refresh_token"]},
        headers=basic(),
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_grant"
    assert body["error_description"]


def test_expired_missing_or_unknown_token_is_401_1001(
    sandbox: EbaySandboxServer, alice: Seller, clock: FakeClock, http: httpx.Client
) -> None:
    path = f"{sandbox.url}{INVENTORY}/inventory_item/SKU-1"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        error = error_of(http.get(path, headers=headers), 401)
        assert error["errorId"] == 1001
    assert alice.get(f"{INVENTORY}/inventory_item/SKU-1").status_code == 404  # valid token
    clock.advance(7200)
    error = error_of(alice.get(f"{INVENTORY}/inventory_item/SKU-1"), 401)
    assert error["errorId"] == 1001
    assert error["domain"] == "OAuth"


# ---------------------------------------------------------------------------- the flow


def test_item_offer_publish_and_lookups(sandbox: EbaySandboxServer, alice: Seller) -> None:
    assert alice.put_item("SKU-1").status_code == 204
    item = alice.get(f"{INVENTORY}/inventory_item/SKU-1").json()
    assert item["product"]["title"] == "Tin robot, wind-up, 1960s"
    assert item["locale"] == "en_US"
    assert error_of(alice.get(f"{INVENTORY}/inventory_item/NOPE"), 404)["errorId"] == 25710
    missing = alice.get(f"{INVENTORY}/offer", sku="SKU-1", marketplace_id="EBAY_US")
    assert error_of(missing, 404)["errorId"] == 25713

    created = alice.create_offer("SKU-1")
    assert created.status_code == 201, created.text
    offer_id = created.json()["offerId"]
    found = alice.get(f"{INVENTORY}/offer", sku="SKU-1", marketplace_id="EBAY_US").json()
    assert found["total"] == 1
    assert found["offers"][0]["offerId"] == offer_id
    assert found["offers"][0]["status"] == "UNPUBLISHED"
    assert "listing" not in found["offers"][0]

    twice = alice.create_offer("SKU-1")
    error = error_of(twice, 400)
    assert error["errorId"] == 25002
    assert error["message"] == "A user error has occurred. Offer entity already exists."
    assert error["parameters"] == [{"name": "offerId", "value": offer_id}]

    published = alice.publish(offer_id)
    assert published.status_code == 200, published.text
    listing_id = published.json()["listingId"]
    offer = alice.get(f"{INVENTORY}/offer", sku="SKU-1", marketplace_id="EBAY_US").json()
    assert offer["offers"][0]["status"] == "PUBLISHED"
    assert offer["offers"][0]["listing"]["listingId"] == listing_id
    assert alice.get(f"{INVENTORY}/offer/{offer_id}").json()["status"] == "PUBLISHED"

    republished = alice.publish(offer_id)  # a revision, not a second listing
    assert republished.json()["listingId"] == listing_id
    held = state_of(sandbox, "alice")["offers"][0]
    assert held["publishes"] == 2
    assert held["revisions"] == 1
    assert held["listings"] == [listing_id]
    assert (held["price"], held["currency"], held["categoryId"]) == ("12.34", "USD", "261186")
    verdict = verdict_of(sandbox)
    assert verdict["ok"], verdict["problems"]
    assert verdict["sellers"]["alice"]["listings_created"] == {"SKU-1": {"EBAY_US": 1}}
    assert verdict["sellers"]["alice"]["revisions"] == {"SKU-1": 1}


def test_offer_for_a_sku_without_item_is_25702(alice: Seller) -> None:
    error = error_of(alice.create_offer("GHOST"), 400)
    assert error["errorId"] == 25702


# ---------------------------------------------------------------------------- process


def test_cli_serves_ebay_as_a_process_and_prints_its_url_first(tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    command = [sys.executable, "-m", "upload_scheduler", "sandbox", "serve", "--platform", "ebay"]
    process = subprocess.Popen(
        [*command, "--port", "0", "--record", str(record), "--token-lifetime", "60"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("Sandbox listening on http://127.0.0.1:"), first
        url = first.rsplit(" ", 1)[1]
        tokens = user_tokens(url, CLIENT_ID, "alice", redirect_uri=RUNAME)
        assert tokens["expires_in"] == 60
        with httpx.Client(timeout=5) as client:
            answer = client.get(
                f"{url}{ACCOUNT}/program/get_opted_in_programs",
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
        assert answer.json() == {"programs": [{"programType": "SELLING_POLICY_MANAGEMENT"}]}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Sandbox stopped." in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    calls = load_calls(record)
    assert [c["path"] for c in calls][-1] == f"{ACCOUNT}/program/get_opted_in_programs"
    text = record.read_text(encoding="utf-8")
    assert tokens["access_token"] not in text and tokens["refresh_token"] not in text
    assert check_calls(calls).ok
