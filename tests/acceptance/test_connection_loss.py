"""PostgreSQL restarted in the middle of a run (issue 8): the daemon keeps running,
waits the outage out with backoff, reconnects, and loses nothing: every item ends
uploaded exactly once, an item whose outcome could not be recorded is resolved by the
identifier lookup. The server is a private cluster of this test (tests/pg_cluster.py),
so restarting it disturbs no other test."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.acceptance.cli import run_cli
from tests.acceptance.daemon_helpers import (
    ACCOUNT,
    IMAGES,
    PLATFORM,
    Workspace,
    stop,
    wait_for,
    workspace,
)
from tests.backends import postgres_only
from tests.pg_cluster import Cluster, bin_dir, free_port
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import upload_queue

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="stops processes with POSIX signals"),
    postgres_only,
]

ITEMS = 30


@pytest.fixture
def cluster(database_url: str) -> Iterator[Cluster]:
    """A server of our own (database_url only says that PostgreSQL is in use here)."""
    if bin_dir() is None:
        pytest.fail("PostgreSQL's server programs are not installed (initdb, pg_ctl)")
    # Not under tmp_path: pytest makes that private to us, and the server runs as the
    # `postgres` user when we are root.
    folder = Path(tempfile.mkdtemp(prefix="upload-scheduler-pg-"))
    server = Cluster(folder, free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _statuses(url: str) -> Counter[str]:
    engine = open_database(url, migrate=False)
    try:
        with engine.connect() as conn:
            return Counter(conn.execute(select(upload_queue.c.status)).scalars())
    finally:
        engine.dispose()


def test_a_postgresql_restart_mid_run_loses_nothing(cluster: Cluster, tmp_path: Path) -> None:
    root = tmp_path / "work"
    root.mkdir()
    with workspace(root, latency=0.05, database=cluster.url) as space:
        _queue(space)
        daemon = space.start_daemon()
        wait_for(lambda: _statuses(cluster.url)["success"] >= 5, "the first uploads", 30)

        cluster.stop(mode="fast")  # every connection is cut, mid-call or not
        time.sleep(2.0)  # an outage of two seconds: uploads may still be under way
        cluster.start()

        wait_for(lambda: _statuses(cluster.url)["success"] == ITEMS, "every item uploaded", 60, 0.5)
        assert daemon.poll() is None, space.output_of(daemon)  # it rode the outage out
        log = space.log_file.read_text(encoding="utf-8")
        assert "database unavailable" in log and "database reachable again" in log
        created = Counter(r["identifier"] for r in space.platform_items())
        assert len(created) == ITEMS and set(created.values()) == {1}, created
        code, _ = stop(daemon)
        assert code == 0, space.output_of(daemon)


def _queue(space: Workspace) -> None:
    """Import and queue through the CLI, as in the daemon tests; the queue is then read
    from PostgreSQL, not from Workspace's SQLite file."""
    lines = ["asin,title,price,images"]
    lines += [f"B0LOSS{n:04d},Item {n},1500,{IMAGES}" for n in range(ITEMS)]
    (space.root / "products.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for args in (
        ("products", "import", "products.csv", "--platform", PLATFORM),
        ("add-to-queue", "--platform", PLATFORM, "--account-id", ACCOUNT, "--limit", str(ITEMS)),
    ):
        done = run_cli(*args, cwd=space.root)
        assert done.returncode == 0, done.stdout + done.stderr
