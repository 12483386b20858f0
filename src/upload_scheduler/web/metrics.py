"""`/metrics`: the per-account figures in Prometheus's text exposition format (0.0.4),
computed from the database at each scrape through `web.figures`, the same reading the
overview page shows.

Labels are only `platform`, `account` (configured names), and small fixed sets (a queue
status, an upload result, a budget window, the version). Never an ASIN, a title, an
error text, an application (OAuth client) id or any secret:
- cardinality: every distinct label value is a new series that Prometheus keeps for
  weeks; an ASIN or an error text would make one per item, unbounded;
- secrets and privacy: a scrape is often readable by more people than the dashboard
  (shared monitoring, alert texts), and a client id or a token must not leak there
  (DESIGN.md invariant 9). A shared application budget is shown per account instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from upload_scheduler import __version__
from upload_scheduler.config import Settings
from upload_scheduler.store.tables import QUEUE_STATUSES
from upload_scheduler.web.figures import RESULTS, AccountFigures, collect_figures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "upload_scheduler_"

Labels = dict[str, str]


@dataclass
class Family:
    """One metric family: its HELP and TYPE lines and its samples."""

    name: str
    kind: str  # "gauge" or "counter"
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, labels: Labels, value: float) -> None:
        self.samples.append((labels, value))


def render_metrics(settings: Settings, engine: Engine, now: datetime) -> str:
    """The whole exposition: every family, read from the database now."""
    return exposition(families(collect_figures(settings, engine, now), now))


def families(figures: Iterable[AccountFigures], now: datetime) -> list[Family]:
    """Every family from the figures (a family with no account still has its HELP and
    TYPE, so a dashboard built on it finds the name)."""

    def family(name: str, kind: str, text: str) -> Family:
        return Family(PREFIX + name, kind, text)

    queue = family("queue_items", "gauge", "Queue items per status.")
    due = family("queue_due_items", "gauge", "Pending items whose scheduled time has come.")
    oldest = family(
        "queue_oldest_due_age_seconds",
        "gauge",
        "Seconds since the oldest due pending item was scheduled (0 when none is due).",
    )
    uploads = family(
        "uploads_total",
        "counter",
        "Uploads ended, by result (kept by a database trigger: purging rows does not lower it).",
    )
    calls_used = family(
        "api_calls_used",
        "gauge",
        "API calls spent in the window (day: the application's when its budget is shared).",
    )
    calls_limit = family("api_calls_limit", "gauge", "API call budget of the window.")
    creations_used = family(
        "daily_creations_used", "gauge", "New items created today (account's local day)."
    )
    creations_limit = family("daily_creations_limit", "gauge", "New items allowed per day.")
    paused = family("account_paused", "gauge", "1 while a pause is in force.")
    daemon = family("daemon_up", "gauge", "1 while a daemon holds the account's live lease.")
    login = family(
        "login_expiry_timestamp_seconds",
        "gauge",
        "When the account's login (refresh token) ends, in Unix seconds; only where known.",
    )
    build = family("build_info", "gauge", "The running version; always 1.")
    build.add({"version": __version__}, 1)

    for f in figures:
        account = {"platform": f.platform, "account": f.account_id}
        for status in QUEUE_STATUSES:
            queue.add({**account, "status": status}, f.queue.get(status, 0))
        due.add(account, f.due)
        age = (now - f.oldest_due_at).total_seconds() if f.oldest_due_at is not None else 0
        oldest.add(account, max(0.0, age))
        for result in RESULTS:
            uploads.add({**account, "result": result}, f.uploads_total.get(result, 0))
        for window, budget in (("hour", f.hour_calls), ("day", f.day_calls)):
            calls_used.add({**account, "window": window}, budget.used)
            calls_limit.add({**account, "window": window}, budget.limit)
        creations_used.add(account, f.creations.used)
        creations_limit.add(account, f.creations.limit)
        paused.add(account, 1 if f.pause is not None else 0)
        daemon.add(account, 1 if f.daemon_up else 0)
        if f.login_ends_at is not None:
            login.add(account, f.login_ends_at.timestamp())
    return [
        queue,
        due,
        oldest,
        uploads,
        calls_used,
        calls_limit,
        creations_used,
        creations_limit,
        paused,
        daemon,
        login,
        build,
    ]


def exposition(found: Iterable[Family]) -> str:
    """The text format: `# HELP`, `# TYPE`, then one line per sample."""
    lines: list[str] = []
    for f in found:
        lines.append(f"# HELP {f.name} {escape_help(f.help)}")
        lines.append(f"# TYPE {f.name} {f.kind}")
        for labels, value in f.samples:
            lines.append(f"{f.name}{_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"


def escape_label(value: str) -> str:
    """A label value as the format quotes it: backslash, double quote and newline
    escaped (an account id is the operator's text)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    """Whole numbers without a decimal point (counts, limits, timestamps in seconds)."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))
