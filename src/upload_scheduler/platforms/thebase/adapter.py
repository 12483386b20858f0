"""`BasePlatform`: the Platform protocol on BASE API v1 (BASE_API.md).

An upload is `items/add` then one `items/add_image` per image. Content rules run before
anything is sent. A refused access token is refreshed once and the call retried; every
other answer becomes one of the worker's error classes (`mapping.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from upload_scheduler.platforms.errors import (
    AuthExpired,
    PartialUpload,
    Permanent,
    PlatformError,
    Transient,
)
from upload_scheduler.platforms.interface import (
    Account,
    DeleteResult,
    ExistingItem,
    PlatformContext,
    Product,
    UploadResult,
)
from upload_scheduler.platforms.thebase.client import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    ApiError,
    BaseClient,
    WireError,
)
from upload_scheduler.platforms.thebase.mapping import (
    is_invalid_token,
    map_api_error,
    map_wire_error,
)
from upload_scheduler.platforms.thebase.rules import Rules, RuleViolation, apply_rules, load_rules
from upload_scheduler.platforms.thebase.tokens import TokenManager

PAGE_SIZE = 100  # GET /1/items allows at most 100
MAX_IMAGE_NO = 20
# find_existing stops at items last modified this long before the first attempt: host
# clocks differ, and `modified` is the only time BASE returns for an item.
FIND_MARGIN = timedelta(minutes=10)
# Answers that mean "no such item": items/delete and items/add_image say bad_item_id, the
# sandbox's item detail says no_item (BASE's own code for the detail is not documented).
GONE_CODES = ("bad_item_id", "no_item", "not_found")

log = logging.getLogger(__name__)


@dataclass
class _Calls:
    """API calls made by one adapter method; they count against the budgets."""

    count: int = 0


class BasePlatform:
    name = "base"

    def __init__(
        self,
        context: PlatformContext,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = context.name
        self._settings = context.settings
        self._clock = context.clock
        # A broken rules file or configuration stops the worker at start-up with a clear
        # message, instead of failing every item it would have sent.
        config = context.settings.platform_config(self.name).rules
        self.rules: Rules = load_rules(config, context.settings.base_dir)
        self._client = BaseClient(
            connect_timeout=connect_timeout, read_timeout=read_timeout, transport=transport
        )
        self.tokens = TokenManager(
            context.settings, context.engine, context.clock, self._client, platform=self.name
        )
        try:
            self.tokens.check_configuration()
        except ValueError:
            self._client.close()
            raise

    # ------------------------------------------------------------------ Platform

    def upload(
        self,
        product: Product,
        account: Account,
        *,
        platform_item_id: str | None = None,
        images_done: int = 0,
        pace: Callable[[], None] | None = None,
    ) -> UploadResult:
        """Create the item (unless it exists) and add images images_done+1..n."""
        calls = _Calls()
        images = product.images[:MAX_IMAGE_NO]
        what = f"{self.name} account {account.account_id}, asin {product.asin}"
        if platform_item_id is None:
            try:
                product = apply_rules(product, self.rules)
            except RuleViolation as violation:
                raise Permanent(f"{what}: {violation}; nothing was sent") from None
            platform_item_id = self._add_item(product, account, calls, what, pace)
            images_done = 0
        first = max(0, images_done)
        for index in range(first, len(images)):
            try:
                self._api(
                    account,
                    "POST",
                    "/1/items/add_image",
                    calls,
                    f"{what}, item {platform_item_id}, image {index + 1}",
                    # A lost answer may come after the image was added: looked up first.
                    creating=True,
                    effect="the image may have been added",
                    data={
                        "item_id": platform_item_id,
                        "image_no": index + 1,
                        "image_url": images[index],
                    },
                )
            except PlatformError as err:
                raise PartialUpload(
                    f"{what}: item {platform_item_id} exists with {index} of {len(images)} "
                    f"images; image {index + 1} failed: {err.message}",
                    platform_item_id=platform_item_id,
                    images_done=index,
                    images_total=len(images),
                    calls=calls.count,
                    cause=err,
                ) from err
        added = max(0, len(images) - first)
        log.info("%s: item %s listed (%d image(s) added)", what, platform_item_id, added)
        return UploadResult(
            platform_item_id=platform_item_id, calls=calls.count, images_added=added
        )

    def find_existing(
        self, asin: str, account: Account, *, since: datetime | None = None
    ) -> ExistingItem | None:
        """Page through the shop's items, newest first, for identifier == asin. BASE has
        no search by identifier (its text search lags by an hour)."""
        calls = _Calls()
        floor = None if since is None else int((since - FIND_MARGIN).timestamp())
        what = f"{self.name} account {account.account_id}, looking for asin {asin}"
        offset = 0
        while True:
            params = {
                "order": "created",
                "sort": "desc",
                "limit": PAGE_SIZE,
                "offset": offset,
                "max_image_no": MAX_IMAGE_NO,
            }
            body = self._api(account, "GET", "/1/items", calls, what, params=params)
            items = body.get("items") or []
            for item in items:
                if str(item.get("identifier") or "") == asin:
                    found = ExistingItem(
                        str(item["item_id"]), images=_image_count(item), calls=calls.count
                    )
                    log.info(
                        "%s: found item %s (%d calls)", what, found.platform_item_id, calls.count
                    )
                    return found
                if floor is not None and _older_than(item, floor):
                    return None
            if len(items) < PAGE_SIZE:
                return None
            offset += PAGE_SIZE

    def calls_for(self, product: Product, images_done: int = 0) -> int:
        """items/add when nothing is done yet, plus the images still to add. A resumed
        upload whose item exists but has no image is counted one too high, which only
        makes pacing more careful."""
        remaining = max(0, len(product.images[:MAX_IMAGE_NO]) - images_done)
        return (1 if images_done == 0 else 0) + remaining

    def delete(self, platform_item_id: str, account: Account, *, asin: str = "") -> DeleteResult:
        """POST /1/items/delete; bad_item_id means the item is already gone. BASE keys
        items by their id: `asin` is not needed."""
        calls = _Calls()
        what = f"{self.name} account {account.account_id}, deleting item {platform_item_id}"
        body = self._api(
            account,
            "POST",
            "/1/items/delete",
            calls,
            what,
            data={"item_id": platform_item_id},
            gone_codes=GONE_CODES,
        )
        return DeleteResult(calls.count, already_gone=body.get("error") in GONE_CODES)

    def exists(self, platform_item_id: str, account: Account, *, asin: str = "") -> bool:
        """GET /1/items/detail/{item_id}: an item BASE does not know is gone."""
        what = f"{self.name} account {account.account_id}, checking item {platform_item_id}"
        path = f"/1/items/detail/{platform_item_id}"
        body = self._api(account, "GET", path, _Calls(), what, gone_codes=GONE_CODES)
        return body.get("error") not in GONE_CODES

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ more BASE calls

    def prepare(self, account: Account) -> None:
        """Refresh the account's token now if it is due, so the refresh does not sit
        between the worker's pacing decision and items/add (BASE would see the item
        start later than planned, and the next one closer to it)."""
        self.tokens.access_token(account.account_id)

    def item_detail(self, platform_item_id: str, account: Account) -> dict[str, Any]:
        """GET /1/items/detail/{item_id}: the id goes in the path (the old system put it
        in the query string and got 400)."""
        what = f"{self.name} account {account.account_id}, item {platform_item_id}"
        path = f"/1/items/detail/{platform_item_id}"
        body = self._api(account, "GET", path, _Calls(), what)
        return dict(body.get("item") or {})

    def delete_item(self, platform_item_id: str, account: Account) -> None:
        what = f"{self.name} account {account.account_id}, deleting item {platform_item_id}"
        self._api(
            account, "POST", "/1/items/delete", _Calls(), what, data={"item_id": platform_item_id}
        )

    # ------------------------------------------------------------------ internals

    def _add_item(
        self,
        product: Product,
        account: Account,
        calls: _Calls,
        what: str,
        pace: Callable[[], None] | None,
    ) -> str:
        data = {
            "title": product.title,
            "detail": product.description,
            "price": product.price,
            "stock": product.stock,
            "visible": 1,
            "identifier": product.asin,
        }
        body = self._api(
            account, "POST", "/1/items/add", calls, what, data=data, creating=True, pace=pace
        )
        item = body.get("item") or {}
        if "item_id" not in item:
            raise Transient(
                f"{what}: BASE accepted items/add without an item_id", maybe_created=True
            )
        return str(item["item_id"])

    def _api(
        self,
        account: Account,
        method: str,
        path: str,
        calls: _Calls,
        what: str,
        *,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        creating: bool = False,
        effect: str = "the item may have been created",
        pace: Callable[[], None] | None = None,
        gone_codes: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """One API call with the account's token; a refused token is refreshed once. An
        error whose code is in `gone_codes` is answered as {"error": code}, not raised."""
        account_id = account.account_id
        settings = self.tokens.account_settings(account_id)
        url = f"{settings.api_base_url.rstrip('/')}{path}"
        token = self.tokens.access_token(account_id)
        for attempt in (1, 2):
            calls.count += 1
            if pace is not None:
                pace()
            try:
                return self._client.call(method, url, token=token, data=data, params=params)
            except ApiError as err:
                if err.code in gone_codes:
                    return {"error": err.code}
                if not is_invalid_token(err):
                    now = self._clock.now()
                    raise map_api_error(
                        err,
                        now=now,
                        zone=settings.zone,
                        what=what,
                        creating=creating,
                        effect=effect,
                    ) from None
                calls.count -= 1  # BASE does not count a refused token against the shop
                if attempt == 2:
                    raise AuthExpired(
                        f"{what}: BASE refused a freshly refreshed access token "
                        f"({err.code}: {err.description})"
                    ) from None
                log.info("%s: access token refused; refreshing it", what)
                token = self.tokens.after_rejection(account_id, token)
            except WireError as err:
                raise map_wire_error(err, what=what, creating=creating, effect=effect) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _image_count(item: dict[str, Any]) -> int:
    return sum(1 for n in range(1, MAX_IMAGE_NO + 1) if item.get(f"img{n}_origin"))


def _older_than(item: dict[str, Any], floor: int) -> bool:
    modified = item.get("modified")
    return isinstance(modified, int | float) and modified < floor
