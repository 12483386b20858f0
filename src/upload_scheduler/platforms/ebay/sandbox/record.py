"""The eBay sandbox's record of every request: one dict per request, in the order the
sandbox carried them out, kept in memory and appended to a JSONL file if asked.

Each entry: `time` (ISO UTC, at arrival), `method`, `path`, `seller`, `client_id`,
`status` (None when no answer was sent), `outcome` ("ok", eBay's errorId, OAuth's error
code, or "fault:<kind>"), `fault` (the kind or None) and, for inventory calls, `sku`,
`marketplace_id`, `offer_id`, `listing_id` and `effect` (what was carried out:
item_put, item_deleted, offer_created, offer_updated, offer_deleted, listing_created,
listing_revised, listing_ended, location_created). Never a token, code or secret.

The recorder itself is the BASE sandbox's (in memory, JSONL flushed per line).
"""

from __future__ import annotations

from datetime import datetime

from upload_scheduler.platforms.thebase.sandbox.record import Recorder, load_calls

__all__ = ["Recorder", "load_calls", "now_iso"]


def now_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")
