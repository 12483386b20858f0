"""The old system's queue incidents (BASE_API.md, "What went wrong"), each replayed
against a real SQLite file to show it cannot happen again."""

from __future__ import annotations

import multiprocessing
import threading
import tomllib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from tests.integration.queue_fixtures import (
    ACCOUNT_1,
    ACCOUNT_2,
    PLATFORM,
    START,
    QueueEnv,
    add_to_queue_in_process,
    asins_for,
    claim_due,
    config_dict,
    open_queue,
    run_plain_script,
)
from upload_scheduler.queue.manager import UploadQueueManager
from upload_scheduler.store.tables import listings, products, upload_queue


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[QueueEnv]:
    queue = open_queue(tmp_path, database_url)
    yield queue
    queue.engine.dispose()


def _claim(env: QueueEnv, account_id: str | None, limit: int = 100) -> list[int]:
    items = claim_due(
        env.engine,
        PLATFORM,
        account_id,
        limit,
        owner="daemon",
        lease_seconds=30,
        now=env.clock.now(),
    )
    return [i.id for i in items]


def _queue_count(env: QueueEnv) -> int:
    with env.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(upload_queue)).scalar_one())


# ---------------------------------------------------------------------- (1) orphan rows


def test_deleting_a_product_takes_its_listings_and_queue_rows_along(env: QueueEnv) -> None:
    env.add_products(["GONE", "KEPT"])
    gone = env.manager.add_to_queue("GONE", PLATFORM, account_id=ACCOUNT_1)
    kept = env.manager.add_to_queue("KEPT", PLATFORM, account_id=ACCOUNT_1)
    assert gone is not None and kept is not None

    with env.engine.begin() as conn:  # the clean-up script
        conn.execute(delete(products).where(products.c.asin == "GONE"))

    assert env.listings_of("GONE") == []
    assert env.queue_rows("GONE") == []
    assert [r["id"] for r in env.queue_rows()] == [kept]
    assert env.manager.get_queue_statistics(PLATFORM)["total"] == 1
    assert [i.id for i in env.manager.get_scheduled_items_due(10, PLATFORM)] == [kept]
    assert _claim(env, ACCOUNT_1) == [kept]
    assert env.manager.update_queue_status(kept, "success", {"platform_item_id": "7"})
    assert not env.manager.update_queue_status(gone, "success", {"platform_item_id": "8"})
    assert env.manager.get_queue_statistics(PLATFORM)["success"] == 1


def test_deleting_a_listing_takes_its_queue_rows_along(env: QueueEnv) -> None:
    [listing_id] = env.add_product("GONE")
    queue_id = env.manager.add_to_queue("GONE", PLATFORM)
    assert queue_id is not None
    assert env.manager.update_queue_status(queue_id, "failed", {"error_message": "500"})

    with env.engine.begin() as conn:
        conn.execute(delete(listings).where(listings.c.id == listing_id))

    assert env.queue_rows() == []
    assert env.manager.requeue_failed() == 0
    assert env.manager.get_queue_statistics(PLATFORM)["total"] == 0
    assert _claim(env, None) == []


def test_a_clean_up_script_with_a_plain_driver_connection_also_cascades(env: QueueEnv) -> None:
    """The old clean-up ran as a bare script; SQLite leaves foreign keys off on every new
    connection unless asked, so the cascade must not depend on the script asking."""
    env.add_products(["GONE", "KEPT"])
    gone = env.manager.add_to_queue("GONE", PLATFORM, account_id=ACCOUNT_1)
    kept = env.manager.add_to_queue("KEPT", PLATFORM, account_id=ACCOUNT_1)
    assert gone is not None and kept is not None

    run_plain_script(env.settings.database_url, "DELETE FROM products WHERE asin = 'GONE'")

    assert env.listings_of("GONE") == []
    assert env.queue_rows("GONE") == []
    assert env.manager.get_queue_statistics(PLATFORM)["total"] == 1
    assert _claim(env, ACCOUNT_1) == [kept]


