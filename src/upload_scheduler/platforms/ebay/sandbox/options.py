"""What an eBay sandbox run looks like: the application's secret, token lifetimes, the
per-application day limits, the sellers' set-up, latency and faults.

The defaults are eBay's figures (PLATFORMS.md), so a rehearsal meets the same limits as
the real marketplace; tests shorten the lifetimes and the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from upload_scheduler import defaults

DEFAULT_SELLER = "sandbox-seller"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_LOCATION_KEY = defaults.EBAY_MERCHANT_LOCATION_KEY
ACCOUNT_DAY_CALL_LIMIT = 25_000  # Account API, per application (PLATFORMS.md)
REFRESH_TOKEN_LIFETIME = 47_304_000  # 18 months of 365/12 days, as eBay's answer says
FAULT_ODDS = ("p_server_error", "p_timeout", "p_reset", "p_lost_response", "p_concurrency")


@dataclass(frozen=True)
class EbaySandboxOptions:
    client_secret: str = DEFAULT_CLIENT_SECRET  # every client_id's secret
    token_lifetime: int = 7200  # seconds an access token lives (eBay: 2 hours)
    refresh_token_lifetime: int = REFRESH_TOKEN_LIFETIME
    code_lifetime: int = 299  # eBay's consent code: 299 s
    app_day_limit: int = defaults.EBAY_DAY_CALL_LIMIT  # Inventory + Account calls per app
    account_day_limit: int = ACCOUNT_DAY_CALL_LIMIT  # Account API calls per app
    timezone: str = defaults.EBAY_RESET_TIMEZONE  # where the application's day ends
    sellers_without_location: frozenset[str] = frozenset()
    sellers_not_opted_in: frozenset[str] = frozenset()
    sellers_with_extra_policies: frozenset[str] = frozenset()
    opt_in_delay: float = 0.0  # seconds until an opt-in is processed (eBay: up to 24 h)
    empty_offer_list: bool = False  # GET offer?sku without offers: 200 [] instead of 404
    required_aspects: frozenset[str] = frozenset()  # publish needs them (errorId 25029)
    selling_limit: int = 0  # live listings per seller (errorId 25026); 0: no limit
    latency: float = 0.0  # seconds added to every API request
    p_server_error: float = 0.0  # HTTP 500 / 25001, nothing done
    p_timeout: float = 0.0  # no answer for `timeout_hang` seconds, nothing done
    p_reset: float = 0.0  # connection reset, nothing done
    p_lost_response: float = 0.0  # carried out, then the connection dropped
    p_concurrency: float = 0.0  # HTTP 500 / 25025 "concurrent access", nothing done
    token_faults: bool = False  # the random faults also hit the token endpoint
    timeout_hang: float = 35.0  # longer than an adapter's 30 s read timeout
    seed: int | None = None
    record_path: Path | None = None  # JSONL, one line per request

    def __post_init__(self) -> None:
        for name in FAULT_ODDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, got {value}")
        total = sum(getattr(self, name) for name in FAULT_ODDS)
        if total > 1.0:
            raise ValueError(f"the fault probabilities add up to {total}, more than 1")
        for name in ("token_lifetime", "refresh_token_lifetime", "code_lifetime"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 second")
        for name in ("app_day_limit", "account_day_limit", "selling_limit"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.latency < 0 or self.timeout_hang < 0 or self.opt_in_delay < 0:
            raise ValueError("latency, timeout_hang and opt_in_delay must not be negative")
        if not self.client_secret:
            raise ValueError("client_secret must not be empty")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None


def seller_names(text: str | None) -> frozenset[str]:
    """`a,b , c` -> {"a", "b", "c"}: the command line's seller lists."""
    return frozenset(name.strip() for name in (text or "").split(",") if name.strip())
