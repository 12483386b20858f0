"""eBay's answers mapped onto the worker's error classes, row by row of mapping.py's
table, and the reading of eBay's error envelope."""

from __future__ import annotations

import httpx
import pytest

from upload_scheduler.platforms.ebay.client import EbayError, ErrorEntry, read_answer
from upload_scheduler.platforms.ebay.mapping import (
    MEANINGS,
    STATUS_MEANINGS,
    Meaning,
    existing_offer_id,
    map_api_error,
    map_wire_error,
    meaning,
)
from upload_scheduler.platforms.errors import (
    AuthExpired,
    Misconfigured,
    Permanent,
    PlatformError,
    Throttled,
    Transient,
)
from upload_scheduler.platforms.wire import WireError

SETUP = "run `upload-scheduler account setup --platform ebay --account seller_a`"


def ebay(
    status: int,
    *ids: int,
    message: str = "eBay says no.",
    body: bool = True,
    retry_after: float | None = None,
) -> EbayError:
    entries = tuple(ErrorEntry(i, message) for i in ids)
    return EbayError(
        status,
        entries,
        platform_body=body,
        path="/sell/inventory/v1/offer",
        retry_after=retry_after,
    )


def mapped(err: EbayError, *, acting: bool = False) -> PlatformError:
    what = "ebay account seller_a, asin B0X"
    return map_api_error(err, what=what, account_id="seller_a", refused="the offer", acting=acting)


# ---------------------------------------------------------------------------- the table, by row


def test_1001_and_401_refresh_then_ask_for_a_login() -> None:
    assert meaning(ebay(401, 1001)) is Meaning.REFRESH
    assert meaning(ebay(401)) is Meaning.REFRESH
    error = mapped(ebay(401, 1001, message="Invalid access token"))
    assert isinstance(error, AuthExpired)
    assert "1001 Invalid access token" in error.message
    assert "token login --platform ebay --account seller_a" in error.message


def test_403_and_1100_need_a_login_with_the_scopes() -> None:
    assert meaning(ebay(403, 1100)) is Meaning.SCOPE
    assert meaning(ebay(403)) is Meaning.SCOPE
    error = mapped(ebay(403, 1100))
    assert isinstance(error, AuthExpired) and "token login" in error.message


def test_429_and_2001_are_throttled_with_retry_after() -> None:
    assert meaning(ebay(429, 2001)) is Meaning.THROTTLED
    assert meaning(ebay(429)) is Meaning.THROTTLED
    error = mapped(ebay(429, 2001, message="Too many requests.", retry_after=30.0))
    assert isinstance(error, Throttled)
    assert error.retry_after == 30.0 and "2001 Too many requests." in error.message
    plain = mapped(ebay(429, 2001))
    assert isinstance(plain, Throttled) and plain.retry_after is None


@pytest.mark.parametrize(
    ("status", "ids"),
    [(500, (25001,)), (500, (25025,)), (500, ()), (502, ()), (503, ()), (504, ()), (599, ())],
)
def test_server_errors_are_transient_and_on_a_write_may_have_acted(
    status: int, ids: tuple[int, ...]
) -> None:
    assert meaning(ebay(status, *ids)) is Meaning.TRANSIENT
    read = mapped(ebay(status, *ids))
    assert isinstance(read, Transient) and not read.maybe_created
    write = mapped(ebay(status, *ids), acting=True)
    assert isinstance(write, Transient) and write.maybe_created
    assert "may have been created" in write.message


@pytest.mark.parametrize("error_id", [25007, 25008, 25009, 25035, 25012, 20403])
def test_missing_set_up_pauses_the_account_with_the_setup_command(error_id: int) -> None:
    assert MEANINGS[error_id] is Meaning.SETUP
    error = mapped(ebay(400, error_id, message="Please add a policy."))
    assert isinstance(error, Misconfigured)
    assert f"{error_id} Please add a policy." in error.message
    assert SETUP in error.message


@pytest.mark.parametrize("error_id", [25003, 25004, 25005, 25014, 25015, 25017, 25021, 25707])
def test_validation_errors_are_permanent_with_ebays_id_and_message(error_id: int) -> None:
    error = mapped(ebay(400, error_id, message="The price is not valid."))
    assert isinstance(error, Permanent)
    assert error.message == (
        f"ebay account seller_a, asin B0X: eBay refused the offer: {error_id} "
        "The price is not valid."
    )


