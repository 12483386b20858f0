"""The eBay sandbox speaks eBay: OAuth's authorization-code grant, the Account API's
set-up calls and the Inventory API's item → offer → publish, with eBay's error envelope
and ids, a day budget per application, faults, a record and a verdict."""

from __future__ import annotations

import base64
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import typer
from typer.testing import CliRunner

from upload_scheduler.cli.app import app
from upload_scheduler.clock import FakeClock
from upload_scheduler.demo.procs import child_env, detached_flags, python_module, stop_process
from upload_scheduler.platforms.ebay.sandbox import (
    EbaySandboxOptions,
    EbaySandboxServer,
    check_calls,
    load_calls,
)
from upload_scheduler.platforms.ebay.sandbox.login import SCOPES, consent_code, user_tokens
from upload_scheduler.platforms.ebay.sandbox.oauth import INVENTORY_SCOPE

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


def test_every_inventory_write_needs_content_language(
    sandbox: EbaySandboxServer, alice: Seller
) -> None:
    assert alice.put_item("SKU-1").status_code == 204
    offer_id = alice.create_offer("SKU-1").json()["offerId"]
    bare = alice.headers()  # no Content-Language
    for method, path in (
        ("POST", f"{INVENTORY}/offer/{offer_id}/publish"),
        ("DELETE", f"{INVENTORY}/inventory_item/SKU-1"),
        ("POST", f"{INVENTORY}/offer"),
    ):
        answer = alice.http.request(method, path, headers=bare, content=b"")
        assert error_of(answer, 400)["errorId"] == 25709
    wrong = alice.write(
        "POST", f"{INVENTORY}/offer/{offer_id}/publish", **{"Content-Language": "en"}
    )
    assert error_of(wrong, 400)["errorId"] == 25709
    held = state_of(sandbox, "alice")
    assert list(held["inventory_items"]) == ["SKU-1"]
    assert held["offers"][0]["status"] == "UNPUBLISHED"


def test_offer_for_a_sku_without_item_is_25702(alice: Seller) -> None:
    error = error_of(alice.create_offer("GHOST"), 400)
    assert error["errorId"] == 25702


def test_location_create_exists_and_lookup(sandbox: EbaySandboxServer) -> None:
    seller = Seller(sandbox.url, "carol")
    path = f"{INVENTORY}/location/WAREHOUSE_2"
    body = {"location": {"address": {"country": "JP", "postalCode": "150-0001"}}}
    assert error_of(seller.get(path), 404)["errorId"] == 25804
    assert seller.write("POST", path, body).status_code == 204
    assert seller.get(path).json()["location"]["address"]["postalCode"] == "150-0001"
    assert error_of(seller.write("POST", path, body), 409)["errorId"] == 25803
    no_postal = {"location": {"address": {"country": "JP", "city": "Shibuya"}}}
    error = error_of(seller.write("POST", f"{INVENTORY}/location/W3", no_postal), 400)
    assert error["errorId"] == 25802
    assert error["parameters"] == [
        {"name": "fieldName", "value": "location.address.stateOrProvince"}
    ]
    no_country = {"location": {"address": {"postalCode": "150-0001"}}}
    error = error_of(seller.write("POST", f"{INVENTORY}/location/W3", no_country), 400)
    assert "location.address.country" in error["message"]
    city = {"location": {"address": {"country": "JP", "city": "Osaka", "stateOrProvince": "Osaka"}}}
    assert seller.write("POST", f"{INVENTORY}/location/W3", city).status_code == 204
    long_key = f"{INVENTORY}/location/{'K' * 37}"
    assert error_of(seller.write("POST", long_key, body), 400)["errorId"] == 25800
    assert sorted(state_of(sandbox, "carol")["locations"]) == ["JP_LOCATION", "W3", "WAREHOUSE_2"]
    seller.close()


