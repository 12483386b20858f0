"""The Yahoo! sandbox speaks the wire contract (/tmp/yahoo_wire.md): YConnect's login
and refresh (the refresh token ends four weeks after the login, whatever is refreshed),
the store API's XML and codes, editItem replacing the whole item, images by file name,
asynchronous publishing of a snapshot, Yahoo!'s limits, faults, record and verdict."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import typer
from typer.testing import CliRunner

from tests.yahoo_sandbox_helpers import (
    API,
    CLIENT_ID,
    TOKEN,
    StoreClient,
    basic,
    error_codes,
    item_form,
    xml,
)
from upload_scheduler.cli.app import app
from upload_scheduler.clock import FakeClock
from upload_scheduler.demo.procs import child_env, detached_flags, python_module, stop_process
from upload_scheduler.platforms.yahoo.sandbox import (
    YahooSandboxOptions,
    YahooSandboxServer,
    check_calls,
    load_calls,
)
from upload_scheduler.platforms.yahoo.sandbox.login import login_code, login_redirect

STORE = "robot-shop"
OTHER_STORE = "toy-shop"
# Monday 2026-01-05 08:30 in Tokyo: the application's day ends at 15:00 UTC.
START = datetime(2026, 1, 4, 23, 30, tzinfo=UTC)
FAST = {"url_interval": 0.0, "publish_delay": 0.0}
DAY = 24 * 3600


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def sandbox(clock: FakeClock | None = None, **options: Any) -> YahooSandboxServer:
    return YahooSandboxServer(YahooSandboxOptions(**{**FAST, **options}), clock=clock)


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[YahooSandboxServer]:
    """A sandbox on the fake clock: no pacing, publishing at once."""
    with sandbox(clock) as server:
        yield server


@pytest.fixture(scope="module")
def validating() -> Iterator[StoreClient]:
    """One sandbox for the refusals: a refused editItem changes nothing."""
    with sandbox() as server:
        yield StoreClient(server.url)


# ---------------------------------------------------------------------------- OAuth


def test_login_redirects_with_code_and_state_and_the_code_is_single_use(
    fake: YahooSandboxServer,
) -> None:
    location = login_redirect(fake.url, CLIENT_ID, "staff", state="s-42")
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1/yahoo-callback"
    assert query["state"] == ["s-42"]
    code = query["code"][0]
    form = {"grant_type": "authorization_code", "code": code}
    form["redirect_uri"] = "http://127.0.0.1/yahoo-callback"
    http = httpx.Client(base_url=fake.url)
    first = http.post(TOKEN, data=form, headers=basic())
    assert first.status_code == 200
    tokens = first.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["refresh_token"] and tokens["access_token"]
    assert len(tokens["id_token"].split(".")) == 3
    again = http.post(TOKEN, data=form, headers=basic())
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    wrong_secret = http.post(TOKEN, data=form, headers=basic(secret="nope"))
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    odd = http.post(TOKEN, data={"grant_type": "password"}, headers=basic())
    assert odd.json()["error"] == "unsupported_grant_type"


def test_without_user_a_consent_page_asks_and_its_form_agrees(fake: YahooSandboxServer) -> None:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": "https://example.jp/cb?x=1",
        "scope": "openid profile",
        "state": "st",
        "bail": "1",
    }
    page = httpx.get(f"{fake.url}/yconnect/v2/authorization", params=query)
    assert page.status_code == 200 and 'name="user"' in page.text
    agreed = httpx.get(
        f"{fake.url}/yconnect/v2/authorization", params={**query, "user": "u", "agree": "1"}
    )
    assert agreed.status_code == 302
    assert agreed.headers["location"].startswith("https://example.jp/cb?x=1&code=")


def test_refresh_answers_no_refresh_token_and_never_extends_the_login(
    fake: YahooSandboxServer, clock: FakeClock
) -> None:
    staff = StoreClient(fake.url)
    clock.advance(27 * DAY)
    refreshed = staff.refresh()
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access_token", "token_type", "expires_in"}
    clock.advance(DAY)  # 28 days after the login, one after the refresh
    ended = staff.refresh()
    assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"


def test_end_logins_makes_the_next_refresh_invalid_grant(fake: YahooSandboxServer) -> None:
    staff, other = StoreClient(fake.url), StoreClient(fake.url, user="other")
    assert staff.control("end_logins", user="staff") == {"ended": 1}
    assert staff.refresh().json()["error"] == "invalid_grant"
    assert other.refresh().status_code == 200


def test_an_expired_token_gets_401_with_yahoos_header_and_refresh_mends_it(
    fake: YahooSandboxServer, clock: FakeClock
) -> None:
    staff = StoreClient(fake.url)
    clock.advance(3600)
    expired = staff.get("getItem", seller_id=STORE, item_code="A-1")
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"] == (
        'Bearer realm="yahooapis.jp", error="invalid_token", error_description="expired token"'
    )
    assert xml(expired).findtext("Message") == "invalid token"
    no_token = httpx.get(f"{fake.url}{API}getItem", params={"seller_id": STORE})
    assert no_token.status_code == 401 and "invalid_token" in no_token.headers["www-authenticate"]
    staff.tokens["access_token"] = staff.refresh().json()["access_token"]
    assert staff.edit(STORE, "A-1").status_code == 200
    assert staff.control("expire_tokens", user="staff") == {"expired": 1}
    assert staff.edit(STORE, "A-1").status_code == 401


# ---------------------------------------------------------------------------- editItem


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"item_code": "A_1"}, "it-01013"),
        ({"item_code": "A" * 100}, "it-01013"),
        ({"path": ":".join("abcdefghi")}, "it-01011"),
        ({"path": "a::b"}, "it-01011"),
        ({"path": "a:" + "x" * 21}, "it-01011"),
        ({"name": ""}, "it-01012"),
        ({"name": "あ" * 75 + "a"}, "it-01017"),
        ({"name": "ロボット 🤖"}, "it-01050"),
        ({"price": "0"}, "it-01015"),
        ({"price": "19.80"}, "it-01015"),
        ({"headline": "あ" * 31}, "it-01030"),
        ({"explanation": "x" * 501}, "it-01031"),
        ({"product_category": ""}, "it-01040"),
    ],
)
def test_edit_item_refuses_with_the_contracts_codes_and_stores_nothing(
    validating: StoreClient, changes: dict[str, str], code: str
) -> None:
    staff = validating
    refused = staff.edit(STORE, "A-1", **changes)
    assert refused.status_code == 400
    root = xml(refused)
    assert root.tag == "ResultSet" and root.findtext("Result/Status") == "NG"
    assert error_codes(refused) == [code]
    assert root.find("Result/Error/Target") is not None
    assert staff.state(STORE) == {}


def test_name_width_counts_half_width_as_half(fake: YahooSandboxServer) -> None:
    staff = StoreClient(fake.url)
    assert staff.edit(STORE, "A-1", name="a" * 150).status_code == 200
    assert staff.edit(STORE, "A-2", name="あ" * 74 + "ab").status_code == 200
    assert error_codes(staff.edit(STORE, "A-3", name="a" * 151)) == ["it-01017"]


def test_edit_item_replaces_the_whole_item_and_the_record_shows_what_was_reset(
    fake: YahooSandboxServer,
) -> None:
    staff = StoreClient(fake.url)
    ok = staff.edit(STORE, "A-1")
    assert ok.status_code == 200
    assert (
        xml(ok).findtext("Result/Status") == "OK" and xml(ok).findtext("Result/ItemCode") == "A-1"
    )
    form = item_form(STORE, "A-1", price="2500")
    del form["headline"], form["display"]
    assert staff.post("editItem", **form).status_code == 200
    got = xml(staff.get("getItem", seller_id=STORE, item_code="A-1")).find("Result")
    assert got is not None
    assert got.findtext("Price") == "2500"
    assert got.findtext("Headline") == "" or got.findtext("Headline") is None
    assert got.findtext("Display") == "0"
    assert staff.state(STORE)["A-1"]["reset_fields"] == ["headline", "display"]
    verdict = staff.verdict()
    assert verdict["reset_fields"] == {STORE: {"A-1": ["headline", "display"]}}
    assert any("left out headline, display" in p for p in verdict["problems"])
    assert staff.verdict(require_whole_items="0")["ok"]


# ---------------------------------------------------------------------------- images


def test_images_link_by_file_name_and_are_checked_by_size_and_bytes(
    fake: YahooSandboxServer,
) -> None:
    staff = StoreClient(fake.url)
    jpeg, png, gif = (staff.image(f"robot.{ext}") for ext in ("jpg", "png", "gif"))
    assert staff.upload(STORE, "A-1.jpg", jpeg).status_code == 200  # before the item
    assert staff.edit(STORE, "A-1").status_code == 200
    assert staff.upload(STORE, "A-1_1.jpg", png).status_code == 200
    assert staff.upload(STORE, "A-1_20.jpg", gif).status_code == 200
    assert error_codes(staff.upload(STORE, "A-1_21.jpg", jpeg)) == ["ed-00005"]
    assert error_codes(staff.upload(STORE, "A-1.png", png)) == ["ed-00005"]
    broken = staff.image("broken/robot.jpg")
    assert error_codes(staff.upload(STORE, "A-1_2.jpg", broken)) == ["ed-00005"]
    big = staff.image("big/robot.jpg")
    assert len(big) > 2 * 1024 * 1024
    too_large = staff.upload(STORE, "A-1_3.jpg", big)
    assert too_large.status_code == 400 and error_codes(too_large) == ["ed-00006"]
    images = staff.state(STORE)["A-1"]["images"]
    assert [(i["name"], i["format"]) for i in images] == [
        ("A-1.jpg", "JPEG"),
        ("A-1_1.jpg", "PNG"),
        ("A-1_20.jpg", "GIF"),
    ]
    assert images[0]["size"] == len(jpeg)
    upload = next(c for c in fake.calls() if c["api"] == "uploadItemImage")
    assert upload["file_name"] == "A-1.jpg" and upload["item_code"] == "A-1"


def test_the_image_origin_serves_the_same_bytes_by_name_and_404s_missing(
    fake: YahooSandboxServer,
) -> None:
    http = httpx.Client(base_url=fake.url)
    first, again = http.get("/images/a.jpg"), http.get("/images/a.jpg")
    assert first.content == again.content and first.content[:3] == b"\xff\xd8\xff"
    assert first.headers["content-type"] == "image/jpeg"
    assert http.get("/images/b.jpg").content != first.content
    assert http.get("/images/a.png").content.startswith(b"\x89PNG")
    assert http.get("/images/missing/a.jpg").status_code == 404
    assert fake.calls() == []  # the origin is not recorded


def test_the_image_hour_limit_answers_503_per_store(clock: FakeClock) -> None:
    with sandbox(clock, image_hour_limit=2, token_lifetime=DAY) as server:
        staff = StoreClient(server.url)
        jpeg = staff.image("robot.jpg")
        assert [staff.upload(STORE, f"A-1_{n}.jpg", jpeg).status_code for n in (1, 2, 3)] == [
            200,
            200,
            503,
        ]
        assert staff.upload(OTHER_STORE, "A-1.jpg", jpeg).status_code == 200
        clock.advance(3600)
        assert staff.upload(STORE, "A-1_3.jpg", jpeg).status_code == 200
        assert staff.verdict()["refused"]["image_hour_limit"] == 1


# ---------------------------------------------------------------------------- publishing


def test_submit_publishes_a_snapshot_after_the_delay_and_later_changes_stay_pending() -> None:
    with sandbox(publish_delay=0.3) as server:
        staff = StoreClient(server.url)
        assert staff.edit(STORE, "A-1").status_code == 200
        assert staff.upload(STORE, "A-1.jpg", staff.image("robot.jpg")).status_code == 200
        assert (
            staff.post("setStock", seller_id=STORE, item_code="A-1", quantity="5").status_code
            == 200
        )
        assert staff.post("submitItem", seller_id=STORE, item_code="A-1").status_code == 200
        assert staff.edit(STORE, "A-1", price="999").status_code == 200  # after the snapshot
        waiting = staff.state(STORE)["A-1"]
        assert waiting["published"] is None and waiting["pending"] and waiting["publish_due"]
        time.sleep(0.35)
        item = staff.state(STORE)["A-1"]
        assert item["ever_published"] and item["published"]["fields"]["price"] == "1980"
        assert item["published"]["stock_at_submit"] == 5
        assert [i["name"] for i in item["published"]["images"]] == ["A-1.jpg"]
        assert item["pending"]  # the price change was made after the snapshot
        verdict = staff.verdict(expect_all_published="1")
        assert verdict["problems"] == [f"store {STORE}: A-1 has a change left unpublished"]


def test_set_stock_and_submit_of_an_unknown_item_and_get_item_absent_are_it_00999(
    fake: YahooSandboxServer,
) -> None:
    staff = StoreClient(fake.url)
    for answer in (
        staff.get("getItem", seller_id=STORE, item_code="NOPE"),
        staff.post("setStock", seller_id=STORE, item_code="NOPE", quantity="1"),
        staff.post("submitItem", seller_id=STORE, item_code="NOPE"),
        staff.post("deleteItem", seller_id=STORE, item_code="NOPE"),
    ):
        assert answer.status_code == 400
        root = xml(answer)
        assert root.tag == "Error" and root.findtext("Code") == "it-00999"


def test_delete_item_leaves_the_store_at_the_next_reserve_publish(
    fake: YahooSandboxServer,
) -> None:
    staff = StoreClient(fake.url)
    for code in ("A-1", "A-2"):
        staff.edit(STORE, code)
        staff.upload(STORE, f"{code}.jpg", staff.image("robot.jpg"))
    assert (
        staff.post("reservePublish", seller_id=STORE, mode="1", reserve_time="").status_code == 200
    )
    assert not staff.state(STORE)["A-1"]["pending"]
    assert staff.post("deleteItem", seller_id=STORE, item_code="A-1").status_code == 200
    assert error_codes(staff.get("getItem", seller_id=STORE, item_code="A-1")) == ["it-00999"]
    deleted = staff.state(STORE)["A-1"]
    assert deleted["deleted"] and deleted["pending"] and deleted["published"] is not None
    assert error_codes(staff.post("reservePublish", seller_id=STORE, mode="2")) == ["pb-00001"]
    assert staff.post("reservePublish", seller_id=STORE, mode="1").status_code == 200
    assert list(staff.state(STORE)) == ["A-2"]
    reserve = [c for c in fake.calls() if c["api"] == "reservePublish" and c["effect"]]
    assert reserve[0]["item_codes"] == ["A-1", "A-2"] and reserve[-1]["item_codes"] == ["A-1"]
    assert staff.verdict(expect_all_published="1")["ok"]


# ---------------------------------------------------------------------------- limits


def test_a_foreign_store_is_403_px_04003(clock: FakeClock) -> None:
    with sandbox(clock, foreign_stores=frozenset({OTHER_STORE})) as server:
        staff = StoreClient(server.url)
        refused = staff.edit(OTHER_STORE, "A-1")
        assert refused.status_code == 403 and error_codes(refused) == ["px-04003"]
        assert staff.edit(STORE, "A-1").status_code == 200
        assert server.calls()[-2]["refused"] == "foreign_store"


def test_one_request_per_url_interval_per_api_and_store() -> None:
    with sandbox(url_interval=0.25) as server:
        staff = StoreClient(server.url)
        assert staff.edit(STORE, "A-1").status_code == 200
        too_soon = staff.edit(STORE, "A-2")
        assert too_soon.status_code == 429 and too_soon.headers["retry-after"] == "1"
        assert xml(too_soon).findtext("Message") == "Too Many Requests"
        assert staff.edit(OTHER_STORE, "A-2").status_code == 200  # another store
        assert staff.get("getItem", seller_id=STORE, item_code="A-1").status_code == 200
        time.sleep(0.25)
        assert staff.edit(STORE, "A-3").status_code == 200  # paced: not refused
        assert sorted(staff.state(STORE)) == ["A-1", "A-3"]  # the refused one did nothing
        verdict = staff.verdict()
        assert verdict["refused"]["too_many_requests"] == 1
        assert not verdict["ok"] and "429" in verdict["problems"][0]
        refused = [c for c in server.calls() if c["refused"]]
        assert [(c["api"], c["item_code"], c["status"]) for c in refused] == [
            ("editItem", "A-2", 429)
        ]


def test_the_applications_day_budget_is_403_without_code_and_ends_in_japan(
    clock: FakeClock,
) -> None:
    with sandbox(clock, token_lifetime=DAY) as server:
        check_the_day_budget(server.url, clock)


def check_the_day_budget(url: str, clock: FakeClock) -> None:
    staff, other_app = StoreClient(url), StoreClient(url, client_id="other-app")
    assert staff.control("spend_budget", client_id=CLIENT_ID) == {"spent": 50_000}
    refused = staff.edit(STORE, "A-1")
    assert refused.status_code == 403
    assert xml(refused).findtext("Message") == "Your Request was Forbidden"
    assert error_codes(refused) == []
    assert other_app.edit(STORE, "A-1").status_code == 200
    clock.advance(15.5 * 3600)  # midnight in Tokyo
    assert staff.edit(STORE, "A-2").status_code == 200
    assert staff.verdict()["refused"]["app_day_limit"] == 1


def test_the_day_limit_counts_every_request_let_through(clock: FakeClock) -> None:
    with sandbox(clock, app_day_limit=3) as server:
        staff = StoreClient(server.url)
        statuses = [staff.edit(STORE, f"A-{n}").status_code for n in range(4)]
        assert statuses == [200, 200, 200, 403]
        usage = httpx.get(f"{server.url}/_sandbox/state").json()["applications"][CLIENT_ID]
        assert (usage["calls"], usage["refused"], usage["day"]) == (3, 1, "2026-01-05")


# ---------------------------------------------------------------------------- faults


def statuses(seed: int) -> list[int | str]:
    with sandbox(p_server_error=0.3, p_unavailable=0.3, seed=seed) as server:
        staff = StoreClient(server.url)
        return [staff.edit(STORE, f"A-{n}").status_code for n in range(12)]


def test_random_faults_are_reproducible_by_seed() -> None:
    first = statuses(7)
    assert first == statuses(7)
    assert {500, 503, 200} <= set(first)


def test_a_lost_answer_closes_the_connection_after_carrying_out_the_call(
    fake: YahooSandboxServer,
) -> None:
    staff = StoreClient(fake.url)
    staff.control("faults", kind="lost", api="editItem")
    with pytest.raises(httpx.RemoteProtocolError):
        staff.edit(STORE, "A-1")
    assert "A-1" in staff.state(STORE)
    lost = fake.calls()[-1]
    assert (lost["fault"], lost["status"], lost["effect"]) == ("lost_response", None, "item_edited")
    staff.control("faults", kind="error503")  # the next store API request
    assert staff.get("getItem", seller_id=STORE, item_code="A-1").status_code == 503
    assert staff.verdict()["faults"]["lost_response"] == 1


def test_odds_change_at_run_time(fake: YahooSandboxServer) -> None:
    staff = StoreClient(fake.url)
    staff.control("odds", error500="1.0")
    assert staff.edit(STORE, "A-1").status_code == 500
    assert xml(staff.edit(STORE, "A-1")).findtext("Message") == "System error"
    staff.control("odds", server_error="0")
    assert staff.edit(STORE, "A-1").status_code == 200


# ---------------------------------------------------------------------------- verdict


def test_the_verdict_of_a_clean_run_and_of_its_record_file(tmp_path: Path) -> None:
    record = tmp_path / "calls.jsonl"
    with sandbox(publish_delay=0.05, record_path=record) as server:
        staff = StoreClient(server.url)
        for store, code in ((STORE, "A-1"), (OTHER_STORE, "B-1")):
            staff.edit(store, code)
            staff.upload(store, f"{code}.jpg", staff.image("robot.jpg"))
            staff.upload(store, f"{code}_1.jpg", staff.image("robot.png"))
            staff.post("setStock", seller_id=store, item_code=code, quantity="1")
            staff.post("submitItem", seller_id=store, item_code=code)
        staff.edit(STORE, "A-2")  # never submitted
        time.sleep(0.06)
        verdict = staff.verdict(expect_all_published="1")
        assert verdict["problems"] == [f"store {STORE}: A-2 is not published"]
        assert verdict["stores"][STORE]["item_codes"] == ["A-1", "A-2"]
        a1 = verdict["stores"][STORE]["items"]["A-1"]
        assert (a1["published"], a1["pending"], a1["main_image"], a1["images"]) == (
            True,
            False,
            True,
            1,
        )
        assert verdict["refused"] == {
            "too_many_requests": 0,
            "app_day_limit": 0,
            "image_hour_limit": 0,
        }
    replayed = check_calls(load_calls(record), expect_all_published=True)
    assert replayed.to_json()["stores"] == verdict["stores"]
    assert replayed.item_codes(OTHER_STORE) == ["B-1"]
    text = record.read_text(encoding="utf-8")
    assert staff.tokens["access_token"] not in text and staff.tokens["refresh_token"] not in text


def test_the_verdict_notices_a_published_item_without_its_main_image(
    fake: YahooSandboxServer,
) -> None:
    staff = StoreClient(fake.url)
    staff.edit(STORE, "A-1")
    staff.upload(STORE, "A-1_1.jpg", staff.image("robot.jpg"))
    staff.post("submitItem", seller_id=STORE, item_code="A-1")
    verdict = staff.verdict(expect_all_published="1")
    assert verdict["problems"] == [f"store {STORE}: A-1 is published without its main image"]


# ---------------------------------------------------------------------------- command line


def test_login_code_feeds_token_login(fake: YahooSandboxServer) -> None:
    code = login_code(fake.url, CLIENT_ID, "staff")
    assert code and code not in login_code(fake.url, CLIENT_ID, "staff")


def test_cli_describes_every_option_and_refuses_the_other_platforms() -> None:
    runner = CliRunner()
    serve = ["sandbox", "serve", "--platform", "yahoo"]
    refused = runner.invoke(app, [*serve, "--account-day-limit", "5"])
    assert refused.exit_code == 2
    assert "--account-day-limit is for the eBay sandbox" in " ".join(refused.output.split())
    base = runner.invoke(app, ["sandbox", "serve", "--url-interval", "2"])
    assert "--url-interval is for the Yahoo! sandbox" in " ".join(base.output.split())
    shown = runner.invoke(app, ["sandbox", "serve", "--help"], env={"COLUMNS": "250"})
    group: Any = typer.main.get_command(app)
    command = group.commands["sandbox"].commands["serve"]
    options = [opt for param in command.params for opt in param.opts]
    for name in ("--publish-delay", "--foreign-stores", "--p-error503", "--fault-seed"):
        assert name in options
    assert not [name for name in options if name not in shown.output]


def test_the_module_serves_as_a_process_and_prints_its_url_first(tmp_path: Path) -> None:
    output = tmp_path / "out.txt"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [*python_module("upload_scheduler.platforms.yahoo.sandbox"), "--url-interval", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(),
            **detached_flags(),
        )
    try:
        deadline = time.monotonic() + 10
        while "\n" not in output.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        first = output.read_text().splitlines()[0]
        assert first.startswith("Sandbox listening on http://127.0.0.1:")
        url = first.removeprefix("Sandbox listening on ")
        assert login_code(url, CLIENT_ID, "staff")
    finally:
        stop_process(process)
