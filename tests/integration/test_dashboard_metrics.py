"""`/metrics` (`web.metrics`): the figures in Prometheus's text format 0.0.4, on SQLite
and PostgreSQL. The output is read back by a small parser of the format written here
(prometheus_client is no dependency of ours), so a malformed line, a sample without its
TYPE, a bad escape or a wrong value fails a test; and no label may carry an item's
ASIN, title or error text, a client id or a token."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from tests.integration import test_dashboard_figures
from tests.integration.test_dashboard_figures import (
    APP_1,
    APP_2,
    CLIENT_ID,
    LA_SHOP,
    NOW,
    TOKYO_DAY,
    TOKYO_SHOP,
    Env,
)
from upload_scheduler import __version__
from upload_scheduler.limits import LimitSettings
from upload_scheduler.operations import pauses
from upload_scheduler.operations.purge import purge_queue
from upload_scheduler.store import account_state
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.identity import Identity
from upload_scheduler.store.tables import upload_queue
from upload_scheduler.store.usage import add_application_usage, add_usage
from upload_scheduler.web.metrics import CONTENT_TYPE, Family, exposition, render_metrics

env = test_dashboard_figures.env

P = "upload_scheduler_"
FAMILIES = {
    "queue_items": "gauge",
    "queue_due_items": "gauge",
    "queue_oldest_due_age_seconds": "gauge",
    "uploads_total": "counter",
    "api_calls_used": "gauge",
    "api_calls_limit": "gauge",
    "daily_creations_used": "gauge",
    "daily_creations_limit": "gauge",
    "account_paused": "gauge",
    "daemon_up": "gauge",
    "login_expiry_timestamp_seconds": "gauge",
    "build_info": "gauge",
}
LABEL_NAMES = {"platform", "account", "status", "result", "window", "version"}

# ------------------------------------------------------------------ a parser of 0.0.4

Labels = tuple[tuple[str, str], ...]


@dataclass
class Parsed:
    help: str = ""
    type: str = ""
    samples: dict[Labels, float] = field(default_factory=dict)


def parse(text: str) -> dict[str, Parsed]:
    """Families by name. Strict: every sample belongs to the family whose TYPE came
    last, under its exact name (0.0.4 names a counter's family with its _total); no
    series twice; the text ends with a newline."""
    assert text.endswith("\n")
    families: dict[str, Parsed] = {}
    current: str | None = None
    for line in text.splitlines():
        assert line, "no empty lines"
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP ") :].partition(" ")
            assert name not in families, f"{name} described twice"
            families[name] = Parsed(help=_unescape_help(help_text))
            current = None
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE ") :].partition(" ")
            assert name in families and not families[name].type, f"TYPE of {name} out of place"
            assert kind in ("gauge", "counter")
            families[name].type = kind
            current = name
        else:
            assert not line.startswith("#"), line
            name, labels, value = _sample(line)
            assert name == current, f"{name} outside its family ({current})"
            assert labels not in families[name].samples, f"{line}: a series twice"
            families[name].samples[labels] = value
    return families


def _sample(line: str) -> tuple[str, Labels, float]:
    end = min(i for i in (line.find("{"), line.find(" ")) if i >= 0)
    name, rest = line[:end], line[end:]
    labels: list[tuple[str, str]] = []
    if rest.startswith("{"):
        i = 1
        while rest[i] != "}":
            eq = rest.index("=", i)
            label = rest[i:eq]
            assert label.isidentifier() and rest[eq + 1] == '"', line
            i, value = _quoted(rest, eq + 2)
            labels.append((label, value))
            if rest[i] == ",":
                i += 1
        rest = rest[i + 1 :]
    assert rest.startswith(" ") and " " not in rest[1:], f"{line}: one value, no timestamp"
    return name, tuple(labels), float(rest[1:])


def _quoted(text: str, i: int) -> tuple[int, str]:
    """The label value starting at `i` (after its opening quote); the index after the
    closing quote."""
    out = []
    while text[i] != '"':
        if text[i] == "\\":
            escaped = text[i + 1]
            assert escaped in '\\"n', f"bad escape \\{escaped}"
            out.append("\n" if escaped == "n" else escaped)
            i += 2
        else:
            assert text[i] != "\n"
            out.append(text[i])
            i += 1
    return i + 1, "".join(out)


def _unescape_help(text: str) -> str:
    """HELP escapes only backslash and newline."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            assert text[i + 1] in "\\n", f"bad escape in HELP: {text!r}"
            out.append("\n" if text[i + 1] == "n" else "\\")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def value(families: dict[str, Parsed], name: str, **labels: str) -> float:
    return families[P + name].samples[tuple(labels.items())]


def scrape(env: Env, now: datetime = NOW) -> tuple[str, dict[str, Parsed]]:
    text = render_metrics(env.settings, env.engine, now)
    return text, parse(text)


# ------------------------------------------------------------------ the tests


def test_every_family_has_help_and_type(env: Env) -> None:
    _, families = scrape(env)

    assert {name: f.type for name, f in families.items()} == {
        P + name: kind for name, kind in FAMILIES.items()
    }
    assert all(f.help for f in families.values())
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"
    assert value(families, "build_info", version=__version__) == 1


def test_labels_are_only_names_and_small_fixed_sets(env: Env) -> None:
    _, families = scrape(env)

    used = {label for f in families.values() for series in f.samples for label, _ in series}
    assert used == LABEL_NAMES
    accounts = {dict(series).get("account") for f in families.values() for series in f.samples} - {
        None
    }
    assert accounts == {TOKYO_SHOP, LA_SHOP, APP_1, APP_2}


def test_queue_series_for_every_status_zeros_included(env: Env) -> None:
    env.item(TOKYO_SHOP, "B0MET0001", at=NOW - timedelta(hours=2))
    env.item(TOKYO_SHOP, "B0MET0002", at=NOW - timedelta(minutes=1))
    env.item(TOKYO_SHOP, "B0MET0003", at=NOW + timedelta(hours=1))
    env.finish(env.item(TOKYO_SHOP, "B0MET0004"), "failed", NOW)

    _, families = scrape(env)

    tokyo = {"platform": "base", "account": TOKYO_SHOP}
    statuses = {
        dict(series)["status"]: v
        for series, v in families[P + "queue_items"].samples.items()
        if dict(series)["account"] == TOKYO_SHOP
    }
    assert statuses == {"pending": 3, "uploading": 0, "success": 0, "failed": 1, "cancelled": 0}
    assert len(families[P + "queue_items"].samples) == 4 * 5
    assert value(families, "queue_due_items", **tokyo) == 2
    assert value(families, "queue_oldest_due_age_seconds", **tokyo) == 7200
    la = {"platform": "base", "account": LA_SHOP}
    assert value(families, "queue_due_items", **la) == 0
    assert value(families, "queue_oldest_due_age_seconds", **la) == 0


def test_uploads_total_counts_the_trigger_kept_counter_and_survives_a_purge(env: Env) -> None:
    for n in range(3):
        env.finish(env.item(TOKYO_SHOP, f"B0MUP{n:04d}"), "success", NOW - timedelta(days=n))
    env.finish(env.item(LA_SHOP, "B0MUP0100"), "failed", NOW)
    tokyo = {"platform": "base", "account": TOKYO_SHOP}

    _, families = scrape(env)
    assert value(families, "uploads_total", **tokyo, result="success") == 3
    assert value(families, "uploads_total", **tokyo, result="failed") == 0
    assert value(families, "uploads_total", platform="base", account=LA_SHOP, result="failed") == 1

    purge_queue(env.engine, cutoff=NOW + timedelta(seconds=1))

    _, families = scrape(env)
    assert value(families, "queue_items", **tokyo, status="success") == 0
    assert value(families, "uploads_total", **tokyo, result="success") == 3


def test_budgets_pause_daemon_and_login(env: Env) -> None:
    base_limits = LimitSettings.of(env.settings.account("base", TOKYO_SHOP))
    app_limits = LimitSettings.of(env.settings.account("fake", APP_1))
    with write_transaction(env.engine) as conn:
        account_state.ensure_row(conn, "base", TOKYO_SHOP)
        account_state.record_calls(
            conn, "base", TOKYO_SHOP, base_limits, NOW, 4, started_item=False
        )
        add_usage(conn, "base", TOKYO_SHOP, TOKYO_DAY, creations=2)
        add_application_usage(
            conn, "fake", CLIENT_ID, app_limits.application_day(NOW).isoformat(), 30
        )
        assert (
            account_state.acquire_lease(conn, "base", LA_SHOP, Identity.current(), NOW, 60) is None
        )
    pauses.pause(env.engine, "fake", APP_2, until=None, reason="", now=NOW)
    env.login("base", TOKYO_SHOP, NOW - timedelta(days=1))

    _, families = scrape(env)

    tokyo = {"platform": "base", "account": TOKYO_SHOP}
    app_2 = {"platform": "fake", "account": APP_2}
    assert value(families, "api_calls_used", **tokyo, window="hour") == 4
    assert value(families, "api_calls_used", **tokyo, window="day") == 4
    assert value(families, "api_calls_limit", **tokyo, window="hour") == 10
    assert value(families, "api_calls_limit", **tokyo, window="day") == 100
    # The application's day, on each account on it; its id is no label.
    assert value(families, "api_calls_used", **app_2, window="day") == 30
    assert value(families, "api_calls_limit", **app_2, window="day") == 50
    assert value(families, "daily_creations_used", **tokyo) == 2
    assert value(families, "daily_creations_limit", **tokyo) == 5
    assert value(families, "account_paused", **app_2) == 1
    assert value(families, "account_paused", **tokyo) == 0
    assert value(families, "daemon_up", platform="base", account=LA_SHOP) == 1
    assert value(families, "daemon_up", **tokyo) == 0
    # The login's end, only where it is known: not for a shop without tokens, nor for a
    # platform that has none.
    login = families[P + "login_expiry_timestamp_seconds"].samples
    assert login == {tuple(tokyo.items()): (NOW + timedelta(days=29)).timestamp()}

    # A minute after the lease's end the daemon counts as down.
    _, later = scrape(env, NOW + timedelta(seconds=61))
    assert value(later, "daemon_up", platform="base", account=LA_SHOP) == 0


def test_no_item_text_client_id_or_secret_reaches_the_output(env: Env) -> None:
    asin, title, error = "B0SECRETAS", "Secret title 秘密の商品", "BASE said: bad_title zq-77"
    queue_id = env.item(TOKYO_SHOP, asin, title=title)
    with env.engine.begin() as conn:
        conn.execute(
            upload_queue.update().where(upload_queue.c.id == queue_id).values(error_message=error)
        )
    env.finish(queue_id, "failed", NOW)
    env.login("base", TOKYO_SHOP, NOW)  # access "a"*20, refresh "r"*20
    app_limits = LimitSettings.of(env.settings.account("fake", APP_1))
    with write_transaction(env.engine) as conn:
        add_application_usage(
            conn, "fake", CLIENT_ID, app_limits.application_day(NOW).isoformat(), 1
        )

    text, _ = scrape(env)

    for secret in (
        asin,
        "Secret title",
        "秘密",
        "bad_title",
        "zq-77",
        CLIENT_ID,
        "a" * 20,
        "r" * 20,
    ):
        assert secret not in text


def test_label_values_are_escaped() -> None:
    tricky = 'shop\\one "quoted"\nsecond line'
    text = exposition(
        [Family("x_items", "gauge", "Help with a \\ and a\nnewline.", [({"account": tricky}, 2.5)])]
    )

    assert text == (
        "# HELP x_items Help with a \\\\ and a\\nnewline.\n"
        "# TYPE x_items gauge\n"
        'x_items{account="shop\\\\one \\"quoted\\"\\nsecond line"} 2.5\n'
    )
    parsed = parse(text)["x_items"]
    assert parsed.samples == {(("account", tricky),): 2.5}
    assert parsed.help == "Help with a \\ and a\nnewline."


@pytest.mark.parametrize(
    ("number", "shown"),
    [(0, "0"), (3, "3"), (7200.0, "7200"), (0.25, "0.25"), (1767571200, "1767571200")],
)
def test_numbers_are_written_plainly(number: float, shown: str) -> None:
    assert exposition([Family("n", "gauge", "h", [({}, number)])]).splitlines()[-1] == f"n {shown}"
