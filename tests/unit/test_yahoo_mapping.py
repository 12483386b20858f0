"""Yahoo!'s answers mapped onto the worker's error classes, row by row of mapping.py's
table, and the reading of Yahoo!'s XML (`client.read_answer`) from real httpx responses:
a success, an NG result, a bare `<Error>`, anything that is not Yahoo!'s XML, the Bearer
challenge and Retry-After."""

from __future__ import annotations

import httpx
import pytest

from upload_scheduler.platforms.errors import (
    ApplicationLimited,
    AuthExpired,
    Misconfigured,
    Permanent,
    PlatformError,
    Throttled,
    Transient,
)
from upload_scheduler.platforms.yahoo.client import Answer, YahooError, parse_xml, read_answer
from upload_scheduler.platforms.yahoo.mapping import Meaning, map_api_error, meaning

PATH = "/ShoppingWebService/V1/editItem"
URL = f"https://x{PATH}"
WHAT = "yahoo account store_a, asin B0X"
LOGIN = "upload-scheduler token login --platform yahoo --account store_a"


def yahoo(
    status: int,
    code: str = "",
    message: str = "",
    *,
    body: bool = True,
    challenge: str = "",
    retry_after: float | None = None,
) -> YahooError:
    return YahooError(
        status,
        code,
        message,
        platform_body=body,
        path=PATH,
        challenge=challenge,
        retry_after=retry_after,
    )


def mapped(err: YahooError, *, acting: bool = False, interval: float = 0.0) -> PlatformError:
    return map_api_error(
        err,
        what=WHAT,
        account_id="store_a",
        refused="the item",
        acting=acting,
        url_interval_seconds=interval,
    )


def response(
    status: int,
    content: bytes | str = b"",
    headers: dict[str, str] | None = None,
    url: str = URL,
) -> httpx.Response:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return httpx.Response(
        status, content=raw, headers=headers or {}, request=httpx.Request("POST", url)
    )


def refused(resp: httpx.Response) -> YahooError:
    with pytest.raises(YahooError) as caught:
        read_answer(resp)
    return caught.value


OK_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<ResultSet totalResultsAvailable="1" totalResultsReturned="1" firstResultPosition="1">
  <Result>
    <Status>OK</Status>
    <ItemCode> B0YAHOO001 </ItemCode>
  </Result>
</ResultSet>"""

NG_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<ResultSet totalResultsAvailable="1" totalResultsReturned="1" firstResultPosition="1">
  <Result>
    <Status>NG</Status>
    <Error>
      <Target>price</Target>
      <Code>it-01017</Code>
      <Message>価格が不正です。</Message>
    </Error>
    <Error>
      <Target>name</Target>
      <Code>it-01001</Code>
      <Message>second error</Message>
    </Error>
  </Result>
</ResultSet>"""

FORBIDDEN = "<Error><Message>Your Request was Forbidden</Message></Error>"
WRONG_STORE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>px-04003</Code><Message>seller_id mismatch</Message></Error>"
)
NOT_FOUND = "<Error><Code>it-00999</Code><Message>item not found</Message></Error>"


# ---------------------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("status", "challenge"),
    [(401, "invalid_token"), (401, ""), (400, "invalid_token"), (403, "invalid_token")],
)
def test_a_refused_token_is_refreshed_then_asks_for_a_login(status: int, challenge: str) -> None:
    err = yahoo(status, message="invalid token", body=False, challenge=challenge)
    assert meaning(err) is Meaning.REFRESH
    error = mapped(err)
    assert isinstance(error, AuthExpired)
    assert "invalid token" in error.message
    assert f"`{LOGIN}`" in error.message
    assert error.message.startswith(f"{WHAT}: ")


def test_a_forbidden_request_without_a_code_is_the_applications_spent_day() -> None:
    err = yahoo(403, message="Your Request was Forbidden")
    assert meaning(err) is Meaning.APPLICATION_SPENT
    error = mapped(err)
    assert isinstance(error, ApplicationLimited)
    assert "day budget" in error.message and "Your Request was Forbidden" in error.message