@pytest.mark.parametrize(
    "sandbox", [{"sellers_without_location": frozenset({"dan"})}], indirect=True
)
def test_publish_without_the_location_is_25012_until_it_is_created(
    sandbox: EbaySandboxServer,
) -> None:
    dan = Seller(sandbox.url, "dan")
    assert error_of(dan.get(f"{INVENTORY}/location/JP_LOCATION"), 404)["errorId"] == 25804
    assert dan.put_item("SKU-1").status_code == 204
    offer_id = dan.create_offer("SKU-1").json()["offerId"]
    error = error_of(dan.publish(offer_id), 400)
    assert error["errorId"] == 25012
    assert error["parameters"] == [{"name": "merchantLocationKey", "value": "JP_LOCATION"}]
    body = {"location": {"address": {"country": "JP", "postalCode": "100-0001"}}}
    assert dan.write("POST", f"{INVENTORY}/location/JP_LOCATION", body).status_code == 204
    assert dan.publish(offer_id).status_code == 200
    dan.close()


@pytest.mark.parametrize(
    "sandbox",
    [{"sellers_not_opted_in": frozenset({"erin"}), "sellers_with_extra_policies": {"fay"}}],
    indirect=True,
)
def test_business_policies_opt_in_and_policy_checks_at_publish(
    sandbox: EbaySandboxServer,
) -> None:
    erin, fay = Seller(sandbox.url, "erin"), Seller(sandbox.url, "fay")
    assert erin.get(f"{ACCOUNT}/program/get_opted_in_programs").json() == {"programs": []}
    error = error_of(erin.get(f"{ACCOUNT}/fulfillment_policy", marketplace_id="EBAY_US"), 400)
    assert error["errorId"] == 20403
    assert "not opted in" in error["longMessage"]
    assert erin.put_item("SKU-1").status_code == 204
    offer = fay.offer_body("SKU-1")  # fay's policy ids: not erin's
    offer_id = erin.write("POST", f"{INVENTORY}/offer", offer).json()["offerId"]
    refused = erin.publish(offer_id)
    error_ids = [e["errorId"] for e in refused.json()["errors"]]
    assert error_ids == [25007, 25008, 25009]
    assert "not opted in" in refused.json()["errors"][0]["longMessage"]

    opt_in = {"programType": "SELLING_POLICY_MANAGEMENT"}
    first = erin.write("POST", f"{ACCOUNT}/program/opt_in", opt_in)
    assert (first.status_code, first.json()) == (200, {})
    assert (
        error_of(erin.write("POST", f"{ACCOUNT}/program/opt_in", opt_in), 409)["errorId"] == 25803
    )
    programs = erin.get(f"{ACCOUNT}/program/get_opted_in_programs").json()
    assert programs == {"programs": [{"programType": "SELLING_POLICY_MANAGEMENT"}]}
    still = erin.publish(offer_id)  # opted in now, but the ids are fay's
    assert [e["errorId"] for e in still.json()["errors"]] == [25007, 25008, 25009]
    update = erin.offer_body("SKU-1")
    assert erin.write("PUT", f"{INVENTORY}/offer/{offer_id}", update).status_code == 204
    assert erin.publish(offer_id).status_code == 200

    policies = fay.get(f"{ACCOUNT}/fulfillment_policy", marketplace_id="EBAY_US").json()
    assert policies["total"] == 2
    assert len({p["fulfillmentPolicyId"] for p in policies["fulfillmentPolicies"]}) == 2
    gb = fay.get(f"{ACCOUNT}/payment_policy", marketplace_id="EBAY_GB").json()
    assert gb == {"total": 0, "limit": 20, "offset": 0, "paymentPolicies": []}
    assert fay.put_item("SKU-9").status_code == 204
    uk = fay.offer_body("SKU-9", marketplaceId="EBAY_GB")
    uk["pricingSummary"] = {"price": {"value": "9.99", "currency": "GBP"}}
    uk_id = fay.write("POST", f"{INVENTORY}/offer", uk).json()["offerId"]
    assert [e["errorId"] for e in fay.publish(uk_id).json()["errors"]] == [25035, 25035, 25035]
    erin.close()
    fay.close()


