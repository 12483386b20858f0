"""The dashboard's pages and actions through Starlette's test client, on SQLite and
PostgreSQL (the `database_url` fixture), with a fake clock and nothing sleeping.

Three accounts: two BASE shops (the first in Tokyo, the file's zone; the second in Los
Angeles, so every time it shows is 17 hours behind the first's) and one of the fake
platform. Rows are inserted with SQLAlchemy Core (as an import and add-to-queue leave
them) or moved through the queue manager, so the triggers of migration 0011 fill
`queue_events` and `upload_counts` as in production. Pages are read as a browser reads
them: the CSRF token and every action's fields come from the page's own forms, and the
links followed are the page's own links.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.integration.queue_fixtures import (
    ACCOUNT_1,
    ACCOUNT_2,
    PLATFORM,
    START,
    QueueEnv,
    make_settings,
    open_queue,
)
from upload_scheduler.operations import activity, pauses
from upload_scheduler.platforms.oauth import TokenGrant
from upload_scheduler.platforms.token_store import TokenStore
from upload_scheduler.store.tables import activity_log, listings, products, upload_queue
from upload_scheduler.web import queue_view
from upload_scheduler.web.app import create_app
from upload_scheduler.web.metrics import CONTENT_TYPE
from upload_scheduler.web.render import Dashboard
from upload_scheduler.web.security import (
    CONTENT_SECURITY_POLICY,
    CSRF_COOKIE,
    OPERATOR,
    VIEWER,
    Credentials,
    Login,
)

BASE_URL = "http://127.0.0.1:8080"
SAME_ORIGIN = {"origin": BASE_URL}
FAKE = "fake"
FAKE_ACCOUNT = "fake_1"
LA_ZONE = "America/Los_Angeles"
# START (2026-01-05 00:00 UTC) is 09:00 in Tokyo and 2026-01-04 16:00 in Los Angeles.
ONE_HOUR = timedelta(hours=1)
XSS = "<script>alert('x')</script>"
ESCAPED_XSS = "&lt;script&gt;alert("
LISTING_STATUS = {
    "pending": "queued",
    "uploading": "queued",
    "success": "listed",
    "failed": "failed",
    "cancelled": "pending",
}
OPERATOR_LOGIN = Login("boss", "op-secret-4711", OPERATOR)
VIEWER_LOGIN = Login("intern", "view-secret-0815", VIEWER)


def dashboard_config(**extra: Any) -> dict[str, Any]:
    return {
        "accounts": {PLATFORM: [ACCOUNT_1, ACCOUNT_2], FAKE: [FAKE_ACCOUNT]},
        "account_overrides": {ACCOUNT_2: {"timezone": LA_ZONE}},
        "platforms": {FAKE: {"api_base_url": "fake:unused.db"}},
        **extra,
    }


# ---------------------------------------------------------------------- reading pages


@dataclass
class Form:
    """One <form> of a page: where it goes, its hidden fields, the ids inside it."""

    action: str
    method: str
    form_id: str
    fields: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    disabled: set[str] = field(default_factory=set)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = Form(
                values.get("action", ""), values.get("method", "get").lower(), values.get("id", "")
            )
            return
        if self._open is None:
            return
        if "id" in values:
            self._open.ids.add(values["id"])
            if "disabled" in values:
                self._open.disabled.add(values["id"])
        if tag == "input" and values.get("type") == "hidden" and "name" in values:
            self._open.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._open is not None:
            self.forms.append(self._open)
            self._open = None


def forms_of(page: str) -> list[Form]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def post_forms(page: str) -> list[Form]:
    return [f for f in forms_of(page) if f.method == "post"]


def form_with(page: str, marker: str) -> Form:
    """The form whose id is `marker`, or that holds an element with that id."""
    found = [f for f in forms_of(page) if marker == f.form_id or marker in f.ids]
    assert len(found) == 1, f"{marker!r} in {[f.form_id or f.ids for f in forms_of(page)]}"
    return found[0]


_INLINE = re.compile(r"</?(?:a|span|small|strong|em|code|b)\b[^>]*>")


def text_of(fragment: str) -> str:
    """The visible text as a browser lays it out: inline tags dropped, the others a
    space, entities read, white space collapsed."""
    flat = re.sub(r"<[^>]+>", " ", _INLINE.sub("", fragment))
    return " ".join(html.unescape(flat).split())


def queue_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', page)]


def queue_row(page: str, queue_id: int) -> str:
    found = re.search(rf'<tr data-id="{queue_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"row {queue_id} not on the page"
    return text_of(found.group(1))


def account_row(page: str, platform: str, account_id: str) -> str:
    found = re.search(rf'<tr id="account-{platform}-{account_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"account {platform}/{account_id} not on the page"
    return found.group(1)


def count_text(page: str) -> str:
    found = re.search(r'id="queue-count">(.*?)</p>', page, re.S)
    assert found
    return text_of(found.group(1))


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" rel="{rel}"', page) or re.search(
        rf'<a rel="{rel}" href="([^"]*)"', page
    )
    return html.unescape(found.group(1)) if found else None


def notice_of(page: str) -> str | None:
    found = re.search(r'<p class="notice" id="notice" role="status">(.*?)</p>', page, re.S)
    return text_of(found.group(1)) if found else None


def reasons_of(page: str) -> dict[str, str]:
    """The item page's why-not-uploading reasons, code -> text."""
    found = re.findall(r'<li class="reason reason-[\w-]+" data-code="([\w-]+)">(.*?)</li>', page)
    return {code: text_of(body) for code, body in found}


def history_of(page: str) -> list[list[str]]:
    section = re.search(r'<section class="history">(.*?)</section>', page, re.S)
    assert section
    if "<tbody>" not in section.group(1):
        assert "No change of status yet." in section.group(1)
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", section.group(1).split("<tbody>")[1], re.S)
    return [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def activity_rows(page: str) -> list[dict[str, str]]:
    names = ("when", "who", "source", "action", "target", "items", "detail")
    rows = re.findall(r'<tr data-action="[^"]*">(.*?)</tr>', page, re.S)
    return [
        dict(zip(names, [text_of(c) for c in re.findall(r"<td>(.*?)</td>", r, re.S)], strict=True))
        for r in rows
    ]


def location(response: httpx2.Response) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(response.headers["location"])
    return parts.path, parse_qs(parts.query)


# ---------------------------------------------------------------------- the database


@dataclass(frozen=True)
class Row:
    """One queue row to insert, with its product and its listing."""

    asin: str
    account: str = ACCOUNT_1
    platform: str = PLATFORM
    status: str = "pending"
    priority: int = 5
    at: datetime = START
    title: str | None = None
    error: str | None = None


def seed(env: QueueEnv, rows: Sequence[Row]) -> list[int]:
    """Insert the rows in one transaction; their queue ids, in the order given (which is
    also the order of the ids)."""
    now = env.clock.now()
    stamps = {"created_at": now, "updated_at": now}
    asins = [r.asin for r in rows]
    with env.engine.begin() as conn:
        conn.execute(
            products.insert(),
            [
                {"asin": r.asin, "title": r.title or f"Product {r.asin}", "price": 1000, **stamps}
                for r in rows
            ],
        )
        conn.execute(
            listings.insert(),
            [
                {
                    "asin": r.asin,
                    "platform": r.platform,
                    "account_id": r.account,
                    "status": LISTING_STATUS[r.status],
                    **stamps,
                }
                for r in rows
            ],
        )
        listing_ids: dict[str, int] = dict(
            conn.execute(
                select(listings.c.asin, listings.c.id).where(listings.c.asin.in_(asins))
            ).all()
        )
        for r in rows:  # one by one: ids in the order given on both databases
            conn.execute(
                upload_queue.insert().values(
                    listing_id=listing_ids[r.asin],
                    asin=r.asin,
                    platform=r.platform,
                    account_id=r.account,
                    scheduled_time=r.at,
                    priority=r.priority,
                    status=r.status,
                    error_message=r.error,
                    attempts=1 if r.status == "failed" else 0,
                    processed_at=now if r.status in ("success", "failed", "cancelled") else None,
                    **stamps,
                )
            )
        found: dict[str, int] = dict(
            conn.execute(
                select(upload_queue.c.asin, upload_queue.c.id).where(upload_queue.c.asin.in_(asins))
            ).all()
        )
    return [found[a] for a in asins]


def seed_many(env: QueueEnv, count: int, prefix: str, **values: Any) -> list[int]:
    """`count` rows in three statements (for the paging and the capped count)."""
    now = env.clock.now()
    stamps = {"created_at": now, "updated_at": now}
    asins = [f"{prefix}{n:05d}" for n in range(count)]
    status = values.get("status", "pending")
    account = values.get("account", ACCOUNT_1)
    with env.engine.begin() as conn:
        conn.execute(
            products.insert(),
            [{"asin": a, "title": f"Product {a}", "price": 1000, **stamps} for a in asins],
        )
        conn.execute(
            listings.insert(),
            [
                {"asin": a, "platform": PLATFORM, "account_id": account, "status": "queued"}
                | stamps
                for a in asins
            ],
        )
        rows = conn.execute(
            select(listings.c.id, listings.c.asin)
            .where(listings.c.asin.like(f"{prefix}%"))
            .order_by(listings.c.id)
        ).all()
        conn.execute(
            upload_queue.insert(),
            [
                {
                    "listing_id": listing_id,
                    "asin": asin,
                    "platform": PLATFORM,
                    "account_id": account,
                    "scheduled_time": START,
                    "status": status,
                    **stamps,
                }
                for listing_id, asin in rows
            ],
        )
        return [
            int(i)
            for i in conn.execute(
                select(upload_queue.c.id)
                .where(upload_queue.c.asin.like(f"{prefix}%"))
                .order_by(upload_queue.c.id)
            ).scalars()
        ]


def move(env: QueueEnv, queue_id: int, status: str, *, attempts: int, error: str | None) -> None:
    """A status change as the daemon writes it (the trigger keeps it in queue_events)."""
    with env.engine.begin() as conn:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == queue_id)
            .values(
                status=status, attempts=attempts, error_message=error, updated_at=env.clock.now()
            )
        )