def test_px_04003_is_the_wrong_store_and_names_seller_id() -> None:
    err = yahoo(403, "px-04003", "seller_id mismatch")
    assert meaning(err) is Meaning.WRONG_STORE
    error = mapped(err)
    assert isinstance(error, Misconfigured)
    assert "seller_id" in error.message
    assert "px-04003 seller_id mismatch" in error.message
    # The code wins over the words: a forbidden store is not a spent day.
    assert meaning(yahoo(403, "PX-04003", "Your Request was Forbidden")) is Meaning.WRONG_STORE


def test_another_403_with_a_code_is_a_refusal_for_the_store() -> None:
    err = yahoo(403, "px-09999", "no permission")
    assert meaning(err) is Meaning.WRONG_STORE
    assert isinstance(mapped(err), Misconfigured)


def test_429_is_throttled_for_retry_after() -> None:
    err = yahoo(429, message="Too Many Requests", retry_after=3.0)
    assert meaning(err) is Meaning.THROTTLED
    error = mapped(err, interval=1.0)
    assert isinstance(error, Throttled)
    assert error.retry_after == 3.0
    assert "too frequent" in error.message and "Too Many Requests" in error.message


def test_429_without_retry_after_waits_the_url_interval() -> None:
    error = mapped(yahoo(429, message="Too Many Requests"), interval=1.0)
    assert isinstance(error, Throttled) and error.retry_after == 1.0
    # Neither: the worker's own back-off.
    plain = mapped(yahoo(429))
    assert isinstance(plain, Throttled) and plain.retry_after is None


@pytest.mark.parametrize("code", ["it-00999", "IT-00999"])
def test_it_00999_means_the_item_is_gone(code: str) -> None:
    assert meaning(yahoo(400, code, "item not found")) is Meaning.GONE


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_transient_and_may_have_acted_only_when_acting(status: int) -> None:
    err = yahoo(status, message="System error")
    assert meaning(err) is Meaning.TRANSIENT
    read = mapped(err)
    assert isinstance(read, Transient) and not read.maybe_created
    assert "may have been changed" not in read.message
    write = mapped(err, acting=True)
    assert isinstance(write, Transient) and write.maybe_created
    assert "the item may have been changed" in write.message


def test_a_transient_write_says_its_own_effect() -> None:
    error = map_api_error(
        yahoo(503),
        what=WHAT,
        account_id="store_a",
        refused="image 3",
        acting=True,
        effect="image 3 may have been uploaded",
    )
    assert isinstance(error, Transient) and error.maybe_created
    assert error.message.endswith("; image 3 may have been uploaded")
    assert "HTTP 503" in error.message  # no code, no message: the status is said


@pytest.mark.parametrize("status", [404, 301, 302, 307])
def test_a_404_or_redirect_without_yahoos_xml_is_a_wrong_api_base_url(status: int) -> None:
    err = yahoo(status, message="Not Found", body=False)
    assert meaning(err) is Meaning.WRONG_URL
    error = mapped(err, acting=True)
    assert isinstance(error, Misconfigured)
    assert "api_base_url" in error.message
    assert f"answered {status} for {PATH}" in error.message


def test_a_404_with_yahoos_xml_keeps_its_meaning() -> None:
    assert meaning(yahoo(404, "it-00999", "item not found")) is Meaning.GONE


def test_an_ng_result_is_permanent_with_the_code_and_message() -> None:
    err = yahoo(200, "it-01017", "価格が不正です。")
    assert meaning(err) is Meaning.PERMANENT
    error = mapped(err)
    assert isinstance(error, Permanent)
    assert error.message == f"{WHAT}: Yahoo! refused the item: it-01017 価格が不正です。"


def test_a_400_without_a_code_is_permanent_with_the_status() -> None:
    error = mapped(yahoo(400, body=False))
    assert isinstance(error, Permanent) and error.message.endswith("HTTP 400")


# ------------------------------------------------------------------ reading the answers


def test_an_ok_result_set_is_an_answer_read_by_field() -> None:
    answer = read_answer(response(200, OK_ITEM))
    assert isinstance(answer, Answer)
    assert answer.field("ItemCode") == "B0YAHOO001"  # trimmed
    assert answer.field("Status") == "OK"
    assert answer.field("NoSuchField") == ""
    assert answer.total_returned() == 1
    assert len(answer.results()) == 1


