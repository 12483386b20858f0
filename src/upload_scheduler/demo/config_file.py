"""The demo's `upload-scheduler.toml`: real settings, with time compressed so the run
fits in minutes and works at any hour of the day. BASE's part is the old demo's,
unchanged; eBay's is added when the run lists there too."""

from __future__ import annotations

import json
from collections.abc import Mapping

from upload_scheduler import defaults as d
from upload_scheduler.demo.options import EBAY, PLATFORM, DemoPlan

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


def render_config(
    plan: DemoPlan,
    sandbox_urls: Mapping[str, str],
    ng_words: list[str],
    phrases: list[str],
    *,
    ebay_categories: Mapping[str, str] | None = None,
    ebay_category_id: str = "",
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
    return (
        text
        + f"""
[cluster]
lease_ttl_seconds = {LEASE_TTL_SECONDS:g}
"""
    )


def _sandboxes(plan: DemoPlan) -> str:
    if plan.platforms == (PLATFORM,):
        return "BASE sandbox"
    if plan.platforms == (EBAY,):
        return "eBay sandbox"
    return "BASE and eBay sandboxes"


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

[platforms.base.rules]
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
