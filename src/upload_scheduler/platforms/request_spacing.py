"""The per-URL spacing an adapter keeps before each request it sends (Yahoo!: about one
request per second per API URL and store, counted on arrival): `limits.request_ready_at`
decides, the `Clock` waits, `store.request_spacing` remembers across restarts.

The adapter asks right before sending, after any token refresh or bookkeeping, so the
spacing is measured between the requests themselves, and tells when the answer (or the
failure) came back: the next request is spaced from then. That moment is after the
request arrived at the platform, whatever the network and the server's queue did to
it, so the platform never sees two arrivals closer than the interval; counting from the
send alone, a request delayed on its way by more than the margin arrives too soon after
the one before (measured: 30-60 ms on a loaded machine). A request's time is written to
the database before the next wait, never between a request's time and its sending; a
crash loses at most the last one, which a restart's own seconds cover.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Engine

from upload_scheduler.clock import Clock
from upload_scheduler.limits import request_ready_at
from upload_scheduler.store.request_spacing import last_requests, save_requests


class RequestSpacing:
    """One platform's per-endpoint spacing, for every account an adapter serves."""

    def __init__(self, engine: Engine, clock: Clock, platform: str) -> None:
        self.engine = engine
        self.clock = clock
        self.platform = platform
        self._sent: dict[str, dict[str, datetime]] = {}  # account -> endpoint -> time
        self._unsaved: dict[str, dict[str, datetime]] = {}
        self._lock = threading.Lock()

    def before(
        self,
        account_id: str,
        endpoint: str,
        interval_seconds: float,
        stop_event: threading.Event | None = None,
    ) -> None:
        """Wait until `endpoint` may receive this account's next request, then note it as
        sent now. `interval_seconds` <= 0: no spacing."""
        if interval_seconds <= 0:
            return
        with self._lock:
            self._save()
            sent = self._of(account_id)
            ready = request_ready_at(sent.get(endpoint), interval_seconds)
            if ready is not None:
                self.clock.wait((ready - self.clock.now()).total_seconds(), stop_event)
            now = self.clock.now()
            sent[endpoint] = now
            self._unsaved.setdefault(account_id, {})[endpoint] = now

    def answered(self, account_id: str, endpoint: str, interval_seconds: float) -> None:
        """The request `before` let through has its answer (or failed): the next one to
        `endpoint` is spaced from now, after that request's arrival."""
        if interval_seconds <= 0:
            return
        with self._lock:
            now = self.clock.now()
            self._of(account_id)[endpoint] = now
            self._unsaved.setdefault(account_id, {})[endpoint] = now

    def flush(self) -> None:
        """Write the requests noted since the last write (at the end of a listing)."""
        with self._lock:
            self._save()

    def _of(self, account_id: str) -> dict[str, datetime]:
        sent = self._sent.get(account_id)
        if sent is None:
            sent = self._sent[account_id] = last_requests(self.engine, self.platform, account_id)
        return sent

    def _save(self) -> None:
        for account_id, sent in self._unsaved.items():
            save_requests(self.engine, self.platform, account_id, sent)
        self._unsaved.clear()
