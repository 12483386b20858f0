"""The configuration file's schema (the seed's `accounts_config.py`, as TOML), in pydantic:
what explains a problem in a file. `values.py` mirrors it without pydantic.

The key names are a contract with users' files: add keys, never rename them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from upload_scheduler import defaults
from upload_scheduler.config.values import check_window

Hour = Annotated[int, Field(ge=0, le=24)]
Seconds = Annotated[float, Field(gt=0)]
NonNegativeSeconds = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]


class _Section(BaseModel):
    # strict: a TOML string "60" or `true` is a mistake in the file, not a number.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DaemonConfig(_Section):
    interval_seconds: Seconds = defaults.INTERVAL_SECONDS
    batch_size: Count = defaults.BATCH_SIZE
    business_hours_start: Hour = defaults.BUSINESS_HOURS_START
    business_hours_end: Hour = defaults.BUSINESS_HOURS_END

    @model_validator(mode="after")
    def _window_not_empty(self) -> DaemonConfig:
        check_window(self.business_hours_start, self.business_hours_end)
        return self


class RulesConfig(_Section):
    """Content rules checked before anything is sent (`[platforms.X.rules]`). BASE
    restricted one of the old system's shops for prohibited items."""

    ng_words: list[str] = Field(default_factory=list)
    ng_words_file: str = ""  # one word per line, relative to the config file
    blocked_categories: list[str] = Field(default_factory=list)
    remove_phrases: list[str] = Field(default_factory=list)  # cut from titles, longest first
    emoji: Literal["remove", "reject"] = "remove"  # 4-byte characters, which BASE refuses
    min_price: Annotated[int, Field(ge=0)] = defaults.MIN_PRICE


class PlatformConfig(_Section):
    api_base_url: str = defaults.BASE_API_URL
    min_interval_seconds: NonNegativeSeconds = defaults.MIN_INTERVAL_SECONDS
    hour_call_limit: Count = defaults.HOUR_CALL_LIMIT
    day_call_limit: Count = defaults.DAY_CALL_LIMIT
    daily_limit: Count = defaults.DAILY_LIMIT
    max_attempts: Count = defaults.MAX_ATTEMPTS
    retry_delay_seconds: NonNegativeSeconds = defaults.RETRY_DELAY_SECONDS
    client_id: str = ""
    client_secret: str = Field(default="", repr=False)
    client_secret_env: str = ""
    redirect_uri: str = defaults.REDIRECT_URI
    rules: RulesConfig = Field(default_factory=RulesConfig)


class NotifyConfig(_Section):
    chatwork_token: str = Field(default="", repr=False)
    chatwork_token_env: str = ""
    chatwork_room_id: str = ""
    webhook_url: str = Field(default="", repr=False)
    # Chatwork's API root; a local Chatwork-compatible server in tests and rehearsals.
    chatwork_api_url: str = defaults.NOTIFY_CHATWORK_API_URL


class ClusterConfig(_Section):
    standby: bool = False
    lease_ttl_seconds: Seconds = defaults.LEASE_TTL_SECONDS


class FileConfig(_Section):
    database: str = defaults.DATABASE_URL
    timezone: str = defaults.TIMEZONE
    log_dir: str = defaults.LOG_DIR
    accounts: dict[str, list[str]] = Field(default_factory=dict)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    account_overrides: dict[str, dict[str, object]] = Field(default_factory=dict)
    platforms: dict[str, PlatformConfig] = Field(default_factory=dict)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)


DAEMON_KEYS = frozenset(DaemonConfig.model_fields)
PLATFORM_KEYS = frozenset(PlatformConfig.model_fields) - {"rules"}
OVERRIDE_KEYS = DAEMON_KEYS | PLATFORM_KEYS | {"timezone"}
