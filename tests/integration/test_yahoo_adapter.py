"""The Yahoo! adapter against the in-process Yahoo! sandbox: a full listing (editItem, the
images downloaded and uploaded by name, setStock, submitItem), the per-URL spacing
measured on arrival, recovery after a lost answer at each step (only the missing images
sent again, one item_code, nothing left unpublished), a refused token refreshed once, a
login ended, the application's day budget, a foreign store, an unreadable image, delete
and exists."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from upload_scheduler.clock import SystemClock
from upload_scheduler.config import Settings
from upload_scheduler.config.load import load_settings
from upload_scheduler.platforms.errors import (
    ApplicationLimited,
    AuthExpired,
    Misconfigured,
    Permanent,
    Transient,
)
from upload_scheduler.platforms.interface import Account, PlatformContext, Product
from upload_scheduler.platforms.yahoo.adapter import YahooPlatform
from upload_scheduler.platforms.yahoo.sandbox import YahooSandboxOptions, YahooSandboxServer
from upload_scheduler.platforms.yahoo.sandbox.login import login_redirect
from upload_scheduler.store.database import open_database

CLIENT_ID = "app-one"
STORE = "store-a"
ACCOUNT = "yahoo_a"
INTERVAL = 0.2
ASIN = "B0YAHOO001"


@dataclass
class Env:
    sandbox: YahooSandboxServer
    platform: YahooPlatform
    settings: Settings
    account: Account

    @property
    def url(self) -> str:
        return self.sandbox.url

    def calls(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/_sandbox/calls").json()["calls"])

    def api_calls(self) -> list[str]:
        return [c["api"] for c in self.calls() if c.get("api")]

    def fault(self, kind: str, api: str, after: int = 0) -> None:
        answer = httpx.post(
            f"{self.url}/_sandbox/faults",
            data={"kind": kind, "api": api, "count": "1", "after": str(after)},
        )
        answer.raise_for_status()

    def item(self) -> dict[str, Any]:
        state = httpx.get(f"{self.url}/_sandbox/state", params={"seller_id": STORE}).json()
        return dict(state["stores"][STORE]["items"][ASIN])

    def verdict(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/_sandbox/verdict", params={"expect_all_published": 1})
        return dict(answer.json())

    def product(self, *images: str) -> Product:
        return Product(
            asin=ASIN,
            title="テスト フィギュア",
            description="<p>説明です</p>",
            price=1800,
            stock=2,
            images=tuple(f"{self.url}/images/{name}" for name in images),
            brand="メーカー",
        )


def _config(tmp_path: Path, url: str, **overrides: object) -> Path:
    extra = "".join(f"{key} = {value!r}\n" for key, value in overrides.items())
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(
        f'database = "sqlite:///{tmp_path.as_posix()}/db.sqlite"\n'
        f'[accounts]\nyahoo = ["{ACCOUNT}"]\n'
        "[platforms.yahoo]\n"
        f'api_base_url = "{url}"\nauth_base_url = "{url}"\n'
        f'client_id = "{CLIENT_ID}"\nclient_secret = "sandbox-secret"\n'
        'redirect_uri = "http://127.0.0.1/yahoo-callback"\n'
        f'url_interval_seconds = {INTERVAL}\npath = "ホビー:フィギュア"\n'
        f'product_category = "2511"\n{extra}'
        f'[account_overrides.{ACCOUNT}]\nseller_id = "{STORE}"\n',
        encoding="utf-8",
    )
    return path


def _env(tmp_path: Path, options: YahooSandboxOptions) -> Iterator[Env]:
    with YahooSandboxServer(options) as sandbox:
        settings = load_settings(_config(tmp_path, sandbox.url))
        engine = open_database(settings.database_url)
        platform = YahooPlatform(PlatformContext("yahoo", settings, engine, SystemClock()))
        redirect = login_redirect(sandbox.url, CLIENT_ID, ACCOUNT)
        code = parse_qs(urlsplit(redirect).query)["code"][0]
        platform.tokens.login_with_code(ACCOUNT, code)
        account = Account("yahoo", ACCOUNT, settings.account("yahoo", ACCOUNT))
        try:
            yield Env(sandbox, platform, settings, account)
        finally:
            platform.close()
            engine.dispose()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from _env(tmp_path, YahooSandboxOptions(url_interval=INTERVAL, publish_delay=0.0))


def test_a_listing_is_edit_images_stock_publish_with_images_named_by_item_code(
    env: Env,
) -> None:
    result = env.platform.upload(env.product("a.jpg", "b.png", "big/c.jpg"), env.account)
    assert (result.platform_item_id, result.calls, result.images_added) == (ASIN, 6, 3)
    assert env.api_calls() == [
        "editItem",
        "uploadItemImage",
        "uploadItemImage",
        "uploadItemImage",
        "setStock",
        "submitItem",
    ]
    item = env.item()
    names = [image["name"] for image in item["images"]]
    assert names == [f"{ASIN}.jpg", f"{ASIN}_1.jpg", f"{ASIN}_2.jpg"]
    # The PNG and the JPEG over 2 MB were re-encoded as JPEGs within the limit.
    assert {image["format"] for image in item["images"]} == {"JPEG"}
    assert all(image["size"] <= 2_000_000 for image in item["images"])
    assert item["fields"]["item_code"] == ASIN and item["fields"]["name"] == "テスト フィギュア"
    assert item["stock"] == 2 and item["pending"] is False
    verdict = env.verdict()
    assert verdict["ok"], verdict["problems"]


def test_every_request_to_one_url_is_spaced_on_arrival(env: Env) -> None:
    env.platform.upload(env.product("a.jpg", "b.jpg", "c.jpg", "d.jpg"), env.account)
    other = Product(ASIN[:-1] + "2", "二つ目", "", 1000, 1, (f"{env.url}/images/e.jpg",))
    env.platform.upload(other, env.account)
    arrivals: dict[str, list[float]] = {}
    for call in env.calls():
        if call["api"]:  # not the login's OAuth requests
            arrivals.setdefault(call["api"], []).append(_seconds(call["time"]))
    assert len(arrivals["uploadItemImage"]) == 5 and len(arrivals["editItem"]) == 2
    for times in arrivals.values():
        assert all(b - a >= INTERVAL for a, b in pairwise(times))
    assert env.verdict()["refused"]["too_many_requests"] == 0


@pytest.mark.parametrize("step", ["editItem", "uploadItemImage", "setStock", "submitItem"])
def test_after_a_lost_answer_only_what_is_missing_is_sent_and_the_item_is_published(
    env: Env, step: str
) -> None:
    product = env.product("a.jpg", "b.jpg", "c.jpg")
    # The second image's answer is lost (after=1: the first image goes through).
    env.fault("lost_response", step, after=1 if step == "uploadItemImage" else 0)
    with pytest.raises(Transient) as lost:
        env.platform.upload(product, env.account)
    assert lost.value.maybe_created
    # The worker looks the item up first: not known published, so it is listed again.
    found = env.platform.find_existing(ASIN, env.account)
    if step == "submitItem":
        assert found is None  # the publish's answer was lost: our record cannot say
    result = env.platform.upload(product, env.account)
    assert result.platform_item_id == ASIN
    uploaded = [c.get("file_name") for c in env.calls() if c["api"] == "uploadItemImage"]
    # Every image name exactly once, but a lost one twice; never a second item_code.
    expected = {f"{ASIN}.jpg", f"{ASIN}_1.jpg", f"{ASIN}_2.jpg"}
    assert set(uploaded) == expected
    assert len(uploaded) == 3 + (1 if step == "uploadItemImage" else 0)
    assert env.api_calls()[-1] == "submitItem"
    verdict = env.verdict()
    assert verdict["ok"], verdict["problems"]
    assert verdict["stores"][STORE]["item_codes"] == [ASIN]
    # Now known published with its images: a lookup settles it, nothing more is sent.
    found = env.platform.find_existing(ASIN, env.account)
    assert found is not None and found.platform_item_id == ASIN


def test_an_item_absent_on_lookup_starts_afresh(env: Env) -> None:
    assert env.platform.find_existing(ASIN, env.account) is None
    assert env.api_calls() == ["getItem"]


def test_a_refused_access_token_is_refreshed_once_and_the_call_retried(env: Env) -> None:
    httpx.post(f"{env.url}/_sandbox/expire_tokens").raise_for_status()
    result = env.platform.upload(env.product("a.jpg"), env.account)
    assert result.calls == 5  # editItem twice (refused, then with the new token), 3 more
    statuses = [c["status"] for c in env.calls() if c["api"] == "editItem"]
    assert statuses == [401, 200]


def test_an_ended_login_asks_for_token_login_with_yahoos_words(env: Env) -> None:
    httpx.post(f"{env.url}/_sandbox/end_logins").raise_for_status()
    httpx.post(f"{env.url}/_sandbox/expire_tokens").raise_for_status()
    with pytest.raises(AuthExpired) as ended:
        env.platform.upload(env.product("a.jpg"), env.account)
    assert ended.value.message == (
        f"Yahoo! login ended: run `upload-scheduler token login --platform yahoo "
        f"--account {ACCOUNT}`"
    )
    record = env.platform.tokens.store.get(ACCOUNT)
    assert record is not None and record.login_required


def test_the_applications_spent_day_is_told_apart(env: Env) -> None:
    httpx.post(f"{env.url}/_sandbox/spend_budget", data={"client_id": CLIENT_ID})
    with pytest.raises(ApplicationLimited):
        env.platform.upload(env.product("a.jpg"), env.account)


def test_a_store_that_is_not_the_logins_pauses_for_seller_id(tmp_path: Path) -> None:
    options = YahooSandboxOptions(url_interval=INTERVAL, foreign_stores=frozenset({STORE}))
    for env in _env(tmp_path, options):
        with pytest.raises(Misconfigured) as refused:
            env.platform.upload(env.product("a.jpg"), env.account)
        assert "check seller_id" in refused.value.message


def test_an_unreadable_image_fails_the_item_naming_its_url(env: Env) -> None:
    with pytest.raises(Permanent) as refused:
        env.platform.upload(env.product("a.jpg", "broken/x.jpg"), env.account)
    assert f"{env.url}/images/broken/x.jpg" in refused.value.message
    # Every image is fetched and checked before the first call: nothing was sent.
    assert env.api_calls() == [] and "nothing was sent" in refused.value.message


def test_delete_publishes_the_deletion_and_a_gone_item_is_done(env: Env) -> None:
    env.platform.upload(env.product("a.jpg"), env.account)
    assert env.platform.exists(ASIN, env.account)
    assert env.platform.delete(ASIN, env.account).calls == 2
    assert env.api_calls()[-2:] == ["deleteItem", "reservePublish"]
    assert not env.platform.exists(ASIN, env.account)
    gone = env.platform.delete(ASIN, env.account)
    assert gone.already_gone and gone.calls == 1


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


def test_a_deletion_whose_publish_failed_is_published_on_the_next_try(env: Env) -> None:
    """getItem no longer shows a deleted item that is still live: our record says the
    publish is owed, so the retry publishes instead of calling the delete done."""
    env.platform.upload(env.product("a.jpg"), env.account)
    env.fault("server_error", "reservePublish")
    with pytest.raises(Transient):
        env.platform.delete(ASIN, env.account)
    assert env.platform.exists(ASIN, env.account)  # as the worker asks before a retry
    again = env.platform.delete(ASIN, env.account)
    assert not again.already_gone
    assert env.api_calls()[-2:] == ["deleteItem", "reservePublish"]
    state = httpx.get(f"{env.url}/_sandbox/state", params={"seller_id": STORE}).json()
    item = state["stores"][STORE]["items"].get(ASIN)
    assert item is None or (item["deleted"] and not item["pending"]), item
    assert not env.platform.exists(ASIN, env.account)
