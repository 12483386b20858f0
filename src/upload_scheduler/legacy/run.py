"""import-legacy from start to end: read the old files (BASE's and the eBay module's),
settle the configuration, copy the rows and the tokens, and count what happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from upload_scheduler.config import ConfigError, Settings, load_settings, settings_from_dict
from upload_scheduler.legacy import ebay
from upload_scheduler.legacy.config_writer import ConfigPlan, plan_config, write_private
from upload_scheduler.legacy.copy_rows import CopyCounts, Progress, copy_rows, table_counts
from upload_scheduler.legacy.ebay import EBAY, SkuRow
from upload_scheduler.legacy.old_files import (
    LegacyError,
    LegacyRoot,
    OldAccounts,
    OldDatabase,
    TokenFile,
)
from upload_scheduler.legacy.plan_rows import RowPlan, plan_rows
from upload_scheduler.legacy.report import ROWS, ConfigOutcome, EbayOutcome, ImportReport
from upload_scheduler.legacy.tokens import plan_tokens, store_tokens
from upload_scheduler.legacy.values import text
from upload_scheduler.platforms import registry
from upload_scheduler.platforms.registry import installed_platforms
from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import create_db_engine, sqlite_path
from upload_scheduler.store.migrate import current_revision

Phase = Callable[[str], None]


def import_legacy(
    old_root: Path,
    config_path: Path,
    *,
    now: datetime,
    dry_run: bool = False,
    secrets_to_env: bool = False,
    on_phase: Phase | None = None,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Bring the old system at `old_root` over; with `dry_run`, write nothing (no
    config, no database file, no rows) and report the same. Raises LegacyError when
    the old root or an existing configuration cannot be used."""
    phase = on_phase or (lambda _name: None)
    root = LegacyRoot(old_root)
    root.check()
    phase("Reading the old files")
    old_db = root.read_database()
    old_accounts = root.read_accounts()
    ebay_accounts = root.read_accounts(EBAY)
    scheduler = root.read_settings()
    token_files = root.read_tokens() + root.read_tokens(EBAY)
    skus = ebay.sku_rows(old_db.listings)

    phase("Settling the configuration")
    config_path = config_path.resolve()
    planned = plan_config(
        old_accounts,
        scheduler,
        installed=installed_platforms(),
        secrets_to_env=secrets_to_env,
        config_path=config_path,
        old_root=old_root,
        ebay_accounts=ebay_accounts,
        ebay_skus=skus,
    )
    existed = config_path.is_file()
    report = ImportReport(
        old_root=old_root.resolve(),
        dry_run=dry_run,
        config=ConfigOutcome(config_path, existed, secrets="existing" if existed else "none"),
    )
    report.notes += old_db.notes + old_accounts.problems + ebay_accounts.problems
    if scheduler is not None:
        report.notes += scheduler.problems
    else:
        report.notes.append(
            "no scheduler/config/accounts_config.py: accounts come from "
            "account_config.json, daemon settings are the defaults"
        )
    settings = _settings(report, planned, dry_run)
    ebay_part = _ebay_outcome(old_db, ebay_accounts, token_files, planned, settings, existed)
    if existed and secrets_to_env:
        report.notes.append("--secrets-to-env changed nothing: the existing configuration is kept")

    phase("Planning the rows")
    rows = plan_rows(old_db, zone=settings.zone, configured=settings.accounts, now=now)
    report.notes += rows.notes
    for skip in rows.skipped:
        report.skip(skip)
    for table in ("products", "listings", "upload_queue"):
        report.tables[table].old.update(rows.old[table])
    report.tables["upload_queue"].left_behind.update(rows.left_behind)

    engine = _engine(settings, dry_run)
    report.database = make_url(settings.database_url).render_as_string(hide_password=True)
    before = table_counts(engine) if dry_run else {}
    phase("Copying products, listings and queue rows")
    counts = copy_rows(engine, rows.groups, dry_run=dry_run, on_progress=on_progress)
    for table in ("products", "listings", "upload_queue"):
        report.tables[table].added.update(counts.added[table])
        report.tables[table].already.update(counts.already[table])
    for skip in counts.skipped:
        report.skip(skip)

    phase("Storing tokens")
    tokens = plan_tokens(token_files, settings.zone, now)
    report.notes += tokens.notes
    report.tables["oauth_tokens"].old[ROWS] = len(token_files)
    for skip in tokens.skipped:
        report.skip(skip)
    stored = store_tokens(engine, tokens.tokens, now=now, dry_run=dry_run)
    if ebay_part is not None:
        _count_ebay(ebay_part, rows, counts, stored)
        report.notes += _ebay_notes(ebay_part, skus, settings)
        report.ebay = ebay_part
    tokens_added = sum(stored.values())
    if tokens_added:
        report.tables["oauth_tokens"].added[ROWS] = tokens_added
    if len(stored) - tokens_added:
        report.tables["oauth_tokens"].already[ROWS] = len(stored) - tokens_added

    if dry_run:
        for table, by_status in before.items():
            projected = dict(by_status)
            added: Mapping[str, int] = (
                counts.added_as.get(table, {}) if table != "oauth_tokens" else {}
            )
            if table == "oauth_tokens" and tokens_added:
                added = {ROWS: tokens_added}
            for status, count in added.items():
                projected[status] = projected.get(status, 0) + count
            report.tables[table].new = projected
    else:
        for table, by_status in table_counts(engine).items():
            report.tables[table].new = by_status
    if engine is not None:
        engine.dispose()
    return report


