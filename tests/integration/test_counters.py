"""Per-account counters hold under concurrency (issue 8): hosts that add usage at the
same moment add up, and none fails on the other's new row."""

from __future__ import annotations

import threading

from upload_scheduler.queue.manager import add_usage
from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import account_usage

WRITERS = 4
ADDS = 25


def test_concurrent_usage_adds_all_count(database_url: str) -> None:
    engines = [open_database(database_url) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(engine) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait(timeout=30)
            for n in range(ADDS):
                with write_transaction(engine) as conn:
                    # A new day's row appears mid-run: its first inserts race.
                    add_usage(conn, "base", "shop", "2026-01-05", calls=1, creations=n % 2)
                    add_usage(conn, "base", "shop", f"2026-01-{6 + n // 10:02d}", calls=2)
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with engines[0].connect() as conn:
        rows = {r.day: (r.calls, r.creations) for r in conn.execute(account_usage.select())}
    for engine in engines:
        engine.dispose()
    assert rows["2026-01-05"] == (WRITERS * ADDS, WRITERS * (ADDS // 2))
    assert sum(calls for day, (calls, _) in rows.items() if day != "2026-01-05") == (
        WRITERS * ADDS * 2
    )