def status_of(env: QueueEnv, *ids: int) -> list[str]:
    return [env.queue_row(i)["status"] for i in ids]


def log_entries(env: QueueEnv) -> list[activity.Activity]:
    return list(reversed(activity.recent(env.engine, limit=1000)))


# ---------------------------------------------------------------------- the fixture


@dataclass
class Web:
    env: QueueEnv
    board: Dashboard
    app: Starlette
    client: TestClient
    tmp_path: Path
    database_url: str

    def page(self, path: str, **kwargs: Any) -> str:
        response = self.client.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.text

    def submit(self, form: Form, **fields: str) -> httpx2.Response:
        """Post the form as the browser would: its fields, the ones typed, its Origin."""
        return self.client.post(
            form.action,
            data={**form.fields, **fields},
            headers=SAME_ORIGIN,
            follow_redirects=False,
        )

    def token(self) -> str:
        """The CSRF token of the page's hidden field (the overview's pause form)."""
        return form_with(self.page("/"), "pause-form").fields["csrf_token"]

    def post(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> httpx2.Response:
        """A POST as a page of this dashboard sends it (its Origin) unless told."""
        sent = SAME_ORIGIN if headers is None else headers
        return self.client.post(path, data=data, headers=sent, follow_redirects=False)


def client_for(app: Starlette) -> TestClient:
    return TestClient(app, base_url=BASE_URL)


@pytest.fixture
def web(tmp_path: Path, database_url: str) -> Iterator[Web]:
    env = open_queue(tmp_path, database_url, **dashboard_config())
    board = Dashboard(env.settings, env.engine, env.clock)
    app = create_app(board)
    client = client_for(app)
    try:
        yield Web(env, board, app, client, tmp_path, database_url)
    finally:
        client.close()
        env.engine.dispose()


# ====================================================================== pages


def test_overview_shows_every_account_its_day_its_pause_and_what_needs_attention(
    web: Web,
) -> None:
    env = web.env
    done, failed, _ = seed(env, [Row("B0OV00001"), Row("B0OV00002"), Row("B0OV00003")])
    seed(env, [Row("B0OV00004", account=ACCOUNT_2)])
    env.clock.set(START + timedelta(minutes=5))
    assert env.manager.update_queue_status(done, "success")
    assert env.manager.update_queue_status(failed, "failed", {"error_message": "boom"})
    # The same instant in two zones: 11:00 in Tokyo, 18:00 the day before in Los Angeles.
    until = START + 2 * ONE_HOUR
    pauses.pause(env.engine, PLATFORM, ACCOUNT_2, until=until, reason="stocktaking", now=START)
    pauses.pause(env.engine, FAKE, FAKE_ACCOUNT, until=until, reason="new stock", now=START)

    page = web.page("/")

    rows = re.findall(r'<tr id="account-([^"]+)"', page)
    assert rows == [f"base-{ACCOUNT_1}", f"base-{ACCOUNT_2}", f"fake-{FAKE_ACCOUNT}"]
    first = account_row(page, PLATFORM, ACCOUNT_1)
    assert re.search(r'class="today-success">1<', first)
    assert re.search(r'class="today-failed">1<', first)
    assert "working" in text_of(first)
    assert "/accounts/resume" not in first
    second = text_of(account_row(page, PLATFORM, ACCOUNT_2))
    assert "Paused: operator: stocktaking (until 2026-01-04 18:00)" in second
    fake = text_of(account_row(page, FAKE, FAKE_ACCOUNT))
    assert "Paused: operator: new stock (until 2026-01-05 11:00)" in fake
    resume = [f for f in post_forms(page) if f.action == "/accounts/resume"]
    assert [f.fields["account"] for f in resume] == [f"base/{ACCOUNT_2}", f"fake/{FAKE_ACCOUNT}"]
    attention = re.search(r'<section class="attention".*?</section>', page, re.S)
    assert attention
    assert text_of(attention.group(0)).endswith(f"base/{ACCOUNT_1}: 1 failed item(s)")
    assert f"account={ACCOUNT_1}&amp;status=failed" in attention.group(0)
    pause_form = form_with(page, "pause-form")
    assert pause_form.action == "/accounts/pause"
    assert re.findall(r'<option value="([^"]+)">', page.split('id="pause-account"')[1]) == [
        f"base/{ACCOUNT_1}",
        f"base/{ACCOUNT_2}",
        f"fake/{FAKE_ACCOUNT}",
    ]

    # The fragment the page refreshes itself with: the same rows, no page around them.
    fragment = web.page("/?fragment=overview")
    assert "<html" not in fragment
    assert fragment.startswith('<div id="overview"')
    assert re.findall(r'<tr id="account-([^"]+)"', fragment) == rows
    assert re.search(r'class="today-failed">1<', account_row(fragment, PLATFORM, ACCOUNT_1))
    assert 'id="pause-form"' not in fragment

    # One platform only, and the refresh keeps to it.
    narrowed = web.page("/?platform=fake")
    assert re.findall(r'<tr id="account-([^"]+)"', narrowed) == [f"fake-{FAKE_ACCOUNT}"]
    assert 'hx-get="/?platform=fake&amp;fragment=overview"' in narrowed


def test_queue_page_lists_rows_with_title_status_error_and_each_accounts_time(web: Web) -> None:
    tokyo, la, failed = seed(
        web.env,
        [
            Row("B0QP00001", at=START + ONE_HOUR, title="Blue Ceramic Mug"),
            Row("B0QP00002", account=ACCOUNT_2, at=START + ONE_HOUR, title="Red Kettle"),
            Row("B0QP00003", status="failed", priority=10, error="HTTP 500 from BASE"),
        ],
    )

    page = web.page("/queue")

    assert queue_ids(page) == [failed, la, tokyo]  # newest first
    assert count_text(page) == "3 matching"
    assert queue_row(page, tokyo) == (
        f"{tokyo} base {ACCOUNT_1} B0QP00001 Blue Ceramic Mug pending 5 2026-01-05 10:00 0"
    )
    assert queue_row(page, la) == (
        f"{la} base {ACCOUNT_2} B0QP00002 Red Kettle pending 5 2026-01-04 17:00 0"
    )
    assert queue_row(page, failed) == (
        f"{failed} base {ACCOUNT_1} B0QP00003 Product B0QP00003 failed 10 2026-01-05 09:00 1 "
        "HTTP 500 from BASE"
    )
    assert f'<a href="/items/{la}">' in page
    assert link(page, "next") is None
    assert link(page, "prev") is None
    bulk = {f.fields["action"] for f in post_forms(page) if f.action == "/queue/bulk"}
    assert bulk == {"retry_all", "cancel_all"}


def test_item_page_shows_its_facts_its_history_and_why_it_is_not_uploading(web: Web) -> None:
    env = web.env
    (failed,) = seed(
        env, [Row("B0IT00001", account=ACCOUNT_2, at=START + ONE_HOUR, title="Red Kettle")]
    )
    env.clock.set(START + timedelta(minutes=10))
    move(env, failed, "uploading", attempts=1, error=None)
    env.clock.set(START + timedelta(minutes=20))
    move(env, failed, "failed", attempts=1, error="HTTP 500 from BASE")

    page = web.page(f"/items/{failed}")

    assert f"<h1>Item {failed}: B0IT00001</h1>" in page
    facts = text_of(page.split('<dl class="facts">')[1].split("</dl>")[0])
    assert f"Platform base Account {ACCOUNT_2} Kind upload Status failed Priority 5" in facts
    assert (
        f"Scheduled 2026-01-04 17:00 ({LA_ZONE}) Attempts 1 Last error HTTP 500 from BASE" in facts
    )
    assert "Updated 2026-01-04 16:20" in facts
    product = text_of(page.split('<section class="product">')[1].split("</section>")[0])
    assert "Title Red Kettle Price (yen) 1,000" in product
    # Every status change, from queue_events, in the account's zone.
    assert history_of(page) == [
        ["2026-01-04 16:10:00", "pending → uploading", "1", ""],
        ["2026-01-04 16:20:00", "uploading → failed", "1", "HTTP 500 from BASE"],
    ]
    assert reasons_of(page) == {
        "not_pending": "not pending (failed): it failed: HTTP 500 from BASE"
    }
    assert form_with(page, "item-retry").action == f"/items/{failed}/retry"
    assert 'id="item-cancel"' not in page

    # A pending item of a paused Tokyo shop, scheduled for later.
    (waiting,) = seed(env, [Row("B0IT00002", at=START + 3 * ONE_HOUR)])
    pauses.pause(env.engine, PLATFORM, ACCOUNT_1, until=START + 2 * ONE_HOUR, reason="", now=START)

    page = web.page(f"/items/{waiting}")

    reasons = reasons_of(page)
    assert reasons["scheduled"] == "scheduled for later — until 2026-01-05 12:00"
    assert reasons["paused"] == (
        "account paused: operator: paused by the operator — until 2026-01-05 11:00"
    )
    assert reasons["no_daemon"] == f"no daemon is running for base/{ACCOUNT_1}"
    assert list(reasons)[:2] == ["scheduled", "paused"]
    assert form_with(page, "item-cancel").action == f"/items/{waiting}/cancel"
    assert 'id="item-retry"' not in page
    assert history_of(page) == []
    # In Japanese each reason is headed in Japanese, its sentence kept beneath.
    japanese = web.page(f"/items/{waiting}?lang=ja")
    assert "<strong>予定時刻前</strong>" in japanese
    assert "<strong>アカウント一時停止中</strong>" in japanese
    assert "no daemon is running for" in japanese

    missing = web.client.get(f"/items/{waiting + 1000}")
    assert missing.status_code == 404
    assert "Not found." in missing.text


def test_schedule_page_counts_each_accounts_slots_today_and_tomorrow_in_its_zone(
    web: Web,
) -> None:
    seed(
        web.env,
        [
            # Tokyo: today is 2026-01-05, tomorrow 2026-01-06.
            Row("B0SC00001", at=START + ONE_HOUR),  # 10:00
            Row("B0SC00002", at=START + ONE_HOUR),  # 10:00, the same bin
            Row("B0SC00003", at=START + 2 * ONE_HOUR, status="failed"),  # 11:00
            Row("B0SC00004", at=START + 2 * ONE_HOUR, status="cancelled"),  # not planned
            Row("B0SC00005", at=START + 25 * ONE_HOUR),  # tomorrow 10:00
            # Los Angeles: today is 2026-01-04 there; 17:00 today, 10:00 tomorrow.
            Row("B0SC00006", account=ACCOUNT_2, at=START + ONE_HOUR),
            Row("B0SC00007", account=ACCOUNT_2, at=START + 18 * ONE_HOUR),
            Row("B0SC00008", account=ACCOUNT_2, at=START + 18 * ONE_HOUR),
        ],
    )

    page = web.page("/schedule")

    sections = dict(
        re.findall(
            r'<section class="schedule"[^>]*data-account="([^"]+)">(.*?)</section>', page, re.S
        )
    )
    assert list(sections) == [ACCOUNT_1, ACCOUNT_2, FAKE_ACCOUNT]

    def days(section: str) -> list[str]:
        return [
            text_of(d) for d in re.findall(r'<span class="day-label">(.*?)</span></span>', section)
        ]

    def bins(section: str) -> list[str]:
        return re.findall(r"<title>(\d+)</title>", section)

    tokyo, la = sections[ACCOUNT_1], sections[ACCOUNT_2]
    assert "Asia/Tokyo" in tokyo
    assert days(tokyo) == ["2026-01-05 · 3 planned", "2026-01-06 · 1 planned"]
    assert bins(tokyo) == ["2", "1", "1"]
    assert LA_ZONE in la
    assert days(la) == ["2026-01-04 · 1 planned", "2026-01-05 · 2 planned"]
    assert days(sections[FAKE_ACCOUNT]) == ["2026-01-05 · 0 planned", "2026-01-06 · 0 planned"]
    # The 10:00 bin of the Tokyo day: x = 40 bins of 15 minutes out of 96.
    assert 'class="slot" x="41.667"' in tokyo

    only = web.page(f"/schedule?platform=base&account={ACCOUNT_2}")
    assert re.findall(r'data-account="([^"]+)"', only) == [ACCOUNT_2]


def test_activity_page_lists_the_cli_and_the_dashboard_entries_newest_first(web: Web) -> None:
    env = web.env
    activity.record_cli(
        env.engine,
        action=activity.ADD_TO_QUEUE,
        now=START,
        platform=PLATFORM,
        account_id=ACCOUNT_1,
        target="add-to-queue --limit 3",
        items=3,
    )
    env.clock.set(START + ONE_HOUR)
    (item,) = seed(env, [Row("B0AC00001", account=ACCOUNT_2)])
    page = web.page(f"/items/{item}")
    response = web.submit(form_with(page, "item-cancel"))
    assert response.status_code == 303

    page = web.page("/activity")

    rows = activity_rows(page)
    assert [(r["source"], r["action"]) for r in rows] == [
        ("dashboard", "cancel"),
        ("cli", "add_to_queue"),
    ]
    assert rows[0] == {
        "when": "2026-01-05 10:00:00",
        "who": "dashboard@testclient",
        "source": "dashboard",
        "action": "cancel",
        "target": f"item {item} (B0AC00001)",
        "items": "1",
        "detail": "",
    }
    assert rows[1]["when"] == "2026-01-05 09:00:00"
    assert rows[1]["target"] == "add-to-queue --limit 3"
    assert rows[1]["items"] == "3"
    assert [r["source"] for r in activity_rows(web.page("/activity?source=cli"))] == ["cli"]
    by_account = activity_rows(web.page(f"/activity?account={ACCOUNT_2}"))
    assert [r["action"] for r in by_account] == ["cancel"]
    assert activity_rows(web.page("/activity?platform=fake")) == []
    assert "No actions yet." in web.page("/activity?platform=fake")


def test_every_page_speaks_japanese_when_asked_by_the_address_the_browser_or_the_config(
    web: Web, tmp_path: Path
) -> None:
    env = web.env
    (failed,) = seed(env, [Row("B0JA00001", status="failed", error="boom")])
    activity.record_cli(env.engine, action=activity.RETRY, now=START, items=1)
    pages = {
        "/": "概要",
        "/?fragment=overview": "要対応",
        "/queue": "該当 1 件",
        f"/items/{failed}": f"項目 {failed}",
        "/schedule": "本日と明日の枠",
        "/activity": "操作履歴",
    }
    for path, words in pages.items():
        joiner = "&" if "?" in path else "?"
        ja = web.page(f"{path}{joiner}lang=ja")
        assert words in ja, path
        if "fragment" not in path:
            assert '<html lang="ja">' in ja, path
            assert '<a href="/queue?lang=ja"' in ja, path  # the choice is kept along
        en = web.page(path)
        assert words not in en, path
    assert "失敗" in web.page(f"/items/{failed}?lang=ja")  # the status word too
    assert "失敗 1 件" in web.page("/?lang=ja")  # and the attention strip

    browser = {"accept-language": "ja,en;q=0.5"}
    assert '<html lang="ja">' in web.page("/queue", headers=browser)
    assert '<a href="/queue"' in web.page("/queue", headers=browser)  # not forced along
    assert '<html lang="en">' in web.page("/queue", headers={"accept-language": "en,ja;q=0.5"})
    assert '<html lang="en">' in web.page("/queue?lang=en", headers=browser)

    settings = make_settings(
        tmp_path, web.database_url, **dashboard_config(dashboard={"language": "ja"})
    )
    with client_for(create_app(Dashboard(settings, env.engine, env.clock))) as configured:
        answer = configured.get("/queue", headers={"accept-language": "en"})
        assert answer.status_code == 200
        assert '<html lang="ja">' in answer.text
        assert "該当 1 件" in answer.text
        assert '<html lang="en">' in configured.get("/queue?lang=en").text


def test_metrics_and_healthz_answer_and_healthz_says_503_when_the_database_is_gone(
    web: Web,
) -> None:
    env = web.env
    seed(
        env,
        [Row("B0ME00001", status="failed"), Row("B0ME00002", status="failed"), Row("B0ME00003")],
    )
    pauses.pause(env.engine, PLATFORM, ACCOUNT_2, until=None, reason="", now=START)

    answer = web.client.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == CONTENT_TYPE
    lines = set(answer.text.splitlines())
    labels = f'platform="base",account="{ACCOUNT_1}"'
    assert f'upload_scheduler_queue_items{{{labels},status="failed"}} 2' in lines
    assert f'upload_scheduler_queue_items{{{labels},status="pending"}} 1' in lines
    assert f"upload_scheduler_account_paused{{{labels}}} 0" in lines
    assert f'upload_scheduler_account_paused{{platform="base",account="{ACCOUNT_2}"}} 1' in lines
    assert f'upload_scheduler_account_paused{{platform="fake",account="{FAKE_ACCOUNT}"}} 0' in lines
    assert "# TYPE upload_scheduler_uploads_total counter" in lines

    answer = web.client.get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")

    url = make_url(web.database_url)
    if url.get_backend_name() == "sqlite":
        gone = f"sqlite:///{web.tmp_path / 'no-such-folder' / 'queue.db'}"
    else:
        gone = url.set(database=f"us_gone_{uuid.uuid4().hex[:12]}").render_as_string(
            hide_password=False
        )
    web.env.engine.dispose()
    web.board.engine = create_engine(gone)
    try:
        answer = web.client.get("/healthz")
        page = web.client.get("/")
    finally:
        web.board.engine.dispose()
    assert (answer.status_code, answer.text) == (503, "database unavailable")
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    # A page that fails is a plain 500 with the same headers, and no traceback.
    assert page.status_code == 500
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "Traceback" not in page.text and "sqlalchemy" not in page.text.lower()


# ====================================================================== the queue page


def test_queue_filters_by_platform_account_status_priority_time_and_search(web: Web) -> None:
    mug, kettle, teapot, green, late = seed(
        web.env,
        [
            Row("B0AAA00001", at=START + ONE_HOUR, title="Blue Ceramic Mug"),
            Row("B0AAA00002", status="failed", priority=10, at=START, title="Red Kettle"),
            Row("B0BBB00001", account=ACCOUNT_2, at=START + 2 * ONE_HOUR, title="Blue Teapot"),
            Row("C0CCC00001", platform=FAKE, account=FAKE_ACCOUNT, priority=1, title="Green Mug"),
            Row("B0AAA000019", at=START + 30 * ONE_HOUR, title="100% Cotton_Towel"),
        ],
    )

    def ids(query: str) -> list[int]:
        page = web.page(f"/queue?{query}")
        assert count_text(page) == f"{len(queue_ids(page))} matching", query
        return queue_ids(page)

    assert ids("platform=fake") == [green]
    assert ids(f"account={ACCOUNT_2}") == [teapot]
    assert ids("platform=base&account=") == [late, teapot, kettle, mug]
    assert ids("status=failed") == [kettle]
    assert ids("status=pending&platform=base") == [late, teapot, mug]
    assert ids("priority=10") == [kettle]
    assert ids("priority=1") == [green]
    # From and to are read in the file's zone (Tokyo): 10:00 there is 01:00 UTC.
    assert ids("from=2026-01-05T10:00") == [late, teapot, mug]
    assert ids("from=2026-01-05T10:00&to=2026-01-05T11:00") == [mug]
    assert ids("to=2026-01-05T10:00") == [green, kettle]
    assert ids("from=2026-01-05T01:00%2B00:00&to=2026-01-05T02:00Z") == [mug]
    # An ASIN, exact or its beginning, or words of the title.
    assert ids("q=B0AAA") == [late, kettle, mug]
    assert ids("q=B0AAA00001") == [late, mug]  # a prefix of the longer ASIN too
    assert ids("q=C0CCC00001") == [green]
    assert ids("q=Mug") == [green, mug]
    assert ids("q=Blue") == [teapot, mug]
    assert ids("q=Ceramic+Mug") == [mug]
    assert ids("q=100%25") == [late]  # % and _ are the typed characters, not wildcards
    assert ids("q=%25") == [late]
    assert ids("q=n_T") == [late]
    assert ids("q=_") == [late]
    assert ids("q=Blue&platform=base&status=pending&priority=5") == [teapot, mug]
    assert ids("q=nothing-like-it") == []

    page = web.page(f"/queue?platform=base&account={ACCOUNT_2}&status=pending&priority=5&q=Blue")
    assert '<option value="base" selected>' in page
    assert f'<option value="{ACCOUNT_2}" selected>' in page
    assert '<option value="pending" selected>' in page
    assert 'name="priority" min="1" max="20" value="5"' in page
    assert 'type="search" name="q" value="Blue"' in page
    # The bulk forms carry the page's filter (but not its status: each has its own).
    retry = next(f for f in post_forms(page) if f.fields.get("action") == "retry_all")
    assert {k: v for k, v in retry.fields.items() if k != "csrf_token"} == {
        "action": "retry_all",
        "platform": "base",
        "account": ACCOUNT_2,
        "priority": "5",
        "q": "Blue",
    }


def test_queue_search_ignores_case_on_both_databases(web: Web) -> None:
    """The search's own words: "An ASIN (exact or its beginning) or words of the title,
    in any case". SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's does
    not: the same address must list the same rows on both."""
    (mug,) = seed(web.env, [Row("B0CASE001", title="Blue Ceramic Mug")])

    assert queue_ids(web.page("/queue?q=Mug")) == [mug]
    assert queue_ids(web.page("/queue?q=B0CASE")) == [mug]
    assert queue_ids(web.page("/queue?q=mug")) == [mug]
    assert queue_ids(web.page("/queue?q=b0case")) == [mug]
    assert queue_ids(web.page("/queue?q=cup")) == []


def test_a_bad_filter_answers_400_with_the_reason(web: Web) -> None:
    cases = {
        "status=lost": "status must be one of pending, uploading, success, failed, cancelled",
        "priority=high": "priority must be a whole number",
        "priority=21": "priority must be 1 to 20",
        "priority=0": "priority must be 1 to 20",
        "from=yesterday": "from must be a date-time such as 2026-01-06T09:00",
        "to=2026-13-01": "to must be a date-time such as 2026-01-06T09:00",
    }
    for query, why in cases.items():
        answer = web.client.get(f"/queue?{query}")
        assert answer.status_code == 400, query
        assert f"Bad request: {why}" in text_of(answer.text), query
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    ja = web.client.get("/queue?priority=high&lang=ja")
    assert ja.status_code == 400
    assert "不正な入力: priority must be a whole number" in text_of(ja.text)


def test_odd_numbers_and_dates_in_the_address_never_crash_the_server(web: Web) -> None:
    """What a hand-edited or stale address can carry: each answers as the page says it
    should (a bad filter 400, a page position that is no queue id ignored, an item that
    does not exist 404), never 500. "²" passes str.isdigit() but not int(); an id past
    2**31 - 1 is out of PostgreSQL's `integer`, past 2**63 - 1 out of SQLite's; a date at
    the calendar's ends leaves datetime's range once moved to UTC."""
    (only,) = seed(web.env, [Row("B0POS0001", status="failed")])
    token = web.token()
    expected = {
        "GET /queue?from=0001-01-01T00:00": 400,
        "GET /queue?to=9999-12-31T23:00-12:00": 400,
        "GET /queue?before=%C2%B2": 200,
        "GET /queue?after=%C2%B2": 200,
        "GET /queue?before=99999999999": 200,
        "GET /queue?after=99999999999": 200,
        "GET /activity?before=%C2%B2": 200,
        "GET /activity?before=99999999999": 200,
        "GET /items/9999999999": 404,
        "GET /items/99999999999999999999": 404,
        "POST /items/9999999999/retry": 404,
        "POST /items/99999999999999999999/retry": 404,
        "POST /queue/bulk upto=²": 400,
    }
    wrong = {}
    with TestClient(web.app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.cookies.set(CSRF_COOKIE, web.client.cookies[CSRF_COOKIE])
        for request, status in expected.items():
            method, path, *form = request.split(" ")
            if method == "GET":
                answer = client.get(path)
            else:
                data = {"csrf_token": token, "action": "retry_all"}
                for field_text in form:
                    name, _, value = field_text.partition("=")
                    data[name] = value
                answer = client.post(path, data=data, headers=SAME_ORIGIN, follow_redirects=False)
            if answer.status_code != status:
                wrong[request] = f"{answer.status_code}, not {status}"
    assert wrong == {}, "\n".join(f"{r}: {w}" for r, w in wrong.items())
    assert queue_ids(web.page("/queue?before=99999")) == [only]


def test_keyset_pages_cover_every_row_once_forward_and_back(web: Web) -> None:
    every = seed_many(web.env, 150, "B0PG")
    failed = every[::5]  # one row in five: the filter skips rows inside every page
    pending = [i for i in every if i not in failed]
    with web.env.engine.begin() as conn:
        conn.execute(
            update(upload_queue).where(upload_queue.c.id.in_(failed)).values(status="failed")
        )
    expected = sorted(pending, reverse=True)

    first = web.page("/queue?status=pending")
    assert count_text(first) == "120 matching"
    assert link(first, "prev") is None
    pages = [queue_ids(first)]
    current = first
    while (following := link(current, "next")) is not None:
        assert following.startswith("/queue?status=pending&before=")
        current = web.page(following)
        assert count_text(current) == "120 matching"
        pages.append(queue_ids(current))
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [i for p in pages for i in p] == expected  # no overlap, no gap, newest first
    assert not set(failed) & {i for p in pages for i in p}

    # Back from the last page, by the "newer" links: the same pages, in reverse.
    back = [queue_ids(current)]
    while (previous := link(current, "prev")) is not None:
        assert previous.startswith("/queue?status=pending&after=")
        current = web.page(previous)
        back.append(queue_ids(current))
    assert back == list(reversed(pages))
    assert link(current, "next") is not None  # the first page again, reached from below

    # With no filter, a page boundary can fall between rows of both statuses.
    everything = web.page("/queue")
    assert count_text(everything) == "150 matching"
    second = web.page(link(everything, "next") or "")
    assert queue_ids(second) == sorted(every, reverse=True)[50:100]


def test_the_count_stops_at_the_cap_and_says_so(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """COUNT_CAP is 10,000 ("10,000+"); lowered to 1,000 here, with 1,001 rows."""
    monkeypatch.setattr(queue_view, "COUNT_CAP", 1_000)
    seed_many(web.env, 1_001, "B0CAP")

    page = web.page("/queue")
    assert count_text(page) == "1,000+ matching"
    assert count_text(web.page("/queue?status=pending&lang=ja")) == "該当 1,000+ 件"
    assert count_text(web.page("/queue?q=B0CAP00001")) == "1 matching"
    assert len(queue_ids(page)) == queue_view.PAGE_SIZE
    assert link(page, "next") is not None
    # The bulk confirmation counts exactly, beyond the cap.
    confirm = web.submit(form_with(page, "bulk-cancel_all"))
    assert confirm.status_code == 200
    assert 'data-count="1001"' in confirm.text
    assert "Cancel 1,001 pending item(s) matching this filter?" in text_of(confirm.text)
    # A count that only reaches the cap is exact.
    monkeypatch.setattr(queue_view, "COUNT_CAP", 1_001)
    assert count_text(web.page("/queue")) == "1,001 matching"


# ====================================================================== actions


def test_retry_one_failed_item(web: Web) -> None:
    env = web.env
    (item,) = seed(env, [Row("B0RT00001", status="failed", error="HTTP 500")])
    env.clock.set(START + ONE_HOUR)
    page = web.page(f"/items/{item}")

    answer = web.submit(form_with(page, "item-retry"))

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/items/{item}?done=retry"
    row = env.queue_row(item)
    assert (row["status"], row["attempts"], row["scheduled_time"]) == (
        "pending",
        0,
        START + ONE_HOUR,
    )
    assert env.listing(row["listing_id"])["status"] == "queued"
    page = web.page(answer.headers["location"])
    assert notice_of(page) == "Item retried."
    assert 'id="item-status">pending<' in page
    # The retry is a change of its own: the error stays with the attempt that failed.
    assert history_of(page)[-1] == ["2026-01-05 10:00:00", "failed → pending", "0", ""]
    (entry,) = log_entries(env)
    assert (entry.source, entry.action, entry.actor) == (
        "dashboard",
        "retry",
        "dashboard@testclient",
    )
    assert (entry.platform, entry.account_id, entry.items) == (PLATFORM, ACCOUNT_1, 1)
    assert entry.target == f"item {item} (B0RT00001)"
    assert entry.at == START + ONE_HOUR


def test_cancel_one_pending_item_and_again_changes_nothing(web: Web) -> None:
    env = web.env
    item, other = seed(env, [Row("B0CN00001", account=ACCOUNT_2), Row("B0CN00002")])
    form = form_with(web.page(f"/items/{item}?lang=ja"), "item-cancel")
    assert form.action == f"/items/{item}/cancel?lang=ja"

    answer = web.submit(form)

    assert answer.status_code == 303
    assert location(answer) == (f"/items/{item}", {"done": ["cancel"], "lang": ["ja"]})
    assert status_of(env, item, other) == ["cancelled", "pending"]
    assert notice_of(web.page(answer.headers["location"])) == "キャンセルしました。"

    again = web.submit(form)  # the same form, resent: the item is no longer pending

    assert again.status_code == 303
    assert location(again) == (f"/items/{item}", {"done": ["nothing"], "lang": ["ja"]})
    assert notice_of(web.page(again.headers["location"])) == "変更なし: 状態が変わっています。"
    entries = log_entries(env)
    assert [(e.action, e.account_id, e.items) for e in entries] == [
        ("cancel", ACCOUNT_2, 1),
        ("cancel", ACCOUNT_2, 0),
    ]


def test_bulk_retry_confirms_the_exact_count_and_retries_exactly_those(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = web.env
    monkeypatch.setattr(queue_view, "BATCH_SIZE", 2)  # three matching rows: two batches
    mine = seed(env, [Row(f"B0BR0000{n}", status="failed", error="boom") for n in range(3)])
    theirs = seed(env, [Row(f"B0BR1000{n}", account=ACCOUNT_2, status="failed") for n in range(2)])
    (waiting,) = seed(env, [Row("B0BR20000")])
    page = web.page(f"/queue?account={ACCOUNT_1}&status=failed")
    assert queue_ids(page) == list(reversed(mine))

    confirmation = web.submit(form_with(page, "bulk-retry_all"))

    assert confirmation.status_code == 200
    assert 'data-count="3"' in confirmation.text
    assert "Retry 3 failed item(s) matching this filter?" in text_of(confirmation.text)
    confirm = form_with(confirmation.text, "confirm-button")
    assert confirm.fields["upto"] == str(max(mine))
    assert confirm.fields["account"] == ACCOUNT_1
    assert "status" not in confirm.fields
    assert "confirm-button" not in confirm.disabled
    assert status_of(env, *mine) == ["failed"] * 3  # asking changed nothing
    # Failed after the confirmation was shown: not among the rows counted.
    (later,) = seed(env, [Row("B0BR30000", status="failed")])
    env.clock.set(START + ONE_HOUR)

    answer = web.submit(confirm)

    assert answer.status_code == 303
    assert location(answer) == (
        "/queue",
        {"account": [ACCOUNT_1], "done": ["retry_all"], "n": ["3"]},
    )
    assert status_of(env, *mine) == ["pending"] * 3
    assert status_of(env, later, *theirs, waiting) == ["failed", "failed", "failed", "pending"]
    assert [env.queue_row(i)["attempts"] for i in mine] == [0, 0, 0]
    assert notice_of(web.page(answer.headers["location"])) == "3 item(s) retried."
    (entry,) = log_entries(env)
    assert (entry.source, entry.action, entry.items) == ("dashboard", "retry_all", 3)
    assert (entry.platform, entry.account_id, entry.target) == (
        None,
        ACCOUNT_1,
        f"account={ACCOUNT_1} status=failed",
    )


def test_bulk_cancel_cancels_the_pending_rows_matching_the_search(web: Web) -> None:
    env = web.env
    matching = seed(env, [Row("B0BC00001"), Row("B0BC00002", account=ACCOUNT_2)])
    failed, other = seed(env, [Row("B0BC00003", status="failed"), Row("B0BX00001")])
    page = web.page("/queue?q=B0BC&lang=ja")

    confirmation = web.submit(form_with(page, "bulk-cancel_all"))

    assert confirmation.status_code == 200
    assert "この条件に該当する待機中 2 件をキャンセルしますか?" in text_of(confirmation.text)
    confirm = form_with(confirmation.text, "confirm-button")
    assert confirm.action == "/queue/bulk?lang=ja"
    answer = web.submit(confirm)
    assert answer.status_code == 303
    assert location(answer) == (
        "/queue",
        {"q": ["B0BC"], "done": ["cancel_all"], "n": ["2"], "lang": ["ja"]},
    )
    assert status_of(env, *matching, failed, other) == [
        "cancelled",
        "cancelled",
        "failed",
        "pending",
    ]
    assert notice_of(web.page(answer.headers["location"])) == "2 件をキャンセルしました。"
    (entry,) = log_entries(env)
    assert (entry.action, entry.items, entry.target) == ("cancel_all", 2, "status=pending q=B0BC")


def test_unknown_or_malformed_actions_answer_404_or_400_and_change_nothing(web: Web) -> None:
    (item,) = seed(web.env, [Row("B0BF00001", status="failed")])
    token = web.token()

    def bulk(**fields: str) -> httpx2.Response:
        return web.post("/queue/bulk", {"csrf_token": token, **fields})

    assert web.post(f"/items/{item + 1}/retry", {"csrf_token": token}).status_code == 404
    assert web.post(f"/items/{item}/delete", {"csrf_token": token}).status_code == 404
    assert web.post(f"/items/{item}/success", {"csrf_token": token}).status_code == 404

    unknown = bulk(action="delete_all")
    assert unknown.status_code == 400
    assert "Bad request: unknown action &#39;delete_all&#39;" in unknown.text
    assert bulk(action="retry_all", upto="12x").status_code == 400
    assert "upto must be a queue id" in text_of(bulk(action="retry_all", upto="-1").text)
    bad = bulk(action="retry_all", priority="99")
    assert bad.status_code == 400
    assert "priority must be 1 to 20" in text_of(bad.text)
    assert status_of(web.env, item) == ["failed"]

    nothing = bulk(action="cancel_all", account=ACCOUNT_1)
    assert nothing.status_code == 200
    assert 'data-count="0"' in nothing.text
    assert "confirm-button" in form_with(nothing.text, "confirm-button").disabled
    assert log_entries(web.env) == []


def test_pause_with_a_reason_and_until_then_resume(web: Web) -> None:
    env = web.env
    (item,) = seed(env, [Row("B0PA00001", account=ACCOUNT_2)])
    page = web.page("/")

    answer = web.submit(
        form_with(page, "pause-form"),
        account=f"base/{ACCOUNT_2}",
        reason="Holiday sale",
        until="2h",
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/?done=pause"
    with env.engine.connect() as conn:
        pause = pauses.read_pause(conn, PLATFORM, ACCOUNT_2, START)
    assert pause is not None
    assert (pause.reason, pause.until) == ("operator: Holiday sale", START + 2 * ONE_HOUR)
    with env.engine.connect() as conn:
        assert pauses.read_pause(conn, PLATFORM, ACCOUNT_1, START) is None
    page = web.page(answer.headers["location"])
    assert "Paused: operator: Holiday sale (until 2026-01-04 18:00)" in text_of(
        account_row(page, PLATFORM, ACCOUNT_2)
    )
    assert reasons_of(web.page(f"/items/{item}"))["paused"] == (
        "account paused: operator: Holiday sale — until 2026-01-04 18:00"
    )
    resume = next(f for f in post_forms(page) if f.action == "/accounts/resume")
    assert resume.fields["account"] == f"base/{ACCOUNT_2}"
    env.clock.set(START + ONE_HOUR)

    answer = web.submit(resume)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/?done=resume"
    with env.engine.connect() as conn:
        assert pauses.read_pause(conn, PLATFORM, ACCOUNT_2, START + ONE_HOUR) is None
    page = web.page(answer.headers["location"])
    assert "working" in text_of(account_row(page, PLATFORM, ACCOUNT_2))
    assert "paused" not in reasons_of(web.page(f"/items/{item}"))
    entries = log_entries(env)
    assert [(e.action, e.platform, e.account_id, e.target) for e in entries] == [
        ("pause", PLATFORM, ACCOUNT_2, f"base/{ACCOUNT_2}"),
        ("resume", PLATFORM, ACCOUNT_2, f"base/{ACCOUNT_2}"),
    ]
    assert entries[0].detail == "Holiday sale (until 2026-01-05T02:00:00+00:00)"
    assert [e.at for e in entries] == [START, START + ONE_HOUR]
    assert {e.source for e in entries} == {"dashboard"}


def test_pause_until_is_read_in_the_accounts_zone_and_bad_input_is_refused(web: Web) -> None:
    token = web.token()

    def pause(**fields: str) -> httpx2.Response:
        return web.post("/accounts/pause", {"csrf_token": token, **fields})

    for until, why in {
        "soon": "is neither a duration (2h, 30m, 1d) nor a date-time",
        "400d": "is more than 366 days ahead",
        "2026-01-05 08:00": "is not in the future",  # an hour ago in Tokyo
    }.items():
        answer = pause(account=f"base/{ACCOUNT_1}", until=until)
        assert answer.status_code == 400, until
        assert why in text_of(answer.text), until
    for account in ("base/nobody", f"ebay/{ACCOUNT_1}", ACCOUNT_1, "", f"fake/{ACCOUNT_1}"):
        assert pause(account=account).status_code == 404, account
    deleting = web.post("/accounts/delete", {"csrf_token": token, "account": f"base/{ACCOUNT_1}"})
    assert deleting.status_code == 404
    assert pauses.active_pauses(web.env.engine, START) == []
    assert log_entries(web.env) == []

    form = form_with(web.page("/"), "pause-form")

    la_pause = web.submit(form, account=f"base/{ACCOUNT_2}", until="2026-01-05 09:00")
    open_pause = web.submit(form, account=f"fake/{FAKE_ACCOUNT}", reason="")
    assert la_pause.status_code == open_pause.status_code == 303

    with web.env.engine.connect() as conn:
        la = pauses.read_pause(conn, PLATFORM, ACCOUNT_2, START)
        fake = pauses.read_pause(conn, FAKE, FAKE_ACCOUNT, START)
    assert la is not None and fake is not None
    assert la.until == datetime.fromisoformat("2026-01-05T17:00:00+00:00")  # 09:00 in LA
    assert (fake.reason, fake.until) == ("operator: paused by the operator", None)
    page = web.page("/")
    assert "(until 2026-01-05 09:00)" in text_of(account_row(page, PLATFORM, ACCOUNT_2))
    assert "(until resumed)" in text_of(account_row(page, FAKE, FAKE_ACCOUNT))


def test_the_overview_says_what_the_pause_or_resume_did(web: Web) -> None:
    """Pause and resume answer 303 to `/?done=pause|resume`, as the item and bulk actions
    answer to pages that say "Item retried." or "3 item(s) retried."; the overview must
    say "Account paused." / "Account resumed." the same way."""
    form = form_with(web.page("/"), "pause-form")
    paused = web.submit(form, account=f"base/{ACCOUNT_1}")
    assert paused.headers["location"] == "/?done=pause"
    assert notice_of(web.page(paused.headers["location"])) == "Account paused."
    resumed = web.post("/accounts/resume", {**form.fields, "account": f"base/{ACCOUNT_1}"})
    assert resumed.headers["location"] == "/?done=resume"
    assert notice_of(web.page("/?done=resume&lang=ja")) == "再開しました。"


def test_the_pause_and_resume_forms_keep_the_pages_language(web: Web) -> None:
    """The item and bulk forms post to `…?lang=ja` from a `?lang=ja` page, so the page
    after the action is Japanese again; the overview's pause and resume forms must too."""
    pauses.pause(web.env.engine, PLATFORM, ACCOUNT_2, until=None, reason="", now=START)
    page = web.page("/?lang=ja")

    paused = web.submit(form_with(page, "pause-form"), account=f"base/{ACCOUNT_1}")
    resumed = web.submit(
        next(f for f in post_forms(page) if f.action.startswith("/accounts/resume"))
    )

    assert paused.status_code == resumed.status_code == 303
    assert location(paused) == ("/", {"done": ["pause"], "lang": ["ja"]})
    assert location(resumed) == ("/", {"done": ["resume"], "lang": ["ja"]})


def test_the_language_link_of_a_page_answering_a_post_leads_to_a_page(web: Web) -> None:
    """The confirmation and a refused form are answers to a POST: their "日本語" link
    (`?lang=ja` on the address they answered) must not lead to a GET of /queue/bulk."""
    seed(web.env, [Row("B0LL00001", status="failed")])
    confirmation = web.submit(form_with(web.page("/queue"), "bulk-retry_all"))
    assert confirmation.status_code == 200
    found = re.search(r'<a class="lang" href="([^"]*)"', confirmation.text)
    assert found

    target = urlsplit(str(confirmation.url.join(html.unescape(found.group(1)))))

    answer = web.client.get(f"{target.path}?{target.query}")
    assert answer.status_code == 200, (target.path, answer.status_code)


# ====================================================================== security


def test_a_post_without_the_token_of_its_cookie_is_refused_with_403(web: Web) -> None:
    env = web.env
    failed, pending = seed(env, [Row("B0CS00001", status="failed"), Row("B0CS00002")])
    token = web.token()
    actions: dict[str, dict[str, str]] = {
        f"/items/{failed}/retry": {},
        f"/items/{pending}/cancel": {},
        "/queue/bulk": {"action": "retry_all", "upto": str(failed)},
        "/accounts/pause": {"account": f"base/{ACCOUNT_1}", "reason": "x"},
        "/accounts/resume": {"account": f"base/{ACCOUNT_1}"},
    }
    with client_for(web.app) as other:
        other_token = form_with(other.get("/").text, "pause-form").fields["csrf_token"]
        assert other.cookies[CSRF_COOKIE] != web.client.cookies[CSRF_COOKIE]
        assert other_token != token
        for path, fields in actions.items():
            refusals = {
                "no token": web.post(path, fields),
                "empty token": web.post(path, {**fields, "csrf_token": ""}),
                "wrong token": web.post(path, {**fields, "csrf_token": "0" * 64}),
                "another cookie's token": web.post(path, {**fields, "csrf_token": other_token}),
                "a token and no cookie": TestClient(web.app, base_url=BASE_URL).post(
                    path, data={**fields, "csrf_token": token}, follow_redirects=False
                ),
            }
            for case, answer in refusals.items():
                assert answer.status_code == 403, (path, case)
                assert "location" not in answer.headers, (path, case)
                assert "CSRF token missing or invalid" in answer.text, (path, case)
                assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert status_of(env, failed, pending) == ["failed", "pending"]
    assert pauses.active_pauses(env.engine, START) == []
    assert log_entries(env) == []
    # The same request with its own token is done.
    assert web.post(f"/items/{failed}/retry", {"csrf_token": token}).status_code == 303


def test_a_cross_site_origin_is_refused_and_the_same_origin_allowed(web: Web) -> None:
    env = web.env
    (failed,) = seed(env, [Row("B0OR00001", status="failed")])
    token = {"csrf_token": web.token()}
    path = f"/items/{failed}/retry"
    for headers in (
        {"origin": "http://evil.example"},
        {"origin": "http://127.0.0.1:9999"},
        {"origin": "null"},
        {"referer": "http://evil.example/page"},
        {"origin": "http://evil.example", "referer": f"{BASE_URL}/"},
    ):
        answer = web.post(path, token, headers=headers)
        assert answer.status_code == 403, headers
        assert answer.text == "cross-site request refused (Origin)"
        assert "location" not in answer.headers
        assert answer.headers["x-frame-options"] == "DENY"
    assert status_of(env, failed) == ["failed"]

    answer = web.post(path, token, headers={"origin": BASE_URL})
    assert answer.status_code == 303
    assert status_of(env, failed) == ["pending"]
    assert (
        web.post(
            "/accounts/pause",
            {**token, "account": f"base/{ACCOUNT_1}"},
            headers={"referer": f"{BASE_URL}/?lang=ja"},
        ).status_code
        == 303
    )


def test_read_only_refuses_every_post_and_shows_no_form_that_posts(web: Web) -> None:
    env = web.env
    failed, pending = seed(env, [Row("B0RO00001", status="failed"), Row("B0RO00002")])
    pauses.pause(env.engine, PLATFORM, ACCOUNT_2, until=None, reason="", now=START)
    board = Dashboard(env.settings, env.engine, env.clock, read_only=True)
    with client_for(create_app(board)) as client:
        for path in (
            "/",
            "/?fragment=overview",
            "/queue",
            f"/items/{failed}",
            f"/items/{pending}",
            "/schedule",
            "/activity",
        ):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert post_forms(answer.text) == [], path
            assert "csrf_token" not in answer.text, path
            if "fragment" not in path:
                assert "Read only: actions are refused." in answer.text, path
        token = {"csrf_token": board.csrf.token_for(client.cookies[CSRF_COOKIE])}
        for path, fields in {
            f"/items/{failed}/retry": {},
            f"/items/{pending}/cancel": {},
            "/queue/bulk": {"action": "retry_all", "upto": str(failed)},
            "/accounts/pause": {"account": f"base/{ACCOUNT_1}"},
            "/accounts/resume": {"account": f"base/{ACCOUNT_2}"},
        }.items():
            answer = client.post(
                path, data={**token, **fields}, headers=SAME_ORIGIN, follow_redirects=False
            )
            assert answer.status_code == 403, path
            assert answer.text == "read only: actions are refused"
            assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert status_of(env, failed, pending) == ["failed", "pending"]
    assert [p.account_id for p in pauses.active_pauses(env.engine, START)] == [ACCOUNT_2]
    assert log_entries(env) == []


def test_logins_operator_acts_viewer_only_reads_healthz_is_open(web: Web) -> None:
    env = web.env
    (failed,) = seed(env, [Row("B0LG00001", status="failed")])
    credentials = Credentials(operator=OPERATOR_LOGIN, viewer=VIEWER_LOGIN)
    app = create_app(web.board, credentials)
    operator = (OPERATOR_LOGIN.username, OPERATOR_LOGIN.password)
    viewer = (VIEWER_LOGIN.username, VIEWER_LOGIN.password)
    with client_for(app) as client:
        for path in (
            "/",
            "/queue",
            f"/items/{failed}",
            "/schedule",
            "/activity",
            "/metrics",
            "/static/dashboard.js",
        ):
            for auth in (
                None,
                ("boss", "wrong"),
                ("boss", VIEWER_LOGIN.password),
                ("nobody", "op-secret-4711"),
            ):
                answer = client.get(path, auth=auth)
                assert answer.status_code == 401, (path, auth)
                assert answer.headers["www-authenticate"].startswith(
                    'Basic realm="upload-scheduler"'
                )
                assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                assert CSRF_COOKIE not in answer.headers.get("set-cookie", "")
        garbled = client.get("/", headers={"authorization": "Basic not-base64!"})
        assert garbled.status_code == 401
        assert client.get("/healthz").status_code == 200

        page = client.get(f"/items/{failed}", auth=viewer)
        assert page.status_code == 200
        assert post_forms(page.text) == []
        assert "Read only: actions are refused." in page.text
        token = {"csrf_token": web.board.csrf.token_for(client.cookies[CSRF_COOKIE])}
        refused = client.post(
            f"/items/{failed}/retry",
            data=token,
            auth=viewer,
            headers=SAME_ORIGIN,
            follow_redirects=False,
        )
        assert (refused.status_code, refused.text) == (403, "read only: actions are refused")
        assert status_of(env, failed) == ["failed"]
        nobody = client.post(
            f"/items/{failed}/retry", data=token, headers=SAME_ORIGIN, follow_redirects=False
        )
        assert nobody.status_code == 401

        page = client.get(f"/items/{failed}", auth=operator)
        assert page.status_code == 200
        form = form_with(page.text, "item-retry")
        done = client.post(
            form.action,
            data=form.fields,
            auth=operator,
            headers=SAME_ORIGIN,
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert status_of(env, failed) == ["pending"]
    (entry,) = log_entries(env)
    assert (entry.actor, entry.action) == ("boss", "retry")


def test_security_headers_on_pages_metrics_and_refusals(web: Web) -> None:
    seed(web.env, [Row("B0HD00001")])
    with client_for(create_app(web.board, Credentials(OPERATOR_LOGIN))) as locked:
        answers = {
            "page": web.client.get("/"),
            "fragment": web.client.get("/?fragment=overview"),
            "metrics": web.client.get("/metrics"),
            "static": web.client.get("/static/dashboard.js"),
            "healthz": web.client.get("/healthz"),
            "404": web.client.get("/items/424242"),
            "400": web.client.get("/queue?status=lost"),
            "405": web.client.get("/queue/bulk"),
            "403 csrf": web.post("/queue/bulk", {"action": "retry_all"}),
            "403 origin": web.post("/queue/bulk", {}, headers={"origin": "http://evil.example"}),
            "401": locked.get("/"),
        }
    for name, answer in answers.items():
        headers = answer.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, name
        assert "frame-ancestors 'none'" in headers["content-security-policy"], name
        assert "script-src 'self';" in headers["content-security-policy"], name
        assert headers["x-frame-options"] == "DENY", name
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["cache-control"] == "no-store", name
    # The CSRF cookie: set once, out of scripts' reach, never sent by another site.
    first = answers["page"].headers["set-cookie"]
    assert first.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in first
    assert "SameSite=strict" in first
    assert "set-cookie" not in web.client.get("/queue").headers
    # No inline script or style anywhere, as the policy requires.
    page = web.page("/")
    assert re.findall(r"<script\b[^>]*>", page) == [
        '<script src="/static/vendor/htmx-2.0.11/htmx.min.js" defer>',
        '<script src="/static/dashboard.js" defer>',
    ]
    assert "<style" not in page
    assert " style=" not in page


def test_text_from_shops_apis_and_operators_is_escaped_on_every_page(web: Web) -> None:
    env = web.env
    (item,) = seed(
        env, [Row("B0XS00001", title=f"Mug {XSS}", status="failed", error=f"API said {XSS}")]
    )
    move(env, item, "pending", attempts=0, error=None)
    move(env, item, "failed", attempts=1, error=f"again {XSS}")
    form = form_with(web.page("/"), "pause-form")
    assert (
        web.submit(form, account=f"base/{ACCOUNT_1}", reason=f"why {XSS}", until="2h").status_code
        == 303
    )

    pages = {
        "/": "why " + ESCAPED_XSS,
        "/?fragment=overview": "why " + ESCAPED_XSS,
        "/queue": "Mug " + ESCAPED_XSS,
        f"/items/{item}": "again " + ESCAPED_XSS,
        "/activity": "why " + ESCAPED_XSS,
        f"/queue?q={XSS}": 'value="' + ESCAPED_XSS,
    }
    for path, escaped in pages.items():
        text = web.page(path)
        assert "<script>alert" not in text, path
        assert escaped in text, path
    assert f"Mug {ESCAPED_XSS}" in web.page(f"/items/{item}")
    bad = web.client.get("/queue?status=<script>")
    assert bad.status_code == 400
    bulk = web.post("/queue/bulk", {"csrf_token": form.fields["csrf_token"], "action": XSS})
    assert bulk.status_code == 400
    assert "<script>alert" not in bulk.text
    assert f"unknown action &#34;{ESCAPED_XSS}" in bulk.text


def test_no_token_or_secret_ever_reaches_a_page_or_the_metrics(web: Web) -> None:
    env = web.env
    (item,) = seed(env, [Row("B0SE00001")])
    access, refresh = "ACCESS-tok-5e1c2d3f4a", "REFRESH-tok-9b8a7c6d5e"
    TokenStore(env.engine, PLATFORM).save_login(
        ACCOUNT_1, TokenGrant(access, refresh, "bearer", 3600, None), START
    )
    seen = "".join(
        web.page(path)
        for path in (
            "/",
            "/?fragment=overview",
            "/queue",
            f"/items/{item}",
            "/schedule",
            "/activity",
            "/metrics",
        )
    )
    assert "login_expiry_timestamp_seconds" in seen  # the login is read, and shown
    for secret in (access, refresh, "ACCESS-tok", "REFRESH-tok"):
        assert secret not in seen


def test_activity_pages_keep_the_account_filter(web: Web) -> None:
    """The activity page filters by `account` from the address; its "Older" link must
    keep that filter as it keeps platform and source."""
    stamps = {"actor": "op@host", "source": "cli", "action": "retry", "items": 1}
    with web.env.engine.begin() as conn:
        conn.execute(
            activity_log.insert(),
            [
                {
                    **stamps,
                    "at": START + timedelta(minutes=n),
                    "platform": PLATFORM,
                    "account_id": ACCOUNT_1 if n % 4 else ACCOUNT_2,
                    "target": f"entry {n}",
                    "detail": "",
                }
                for n in range(140)
            ],
        )
    mine = [f"entry {n}" for n in reversed(range(140)) if n % 4]  # 105, newest first

    first = web.page(f"/activity?account={ACCOUNT_1}")
    older = link(first, "next")
    assert older is not None
    second = web.page(older)

    shown = [r["target"] for r in activity_rows(first) + activity_rows(second)]
    assert shown == mine
    assert link(second, "next") is None