def test_publish_lists_every_problem_of_the_offer(alice: Seller) -> None:
    """An item and an offer may be incomplete while they are built; publish says all."""
    bare = {"product": {"description": "A robot."}}  # no title, pictures or condition
    assert alice.write("PUT", f"{INVENTORY}/inventory_item/SKU-1", bare).status_code == 204
    body = alice.offer_body(
        "SKU-1",
        categoryId="",
        merchantLocationKey="NOWHERE",
        availableQuantity=0,
        pricingSummary={"price": {"value": "0", "currency": "USD"}},
    )
    offer_id = alice.write("POST", f"{INVENTORY}/offer", body).json()["offerId"]
    errors = [e["errorId"] for e in alice.publish(offer_id).json()["errors"]]
    assert errors == [25017, 25014, 25021, 25005, 25012, 25003, 25004]


def test_inventory_item_validation(alice: Seller) -> None:
    for sku in ("bad sku", "x" * 51, "ü"):
        assert error_of(alice.put_item(sku), 400)["errorId"] == 25707
    assert alice.put_item("A-b_9" + "x" * 45).status_code == 204
    long_title = alice.put_item("SKU-1", product={"title": "t" * 81})
    assert error_of(long_title, 400)["parameters"] == [
        {"name": "fieldName", "value": "product.title"}
    ]
    assert alice.put_item("SKU-1", product={"title": "t" * 80}).status_code == 204
    assert alice.put_item("SKU-1", product={"description": "d" * 4001}).status_code == 400
    many = [f"https://images.example/{n}.jpg" for n in range(25)]
    assert error_of(alice.put_item("SKU-1", product={"imageUrls": many}), 400)["errorId"] == 25014
    plain = ["http://images.example/1.jpg"]
    assert error_of(alice.put_item("SKU-1", product={"imageUrls": plain}), 400)["errorId"] == 25015
    assert error_of(alice.put_item("SKU-1", condition="SHINY"), 400)["errorId"] == 25021
    path = f"{INVENTORY}/inventory_item/SKU-1"
    no_language = alice.http.put(path, json=item_body(), headers=alice.headers())
    error = error_of(no_language, 400)
    assert (error["errorId"], error["message"]) == (
        25709,
        "Invalid value for header Content-Language.",
    )
    not_json = alice.http.put(
        path, content=b"{", headers=alice.headers(**{"Content-Language": "en-US"})
    )
    assert error_of(not_json, 400)["errorId"] == 2004
    price = alice.offer_body("SKU-1", pricingSummary={"price": {"value": 12.34, "currency": "USD"}})
    assert error_of(alice.write("POST", f"{INVENTORY}/offer", price), 400)["errorId"] == 2004


