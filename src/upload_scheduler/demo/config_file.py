"""The demo's `upload-scheduler.toml`: real settings, with time compressed so the run
fits in minutes and works at any hour of the day. BASE's part is the old demo's,
unchanged; eBay's and Yahoo!'s are added when the run lists there too."""

from __future__ import annotations

import json
from collections.abc import Mapping

from upload_scheduler import defaults as d
from upload_scheduler.demo.options import (
    EBAY,
    PLATFORM,
    YAHOO,
    YAHOO_STORES,
    DemoPlan,
    platform_names,
)
from upload_scheduler.demo.sandbox_process import YAHOO_URL_INTERVAL_SECONDS

CLIENT_ID = "upload-scheduler-demo"
# The sandbox accepts any client pair; a real shop's secret belongs in an environment
# variable (client_secret_env).
CLIENT_SECRET = "demo-sandbox-client-secret"
RETRY_DELAY_SECONDS = 2.0
LEASE_TTL_SECONDS = 5.0
INTERVAL_SECONDS = 5.0

# eBay: an App ID of the demo's, the eBay sandbox's secret for every App ID (it is
# started with --client-secret), and a RuName: eBay's redirect is a name, not a URL.
EBAY_CLIENT_ID = "UploadSch-demo-SBX-0000000000"
EBAY_CLIENT_SECRET = "demo-ebay-sandbox-cert-id"
EBAY_RUNAME = "upload-scheduler-demo-RuName"
# Yen per dollar and the factor over the yen price: ¥1,980 × 1.2 ÷ 150 = $15.84.
EBAY_CURRENCY = "USD"
EBAY_EXCHANGE_RATE = 150.0
EBAY_MARKUP = 1.2
# One attempt more than BASE's three: an eBay item is three calls, each of which the
# sandbox's faults can hit, and the demo expects every item listed.
EBAY_MAX_ATTEMPTS = 5
EBAY_LOCATION = {"country": "JP", "postal_code": "100-0001"}

# Yahoo!: an application's Client ID and the sandbox's secret for every one (it is
# started with --client-secret), and the redirect_uri the consent page sends the
# browser to (nothing listens there: the demo reads the address off the redirect).
YAHOO_CLIENT_ID = "dj00-upload-scheduler-demo"
YAHOO_CLIENT_SECRET = "demo-yahoo-sandbox-secret"
YAHOO_REDIRECT_URI = "http://127.0.0.1:8765/callback"
# A Yahoo! item is four calls or more (editItem, each image, setStock, submitItem),
# each of which the faults can hit, and the verdict expects every item published.
YAHOO_MAX_ATTEMPTS = 7


def render_config(
    plan: DemoPlan,
    sandbox_urls: Mapping[str, str],
    ng_words: list[str],
    phrases: list[str],
    *,
    ebay_categories: Mapping[str, str] | None = None,
    ebay_category_id: str = "",
    yahoo_categories: Mapping[str, Mapping[str, str]] | None = None,
    yahoo_category: Mapping[str, str] | None = None,
) -> str:
    """The whole file; `sandbox_urls` holds the URL of each platform's sandbox."""
    urls = dict(sandbox_urls)
    accounts = {p: ", ".join(json.dumps(a) for a in plan.accounts_of(p)) for p in plan.platforms}
    text = f"""\
# Written by `upload-scheduler demo`: SQLite and the built-in {_sandboxes(plan)}, with
# time compressed (a short spacing, business hours all day) so the run takes minutes.
database = "sqlite:///data/upload_scheduler.db"
timezone = "Asia/Tokyo"
log_dir = "logs"

[accounts]
{"".join(f"{p} = [{accounts[p]}]{chr(10)}" for p in plan.platforms)}
[daemon]
interval_seconds = {INTERVAL_SECONDS:g}
batch_size = 10
business_hours_start = 0    # all day, so the demo works whenever it is run
business_hours_end = 24
"""
    if PLATFORM in plan.platforms:
        text += _base(plan, urls[PLATFORM], ng_words, phrases)
    if EBAY in plan.platforms:
        text += _ebay(plan, urls[EBAY], ebay_categories or {}, ebay_category_id)
    if YAHOO in plan.platforms:
        text += _yahoo(plan, urls[YAHOO], yahoo_categories or {}, yahoo_category or {})
        text += _rules("yahoo", ng_words, phrases)
        text += _stores()
    return (
        text
        + f"""
[cluster]
lease_ttl_seconds = {LEASE_TTL_SECONDS:g}
"""
    )


def _sandboxes(plan: DemoPlan) -> str:
    return f"{platform_names(plan.platforms)} sandbox{'es' if plan.multi else ''}"


