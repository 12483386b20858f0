"""eBay's error answers: the REST envelope of the Sell APIs and OAuth's own shape.

Every refusal in the sandbox is an `EbayError` carrying eBay's envelope
`{"errors":[{"errorId","domain","category","message","longMessage","parameters"}]}`,
or an `OAuthError` carrying `{"error","error_description"}` for the token endpoint.
The ids are PLATFORMS.md's; where it is silent the choice is named here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Ids PLATFORMS.md gives.
INVALID_TOKEN = 1001
RATE_LIMITED = 2001
SYSTEM_ERROR = 25001
USER_ERROR = 25002  # eBay's generic "A user error has occurred." (also: offer exists)
BAD_PRICE = 25003
BAD_QUANTITY = 25004
BAD_CATEGORY = 25005
BAD_FULFILLMENT_POLICY = 25007
BAD_PAYMENT_POLICY = 25008
BAD_RETURN_POLICY = 25009
BAD_LOCATION = 25012
BAD_PICTURES = 25014
BAD_PICTURE_URL = 25015
MISSING_FIELD = 25017
BAD_CONDITION = 25021
CONCURRENT_ACCESS = 25025
SELLING_LIMIT = 25026
POLICY_MARKETPLACE = 25035
BAD_SKU = 25707
BAD_CONTENT_LANGUAGE = 25709
ITEM_NOT_FOUND = 25710
OFFER_NOT_FOUND = 25713
LOCATION_EXISTS = 25803  # also a repeated opt-in (PLATFORMS.md)
NOT_ELIGIBLE = 20403  # Account API: not opted in to business policies (yet)
# Chosen here (PLATFORMS.md is silent).
BAD_REQUEST = 2004  # a body that is not JSON, a wrong type or an unknown enum value
NOT_FOUND = 2002  # no such resource path
ACCESS_DENIED = 1100  # the token lacks the scope the call needs (HTTP 403)
SKU_NOT_AVAILABLE = 25702  # an offer for a SKU without an inventory item
BAD_LOCATION_KEY = 25800  # merchantLocationKey too long or not [A-Za-z0-9_-]
LOCATION_INPUT = 25802  # a location without country, postal code or city and state
LOCATION_NOT_FOUND = 25804
ACCOUNT_MISSING_FIELD = 20401  # Account API: a required field or parameter is missing

SYSTEM_TEXT = "A system error has occurred."
OFFER_EXISTS_TEXT = "A user error has occurred. Offer entity already exists."
NOT_FOUND_TEXT = "We didn't find the entity you are requesting. Please verify the request"


@dataclass
class EbayError(Exception):
    """One eBay error answer; `more` holds the further entries of `errors[]` (eBay lists
    every problem of a publish at once)."""

    status: int
    error_id: int
    message: str
    long_message: str = ""
    parameters: list[tuple[str, str]] = field(default_factory=list)
    domain: str = "API_INVENTORY"
    category: str = "REQUEST"
    more: list[EbayError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.error_id}: {self.message}")

    def entry(self) -> dict[str, Any]:
        return {
            "errorId": self.error_id,
            "domain": self.domain,
            "category": self.category,
            "message": self.message,
            "longMessage": self.long_message or self.message,
            "parameters": [{"name": name, "value": value} for name, value in self.parameters],
        }

    def body(self) -> dict[str, Any]:
        return {"errors": [self.entry(), *(extra.entry() for extra in self.more)]}


class OAuthError(Exception):
    """The token endpoint's refusal: `{"error", "error_description"}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def user_error(error_id: int, message: str, *params: tuple[str, str]) -> EbayError:
    """A 400 of the Inventory API."""
    return EbayError(400, error_id, message, parameters=list(params))


def account_error(error_id: int, message: str, long_message: str = "") -> EbayError:
    """A 400 of the Account API."""
    return EbayError(400, error_id, message, long_message, domain="API_ACCOUNT")


def bad_request(reason: str) -> EbayError:
    """eBay's answer to a body it cannot read into its model (not JSON, a wrong type, an
    unknown enum value): 400 / 2004."""
    return EbayError(
        400,
        BAD_REQUEST,
        "Invalid request",
        "The request has errors. For help, see the documentation for this API.",
        [("reason", reason)],
        domain="ACCESS",
    )


def invalid_token() -> EbayError:
    return EbayError(
        401,
        INVALID_TOKEN,
        "Invalid access token",
        "Invalid access token. Check the value of the Authorization HTTP request header.",
        domain="OAuth",
    )


def insufficient_scope() -> EbayError:
    return EbayError(
        403,
        ACCESS_DENIED,
        "Access denied",
        "Insufficient permissions to fulfill the request.",
        domain="API_ACCESS",
    )


def rate_limited() -> EbayError:
    return EbayError(
        429,
        RATE_LIMITED,
        "Too many requests. The request limit has been reached for the resource.",
        domain="ACCESS",
    )


def system_error(domain: str = "API_INVENTORY") -> EbayError:
    return EbayError(
        500,
        SYSTEM_ERROR,
        f"{SYSTEM_TEXT} Please try again.",
        domain=domain,
        category="APPLICATION",
    )


def concurrent_access(domain: str = "API_INVENTORY") -> EbayError:
    return EbayError(
        500,
        CONCURRENT_ACCESS,
        "A system error has occurred due to concurrent access. Please try again.",
        domain=domain,
        category="APPLICATION",
    )


def not_found_path(path: str) -> EbayError:
    return EbayError(404, NOT_FOUND, "Resource not found", f"No resource at {path}.", [], "ACCESS")
