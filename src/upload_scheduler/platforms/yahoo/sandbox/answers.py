"""Yahoo!'s answers: the store API's XML (a `ResultSet`, or an `Error`), YConnect's
JSON, and the sandbox's own JSON, pages and image bytes, all as one `Reply`.

Every refusal is a `YahooError` (XML) or an `OAuthError` (JSON, the eBay sandbox's:
YConnect's error shape is the same `{"error", "error_description"}`). The codes are
/tmp/yahoo_wire.md's; those chosen here are named in the package docstring.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from upload_scheduler.platforms.ebay.sandbox.errors import OAuthError
from upload_scheduler.platforms.sandbox_http import SEND

__all__ = ["OAuthError", "Reply", "YahooError"]

XML_TYPE = "application/xml; charset=UTF-8"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
NOT_FOUND_CODE = "it-00999"
FOREIGN_STORE_CODE = "px-04003"
MISSING_SELLER_CODE = "px-04001"  # our choice: no seller_id
BAD_QUANTITY_CODE = "st-00001"  # our choice: setStock's quantity not a whole number >= 0
BAD_PUBLISH_CODE = "pb-00001"  # our choice: reservePublish's mode not 1, or a reserve_time
TOO_LARGE_CODE = "ed-00006"
BAD_IMAGE_CODE = "ed-00005"
BEARER_REALM = 'Bearer realm="yahooapis.jp", error="invalid_token", error_description="{}"'


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str = SEND

    def payload(self) -> bytes:
        return self.body

    def content_type(self) -> str | None:
        return self.media_type

    @classmethod
    def xml(cls, status: int, root: ET.Element, **headers: str) -> Reply:
        return cls(status, XML_DECLARATION + ET.tostring(root, "utf-8"), XML_TYPE, headers)

    @classmethod
    def json(cls, status: int, value: Any) -> Reply:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        return cls(status, body, "application/json; charset=UTF-8")

    @classmethod
    def html(cls, status: int, page: str, **headers: str) -> Reply:
        return cls(status, page.encode("utf-8"), "text/html; charset=UTF-8", headers)


class YahooError(Exception):
    """A store API refusal: `<Error><Message/>[<Code/>]</Error>`, or editItem's NG
    ResultSet when `targets` lists (target, code, message) entries."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        *,
        outcome: str | None = None,
        headers: dict[str, str] | None = None,
        targets: list[tuple[str, str, str]] | None = None,
    ) -> None:
        super().__init__(f"{status} {code or ''} {message}")
        self.status = status
        self.message = message
        self.code = code
        self.outcome = outcome or code or str(status)  # what the record says
        self.headers = headers or {}
        self.targets = targets or []

    def reply(self) -> Reply:
        if self.targets:
            return Reply.xml(self.status, validation_result(self.targets), **self.headers)
        root = ET.Element("Error")
        ET.SubElement(root, "Message").text = self.message
        if self.code is not None:
            ET.SubElement(root, "Code").text = self.code
        return Reply.xml(self.status, root, **self.headers)


def result_set(entries: list[dict[str, str]]) -> ET.Element:
    """`<ResultSet totalResultsAvailable=.. ><Result>…</Result>…</ResultSet>`, the
    entries' keys as element names, in order."""
    count = str(len(entries))
    root = ET.Element(
        "ResultSet",
        totalResultsAvailable=count,
        totalResultsReturned=count,
        firstResultPosition="1",
    )
    for entry in entries:
        result = ET.SubElement(root, "Result")
        for name, value in entry.items():
            ET.SubElement(result, name).text = value
    return root


def ok(item_code: str | None = None) -> Reply:
    entry = {"Status": "OK"} if item_code is None else {"Status": "OK", "ItemCode": item_code}
    return Reply.xml(200, result_set([entry]))


def validation_result(targets: list[tuple[str, str, str]]) -> ET.Element:
    root = ET.Element("ResultSet")
    result = ET.SubElement(root, "Result")
    ET.SubElement(result, "Status").text = "NG"
    for target, code, message in targets:
        error = ET.SubElement(result, "Error")
        ET.SubElement(error, "Target").text = target
        ET.SubElement(error, "Code").text = code
        ET.SubElement(error, "Message").text = message
    return root


def invalid_token(description: str) -> YahooError:
    """401: the adapter refreshes once and retries."""
    header = {"WWW-Authenticate": BEARER_REALM.format(description)}
    return YahooError(401, "invalid token", outcome="invalid_token", headers=header)


def not_found(item_code: str) -> YahooError:
    return YahooError(400, f"item {item_code} does not exist", NOT_FOUND_CODE)


def foreign_store(seller_id: str) -> YahooError:
    return YahooError(403, f"the store {seller_id} is not the token's", FOREIGN_STORE_CODE)


def day_budget_spent() -> YahooError:
    return YahooError(403, "Your Request was Forbidden", outcome="app_day_limit")


def too_many_requests(retry_after: float) -> YahooError:
    seconds = str(max(1, math.ceil(retry_after)))
    return YahooError(
        429, "Too Many Requests", outcome="too_many_requests", headers={"Retry-After": seconds}
    )


def server_error() -> YahooError:
    return YahooError(500, "System error", outcome="server_error")


def unavailable(message: str = "Service Unavailable", outcome: str = "unavailable") -> YahooError:
    return YahooError(503, message, outcome=outcome)
