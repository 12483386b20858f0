"""The BASE adapter against the in-process sandbox: uploads, every error class, token
refresh (mid-batch, proactive, raced, refused), recovery after a lost response, partial
image failures, content rules, and no secret in any log line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.backends import one_database
from tests.base_helpers import (
    CLIENT_SECRET,
    SHOP_A,
    SHOP_B,
    START,
    BaseEnv,
    base_config,
    base_env,
    product,
)
from upload_scheduler.clock import FakeClock
from upload_scheduler.config import settings_from_dict
from upload_scheduler.platforms.errors import (
    AuthExpired,
    Misconfigured,
    PartialUpload,
    Permanent,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from upload_scheduler.platforms.interface import Account, Platform, PlatformContext
from upload_scheduler.platforms.registry import platform_factory
from upload_scheduler.platforms.thebase import create_platform
from upload_scheduler.platforms.thebase.adapter import BasePlatform
from upload_scheduler.platforms.thebase.client import BaseClient
from upload_scheduler.platforms.thebase.sandbox import check_calls
from upload_scheduler.platforms.thebase.sandbox.login import authorize_code, sandbox_login
from upload_scheduler.platforms.thebase.token_health import assess
from upload_scheduler.platforms.thebase.token_store import TokenStore
from upload_scheduler.platforms.thebase.tokens import TokenManager
from upload_scheduler.store.database import open_database

ADD = "/1/items/add"
IMAGE = "/1/items/add_image"
TOKEN = "/1/oauth/token"


# ---------------------------------------------------------------------------- happy path


def test_upload_creates_the_item_then_its_images(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url) as env:
        item = product("B0HAPPY001", images=3)
        assert isinstance(env.platform, Platform)
        assert env.platform.calls_for(item) == 4
        result = env.platform.upload(item, env.account())
        assert (result.calls, result.images_added) == (4, 3)
        [stored] = env.items()
        assert stored["item_id"] == int(result.platform_item_id)
        assert stored["identifier"] == "B0HAPPY001"
        assert (stored["visible"], stored["price"], stored["stock"]) == (1, 1980, 5)
        assert [stored[f"img{n}_origin"] for n in (1, 2, 3)] == list(item.images)
        assert [c["path"] for c in env.calls() if c["path"].startswith("/1/items")] == [
            ADD,
            IMAGE,
            IMAGE,
            IMAGE,
        ]
        assert [c["image_no"] for c in env.calls(IMAGE)] == ["1", "2", "3"]
        detail = env.platform.item_detail(result.platform_item_id, env.account())
        assert detail["title"] == item.title
        assert env.calls()[-1]["path"] == f"/1/items/detail/{result.platform_item_id}"


def test_entry_point_builds_the_adapter(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, login=()) as env:
        factory = platform_factory("base")
        assert factory is create_platform
        adapter = factory(PlatformContext("base", env.settings, env.engine, env.clock))
        try:
            assert adapter.name == "base"
            assert isinstance(adapter, Platform)
        finally:
            adapter.close()


# ---------------------------------------------------------------------------- error classes


def test_validation_error_is_permanent_with_the_japanese_text(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        with pytest.raises(Permanent) as caught:
            env.platform.upload(product(stock=-1), env.account())
        assert "validation_error" in caught.value.message
        assert "バリデーションエラーです" in caught.value.message
        assert env.items() == []


def test_bad_params_and_bad_item_id_on_images_keep_the_item(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        item = product("B0PARAMS01", images=0)
        item = type(item)(**{**item.__dict__, "images": ("https://images.example/1.jpg", "")})
        with pytest.raises(PartialUpload) as caught:
            env.platform.upload(item, env.account())
        assert isinstance(caught.value.cause, Permanent)
        assert (
            "bad_params" in caught.value.message
            and "不正なパラメーターです" in caught.value.message
        )
        assert (caught.value.images_done, caught.value.images_total) == (1, 2)

        with pytest.raises(PartialUpload) as caught:
            env.platform.upload(product(), env.account(), platform_item_id="987654")
        assert isinstance(caught.value.cause, Permanent)
        assert "bad_item_id" in caught.value.message and "不正なitem_idです" in caught.value.message
        with pytest.raises(Permanent, match="bad_item_id"):
            env.platform.delete_item("987654", env.account())


def test_hour_api_limit_pauses_until_the_next_full_hour(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, hour_call_limit=2) as env:
        env.clock.set(START + timedelta(minutes=17, seconds=5))
        with pytest.raises(PartialUpload) as caught:
            env.platform.upload(product("B0HOUR0001", images=3), env.account())
        cause = caught.value.cause
        assert isinstance(cause, RateLimited)
        assert cause.until == datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        assert caught.value.images_done == 1 and caught.value.calls == 3
        with pytest.raises(RateLimited) as limited:
            env.platform.upload(product("B0HOUR0002"), env.account())
        assert limited.value.until == datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        assert "hour_api_limit" in limited.value.message
        assert len(env.items()) == 1  # the refused items/add created nothing
        env.clock.set(datetime(2026, 1, 5, 1, 0, tzinfo=UTC))  # the counter resets on the hour
        resumed = env.platform.upload(
            product("B0HOUR0001", images=3),
            env.account(),
            platform_item_id=caught.value.platform_item_id,
            images_done=1,
        )
        assert resumed.images_added == 2


def test_day_api_limit_pauses_until_local_midnight(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, day_call_limit=1) as env:
        env.platform.upload(product("B0DAY00001", images=0), env.account())
        with pytest.raises(RateLimited) as caught:
            env.platform.upload(product("B0DAY00002", images=0), env.account())
        # 2026-01-06 00:00 in Tokyo.
        assert caught.value.until == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def test_daily_creation_limit_is_a_quota(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, daily_item_limit=1) as env:
        env.platform.upload(product("B0QUOTA001", images=0), env.account())
        with pytest.raises(QuotaExhausted) as caught:
            env.platform.upload(product("B0QUOTA002", images=0), env.account())
        assert caught.value.until == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fault", "maybe_created"),
    [("server_error", True), ("reset", True), ("timeout", True)],
)
def test_network_faults_on_items_add_are_transient_and_may_have_created(
    tmp_path: Path, database_url: str, fault: str, maybe_created: bool
) -> None:
    with base_env(tmp_path, database_url, read_timeout=0.3, timeout_hang=1.0) as env:
        env.sandbox.faults.inject(fault, path=ADD)
        with pytest.raises(Transient) as caught:
            env.platform.upload(product(), env.account())
        assert caught.value.maybe_created is maybe_created
        assert env.items() == []  # these faults act before anything is stored
        assert env.calls(ADD)[-1]["outcome"] == f"fault:{fault}"


def test_a_server_error_on_a_read_is_transient_without_creation(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        env.sandbox.faults.inject("server_error", path="/1/items")
        with pytest.raises(Transient) as caught:
            env.platform.find_existing("B0NOTHERE1", env.account())
        assert caught.value.maybe_created is False


def test_an_unreachable_api_is_transient_and_nothing_was_sent(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        env.sandbox.stop()
        with pytest.raises(Transient) as caught:
            env.platform.upload(product(), env.account())
        assert caught.value.maybe_created is False


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (429, {}, RateLimited),
        (503, {"error": "server_error", "error_description": "x"}, Transient),
        (400, {"error": "invalid_request", "error_description": "デジタルコンテンツ"}, Permanent),
        (400, {"error": "db_error", "error_description": "DB error"}, Transient),
        (200, ["not", "an", "object"], Transient),
    ],
)
def test_unusual_answers_map_to_their_obvious_class(
    tmp_path: Path, database_url: str, status: int, body: object, expected: type[Exception]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with base_env(tmp_path, database_url) as env:
        adapter = env.adapter(transport=httpx.MockTransport(handler))
        try:
            with pytest.raises(expected):
                adapter.upload(product(images=0), env.account())
        finally:
            adapter.close()


# ---------------------------------------------------------------------------- wrong URL


@dataclass
class Elsewhere:
    """A local HTTP server that is not BASE: every request gets the same answer."""

    url: str
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, path with query)


@contextmanager
def elsewhere(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> Iterator[Elsewhere]:
    server = Elsewhere(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer()

        def _answer(self) -> None:
            server.seen.append((self.command, self.path))
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@contextmanager
def pointed_at(env: BaseEnv, api_url: str) -> Iterator[tuple[BasePlatform, Account]]:
    """An adapter on env's database (its tokens) whose api_base_url is `api_url`."""
    raw = base_config(env.settings.database_url, api_url)
    settings = settings_from_dict(raw, env.settings.source)
    adapter = BasePlatform(
        PlatformContext("base", settings, env.engine, env.clock),
        connect_timeout=1.0,
        read_timeout=2.0,
    )
    try:
        yield adapter, Account("base", SHOP_A, settings.account("base", SHOP_A))
    finally:
        adapter.close()


