"""Delete jobs, end to end in-process: `delist` selects listed items (by ASIN or by a
content rule) and queues them; the daemon deletes them with the upload's pacing, budget
and error model; a lost answer is checked before any retry; an item already gone counts
as done; the listing turns `delisted` only when the item is gone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.integration import test_daemon
from tests.integration.scripted_platform import ScriptedPlatform
from tests.integration.test_daemon import (
    ACCOUNT,
    INTERVAL,
    PLATFORM,
    RETRY_DELAY,
    Env,
    dead_pid,
)
from upload_scheduler.operations import delist
from upload_scheduler.platforms.errors import Permanent, PlatformError, RateLimited, Transient
from upload_scheduler.platforms.interface import Account, DeleteResult
from upload_scheduler.platforms.thebase.rules import Rules
from upload_scheduler.store.identity import host_id
from upload_scheduler.store.tables import account_usage, listings, products, upload_queue

make_env = test_daemon.make_env

LOST = "lost"  # a scripted delete that deletes, then loses the answer


@dataclass
class DeletingPlatform(ScriptedPlatform):
    """The scripted platform, able to delete: each delete of an item id takes the next
    scripted step (an error to raise, or LOST), then succeeds."""

    delete_script: dict[str, list[PlatformError | str]] = field(default_factory=dict)
    deletes: list[tuple[str, str]] = field(default_factory=list)  # (item id, outcome)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    calls_at: list[datetime] = field(default_factory=list)  # when each delete was sent

    def delete(self, platform_item_id: str, account: Account, *, asin: str = "") -> DeleteResult:
        self.calls_at.append(self.clock.now())
        steps = self.delete_script.get(platform_item_id) or []
        step = steps.pop(0) if steps else None
        if isinstance(step, PlatformError):
            self.deletes.append((platform_item_id, type(step).__name__))
            raise step
        held = [i for i in self.items if i.platform_item_id == platform_item_id]
        for item in held:
            self.items.remove(item)
        if step == LOST:
            self.deletes.append((platform_item_id, "lost"))
            raise Transient("connection reset after the delete was sent", maybe_created=True)
        self.deletes.append((platform_item_id, "deleted" if held else "gone"))
        return DeleteResult(1, already_gone=not held)

    def exists(self, platform_item_id: str, account: Account, *, asin: str = "") -> bool:
        found = any(i.platform_item_id == platform_item_id for i in self.items)
        self.checks.append((platform_item_id, found))
        return found


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    made = make_env()
    made.platform = DeletingPlatform(made.clock)
    return made


def listed(env: Env, *asins: str) -> dict[str, str]:
    """Upload these items through the daemon; asin -> platform item id."""
    ids = [env.add_item(asin, images=()) for asin in asins]
    daemon = env.daemon()
    daemon.start()
    env.run(daemon, env.all_final)
    daemon.shutdown()
    return {env.row(i)["asin"]: env.row(i)["platform_item_id"] for i in ids}


def queue(env: Env, *asins: str, account: str | None = None) -> delist.DelistReport:
    return delist.queue_deletes(
        env.engine,
        PLATFORM,
        lambda conn: delist.by_asins(conn, PLATFORM, list(asins), account),
        now=env.clock.now(),
    )


def listing_status(env: Env, asin: str) -> str:
    with env.engine.connect() as conn:
        return conn.execute(select(listings.c.status).where(listings.c.asin == asin)).scalar_one()


def delete_rows(env: Env) -> list:  # type: ignore[type-arg]
    return [r for r in env.rows() if r["kind"] == "delete"]


def test_a_delete_job_removes_the_item_and_delists_the_listing(env: Env) -> None:
    ids = listed(env, "B0DEL00001", "B0DEL00002", "B0DEL00003")
    creations_before = _creations(env)
    report = queue(env, "B0DEL00001", "B0DEL00003")
    assert [t.asin for t in report.targets] == ["B0DEL00001", "B0DEL00003"]
    assert listing_status(env, "B0DEL00001") == "listed"  # until the item is gone
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.all_final)

    assert env.platform.deletes == [(ids["B0DEL00001"], "deleted"), (ids["B0DEL00003"], "deleted")]
    assert [i.asin for i in env.platform.items] == ["B0DEL00002"]
    assert [r["status"] for r in delete_rows(env)] == ["success", "success"]
    assert [listing_status(env, a) for a in ("B0DEL00001", "B0DEL00002", "B0DEL00003")] == [
        "delisted",
        "listed",
        "delisted",
    ]
    assert _creations(env) == creations_before  # a delete spends no creation quota
    # One call each, paced like creations.
    assert env.account()["hour_calls"] == 3 + 2
    a, b = env.platform.calls_at
    assert b - a >= INTERVAL


def test_a_lost_delete_is_checked_before_a_retry_and_never_sent_twice(env: Env) -> None:
    ids = listed(env, "B0DEL00101")
    item_id = ids["B0DEL00101"]
    env.platform.delete_script[item_id] = [LOST]
    queue(env, "B0DEL00101")
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.all_final)

    assert env.platform.deletes == [(item_id, "lost")]
    assert env.platform.checks == [(item_id, False)]
    [row] = delete_rows(env)
    assert (row["status"], row["attempts"]) == ("success", 2)
    assert "already gone" in row["error_message"]
    assert listing_status(env, "B0DEL00101") == "delisted"


def test_a_transient_error_retries_after_the_delay_checking_first(env: Env) -> None:
    ids = listed(env, "B0DEL00201")
    item_id = ids["B0DEL00201"]
    env.platform.delete_script[item_id] = [Transient("HTTP 503")]
    queue(env, "B0DEL00201")
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.all_final)

    assert env.platform.deletes == [(item_id, "Transient"), (item_id, "deleted")]
    assert env.platform.checks == [(item_id, True)]
    first, second = env.platform.calls_at
    assert second - first >= RETRY_DELAY
    assert listing_status(env, "B0DEL00201") == "delisted"


def test_an_item_already_gone_counts_as_done(env: Env) -> None:
    ids = listed(env, "B0DEL00301")
    env.platform.items.clear()  # someone deleted it in the shop's admin page
    queue(env, "B0DEL00301")
    daemon = env.daemon()
    daemon.start()

    env.run(daemon, env.all_final)

    assert env.platform.deletes == [(ids["B0DEL00301"], "gone")]
    [row] = delete_rows(env)
    assert row["status"] == "success" and "already gone" in row["error_message"]
    assert listing_status(env, "B0DEL00301") == "delisted"


def test_a_permanent_error_fails_the_job_and_the_listing_stays_listed(env: Env) -> None:
    ids = listed(env, "B0DEL00401")
    env.platform.delete_script[ids["B0DEL00401"]] = [Permanent("bad_params")]
    queue(env, "B0DEL00401")
    daemon = env.daemon()
    daemon.start()
    env.run(daemon, env.all_final)

    [row] = delete_rows(env)
    assert (row["status"], row["error_message"], row["attempts"]) == ("failed", "bad_params", 1)
    assert listing_status(env, "B0DEL00401") == "listed"
    assert env.manager.requeue_failed([row["id"]]) == 1
    assert listing_status(env, "B0DEL00401") == "listed"
    env.run(daemon, env.all_final)
    assert listing_status(env, "B0DEL00401") == "delisted"


def test_a_rate_limit_pauses_the_account_and_spends_no_attempt(env: Env) -> None:
    ids = listed(env, "B0DEL00501")
    until = env.clock.now() + timedelta(minutes=20)
    env.platform.delete_script[ids["B0DEL00501"]] = [RateLimited("hour_api_limit", until)]
    queue(env, "B0DEL00501")
    daemon = env.daemon()
    daemon.start()
    env.run(daemon, lambda: len(env.platform.deletes) == 1)
    [row] = delete_rows(env)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert env.account()["pause_reason"].startswith("rate limit")

    env.run(daemon, env.all_final)
    assert env.platform.calls_at[-1] >= until
    assert listing_status(env, "B0DEL00501") == "delisted"


def test_cancelling_a_delete_job_leaves_the_listing_listed(env: Env) -> None:
    listed(env, "B0DEL00601")
    [queue_id] = queue(env, "B0DEL00601").queue_ids
    assert env.manager.cancel([queue_id]) == 1
    assert listing_status(env, "B0DEL00601") == "listed"


def test_a_delete_left_uploading_by_a_dead_worker_is_checked_before_it_is_sent(
    env: Env,
) -> None:
    ids = listed(env, "B0DEL00701")
    [queue_id] = queue(env, "B0DEL00701").queue_ids
    stamp = env.clock.now()
    with env.engine.begin() as conn:
        conn.execute(
            update(upload_queue)
            .where(upload_queue.c.id == queue_id)
            .values(
                status="uploading",
                lease_owner=f"{host_id()}:{dead_pid()}:1.00:dead",
                call_started_at=stamp,
                attempts=1,
            )
        )
    env.platform.items.clear()  # the dead worker's delete had gone through
    daemon = env.daemon()
    daemon.start()
    env.run(daemon, env.all_final)

    assert env.platform.deletes == []
    assert env.platform.checks == [(ids["B0DEL00701"], False)]
    assert listing_status(env, "B0DEL00701") == "delisted"


def test_selection_by_asin_reports_what_it_cannot_delist(env: Env) -> None:
    listed(env, "B0DEL00801", "B0DEL00802")
    env.add_product("B0DEL00803")  # pending, never listed
    first = queue(env, "B0DEL00801", "B0DEL00803", "B0NOTHERE1")
    assert [t.asin for t in first.targets] == ["B0DEL00801"]
    assert dict(first.skipped) == {
        "B0DEL00803": "not listed (pending on no account)",
        "B0NOTHERE1": f"no {PLATFORM} listing",
    }
    second = queue(env, "B0DEL00801", "B0DEL00802")
    assert [t.asin for t in second.targets] == ["B0DEL00802"]
    assert dict(second.skipped) == {"B0DEL00801": f"a job for it is already queued on {ACCOUNT}"}
    dry = delist.queue_deletes(
        env.engine,
        PLATFORM,
        lambda conn: delist.by_asins(conn, PLATFORM, ["B0DEL00801", "B0DEL00802"], "other"),
        now=env.clock.now(),
        dry_run=True,
    )
    assert dry.targets == [] and len(delete_rows(env)) == 2


def test_selection_by_rule_finds_items_a_rule_would_now_block(env: Env) -> None:
    listed(env, "B0RULE0001", "B0RULE0002", "B0RULE0003", "B0RULE0004")
    with env.engine.begin() as conn:
        for asin, values in {
            "B0RULE0001": {"title": "アダルト グッズ", "price": 10},  # NG word and too cheap
            "B0RULE0002": {"category": "ホビー > タバコ"},
            "B0RULE0003": {"price": 10},
        }.items():
            conn.execute(update(products).where(products.c.asin == asin).values(values))
    rules = Rules.build(ng_words=["アダルト"], blocked_categories=["タバコ"], min_price=50)

    def chosen(rule: str) -> list[str]:
        report = delist.queue_deletes(
            env.engine,
            PLATFORM,
            lambda conn: (delist.by_rule(conn, PLATFORM, rules, rule, None), []),
            now=env.clock.now(),
            dry_run=True,
        )
        return [t.asin for t in report.targets]

    assert chosen("ng_words") == ["B0RULE0001"]
    assert chosen("min_price") == ["B0RULE0001", "B0RULE0003"]
    assert chosen("blocked_categories") == ["B0RULE0002"]
    assert chosen("any") == ["B0RULE0001", "B0RULE0002", "B0RULE0003"]
    with pytest.raises(ValueError, match="unknown rule"):
        chosen("nsfw")


def _creations(env: Env) -> int:
    with env.engine.connect() as conn:
        return int(
            conn.execute(select(account_usage.c.creations)).scalar() or 0  # one day, one row
        )
