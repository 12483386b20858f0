"""The sandbox's shops, tokens and items, and BASE's rules about them.

Every method answers as BASE does: a dict for success, `SandboxError(code, description)`
(HTTP 400, Japanese text) otherwise. A shop is named by the sandbox-only `shop` query
parameter of the authorize request (the shop a browser would be logged into); its
codes and tokens carry that name, and its call counters and items belong to it.
Callers hold `lock` around each request.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from upload_scheduler.clock import Clock
from upload_scheduler.platforms.thebase.sandbox.options import (
    DEFAULT_SHOP,
    SandboxOptions,
)

MAX_IMAGES = 20
LIST_LIMIT = 100
ITEM_LIMIT_CODE = "item_limit"  # not documented by BASE; see mapping.ITEM_LIMIT

# BASE's own wording (its API docs), so the adapter's mapping is tested on real text.
INVALID_TOKEN = "アクセストークンが無効です。"
HOUR_LIMIT_TEXT = (
    "1時間のAPIの利用上限を超えました。時間が変わってからもう一度アクセスしてください。"
)
DAY_LIMIT_TEXT = "1日のAPIの利用上限を超えました。日付が変わってからもう一度アクセスしてください。"
VALIDATION = "バリデーションエラーです。"


class SandboxError(Exception):
    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status


@dataclass
class _Grant:
    shop: str
    client_id: str
    expires_at: datetime
    redirect_uri: str = ""


@dataclass
class Shop:
    name: str
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    hour_key: str = ""
    hour_calls: int = 0
    day_key: str = ""
    day_calls: int = 0
    created_day: str = ""
    created_today: int = 0


class SandboxState:
    def __init__(self, options: SandboxOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self.zone = ZoneInfo(options.timezone)
        self.lock = threading.RLock()
        self.shops: dict[str, Shop] = {}
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._next_item_id = 1001
        self._sequence = 0
        self.issued: list[str] = []  # every token handed out, for tests that look for leaks

    # ------------------------------------------------------------------ OAuth

    def authorize(self, params: dict[str, str]) -> str:
        """Auto-approve: the redirect Location carrying a code (or BASE's refusal when the
        sandbox-only `deny=1` is given)."""
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if not client_id or not redirect_uri:
            raise SandboxError("invalid_request", "不正なパラメーターです。")
        state = params.get("state")
        if params.get("response_type", "code") != "code":
            return _with_query(redirect_uri, {"error": "unsupported_response_type", "state": state})
        if params.get("deny") == "1":
            return _with_query(redirect_uri, {"error": "access_denied", "state": state})
        shop = params.get("shop") or DEFAULT_SHOP
        code = secrets.token_hex(16)
        expires = self.clock.now() + timedelta(seconds=self.options.code_lifetime)
        self._codes[code] = _Grant(shop, client_id, expires, redirect_uri)
        self.shop(shop)
        return _with_query(redirect_uri, {"code": code, "state": state})

    def token(self, form: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """(shop, answer) for POST /1/oauth/token; any client_id/secret pair is accepted."""
        if not form.get("client_id") or not form.get("client_secret"):
            raise SandboxError("invalid_request", "client_idもしくはclient_secretがありません。")
        grant_type = form.get("grant_type")
        now = self.clock.now()
        if grant_type == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or grant.client_id != form["client_id"]:
                raise SandboxError("invalid_request", "不正な認可コードです。")
            if grant.expires_at <= now:
                raise SandboxError("invalid_request", "認可コードの有効期限が切れています。")
            if grant.redirect_uri != form.get("redirect_uri", ""):
                raise SandboxError("invalid_request", "不正なパラメーターです。")
        elif grant_type == "refresh_token":
            # A refresh token is used once: BASE issues a new one with every refresh.
            grant = self._refresh.pop(form.get("refresh_token", ""), None)
            if grant is None or grant.client_id != form["client_id"]:
                raise SandboxError("invalid_request", "不正なリフレッシュトークンです。")
            if grant.expires_at <= now:
                raise SandboxError(
                    "invalid_request", "リフレッシュトークンの有効期限が切れています。"
                )
        else:
            raise SandboxError("invalid_request", "不正なgrant_typeです。")
        return grant.shop, self.issue_tokens(grant.shop, form["client_id"])

    def issue_tokens(self, shop: str, client_id: str = "sandbox") -> dict[str, Any]:
        """A new token pair for `shop` (the token endpoint's answer)."""
        now = self.clock.now()
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.issued += [access, refresh]
        lifetime = timedelta(seconds=self.options.token_lifetime)
        self._access[access] = _Grant(shop, client_id, now + lifetime)
        refresh_lifetime = timedelta(seconds=self.options.refresh_token_lifetime)
        self._refresh[refresh] = _Grant(shop, client_id, now + refresh_lifetime)
        self.shop(shop)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.options.token_lifetime,
            "refresh_token": refresh,
        }

    def authenticate(self, authorization: str | None) -> str:
        """The shop an `Authorization: Bearer …` header stands for."""
        scheme, _, token = (authorization or "").partition(" ")
        grant = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires_at <= self.clock.now():
            raise SandboxError("invalid_request", INVALID_TOKEN)
        return grant.shop

    def expire_tokens(self, shop: str | None = None) -> int:
        """End the access tokens of `shop` (all shops if None) now, as if their hour was
        up; refresh tokens stay valid."""
        now = self.clock.now()
        ended = 0
        for grant in self._access.values():
            if (shop is None or grant.shop == shop) and grant.expires_at > now:
                grant.expires_at = now
                ended += 1
        return ended

    def revoke_refresh_tokens(self, shop: str | None = None) -> int:
        """Make the next refresh fail for good, as a revoked app or a 30-day-old token."""
        doomed = [t for t, g in self._refresh.items() if shop is None or g.shop == shop]
        for token in doomed:
            del self._refresh[token]
        return len(doomed)

    # ------------------------------------------------------------------ limits

    def count_call(self, shop_name: str) -> None:
        """One API call against the shop's hour and day budgets, or BASE's limit answer.
        Refused calls are not counted."""
        shop = self._current_budget(shop_name)
        if shop.day_calls >= self.options.day_call_limit:
            raise SandboxError("day_api_limit", DAY_LIMIT_TEXT)
        if shop.hour_calls >= self.options.hour_call_limit:
            raise SandboxError("hour_api_limit", HOUR_LIMIT_TEXT)
        shop.hour_calls += 1
        shop.day_calls += 1

    def spend_budget(self, shop_name: str, period: str) -> int:
        """Use up the rest of the shop's `period` ("hour" or "day") budget, as another app
        of the same shop would: its next API call gets BASE's limit answer until the
        period ends. The calls it took, for the caller to report."""
        if period not in ("hour", "day"):
            raise SandboxError("bad_params", "periodはhourかdayで指定してください。")
        shop = self._current_budget(shop_name)
        if period == "hour":
            spent = max(0, self.options.hour_call_limit - shop.hour_calls)
            shop.hour_calls += spent
        else:
            spent = max(0, self.options.day_call_limit - shop.day_calls)
            shop.day_calls += spent
        return spent

    def _current_budget(self, shop_name: str) -> Shop:
        """The shop, its hour and day counters restarted if their period has ended."""
        shop = self.shop(shop_name)
        now = self.clock.now()
        hour_key = now.strftime("%Y-%m-%dT%H")
        day_key = now.astimezone(self.zone).date().isoformat()
        if shop.hour_key != hour_key:
            shop.hour_key, shop.hour_calls = hour_key, 0
        if shop.day_key != day_key:
            shop.day_key, shop.day_calls = day_key, 0
        return shop

    # ------------------------------------------------------------------ items

    def add_item(self, shop_name: str, form: dict[str, str]) -> dict[str, Any]:
        shop = self.shop(shop_name)
        title = form.get("title", "")
        detail = form.get("detail", "")
        problems = []
        if not title.strip():
            problems.append("titleは必須です")
        price, stock = _int(form.get("price")), _int(form.get("stock"))
        if price is None or price < 0:
            problems.append("priceは0以上の整数で指定してください")
        if stock is None or stock < 0:
            problems.append("stockは0以上の整数で指定してください")
        if form.get("visible", "1") not in ("0", "1"):
            problems.append("visibleは0か1で指定してください")
        if _has_four_byte(title) or _has_four_byte(detail):
            problems.append("titleとdetailに絵文字(4バイト文字)は使えません")
        if problems:
            raise SandboxError("validation_error", f"{VALIDATION}({'、'.join(problems)})")
        today = self.clock.now().astimezone(self.zone).date().isoformat()
        if shop.created_day != today:
            shop.created_day, shop.created_today = today, 0
        if shop.created_today >= self.options.daily_item_limit:
            raise SandboxError(ITEM_LIMIT_CODE, "1日の商品登録数の上限を超えました。")
        shop.created_today += 1
        item_id = self._next_item_id
        self._next_item_id += 1
        self._sequence += 1
        order = max((i["list_order"] for i in shop.items.values()), default=0) + 1
        item: dict[str, Any] = {
            "item_id": item_id,
            "title": title,
            "detail": detail,
            "price": price,
            "proper_price": None,
            "stock": stock,
            "visible": int(form.get("visible", "1")),
            "list_order": order,
            "identifier": form.get("identifier") or None,
            **{f"img{n}_origin": None for n in range(1, MAX_IMAGES + 1)},
            "modified": self._timestamp(),
            "variations": [],
            "_created": self._sequence,
        }
        shop.items[item_id] = item
        return {"item": _public(item)}

    def add_image(self, shop_name: str, form: dict[str, str]) -> dict[str, Any]:
        item = self._item(shop_name, form.get("item_id"), "bad_item_id", "不正なitem_idです。")
        image_no = _int(form.get("image_no"))
        url = form.get("image_url", "")
        if image_no is None or not 1 <= image_no <= MAX_IMAGES or not url:
            raise SandboxError("bad_params", "不正なパラメーターです。")
        if not url.startswith(("http://", "https://")):
            raise SandboxError("no_image", "画像を取得できませんでした。")
        item[f"img{image_no}_origin"] = url
        item["modified"] = self._timestamp()
        return {"item": _public(item)}

    def list_items(self, shop_name: str, params: dict[str, str]) -> dict[str, Any]:
        order = params.get("order", "list_order")
        sort = params.get("sort", "asc")
        limit, offset = _int(params.get("limit", "20")), _int(params.get("offset", "0"))
        max_image_no = _int(params.get("max_image_no", "5"))
        if (
            order not in ("list_order", "created", "modified")
            or sort not in ("asc", "desc")
            or limit is None
            or not 1 <= limit <= LIST_LIMIT
            or offset is None
            or offset < 0
            or max_image_no is None
            or not 1 <= max_image_no <= MAX_IMAGES
        ):
            raise SandboxError("bad_params", "不正なパラメーターです。")
        key = {"list_order": "list_order", "created": "_created", "modified": "modified"}[order]
        items = sorted(
            self.shop(shop_name).items.values(),
            key=lambda i: (i[key], i["_created"]),
            reverse=sort == "desc",
        )
        page = items[offset : offset + limit]
        return {"items": [_public(i, images=max_image_no) for i in page]}

    def detail(self, shop_name: str, item_id: str) -> dict[str, Any]:
        if not item_id:
            raise SandboxError("no_item_id", "item_idは必須です。")
        item = self._item(shop_name, item_id, "no_item", "商品が見つかりませんでした。")
        return {"item": _public(item)}

    def delete(self, shop_name: str, form: dict[str, str]) -> dict[str, Any]:
        item = self._item(shop_name, form.get("item_id"), "bad_item_id", "不正なitem_idです。")
        del self.shop(shop_name).items[item["item_id"]]
        return {"result": True}

    # ------------------------------------------------------------------ helpers

    def shop(self, name: str) -> Shop:
        if name not in self.shops:
            self.shops[name] = Shop(name)
        return self.shops[name]

    def items_of(self, name: str) -> list[dict[str, Any]]:
        return [_public(i) for i in self.shop(name).items.values()]

    def _item(self, shop_name: str, item_id: str | None, code: str, text: str) -> dict[str, Any]:
        number = _int(item_id)
        item = self.shop(shop_name).items.get(number) if number is not None else None
        if item is None:
            raise SandboxError(code, text)
        return item

    def _timestamp(self) -> int:
        return int(self.clock.now().timestamp())


def _public(item: dict[str, Any], *, images: int = MAX_IMAGES) -> dict[str, Any]:
    hidden = {f"img{n}_origin" for n in range(images + 1, MAX_IMAGES + 1)} | {"_created"}
    return {k: v for k, v in item.items() if k not in hidden}


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _has_four_byte(text: str) -> bool:
    return any(ord(ch) > 0xFFFF for ch in text)


def _with_query(uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def now_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")