def test_fields_are_found_whatever_the_namespace() -> None:
    body = (
        '<ResultSet xmlns="urn:yahoo:jp:itemList" totalResultsReturned="2">'
        "<Result><Status>OK</Status><ItemCode>a</ItemCode></Result>"
        "<Result><Status>OK</Status><ItemCode>b</ItemCode></Result></ResultSet>"
    )
    answer = read_answer(response(200, body))
    assert answer.field("ItemCode") == "a"  # the first
    assert answer.total_returned() == 2
    ns = "{urn:yahoo:jp:itemList}"
    assert [r.findtext(f"{ns}ItemCode") for r in answer.results()] == ["a", "b"]


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [('totalResultsReturned="0"', 0), ('totalResultsReturned="many"', None), ("", None)],
)
def test_total_returned_only_when_it_is_a_number(attribute: str, expected: int | None) -> None:
    answer = read_answer(response(200, f"<ResultSet {attribute}><Result/></ResultSet>"))
    assert answer.total_returned() == expected


def test_an_empty_success_is_a_lost_answer() -> None:
    """A 200 whose body never came says nothing of what was done: looked up, not trusted."""
    err = refused(response(200, b"  \n"))
    assert err.status == 200 and not err.platform_body
    lost = map_api_error(err, what="w", account_id="a", refused="the item", acting=True)
    assert isinstance(lost, Transient) and lost.maybe_created


def test_a_success_status_carrying_an_error_is_refused() -> None:
    """Yahoo!'s `<Error>` is a refusal whatever the status line says: never a publish
    recorded that did not happen."""
    for body in (
        "<Error><Code>it-01011</Code><Message>path</Message></Error>",
        "<ResultSet><Result><Error><Code>it-01011</Code><Message>p</Message></Error>"
        "</Result></ResultSet>",
    ):
        err = refused(response(200, body))
        assert err.code == "it-01011" and isinstance(mapped(err), Permanent)


def test_an_answer_in_shift_jis_or_with_a_bom_is_read() -> None:
    sjis = (
        '<?xml version="1.0" encoding="Shift_JIS"?><ResultSet><Result><Status>NG</Status>'
        "<Error><Code>it-01012</Code><Message>商品名がありません</Message></Error>"
        "</Result></ResultSet>"
    ).encode("shift_jis")
    err = refused(response(200, sjis))
    assert (err.code, err.message) == ("it-01012", "商品名がありません")
    answer = read_answer(response(200, b"\xef\xbb\xbf" + OK_ITEM.encode()))
    assert answer.field("Status") == "OK"


def test_the_day_budget_refusal_is_known_in_html_or_with_a_code_too() -> None:
    for body in (
        "<html><body><h1>Your Request was Forbidden</h1></body></html>",
        "<Error><Code>403</Code><Message>Your Request was Forbidden</Message></Error>",
    ):
        assert meaning(refused(response(403, body))) is Meaning.APPLICATION_SPENT


def test_an_ng_result_raises_with_the_first_errors_code_and_message() -> None:
    err = refused(response(200, NG_ITEM))
    assert (err.status, err.code, err.message) == (200, "it-01017", "価格が不正です。")
    assert err.platform_body and err.path == PATH
    assert str(err) == "it-01017 価格が不正です。 (HTTP 200)"
    assert isinstance(mapped(err), Permanent)


def test_a_bare_error_body_is_read_and_mapped() -> None:
    spent = refused(response(403, FORBIDDEN))
    assert (spent.status, spent.code, spent.message) == (403, "", "Your Request was Forbidden")
    assert spent.platform_body
    assert isinstance(mapped(spent), ApplicationLimited)

    store = refused(response(400, WRONG_STORE))
    assert (store.code, store.message) == ("px-04003", "seller_id mismatch")
    assert isinstance(mapped(store), Misconfigured)

    gone = refused(response(404, NOT_FOUND))
    assert gone.platform_body and meaning(gone) is Meaning.GONE


