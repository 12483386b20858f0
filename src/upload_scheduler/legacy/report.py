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

    @property
    def rows_added(self) -> int:
        return sum(sum(t.added.values()) for t in self.tables.values())

    @property
    def changed(self) -> bool:
        """Whether this run wrote (or, dry, would write) anything."""
        return self.rows_added > 0 or (
            not self.config.existed and (self.config.written or self.dry_run)
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
        }