def test_withdraw_then_delete_the_item_ends_everything(
    sandbox: EbaySandboxServer, alice: Seller
) -> None:
    offer_id, listing_id = alice.list_item("SKU-1")
    withdrawn = alice.write("POST", f"{INVENTORY}/offer/{offer_id}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["listingId"] == listing_id
    offer = alice.get(f"{INVENTORY}/offer/{offer_id}").json()
    assert offer["status"] == "UNPUBLISHED"
    assert "listing" not in offer
    assert error_of(alice.write("POST", f"{INVENTORY}/offer/{offer_id}/withdraw"), 400)
    relisted = alice.publish(offer_id).json()["listingId"]
    assert relisted != listing_id
    deleted = alice.write("DELETE", f"{INVENTORY}/inventory_item/SKU-1")
    assert deleted.status_code == 204
    assert error_of(alice.get(f"{INVENTORY}/inventory_item/SKU-1"), 404)["errorId"] == 25710
    assert error_of(alice.get(f"{INVENTORY}/offer/{offer_id}"), 404)["errorId"] == 25713
    again = alice.write("DELETE", f"{INVENTORY}/inventory_item/SKU-1")
    assert error_of(again, 404)["errorId"] == 25710
    assert state_of(sandbox, "alice")["offers"] == []
    verdict = verdict_of(sandbox, expect_all_listed=1)
    assert verdict["ok"], verdict["problems"]
    assert verdict["sellers"]["alice"]["listings_created"] == {"SKU-1": {"EBAY_US": 2}}
    assert verdict["sellers"]["alice"]["items"] == 0


# ---------------------------------------------------------------------------- limits


@pytest.mark.parametrize("sandbox", [{"app_day_limit": 3}], indirect=True)
def test_day_budget_is_the_applications_shared_by_its_sellers(
    sandbox: EbaySandboxServer, clock: FakeClock, http: httpx.Client
) -> None:
    alice, bob = Seller(sandbox.url, "alice"), Seller(sandbox.url, "bob")
    carol = Seller(sandbox.url, "carol", client_id=OTHER_CLIENT_ID)
    assert alice.put_item("SKU-A1").status_code == 204
    assert alice.put_item("SKU-A2").status_code == 204
    assert bob.put_item("SKU-B1").status_code == 204
    refused = bob.put_item("SKU-B2")
    error = error_of(refused, 429)
    assert error["errorId"] == 2001
    assert error["message"].startswith("Too many requests.")
    assert error_of(alice.get(f"{INVENTORY}/inventory_item/SKU-A1"), 429)["errorId"] == 2001
    assert carol.put_item("SKU-C1").status_code == 204  # another application: its own day
    assert "SKU-B2" not in state_of(sandbox, "bob")["inventory_items"]
    usage = http.get(f"{sandbox.url}/_sandbox/state").json()["applications"]
    assert usage[CLIENT_ID]["calls"] == 3
    assert usage[CLIENT_ID]["refused"] == 2
    assert usage[OTHER_CLIENT_ID]["calls"] == 1
    clock.advance(3600)  # 08:00 UTC: midnight in Los Angeles, a new day for the app
    assert bob.put_item("SKU-B2").status_code == 204
    verdict = verdict_of(sandbox)
    assert verdict["rate_limited"] == 2
    assert not verdict["ok"]
    assert all("429/2001" in problem for problem in verdict["problems"])
    spent = http.post(f"{sandbox.url}/_sandbox/spend_budget", data={"client_id": CLIENT_ID})
    assert spent.json() == {"spent": 2}
    assert error_of(alice.put_item("SKU-A3"), 429)["errorId"] == 2001
    for seller in (alice, bob, carol):
        seller.close()


# ---------------------------------------------------------------------------- faults


def test_lost_response_carries_out_the_publish(
    sandbox: EbaySandboxServer, alice: Seller, http: httpx.Client
) -> None:
    assert alice.put_item("SKU-1").status_code == 204
    offer_id = alice.create_offer("SKU-1").json()["offerId"]
    publish_path = f"{INVENTORY}/offer/{offer_id}/publish"
    injected = http.post(
        f"{sandbox.url}/_sandbox/faults",
        data={"kind": "lost_response", "path": publish_path, "method": "POST"},
    )
    assert injected.status_code == 200
    with pytest.raises(httpx.TransportError):
        alice.publish(offer_id)
    found = alice.get(f"{INVENTORY}/offer", sku="SKU-1", marketplace_id="EBAY_US").json()
    assert found["offers"][0]["status"] == "PUBLISHED"
    listing_id = found["offers"][0]["listing"]["listingId"]
    again = alice.create_offer("SKU-1")  # a client that lost track finds its offer
    assert error_of(again, 400)["parameters"] == [{"name": "offerId", "value": offer_id}]
    verdict = verdict_of(sandbox, expect_all_listed=1)
    assert verdict["ok"], verdict["problems"]
    assert verdict["faults"]["lost_response"] == 1
    publish = next(c for c in sandbox.calls() if c["path"] == publish_path)
    assert (publish["status"], publish["fault"], publish["listing_id"]) == (
        None,
        "lost_response",
        listing_id,
    )


@pytest.mark.parametrize("sandbox", [{"p_lost_response": 0.5, "seed": 7}], indirect=True)
def test_seeded_lost_responses_leave_every_put_carried_out(
    sandbox: EbaySandboxServer, alice: Seller
) -> None:
    lost = []
    for n in range(12):
        try:
            assert alice.put_item(f"SKU-{n}").status_code == 204
        except httpx.TransportError:
            lost.append(n)
    assert 0 < len(lost) < 12
    assert sorted(state_of(sandbox, "alice")["inventory_items"]) == sorted(
        f"SKU-{n}" for n in range(12)
    )
    verdict = verdict_of(sandbox)
    assert verdict["faults"]["lost_response"] == len(lost)
    assert verdict["sellers"]["alice"]["items"] == 12


@pytest.mark.parametrize(("kind", "error_id"), [("server_error", 25001), ("concurrency", 25025)])
def test_server_faults_do_nothing(
    sandbox: EbaySandboxServer, alice: Seller, http: httpx.Client, kind: str, error_id: int
) -> None:
    http.post(f"{sandbox.url}/_sandbox/faults", data={"kind": kind, "path": f"{INVENTORY}/*"})
    error = error_of(alice.put_item("SKU-1"), 500)
    assert (error["errorId"], error["category"]) == (error_id, "APPLICATION")
    assert state_of(sandbox, "alice")["inventory_items"] == {}
    assert alice.put_item("SKU-1").status_code == 204
    assert verdict_of(sandbox)["faults"][kind] == 1


def test_reset_fault_drops_the_connection_and_does_nothing(
    sandbox: EbaySandboxServer, alice: Seller, http: httpx.Client
) -> None:
    http.post(f"{sandbox.url}/_sandbox/faults", data={"kind": "reset"})
    with pytest.raises(httpx.TransportError):
        alice.put_item("SKU-1")
    assert state_of(sandbox, "alice")["inventory_items"] == {}


@pytest.mark.parametrize("sandbox", [{"timeout_hang": 0.3}], indirect=True)
def test_timeout_fault_keeps_silent_and_does_nothing(
    sandbox: EbaySandboxServer, alice: Seller, http: httpx.Client
) -> None:
    http.post(f"{sandbox.url}/_sandbox/faults", data={"kind": "timeout"})
    with pytest.raises(httpx.TransportError):
        alice.http.put(
            f"{INVENTORY}/inventory_item/SKU-1",
            json=item_body(),
            headers=alice.headers(**{"Content-Language": "en-US"}),
            timeout=0.1,
        )
    assert state_of(sandbox, "alice")["inventory_items"] == {}


# ---------------------------------------------------------------------------- verdict


def test_verdict_reports_item_spacing_per_seller(
    sandbox: EbaySandboxServer, clock: FakeClock
) -> None:
    alice, bob = Seller(sandbox.url, "alice"), Seller(sandbox.url, "bob")
    alice.put_item("SKU-1")
    clock.advance(1.5)
    bob.put_item("SKU-1")
    clock.advance(0.25)
    alice.put_item("SKU-2")
    clock.advance(0.5)
    alice.put_item("SKU-3")
    verdict = verdict_of(sandbox, min_interval=1.0)
    assert verdict["sellers"]["alice"]["item_puts"] == 3
    assert verdict["sellers"]["alice"]["min_item_put_gap_seconds"] == 0.5
    assert verdict["sellers"]["bob"]["min_item_put_gap_seconds"] is None
    assert verdict["sellers"]["alice"]["items_without_published_offer"] == [
        "SKU-1",
        "SKU-2",
        "SKU-3",
    ]
    assert len(verdict["problems"]) == 1
    assert "seller alice: PUT inventory_item 0.500 s" in verdict["problems"][0]
    assert verdict_of(sandbox, min_interval=0.5)["ok"]
    assert len(verdict_of(sandbox, expect_all_listed=1)["problems"]) == 4
    alice.close()
    bob.close()


def test_verdict_finds_a_second_offer_or_listing_in_a_record() -> None:
    def call(effect: str, **fields: str) -> dict[str, Any]:
        return {
            "time": "2026-01-05T07:00:00.000000+00:00",
            "method": "POST",
            "path": f"{INVENTORY}/offer",
            "seller": "alice",
            "client_id": CLIENT_ID,
            "outcome": "ok",
            "fault": None,
            "status": 201,
            "sku": "SKU-1",
            "marketplace_id": "EBAY_US",
            "effect": effect,
            **fields,
        }

    calls = [
        call("item_put"),
        call("offer_created", offer_id="1"),
        call("offer_created", offer_id="2"),
        call("listing_created", offer_id="1", listing_id="11"),
        call("listing_created", offer_id="2", listing_id="12"),
    ]
    verdict = check_calls(calls)
    assert len(verdict.problems) == 2
    assert "more than one offer" in verdict.problems[0]
    assert "listed again while offer 1 was live" in verdict.problems[1]


def test_record_holds_no_token_and_the_control_paths_are_not_recorded(
    sandbox: EbaySandboxServer, alice: Seller, http: httpx.Client
) -> None:
    alice.list_item("SKU-1")
    http.get(f"{sandbox.url}/_sandbox/state")
    calls = sandbox.calls()
    assert not [c for c in calls if c["path"].startswith("/_sandbox/")]
    text = repr(calls)
    for secret in sandbox.state.grants.issued:
        assert secret not in text
    assert SECRET not in text
    assert {c["client_id"] for c in calls} == {CLIENT_ID}
    required = {"time", "seller", "client_id", "method", "path", "status", "outcome", "fault"}
    assert all(required <= set(c) for c in calls)


def test_publish_needs_a_content_length(sandbox: EbaySandboxServer, alice: Seller) -> None:
    assert alice.put_item("SKU-1").status_code == 204
    offer_id = alice.create_offer("SKU-1").json()["offerId"]
    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        request = (
            f"POST {INVENTORY}/offer/{offer_id}/publish HTTP/1.0\r\n"
            f"Authorization: Bearer {alice.tokens['access_token']}\r\n\r\n"
        )
        raw.sendall(request.encode("ascii"))
        answer = raw.recv(200).decode("ascii", "replace")
    assert answer.startswith("HTTP/1.0 411")


def test_token_scope_decides_which_api_a_token_may_call(sandbox: EbaySandboxServer) -> None:
    tokens = user_tokens(sandbox.url, CLIENT_ID, "gus", redirect_uri=RUNAME, scope=INVENTORY_SCOPE)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    with httpx.Client(base_url=sandbox.url, timeout=5) as client:
        assert client.get(f"{INVENTORY}/location").status_code == 401
        assert client.get(f"{INVENTORY}/location", headers=headers).status_code == 200
        denied = client.get(f"{ACCOUNT}/program/get_opted_in_programs", headers=headers)
    assert error_of(denied, 403)["errorId"] == 1100


# ---------------------------------------------------------------------------- options


@pytest.mark.parametrize("sandbox", [{"p_server_error": 1.0}], indirect=True)
def test_token_endpoint_is_fault_free_unless_asked(sandbox: EbaySandboxServer) -> None:
    seller = Seller(sandbox.url, "alice")  # consent and token calls are not faulted
    assert error_of(seller.put_item("SKU-1"), 500)["errorId"] == 25001
    seller.close()
    with EbaySandboxServer(EbaySandboxOptions(p_server_error=1.0, token_faults=True)) as other:
        with pytest.raises(ValueError, match="HTTP 500"):
            user_tokens(other.url, CLIENT_ID, "alice", redirect_uri=RUNAME)


@pytest.mark.parametrize(
    "sandbox", [{"sellers_not_opted_in": frozenset({"erin"}), "opt_in_delay": 600}], indirect=True
)
def test_an_opt_in_takes_effect_once_processed(
    sandbox: EbaySandboxServer, clock: FakeClock
) -> None:
    erin = Seller(sandbox.url, "erin")
    opt_in = {"programType": "SELLING_POLICY_MANAGEMENT"}
    assert erin.write("POST", f"{ACCOUNT}/program/opt_in", opt_in).status_code == 200
    policies = f"{ACCOUNT}/return_policy"
    assert error_of(erin.get(policies, marketplace_id="EBAY_US"), 400)["errorId"] == 20403
    assert error_of(erin.write("POST", f"{ACCOUNT}/program/opt_in", opt_in), 409)
    clock.advance(600)
    assert erin.get(policies, marketplace_id="EBAY_US").json()["total"] == 1
    erin.close()


@pytest.mark.parametrize(
    "sandbox",
    [{"empty_offer_list": True, "required_aspects": {"Brand", "Type"}, "selling_limit": 1}],
    indirect=True,
)
def test_empty_offer_list_required_aspects_and_selling_limit(alice: Seller) -> None:
    none = alice.get(f"{INVENTORY}/offer", sku="SKU-1")
    assert (none.status_code, none.json()["offers"]) == (200, [])
    assert alice.put_item("SKU-1").status_code == 204
    offer_id = alice.create_offer("SKU-1").json()["offerId"]
    refused = alice.publish(offer_id)
    assert error_of(refused, 400)["errorId"] == 25029
    assert refused.json()["errors"][0]["message"] == "Type is required for this category."
    aspects = {"Brand": ["Nomura"], "Type": ["Robot"]}
    assert alice.put_item("SKU-1", product={"aspects": aspects}).status_code == 204
    assert alice.publish(offer_id).status_code == 200
    assert alice.put_item("SKU-2", product={"aspects": aspects}).status_code == 204
    second = alice.create_offer("SKU-2").json()["offerId"]
    assert error_of(alice.publish(second), 400)["errorId"] == 25026


def test_cli_refuses_the_other_platforms_options_and_describes_every_option() -> None:
    runner = CliRunner()
    serve = ["sandbox", "serve"]
    for argv, named in (
        (["--platform", "ebay", "--hour-limit", "5"], "--hour-limit is for the BASE sandbox"),
        (["--app-day-limit", "5"], "--app-day-limit is for the eBay sandbox"),
        (["--platform", "etsy"], "--platform must be one of base, ebay"),
    ):
        result = runner.invoke(app, [*serve, *argv])
        assert result.exit_code == 2, result.output
        assert named in " ".join(result.output.split())
    shown = runner.invoke(app, [*serve, "--help"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0
    group: Any = typer.main.get_command(app)
    command = group.commands["sandbox"].commands["serve"]
    options = [param.opts[0] for param in command.params]
    assert "--sellers-with-extra-policies" in options
    missing = [name for name in options if name not in shown.output]
    assert not missing


# ---------------------------------------------------------------------------- process


def test_cli_serves_ebay_as_a_process_and_prints_its_url_first(tmp_path: Path) -> None:
    """`upload-scheduler sandbox serve --platform ebay`, as a rehearsing user starts it,
    stopped as the demo stops its children (SIGTERM; CTRL_BREAK on Windows)."""
    record = tmp_path / "calls.jsonl"
    serve = ["sandbox", "serve", "--platform", "ebay", "--port", "0", "--record", str(record)]
    process = subprocess.Popen(
        python_module("upload_scheduler", *serve, "--token-lifetime", "60"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=child_env(),
        **detached_flags(),
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
        stop_process(process)
        assert process.returncode == 0
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
