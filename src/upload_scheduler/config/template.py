"""The commented starter file that `upload-scheduler init` writes."""

from __future__ import annotations

from pathlib import Path

from upload_scheduler import defaults as d

STARTER = f"""\
# upload-scheduler configuration (the seed's scheduler/config/accounts_config.py, as TOML).
# Relative paths are relative to this file. `upload-scheduler config check` shows the
# effective settings of every account.

database = "{d.DATABASE_URL}"   # or a postgresql:// URL
timezone = "{d.TIMEZONE}"        # business hours and "a day" are read in this zone
log_dir = "{d.LOG_DIR}"

[accounts]                       # seed UPLOAD_ACCOUNTS: platform = [account ids]
base = ["base_account_1", "base_account_2"]

[daemon]                         # seed DAEMON_CONFIG
interval_seconds = {d.INTERVAL_SECONDS:g}            # how often an idle daemon looks at the queue
batch_size = {d.BATCH_SIZE}                   # items claimed per cycle
business_hours_start = {d.BUSINESS_HOURS_START}          # no platform call before this hour
business_hours_end = {d.BUSINESS_HOURS_END}    # none from this hour; end < start crosses midnight

# seed ACCOUNT_SPECIFIC_CONFIG: any [daemon] or [platforms.X] key, or timezone
# (pricing keys as pricing.markup = 1.1)
# [account_overrides.base_account_2]
# business_hours_start = 9
# business_hours_end = 18

[platforms.base]
api_base_url = "{d.BASE_API_URL}"
min_interval_seconds = {d.MIN_INTERVAL_SECONDS:g}       # start-to-start spacing of item creations
hour_call_limit = {d.HOUR_CALL_LIMIT}           # API calls per clock hour (images count)
day_call_limit = {d.DAY_CALL_LIMIT}
daily_limit = {d.DAILY_LIMIT}               # item creations per local day
max_attempts = {d.MAX_ATTEMPTS}
retry_delay_seconds = {d.RETRY_DELAY_SECONDS:g}
client_id = ""
client_secret_env = "BASE_CLIENT_SECRET"   # or client_secret = "..." (keep this file private)
redirect_uri = "{d.REDIRECT_URI}"

# Content rules, checked before anything is sent to BASE.
# [platforms.base.rules]
# ng_words = ["アダルト"]                  # an item mentioning one fails, naming the word
# ng_words_file = "ng_words.txt"          # one word per line
# blocked_categories = []
# remove_phrases = ["【Amazon.co.jp限定】"]  # cut from titles, longest first
# emoji = "remove"                        # or "reject"
# min_price = {d.MIN_PRICE}

# A product's yen price is listed at price × markup ÷ exchange_rate, rounded half up to
# the currency's minor unit; BASE lists in yen (the defaults leave the price unchanged).
# [platforms.base.pricing]
# currency = "JPY"                        # default: the platform's own
# exchange_rate = {d.EXCHANGE_RATE:g}                       # yen per unit of the currency
# markup = {d.MARKUP:g}                              # a factor: 1.2 is 20 % more

# Yahoo!ショッピング (README, "Yahoo!ショッピング"): add yahoo = ["yahoo_account_1"] under
# [accounts]; the login lasts four weeks (`upload-scheduler token status --platform yahoo`).
# [platforms.yahoo]
# client_id = ""
# client_secret_env = "YAHOO_CLIENT_SECRET"
# redirect_uri = "{d.REDIRECT_URI}"
# path = ""                               # store category path, e.g. "ホビー:フィギュア"
# product_category = ""                   # Yahoo!'s category id
# [account_overrides.yahoo_account_1]
# seller_id = "mystore"                   # the store account: required per Yahoo! account

[notify]
chatwork_token_env = ""          # or chatwork_token = "..."
chatwork_room_id = ""
webhook_url = ""                 # Slack-compatible incoming webhook

[cluster]                        # for several hosts on one PostgreSQL database
standby = false
lease_ttl_seconds = {d.LEASE_TTL_SECONDS:g}

[dashboard]                      # `upload-scheduler dashboard`; README, "Dashboard"
language = ""                    # "ja", "en", or "" for the browser's language
# Needed only to serve on an address other than 127.0.0.1 (put TLS in front of it):
# username = "operator"
# password_env = "UPLOAD_SCHEDULER_DASHBOARD_PASSWORD"
# viewer_username = "viewer"     # read only
# viewer_password_env = "UPLOAD_SCHEDULER_DASHBOARD_VIEWER_PASSWORD"
"""


def write_starter(path: Path) -> None:
    """Write the starter file; refuses to overwrite so that no operator loses a config."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="\n") as fh:
        fh.write(STARTER)
