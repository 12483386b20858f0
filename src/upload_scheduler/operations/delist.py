"""`delist`: queue delete jobs for listed items, chosen by ASIN, by file, or by a content
rule that would now block them (the clean-up after BASE restricted a shop).

A delete job is a queue row of kind 'delete' carrying the item's platform id. It goes
through the same daemons, pacing, budgets and retries as an upload; its listing turns
`delisted` once the item is gone. The queue's unique index keeps one live job per
(asin, platform, account), so an item is never uploaded and deleted at the same time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, RowMapping, select

from upload_scheduler import defaults
from upload_scheduler.platforms.thebase.rules import Rules, RuleViolation, apply_rules
from upload_scheduler.platforms.thebase.rules_check import product_from_row
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import ACTIVE_QUEUE_STATUSES, listings, products, upload_queue

Selection = tuple[list["DeleteTarget"], list[tuple[str, str]]]
RULE_NAMES = ("ng_words", "blocked_categories", "min_price", "emoji", "title", "any")
_IN_CHUNK = 500


@dataclass(frozen=True)
class DeleteTarget:
    listing_id: int
    asin: str
    account_id: str
    platform_item_id: str
    why: str = ""  # for --rule: the rule's verdict


@dataclass
class DelistReport:
    targets: list[DeleteTarget] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (asin, reason)
    queue_ids: list[int] = field(default_factory=list)
    dry_run: bool = False


def read_asin_file(path: Path) -> list[str]:
    """One ASIN per line (a CSV's first column also works); blanks and # lines skipped."""
    text = path.read_text(encoding="utf-8-sig")
    asins = []
    for line in text.splitlines():
        value = line.split(",", 1)[0].strip().strip('"')
        if value and not value.startswith("#") and value.lower() != "asin":
            asins.append(value)
    return list(dict.fromkeys(asins))


def by_asins(
    conn: Connection, platform: str, asins: Sequence[str], account_id: str | None
) -> tuple[list[DeleteTarget], list[tuple[str, str]]]:
    """The listed items of these ASINs (one per account unless `account_id` says which),
    and why each other ASIN cannot be delisted."""
    wanted = list(dict.fromkeys(asins))
    rows: list[RowMapping] = []
    for start in range(0, len(wanted), _IN_CHUNK):
        query = select(listings).where(
            listings.c.platform == platform, listings.c.asin.in_(wanted[start : start + _IN_CHUNK])
        )
        if account_id is not None:
            query = query.where(listings.c.account_id == account_id)
        rows += conn.execute(query.order_by(listings.c.id)).mappings().all()
    targets: list[DeleteTarget] = []
    others: dict[str, list[str]] = {}
    for row in rows:
        if row["status"] == "listed" and row["platform_item_id"] and row["account_id"]:
            targets.append(
                DeleteTarget(row["id"], row["asin"], row["account_id"], row["platform_item_id"])
            )
        else:
            others.setdefault(row["asin"], []).append(
                f"{row['status']} on {row['account_id'] or 'no account'}"
            )
    found = {t.asin for t in targets}
    where = f" on account {account_id}" if account_id else ""
    skipped = [
        (
            asin,
            f"not listed ({', '.join(others[asin])})"
            if asin in others
            else f"no {platform} listing{where}",
        )
        for asin in wanted
        if asin not in found
    ]
    return targets, skipped


def by_rule(
    conn: Connection, platform: str, rules: Rules, rule: str, account_id: str | None
) -> list[DeleteTarget]:
    """Listed items whose product `rule` would now block ("any": any rule)."""
    if rule not in RULE_NAMES:
        raise ValueError(f"unknown rule {rule!r} (use one of: {', '.join(RULE_NAMES)})")
    only = _only(rules, rule)
    query = (
        select(
            listings.c.id.label("listing_id"),
            listings.c.account_id,
            listings.c.platform_item_id,
            products,
        )
        .join(products, products.c.asin == listings.c.asin)
        .where(
            listings.c.platform == platform,
            listings.c.status == "listed",
            listings.c.platform_item_id.is_not(None),
            listings.c.account_id.is_not(None),
        )
        .order_by(listings.c.id)
    )
    if account_id is not None:
        query = query.where(listings.c.account_id == account_id)
    targets = []
    for row in conn.execute(query).mappings():
        try:
            apply_rules(product_from_row(row), only)
        except RuleViolation as violation:
            if rule in ("any", violation.rule):
                targets.append(
                    DeleteTarget(
                        row["listing_id"],
                        row["asin"],
                        row["account_id"],
                        row["platform_item_id"],
                        str(violation),
                    )
                )
    return targets


def _only(rules: Rules, rule: str) -> Rules:
    """`rules` reduced to the one rule asked for, so a product that breaks two rules is
    found by either name (apply_rules stops at the first)."""
    if rule == "any":
        return rules
    keep = {
        "ng_words": rules.ng_words if rule == "ng_words" else (),
        "blocked_categories": rules.blocked_categories if rule == "blocked_categories" else (),
        "min_price": rules.min_price if rule == "min_price" else 0,
        "emoji": rules.emoji if rule == "emoji" else "remove",
    }
    return replace(rules, **keep)  # type: ignore[arg-type]


def queue_deletes(
    engine: Engine,
    platform: str,
    select_targets: Callable[[Connection], Selection],
    *,
    now: datetime,
    priority: int = defaults.PRIORITY_HIGH,
    dry_run: bool = False,
) -> DelistReport:
    """Queue a delete job per target, due now. `select_targets(conn)` returns (targets,
    skipped); it runs inside the write transaction, so what it saw is what is queued."""
    report = DelistReport(dry_run=dry_run)
    with write_transaction(engine) as conn:
        targets, skipped = select_targets(conn)
        report.skipped.extend(skipped)
        busy = _live_jobs(conn, platform, targets)
        for target in targets:
            if (target.asin, target.account_id) in busy:
                report.skipped.append(
                    (target.asin, f"a job for it is already queued on {target.account_id}")
                )
                continue
            report.targets.append(target)
        if dry_run or not report.targets:
            conn.rollback()
            return report
        for target in report.targets:
            queue_id = conn.execute(
                upload_queue.insert()
                .values(
                    listing_id=target.listing_id,
                    asin=target.asin,
                    platform=platform,
                    account_id=target.account_id,
                    kind="delete",
                    scheduled_time=now,
                    priority=priority,
                    status="pending",
                    attempts=0,
                    platform_item_id=target.platform_item_id,
                    created_at=now,
                    updated_at=now,
                )
                .returning(upload_queue.c.id)
            ).scalar_one()
            report.queue_ids.append(int(queue_id))
    return report


def _live_jobs(
    conn: Connection, platform: str, targets: Iterable[DeleteTarget]
) -> set[tuple[str, str]]:
    asins = sorted({t.asin for t in targets})
    busy: set[tuple[str, str]] = set()
    for start in range(0, len(asins), _IN_CHUNK):
        rows = conn.execute(
            select(upload_queue.c.asin, upload_queue.c.account_id).where(
                upload_queue.c.platform == platform,
                upload_queue.c.asin.in_(asins[start : start + _IN_CHUNK]),
                upload_queue.c.status.in_(ACTIVE_QUEUE_STATUSES),
            )
        )
        busy.update((a, acc) for a, acc in rows)
    return busy
