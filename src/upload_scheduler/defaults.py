"""Every default and constant in one place: the config, the CLI help, the docs and the
tests all read these, so a value is changed here and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

CONFIG_FILE_NAME: Final = "upload-scheduler.toml"
CONFIG_ENV_VAR: Final = "UPLOAD_SCHEDULER_CONFIG"

DATABASE_URL: Final = "sqlite:///data/upload_scheduler.db"
TIMEZONE: Final = "Asia/Tokyo"
LOG_DIR: Final = "logs"

# Seed DAEMON_CONFIG.
INTERVAL_SECONDS: Final = 60.0
BATCH_SIZE: Final = 10
BUSINESS_HOURS_START: Final = 6
BUSINESS_HOURS_END: Final = 23

# Seed limits and BASE's published per-token budgets (BASE_API.md).
BASE_API_URL: Final = "https://api.thebase.in"
MIN_INTERVAL_SECONDS: Final = 2.0
HOUR_CALL_LIMIT: Final = 5000
DAY_CALL_LIMIT: Final = 100_000
DAILY_LIMIT: Final = 1000
MAX_ATTEMPTS: Final = 3
RETRY_DELAY_SECONDS: Final = 5.0
REDIRECT_URI: Final = "http://127.0.0.1:8765/callback"
# Reported by third parties, not in BASE's docs (BASE_API.md): a setting, not a fact.
MIN_PRICE: Final = 50

# eBay (PLATFORMS.md). Its limits are the application's: every seller on one client_id
# shares the day's calls, which reset at midnight US Pacific time.
EBAY_API_URL: Final = "https://api.ebay.com"
EBAY_AUTH_URL: Final = "https://auth.ebay.com"
EBAY_MARKETPLACE_ID: Final = "EBAY_US"
EBAY_CONTENT_LANGUAGE: Final = "en-US"
EBAY_MERCHANT_LOCATION_KEY: Final = "JP_LOCATION"
EBAY_CONDITION: Final = "NEW"
EBAY_DAY_CALL_LIMIT: Final = 2_000_000  # Inventory API, per application (secondary sources)
EBAY_RESET_TIMEZONE: Final = "America/Los_Angeles"
# Where each platform's day budget resets when it is the application's (the shop's own
# day budgets reset in the account's zone).
APPLICATION_RESET_TIMEZONES: Final[Mapping[str, str]] = {
    "ebay": EBAY_RESET_TIMEZONE,
    "yahoo": "Asia/Tokyo",
}

# Yahoo!ショッピング (PLATFORMS.md): about one request per second per API URL, 50,000 a day
# per application ID shared by every store on it; images uploaded as files of at most 2 MB.
YAHOO_API_URL: Final = "https://circus.shopping.yahooapis.jp"
YAHOO_AUTH_URL: Final = "https://auth.login.yahoo.co.jp"
YAHOO_DAY_CALL_LIMIT: Final = 50_000
YAHOO_URL_INTERVAL_SECONDS: Final = 1.0
# Platforms whose adapters keep OAuth tokens (`oauth_tokens`), which `token login` serves.
TOKEN_PLATFORMS: Final = ("base", "ebay", "yahoo")
# Keys a platform's accounts cannot do without, in [platforms.X] or [account_overrides.ID].
PLATFORM_REQUIRED_KEYS: Final[Mapping[str, tuple[str, ...]]] = {"yahoo": ("seller_id",)}
# How much of an image the lister downloads before giving up on it (a setting).
IMAGE_DOWNLOAD_MAX_BYTES: Final = 20 * 1024 * 1024

# A platform's own defaults for [platforms.X] keys, where they differ from the defaults
# above (which are BASE's): put under the file's keys by config.values.
PLATFORM_DEFAULTS: Final[Mapping[str, Mapping[str, object]]] = {
    "ebay": {
        "api_base_url": EBAY_API_URL,
        "auth_base_url": EBAY_AUTH_URL,
        "redirect_uri": "",
        "min_interval_seconds": 1.0,  # the old system paced eBay at 1 s per item
        "hour_call_limit": EBAY_DAY_CALL_LIMIT,  # eBay has no hourly budget
        "day_call_limit": EBAY_DAY_CALL_LIMIT,
        "day_call_limit_scope": "application",
    },
    "yahoo": {
        "api_base_url": YAHOO_API_URL,
        "auth_base_url": YAHOO_AUTH_URL,
        "min_interval_seconds": 1.0,
        "url_interval_seconds": YAHOO_URL_INTERVAL_SECONDS,
        "hour_call_limit": YAHOO_DAY_CALL_LIMIT,  # Yahoo! has no hourly budget
        "day_call_limit": YAHOO_DAY_CALL_LIMIT,
        "day_call_limit_scope": "application",
    },
}

# Pricing ([platforms.X.pricing]). ISO 4217 minor units (decimals) of the currencies the
# marketplaces we list on use: the price is rounded to them. A currency not here is a
# mistake in the file, not a guess.
CURRENCY_MINOR_UNITS: Final[Mapping[str, int]] = {
    "JPY": 0, "USD": 2, "EUR": 2, "GBP": 2, "AUD": 2, "CAD": 2,
}  # fmt: skip
# The currency a platform lists in when its pricing names none; a platform not here lists
# in yen (the product's price unchanged). eBay's is the US marketplace's.
PLATFORM_CURRENCIES: Final[Mapping[str, str]] = {
    "base": "JPY", "fake": "JPY", "yahoo": "JPY", "ebay": "USD",
}  # fmt: skip
DEFAULT_CURRENCY: Final = "JPY"
EXCHANGE_RATE: Final = 1.0  # yen per unit of the currency
MARKUP: Final = 1.0
# A rate or markup beyond these is a typo (a markup of 120 meant as 120 %), not a price.
MAX_EXCHANGE_RATE: Final = 1_000_000.0
MAX_MARKUP: Final = 100.0

LEASE_TTL_SECONDS: Final = 30.0
# A standby daemon (`daemon --standby`) looks at the held lease this often, at most.
STANDBY_POLL_SECONDS: Final = 1.0
# A daemon that lost its database connection retries after this long, doubling up to the
# maximum (a PostgreSQL restart takes a few seconds).
DB_RETRY_MIN_SECONDS: Final = 0.5
DB_RETRY_MAX_SECONDS: Final = 15.0

# Queue priorities (seed PRIORITY_* constants).
PRIORITY_LOW: Final = 1
PRIORITY_NORMAL: Final = 5
PRIORITY_HIGH: Final = 10
PRIORITY_URGENT: Final = 20
PRIORITY_MIN: Final = 1
PRIORITY_MAX: Final = 20

# add-to-queue / check-queue.
ADD_LIMIT: Final = 100
CHECK_LIMIT: Final = 10
MAX_DAYS: Final = 7
DEFAULT_PLATFORM: Final = "base"

# Import.
MAX_IMAGES: Final = 20
IMPORT_CHUNK_ROWS: Final = 2000

# Notifications (notify/).
NOTIFY_CHATWORK_API_URL: Final = "https://api.chatwork.com"

# One message per account per minute: a burst of failures (a batch hitting a banned
# word, a token expiring mid-run) becomes one message with a count, not a flood.
NOTIFY_COALESCE_SECONDS: Final = 60.0
# A coalesced message quotes the first few events and counts the rest.
NOTIFY_MAX_QUOTED_EVENTS: Final = 5
NOTIFY_MAX_EVENT_CHARS: Final = 300

# Chatwork allows 10 posts per 10 seconds per room (BASE_API.md); we stay within it by
# delaying, never by dropping: a held account keeps coalescing until the room is free.
NOTIFY_ROOM_MAX_POSTS: Final = 10
NOTIFY_ROOM_WINDOW_SECONDS: Final = 10.0
# A 429 without a usable reset time holds all sending this long.
NOTIFY_RATE_LIMITED_HOLD_SECONDS: Final = 10.0
NOTIFY_MAX_RATE_LIMITED_HOLD_SECONDS: Final = 300.0

# The caller never waits for these: they bound the background thread only.
NOTIFY_CONNECT_TIMEOUT_SECONDS: Final = 5.0
NOTIFY_TIMEOUT_SECONDS: Final = 10.0

NOTIFY_QUEUE_SIZE: Final = 1000
NOTIFY_CLOSE_TIMEOUT_SECONDS: Final = 5.0
# The longest the background thread blocks before it looks at the clock again, so a
# clock that jumps (or a FakeClock in tests) is noticed.
NOTIFY_POLL_SECONDS: Final = 1.0

NOTIFY_LOGGER_NAME: Final = "upload_scheduler.notify"

# The manager (supervisor/) and the log viewer.
MANAGER_CHECK_INTERVAL_SECONDS: Final = 60.0  # seed: monitor(check_interval=60)
# How often the manager polls its children: a dead child is noticed within this, not
# within the check interval. Popen.poll is a non-blocking waitpid, so this is cheap.
MANAGER_POLL_SECONDS: Final = 0.25

# Restarts: the first at once, then 1, 2, 4 ... seconds up to the maximum.
MANAGER_BACKOFF_BASE_SECONDS: Final = 1.0
MANAGER_BACKOFF_MAX_SECONDS: Final = 60.0
# More than MANAGER_CRASH_LIMIT restarts within MANAGER_CRASH_WINDOW_SECONDS is a crash
# loop: notify, then retry only every MANAGER_CRASH_RETRY_SECONDS.
MANAGER_CRASH_LIMIT: Final = 5
MANAGER_CRASH_WINDOW_SECONDS: Final = 600.0
MANAGER_CRASH_RETRY_SECONDS: Final = 300.0
# A child that ran this long is healthy again: its backoff and crash loop are cleared.
MANAGER_STABLE_SECONDS: Final = 60.0
# A child refused because another worker holds the account's lease is not crashing;
# it is retried at this pace without counting towards a crash loop.
MANAGER_LEASE_RETRY_SECONDS: Final = 30.0

# A warm stop lets a child finish its current item (an item plus its images, each call
# bounded by the HTTP timeouts); after this long it is killed.
MANAGER_STOP_TIMEOUT_SECONDS: Final = 60.0
# A process that was killed must be gone after this long.
MANAGER_KILL_WAIT_SECONDS: Final = 5.0
# `manager start --detach` returns once the background manager wrote its state.
MANAGER_DETACH_WAIT_SECONDS: Final = 20.0
# `manager stop` waits for the manager's own stop timeout plus this margin.
MANAGER_STOP_MARGIN_SECONDS: Final = 15.0

MANAGER_LOCK_FILE: Final = "multi_account_manager.lock"
MANAGER_PID_FILE: Final = "multi_account_manager.pid"
MANAGER_STATE_FILE: Final = "multi_account_manager.state.json"
MANAGER_LOG_FILE: Final = "multi_account_manager.log"
MANAGER_STOP_REQUEST_FILE: Final = "multi_account_manager.stop"
# Output of the background manager itself (tracebacks before its log is set up).
MANAGER_STDERR_FILE: Final = "multi_account_manager.stderr"

# Log viewer.
MANAGER_TAIL_LINES: Final = 10
MANAGER_FOLLOW_POLL_SECONDS: Final = 0.2
