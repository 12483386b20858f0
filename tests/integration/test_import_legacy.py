"""import-legacy against an old root built by tests/legacy_fixtures.py, on a real
SQLite file: what comes along, what is reported, the written configuration, tokens,
idempotency, dry runs, and that the old files are never touched."""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from tests.legacy_fixtures import (
    ACCESS_1,
    ACCOUNT_1,
    ACCOUNT_2,
    CLIENT_ID,
    INACTIVE,
    MARKER,
    REFRESH_1,
    SECRET_1,
    SECRET_2,
    build_old_root,
    snapshot,
)
from upload_scheduler.clock import SystemClock
from upload_scheduler.config import load_settings
from upload_scheduler.legacy import ImportReport, LegacyError, import_legacy
from upload_scheduler.legacy.config_writer import secret_lines
from upload_scheduler.legacy.settings_parse import parse_settings
from upload_scheduler.legacy.values import BadTime, local_time
from upload_scheduler.platforms.thebase.client import BaseClient
from upload_scheduler.platforms.thebase.token_store import TokenStore
from upload_scheduler.platforms.thebase.tokens import TokenManager
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, oauth_tokens, products, upload_queue

NOW = datetime(2025, 11, 28, 3, 0, tzinfo=UTC)


def run(tmp_path: Path, old_root: Path, **options: object) -> ImportReport:
    return import_legacy(old_root, tmp_path / "upload-scheduler.toml", now=NOW, **options)  # type: ignore[arg-type]


def engine_for(tmp_path: Path) -> Engine:
    return open_database(load_settings(tmp_path / "upload-scheduler.toml").database_url)


def dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in (products, listings, upload_queue, oauth_tokens)
        }


def reasons(report: ImportReport) -> set[tuple[str, str, str]]:
    return {(s.table, s.old_id, s.reason) for s in report.skipped}