def _settings(report: ImportReport, planned: ConfigPlan, dry_run: bool) -> Settings:
    """The existing configuration (never overwritten), else the planned one, written
    unless this is a dry run."""
    outcome = report.config
    if outcome.existed:
        try:
            settings = load_settings(outcome.path, platforms=registry)
        except ConfigError as exc:
            raise LegacyError(
                f"the existing configuration is not valid; fix it (or move it away to have "
                f"one written from the old files):\n{exc}"
            ) from None
        outcome.accounts = {p: list(ids) for p, ids in settings.accounts.items()}
        report.notes.insert(0, f"using the existing configuration {outcome.path}; not changed")
        missing = sorted(
            {a for ids in planned.accounts.values() for a in ids}
            - {a for ids in settings.accounts.values() for a in ids}
        )
        if missing:
            report.notes.append(
                f"the old system's active account(s) {', '.join(missing)} are not under "
                "[accounts] in the existing configuration: their queue rows stay behind"
            )
        return settings
    outcome.accounts = planned.accounts
    outcome.left_out = planned.left_out
    outcome.secrets = planned.secrets
    outcome.secret_variables = planned.secret_variables
    report.notes += planned.notes
    if not dry_run:
        try:
            write_private(outcome.path, planned.text)
        except OSError as exc:
            raise LegacyError(f"cannot write {outcome.path}: {exc}") from None
        outcome.written = True
    return settings_from_dict(planned.raw, outcome.path)


def _ebay_outcome(
    old_db: OldDatabase,
    accounts: OldAccounts,
    token_files: list[TokenFile],
    planned: ConfigPlan,
    settings: Settings,
    existed: bool,
) -> EbayOutcome | None:
    """What the old system kept for eBay, before the rows are copied; None when it kept
    nothing (it never listed on eBay), so the report has no eBay lines."""
    listings = [r for r in old_db.listings if text(r.get("platform")).lower() == EBAY]
    queue = [r for r in old_db.upload_queue if text(r.get("platform")).lower() == EBAY]
    tokens = [f for f in token_files if f.platform == EBAY]
    if not (accounts.found or listings or queue or tokens or old_db.ebay_metadata):
        return None
    configured = settings.account_ids(EBAY)
    if configured:  # the SKUs are checked against the configuration's rule
        platform_prefix = settings.platform_config(EBAY).sku_prefix
        own_prefixes = {
            account_id: prefix
            for account_id in configured
            if (prefix := settings.account(EBAY, account_id).sku_prefix) != platform_prefix
        }
    else:  # none to check against: against the prefix a written one would hold
        platform_prefix, own_prefixes = ebay.derive_prefixes(ebay.sku_rows(listings), ())
    return EbayOutcome(
        accounts_file=accounts.file if accounts.found else "",
        environments={a: _environment(settings, a) for a in configured},
        settings="existing" if existed else planned.ebay_settings,
        metadata_table=old_db.ebay_metadata is not None,
        listings_old=Counter(text(r.get("status")).lower() or "(empty)" for r in listings),
        queue_old=Counter(text(r.get("status")).lower() or "(empty)" for r in queue),
        token_files=len(tokens),
        sku_prefix=platform_prefix,
        sku_prefixes=own_prefixes,
        sku_prefix_derived=not configured,
    )


