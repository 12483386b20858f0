"""Yahoo!ショッピング on the wire: form-encoded POSTs and GETs out, XML back, or a typed
error (`YahooError`).

This module knows HTTP and Yahoo!'s XML (`<ResultSet><Result><Status>OK|NG` and
`<Error><Code/><Message/>`), nothing about tokens' lifetimes or the worker. It reads
liberally: a code or message is found wherever the answer puts it. The access token and
client secret go into headers built here and are never formatted into a message.
"""

from __future__ import annotations

import codecs
import logging
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any

import httpx

from upload_scheduler.platforms.wire import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    basic_token_request,
    http_client,
    retry_after_seconds,
    wire_error,
)

log = logging.getLogger(__name__)

API_PATH = "/ShoppingWebService/V1/"
# The root elements of Yahoo!'s answers; other XML (an HTML page) is not Yahoo! speaking.
YAHOO_ROOTS = frozenset({"ResultSet", "Error", "Result"})
# An HTML or XML tag, left out of a text answer's words.
_TAG = re.compile(r"<[^>]*>")
_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*encoding=["']([A-Za-z0-9_.-]+)["']""")
_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
# `error="…"` of a Bearer challenge (RFC 6750).
_CHALLENGE_ERROR = re.compile(r'error="([^"]*)"')


@dataclass(frozen=True)
class YahooError(Exception):
    """Yahoo! (or whatever sits at the URL) refused a call.

    `code` is Yahoo!'s (`it-01017`, `px-04003`; "" when the answer has none);
    `platform_body` says the answer was Yahoo!'s XML; `challenge` is the `error` of a 401's
    WWW-Authenticate (`invalid_token`); `path` is the request's path (never its query)."""

    status: int
    code: str
    message: str
    platform_body: bool
    path: str
    challenge: str = ""
    retry_after: float | None = None

    def describe(self) -> str:
        """Yahoo!'s own words: its code and message, or the HTTP status."""
        words = " ".join(part for part in (self.code, self.message) if part)
        return words or f"HTTP {self.status}"

    def __str__(self) -> str:
        return f"{self.describe()} (HTTP {self.status})"


@dataclass(frozen=True)
class Answer:
    """A successful answer's XML, read as `Result` fields (`field("ItemCode")`)."""

    root: ElementTree.Element | None

    def results(self) -> list[ElementTree.Element]:
        if self.root is None:
            return []
        return [r for r in self.root.iter() if _local(r.tag) == "Result"]

    def field(self, name: str) -> str:
        for element in self.root.iter() if self.root is not None else ():
            if _local(element.tag) == name:
                return (element.text or "").strip()
        return ""

    def total_returned(self) -> int | None:
        """`totalResultsReturned` of the ResultSet, when the answer gives it."""
        if self.root is None:
            return None
        value = self.root.attrib.get("totalResultsReturned")
        try:
            return None if value is None else int(value)
        except ValueError:
            return None


class YahooClient:
    """A thin, synchronous client; the adapter and the token manager share one."""

    def __init__(
        self,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = http_client(
            connect_timeout=connect_timeout, read_timeout=read_timeout, transport=transport
        )
        self._http.headers["Accept"] = "application/xml"

    def post_form(self, url: str, *, token: str, form: dict[str, str]) -> Answer:
        """A form-encoded POST (editItem, setStock, submitItem, deleteItem, …)."""
        return self._send("POST", url, token, data=form)

    def get(self, url: str, *, token: str, params: dict[str, str]) -> Answer:
        return self._send("GET", url, token, params=params)

    def upload_file(
        self,
        url: str,
        *,
        token: str,
        params: dict[str, str],
        file_name: str,
        data: bytes,
        content_type: str = "image/jpeg",
    ) -> Answer:
        """A multipart POST with one file in the part named `file` (uploadItemImage)."""
        files = {"file": (file_name, data, content_type)}
        return self._send("POST", url, token, params=params, files=files)

    def token(
        self, url: str, *, client_id: str, client_secret: str, form: dict[str, str]
    ) -> dict[str, Any]:
        """POST to YConnect's token endpoint (`wire.basic_token_request`)."""
        return basic_token_request(
            self._http, url, client_id=client_id, client_secret=client_secret, form=form
        )

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, url: str, token: str, **request: Any) -> Answer:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = self._http.request(method, url, headers=headers, **request)
        except httpx.RequestError as exc:
            raise wire_error(exc) from None
        log.debug("%s %s -> HTTP %s", method, response.request.url.path, response.status_code)
        return read_answer(response)


def read_answer(response: httpx.Response) -> Answer:
    """The XML of a 2xx answer whose Status is not NG; YahooError otherwise."""
    status = response.status_code
    root = parse_xml(response.content)
    if root is not None and _local(root.tag) not in YAHOO_ROOTS:
        root = None  # well-formed, but not Yahoo!'s (an HTML page at a wrong URL)
    path = response.request.url.path
    if 200 <= status < 300 and root is not None and not _refused(root):
        return Answer(root)
    code, message = ("", "") if root is None else _error(root)
    if root is None:
        # A 2xx without Yahoo!'s XML (empty, cut off, HTML) says nothing of what was done:
        # the caller treats it as a lost answer (`mapping`: transient).
        message = (
            "the answer was empty or not Yahoo!'s XML"
            if 200 <= status < 300
            else _plain_text(response)
        )
    raise YahooError(
        status,
        code,
        message or (response.reason_phrase if root is None else ""),
        platform_body=root is not None,
        path=path,
        challenge=_challenge(response.headers.get("WWW-Authenticate", "")),
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def parse_xml(content: bytes) -> ElementTree.Element | None:
    """The document's root, or None for anything that is not plain XML. A document with
    a DOCTYPE anywhere is refused unread: Yahoo! sends none, and entities are an attack
    surface."""
    text = content.lstrip()
    if text.startswith(codecs.BOM_UTF8):
        text = text[len(codecs.BOM_UTF8) :].lstrip()
    if not text.startswith(b"<") or b"<!DOCTYPE" in text.upper():
        return None
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None
    except (ValueError, LookupError):  # a multi-byte encoding expat cannot read itself
        return _parse_declared(text)


def _parse_declared(text: bytes) -> ElementTree.Element | None:
    """A document in the encoding its declaration names (Shift_JIS, EUC-JP), decoded
    here and parsed as text; None when that cannot be done."""
    declared = _DECLARED_ENCODING.match(text)
    if declared is None:
        return None
    try:
        decoded = text.decode(declared.group(1).decode("ascii"))
        return ElementTree.fromstring(_DECLARATION.sub("", decoded, count=1))
    except (LookupError, UnicodeDecodeError, ValueError, ElementTree.ParseError):
        return None


def _plain_text(response: httpx.Response) -> str:
    """The start of an answer that is not XML (Yahoo!'s day-budget refusal may come as
    text), or its HTTP reason."""
    text = _TAG.sub(" ", response.text[:4000]) if response.content else ""
    text = " ".join(text.split())[:200]
    return text or response.reason_phrase


def _local(tag: str) -> str:
    """A tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _refused(root: ElementTree.Element) -> bool:
    """Whether an answer says the call failed: Status NG, an `<Error>` document, or an
    error inside the result without a Status OK."""
    status = _status(root)
    if status == "NG" or _local(root.tag) == "Error":
        return True
    return status != "OK" and any(_local(e.tag) == "Error" for e in root.iter())


def _status(root: ElementTree.Element) -> str:
    for element in root.iter():
        if _local(element.tag) == "Status":
            return (element.text or "").strip().upper()
    return ""


def _error(root: ElementTree.Element) -> tuple[str, str]:
    """The first error code and message anywhere in the answer."""
    code = message = ""
    for element in root.iter():
        name = _local(element.tag)
        if name == "Code" and not code:
            code = (element.text or "").strip()
        elif name == "Message" and not message:
            message = (element.text or "").strip()
    return code, message


def _challenge(header: str) -> str:
    found = _CHALLENGE_ERROR.search(header)
    return found.group(1) if found else ""