# ---------------------------------------------------------------------- (2) duplicate rows


def test_adding_the_same_batch_twice_creates_no_second_row(env: QueueEnv) -> None:
    asins = asins_for("B", 2006)
    env.add_products(asins)

    first = env.manager.add_batch_to_queue(asins, PLATFORM)
    second = env.manager.add_batch_to_queue(asins, PLATFORM)
    third = env.manager.add_batch_to_queue(asins, PLATFORM, distribute_time=False)

    assert first.queued == 2006
    assert second.queued == third.queued == 0
    assert second.queue_ids == third.queue_ids == []
    assert [asin for asin, _ in second.skipped] == asins
    assert all(reason.startswith("already queued on base_account_") for _, reason in second.skipped)
    active = env.active_rows()
    assert len(active) == 2006
    assert Counter(r["asin"] for r in active).most_common(1)[0][1] == 1
    assert Counter(r["account_id"] for r in active) == {ACCOUNT_1: 1003, ACCOUNT_2: 1003}
    assert env.manager.add_to_queue(asins[0], PLATFORM) is None
    assert _queue_count(env) == 2006


def test_database_refuses_a_second_active_row(env: QueueEnv) -> None:
    [listing_id] = env.add_product("B000000001", listing_accounts=[ACCOUNT_1])
    queue_id = env.manager.add_to_queue("B000000001", PLATFORM)
    assert queue_id is not None
    original = env.queue_row(queue_id)
    duplicate = {k: v for k, v in original.items() if k != "id"}

    with pytest.raises(IntegrityError), env.engine.begin() as conn:
        conn.execute(upload_queue.insert().values(duplicate))
    assert _claim(env, ACCOUNT_1) == [queue_id]
    with pytest.raises(IntegrityError), env.engine.begin() as conn:
        conn.execute(upload_queue.insert().values(duplicate))  # while it is uploading

    assert env.manager.update_queue_status(queue_id, "failed", {"error_message": "500"})
    with env.engine.begin() as conn:  # finished rows do not block a new attempt
        conn.execute(upload_queue.insert().values(duplicate))
    assert [r["id"] for r in env.active_rows()] != [queue_id]
    assert env.listing(listing_id)["account_id"] == ACCOUNT_1


def test_add_to_queue_from_two_threads_creates_no_second_row(env: QueueEnv) -> None:
    asins = asins_for("T", 40)
    env.add_products(asins)
    terminals = [env.other_manager(), env.other_manager()]
    start = threading.Barrier(len(terminals))

    def add_all(manager: UploadQueueManager) -> dict[str, int | None]:
        start.wait(timeout=30)
        return {asin: manager.add_to_queue(asin, PLATFORM) for asin in asins}

    try:
        with ThreadPoolExecutor(max_workers=len(terminals)) as pool:
            results = [f.result(timeout=60) for f in [pool.submit(add_all, m) for m in terminals]]
    finally:
        for manager in terminals:
            manager.engine.dispose()

    _assert_each_asin_queued_once(env, asins, results)


