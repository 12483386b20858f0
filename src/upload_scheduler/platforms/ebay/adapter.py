"""`EbayPlatform`: the Platform protocol on eBay's Sell Inventory API (PLATFORMS.md).

Listing one item is three calls, keyed by our SKU (sku_prefix + ASIN), so every step can
be repeated safely: `PUT inventory_item/{sku}` (replaces the record, images included),
`POST offer` (one per SKU and marketplace: a second is refused with 25002 and the
existing offer's id, which is then used), `POST offer/{id}/publish`. After a lost answer
the worker asks `find_existing`: a published offer is the listing; anything less is
listed again through the same three calls, which then meet the existing item and offer
instead of making new ones. Content rules (`listing.py`) run before anything is sent; a
refused access token is refreshed once and the call retried; every other answer becomes
one of the worker's error classes (`mapping.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from upload_scheduler import defaults
from upload_scheduler.config import AccountSettings
from upload_scheduler.platforms.call_count import CallCount, counting
from upload_scheduler.platforms.ebay import listing as content
from upload_scheduler.platforms.ebay.client import EbayClient, EbayError
from upload_scheduler.platforms.ebay.mapping import (
    Meaning,
    existing_offer_id,
    map_api_error,
    map_wire_error,
    meaning,
    setup_hint,
)
from upload_scheduler.platforms.ebay.policies import POLICY_KINDS, Policies, only_policy
from upload_scheduler.platforms.ebay.tokens import token_manager
from upload_scheduler.platforms.errors import Misconfigured, Permanent, PlatformError, Transient
from upload_scheduler.platforms.interface import (
    Account,
    DeleteResult,
    ExistingItem,
    PlatformContext,
    Product,
    UploadResult,
)
from upload_scheduler.platforms.wire import CONNECT_TIMEOUT, READ_TIMEOUT, WireError

INVENTORY = "/sell/inventory/v1"
CALLS_PER_LISTING = 3  # PUT inventory_item, POST offer, POST publish
# What find_existing reports for a published listing: eBay took every image with the
# item (one PUT), so no image is ever missing; never fewer than a product can have.
IMAGES_COMPLETE = max(defaults.MAX_IMAGES, content.IMAGES_MAX)
PUBLISHED = "PUBLISHED"

log = logging.getLogger(__name__)


class EbayPlatform:
    name = "ebay"

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
        self._client = EbayClient(
            connect_timeout=connect_timeout, read_timeout=read_timeout, transport=transport
        )
        self.tokens = token_manager(
            context.settings, context.engine, context.clock, self._client, platform=self.name
        )
        # The seller's business policy ids per account, found once for the adapter's life.
        self._policies: dict[str, Policies] = {}
        try:
            self.tokens.check_configuration()
        except ValueError:
            self._client.close()
            raise
        # The policy lookups an account's first listing makes: the most any account needs.
        self._first_lookups = max(
            (
                sum(1 for kind in POLICY_KINDS if not getattr(settings, kind.key))
                for settings in (
                    context.settings.account(self.name, account_id)
                    for account_id in context.settings.account_ids(self.name)
                )
            ),
            default=0,
        )

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
        """PUT the inventory item, POST its offer (or reuse the one eBay has), publish.
        `pace` runs immediately before the PUT, after any token refresh and policy
        lookup. An item that is already listed is left alone: eBay took its images with
        it, so there is nothing to add."""
        if platform_item_id is not None:
            return UploadResult(platform_item_id=platform_item_id, calls=0)
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
        settings = self.tokens.account_settings(account.account_id)
        what = f"{self.name} account {account.account_id}, asin {product.asin}"
        try:
            listing = content.build_listing(product, settings)
        except content.ListingRefused as refused:
            raise Permanent(f"{what}: {refused}; nothing was sent") from None
        _log_left_out(what, listing)
        policies = self._policies_of(account, settings, calls)
        sku_path = f"{INVENTORY}/inventory_item/{_segment(listing.sku)}"
        self._api(
            account,
            "PUT",
            sku_path,
            calls,
            what,
            refused="the inventory item",
            body=content.inventory_item_body(listing),
            acting=True,
            pace=pace,
        )
        offer_id = self._offer(account, listing, policies, calls, what)
        answer = self._api(
            account,
            "POST",
            f"{INVENTORY}/offer/{_segment(offer_id)}/publish",
            calls,
            f"{what}, offer {offer_id}",
            refused="the publish",
            acting=True,
            effect="the offer may have been published",
        )
        listing_id = str(answer.get("listingId") or "")
        if not listing_id:
            raise Transient(
                f"{what}: eBay accepted the publish of offer {offer_id} without a listingId",
                maybe_created=True,
            )
        log.info(
            "%s: listed as %s (sku %s, offer %s, %d image(s))",
            what,
            listing_id,
            listing.sku,
            offer_id,
            len(listing.images),
        )
        return UploadResult(
            platform_item_id=listing_id,
            calls=calls.count,
            images_added=len(listing.images),
            offer_id=offer_id,
        )

    def find_existing(
        self, asin: str, account: Account, *, since: datetime | None = None
    ) -> ExistingItem | None:
        """GET offer?sku=…: the published offer's listing, or None when there is no offer
        or it is not published yet (listing again then meets the existing item and offer
        and only publishes). One call; `since` is not needed, the SKU is the key."""
        settings = self.tokens.account_settings(account.account_id)
        sku = content.sku_for(asin, settings)
        what = f"{self.name} account {account.account_id}, looking for sku {sku}"
        calls = CallCount()
        with counting(calls):
            answer = self._api(
                account,
                "GET",
                f"{INVENTORY}/offer",
                calls,
                what,
                refused="the offer lookup",
                params={"sku": sku, "marketplace_id": settings.marketplace_id},
                gone_ok=True,
            )
        for offer in answer.get("offers") or ():
            if not isinstance(offer, dict) or not _ours(offer, sku, settings):
                continue
            listing_id = str((offer.get("listing") or {}).get("listingId") or "")
            if offer.get("status") == PUBLISHED and listing_id:
                offer_id = str(offer.get("offerId") or "") or None
                log.info("%s: found listing %s (offer %s)", what, listing_id, offer_id)
                return ExistingItem(
                    listing_id, images=IMAGES_COMPLETE, calls=calls.count, offer_id=offer_id
                )
        return None

    def prepare(self, account: Account) -> None:
        """Refresh the account's token now if it is due, so the refresh does not sit
        between the worker's pacing decision and the PUT."""
        self.tokens.access_token(account.account_id)

    def calls_for(self, product: Product, images_done: int = 0) -> int:
        """The three calls of a listing, reserved before the first, and, until the adapter
        has found an account's business policies, the lookups of those the configuration
        leaves empty (up to three, once in the adapter's life: a daemon's adapter serves
        one account). A retry after a refreshed token is settled afterwards."""
        return CALLS_PER_LISTING + (0 if self._policies else self._first_lookups)

    def delete(self, platform_item_id: str, account: Account, *, asin: str = "") -> DeleteResult:
        """DELETE inventory_item/{sku}: ends the listing and removes the item and its
        offers. An item eBay no longer has (404, 25710) is already gone."""
        sku, what = self._sku_of(asin, account, f"deleting listing {platform_item_id}")
        calls = CallCount()
        with counting(calls):
            answer = self._api(
                account,
                "DELETE",
                f"{INVENTORY}/inventory_item/{_segment(sku)}",
                calls,
                what,
                refused="the delete",
                acting=True,
                effect="the listing may have been ended",
                gone_ok=True,
            )
        return DeleteResult(calls.count, already_gone=answer is _GONE)

    def exists(self, platform_item_id: str, account: Account, *, asin: str = "") -> bool:
        """GET inventory_item/{sku}: whether eBay still has the item behind the listing."""
        sku, what = self._sku_of(asin, account, f"checking listing {platform_item_id}")
        calls = CallCount()
        with counting(calls):
            answer = self._api(
                account,
                "GET",
                f"{INVENTORY}/inventory_item/{_segment(sku)}",
                calls,
                what,
                refused="the item lookup",
                gone_ok=True,
            )
        return answer is not _GONE

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ internals

    def _offer(
        self,
        account: Account,
        listing: content.Listing,
        policies: Policies,
        calls: CallCount,
        what: str,
    ) -> str:
        """POST offer; eBay's 25002 "Offer entity already exists" names the offer an
        earlier attempt made, which is used instead: one offer per SKU, ever."""
        try:
            answer = self._api(
                account,
                "POST",
                f"{INVENTORY}/offer",
                calls,
                what,
                refused="the offer",
                body=content.offer_body(listing, policies),
                acting=True,
                effect="the offer may have been created",
                raw_errors=True,
            )
        except EbayError as err:
            existing = existing_offer_id(err)
            if existing is None:
                raise self._mapped(err, account, what, "the offer", acting=True) from None
            log.info("%s: eBay already has offer %s for sku %s", what, existing, listing.sku)
            return existing
        offer_id = str(answer.get("offerId") or "")
        if not offer_id:
            raise Transient(
                f"{what}: eBay accepted the offer without an offerId", maybe_created=True
            )
        return offer_id

    def _policies_of(
        self, account: Account, settings: AccountSettings, calls: CallCount
    ) -> Policies:
        """The configured policy ids; an empty one is the seller's only policy of that
        kind for the marketplace (looked up once per account for the adapter's life)."""
        cached = self._policies.get(account.account_id)
        if cached is not None:
            return cached
        if not settings.merchant_location_key:
            raise Misconfigured(
                f"{self.name} account {account.account_id}: merchant_location_key is empty; "
                f"set it in [platforms.ebay]; {setup_hint(account.account_id)}"
            )
        what = f"{self.name} account {account.account_id}, business policies"
        ids = []
        for kind in POLICY_KINDS:
            policy_id = str(getattr(settings, kind.key) or "")
            if not policy_id:
                answer = self._api(
                    account,
                    "GET",
                    kind.path,
                    calls,
                    what,
                    refused=f"the {kind.label} policy lookup",
                    params={"marketplace_id": settings.marketplace_id},
                )
                policy_id = only_policy(
                    kind,
                    answer,
                    account_id=account.account_id,
                    marketplace_id=settings.marketplace_id,
                )
                log.info("%s: using the only %s policy, %s", what, kind.label, policy_id)
            ids.append((kind.id_field, policy_id))
        policies = Policies(tuple(ids))
        self._policies[account.account_id] = policies
        return policies

    def _sku_of(self, asin: str, account: Account, doing: str) -> tuple[str, str]:
        what = f"{self.name} account {account.account_id}, {doing}"
        if not asin:
            raise Permanent(f"{what}: eBay keys listings by SKU, and no ASIN was given")
        sku = content.sku_for(asin, self.tokens.account_settings(account.account_id))
        return sku, f"{what} (sku {sku})"

    def _api(
        self,
        account: Account,
        method: str,
        path: str,
        calls: CallCount,
        what: str,
        *,
        refused: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        acting: bool = False,
        effect: str = "the item may have been created",
        pace: Callable[[], None] | None = None,
        gone_ok: bool = False,
        raw_errors: bool = False,
    ) -> dict[str, Any]:
        """One API call with the account's token; a refused token is refreshed once and
        the call retried. `gone_ok`: a 404 naming no item or offer answers `_GONE`.
        `raw_errors`: eBay's other refusals are raised as EbayError for the caller to read
        (a refused token is still refreshed here)."""
        account_id = account.account_id
        settings = self.tokens.account_settings(account_id)
        url = f"{settings.api_base_url.rstrip('/')}{path}"
        token = self.tokens.access_token(account_id)
        for attempt in (1, 2):
            calls.count += 1
            if pace is not None:
                pace()
            try:
                return self._client.call(
                    method,
                    url,
                    token=token,
                    content_language=settings.content_language,
                    body=body,
                    params=params,
                )
            except EbayError as err:
                found = meaning(err)
                if gone_ok and found is Meaning.GONE:
                    return _GONE
                if found is not Meaning.REFRESH or attempt == 2:
                    if raw_errors and found is Meaning.PERMANENT:
                        raise
                    raise self._mapped(err, account, what, refused, acting, effect) from None
                log.info("%s: access token refused; refreshing it", what)
                token = self.tokens.after_rejection(account_id, token)
            except WireError as err:
                raise map_wire_error(err, what=what, acting=acting, effect=effect) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _mapped(
        self,
        err: EbayError,
        account: Account,
        what: str,
        refused: str,
        acting: bool,
        effect: str = "the item may have been created",
    ) -> PlatformError:
        return map_api_error(
            err,
            what=what,
            account_id=account.account_id,
            refused=refused,
            acting=acting,
            effect=effect,
        )


# The answer of a lookup or delete that eBay says has nothing to act on.
_GONE: dict[str, Any] = {}


def _segment(value: str) -> str:
    """A SKU or id as one path segment."""
    return quote(value, safe="")


def _ours(offer: dict[str, Any], sku: str, settings: AccountSettings) -> bool:
    """An offer of this SKU on the account's marketplace (fields eBay leaves out pass)."""
    return (
        offer.get("sku", sku) == sku
        and offer.get("marketplaceId", settings.marketplace_id) == settings.marketplace_id
        and offer.get("format", content.FORMAT) == content.FORMAT
    )


def _log_left_out(what: str, listing: content.Listing) -> None:
    if listing.images_not_https or listing.images_over_limit:
        log.info(
            "%s: %d image(s) left out (%d not https, %d beyond eBay's %d)",
            what,
            listing.images_not_https + listing.images_over_limit,
            listing.images_not_https,
            listing.images_over_limit,
            content.IMAGES_MAX,
        )
    if listing.title_cut:
        log.info("%s: English title cut to %d characters", what, len(listing.title))
