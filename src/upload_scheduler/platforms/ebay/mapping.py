"""eBay's answers translated into the worker's error classes (DESIGN.md, "Errors from a
platform"; PLATFORMS.md, eBay "Errors"). The table is written once, here: `MEANINGS` by
errorId, `STATUS_MEANINGS` by HTTP status for answers whose ids say nothing.

Pure functions of the error, so every row is tested without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from upload_scheduler.platforms.ebay.client import EbayError
from upload_scheduler.platforms.errors import (
    AuthExpired,
    Misconfigured,
    Permanent,
    PlatformError,
    Throttled,
    Transient,
)
from upload_scheduler.platforms.wire import (
    WireError,
    is_wrong_endpoint,
    lost_answer,
    wrong_endpoint,
)


class Meaning(Enum):
    """What an eBay error asks of us."""

    REFRESH = "the access token was refused: refresh it once and retry, then log in"
    SCOPE = "the token lacks a scope: only a new login helps"
    THROTTLED = "refused for its rate: nothing done, no attempt spent"
    TRANSIENT = "eBay failed: retry (a write may have acted)"
    SETUP = "the seller's set-up is incomplete: pause the account"
    GONE = "no such item or offer"
    WRONG_URL = "not eBay answering: api_base_url is wrong"
    PERMANENT = "eBay refused the data: the item fails"


OFFER_EXISTS = 25002  # "Offer entity already exists" (with the offer id) or another user error

# By errorId. When an answer lists several, the first meaning in `PRECEDENCE` wins.
MEANINGS: Mapping[int, Meaning] = {
    1001: Meaning.REFRESH,  # invalid or expired access token
    1100: Meaning.SCOPE,  # access denied: insufficient permissions (HTTP 403)
    2001: Meaning.THROTTLED,  # too many requests (HTTP 429)
    25001: Meaning.TRANSIENT,  # system error
    25025: Meaning.TRANSIENT,  # concurrent access
    25007: Meaning.SETUP,  # fulfillment policy
    25008: Meaning.SETUP,  # payment policy
    25009: Meaning.SETUP,  # return policy
    25035: Meaning.SETUP,  # policy not found for the marketplace
    25012: Meaning.SETUP,  # inventory location
    20403: Meaning.SETUP,  # not opted in to business policies (or not processed yet)
    25710: Meaning.GONE,  # no inventory item for the SKU
    25713: Meaning.GONE,  # no offer
}
# By HTTP status, for an answer without a known errorId.
STATUS_MEANINGS: Mapping[int, Meaning] = {
    401: Meaning.REFRESH,
    403: Meaning.SCOPE,
    429: Meaning.THROTTLED,
    500: Meaning.TRANSIENT,
    502: Meaning.TRANSIENT,
    503: Meaning.TRANSIENT,
    504: Meaning.TRANSIENT,
}
PRECEDENCE = (
    Meaning.REFRESH,
    Meaning.SCOPE,
    Meaning.THROTTLED,
    Meaning.TRANSIENT,
    Meaning.SETUP,
    Meaning.GONE,
)


def meaning(err: EbayError) -> Meaning:
    """What `err` asks of us: a wrong URL first (nothing eBay said can be trusted), then
    eBay's errorIds, then the HTTP status (any other 5xx is transient), else the data."""
    if is_wrong_endpoint(err.status, err.platform_body):
        return Meaning.WRONG_URL
    by_id = {MEANINGS[i] for i in err.error_ids if i in MEANINGS}
    for candidate in PRECEDENCE:
        if candidate in by_id:
            return candidate
    if err.status in STATUS_MEANINGS:
        return STATUS_MEANINGS[err.status]
    if err.status >= 500:
        return Meaning.TRANSIENT
    return Meaning.PERMANENT


def existing_offer_id(err: EbayError) -> str | None:
    """The offer id of a 400/25002 "Offer entity already exists" (errors[0].parameters,
    name offerId); None for any other answer, 25002 being eBay's generic user error too."""
    if err.status != 400 or not err.entries or err.entries[0].error_id != OFFER_EXISTS:
        return None
    return err.entries[0].parameter("offerId") or None


def setup_hint(account_id: str) -> str:
    return f"run `upload-scheduler account setup --platform ebay --account {account_id}`"


def login_hint(account_id: str) -> str:
    command = f"upload-scheduler token login --platform ebay --account {account_id}"
    return f"log in again with `{command}`"


def map_api_error(
    err: EbayError,
    *,
    what: str,
    account_id: str,
    refused: str,
    acting: bool = False,
    effect: str = "the item may have been created",
) -> PlatformError:
    """The worker's class for an eBay error answer. `refused` names what eBay refused
    ("the offer"); `acting`: the request acts on eBay (PUT item, POST offer, publish,
    delete), so a 5xx may come after it acted and the item is looked up before it is
    tried again. A refused token reaches here only once refreshing did not help."""
    found = meaning(err)
    words = err.describe()
    if found is Meaning.WRONG_URL:
        return Misconfigured(f"{what}: {wrong_endpoint(err.status, err.path).message}")
    if found is Meaning.REFRESH:
        return AuthExpired(
            f"{what}: eBay refused a freshly refreshed access token ({words}); "
            f"{login_hint(account_id)}"
        )
    if found is Meaning.SCOPE:
        return AuthExpired(
            f"{what}: eBay refused the access token's permissions ({words}); "
            f"{login_hint(account_id)}"
        )
    if found is Meaning.THROTTLED:
        return Throttled(
            f"{what}: eBay refused the call for its rate ({words})", retry_after=err.retry_after
        )
    if found is Meaning.TRANSIENT:
        suffix = f"; {effect}" if acting else ""
        return Transient(
            f"{what}: eBay failed ({words}, HTTP {err.status}){suffix}", maybe_created=acting
        )
    if found is Meaning.SETUP:
        return Misconfigured(
            f"{what}: the eBay seller's set-up is incomplete ({words}); {setup_hint(account_id)}"
        )
    return Permanent(f"{what}: eBay refused {refused}: {words}")


def map_wire_error(
    err: WireError, *, what: str, acting: bool, effect: str = "the item may have been created"
) -> Transient:
    """No answer: transient; after an acting request was sent, it may have acted."""
    return lost_answer(err, what=what, acting=acting, effect=effect)