def test_every_entry_of_a_publish_is_told_and_set_up_wins() -> None:
    both = EbayError(
        400,
        (ErrorEntry(25003, "Bad price."), ErrorEntry(25009, "No return policy.")),
        platform_body=True,
        path="/x",
    )
    error = mapped(both)
    assert isinstance(error, Misconfigured)
    assert "25003 Bad price.; 25009 No return policy." in error.message


def test_gone_ids_are_known_and_otherwise_permanent() -> None:
    assert meaning(ebay(404, 25710)) is Meaning.GONE
    assert meaning(ebay(404, 25713)) is Meaning.GONE
    assert isinstance(mapped(ebay(404, 25713)), Permanent)


@pytest.mark.parametrize("status", [404, 301, 302, 307])
def test_a_404_or_redirect_without_ebays_body_is_a_wrong_url(status: int) -> None:
    err = ebay(status, body=False)
    assert meaning(err) is Meaning.WRONG_URL
    error = mapped(err)
    assert isinstance(error, Misconfigured)
    assert f"check api_base_url (answered {status} for /sell/inventory/v1/offer)" in error.message
    # With eBay's body a 404 keeps its meaning.
    assert meaning(ebay(404, 2002)) is Meaning.PERMANENT


def test_the_table_covers_what_platforms_md_names() -> None:
    assert set(STATUS_MEANINGS) == {401, 403, 429, 500, 502, 503, 504}
    assert {1001, 2001, 25001, 25025, 25710, 25713} <= set(MEANINGS)


# ---------------------------------------------------------------------------- 25002


def test_25002_gives_the_existing_offer_id() -> None:
    exists = EbayError(
        400,
        (
            ErrorEntry(
                25002,
                "A user error has occurred. Offer entity already exists.",
                (("offerId", "9876543210"),),
            ),
        ),
        platform_body=True,
        path="/sell/inventory/v1/offer",
    )
    assert existing_offer_id(exists) == "9876543210"
    assert existing_offer_id(ebay(400, 25002)) is None  # eBay's other user errors
    assert existing_offer_id(ebay(400, 25003)) is None


# ---------------------------------------------------------------------------- no answer


def test_lost_answers_of_writes_may_have_acted_reads_not() -> None:
    sent = WireError("timed out (ReadTimeout)", sent=True, timeout=True)
    unsent = WireError("connection failed (ConnectError: refused)", sent=False, timeout=False)
    assert map_wire_error(sent, what="x", acting=True).maybe_created
    assert not map_wire_error(sent, what="x", acting=False).maybe_created
    assert not map_wire_error(unsent, what="x", acting=True).maybe_created


# ---------------------------------------------------------------------------- the envelope


def response(status: int, body: bytes, **headers: str) -> httpx.Response:
    request = httpx.Request("POST", "https://api.example/sell/inventory/v1/offer?sku=S")
    return httpx.Response(status, content=body, headers=headers, request=request)


def test_the_error_envelope_is_read() -> None:
    body = (
        b'{"errors":[{"errorId":25002,"domain":"API_INVENTORY","category":"REQUEST",'
        b'"message":"Offer entity already exists.","parameters":[{"name":"offerId",'
        b'"value":"42"}]}]}'
    )
    with pytest.raises(EbayError) as caught:
        read_answer(response(400, body))
    err = caught.value
    assert err.platform_body and err.error_ids == (25002,)
    assert err.path == "/sell/inventory/v1/offer"  # no query string
    assert existing_offer_id(err) == "42"


def test_answers_without_the_envelope() -> None:
    assert read_answer(response(204, b"")) == {}
    assert read_answer(response(201, b'{"offerId":"7"}')) == {"offerId": "7"}
    with pytest.raises(EbayError) as caught:
        read_answer(response(404, b"<html>not here</html>"))
    assert not caught.value.platform_body
    with pytest.raises(EbayError) as caught:
        read_answer(response(429, b'{"errors":[{"errorId":2001}]}', **{"Retry-After": "12"}))
    assert caught.value.retry_after == 12.0
    with pytest.raises(EbayError) as caught:
        read_answer(response(429, b"", **{"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}))
    assert caught.value.retry_after is None
