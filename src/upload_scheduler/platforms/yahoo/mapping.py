"""Yahoo!'s answers translated into the worker's error classes (DESIGN.md, "Errors from a
platform"; PLATFORMS.md, Yahoo! "Limits"). The table is written once, here: `meaning`
reads the HTTP status, the Bearer challenge and Yahoo!'s code.

Pure functions of the error, so every row is tested without a server.
"""

from __future__ import annotations

from enum import Enum

from upload_scheduler.platforms.errors import (
    ApplicationLimited,
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
from upload_scheduler.platforms.yahoo.client import YahooError


class Meaning(Enum):
    """What a Yahoo! error asks of us."""

    REFRESH = "the access token was refused: refresh it once and retry, then log in"
    APPLICATION_SPENT = "the application's day budget is spent: every store on it waits"
    WRONG_STORE = "the store is not the token's: check seller_id"
    THROTTLED = "too frequent for the API URL: nothing done, no attempt spent"
    TRANSIENT = "Yahoo! failed or is busy: retry (a write may have acted)"
    GONE = "no such item"
    WRONG_URL = "not Yahoo! answering: api_base_url is wrong"
    PERMANENT = "Yahoo! refused the data: the item fails"


# The not-found code of getItem, deleteItem and setStock (client code; PLATFORMS.md).
NOT_FOUND = "it-00999"
WRONG_STORE_CODE = "px-04003"
FORBIDDEN = "your request was forbidden"  # the day-budget refusal's words, no code


def meaning(err: YahooError) -> Meaning:
    """A wrong URL first (nothing said there is Yahoo!'s), then the status and code."""
    if is_wrong_endpoint(err.status, err.platform_body):
        return Meaning.WRONG_URL
    code = err.code.lower()
    if 200 <= err.status < 300:
        # A success status without Yahoo!'s answer (empty, cut off): what was done is
        # unknown, as after a lost answer.
        return Meaning.TRANSIENT if not err.platform_body else Meaning.PERMANENT
    if err.status == 401 or err.challenge == "invalid_token":
        return Meaning.REFRESH
    if code == WRONG_STORE_CODE:
        return Meaning.WRONG_STORE
    if err.status == 403 and FORBIDDEN in err.message.lower():
        return Meaning.APPLICATION_SPENT
    if err.status == 429:
        return Meaning.THROTTLED
    if code == NOT_FOUND:
        return Meaning.GONE
    if err.status >= 500 or err.status == 408:
        return Meaning.TRANSIENT
    if err.status == 403:
        return Meaning.WRONG_STORE  # refused for this store without a code we know
    return Meaning.PERMANENT


def login_command(account_id: str) -> str:
    return f"upload-scheduler token login --platform yahoo --account {account_id}"


def map_api_error(
    err: YahooError,
    *,
    what: str,
    account_id: str,
    refused: str,
    acting: bool = False,
    effect: str = "the item may have been changed",
    url_interval_seconds: float = 0.0,
) -> PlatformError:
    """The worker's class for a Yahoo! error answer. `refused` names what Yahoo! refused
    ("the item", "image 3"); `acting`: the request acts on the store, so a 5xx may come
    after it acted. A refused token reaches here only once refreshing did not help."""
    found = meaning(err)
    words = err.describe()
    if found is Meaning.WRONG_URL:
        return Misconfigured(f"{what}: {wrong_endpoint(err.status, err.path).message}")
    if found is Meaning.REFRESH:
        return AuthExpired(
            f"{what}: Yahoo! refused a freshly refreshed access token ({words}); log in "
            f"again with `{login_command(account_id)}`"
        )
    if found is Meaning.WRONG_STORE:
        return Misconfigured(
            f"{what}: Yahoo! refused the store ({words}): check seller_id (the login must be "
            "a staff member of that store, registered in ストアクリエイターPro)"
        )
    if found is Meaning.APPLICATION_SPENT:
        return ApplicationLimited(
            f"{what}: Yahoo! refused the call: the application's day budget is spent ({words})"
        )
    if found is Meaning.THROTTLED:
        wait = err.retry_after if err.retry_after is not None else url_interval_seconds
        return Throttled(
            f"{what}: Yahoo! refused the call as too frequent ({words})",
            retry_after=wait or None,
        )
    if found is Meaning.TRANSIENT:
        suffix = f"; {effect}" if acting else ""
        return Transient(f"{what}: Yahoo! failed ({words}){suffix}", maybe_created=acting)
    return Permanent(f"{what}: Yahoo! refused {refused}: {words}")


def map_wire_error(
    err: WireError, *, what: str, acting: bool, effect: str = "the item may have been changed"
) -> Transient:
    """No answer: transient; after an acting request was sent, it may have acted."""
    return lost_answer(err, what=what, acting=acting, effect=effect)