HTML_404 = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"
BASE_404 = b'{"error": "bad_item_id", "error_description": "\\u4e0d\\u6b63\\u306aitem_id"}'


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (404, HTML_404, {"Content-Type": "text/html"}),
        (404, b"", {}),
        (302, b"", {"Location": "REDIRECT"}),
    ],
    ids=["404-html", "404-empty", "302"],
)
def test_a_wrong_api_url_is_misconfigured_and_fails_no_item(
    tmp_path: Path, database_url: str, status: int, body: bytes, headers: dict[str, str]
) -> None:
    with base_env(tmp_path, database_url) as env:
        # The redirect points at the real sandbox: it must not be followed.
        headers = {k: v.replace("REDIRECT", env.sandbox.url + ADD) for k, v in headers.items()}
        with (
            elsewhere(status, body, headers) as wrong,
            pointed_at(env, wrong.url + "/api") as (adapter, account),
        ):
            with pytest.raises(Misconfigured) as caught:
                adapter.upload(product("B0WRONG001"), account)
            assert caught.value.message == (
                f"check api_base_url (answered {status} for /api/1/items/add)"
            )
            # Neither a lookup nor a delete reads it as "not found" or "already gone".
            with pytest.raises(Misconfigured) as lookup:
                adapter.find_existing("B0WRONG001", account)
            assert lookup.value.message.endswith(f"answered {status} for /api/1/items)")
            with pytest.raises(Misconfigured, match="for /api/1/items/delete"):
                adapter.delete("123456", account)
            with pytest.raises(Misconfigured, match="for /api/1/items/detail/123456"):
                adapter.exists("123456", account)
            assert wrong.seen[0] == ("POST", "/api/1/items/add")
            assert "?" in wrong.seen[1][1]  # the lookup's query string, kept out of the message
            stored = TokenStore(env.engine, "base").get(SHOP_A)
            assert stored is not None and stored.access_token not in caught.value.message
        assert env.calls(ADD) == [] and env.items() == []  # the redirect was not followed