def test_add_to_queue_from_two_processes_creates_no_second_row(
    env: QueueEnv, tmp_path: Path
) -> None:
    asins = asins_for("P", 30)
    env.add_products(asins)
    config = tmp_path / "upload-scheduler.toml"
    raw = config_dict(env.settings.database_url)
    accounts = ", ".join(f'"{a}"' for a in raw["accounts"][PLATFORM])
    config.write_text(
        f'database = "{raw["database"]}"\n\n[accounts]\n{PLATFORM} = [{accounts}]\n', "utf-8"
    )
    assert tomllib.loads(config.read_text("utf-8")) == raw
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results_queue = context.Queue()
    processes = [
        context.Process(
            target=add_to_queue_in_process,
            args=(str(config), asins, START.isoformat(), barrier, results_queue),
        )
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    try:
        results = [results_queue.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=60)
        results_queue.close()
        results_queue.join_thread()
    assert [p.exitcode for p in processes] == [0, 0]

    _assert_each_asin_queued_once(env, asins, results)


def _assert_each_asin_queued_once(
    env: QueueEnv, asins: list[str], results: list[dict[str, int | None]]
) -> None:
    for asin in asins:
        ids = [r[asin] for r in results if r[asin] is not None]
        assert len(ids) == 1, (asin, ids)
    returned = [qid for r in results for qid in r.values() if qid is not None]
    active = env.active_rows()
    assert sorted(returned) == sorted(r["id"] for r in active)
    assert sorted(r["asin"] for r in active) == sorted(asins)
    assert _queue_count(env) == len(asins)
    assert all(listing["status"] == "queued" for asin in asins for listing in env.listings_of(asin))


# ---------------------------------------------------------------------- (3) clearing the queue


def test_clearing_the_queue_never_leaves_a_listing_open_to_a_second_upload(
    env: QueueEnv,
) -> None:
    asins = ["LISTED", "UPLOADING", "WAITING1", "WAITING2", "LATER"]
    env.add_products(asins)
    ids = {
        asin: env.manager.add_to_queue(asin, PLATFORM, account_id=ACCOUNT_1) for asin in asins[:4]
    }
    ids["LATER"] = env.manager.add_to_queue(
        "LATER", PLATFORM, account_id=ACCOUNT_2, scheduled_time=START + timedelta(days=1)
    )
    assert None not in ids.values()
    assert _claim(env, ACCOUNT_1, limit=2) == [ids["LISTED"], ids["UPLOADING"]]
    assert env.manager.update_queue_status(ids["LISTED"], "success", {"platform_item_id": "1"})

    assert env.manager.cancel() == 3  # "clear the queue": every pending item

    statuses = {r["asin"]: r["status"] for r in env.queue_rows()}
    assert statuses == {
        "LISTED": "success",
        "UPLOADING": "uploading",
        "WAITING1": "cancelled",
        "WAITING2": "cancelled",
        "LATER": "cancelled",
    }
    listing_status = {a: env.listings_of(a)[0]["status"] for a in asins}
    assert listing_status == {
        "LISTED": "listed",
        "UPLOADING": "queued",
        "WAITING1": "pending",
        "WAITING2": "pending",
        "LATER": "pending",
    }
    assert _claim(env, None) == []

    # The item that was being uploaded finishes; it and the earlier one are listed for good.
    upload_id = ids["UPLOADING"]
    assert upload_id is not None
    assert env.manager.update_queue_status(upload_id, "success", {"platform_item_id": "2"})
    for asin in ("LISTED", "UPLOADING"):
        assert env.manager.add_to_queue(asin, PLATFORM) is None
        assert env.manager.add_to_queue(asin, PLATFORM, account_id=ACCOUNT_1) is None
    again = env.manager.add_batch_to_queue(asins, PLATFORM)
    assert again.queued == 3
    assert dict(again.skipped) == {
        "LISTED": f"already listed on {ACCOUNT_1}",
        "UPLOADING": f"already listed on {ACCOUNT_1}",
    }
    queued = {r["asin"] for r in env.active_rows()}
    assert queued == {"WAITING1", "WAITING2", "LATER"}
    assert Counter(r["asin"] for r in env.queue_rows("LISTED")) == {"LISTED": 1}


def test_cancelling_one_account_leaves_the_others_queue_alone(env: QueueEnv) -> None:
    env.add_products(["ONE", "TWO"])
    one = env.manager.add_to_queue("ONE", PLATFORM, account_id=ACCOUNT_1)
    two = env.manager.add_to_queue("TWO", PLATFORM, account_id=ACCOUNT_2)
    assert one is not None and two is not None

    assert env.manager.cancel(platform=PLATFORM, account_id=ACCOUNT_1) == 1

    assert env.queue_row(one)["status"] == "cancelled"
    assert env.queue_row(two)["status"] == "pending"
    assert env.listings_of("ONE")[0]["status"] == "pending"
    assert env.listings_of("TWO")[0]["status"] == "queued"
