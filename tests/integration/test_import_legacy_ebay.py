"""import-legacy on an old root with the eBay module's part (tests/legacy_fixtures.py,
`ebay=True`), on a real SQLite file: the eBay accounts in the written configuration,
their tokens with both ends, the eBay listings with their listing and offer ids, the SKU
rule, the report's eBay part, dry runs and idempotence.

The eBay adapter is another engineer's work in progress: `ebay_adapter` makes the
registry report it installed (only the name matters to import-legacy and `config check`)
unless it already is; `no_ebay_adapter` hides it, for the path where it is missing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from tests.legacy_fixtures import (
    ACCOUNT_1,
    ACCOUNT_2,
    EBAY_1,
    EBAY_2,
    EBAY_APP_1,
    EBAY_APP_2,
    EBAY_CERT_1,
    EBAY_CERT_2,
    EBAY_DEV_ID,
    EBAY_INACTIVE,
    EBAY_LOCATION,
    EBAY_RUNAME_1,
    EBAY_RUNAME_2,
    EBAY_SECRETS,
    REFRESH_LIFETIME,
    SECRET_1,
    SECRET_2,
    build_old_root,
    snapshot,
)
from upload_scheduler import defaults
from upload_scheduler.config import load_settings
from upload_scheduler.legacy import ImportReport, import_legacy
from upload_scheduler.legacy import run as legacy_run
from upload_scheduler.legacy.config_writer import plan_config
from upload_scheduler.legacy.ebay import SANDBOX_API_URL, SANDBOX_AUTH_URL, SkuRow, derive_prefixes
from upload_scheduler.legacy.old_files import OldAccounts
from upload_scheduler.platforms import registry
from upload_scheduler.platforms.token_store import TokenStore
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import listings, oauth_tokens, products, upload_queue

NOW = datetime(2025, 11, 28, 3, 0, tzinfo=UTC)
SAVED = datetime(2025, 11, 28, 1, 0, tzinfo=UTC)  # token_saved_at, 10:00 JST
CREATED = datetime(2025, 11, 27, 11, 0, tzinfo=UTC)  # T_CREATED, 20:00 JST
ALL_SECRETS = (SECRET_1, SECRET_2, *EBAY_SECRETS)


def _pretend_installed(monkeypatch: pytest.MonkeyPatch, names: frozenset[str]) -> None:
    monkeypatch.setattr(registry, "installed_platforms", lambda: names)
    monkeypatch.setattr(registry, "is_installed", lambda name: name in names)
    monkeypatch.setattr(legacy_run, "installed_platforms", lambda: names)


@pytest.fixture
def ebay_adapter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not registry.is_installed("ebay"):
        _pretend_installed(monkeypatch, registry.installed_platforms() | {"ebay"})
    yield


@pytest.fixture
def no_ebay_adapter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _pretend_installed(monkeypatch, registry.installed_platforms() - {"ebay"})
    yield


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


def ebay_listings(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(listings).where(listings.c.platform == "ebay")).mappings()
        return {str(r["asin"]): dict(r) for r in rows}


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in ALL_SECRETS:
            assert secret not in text


# ---------------------------------------------------------------------- the configuration


@pytest.mark.usefixtures("ebay_adapter")
def test_ebay_sellers_on_different_app_ids_get_their_own_keys(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    report = run(tmp_path, old.root)
    path = tmp_path / "upload-scheduler.toml"
    settings = load_settings(path, platforms=registry)  # what `config check` loads
    assert settings.accounts == {"base": [ACCOUNT_1, ACCOUNT_2], "ebay": [EBAY_1, EBAY_2]}
    left_out = {(p, a): why for p, a, why in report.config.left_out}
    assert left_out[("ebay", EBAY_INACTIVE)] == "inactive in account_config.json"

    one, two = settings.account("ebay", EBAY_1), settings.account("ebay", EBAY_2)
    # The production seller's keys are the platform's; production hosts are the defaults.
    assert (one.client_id, one.redirect_uri) == (EBAY_APP_1, EBAY_RUNAME_1)
    assert (one.api_base_url, one.auth_base_url) == (defaults.EBAY_API_URL, defaults.EBAY_AUTH_URL)
    assert (one.merchant_location_key, one.day_call_limit) == (EBAY_LOCATION, 5000)
    # The sandbox seller, on its own App ID, has its own keys and the sandbox hosts.
    assert (two.client_id, two.redirect_uri) == (EBAY_APP_2, EBAY_RUNAME_2)
    assert (two.api_base_url, two.auth_base_url) == (SANDBOX_API_URL, SANDBOX_AUTH_URL)
    assert (two.merchant_location_key, two.day_call_limit) == (EBAY_LOCATION, 1000)
    assert settings.client_secret("ebay", EBAY_1) == EBAY_CERT_1
    assert settings.client_secret("ebay", EBAY_2) == EBAY_CERT_2
    assert settings.client_secret("base", ACCOUNT_2) == SECRET_2  # BASE's unchanged
    # Every old SKU but one is "JP-" + ASIN: that is the prefix; USD is eBay's currency.
    assert one.sku_prefix == two.sku_prefix == "JP-"
    assert one.pricing.currency == two.pricing.currency == "USD"
    assert one.day_call_limit_scope == "application"

    text = path.read_text(encoding="utf-8")
    assert "[platforms.ebay]" in text and "[platforms.ebay.pricing]" in text
    assert "[account_overrides.ebay_account_2]" in text
    assert "[account_overrides.ebay_account_1]" not in text
    assert "api.ebay.com" not in text  # production: the default, not written
    assert EBAY_DEV_ID not in text and "dev_id" not in text
    assert any("dev_id is not needed" in note for note in report.notes)
    assert report.config.secrets == "file"
    assert report.ebay is not None
    assert report.ebay.settings == "per account"
    assert report.ebay.environments == {EBAY_1: "production", EBAY_2: "sandbox"}
    assert_no_secret(repr(report), str(report.to_json()), *report.notes)


@pytest.mark.usefixtures("ebay_adapter")
def test_ebay_sellers_on_one_app_id_share_the_platform_keys(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True, ebay_shared_app=True)
    report = run(tmp_path, old.root)
    path = tmp_path / "upload-scheduler.toml"
    settings = load_settings(path, platforms=registry)
    text = path.read_text(encoding="utf-8")
    assert "[platforms.ebay]" in text
    assert "[account_overrides.ebay_account_1]" not in text
    assert "[account_overrides.ebay_account_2]" not in text
    assert text.count(EBAY_CERT_1) == 1 and text.count(EBAY_APP_1) == 1
    for account_id in (EBAY_1, EBAY_2):
        account = settings.account("ebay", account_id)
        assert (account.client_id, account.redirect_uri) == (EBAY_APP_1, EBAY_RUNAME_1)
        assert account.api_base_url == defaults.EBAY_API_URL
        assert account.application == EBAY_APP_1  # one day budget for both
        assert settings.client_secret("ebay", account_id) == EBAY_CERT_1
    assert report.ebay is not None and report.ebay.settings == "shared"


@pytest.mark.usefixtures("ebay_adapter")
def test_secrets_to_env_names_an_ebay_variable_per_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build_old_root(tmp_path, ebay=True)
    report = run(tmp_path, old.root, secrets_to_env=True)
    text = (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8")
    assert_no_secret(text)
    variables = report.config.secret_variables
    assert variables["EBAY_CLIENT_SECRET"] == EBAY_CERT_1
    assert variables["EBAY_CLIENT_SECRET_EBAY_ACCOUNT_2"] == EBAY_CERT_2
    assert variables["BASE_CLIENT_SECRET"] == SECRET_1
    assert report.config.secrets == "environment"
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(tmp_path / "upload-scheduler.toml")
    assert settings.client_secret("ebay", EBAY_2) == EBAY_CERT_2
    assert settings.client_secret("ebay", EBAY_1) == EBAY_CERT_1
    assert_no_secret(repr(report), str(report.to_json()))


@pytest.mark.usefixtures("no_ebay_adapter")
def test_without_an_ebay_adapter_the_config_leaves_ebay_out_but_rows_come(
    tmp_path: Path,
) -> None:
    old = build_old_root(tmp_path, ebay=True)
    report = run(tmp_path, old.root)
    path = tmp_path / "upload-scheduler.toml"
    settings = load_settings(path, platforms=registry)  # config check accepts it
    assert settings.accounts == {"base": [ACCOUNT_1, ACCOUNT_2]}
    text = path.read_text(encoding="utf-8")
    assert "[platforms.ebay" not in text and "ebay_account" not in text
    assert EBAY_APP_1 not in text and EBAY_CERT_1 not in text
    left_out = {(p, a): why for p, a, why in report.config.left_out}
    assert "no adapter" in left_out[("ebay", EBAY_1)]
    assert "no adapter" in left_out[("ebay", EBAY_2)]
    assert any("no eBay adapter is installed" in note for note in report.notes)
    # What is listed on eBay is recorded all the same, and the tokens are kept.
    found = ebay_listings(engine_for(tmp_path))
    assert found["B0EBAYLIST"]["status"] == "listed"
    assert found["B0EBAYLIST"]["offer_id"] == "5000000001"
    assert TokenStore(engine_for(tmp_path), "ebay").get(EBAY_1) is not None
    # The queue rows of accounts that are not configured stay behind.
    assert report.ebay is not None
    assert (report.ebay.queue_added, report.ebay.settings) == (0, "")
    assert report.ebay.environments == {}
    # With no eBay account to check against, the SKUs meet the prefix they suggest.
    assert (report.ebay.sku_prefix, report.ebay.sku_prefix_derived) == ("JP-", True)
    assert report.ebay.sku_mismatches == 1


# ---------------------------------------------------------------------- rows and tokens


@pytest.mark.usefixtures("ebay_adapter")
def test_ebay_listings_keep_listing_and_offer_ids_and_are_never_listed_again(
    tmp_path: Path,
) -> None:
    old = build_old_root(tmp_path, ebay=True)
    report = run(tmp_path, old.root)
    engine = engine_for(tmp_path)
    found = ebay_listings(engine)
    with engine.connect() as conn:
        queue = {
            (r.asin, r.platform): r
            for r in conn.execute(select(upload_queue)).all()
            if r.platform == "ebay" or r.asin == "B0BOTHPEND"
        }
        product = {r.asin: r for r in conn.execute(select(products)).all()}

    listed = found["B0EBAYLIST"]
    assert (listed["status"], listed["account_id"]) == ("listed", EBAY_1)
    assert (listed["platform_item_id"], listed["offer_id"]) == ("110000000001", "5000000001")
    assert listed["listed_at"] == datetime(2025, 11, 20, 1, 0, tzinfo=UTC)
    # Sold is listed; a listing row without the listing id takes it from the metadata.
    sold = found["B0EBAYSOLD"]
    assert (sold["status"], sold["account_id"]) == ("listed", EBAY_2)
    assert (sold["platform_item_id"], sold["offer_id"]) == ("110000000002", "5000000002")
    own_sku = found["B0EBAYNOOF"]
    assert (own_sku["status"], own_sku["platform_item_id"], own_sku["offer_id"]) == (
        "listed",
        "110000000003",
        None,
    )
    # Pending on eBay; the inactive seller's queue row stays behind, so it is pending.
    assert (found["B0EBAYONLY"]["status"], found["B0EBAYONLY"]["offer_id"]) == ("pending", None)
    assert found["B0BOTHPEND"]["status"] == "queued"
    # An item the old module began (an offer, no listing) is looked up before creating it.
    assert (found["B0EBAYBEGN"]["status"], found["B0EBAYBEGN"]["offer_id"]) == (
        "queued",
        "5000000009",
    )
    assert queue["B0EBAYBEGN", "ebay"].call_started_at == CREATED
    assert queue["B0BOTHPEND", "ebay"].call_started_at is None
    assert queue["B0BOTHPEND", "ebay"].account_id == EBAY_1
    assert ("B0EBAYONLY", "ebay") not in queue
    assert any(
        s.old_id == "19" and s.reason.startswith("account not under") for s in report.skipped
    )

    # Dollar prices never become a product's yen price: BASE's yen price, else Amazon's.
    assert product["B0BOTHPEND"].price == 2500
    assert product["B0EBAYONLY"].price == 3000
    assert (product["B0EBAYONLY"].title, product["B0EBAYONLY"].title_en) == (
        "Pending on eBay only",
        "Pending on eBay only",
    )
    assert product["B0EBAYONLY"].description_en == "About B0EBAYONLY"
    assert any("without their old USD selling_price" in note for note in report.notes)
    assert any("exchange_rate is 1 yen per USD" in note for note in report.notes)

    ebay = report.ebay
    assert ebay is not None
    assert ebay.listings_old == Counter({"listed": 2, "sold": 1, "pending": 1, "queued": 2})
    assert (ebay.listings_added, ebay.listings_already, ebay.listings_not_carried) == (6, 0, 0)
    assert (ebay.listed_with_id, ebay.with_offer_id, ebay.metadata_table) == (3, 3, True)
    assert ebay.queue_old == Counter({"pending": 2, "scheduled": 1, "success": 1})
    assert (ebay.queue_added, ebay.queue_not_carried) == (2, 2)
    assert (ebay.token_files, ebay.tokens_added) == (2, 2)
    assert ebay.accounts_file == "platforms/ebay/accounts/account_config.json"
    # Every old row is still accounted for in the tables.
    for name, counts in report.tables.items():
        for status, old_count in counts.old.items():
            carried = counts.added[status] + counts.already[status]
            dropped = counts.not_carried[status] + counts.left_behind[status]
            assert carried + dropped == old_count, (name, status)


@pytest.mark.usefixtures("ebay_adapter")
def test_skus_our_rule_cannot_give_are_reported(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    report = run(tmp_path, old.root)
    ebay = report.ebay
    assert ebay is not None
    assert (ebay.sku_prefix, ebay.sku_prefixes) == ("JP-", {})
    assert (ebay.skus, ebay.sku_mismatches) == (6, 1)
    assert ebay.sku_examples == ["B0EBAYNOOF ebay/ebay_account_1: CUSTOM-7"]
    assert any(
        note.startswith("1 of 6 old eBay SKU(s) are not sku_prefix + ASIN") and "CUSTOM-7" in note
        for note in report.notes
    )
    assert report.to_json()["ebay"]["skus"]["not_reproduced"] == 1


@pytest.mark.usefixtures("ebay_adapter")
def test_an_existing_config_decides_the_sku_prefix_and_is_not_changed(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    config = tmp_path / "upload-scheduler.toml"
    config.write_text(
        f'[accounts]\nbase = ["{ACCOUNT_1}"]\nebay = ["{EBAY_1}"]\n'
        f'[account_overrides.{EBAY_1}]\nsku_prefix = "X-"\n',
        encoding="utf-8",
    )
    before = config.read_bytes()
    report = run(tmp_path, old.root)
    assert config.read_bytes() == before
    ebay = report.ebay
    assert ebay is not None
    assert (ebay.settings, ebay.sku_prefix, ebay.sku_prefixes) == ("existing", "", {EBAY_1: "X-"})
    assert (ebay.skus, ebay.sku_mismatches) == (6, 6)
    assert any(EBAY_2 in note and "existing configuration" in note for note in report.notes)


@pytest.mark.usefixtures("ebay_adapter")
def test_ebay_tokens_keep_both_ends_in_utc(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    report = run(tmp_path, old.root)
    store = TokenStore(engine_for(tmp_path), "ebay")
    one, two = store.get(EBAY_1), store.get(EBAY_2)
    assert one is not None and two is not None
    assert (one.access_token, one.refresh_token) == tuple(EBAY_SECRETS[2:4])
    assert (one.obtained_at, one.expires_at) == (SAVED, SAVED + timedelta(hours=2))
    assert one.refresh_expires_at == SAVED + timedelta(seconds=REFRESH_LIFETIME)
    assert one.refresh_token_obtained_at == SAVED
    assert one.token_type == "user access token"
    # A file's own expires_at (local time) wins over token_saved_at + expires_in.
    assert two.expires_at == datetime(2025, 11, 28, 2, 30, tzinfo=UTC)
    assert two.refresh_expires_at == SAVED + timedelta(seconds=REFRESH_LIFETIME)
    assert TokenStore(engine_for(tmp_path), "base").get(EBAY_1) is None
    assert report.tables["oauth_tokens"].added == Counter({"rows": 3})
    assert any("2 eBay access token(s) have expired" in note for note in report.notes)


# ---------------------------------------------------------------------- runs


@pytest.mark.usefixtures("ebay_adapter")
def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    before = snapshot(old.root)
    first = run(tmp_path, old.root)
    config = (tmp_path / "upload-scheduler.toml").read_bytes()
    rows = dump(engine_for(tmp_path))
    second = run(tmp_path, old.root)
    assert second.rows_added == 0 and not second.changed
    assert (tmp_path / "upload-scheduler.toml").read_bytes() == config
    assert dump(engine_for(tmp_path)) == rows
    assert first.ebay is not None and second.ebay is not None
    assert second.ebay.listings_already == first.ebay.listings_added == 6
    assert second.ebay.queue_already == first.ebay.queue_added == 2
    assert second.ebay.tokens_already == first.ebay.tokens_added == 2
    assert (second.ebay.listings_added, second.ebay.tokens_added) == (0, 0)
    assert second.ebay.sku_mismatches == first.ebay.sku_mismatches
    assert second.ebay.settings == "existing"
    assert snapshot(old.root) == before  # the old files, the eBay ones too, untouched


@pytest.mark.usefixtures("ebay_adapter")
def test_a_dry_run_writes_nothing_and_reports_the_same(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    dry = run(tmp_path, old.root, dry_run=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old-system"]
    real = run(tmp_path, old.root)
    assert dry.ebay is not None and real.ebay is not None
    assert dry.ebay.to_json() == real.ebay.to_json()
    for name in ("products", "listings", "upload_queue", "oauth_tokens"):
        assert dry.tables[name].to_json() == real.tables[name].to_json(), name
    assert dry.config.accounts == real.config.accounts

    rows = dump(engine_for(tmp_path))
    again = run(tmp_path, old.root, dry_run=True)
    assert again.rows_added == 0 and not again.changed
    assert dump(engine_for(tmp_path)) == rows


@pytest.mark.usefixtures("ebay_adapter")
def test_a_missing_offer_id_is_filled_in_and_nothing_else(tmp_path: Path) -> None:
    """An import by an earlier version carried eBay listings without their offer ids."""
    old = build_old_root(tmp_path, ebay=True)
    run(tmp_path, old.root)
    engine = engine_for(tmp_path)
    with engine.begin() as conn:
        conn.execute(update(listings).where(listings.c.platform == "ebay").values(offer_id=None))
        # One our daemon has since re-listed: its new id must not get the old offer.
        conn.execute(
            update(listings)
            .where(listings.c.asin == "B0EBAYSOLD", listings.c.platform == "ebay")
            .values(platform_item_id="999")
        )
    dry = run(tmp_path, old.root, dry_run=True)
    assert dry.ebay is not None and dry.ebay.offer_ids_filled == 2 and dry.changed
    assert ebay_listings(engine)["B0EBAYLIST"]["offer_id"] is None
    again = run(tmp_path, old.root)
    assert again.ebay is not None and again.ebay.offer_ids_filled == 2
    assert again.changed and again.rows_added == 0
    found = ebay_listings(engine)
    assert found["B0EBAYLIST"]["offer_id"] == "5000000001"
    assert found["B0EBAYBEGN"]["offer_id"] == "5000000009"
    assert found["B0EBAYSOLD"]["offer_id"] is None
    third = run(tmp_path, old.root)
    assert not third.changed


@pytest.mark.usefixtures("ebay_adapter")
def test_a_database_without_the_metadata_table(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True, ebay_metadata=False)
    report = run(tmp_path, old.root)
    found = ebay_listings(engine_for(tmp_path))
    assert all(row["offer_id"] is None for row in found.values())
    assert (found["B0EBAYSOLD"]["status"], found["B0EBAYSOLD"]["platform_item_id"]) == (
        "listed",
        None,
    )
    assert any("no ebay_listing_metadata table" in note for note in report.notes)
    assert any("have no platform item id" in note and "B0EBAYSOLD" in note for note in report.notes)
    assert report.ebay is not None and not report.ebay.metadata_table
    assert report.ebay.with_offer_id == 0


def test_a_base_only_old_system_has_no_ebay_part(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    report = run(tmp_path, old.root)
    assert report.ebay is None and report.to_json()["ebay"] is None
    assert "ebay" not in report.config.accounts


@pytest.mark.usefixtures("ebay_adapter")
def test_on_sqlite_and_postgresql_alike(tmp_path: Path, database_url: str) -> None:
    old = build_old_root(tmp_path, ebay=True)
    config = tmp_path / "upload-scheduler.toml"
    config.write_text(
        f'database = "{database_url}"\n[accounts]\nebay = ["{EBAY_1}", "{EBAY_2}"]\n'
        '[platforms.ebay]\nsku_prefix = "JP-"\n',
        encoding="utf-8",
    )
    dry = run(tmp_path, old.root, dry_run=True)
    first = run(tmp_path, old.root)
    second = run(tmp_path, old.root)
    assert first.rows_added == dry.rows_added > 0 and second.rows_added == 0
    assert first.ebay is not None and first.ebay.sku_mismatches == 1
    engine = open_database(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            select(listings.c.platform_item_id, listings.c.offer_id).where(
                listings.c.asin == "B0EBAYLIST"
            )
        ).one()
        refresh_end = conn.execute(
            select(oauth_tokens.c.refresh_expires_at).where(oauth_tokens.c.account_id == EBAY_1)
        ).scalar_one()
    engine.dispose()
    assert tuple(row) == ("110000000001", "5000000001")
    assert refresh_end == SAVED + timedelta(seconds=REFRESH_LIFETIME)


# ---------------------------------------------------------------------- the SKU rule


def test_the_prefix_reproducing_most_skus_wins_and_accounts_may_differ() -> None:
    def row(asin: str, account: str | None, sku: str) -> SkuRow:
        return SkuRow(asin, account, sku, "listed")

    rows = [
        row("B01", "a", "JP-B01"),
        row("B02", "a", "JP-B02"),
        row("B03", "b", "US-B03"),
        row("B04", None, "JP-B04"),
        row("B05", "c", "RANDOM"),
    ]
    assert derive_prefixes(rows, ["a", "b", "c"]) == ("JP-", {"b": "US-"})
    assert derive_prefixes([row("B01", "a", "B01"), row("B02", "a", "X-B02")], ["a"]) == ("", {})
    assert derive_prefixes([], ["a"]) == ("", {})


def test_unusable_ebay_values_are_left_out_and_named_without_the_secret() -> None:
    def account(account_id: str, environment: str, app: str, **settings: object) -> dict[str, Any]:
        return {
            "id": account_id,
            "environment": environment,
            "credentials": {"app_id": app, "cert_id": f"cert-of-{account_id}-SECRET"},
            "settings": settings,
        }

    old = OldAccounts(
        accounts=[
            account("e1", "staging", "APP-A", default_currency="XYZ", rate_limit_per_day="lots"),
            account("e2", "production", "APP-B", default_currency="eur"),
            account("e3", "Sandbox", "APP-A", rate_limit_per_day=5, foo=1),
        ],
        found=True,
    )
    old.accounts[1]["credentials"].pop("cert_id")  # its own app, but no secret
    plan = plan_config(
        OldAccounts(),
        None,
        installed={"base", "ebay"},
        secrets_to_env=False,
        config_path=Path("upload-scheduler.toml"),
        old_root=Path("old"),
        ebay_accounts=old,
    )
    assert plan.accounts == {"ebay": ["e1", "e2", "e3"]}
    assert "base" not in plan.raw["platforms"]  # no BASE account: no [platforms.base]
    # The first production account's usable values are the platform's, nobody else's.
    ebay = plan.raw["platforms"]["ebay"]
    assert ebay == {"client_id": "APP-A", "client_secret": "cert-of-e1-SECRET"}
    overrides = plan.raw["account_overrides"]
    assert overrides["e2"] == {
        "client_id": "APP-B",
        "pricing": {"currency": "EUR"},
        "client_secret_env": "EBAY_CLIENT_SECRET_E2",
    }
    assert overrides["e3"]["api_base_url"] == SANDBOX_API_URL
    assert overrides["e3"]["day_call_limit"] == 5
    notes = "\n".join(plan.notes)
    assert "environment 'staging' is neither" in notes
    assert "unknown currency 'XYZ'" in notes and "(got 'lots')" in notes
    assert "settings.foo has no equivalent here" in notes
    assert "set EBAY_CLIENT_SECRET_E2" in notes
    assert "cert-of-" not in notes
