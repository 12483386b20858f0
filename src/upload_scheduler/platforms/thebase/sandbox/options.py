"""What a sandbox run looks like: token lifetimes, limits, latency and faults.

The defaults are BASE's published figures (BASE_API.md), so a rehearsal against the
sandbox meets the same limits as the real shop; tests shorten the lifetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from upload_scheduler import defaults

DEFAULT_SHOP = "sandbox-shop"


@dataclass(frozen=True)
class SandboxOptions:
    token_lifetime: int = 3600  # seconds an access token lives (BASE: 1 hour)
    refresh_token_lifetime: int = 30 * 24 * 3600  # BASE: about 30 days
    code_lifetime: int = 600
    hour_call_limit: int = defaults.HOUR_CALL_LIMIT  # per shop, reset at minute 00
    day_call_limit: int = defaults.DAY_CALL_LIMIT  # per shop, reset at local midnight
    daily_item_limit: int = defaults.DAILY_LIMIT  # items/add per shop and local day
    latency: float = 0.0  # seconds added to every API request
    p_server_error: float = 0.0  # HTTP 500, nothing done
    p_timeout: float = 0.0  # no answer for `timeout_hang` seconds, nothing done
    p_reset: float = 0.0  # connection reset, nothing done
    p_lost_response: float = 0.0  # the request is carried out, then the connection dropped
    timeout_hang: float = 35.0  # longer than the adapter's 30 s read timeout
    seed: int | None = None
    record_path: Path | None = None  # JSONL, one line per request
    timezone: str = defaults.TIMEZONE  # where "a day" of the day limits ends

    def __post_init__(self) -> None:
        for name in ("p_server_error", "p_timeout", "p_reset", "p_lost_response"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, got {value}")
        total = self.p_server_error + self.p_timeout + self.p_reset + self.p_lost_response
        if total > 1.0:
            raise ValueError(f"the fault probabilities add up to {total}, more than 1")
        for name in ("token_lifetime", "refresh_token_lifetime", "code_lifetime"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 second")
        for name in ("hour_call_limit", "day_call_limit", "daily_item_limit"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.latency < 0 or self.timeout_hang < 0:
            raise ValueError("latency and timeout_hang must not be negative")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