def test_a_non_xml_body_is_not_yahoos() -> None:
    err = refused(response(502, "Bad Gateway from the proxy"))
    # The start of a plain-text answer is its message (Yahoo!'s day-budget refusal may be
    # text): a proxy's words are told apart from Yahoo!'s own.
    assert (err.status, err.code, err.message) == (502, "", "Bad Gateway from the proxy")
    assert not err.platform_body
    assert isinstance(mapped(err), Transient)

    success = refused(response(200, '{"ok": true}'))
    assert success.status == 200 and not success.platform_body
    assert success.message == "the answer was empty or not Yahoo!'s XML"
    assert isinstance(mapped(success), Transient)


def test_a_404_that_is_not_xml_pauses_for_the_url_naming_the_path_only() -> None:
    err = refused(
        response(404, "<html><body>nope", url=f"https://x{PATH}?seller_id=mystore&token=t0k")
    )
    assert not err.platform_body and err.path == PATH
    error = mapped(err)
    assert isinstance(error, Misconfigured) and "api_base_url" in error.message
    assert "mystore" not in error.message and "t0k" not in error.message


def test_a_404_page_of_well_formed_html_is_not_yahoos_answer() -> None:
    """Yahoo!'s answers are a ResultSet or an Error; a web server's page at a wrong URL is
    neither, even when it happens to be well-formed (and has no DOCTYPE)."""
    page = "<html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"
    err = refused(response(404, page))
    assert not err.platform_body
    error = mapped(err)
    assert isinstance(error, Misconfigured) and "api_base_url" in error.message


DOCTYPE_BODY = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY boom "expanded">]>\n'
    "<ResultSet><Result><Status>OK</Status><ItemCode>&boom;</ItemCode></Result></ResultSet>"
)


@pytest.mark.parametrize("body", [DOCTYPE_BODY, DOCTYPE_BODY.replace("DOCTYPE", "doctype")])
def test_a_document_with_a_doctype_is_refused_unread(body: str) -> None:
    assert parse_xml(body.encode()) is None
    err = refused(response(200, body))
    assert not err.platform_body and err.message == "the answer was empty or not Yahoo!'s XML"
    assert "expanded" not in str(err)


def test_a_doctype_behind_a_long_prolog_is_refused_too() -> None:
    """A comment may stand before the DOCTYPE; the entity must still never be expanded."""
    prolog = '<?xml version="1.0"?>\n<!--' + "x" * 3000 + "-->\n"
    body = prolog + DOCTYPE_BODY.split("\n", 1)[1]
    assert parse_xml(body.encode()) is None


def test_the_bearer_challenge_is_read_from_www_authenticate() -> None:
    header = 'Bearer realm="yahooapis.jp", error="invalid_token", error_description="expired"'
    err = refused(response(401, b"", {"WWW-Authenticate": header}))
    assert err.challenge == "invalid_token"
    assert (err.status, err.message, err.platform_body) == (401, "Unauthorized", False)
    assert meaning(err) is Meaning.REFRESH

    bare = refused(response(401, b"", {"WWW-Authenticate": 'Bearer realm="yahooapis.jp"'}))
    assert bare.challenge == ""


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), (" 1.5 ", 1.5), ("Wed, 21 Oct 2026 07:28:00 GMT", None), ("-2", None)],
)
def test_retry_after_is_read_in_seconds(header: str, expected: float | None) -> None:
    err = refused(response(429, "Too Many Requests", {"Retry-After": header}))
    assert err.retry_after == expected
    error = mapped(err, interval=1.0)
    assert isinstance(error, Throttled)
    assert error.retry_after == (expected if expected is not None else 1.0)


def test_no_retry_after_header_is_none() -> None:
    assert refused(response(429)).retry_after is None


def test_describe_says_code_and_message_or_the_status() -> None:
    assert yahoo(400, "it-01017", "bad").describe() == "it-01017 bad"
    assert yahoo(400, "", "bad").describe() == "bad"
    assert yahoo(400, "it-01017", "").describe() == "it-01017"
    assert yahoo(503, body=False).describe() == "HTTP 503"
