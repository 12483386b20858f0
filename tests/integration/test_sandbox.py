"""The sandbox speaks BASE: same paths, fields, answers and HTTP 400 error envelope; it
enforces the limits, injects faults, records every request, and judges a run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.base_helpers import CLIENT_ID, REDIRECT_URI, START, obtain_code
from upload_scheduler.clock import FakeClock
from upload_scheduler.platforms.thebase.sandbox import (
    SandboxOptions,
    SandboxServer,
    check_calls,
    load_calls,
)
from upload_scheduler.platforms.thebase.sandbox.faults import FaultPlan


class Shop:
    """A logged-in HTTP client for one sandbox shop."""

    def __init__(self, url: str, name: str, client: httpx.Client) -> None:
        self.url = url
        self.client = client
        code = obtain_code(url, name)
        self.tokens = self.oauth(grant_type="authorization_code", code=code).json()
        self.headers = {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def oauth(self, **form: str) -> httpx.Response:
        base = {"client_id": CLIENT_ID, "client_secret": "any", "redirect_uri": REDIRECT_URI}
        return self.client.post(f"{self.url}/1/oauth/token", data={**base, **form})

    def post(self, path: str, **form: Any) -> httpx.Response:
        return self.client.post(f"{self.url}{path}", data=form, headers=self.headers)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(f"{self.url}{path}", params=params, headers=self.headers)

    def add(self, identifier: str, **form: Any) -> httpx.Response:
        fields = {"title": "商品", "price": 1000, "stock": 1, "identifier": identifier, **form}
        return self.post("/1/items/add", **fields)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sandbox(clock: FakeClock, request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    options = getattr(request, "param", {})
    with SandboxServer(SandboxOptions(**options), clock=clock) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def assert_error(answer: httpx.Response, code: str) -> str:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == code
    return str(body["error_description"])


# ---------------------------------------------------------------------------- lifecycle


def test_starts_in_under_a_second_in_process() -> None:
    started = time.perf_counter()
    with SandboxServer() as server, httpx.Client() as client:
        answer = client.get(f"{server.url}/_sandbox/calls")
        elapsed = time.perf_counter() - started
    assert answer.json() == {"calls": []}
    assert elapsed < 1.0


def test_runs_as_a_process_prints_its_url_and_stops_on_a_signal(tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    command = [sys.executable, "-m", "upload_scheduler.platforms.thebase.sandbox"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--port", "0", "--record", str(record), "--token-lifetime", "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        elapsed = time.perf_counter() - started
        assert first.startswith("Sandbox listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1]
        code = obtain_code(url, "shop_p")
        with httpx.Client() as client:
            form = {
                "grant_type": "authorization_code",
                "client_id": CLIENT_ID,
                "client_secret": "x",
                "code": code,
                "redirect_uri": REDIRECT_URI,
            }
            tokens = client.post(f"{url}/1/oauth/token", data=form).json()
        assert tokens["expires_in"] == 5
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "Sandbox stopped." in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    # Loaded CI machines are slower than a laptop; the budget itself is 1 s.
    assert elapsed < 2.0, f"startup took {elapsed:.2f} s"
    assert [c["path"] for c in load_calls(record)] == ["/1/oauth/authorize", "/1/oauth/token"]


# ---------------------------------------------------------------------------- OAuth


def test_authorize_redirects_with_code_and_state_and_codes_are_single_use(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": "http://127.0.0.1:1/cb?x=1",
        "scope": "read_items write_items",
        "state": "s-1",
        "shop": "a",
    }
    answer = http.get(f"{sandbox.url}/1/oauth/authorize", params=params)
    location = httpx.URL(answer.headers["location"])
    assert answer.status_code == 302
    assert (location.path, location.params["state"], location.params["x"]) == ("/cb", "s-1", "1")
    denied = http.get(f"{sandbox.url}/1/oauth/authorize", params={**params, "deny": "1"})
    assert httpx.URL(denied.headers["location"]).params["error"] == "access_denied"
    assert_error(http.get(f"{sandbox.url}/1/oauth/authorize"), "invalid_request")

    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": "x",
        "code": location.params["code"],
        "redirect_uri": "http://127.0.0.1:1/cb?x=1",
    }
    tokens = http.post(f"{sandbox.url}/1/oauth/token", data=form).json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    again = http.post(f"{sandbox.url}/1/oauth/token", data=form)
    assert assert_error(again, "invalid_request") == "不正な認可コードです。"
    no_secret = http.post(f"{sandbox.url}/1/oauth/token", data={**form, "client_secret": ""})
    assert "client_secret" in assert_error(no_secret, "invalid_request")
    bad_grant = http.post(f"{sandbox.url}/1/oauth/token", data={**form, "grant_type": "password"})
    assert assert_error(bad_grant, "invalid_request") == "不正なgrant_typeです。"


def test_refresh_rotates_the_refresh_token(sandbox: SandboxServer, http: httpx.Client) -> None:
    shop = Shop(sandbox.url, "a", http)
    first = shop.tokens["refresh_token"]
    renewed = shop.oauth(grant_type="refresh_token", refresh_token=first)
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != first
    reused = shop.oauth(grant_type="refresh_token", refresh_token=first)
    assert assert_error(reused, "invalid_request") == "不正なリフレッシュトークンです。"


def test_access_tokens_expire(sandbox: SandboxServer, http: httpx.Client, clock: FakeClock) -> None:
    shop = Shop(sandbox.url, "a", http)
    assert shop.get("/1/items").status_code == 200
    clock.advance(3600)
    assert assert_error(shop.get("/1/items"), "invalid_request") == "アクセストークンが無効です。"
    renewed = shop.oauth(grant_type="refresh_token", refresh_token=shop.tokens["refresh_token"])
    shop.headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert shop.get("/1/items").status_code == 200
    assert http.post(f"{sandbox.url}/_sandbox/expire_tokens", data={"shop": "a"}).json() == {
        "expired": 1
    }
    assert_error(shop.get("/1/items"), "invalid_request")
    http.post(f"{sandbox.url}/_sandbox/revoke_refresh_tokens")
    refused = shop.oauth(grant_type="refresh_token", refresh_token=renewed.json()["refresh_token"])
    assert_error(refused, "invalid_request")
    no_token = http.get(f"{sandbox.url}/1/items")
    assert assert_error(no_token, "invalid_request") == "アクセストークンが無効です。"


# ---------------------------------------------------------------------------- items


def test_items_add_list_detail_delete(sandbox: SandboxServer, http: httpx.Client) -> None:
    shop = Shop(sandbox.url, "a", http)
    other = Shop(sandbox.url, "b", http)
    item = shop.add("B01", detail="説明", visible=0).json()["item"]
    assert item["identifier"] == "B01" and item["visible"] == 0 and item["img1_origin"] is None
    image = shop.post(
        "/1/items/add_image", item_id=item["item_id"], image_no=2, image_url="https://x/1.jpg"
    )
    assert image.json()["item"]["img2_origin"] == "https://x/1.jpg"
    for n in range(2, 5):
        shop.add(f"B0{n}")
    listed = shop.get("/1/items", order="created", sort="desc", limit=2, offset=1).json()["items"]
    assert [i["identifier"] for i in listed] == ["B03", "B02"]
    assert "img6_origin" not in listed[0]  # max_image_no defaults to 5, as on BASE
    assert "img20_origin" in shop.get("/1/items", max_image_no=20).json()["items"][0]
    assert other.get("/1/items").json() == {"items": []}  # shops are separate

    detail = shop.get(f"/1/items/detail/{item['item_id']}").json()["item"]
    assert detail["img2_origin"] == "https://x/1.jpg"
    # The old system sent the id in the query string and got 400.
    assert_error(shop.get("/1/items/detail", item_id=item["item_id"]), "no_item_id")
    assert_error(other.get(f"/1/items/detail/{item['item_id']}"), "no_item")

    assert shop.post("/1/items/delete", item_id=item["item_id"]).json() == {"result": True}
    assert_error(shop.post("/1/items/delete", item_id=item["item_id"]), "bad_item_id")
    assert_error(shop.get("/1/items/add"), "not_post_method")


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"title": ""}, "validation_error"),
        ({"price": "abc"}, "validation_error"),
        ({"stock": ""}, "validation_error"),
        ({"title": "犬🐕"}, "validation_error"),
        ({"detail": "𠮷野家"}, "validation_error"),  # a 4-byte kanji, not only emoji
    ],
)
def test_items_add_validation(
    sandbox: SandboxServer, http: httpx.Client, form: dict[str, str], code: str
) -> None:
    shop = Shop(sandbox.url, "a", http)
    description = assert_error(shop.add("B01", **form), code)
    assert description.startswith("バリデーションエラーです。")
    assert sandbox.state.items_of("a") == []


def test_add_image_errors(sandbox: SandboxServer, http: httpx.Client) -> None:
    shop = Shop(sandbox.url, "a", http)
    item_id = shop.add("B01").json()["item"]["item_id"]
    image = "https://x/1.jpg"
    assert_error(
        shop.post("/1/items/add_image", item_id=999, image_no=1, image_url=image), "bad_item_id"
    )
    assert_error(
        shop.post("/1/items/add_image", item_id=item_id, image_no=21, image_url=image), "bad_params"
    )
    assert_error(
        shop.post("/1/items/add_image", item_id=item_id, image_no=1, image_url="x"), "no_image"
    )
    assert_error(shop.get("/1/items", limit=101), "bad_params")


# ---------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "sandbox", [{"hour_call_limit": 2, "day_call_limit": 3, "token_lifetime": 86400}], indirect=True
)
def test_hour_and_day_limits_reset_on_the_clock(
    sandbox: SandboxServer, http: httpx.Client, clock: FakeClock
) -> None:
    shop = Shop(sandbox.url, "a", http)
    other = Shop(sandbox.url, "b", http)
    clock.set(START + timedelta(minutes=59))
    assert shop.get("/1/items").status_code == 200
    assert shop.get("/1/items").status_code == 200
    text = assert_error(shop.get("/1/items"), "hour_api_limit")
    assert text.startswith("1時間のAPIの利用上限を超えました")
    assert other.get("/1/items").status_code == 200  # per shop
    clock.set(START + timedelta(hours=1))
    assert shop.get("/1/items").status_code == 200
    assert assert_error(shop.get("/1/items"), "day_api_limit").startswith("1日のAPIの利用上限")
    clock.set(datetime(2026, 1, 5, 15, 0, tzinfo=UTC))  # midnight in Tokyo
    assert shop.get("/1/items").status_code == 200
    limited = [c["outcome"] for c in sandbox.calls() if c["outcome"].endswith("api_limit")]
    assert limited == ["hour_api_limit", "day_api_limit"]


@pytest.mark.parametrize("sandbox", [{"daily_item_limit": 1}], indirect=True)
def test_daily_creation_limit(sandbox: SandboxServer, http: httpx.Client) -> None:
    shop = Shop(sandbox.url, "a", http)
    assert shop.add("B01").status_code == 200
    assert_error(shop.add("B02"), "item_limit")


@pytest.mark.parametrize(
    "sandbox", [{"hour_call_limit": 5, "day_call_limit": 8, "token_lifetime": 86400}], indirect=True
)
def test_spend_budget_limits_one_shop_until_its_period_ends(
    sandbox: SandboxServer, http: httpx.Client, clock: FakeClock
) -> None:
    """A test in another process can put one shop at its hour (or day) limit."""
    shop = Shop(sandbox.url, "a", http)
    other = Shop(sandbox.url, "b", http)
    clock.set(START + timedelta(minutes=59))
    assert shop.get("/1/items").status_code == 200
    spend = f"{sandbox.url}/_sandbox/spend_budget"
    assert http.post(spend, data={"shop": "a", "period": "hour"}).json() == {"spent": 4}
    assert_error(shop.post("/1/items/add", title="x", price=1, stock=1), "hour_api_limit")
    assert other.get("/1/items").status_code == 200  # only that shop
    clock.set(START + timedelta(hours=1))
    assert shop.get("/1/items").status_code == 200  # a new hour: a new budget
    assert http.post(spend, data={"shop": "a", "period": "day"}).json() == {"spent": 6}
    assert_error(shop.get("/1/items"), "day_api_limit")
    assert http.post(spend, data={"shop": "a", "period": "day"}).json() == {"spent": 0}
    assert_error(http.post(spend, data={"shop": "a", "period": "week"}), "bad_params")
    assert_error(http.post(spend, data={"period": "hour"}), "bad_params")
    assert [c["outcome"] for c in sandbox.calls() if c["shop"] == "a"][-3:] == [
        "hour_api_limit",
        "ok",
        "day_api_limit",
    ]


# ---------------------------------------------------------------------------- faults


def test_lost_response_creates_the_item_and_drops_the_answer(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    shop = Shop(sandbox.url, "a", http)
    sandbox.faults.inject("lost_response", path="/1/items/add")
    with pytest.raises(httpx.RemoteProtocolError):
        shop.add("B01")
    assert [i["identifier"] for i in sandbox.state.items_of("a")] == ["B01"]
    last = sandbox.calls()[-1]
    assert (last["outcome"], last["status"], last["identifier"]) == (
        "fault:lost_response",
        None,
        "B01",
    )


def test_reset_and_server_error_faults(sandbox: SandboxServer, http: httpx.Client) -> None:
    shop = Shop(sandbox.url, "a", http)
    http.post(f"{sandbox.url}/_sandbox/faults", data={"kind": "reset", "path": "/1/items"})
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        shop.get("/1/items")
    sandbox.faults.inject("server_error")
    assert shop.add("B01").status_code == 500
    assert sandbox.state.items_of("a") == []
    assert shop.add("B01").status_code == 200


@pytest.mark.parametrize("sandbox", [{"timeout_hang": 0.5}], indirect=True)
def test_timeout_fault_hangs_then_closes(sandbox: SandboxServer) -> None:
    with httpx.Client(timeout=5) as http:
        shop = Shop(sandbox.url, "a", http)
        sandbox.faults.inject("timeout", path="/1/items/add")
        with (
            httpx.Client(timeout=httpx.Timeout(0.2)) as impatient,
            pytest.raises(httpx.ReadTimeout),
        ):
            impatient.post(f"{sandbox.url}/1/items/add", data={"title": "t"}, headers=shop.headers)


def test_random_faults_repeat_with_the_same_seed() -> None:
    def run(seed: int) -> list[str | None]:
        plan = FaultPlan(p_server_error=0.2, p_reset=0.1, p_lost_response=0.1, seed=seed)
        return [plan.draw("/1/items/add") for _ in range(200)]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert 20 < sum(1 for f in first if f) < 140
    with pytest.raises(ValueError):
        SandboxOptions(p_server_error=0.6, p_reset=0.6)


@pytest.mark.parametrize("sandbox", [{"p_server_error": 1.0, "seed": 1}], indirect=True)
def test_odds_endpoint_lets_the_network_heal(sandbox: SandboxServer, http: httpx.Client) -> None:
    shop = Shop(sandbox.url, "a", http)
    assert shop.add("B01").status_code == 500
    odds = f"{sandbox.url}/_sandbox/odds"
    assert http.post(odds, data={"server_error": "0"}).json() == {"result": True}
    assert shop.add("B01").status_code == 200
    # Only the kinds named change; impossible odds are refused and change nothing.
    assert http.post(odds, data={"lost_response": "1"}).status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        shop.add("B02")
    assert_error(http.post(odds, data={"server_error": "0.5"}), "bad_params")
    assert_error(http.post(odds, data={"flood": "0.1"}), "bad_params")
    assert_error(http.post(odds, data={"reset": "-1"}), "bad_params")
    assert http.post(odds, data={"lost_response": "0"}).status_code == 200
    assert shop.add("B03").status_code == 200
    assert [i["identifier"] for i in sandbox.state.items_of("a")] == ["B01", "B02", "B03"]


# ---------------------------------------------------------------------------- record


def test_record_file_and_calls_endpoint(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "record" / "calls.jsonl"
    with SandboxServer(SandboxOptions(record_path=path), clock=clock) as server:
        with httpx.Client() as http:
            shop = Shop(server.url, "a", http)
            shop.add("B01")
            over_http = http.get(f"{server.url}/_sandbox/calls").json()["calls"]
    from_file = load_calls(path)
    assert from_file == over_http
    add = from_file[-1]
    assert set(add) >= {"time", "method", "path", "shop", "token", "status", "outcome"}
    assert (add["shop"], add["outcome"], add["status"], add["identifier"]) == (
        "a",
        "ok",
        200,
        "B01",
    )
    assert len(add["token"]) == 4  # never the whole token
    assert shop.tokens["access_token"] not in path.read_text(encoding="utf-8")


def _call(
    at: datetime, path: str, shop: str = "a", outcome: str = "ok", **extra: Any
) -> dict[str, Any]:
    return {"time": at.isoformat(), "path": path, "shop": shop, "outcome": outcome, **extra}


def test_verdict_checks_the_invariants() -> None:
    t = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    clean = [
        _call(t, "/1/items/add", identifier="B1", item_id="1"),
        _call(t + timedelta(seconds=2), "/1/items/add", identifier="B2", item_id="2"),
        _call(t + timedelta(seconds=2), "/1/items/add", shop="b", identifier="B1", item_id="3"),
        _call(t + timedelta(seconds=3), "/1/items/delete", item_id="2"),
        _call(t + timedelta(seconds=4), "/1/items/add", identifier="B2", item_id="4"),
    ]
    verdict = check_calls(clean, min_interval_seconds=2.0, business_hours=(6, 23))
    assert verdict.ok, verdict.problems
    assert verdict.items_created == 4

    lost = _call(
        t + timedelta(seconds=6),
        "/1/items/add",
        "a",
        "fault:lost_response",
        identifier="B1",
        item_id="5",
    )
    limit = _call(t + timedelta(seconds=9), "/1/items", outcome="hour_api_limit")
    quick = _call(t + timedelta(seconds=9.5), "/1/items/add", identifier="B9", item_id="6")
    night = _call(datetime(2026, 1, 5, 14, 30, tzinfo=UTC), "/1/items")  # 23:30 in Tokyo
    verdict = check_calls(
        [*clean, lost, limit, quick, night], min_interval_seconds=2.0, business_hours=(6, 23)
    )
    problems = "\n".join(verdict.problems)
    assert not verdict.ok
    assert "identifier B1 listed 2 times" in problems
    assert "hour_api_limit" in problems
    assert "items/add 0.500 s after" not in problems and "3.500 s" not in problems
    assert "outside hours" in problems
    spacing = check_calls(
        [*clean, quick, _call(t + timedelta(seconds=10), "/1/items/add")], min_interval_seconds=2.0
    )
    assert any("0.500 s" in p for p in spacing.problems)
    overnight = check_calls([night], business_hours=(22, 6))
    assert overnight.ok
    budgets = check_calls(clean, hour_call_limit=3, daily_limit=2)
    assert [p.split(":")[0] for p in budgets.problems] == ["shop a", "shop a"]
    assert "4 API calls in hour 2026-01-05 00:00Z" in budgets.problems[0]
    assert "3 items created on 2026-01-05" in budgets.problems[1]


def test_calls_endpoint_is_json(sandbox: SandboxServer, http: httpx.Client) -> None:
    Shop(sandbox.url, "a", http).add("B01")
    body = http.get(f"{sandbox.url}/_sandbox/calls").json()
    assert json.loads(json.dumps(body)) == body
    assert [c["path"] for c in body["calls"]] == [
        "/1/oauth/authorize",
        "/1/oauth/token",
        "/1/items/add",
    ]
