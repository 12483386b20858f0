"""Waking an idle daemon the moment one of its accounts gets a due-able item.

On PostgreSQL the queue announces such rows itself (migration 0006: NOTIFY
upload_scheduler_due, '<platform>/<account>', sent at commit by whichever host or script
wrote them). The daemon LISTENs on a connection of its own, outside the pool. When that
connection is gone the daemon polls, as on SQLite, and after reconnecting it looks at
the queue once, since a notification may have been missed meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger("upload_scheduler.worker")

CHANNEL = "upload_scheduler_due"
RECONNECT_SECONDS = 5.0  # a broken listener is retried at most this often


class DueListener:
    """LISTEN for this daemon's accounts. `wait` returns True when the queue should be
    looked at: a notification for one of them, or a fresh (re)connection."""

    def __init__(self, engine: Engine, platform: str, account_ids: Iterable[str]) -> None:
        url = engine.url.set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._wanted = {f"{platform}/{account}" for account in account_ids}
        self._conn: Any = None
        self._next_attempt = 0.0
        self._fresh = False

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for a notification of ours. Without a working
        connection it returns False at once: the caller polls."""
        if not self.listening and not self._connect():
            return False
        if self._fresh:
            self._fresh = False
            return True
        deadline = time.monotonic() + timeout
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                for note in self._conn.notifies(timeout=remaining, stop_after=1):
                    if note.payload in self._wanted:
                        return True
        except Exception as exc:  # the server restarted or the network broke: poll
            log.warning("stopped listening for due items (%s); polling", type(exc).__name__)
            self.close()
        return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken
                pass
            self._conn = None

    def _connect(self) -> bool:
        now = time.monotonic()
        if now < self._next_attempt:
            return False
        self._next_attempt = now + RECONNECT_SECONDS
        try:
            import psycopg

            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            self._conn.execute(f"LISTEN {CHANNEL}")
        except Exception as exc:
            log.warning("cannot listen for due items (%s); polling", type(exc).__name__)
            self.close()
            return False
        self._fresh = True
        return True
