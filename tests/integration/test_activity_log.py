"""The activity log's writer on a real database: an entry is written and read back, and
a failed write (here: the table is gone) is logged and swallowed, since the action it
describes has already happened."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from upload_scheduler.operations import activity
from upload_scheduler.store.database import open_database

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def test_record_cli_writes_an_entry_by_the_person_running_it(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        activity.record_cli(
            engine,
            action=activity.PAUSE,
            now=NOW,
            platform="base",
            account_id="shop1",
            detail="x" * 600,
        )
        [entry] = activity.recent(engine)
    finally:
        engine.dispose()
    assert (entry.source, entry.actor) == (activity.CLI, activity.cli_actor())
    assert (entry.action, entry.platform, entry.account_id) == ("pause", "base", "shop1")
    assert (entry.at, entry.target, entry.items) == (NOW, "", 0)
    assert entry.detail == "x" * 500  # a pasted text cannot grow the log without bound


def test_a_failed_write_is_logged_and_swallowed(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_database(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE activity_log"))
        with caplog.at_level(logging.WARNING, logger=activity.__name__):
            activity.record_cli(engine, action=activity.CANCEL, now=NOW, items=3)
    finally:
        engine.dispose()
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith("could not write the activity log entry for cancel: ")