def test_rows_come_along_with_their_statuses_times_and_ids(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    report = run(tmp_path, old.root)
    engine = engine_for(tmp_path)
    with engine.connect() as conn:
        found = {
            r.asin: r
            for r in conn.execute(select(listings)).all()  # one listing per product here
        }
        queue = {r.asin: r for r in conn.execute(select(upload_queue)).all()}
        prices = dict(conn.execute(select(products.c.asin, products.c.price)).all())
        titles = dict(conn.execute(select(products.c.asin, products.c.title)).all())

    # Listed items keep their platform ids, so they are never uploaded again; sold is listed.
    assert (found["B0LISTED01"].status, found["B0LISTED01"].platform_item_id) == (
        "listed",
        "123456",
    )
    assert found["B0LISTED01"].listed_at == datetime(2025, 11, 20, 1, 0, tzinfo=UTC)
    assert (found["B0SOLD0001"].status, found["B0SOLD0001"].platform_item_id) == (
        "listed",
        "222222",
    )
    assert found["B0DELISTED"].status == "delisted"
    # A live queue row makes its listing queued; without one it is pending again.
    assert found["B0QUEUED01"].status == "queued"
    assert found["B0BADTIME1"].status == "pending"
    assert found["B0INACTIVE"].status == "pending"
    # The unassigned listing is given the account of the queue row that worked on it.
    assert (found["B0UNASSIGN"].account_id, found["B0UNASSIGN"].status) == (ACCOUNT_2, "queued")
    assert "B0NOPRICE1" not in found and "B0GHOST002" not in found

    # Naive JST times become UTC; priority 0 (the old default) is normal, 50 is clamped.
    row = queue["B0QUEUED01"]
    assert row.scheduled_time == datetime(2025, 11, 28, 5, 24, 10, tzinfo=UTC)
    assert row.created_at == datetime(2025, 11, 27, 11, 0, tzinfo=UTC)
    assert (row.priority, row.status, row.attempts, row.kind) == (5, "pending", 0, "upload")
    assert row.listing_id == found["B0QUEUED01"].id
    assert queue["B0DUPQUEUE"].priority == 10
    assert queue["B0PRIORITY"].priority == 20
    assert queue["B0UNASSIGN"].scheduled_time == datetime(2025, 11, 28, 21, 0, tzinfo=UTC)
    # The interrupted upload is looked up on the shop before it is created again.
    assert queue["B0UPLOADIN"].call_started_at == datetime(2025, 11, 27, 11, 0, tzinfo=UTC)
    assert queue["B0QUEUED01"].call_started_at is None
    assert set(queue) == {"B0QUEUED01", "B0DUPQUEUE", "B0UPLOADIN", "B0UNASSIGN", "B0PRIORITY"}

    # Prices are whole yen, half up; a product without a priced listing keeps the Amazon
    # price as a record; the English title stands in for a missing Japanese one.
    assert prices["B0PENDING1"] == 2481 and prices["B0QUEUED01"] == 1980
    assert prices["B0NOPRICE1"] == 3000
    assert "B0NOPRICE2" not in prices
    assert titles["B0PENDING1"] == "English title only"

    assert reasons(report) >= {
        ("listings", "14", "listing without a product"),
        ("upload_queue", "3", "duplicate queue row"),
        ("upload_queue", "4", "duplicate queue row"),
        ("upload_queue", "7", "bad time"),
        ("upload_queue", "8", "orphan queue row: no such product"),
        ("upload_queue", "9", "orphan queue row: no listing of this product for this account"),
        ("listings", "3", "needs a price (no selling_price)"),
        ("upload_queue", "10", "its listing needs a price"),
        ("upload_queue", "15", "the item is already listed in the old database"),
        ("oauth_tokens", "base_account_9_token.json", "unusable token file"),
    }
    assert any(s.old_id == "6" and s.reason.startswith("account not under") for s in report.skipped)
    assert ("products", "B0NOPRICE2", "no price") in reasons(report)
    # Every old row is accounted for: added, already here, not carried or left behind.
    for name, counts in report.tables.items():
        for status, old_count in counts.old.items():
            carried = counts.added[status] + counts.already[status]
            dropped = counts.not_carried[status] + counts.left_behind[status]
            assert carried + dropped == old_count, (name, status)
    assert report.tables["upload_queue"].left_behind == Counter({"success": 1, "failed": 1})
    assert report.tables["listings"].new == {"queued": 5, "pending": 3, "listed": 2, "delisted": 1}


def test_the_written_config_is_private_valid_and_per_account(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    report = run(tmp_path, old.root)
    path = tmp_path / "upload-scheduler.toml"
    assert report.config.written and not report.config.existed
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = load_settings(path)
    assert settings.accounts == {"base": [ACCOUNT_1, ACCOUNT_2]}
    left_out = {(p, a): why for p, a, why in report.config.left_out}
    assert left_out[("base", INACTIVE)] == "inactive in account_config.json"
    # UPLOAD_ACCOUNTS names an eBay account, but this old system has no eBay module's
    # account file: without an adapter, or without credentials, it is left out.
    assert re.search("no adapter|no eBay credentials", left_out[("ebay", "ebay_account_1")])
    # A Yahoo! store: the old system keeps nothing of it to bring over (no seller_id, no
    # login), so it is left out with the way to add it, not written into an invalid file.
    assert "add the store by hand" in left_out[("yahoo", "yahoo_account_1")]
    one, two = settings.account("base", ACCOUNT_1), settings.account("base", ACCOUNT_2)
    assert (one.interval_seconds, one.batch_size) == (30, 15)
    assert (one.business_hours_start, one.business_hours_end) == (7, 22)
    assert (two.business_hours_start, two.business_hours_end) == (9, 18)
    assert (one.daily_limit, two.daily_limit, one.hour_call_limit) == (1000, 500, 4000)
    assert one.client_id == two.client_id == CLIENT_ID
    # Each shop keeps its own OAuth secret, and a token refresh uses it.
    assert settings.client_secret("base", ACCOUNT_1) == SECRET_1
    assert settings.client_secret("base", ACCOUNT_2) == SECRET_2
    assert "client_secret" not in two.public_dict()
    client = BaseClient()
    tokens = TokenManager(settings, engine_for(tmp_path), SystemClock(), client)
    tokens.check_configuration()
    assert tokens.client_secret(ACCOUNT_2) == SECRET_2  # what login and refresh send
    assert tokens.client_secret(ACCOUNT_1) == SECRET_1
    client.close()
    assert any("log_level" in note for note in report.notes)
    # The old settings module was read as data, never run.
    assert not (old.settings_file.parent / MARKER).exists()


def test_secrets_to_env_keeps_them_out_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build_old_root(tmp_path)
    report = run(tmp_path, old.root, secrets_to_env=True)
    text = (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8")
    assert SECRET_1 not in text and SECRET_2 not in text
    variables = report.config.secret_variables
    assert variables == {
        "BASE_CLIENT_SECRET": SECRET_1,
        "BASE_CLIENT_SECRET_BASE_ACCOUNT_2": SECRET_2,
    }
    assert secret_lines(variables, windows=False)[0] == f"export BASE_CLIENT_SECRET={SECRET_1}"
    assert (
        secret_lines(variables, windows=True)[1]
        == f"set BASE_CLIENT_SECRET_BASE_ACCOUNT_2={SECRET_2}"
    )
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(tmp_path / "upload-scheduler.toml")
    assert settings.client_secret("base", ACCOUNT_2) == SECRET_2
    assert settings.client_secret("base") == SECRET_1
    assert SECRET_1 not in repr(report) and SECRET_1 not in str(report.to_json())


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    first = run(tmp_path, old.root)
    config_before = (tmp_path / "upload-scheduler.toml").read_bytes()
    rows_before = dump(engine_for(tmp_path))
    second = run(tmp_path, old.root)
    assert second.rows_added == 0 and not second.changed
    assert second.config.existed and not second.config.written
    assert (tmp_path / "upload-scheduler.toml").read_bytes() == config_before
    assert dump(engine_for(tmp_path)) == rows_before
    for name in ("products", "listings", "upload_queue", "oauth_tokens"):
        assert second.tables[name].already == first.tables[name].added, name
        assert second.tables[name].new == first.tables[name].new, name
    assert reasons(second) == reasons(first)


def test_a_queue_row_the_daemon_finished_is_not_added_again(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    run(tmp_path, old.root)
    engine = engine_for(tmp_path)
    with engine.begin() as conn:  # as if the daemon had uploaded it meanwhile
        conn.execute(
            upload_queue.update()
            .where(upload_queue.c.asin == "B0QUEUED01")
            .values(status="success")
        )
        conn.execute(
            listings.update()
            .where(listings.c.asin == "B0QUEUED01")
            .values(status="listed", platform_item_id="999")
        )
    again = run(tmp_path, old.root)
    assert again.rows_added == 0
    assert ("upload_queue", "1", "its listing was already here; not queued again") in reasons(again)
    with engine.connect() as conn:
        rows = conn.execute(
            select(upload_queue.c.status).where(upload_queue.c.asin == "B0QUEUED01")
        ).all()
    assert rows == [("success",)]


def test_a_dry_run_writes_nothing_and_reports_the_same(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    dry = run(tmp_path, old.root, dry_run=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old-system"]
    assert not dry.config.written and dry.changed
    real = run(tmp_path, old.root)
    for name in ("products", "listings", "upload_queue", "oauth_tokens"):
        assert dry.tables[name].to_json() == real.tables[name].to_json(), name
    assert reasons(dry) == reasons(real)
    assert dry.config.accounts == real.config.accounts

    # On an existing database, a dry run reads it and still writes nothing.
    rows = dump(engine_for(tmp_path))
    again = run(tmp_path, old.root, dry_run=True)
    assert again.rows_added == 0 and not again.changed
    assert dump(engine_for(tmp_path)) == rows


def test_the_old_files_are_never_changed(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    before = snapshot(old.root)
    run(tmp_path, old.root)
    run(tmp_path, old.root)
    assert snapshot(old.root) == before  # same files (no journal, WAL or index), bytes, mtimes


def test_tokens_are_stored_in_utc_and_never_replaced(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    report = run(tmp_path, old.root)
    engine = engine_for(tmp_path)
    store = TokenStore(engine, "base")
    record = store.get(ACCOUNT_1)
    assert record is not None
    assert (record.access_token, record.refresh_token) == (ACCESS_1, REFRESH_1)
    assert record.expires_at == datetime(2025, 11, 28, 6, 0, tzinfo=UTC)
    assert record.obtained_at == datetime(2025, 11, 28, 5, 0, tzinfo=UTC)
    assert record.token_type == "bearer" and record.login_required is None
    assert report.tables["oauth_tokens"].added == Counter({"rows": 1})
    assert not store.import_token(
        ACCOUNT_1,
        access_token="newer",
        refresh_token="newer",
        token_type="bearer",
        expires_at=NOW,
        obtained_at=NOW,
        refresh_token_obtained_at=NOW,
        now=NOW,
    )
    stored = store.get(ACCOUNT_1)
    assert stored is not None and stored.access_token == ACCESS_1


def test_an_existing_config_is_used_and_its_accounts_decide(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    config = tmp_path / "upload-scheduler.toml"
    config.write_text(
        f'database = "sqlite:///mine.db"\ntimezone = "UTC"\n[accounts]\nbase = ["{ACCOUNT_1}"]\n',
        encoding="utf-8",
    )
    before = config.read_bytes()
    report = run(tmp_path, old.root)
    assert config.read_bytes() == before and report.config.existed
    assert (tmp_path / "mine.db").is_file()
    assert any(ACCOUNT_2 in note and "existing configuration" in note for note in report.notes)
    engine = open_database(f"sqlite:///{tmp_path / 'mine.db'}")
    with engine.connect() as conn:
        queued = dict(
            conn.execute(select(upload_queue.c.asin, upload_queue.c.scheduled_time)).all()
        )
    assert "B0DUPQUEUE" not in queued  # base_account_2 is not configured here
    # The configured zone reads the old times: UTC now, so 14:24 stays 14:24.
    assert queued["B0QUEUED01"] == datetime(2025, 11, 28, 14, 24, 10, tzinfo=UTC)


def test_an_invalid_existing_config_stops_the_import(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    (tmp_path / "upload-scheduler.toml").write_text("[daemon]\nbatch_size = 0\n", encoding="utf-8")
    with pytest.raises(LegacyError, match="existing configuration is not valid"):
        run(tmp_path, old.root)
    assert not (tmp_path / "data").exists()


def test_without_a_master_db_nothing_happens(tmp_path: Path) -> None:
    with pytest.raises(LegacyError, match="does not exist"):
        run(tmp_path, tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LegacyError, match="no master database"):
        run(tmp_path, tmp_path / "empty")
    not_sqlite = build_old_root(tmp_path / "x")
    not_sqlite.master_db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LegacyError, match="SQLite"):
        run(tmp_path, not_sqlite.root)
    assert not (tmp_path / "upload-scheduler.toml").exists()


def test_thousands_of_rows_and_duplicates_span_many_chunks(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, extra_products=1200)
    seen: list[tuple[int, int]] = []
    report = import_legacy(
        old.root,
        tmp_path / "upload-scheduler.toml",
        now=NOW,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (1212, 1212) and len(seen) == 3  # chunks of 500 products
    duplicates = [s for s in report.skipped if s.reason == "duplicate queue row"]
    assert len(duplicates) == 1200 + 2
    with engine_for(tmp_path).connect() as conn:
        live = conn.execute(
            select(upload_queue.c.asin).where(upload_queue.c.status == "pending")
        ).all()
    assert len(live) == len({a for (a,) in live}) == 1200 + 5


def test_on_sqlite_and_postgresql_alike(tmp_path: Path, database_url: str) -> None:
    """Our writes are dialect-neutral: the same rows and counts, and nothing twice."""
    old = build_old_root(tmp_path, extra_products=3)
    config = tmp_path / "upload-scheduler.toml"
    config.write_text(
        f'database = "{database_url}"\n[accounts]\nbase = ["{ACCOUNT_1}", "{ACCOUNT_2}"]\n',
        encoding="utf-8",
    )
    dry = run(tmp_path, old.root, dry_run=True)
    first = run(tmp_path, old.root)
    second = run(tmp_path, old.root)
    assert first.rows_added == dry.rows_added == 3 * 3 + 12 + 11 + 5 + 1
    assert second.rows_added == 0
    assert first.tables["upload_queue"].new == {"pending": 8}
    assert first.tables["listings"].new == {"queued": 8, "pending": 3, "listed": 2, "delisted": 1}
    engine = open_database(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            select(upload_queue.c.scheduled_time, upload_queue.c.call_started_at).where(
                upload_queue.c.asin == "B0UPLOADIN"
            )
        ).one()
    engine.dispose()
    assert row == (
        datetime(2025, 11, 28, 5, 24, 10, tzinfo=UTC),
        datetime(2025, 11, 27, 11, 0, tzinfo=UTC),
    )


def test_the_settings_module_is_read_as_literals_only() -> None:
    parsed = parse_settings(
        "import os\n"
        "DAEMON_CONFIG = {'batch_size': 5}\n"
        "DAEMON_CONFIG = {'batch_size': 7}\n"  # the last assignment wins, as when run
        "UPLOAD_ACCOUNTS = dict(base=[os.environ['SHOP']])\n"
        "ACCOUNT_SPECIFIC_CONFIG: dict = {'a': {'interval_seconds': 30}}\n"
    )
    assert parsed.values == {
        "DAEMON_CONFIG": {"batch_size": 7},
        "ACCOUNT_SPECIFIC_CONFIG": {"a": {"interval_seconds": 30}},
    }
    assert parsed.problems == [
        "accounts_config.py line 4: UPLOAD_ACCOUNTS is not a plain literal; ignored"
    ]
    broken = parse_settings("UPLOAD_ACCOUNTS = {")
    assert broken.values == {} and "not valid Python" in broken.problems[0]


def test_old_times_read_in_the_zone_unless_they_carry_an_offset() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local_time("2025-11-28 14:24:10", tokyo) == datetime(2025, 11, 28, 5, 24, 10, tzinfo=UTC)
    assert local_time("2025-11-28T14:24:10.5", tokyo) == datetime(
        2025, 11, 28, 5, 24, 10, 500000, tzinfo=UTC
    )
    assert local_time("2025-11-28T14:24:10+00:00", tokyo) == datetime(
        2025, 11, 28, 14, 24, 10, tzinfo=UTC
    )
    assert local_time("", tokyo) is None
    with pytest.raises(BadTime):
        local_time("28/11/2025", tokyo)