def _base(plan: DemoPlan, url: str, ng_words: list[str], phrases: list[str]) -> str:
    return f"""
[platforms.base]
api_base_url = {json.dumps(url)}    # the sandbox this run started
min_interval_seconds = {plan.min_interval_seconds:g}
hour_call_limit = {d.HOUR_CALL_LIMIT}     # BASE's figures: the sandbox enforces the same
day_call_limit = {d.DAY_CALL_LIMIT}
daily_limit = {d.DAILY_LIMIT}
max_attempts = {d.MAX_ATTEMPTS}
retry_delay_seconds = {RETRY_DELAY_SECONDS:g}
client_id = {json.dumps(CLIENT_ID)}
client_secret = {json.dumps(CLIENT_SECRET)}
""" + _rules(PLATFORM, ng_words, phrases)


def _rules(platform: str, ng_words: list[str], phrases: list[str]) -> str:
    """The content rules: the same NG words and phrases on BASE and Yahoo!."""
    return f"""
[platforms.{platform}.rules]
ng_words = {json.dumps(ng_words, ensure_ascii=False)}
remove_phrases = {json.dumps(phrases, ensure_ascii=False)}
"""


def _ebay(plan: DemoPlan, url: str, categories: Mapping[str, str], category_id: str) -> str:
    mapped = "".join(
        f"{json.dumps(name, ensure_ascii=False)} = {json.dumps(cid)}\n"
        for name, cid in categories.items()
    )
    location = "".join(f"{k} = {json.dumps(v)}\n" for k, v in EBAY_LOCATION.items())
    return f"""
[platforms.ebay]
api_base_url = {json.dumps(url)}     # the eBay sandbox this run started:
auth_base_url = {json.dumps(url)}    # its consent page too
client_id = {json.dumps(EBAY_CLIENT_ID)}
client_secret = {json.dumps(EBAY_CLIENT_SECRET)}
redirect_uri = {json.dumps(EBAY_RUNAME)}    # the application's RuName
min_interval_seconds = {plan.ebay_min_interval_seconds:g}
day_call_limit = {d.EBAY_DAY_CALL_LIMIT}    # per application (client_id), as eBay counts
daily_limit = {d.DAILY_LIMIT}
max_attempts = {EBAY_MAX_ATTEMPTS}
retry_delay_seconds = {RETRY_DELAY_SECONDS:g}
category_id = {json.dumps(category_id)}    # for the categories not mapped below

[platforms.ebay.categories]
{mapped}
[platforms.ebay.pricing]
currency = {json.dumps(EBAY_CURRENCY)}
exchange_rate = {EBAY_EXCHANGE_RATE:g}    # yen per dollar
markup = {EBAY_MARKUP:g}

[platforms.ebay.location]    # what `account setup` creates when the seller has none
{location}"""


def _yahoo(
    plan: DemoPlan, url: str, categories: Mapping[str, Mapping[str, str]], other: Mapping[str, str]
) -> str:
    mapped = "".join(f"{_key(name)} = {_inline(values)}\n" for name, values in categories.items())
    return f"""
[platforms.yahoo]
api_base_url = {json.dumps(url)}     # the Yahoo! sandbox this run started:
auth_base_url = {json.dumps(url)}    # its consent page too
client_id = {json.dumps(YAHOO_CLIENT_ID)}
client_secret = {json.dumps(YAHOO_CLIENT_SECRET)}
redirect_uri = {json.dumps(YAHOO_REDIRECT_URI)}
min_interval_seconds = {plan.yahoo_min_interval_seconds:g}
url_interval_seconds = {YAHOO_URL_INTERVAL_SECONDS:g}    # per API URL and store, from each answer
daily_limit = {d.DAILY_LIMIT}
max_attempts = {YAHOO_MAX_ATTEMPTS}
retry_delay_seconds = {RETRY_DELAY_SECONDS:g}
path = {_key(other.get("path", ""))}    # for the categories not mapped below
product_category = {json.dumps(other.get("product_category", ""))}

[platforms.yahoo.categories]
{mapped}"""


def _stores() -> str:
    """Each Yahoo! account's store: seller_id is required per account."""
    return "".join(
        f"\n[account_overrides.{account}]\nseller_id = {json.dumps(seller)}\n"
        for account, seller in YAHOO_STORES.items()
    )


def _key(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _inline(values: Mapping[str, str]) -> str:
    """A TOML inline table: { path = "…", product_category = "…" }."""
    return "{ " + ", ".join(f"{k} = {_key(v)}" for k, v in values.items()) + " }"
