"""Shared by the Yahoo! sandbox tests: a store API client holding one login's token,
the whole editItem form the wire contract sends, and readers of Yahoo!'s XML."""

from __future__ import annotations

import base64
from typing import Any
from xml.etree import ElementTree as ET

import httpx

from upload_scheduler.platforms.yahoo.sandbox.login import REDIRECT_URI, user_tokens

CLIENT_ID = "dj00aiZpPXNhbmRib3gtYXBw"
SECRET = "sandbox-secret"
API = "/ShoppingWebService/V1/"
TOKEN = "/yconnect/v2/token"


def item_form(seller_id: str, code: str, **changes: str) -> dict[str, str]:
    """Every field the contract sends with editItem."""
    form = {
        "seller_id": seller_id,
        "item_code": code,
        "path": "おもちゃ:ロボット",
        "name": f"ブリキのロボット {code}",
        "product_category": "2084",
        "price": "1980",
        "caption": "<p>昭和の名品</p>",
        "explanation": "ゼンマイで歩きます。",
        "headline": "送料無料",
        "display": "1",
    }
    form.update(changes)
    return form


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    return {"Authorization": f"Basic {encoded}"}


class StoreClient:
    """One login (user under client_id) calling the store API for any store."""

    def __init__(self, url: str, user: str = "staff", client_id: str = CLIENT_ID) -> None:
        self.url = url
        self.client_id = client_id
        self.tokens = user_tokens(url, client_id, user, redirect_uri=REDIRECT_URI)
        self.http = httpx.Client(base_url=url, timeout=5)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def post(self, api: str, **form: str) -> httpx.Response:
        return self.http.post(API + api, data=form, headers=self.headers())

    def get(self, api: str, **query: str) -> httpx.Response:
        return self.http.get(API + api, params=query, headers=self.headers())

    def edit(self, seller_id: str, code: str, **changes: str) -> httpx.Response:
        return self.post("editItem", **item_form(seller_id, code, **changes))

    def upload(self, seller_id: str, file_name: str, data: bytes) -> httpx.Response:
        files = {"file": (file_name, data, "image/jpeg")}
        return self.http.post(
            API + "uploadItemImage",
            params={"seller_id": seller_id},
            files=files,
            headers=self.headers(),
        )

    def image(self, name: str) -> bytes:
        answer = self.http.get(f"/images/{name}")
        assert answer.status_code == 200, name
        return answer.content

    def refresh(self) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": self.tokens["refresh_token"]}
        return self.http.post(TOKEN, data=form, headers=basic(self.client_id))

    def control(self, path: str, **form: str) -> Any:
        answer = self.http.post(f"/_sandbox/{path}", data=form)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def state(self, seller_id: str) -> dict[str, Any]:
        answer = self.http.get("/_sandbox/state", params={"seller_id": seller_id})
        items: dict[str, Any] = answer.json()["stores"][seller_id]["items"]
        return items

    def verdict(self, **query: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.get("/_sandbox/verdict", params=query).json()
        return answer


def xml(answer: httpx.Response) -> ET.Element:
    assert answer.headers["content-type"] == "application/xml; charset=UTF-8"
    assert answer.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(answer.content)


def error_codes(answer: httpx.Response) -> list[str]:
    """The `Code`s of an Error or of editItem's NG ResultSet."""
    return [element.text or "" for element in xml(answer).iter("Code")]
