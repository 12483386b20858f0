"""What import-legacy did, or would do: counts per table and status, old against new,
every row left behind with its reason, and the configuration's outcome. Plain data;
the CLI renders it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TABLES = ("products", "listings", "upload_queue", "oauth_tokens")
ROWS = "rows"  # the "status" of tables without one


@dataclass(frozen=True)
class Skip:
    """An old row that was not carried over, and why."""

    table: str
    old_id: str
    old_status: str
    what: str  # e.g. "B0TEST0001 base/base_account_1"
    reason: str  # general, so that rows group by it
    detail: str = ""  # about this row: which duplicate was kept, the bad value

    def to_json(self) -> dict[str, str]:
        return {
            "table": self.table,
            "old_id": self.old_id,
            "old_status": self.old_status,
            "what": self.what,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass
class TableCounts:
    """`old`, `added`, `already`, `not_carried` and `left_behind` count old rows by their
    old status; `new` counts our table's rows by our status after the run (for a dry run,
    what they would be)."""

    old: Counter[str] = field(default_factory=Counter)
    added: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    not_carried: Counter[str] = field(default_factory=Counter)
    left_behind: Counter[str] = field(default_factory=Counter)
    new: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            "old": dict(sorted(self.old.items())),
            "added": dict(sorted(self.added.items())),
            "already_here": dict(sorted(self.already.items())),
            "not_carried": dict(sorted(self.not_carried.items())),
            "left_behind": dict(sorted(self.left_behind.items())),
            "new": dict(sorted(self.new.items())),
        }


@dataclass
class ConfigOutcome:
    path: Path
    existed: bool
    written: bool = False
    accounts: dict[str, list[str]] = field(default_factory=dict)
    # (platform, account_id, why it is not under [accounts])
    left_out: list[tuple[str, str, str]] = field(default_factory=list)
    # Where the client secrets went: file, environment, none found, or "existing" (the
    # existing configuration was used and not changed).
    secrets: str = "none"
    # Only with --secrets-to-env: the variables the operator must set. Never logged.
    secret_variables: dict[str, str] = field(default_factory=dict, repr=False)

    def to_json(self, *, include_secrets: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": str(self.path),
            "existed": self.existed,
            "written": self.written,
            "accounts": self.accounts,
            "left_out": [
                {"platform": p, "account_id": a, "reason": r} for p, a, r in self.left_out
            ],
            "secrets": self.secrets,
        }
        if include_secrets:
            data["secret_variables"] = dict(self.secret_variables)
        else:
            data["secret_variables"] = sorted(self.secret_variables)
        return data


@dataclass
class EbayOutcome:
    """The old system's eBay part and what became of it: its own lines in the report, as
    the counts table adds every platform's rows together."""

    accounts_file: str = ""  # relative to the old root; "" when there is none
    environments: dict[str, str] = field(default_factory=dict)  # under [accounts] only
    # Where the accounts' App ID, Cert ID, RuName ... went: "shared" ([platforms.ebay]),
    # "per account" ([account_overrides.<id>]), "existing" (the configuration was not
    # written), or "" (no eBay account was written: see the left-out accounts).
    settings: str = ""
    metadata_table: bool = False  # the old database has ebay_listing_metadata
    listings_old: Counter[str] = field(default_factory=Counter)  # by old status
    listings_added: int = 0
    listings_already: int = 0
    listed_with_id: int = 0  # carried as listed, with their listing id
    with_offer_id: int = 0  # carried with their offer id
    offer_ids_filled: int = 0  # offer ids added to listings already here
    queue_old: Counter[str] = field(default_factory=Counter)
    queue_added: int = 0
    queue_already: int = 0
    token_files: int = 0
    tokens_added: int = 0
    tokens_already: int = 0
    sku_prefix: str = ""  # the effective [platforms.ebay] sku_prefix
    # No eBay account is configured: sku_prefix is the one the old SKUs suggest.
    sku_prefix_derived: bool = False
    sku_prefixes: dict[str, str] = field(default_factory=dict)  # accounts with their own
    skus: int = 0  # old eBay listings with an SKU
    sku_mismatches: int = 0  # of them, the SKUs sku_prefix + ASIN does not give
    sku_examples: list[str] = field(default_factory=list)

    @property
    def listings_not_carried(self) -> int:
        return sum(self.listings_old.values()) - self.listings_added - self.listings_already

    @property
    def queue_not_carried(self) -> int:
        return sum(self.queue_old.values()) - self.queue_added - self.queue_already

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts_file": self.accounts_file,
            "environments": dict(self.environments),
            "settings": self.settings,
            "metadata_table": self.metadata_table,
            "listings": {
                "old": dict(sorted(self.listings_old.items())),
                "added": self.listings_added,
                "already_here": self.listings_already,
                "not_carried": self.listings_not_carried,
                "listed_with_id": self.listed_with_id,
                "with_offer_id": self.with_offer_id,
                "offer_ids_filled": self.offer_ids_filled,
            },
            "upload_queue": {
                "old": dict(sorted(self.queue_old.items())),
                "added": self.queue_added,
                "already_here": self.queue_already,
                "not_carried": self.queue_not_carried,
            },
            "tokens": {
                "files": self.token_files,
                "added": self.tokens_added,
                "already_here": self.tokens_already,
                "not_carried": self.token_files - self.tokens_added - self.tokens_already,
            },
            "skus": {
                "sku_prefix": self.sku_prefix,
                "sku_prefix_derived": self.sku_prefix_derived,
                "account_sku_prefixes": dict(self.sku_prefixes),
                "checked": self.skus,
                "not_reproduced": self.sku_mismatches,
                "examples": list(self.sku_examples),
            },
        }


@dataclass
class ImportReport:
    old_root: Path
    dry_run: bool
    config: ConfigOutcome
    database: str = ""  # the URL without a password
    tables: dict[str, TableCounts] = field(
        default_factory=lambda: {name: TableCounts() for name in TABLES}
    )
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ebay: EbayOutcome | None = None  # None: the old system never listed on eBay

    @property
    def rows_added(self) -> int:
        return sum(sum(t.added.values()) for t in self.tables.values())

    @property
    def changed(self) -> bool:
        """Whether this run wrote (or, dry, would write) anything."""
        filled = self.ebay.offer_ids_filled if self.ebay is not None else 0
        return (
            self.rows_added > 0
            or filled > 0
            or (not self.config.existed and (self.config.written or self.dry_run))
        )

    def skip(self, skip: Skip) -> None:
        self.skipped.append(skip)
        self.tables[skip.table].not_carried[skip.old_status] += 1

    def to_json(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """One object for scripts. Secrets appear only when asked for (--secrets-to-env)."""
        return {
            "old_root": str(self.old_root),
            "dry_run": self.dry_run,
            "database": self.database,
            "config": self.config.to_json(include_secrets=include_secrets),
            "tables": {name: counts.to_json() for name, counts in self.tables.items()},
            "rows_added": self.rows_added,
            "changed": self.changed,
            "skipped": [s.to_json() for s in self.skipped],
            "notes": list(self.notes),
            "ebay": self.ebay.to_json() if self.ebay is not None else None,
        }
