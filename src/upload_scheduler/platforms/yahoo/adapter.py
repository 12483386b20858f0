"""`YahooPlatform`: the Platform protocol on Yahoo!ショッピング's store API (PLATFORMS.md).

Listing one item is `editItem` (the whole item, every time: Yahoo! resets any field left
out), one `uploadItemImage` per image (downloaded, checked, re-encoded when needed, one at
a time), `setStock`, then `submitItem` (the publish). The item's key is its item_code
(item_code_prefix + ASIN), so every step can be repeated: editItem is an upsert, images
are overwritten by name, publishing an unchanged item again is harmless.

Yahoo! cannot be asked which images it has or whether a publish was taken, so our own
record of the accepted calls (`store.listing_steps`) says so. After a lost answer or a
crash, `find_existing` asks `getItem` whether the item exists: one known published with
its images is the listing, and nothing is sent; anything less is listed again whole, with
only the images not yet uploaded, and published. Every editItem or image upload is
followed by a submitItem, so no change is left unpublished.

Each request waits for the per-URL spacing (`platforms.request_spacing`: one request per
API URL and store per `url_interval_seconds`) right before it is sent, after any token
refresh or image download; the first, editItem, also keeps the worker's start spacing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from upload_scheduler import defaults
from upload_scheduler.config import AccountSettings
from upload_scheduler.platforms.call_count import CallCount, counting
from upload_scheduler.platforms.errors import Misconfigured, Permanent, Transient
from upload_scheduler.platforms.interface import (
    Account,
    DeleteResult,
    ExistingItem,
    PlatformContext,
    Product,
    UploadResult,
)
from upload_scheduler.platforms.request_spacing import RequestSpacing
from upload_scheduler.platforms.thebase.rules import Rules, load_rules
from upload_scheduler.platforms.wire import CONNECT_TIMEOUT, READ_TIMEOUT, WireError, ssl_context
from upload_scheduler.platforms.yahoo import listing as content
from upload_scheduler.platforms.yahoo.client import API_PATH, Answer, YahooClient, YahooError
from upload_scheduler.platforms.yahoo.images import (
    ImageRefused,
    ImageUnavailable,
    download_image,
    prepare_image,
)
from upload_scheduler.platforms.yahoo.mapping import (
    Meaning,
    map_api_error,
    map_wire_error,
    meaning,
)
from upload_scheduler.platforms.yahoo.tokens import token_manager
from upload_scheduler.store.listing_steps import ListingSteps

# editItem, setStock, submitItem; and one uploadItemImage per image.
CALLS_PER_ITEM = 3
SUBMITTED = "submitted"
# A deleteItem sent whose publish (reservePublish) has not been answered yet.
DELETE_UNPUBLISHED = "delete_unpublished"
# What find_existing reports for an item known published with its images: never fewer
# than a product can have, so the worker adds none.
IMAGES_COMPLETE = max(defaults.MAX_IMAGES, content.IMAGES_MAX)

log = logging.getLogger(__name__)


def image_step(index: int) -> str:
    return f"image:{index}"


class YahooPlatform:
    name = "yahoo"

    def __init__(
        self,
        context: PlatformContext,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = context.name
        self._clock = context.clock
        self._read_timeout = read_timeout
        self._client = YahooClient(
            connect_timeout=connect_timeout, read_timeout=read_timeout, transport=transport
        )
        # Image downloads go anywhere the product says: their own client, no token.
        self._images = httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            verify=ssl_context(),  # loaded on first use, as the API client's
            follow_redirects=False,
            transport=transport,
            # No compressed bodies: the download cap counts what arrives.
            headers={"Accept-Encoding": "identity"},
        )
        self.tokens = token_manager(
            context.settings, context.engine, context.clock, self._client, platform=self.name
        )
        self.spacing = RequestSpacing(context.engine, context.clock, self.name)
        self.steps = ListingSteps(context.engine, self.name)
        try:
            self.tokens.check_configuration()
            config = context.settings.platform_config(self.name).rules
            self.rules: Rules = load_rules(config, context.settings.base_dir)
        except Exception:
            self.close()
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
        """editItem, the images not yet uploaded, setStock, submitItem. `pace` runs
        immediately before editItem. `platform_item_id` and `images_done` are not needed:
        the item_code is the key, and our record says which images Yahoo! has."""
        calls = CallCount()
        with counting(calls):
            return self._list(product, account, calls, pace)

    def _list(
        self,
        product: Product,
        account: Account,
        calls: CallCount,
        pace: Callable[[], None] | None,
    ) -> UploadResult:
        settings = self._settings(account)
        what = f"{self.name} account {account.account_id}, asin {product.asin}"
        try:
            item = content.build_item(product, settings, self.rules)
        except content.ListingRefused as refused:
            raise Permanent(f"{what}: {refused}; nothing was sent") from None
        _log_adjustments(what, item)
        code = item.item_code
        done = self.steps.done(account.account_id, code)
        if SUBMITTED in done or DELETE_UNPUBLISHED in done:
            # An earlier listing of this code was completed (and since ended) or deleted:
            # this one starts afresh.
            self.steps.forget(account.account_id, code)
            done = set()
        missing = [i for i in range(len(item.images)) if image_step(i) not in done]
        with TemporaryDirectory(prefix="upload-scheduler-images-") as folder:
            # Every image still to upload is fetched and checked first, onto disk (not
            # memory: up to 21 of 2 MB): one that cannot be read fails the item before
            # anything is sent, and a failed download leaves nothing half done.
            files = {i: self._fetch_image(settings, item, i, what, Path(folder)) for i in missing}
            # The edit below is a change that must be published again.
            self.steps.forget(account.account_id, code, {SUBMITTED})
            self._call(
                account,
                settings,
                "editItem",
                calls,
                what,
                refused="the item",
                form=content.edit_item_form(item, settings.seller_id),
                pace=pace,
            )
            for index, path in files.items():
                self._upload_image(account, settings, item, index, path, calls, what)
        added = len(files)
        self._call(
            account,
            settings,
            "setStock",
            calls,
            what,
            refused="the stock",
            form={
                "seller_id": settings.seller_id,
                "item_code": code,
                "quantity": str(item.quantity),
            },
        )
        self._call(
            account,
            settings,
            "submitItem",
            calls,
            what,
            refused="the publish",
            form={"seller_id": settings.seller_id, "item_code": code},
            effect="the item may have been published",
        )
        self.steps.record(account.account_id, code, SUBMITTED, self._clock.now())
        self.spacing.flush()
        log.info(
            "%s: listed as %s and published (%d image(s) uploaded, %d already there)",
            what,
            code,
            added,
            len(item.images) - added,
        )
        return UploadResult(platform_item_id=code, calls=calls.count, images_added=added)

    def find_existing(
        self, asin: str, account: Account, *, since: datetime | None = None
    ) -> ExistingItem | None:
        """getItem by item_code: the item, when it exists and our record says it was
        published with its images; None otherwise (listing again then re-sends it whole,
        with only the missing images). An absent item forgets the record: nothing of it is
        on Yahoo!. One call; `since` is not needed, the item_code is the key."""
        settings = self._settings(account)
        code = content.item_code_for(asin, settings)
        what = f"{self.name} account {account.account_id}, looking for item_code {code}"
        calls = CallCount()
        if not self._has_item(account, settings, code, calls, what):
            self.steps.forget(account.account_id, code)
            log.info("%s: not on Yahoo!", what)
            return None
        if SUBMITTED not in self.steps.done(account.account_id, code):
            log.info("%s: on Yahoo!, not known published: it is sent again", what)
            return None
        log.info("%s: found, published with its images", what)
        return ExistingItem(code, images=IMAGES_COMPLETE, calls=calls.count)

    def prepare(self, account: Account) -> None:
        """Refresh the account's token now if it is due, so the refresh does not sit
        between the worker's pacing decision and editItem."""
        self.tokens.access_token(account.account_id)

    def calls_for(self, product: Product, images_done: int = 0) -> int:
        """editItem, setStock, submitItem and one call per image Yahoo! takes (at most
        21), reserved before the first; images already uploaded are settled afterwards."""
        return CALLS_PER_ITEM + min(len(product.images), content.IMAGES_MAX)

    def delete(self, platform_item_id: str, account: Account, *, asin: str = "") -> DeleteResult:
        """deleteItem, then reservePublish (the store's pending changes, the deletion
        among them, go live). An item Yahoo! no longer has (it-00999) is already gone;
        but a deletion whose publish was not answered is published again (our record
        says so: Yahoo!'s getItem no longer shows an item deleted but still live)."""
        settings = self._settings(account)
        code = platform_item_id or content.item_code_for(asin, settings)
        what = f"{self.name} account {account.account_id}, deleting item_code {code}"
        unpublished = DELETE_UNPUBLISHED in self.steps.done(account.account_id, code)
        self.steps.forget(account.account_id, code)
        self.steps.record(account.account_id, code, DELETE_UNPUBLISHED, self._clock.now())
        calls = CallCount()
        with counting(calls):
            answer = self._call(
                account,
                settings,
                "deleteItem",
                calls,
                what,
                refused="the delete",
                form={"seller_id": settings.seller_id, "item_code": code},
                effect="the item may have been deleted",
                gone_ok=True,
            )
            if answer is not None or unpublished:
                self._call(
                    account,
                    settings,
                    "reservePublish",
                    calls,
                    what,
                    refused="the publish of the deletion",
                    form={"seller_id": settings.seller_id, "mode": "1", "reserve_time": ""},
                    effect="the deletion may have been published",
                )
        self.steps.forget(account.account_id, code)
        self.spacing.flush()
        return DeleteResult(calls.count, already_gone=answer is None and not unpublished)

    def exists(self, platform_item_id: str, account: Account, *, asin: str = "") -> bool:
        """getItem: whether the store still has the item."""
        settings = self._settings(account)
        code = platform_item_id or content.item_code_for(asin, settings)
        what = f"{self.name} account {account.account_id}, checking item_code {code}"
        if self._has_item(account, settings, code, CallCount(), what):
            return True
        # Deleted but its publish unanswered: still live in the store until published.
        return DELETE_UNPUBLISHED in self.steps.done(account.account_id, code)

    def close(self) -> None:
        self._client.close()
        self._images.close()

    # ------------------------------------------------------------------ internals

    def _settings(self, account: Account) -> AccountSettings:
        settings = self.tokens.account_settings(account.account_id)
        if not settings.seller_id.strip():
            raise Misconfigured(
                f"{self.name} account {account.account_id}: seller_id is empty; set it in "
                f"[account_overrides.{account.account_id}]"
            )
        return settings

    def _has_item(
        self, account: Account, settings: AccountSettings, code: str, calls: CallCount, what: str
    ) -> bool:
        """getItem: whether the store has the item (Yahoo!'s not-found answer, or an empty
        result, says it has not)."""
        with counting(calls):
            answer = self._call(
                account,
                settings,
                "getItem",
                calls,
                what,
                refused="the item lookup",
                params={"seller_id": settings.seller_id, "item_code": code},
                gone_ok=True,
            )
        return answer is not None and _holds_item(answer)

    def _fetch_image(
        self,
        settings: AccountSettings,
        item: content.YahooItem,
        index: int,
        what: str,
        folder: Path,
    ) -> Path:
        """Download and check one image (re-encoded when needed) into `folder`."""
        url = item.images[index]
        name = content.image_name(item.item_code, index)
        try:
            raw = download_image(
                self._images,
                url,
                max_bytes=settings.image_max_bytes,
                timeout=self._read_timeout,
            )
            data = prepare_image(raw, url)
        except ImageRefused as refused:
            raise Permanent(
                f"{what}: image {index + 1} ({name}): {refused}; nothing was sent"
            ) from None
        except ImageUnavailable as unavailable:
            raise Transient(f"{what}: image {index + 1} ({name}): {unavailable}") from None
        path = folder / name
        path.write_bytes(data)
        return path

    def _upload_image(
        self,
        account: Account,
        settings: AccountSettings,
        item: content.YahooItem,
        index: int,
        path: Path,
        calls: CallCount,
        what: str,
    ) -> None:
        """Upload one checked image by its name, then note it as Yahoo!'s."""
        name = content.image_name(item.item_code, index)
        self._call(
            account,
            settings,
            "uploadItemImage",
            calls,
            what,
            refused=f"image {index + 1} ({name})",
            params={"seller_id": settings.seller_id},
            file=(name, path.read_bytes()),
            effect="the image may have been uploaded",
        )
        self.steps.record(account.account_id, item.item_code, image_step(index), self._clock.now())

    def _call(
        self,
        account: Account,
        settings: AccountSettings,
        api: str,
        calls: CallCount,
        what: str,
        *,
        refused: str,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        file: tuple[str, bytes] | None = None,
        effect: str = "the item may have been changed",
        pace: Callable[[], None] | None = None,
        gone_ok: bool = False,
    ) -> Answer | None:
        """One API call with the account's token, spaced per URL; a refused token is
        refreshed once and the call retried. A GET only reads; every other call acts.
        `gone_ok`: Yahoo!'s not-found answer gives None."""
        account_id = account.account_id
        url = f"{settings.api_base_url.rstrip('/')}{API_PATH}{api}"
        acting = form is not None or file is not None
        token = self.tokens.access_token(account_id)
        for attempt in (1, 2):
            calls.count += 1
            if pace is not None and attempt == 1:
                pace()
            self.spacing.before(account_id, api, settings.url_interval_seconds)
            try:
                return self._send(
                    account_id,
                    api,
                    url,
                    token,
                    settings.url_interval_seconds,
                    form=form,
                    params=params,
                    file=file,
                )
            except YahooError as err:
                found = meaning(err)
                if gone_ok and found is Meaning.GONE:
                    return None
                if found is not Meaning.REFRESH or attempt == 2:
                    raise map_api_error(
                        err,
                        what=what,
                        account_id=account_id,
                        refused=refused,
                        acting=acting,
                        effect=effect,
                        url_interval_seconds=settings.url_interval_seconds,
                    ) from None
                log.info("%s: access token refused; refreshing it", what)
                token = self.tokens.after_rejection(account_id, token)
            except WireError as err:
                raise map_wire_error(err, what=what, acting=acting, effect=effect) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        account_id: str,
        api: str,
        url: str,
        token: str,
        interval_seconds: float,
        *,
        form: dict[str, str] | None,
        params: dict[str, str] | None,
        file: tuple[str, bytes] | None,
    ) -> Answer:
        """One request; when it is answered (or fails), the next to its URL is spaced
        from then (`RequestSpacing.answered`)."""
        try:
            if file is not None:
                return self._client.upload_file(
                    url, token=token, params=params or {}, file_name=file[0], data=file[1]
                )
            if form is not None:
                return self._client.post_form(url, token=token, form=form)
            return self._client.get(url, token=token, params=params or {})
        finally:
            self.spacing.answered(account_id, api, interval_seconds)


def _holds_item(answer: Answer) -> bool:
    """Whether a getItem answer holds an item (an empty ResultSet means none)."""
    returned = answer.total_returned()
    if returned is not None:
        return returned > 0
    return bool(answer.results()) or bool(answer.field("ItemCode"))


def _log_adjustments(what: str, item: content.YahooItem) -> None:
    if item.name_cut:
        log.info("%s: name cut to Yahoo!'s 75 full-width characters", what)
    if item.characters_removed:
        log.info("%s: %d character(s) outside CP932 removed", what, item.characters_removed)
    if item.images_not_http or item.images_over_limit:
        log.info(
            "%s: %d image(s) left out (%d not http(s), %d beyond Yahoo!'s %d)",
            what,
            item.images_not_http + item.images_over_limit,
            item.images_not_http,
            item.images_over_limit,
            content.IMAGES_MAX,
        )
