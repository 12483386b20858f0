"""The demo's `upload-scheduler.toml`: real settings, with time compressed so the run
fits in minutes and works at any hour of the day."""

from __future__ import annotations

import json

from upload_scheduler import defaults as d
from upload_scheduler.demo.options import DemoPlan

CLIENT_ID = "upload-scheduler-demo"
# The sandbox accepts any client pair; a real shop's secret belongs in an environment
# variable (client_secret_env).
CLIENT_SECRET = "demo-sandbox-client-secret"
RETRY_DELAY_SECONDS = 2.0
LEASE_TTL_SECONDS = 5.0
INTERVAL_SECONDS = 5.0


def render_config(plan: DemoPlan, sandbox_url: str, ng_words: list[str], phrases: list[str]) -> str:
    accounts = ", ".join(json.dumps(a) for a in plan.account_ids)
    return f"""\
# Written by `upload-scheduler demo`: SQLite and the built-in BASE sandbox, with time
# compressed (a short spacing, business hours all day) so the run takes minutes.
database = "sqlite:///data/upload_scheduler.db"
timezone = "Asia/Tokyo"
log_dir = "logs"

[accounts]
base = [{accounts}]

[daemon]
interval_seconds = {INTERVAL_SECONDS:g}
batch_size = 10
business_hours_start = 0    # all day, so the demo works whenever it is run
business_hours_end = 24

[platforms.base]
api_base_url = {json.dumps(sandbox_url)}    # the sandbox this run started
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

[cluster]
lease_ttl_seconds = {LEASE_TTL_SECONDS:g}
"""