def test_a_404_with_base_body_keeps_its_meaning(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url) as env:
        with elsewhere(404, BASE_404, {"Content-Type": "application/json"}) as server:
            with pointed_at(env, server.url) as (adapter, account):
                assert adapter.delete("123456", account).already_gone
                assert not adapter.exists("123456", account)
                with pytest.raises(Permanent, match="bad_item_id"):
                    adapter.upload(product(images=0), account)


def test_a_wrong_token_url_is_misconfigured_and_keeps_the_tokens(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env, elsewhere(404, HTML_404) as wrong:
        store = TokenStore(env.engine, "base")
        env.clock.advance(3600 + 60)  # the access token has run out: a refresh is needed
        with pointed_at(env, wrong.url + "/api") as (adapter, account):
            with pytest.raises(Misconfigured) as caught:
                adapter.upload(product("B0WRONG002"), account)
            assert caught.value.message == (
                "check api_base_url (answered 404 for /api/1/oauth/token)"
            )
            with pytest.raises(Misconfigured, match="for /api/1/oauth/token"):
                adapter.tokens.login_with_code(SHOP_A, "any-code")
        record = store.get(SHOP_A)
        assert record is not None and record.login_required is None
        assert not record.locked(env.clock.now())  # the refresh claim was given back
        assert [path for _, path in wrong.seen] == ["/api/1/oauth/token"] * 2
        # Once the URL is right, the stored refresh token still works: no login needed.
        env.platform.upload(product("B0WRONG002", images=0), env.account())
        assert len(env.items()) == 1


# ---------------------------------------------------------------------------- tokens


def test_token_expiry_in_the_middle_of_a_batch_refreshes_and_continues(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        first = env.platform.upload(product("B0BATCH001", images=1), env.account())
        env.sandbox.state.expire_tokens(SHOP_A)
        second = env.platform.upload(product("B0BATCH002", images=1), env.account())
        third = env.platform.upload(product("B0BATCH003", images=1), env.account())
        assert [r.calls for r in (first, second, third)] == [2, 2, 2]
        outcomes = [
            (c["path"], c["outcome"]) for c in env.calls() if c["path"] != "/1/oauth/authorize"
        ]
        refused = outcomes.index((ADD, "invalid_request"))
        assert outcomes[refused + 1] == (TOKEN, "ok")  # the refresh
        assert outcomes[refused + 2] == (ADD, "ok")  # the same call, retried
        assert len(env.items()) == 3
        assert check_calls(env.sandbox.calls()).ok


def test_tokens_are_refreshed_before_they_run_out(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, token_lifetime=600) as env:
        env.platform.upload(product("B0EARLY001", images=0), env.account())
        env.clock.advance(299)  # 301 s left: more than min(5 min, half of 10 min)
        env.platform.upload(product("B0EARLY002", images=0), env.account())
        assert len(env.calls(TOKEN)) == 1  # the login only
        env.clock.advance(10)  # 291 s left
        env.platform.prepare(env.account())  # the worker's chance to refresh before pacing
        assert len(env.calls(TOKEN)) == 2
        env.platform.upload(product("B0EARLY003", images=0), env.account())
        assert len(env.calls(TOKEN)) == 2
        assert all(c["outcome"] == "ok" for c in env.calls(ADD))  # never refused


def test_a_refused_refresh_token_is_auth_expired_and_needs_a_login(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url, login=(SHOP_A, SHOP_B)) as env:
        env.sandbox.state.revoke_refresh_tokens(SHOP_A)
        env.sandbox.state.expire_tokens(SHOP_A)
        with pytest.raises(AuthExpired) as caught:
            env.platform.upload(product(), env.account(SHOP_A))
        assert "token login --platform base --account shop_a" in caught.value.message
        assert "不正なリフレッシュトークンです" in caught.value.message
        record = TokenStore(env.engine, "base").get(SHOP_A)
        assert assess(record, env.clock.now()).login_required
        with pytest.raises(AuthExpired):  # no second refresh attempt until a login
            env.platform.upload(product(), env.account(SHOP_A))
        assert len(env.calls(TOKEN)) == 3  # two logins and the refused refresh
        env.platform.upload(product(), env.account(SHOP_B))  # the other shop goes on
        env.login(SHOP_A)
        env.platform.upload(product(), env.account(SHOP_A))


def test_no_tokens_at_all_is_auth_expired(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, login=()) as env:
        with pytest.raises(AuthExpired, match="no tokens are stored"):
            env.platform.upload(product(), env.account())
        assert env.sandbox.calls() == []


def test_two_processes_refresh_one_account_once(tmp_path: Path, database_url: str) -> None:
    """Both see the token refused at once; one refreshes, the other uses its token."""
    with base_env(tmp_path, database_url) as env:
        store = TokenStore(env.engine, "base")
        rejected = store.get(SHOP_A).access_token  # type: ignore[union-attr]
        env.sandbox.state.expire_tokens(SHOP_A)
        barrier = threading.Barrier(3)
        results: list[str] = []
        errors: list[BaseException] = []

        def worker() -> None:
            engine = open_database(env.settings.database_url)
            client = BaseClient()
            try:
                manager = TokenManager(env.settings, engine, env.clock, client)
                barrier.wait(timeout=10)
                results.append(manager.after_rejection(SHOP_A, rejected))
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                client.close()
                engine.dispose()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(results) == 3 and len(set(results)) == 1
        refreshes = [c for c in env.calls(TOKEN) if c["outcome"] == "ok"]
        assert len(refreshes) == 2  # the login and exactly one refresh
        assert results[0] == store.get(SHOP_A).access_token  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- recovery


def test_lost_response_then_recovery_through_find_existing(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        env.platform.upload(product("B0OTHER001", images=1), env.account())
        item = product("B0LOST0001", images=2)
        first_attempt = env.clock.now()
        env.sandbox.faults.inject("lost_response", path=ADD)
        with pytest.raises(Transient) as caught:
            env.platform.upload(item, env.account())
        assert caught.value.maybe_created
        env.clock.advance(5)
        found = env.platform.find_existing(item.asin, env.account(), since=first_attempt)
        assert found is not None and found.images == 0
        result = env.platform.upload(
            item, env.account(), platform_item_id=found.platform_item_id, images_done=found.images
        )
        assert (result.calls, result.images_added) == (2, 2)
        assert [i["identifier"] for i in env.items()].count(item.asin) == 1
        verdict = check_calls(env.sandbox.calls())
        assert verdict.ok, verdict.problems
        assert env.platform.find_existing("B0NEVER001", env.account()) is None


def test_find_existing_pages_and_stops_at_older_items(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url) as env:
        state = env.sandbox.state
        with state.lock:
            state.add_item(
                SHOP_A,
                {"title": "oldest", "price": "100", "stock": "1", "identifier": "B0OLDEST01"},
            )
            for n in range(150):
                state.add_item(
                    SHOP_A, {"title": f"t{n}", "price": "100", "stock": "1", "identifier": f"X{n}"}
                )
        before = len(env.calls("/1/items"))
        found = env.platform.find_existing("B0OLDEST01", env.account())
        assert found is not None
        assert len(env.calls("/1/items")) - before == 2  # pages of 100, newest first
        env.clock.advance(3600)
        before = len(env.calls("/1/items"))
        since = env.clock.now() - timedelta(minutes=1)
        assert env.platform.find_existing("B0OLDEST01", env.account(), since=since) is None
        assert len(env.calls("/1/items")) - before == 1  # stopped at the first older item
        query = env.calls("/1/items")[-1]
        assert query["outcome"] == "ok"


def test_partial_image_failure_then_only_the_missing_images(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        item = product("B0PARTIAL1", images=4)
        env.sandbox.faults.inject("server_error", path=IMAGE, after=1)
        with pytest.raises(PartialUpload) as caught:
            env.platform.upload(item, env.account())
        partial = caught.value
        assert isinstance(partial.cause, Transient)
        assert (partial.images_done, partial.images_total, partial.calls) == (1, 4, 3)
        assert env.platform.calls_for(item, partial.images_done) == 3
        result = env.platform.upload(
            item,
            env.account(),
            platform_item_id=partial.platform_item_id,
            images_done=partial.images_done,
        )
        assert (result.calls, result.images_added) == (3, 3)
        [stored] = env.items()
        assert [stored[f"img{n}_origin"] for n in range(1, 5)] == list(item.images)
        assert len(env.calls(ADD)) == 1
        assert [c["image_no"] for c in env.calls(IMAGE) if c["outcome"] == "ok"] == [
            "1",
            "2",
            "3",
            "4",
        ]


# ---------------------------------------------------------------------------- rules


@one_database
@pytest.mark.parametrize(
    ("rules", "item", "rule"),
    [
        ({"ng_words": ["エアガン"]}, product(title="電動エアガン セット"), "ng_words"),
        ({"ng_words": ["tobacco"]}, product(description="TOBACCO pipe"), "ng_words"),
        (
            {"blocked_categories": ["医薬品"]},
            product(category="ヘルスケア > 医薬品"),
            "blocked_categories",
        ),
        ({"min_price": 300}, product(price=299), "min_price"),
        ({"emoji": "reject"}, product(title="かわいい😀"), "emoji"),
    ],
)
def test_a_blocked_item_is_never_sent(
    tmp_path: Path, database_url: str, rules: dict[str, object], item: object, rule: str
) -> None:
    with base_env(tmp_path, database_url, rules=rules, login=()) as env:
        with pytest.raises(Permanent) as caught:
            env.platform.upload(item, env.account())  # type: ignore[arg-type]
        assert f"rule {rule}" in caught.value.message
        assert env.sandbox.calls() == []  # not even a token request


def test_ng_words_file_is_read(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "ng.txt").write_text("# 禁止\nナイフ\n", encoding="utf-8")
    with base_env(tmp_path, database_url, rules={"ng_words_file": "ng.txt"}) as env:
        with pytest.raises(Permanent, match="ng_words"):
            env.platform.upload(product(title="万能ナイフ"), env.account())
        assert env.calls(ADD) == []


def test_amazon_phrase_is_removed_whole_and_emoji_stripped(
    tmp_path: Path, database_url: str
) -> None:
    rules = {"remove_phrases": ["Amazon", "【Amazon.co.jp限定】"]}
    with base_env(tmp_path, database_url, rules=rules) as env:
        item = product(title="【Amazon.co.jp限定】 ワイヤレス イヤホン 🎧 Amazon ベーシック")
        env.platform.upload(item, env.account())
        [stored] = env.items()
        assert stored["title"] == "ワイヤレス イヤホン ベーシック"
        assert ".co.jp限定" not in stored["title"]


# ---------------------------------------------------------------------------- secrets


def test_no_token_or_secret_in_debug_logs_or_errors(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    messages: list[str] = []
    try:
        with caplog.at_level(logging.DEBUG), base_env(tmp_path, database_url) as env:
            env.platform.upload(product("B0SECRET01"), env.account())
            env.sandbox.state.expire_tokens()
            env.platform.upload(product("B0SECRET02"), env.account())
            env.clock.advance(3400)  # 200 s left: a proactive refresh
            env.platform.upload(product("B0SECRET03"), env.account())
            env.sandbox.faults.inject("lost_response", path=ADD)
            for trigger in (
                lambda: env.platform.upload(product("B0SECRET04"), env.account()),
                lambda: env.platform.upload(product(stock=-1), env.account()),
            ):
                try:
                    trigger()
                except Exception as exc:
                    messages += [str(exc), repr(exc)]
            record = TokenStore(env.engine, "base").get(SHOP_A)
            messages.append(repr(record))
            secrets = [*env.sandbox.state.issued, CLIENT_SECRET]
    finally:
        root.removeHandler(handler)
        handler.close()
    text = "\n".join([caplog.text, log_file.read_text(encoding="utf-8"), *messages])
    assert "items/add" in text  # the logs did capture the traffic
    assert len(secrets) >= 7  # 3 token pairs and the client secret
    for secret in secrets:
        assert secret not in text


# ---------------------------------------------------------------------------- set-up


@one_database
@pytest.mark.parametrize(
    ("platform", "message"),
    [
        ({"api_base_url": "http://api.example.com"}, "not HTTPS"),
        ({"client_id": ""}, "client_id is empty"),
        (
            {"client_secret": "", "client_secret_env": "US_TEST_UNSET_SECRET"},
            "US_TEST_UNSET_SECRET",
        ),
        ({"rules": {"ng_words_file": "missing.txt"}}, "missing.txt does not exist"),
    ],
)
def test_configuration_problems_stop_the_adapter_at_start(
    tmp_path: Path, database_url: str, platform: dict[str, object], message: str
) -> None:
    raw = base_config(database_url, "https://api.thebase.in")
    raw["platforms"]["base"].update(platform)
    settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
    engine = open_database(settings.database_url)
    try:
        with pytest.raises(ValueError, match=message):
            BasePlatform(PlatformContext("base", settings, engine, FakeClock(START)))
    finally:
        engine.dispose()


def test_sandbox_login_helper_for_the_demo(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, login=()) as env:
        record = sandbox_login(env.settings, env.engine, SHOP_B, clock=env.clock)
        assert record.expires_at == START + timedelta(hours=1)
        env.platform.upload(product(images=0), env.account(SHOP_B))
        assert len(env.items(SHOP_B)) == 1
        with pytest.raises(ValueError, match="not a local sandbox"):
            authorize_code("https://api.thebase.in", "cid", "http://127.0.0.1:1/cb", "x")
