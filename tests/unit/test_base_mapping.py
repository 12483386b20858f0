"""BASE's answers mapped onto the worker's error classes, and the token timing rules, as
pure functions of fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from upload_scheduler.platforms.errors import (
    Misconfigured,
    Permanent,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from upload_scheduler.platforms.thebase.client import ApiError, BaseClient, WireError
from upload_scheduler.platforms.thebase.mapping import (
    is_invalid_token,
    is_wrong_endpoint,
    map_api_error,
    map_wire_error,
    next_hour,
    next_local_midnight,
)
from upload_scheduler.platforms.thebase.oauth import authorize_url, check_api_url
from upload_scheduler.platforms.thebase.token_health import assess
from upload_scheduler.platforms.thebase.token_store import TokenRecord, tail
from upload_scheduler.platforms.thebase.tokens import refresh_due

TOKYO = ZoneInfo("Asia/Tokyo")
ADD_PATH = "/1/items/add"
NOW = datetime(2026, 3, 10, 14, 59, 59, 900000, tzinfo=UTC)  # 23:59:59.9 in Tokyo


def mapped(code: str, description: str = "説明", status: int = 400, **kw: object) -> object:
    return map_api_error(ApiError(status, code, description), now=NOW, zone=TOKYO, what="x", **kw)


def test_hour_limit_waits_for_the_next_full_hour() -> None:
    error = mapped("hour_api_limit")
    assert isinstance(error, RateLimited)
    assert error.until == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert next_hour(datetime(2026, 3, 10, 15, 0, tzinfo=UTC)) == datetime(
        2026, 3, 10, 16, 0, tzinfo=UTC
    )
    assert isinstance(mapped("x", status=429), RateLimited)


def test_day_limit_waits_for_local_midnight() -> None:
    error = mapped("day_api_limit")
    assert isinstance(error, RateLimited)
    assert error.until == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 2026-03-11 00:00 JST
    new_york = ZoneInfo("America/New_York")
    # Across a DST change: 2026-03-08 is 23 hours long in New York.
    before = datetime(2026, 3, 8, 4, 0, tzinfo=UTC)  # 2026-03-07 23:00 EST
    assert next_local_midnight(before, new_york) == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert isinstance(mapped("item_limit"), QuotaExhausted)


@pytest.mark.parametrize("code", ["validation_error", "bad_params", "bad_item_id", "no_image"])
def test_data_errors_are_permanent_and_keep_the_japanese_text(code: str) -> None:
    error = mapped(code, "バリデーションエラーです。")
    assert isinstance(error, Permanent)
    assert code in error.message and "バリデーションエラーです。" in error.message


def test_server_errors_are_transient_and_on_create_may_have_created() -> None:
    plain = mapped("server_error", "DB error")
    assert isinstance(plain, Transient) and not plain.maybe_created
    on_create = mapped("http_502", "Bad Gateway", status=502, creating=True)
    assert isinstance(on_create, Transient) and on_create.maybe_created


def test_invalid_token_is_told_from_other_invalid_requests() -> None:
    assert is_invalid_token(ApiError(400, "invalid_request", "アクセストークンが無効です。"))
    assert is_invalid_token(ApiError(400, "invalid_request", "アクセストークンが不正です。"))
    assert is_invalid_token(ApiError(401, "unauthorized", ""))
    assert not is_invalid_token(
        ApiError(400, "invalid_request", "デジタルコンテンツの商品は編集できません。")
    )
    assert not is_invalid_token(ApiError(400, "validation_error", "アクセストークン"))


@pytest.mark.parametrize("status", [404, 301, 302, 307, 308])
def test_a_404_or_redirect_without_base_body_is_a_wrong_url(status: int) -> None:
    err = ApiError(status, f"http_{status}", "Not Found", platform_body=False, path=ADD_PATH)
    assert is_wrong_endpoint(err)
    for creating in (False, True):
        error = map_api_error(err, now=NOW, zone=TOKYO, what="x", creating=creating)
        assert isinstance(error, Misconfigured)
        assert error.message == f"check api_base_url (answered {status} for {ADD_PATH})"


@pytest.mark.parametrize(
    ("status", "code"), [(404, "bad_item_id"), (404, "no_item"), (404, "not_found")]
)
def test_a_404_with_base_body_keeps_its_meaning(status: int, code: str) -> None:
    err = ApiError(status, code, "商品が見つかりませんでした。", path="/1/items/detail/9")
    assert not is_wrong_endpoint(err)
    error = map_api_error(err, now=NOW, zone=TOKYO, what="x")
    assert isinstance(error, Permanent) and code in error.message


@pytest.mark.parametrize("status", [400, 401, 403, 410, 500, 502])
def test_other_statuses_without_base_body_are_not_a_wrong_url(status: int) -> None:
    err = ApiError(status, f"http_{status}", "x", platform_body=False, path=ADD_PATH)
    assert not is_wrong_endpoint(err)
    assert not isinstance(map_api_error(err, now=NOW, zone=TOKYO, what="x"), Misconfigured)


def answer_of(response: httpx.Response, url: str) -> ApiError:
    """What the client makes of `response` to a POST to `url` (no server involved)."""
    client = BaseClient(transport=httpx.MockTransport(lambda request: response))
    try:
        client.call("POST", url, token="tok-secret-0001", data={"title": "t"})
    except ApiError as err:
        return err
    finally:
        client.close()
    raise AssertionError("the client accepted an error answer")


def test_the_client_says_whether_base_body_was_there_and_the_path() -> None:
    url = "http://127.0.0.1:9/wrong/1/items/add?client_secret=cs-secret-0002"
    page = httpx.Response(404, text="<html><body>Not Found</body></html>")
    bare = answer_of(page, url)
    assert (bare.status, bare.platform_body, bare.path) == (404, False, "/wrong/1/items/add")
    moved = answer_of(httpx.Response(302, headers={"Location": "https://x.example/"}), url)
    assert (moved.status, moved.platform_body) == (302, False)
    other_json = answer_of(httpx.Response(404, json={"message": "Not Found"}), url)
    assert not other_json.platform_body
    base = answer_of(
        httpx.Response(404, json={"error": "bad_item_id", "error_description": "不正"}), url
    )
    assert (base.code, base.platform_body) == ("bad_item_id", True)
    message = map_api_error(bare, now=NOW, zone=TOKYO, what="x").message
    assert message == "check api_base_url (answered 404 for /wrong/1/items/add)"
    assert "secret" not in message and "tok-" not in message and "?" not in message


def test_wire_errors_say_whether_the_item_may_exist() -> None:
    sent = WireError("timed out (ReadTimeout)", sent=True, timeout=True)
    unsent = WireError("connection failed", sent=False, timeout=False)
    assert map_wire_error(sent, what="x", creating=True).maybe_created
    assert not map_wire_error(sent, what="x", creating=False).maybe_created
    assert not map_wire_error(unsent, what="x", creating=True).maybe_created


def record(
    lifetime: timedelta, *, refresh_age: timedelta | None = timedelta(days=1)
) -> TokenRecord:
    obtained = NOW - timedelta(seconds=1)
    return TokenRecord(
        platform="base",
        account_id="a",
        access_token="access-token-value-1234",
        refresh_token="refresh-token-value-5678" if refresh_age is not None else None,
        token_type="bearer",
        expires_at=obtained + lifetime,
        obtained_at=obtained,
        refresh_token_obtained_at=NOW - refresh_age if refresh_age is not None else None,
        login_required=None,
        refresh_locked_until=None,
        refresh_lock_owner=None,
        version=1,
        updated_at=obtained,
    )


def test_refresh_is_due_with_min_of_five_minutes_and_half_the_lifetime() -> None:
    hour = record(timedelta(hours=1))
    assert not refresh_due(hour, hour.expires_at - timedelta(minutes=5, seconds=1))
    assert refresh_due(hour, hour.expires_at - timedelta(minutes=4, seconds=59))
    short = record(timedelta(seconds=60))
    assert not refresh_due(short, short.expires_at - timedelta(seconds=31))
    assert refresh_due(short, short.expires_at - timedelta(seconds=29))


def test_status_assessment() -> None:
    assert assess(None, NOW).login_required
    fresh = assess(record(timedelta(hours=1)), NOW)
    assert fresh.status == "ok" and fresh.access_valid
    old = assess(record(timedelta(hours=1), refresh_age=timedelta(days=26)), NOW)
    assert old.status == "warning" and "log in soon" in old.message
    dead = assess(record(timedelta(hours=1), refresh_age=timedelta(days=31)), NOW)
    assert dead.login_required
    gone = assess(record(timedelta(hours=1), refresh_age=None), NOW + timedelta(hours=2))
    assert gone.login_required
    assert tail("access-token-value-1234") == "…1234"
    assert "access-token" not in repr(record(timedelta(hours=1)))


def test_urls() -> None:
    url = authorize_url("https://api.thebase.in", "cid", "http://127.0.0.1:8765/cb", "st", shop="a")
    assert "scope=read_items+write_items" in url and "state=st" in url
    assert "shop=" not in url  # the sandbox-only parameter never goes to BASE
    assert "shop=a" in authorize_url("http://127.0.0.1:9", "cid", "http://x/cb", "st", shop="a")
    assert check_api_url("https://api.thebase.in") is None
    assert check_api_url("http://localhost:8080") is None
    assert check_api_url("http://api.thebase.in") is not None
