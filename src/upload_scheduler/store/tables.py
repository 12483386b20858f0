"""The schema. Constraints here, not code paths, make the old system's incidents
impossible: duplicate queue rows, orphan rows after a clean-up, a second listing.

On SQLite the cascades also hold for connections that leave foreign keys off (a plain
sqlite3 clean-up script): migration 0002 adds triggers that delete the dependants.
The partial unique indexes are declared in `schema.py` (see why there)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from upload_scheduler.store.states import JobKind, ListingStatus, QueueStatus
from upload_scheduler.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

LISTING_STATUSES = tuple(s.value for s in ListingStatus)
QUEUE_STATUSES = tuple(s.value for s in QueueStatus)
ACTIVE_QUEUE_STATUSES = (QueueStatus.PENDING.value, QueueStatus.UPLOADING.value)
QUEUE_KINDS = tuple(k.value for k in JobKind)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def status_in(values: tuple[str, ...]) -> str:
    """The SQL text `status IN (...)`, for constraints and partial indexes."""
    return _in("status", values)


products = Table(
    "products",
    metadata,
    Column("asin", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("price", Integer, nullable=False),  # yen
    Column("stock", Integer, nullable=False, server_default="0"),
    Column("images", Text, nullable=False, server_default="[]"),  # JSON list of URLs
    Column("brand", Text, nullable=False, server_default=""),
    Column("category", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # English text for marketplaces that list in English (eBay); "" when there is none.
    Column("title_en", Text, nullable=False, server_default=""),
    Column("description_en", Text, nullable=False, server_default=""),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
)

listings = Table(
    "listings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("asin", String(64), ForeignKey("products.asin", ondelete="CASCADE"), nullable=False),
    Column("platform", String(32), nullable=False),
    # NULL: not yet given to a shop; add-to-queue assigns one.
    Column("account_id", String(128), nullable=True),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("platform_item_id", String(64), nullable=True),
    # A second id some platforms give the listing (eBay's offer), kept for the operator
    # and for delisting; NULL where the platform has none.
    Column("offer_id", String(64), nullable=True),
    Column("listed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("asin", "platform", "account_id"),
    CheckConstraint(_in("status", LISTING_STATUSES), name="status_known"),
    Index("ix_listings_candidates", "platform", "status", "id"),
)

upload_queue = Table(
    "upload_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    # CASCADE: deleting a listing takes its queue rows along, so no orphan row can make
    # a daemon fail on every cycle as it did in the old system.
    Column("listing_id", Integer, ForeignKey("listings.id", ondelete="CASCADE"), nullable=False),
    Column("asin", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("account_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False, server_default="upload"),
    Column("scheduled_time", UTCDateTime, nullable=False),
    Column("priority", Integer, nullable=False, server_default="5"),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error_message", Text, nullable=True),
    Column("platform_item_id", String(64), nullable=True),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    # Set when a platform call for this row starts, cleared when it is known that nothing
    # was created: a row found in `uploading` with it set is looked up on the platform
    # before anything is created again (at most once across crashes).
    Column("call_started_at", UTCDateTime, nullable=True),
    # Images already added to the created item: a retry adds only the rest.
    Column("images_done", Integer, nullable=False, server_default="0"),
    CheckConstraint("priority BETWEEN 1 AND 20", name="priority_range"),
    CheckConstraint(_in("status", QUEUE_STATUSES), name="status_known"),
    CheckConstraint(_in("kind", QUEUE_KINDS), name="kind_known"),
    Index("ix_upload_queue_listing", "listing_id"),
)

# Both match the claim's WHERE and ORDER BY (priority DESC, then time), so a claim reads
# only the rows it takes instead of sorting every pending row of the account.
Index(
    "ix_upload_queue_claim",
    upload_queue.c.platform,
    upload_queue.c.account_id,
    upload_queue.c.status,
    upload_queue.c.priority.desc(),
    upload_queue.c.scheduled_time,
)
Index(
    "ix_upload_queue_due",
    upload_queue.c.platform,
    upload_queue.c.status,
    upload_queue.c.priority.desc(),
    upload_queue.c.scheduled_time,
)

account_usage = Table(
    "account_usage",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("day", String(10), primary_key=True),  # the account's local date, YYYY-MM-DD
    Column("creations", Integer, nullable=False, server_default="0"),
    Column("calls", Integer, nullable=False, server_default="0"),
)


# Calls spent per application (OAuth client id) and day, where the platform's day budget
# belongs to the application and not the shop (eBay, Yahoo!): every account using that
# client id, on every host, reserves from the one row. `day` is the date in the
# platform's reset zone (US Pacific for eBay).
application_usage = Table(
    "application_usage",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("application", String(255), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("calls", Integer, nullable=False, server_default="0"),
)


# When each (platform, account, endpoint) last received a request: a per-URL limit
# (Yahoo!: about one request a second per API URL and store) kept across restarts.
request_spacing = Table(
    "request_spacing",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("endpoint", String(255), primary_key=True),
    Column("sent_at", UTCDateTime, nullable=False),
)


# The calls of a listing the platform accepted, where the platform cannot be asked
# (Yahoo!: which images were uploaded, whether the publish was taken): after a lost answer
# or a crash only what is missing is sent again. `item_key` is the platform's key (the
# item_code); `step` e.g. "image:3", "submitted".
listing_steps = Table(
    "listing_steps",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("item_key", String(255), primary_key=True),
    Column("step", String(64), primary_key=True),
    Column("done_at", UTCDateTime, nullable=False),
)


# One row per (platform, account): what pacing must remember across restarts, the
# pause an operator or a rate limit set, and the lease that keeps one worker per account
# (across processes and hosts).
account_state = Table(
    "account_state",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("last_start_at", UTCDateTime, nullable=True),  # last item creation started
    Column("hour_start", UTCDateTime, nullable=True),  # the clock hour hour_calls counts
    Column("hour_calls", Integer, nullable=False, server_default="0"),
    Column("paused_until", UTCDateTime, nullable=True),
    Column("pause_reason", Text, nullable=True),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_host", String(255), nullable=True),
    Column("lease_pid", Integer, nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
)


# OAuth tokens, one row per (platform, account). They live only in the database so every
# host on a shared PostgreSQL has them; the old system kept them in JSON files. `version`
# is bumped on every write so a refresh is claimed by compare-and-set: two processes never
# refresh one account at once (BASE may invalidate a refresh token once it is used).
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=True),
    Column("token_type", String(32), nullable=False, server_default="bearer"),
    Column("expires_at", UTCDateTime, nullable=False),  # of the access token
    Column("obtained_at", UTCDateTime, nullable=False),  # when the access token was issued
    Column("refresh_token_obtained_at", UTCDateTime, nullable=True),
    # When the platform says (eBay: refresh_token_expires_in); NULL: the platform's usual
    # lifetime from refresh_token_obtained_at.
    Column("refresh_expires_at", UTCDateTime, nullable=True),
    # Set when the platform refused the refresh token: only a new login helps.
    Column("login_required", Text, nullable=True),
    # The last "login ends in N days" notice sent for this login (Yahoo!'s four weeks).
    Column("login_warned_days", Integer, nullable=True),
    Column("refresh_locked_until", UTCDateTime, nullable=True),
    Column("refresh_lock_owner", String(255), nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)


# Uploads ended per (platform, account, result, UTC hour 'YYYY-MM-DD HH'): the counter
# behind `upload_scheduler_uploads_total` and the dashboard's "today". Written only by
# the trigger of migration 0011 (on every change of an upload row to success or failed),
# so no code path can forget it, and `queue purge` deleting rows does not lower it.
upload_counts = Table(
    "upload_counts",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("result", String(16), primary_key=True),
    Column("hour", String(13), primary_key=True),
    Column("count", Integer, nullable=False, server_default="0"),
    # Covers the all-time sums of /metrics: read from the index alone, not row by row.
    Index("ix_upload_counts_totals", "platform", "account_id", "result", "hour", "count"),
)


# Every change of a queue row's status, with its attempts and error at that moment:
# the item page's history. Written only by a trigger of migration 0011.
queue_events = Table(
    "queue_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("queue_id", Integer, ForeignKey("upload_queue.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error_message", Text, nullable=True),
    Index("ix_queue_events_queue_id", "queue_id"),
)


# What operators did, from the dashboard or the CLI's queue and account commands.
# `source`: "cli" or "dashboard"; `items`: how many queue rows the action changed.
activity_log = Table(
    "activity_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("source", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("platform", String(32), nullable=True),
    Column("account_id", String(128), nullable=True),
    Column("target", Text, nullable=False, server_default=""),
    Column("items", Integer, nullable=False, server_default="0"),
    Column("detail", Text, nullable=False, server_default=""),
    Index("ix_activity_log_at", "at"),
)
