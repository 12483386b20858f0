"""The Yahoo! sandbox's record: one dict per OAuth or store API request, in the order the
sandbox carried them out, in memory and, if asked, appended to a JSONL file (the BASE
sandbox's recorder; `load_calls` reads such a file back).

Each entry: `time` (ISO UTC, at arrival), `method`, `path`, `api` (editItem, …; None for
OAuth), `seller_id`, `item_code`, `file_name` (uploadItemImage), `client_id`, `user`,
`status` (None when no answer was sent), `outcome` ("ok", a Yahoo! code, an OAuth error,
too_many_requests, app_day_limit, image_hour_limit, invalid_token, or "fault:<kind>"),
`fault` (the kind or None), `refused` (why a limit or the token refused it, else None)
and `effect`, what was carried out: item_edited (with `display` and `reset_fields`, the
contract's fields left out), image_uploaded (`size`, `format`), stock_set (`quantity`),
item_deleted, submitted (`publish_at`), publish_reserved (`publish_at`, `item_codes`).
Never a token, code or secret. The image origin's requests are not recorded.
"""

from __future__ import annotations

from upload_scheduler.platforms.ebay.sandbox.record import now_iso
from upload_scheduler.platforms.thebase.sandbox.record import Recorder, load_calls

__all__ = ["Recorder", "load_calls", "now_iso"]