def _environment(settings: Settings, account_id: str) -> str:
    """Which eBay an account lists on, as its configuration says (an existing one may
    point elsewhere, a local sandbox server: then its URL)."""
    url = settings.account(EBAY, account_id).api_base_url
    names = {hosts["api_base_url"]: name for name, hosts in ebay.HOSTS.items()}
    return names.get(url.rstrip("/"), url)


def _count_ebay(
    outcome: EbayOutcome,
    rows: RowPlan,
    counts: CopyCounts,
    stored: Mapping[tuple[str, str], bool],
) -> None:
    """The eBay part of what the copy and the token store did."""
    carried = [
        listing.values
        for group in rows.groups
        for listing in group.listings
        if listing.values["platform"] == EBAY
    ]
    outcome.listed_with_id = sum(
        1 for v in carried if v["status"] == "listed" and v["platform_item_id"]
    )
    outcome.with_offer_id = sum(1 for v in carried if v["offer_id"])
    outcome.offer_ids_filled = counts.offer_ids_filled
    outcome.listings_added = counts.by_platform["listings", EBAY, "added"]
    outcome.listings_already = counts.by_platform["listings", EBAY, "already"]
    outcome.queue_added = counts.by_platform["upload_queue", EBAY, "added"]
    outcome.queue_already = counts.by_platform["upload_queue", EBAY, "already"]
    outcome.tokens_added = sum(1 for (p, _), new in stored.items() if p == EBAY and new)
    outcome.tokens_already = sum(1 for (p, _), new in stored.items() if p == EBAY and not new)


def _ebay_notes(outcome: EbayOutcome, skus: list[SkuRow], settings: Settings) -> list[str]:
    """What the operator must know about the eBay part: SKUs our rule does not give, and
    a dollar price that would be computed at one yen to the dollar."""
    notes = []

    def prefix_of(account_id: str | None) -> str:
        if account_id is not None and account_id in outcome.sku_prefixes:
            return outcome.sku_prefixes[account_id]
        return outcome.sku_prefix

    wrong = ebay.mismatches(skus, prefix_of)
    outcome.skus = len(skus)
    outcome.sku_mismatches = len(wrong)
    outcome.sku_examples = ebay.sku_examples(wrong)
    if wrong:
        on_ebay = sum(1 for r in wrong if r.status in ("listed", "sold"))
        notes.append(
            f"{len(wrong)} of {len(skus)} old eBay SKU(s) are not sku_prefix + ASIN, which is "
            f"how we name eBay items (e.g. {', '.join(outcome.sku_examples)}). They come along "
            f"as they are ({on_ebay} of them on eBay keep their listing and offer ids, so "
            "they are never listed again), but our eBay adapter addresses an item by "
            "sku_prefix + ASIN: `delist` would not end such a listing (end it on eBay "
            "yourself), a look-up after an interrupted upload would not find it, and a "
            "pending one is listed under the new SKU"
        )
    for account_id in settings.account_ids(EBAY):
        pricing = settings.account(EBAY, account_id).pricing
        if pricing.currency != "JPY" and pricing.exchange_rate == 1.0:
            notes.append(
                f"[platforms.{EBAY}.pricing] exchange_rate is 1 yen per {pricing.currency} "
                f"for {account_id}: the old system kept its rate in a currency module that is "
                f"not read; set exchange_rate (and markup) before eBay items upload"
            )
            break
    return notes


def _engine(settings: Settings, dry_run: bool) -> Engine | None:
    """Our database; for a dry run, only if it already exists (a dry run creates no
    file and applies no migration), else None."""
    if not dry_run:
        return open_database(settings.database_url)
    path = sqlite_path(settings.database_url)
    if path is not None and not path.is_file():
        return None
    engine = create_db_engine(settings.database_url)
    if current_revision(engine) is None:
        engine.dispose()
        return None
    return engine
