"""What a Yahoo! sandbox run looks like: the application's secret, token lifetimes, the
limits (per URL and store, per application and JST day, images per store and hour),
the publish delay, the stores a login may not act for, and faults.

The defaults are Yahoo!'s figures (PLATFORMS.md); tests shorten them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import available_timezones

from upload_scheduler import defaults
from upload_scheduler.platforms.ebay.sandbox.options import seller_names as store_names

__all__ = ["DEFAULT_CLIENT_SECRET", "DEFAULT_USER", "YahooSandboxOptions", "store_names"]
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_USER = "sandbox-user"
REFRESH_TOKEN_LIFETIME = 28 * 24 * 3600  # four weeks from the login, never extended
IMAGE_MAX_BYTES = 2_000_000  # "2 MB", read strictly (an adapter aiming at 2 MiB fails)
FAULT_ODDS = ("p_server_error", "p_unavailable", "p_timeout", "p_reset", "p_lost_response")
_NOT_NEGATIVE = (
    "url_interval",
    "url_tolerance",
    "app_day_limit",
    "image_hour_limit",
    "image_max_bytes",
    "publish_delay",
    "latency",
    "timeout_hang",
)


@dataclass(frozen=True)
class YahooSandboxOptions:
    client_secret: str = DEFAULT_CLIENT_SECRET  # every client_id's secret
    token_lifetime: int = 3600  # seconds an access token lives (YConnect: 1 hour)
    refresh_lifetime: int = REFRESH_TOKEN_LIFETIME  # counted from the login
    code_lifetime: int = 600  # an authorization code's seconds
    url_interval: float = defaults.YAHOO_URL_INTERVAL_SECONDS  # per (api, seller_id)
    url_tolerance: float = 0.005  # an arrival this much early still passes
    app_day_limit: int = defaults.YAHOO_DAY_CALL_LIMIT  # API requests per client_id and day
    timezone: str = defaults.APPLICATION_RESET_TIMEZONES["yahoo"]  # where that day ends
    image_hour_limit: int = 10_000  # uploadItemImage per store and hour, then 503
    image_max_bytes: int = IMAGE_MAX_BYTES
    publish_delay: float = 0.5  # seconds from submitItem / reservePublish to the store
    foreign_stores: frozenset[str] = frozenset()  # seller_ids no login may act for
    latency: float = 0.0  # seconds added to every API request
    p_server_error: float = 0.0  # HTTP 500, nothing done
    p_unavailable: float = 0.0  # HTTP 503, nothing done
    p_timeout: float = 0.0  # no answer for `timeout_hang` seconds, nothing done
    p_reset: float = 0.0  # connection reset, nothing done
    p_lost_response: float = 0.0  # carried out, then the connection closed unanswered
    timeout_hang: float = 35.0  # longer than an adapter's 30 s read timeout
    seed: int | None = None
    record_path: Path | None = None  # JSONL, one line per request

    def __post_init__(self) -> None:
        odds = {name: getattr(self, name) for name in FAULT_ODDS}
        wrong = [f"{name}={value}" for name, value in odds.items() if not 0.0 <= value <= 1.0]
        if wrong:
            raise ValueError(f"fault probabilities lie between 0 and 1: {', '.join(wrong)}")
        if sum(odds.values()) > 1.0:
            raise ValueError(f"the fault probabilities add up to {sum(odds.values())}, over 1")
        short = [
            f.name
            for f in fields(self)
            if f.name.endswith("lifetime") and getattr(self, f.name) < 1
        ]
        if short:
            raise ValueError(f"{', '.join(short)} must be at least 1 second")
        negative = [name for name in _NOT_NEGATIVE if getattr(self, name) < 0]
        if negative:
            raise ValueError(f"{', '.join(negative)} must not be negative")
        if not self.client_secret or self.timezone not in available_timezones():
            raise ValueError(f"need a client_secret and a known time zone ({self.timezone!r})")
