"""Dashboard (issue 18): upload counters kept in the database, and the activity log.

- `upload_counts`: uploads ended per (platform, account, result, UTC hour). A trigger on
  `upload_queue` adds one whenever an upload row turns `success` or `failed`, whichever
  code path (daemon, CLI, dashboard, an operator's SQL) changed it, so the Prometheus
  counter `upload_scheduler_uploads_total` survives `queue purge` deleting the rows.
  Existing finished rows are counted once here.
- `queue_events`: every change of a queue row's status, with its attempts and error at
  that moment, written by a second trigger: the item page's attempts, each with its
  error (the row itself keeps only the last). Deleted with its row (a foreign-key
  cascade, and on SQLite a delete trigger as in 0002 for connections without them).
- `activity_log`: every action taken from the dashboard or the CLI's queue and account
  commands: who, what, on what, how many items, when.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from upload_scheduler.store.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The hour bucket is 'YYYY-MM-DD HH' in UTC on both databases.
_SQLITE_HOUR = "substr(COALESCE(NEW.processed_at, NEW.updated_at), 1, 13)"
_PG_HOUR = (
    "to_char(COALESCE(NEW.processed_at, NEW.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
)
_WHEN = "NEW.kind = 'upload' AND NEW.status IN ('success', 'failed') AND NEW.status <> OLD.status"
_UPSERT = (
    "INSERT INTO upload_counts (platform, account_id, result, hour, count) "
    "VALUES (NEW.platform, NEW.account_id, NEW.status, {hour}, 1) "
    "ON CONFLICT (platform, account_id, result, hour) "
    "DO UPDATE SET count = upload_counts.count + 1"
)
_EVENT_WHEN = "NEW.status <> OLD.status"
_EVENT_INSERT = (
    "INSERT INTO queue_events (queue_id, at, from_status, to_status, attempts, error_message) "
    "VALUES (NEW.id, NEW.updated_at, OLD.status, NEW.status, NEW.attempts, NEW.error_message)"
)
SQLITE_EVENT_TRIGGERS = {
    "trg_upload_queue_event": (
        "CREATE TRIGGER trg_upload_queue_event AFTER UPDATE OF status ON upload_queue "
        f"WHEN {_EVENT_WHEN} BEGIN {_EVENT_INSERT}; END"
    ),
    "trg_upload_queue_delete_events": (
        "CREATE TRIGGER trg_upload_queue_delete_events AFTER DELETE ON upload_queue "
        "BEGIN DELETE FROM queue_events WHERE queue_id = OLD.id; END"
    ),
}
PG_EVENT_FUNCTION = (
    "CREATE FUNCTION upload_queue_event() RETURNS trigger AS $$ BEGIN "
    f"IF {_EVENT_WHEN} THEN {_EVENT_INSERT}; END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql"
)
PG_EVENT_TRIGGER = (
    "CREATE TRIGGER trg_upload_queue_event AFTER UPDATE OF status ON upload_queue "
    "FOR EACH ROW EXECUTE FUNCTION upload_queue_event()"
)
SQLITE_TRIGGER = (
    "CREATE TRIGGER trg_upload_queue_count AFTER UPDATE OF status ON upload_queue "
    f"WHEN {_WHEN} BEGIN {_UPSERT.format(hour=_SQLITE_HOUR)}; END"
)
PG_FUNCTION = (
    "CREATE FUNCTION upload_queue_count() RETURNS trigger AS $$ BEGIN "
    f"IF {_WHEN} THEN {_UPSERT.format(hour=_PG_HOUR)}; END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql"
)
PG_TRIGGER = (
    "CREATE TRIGGER trg_upload_queue_count AFTER UPDATE OF status ON upload_queue "
    "FOR EACH ROW EXECUTE FUNCTION upload_queue_count()"
)


def upgrade() -> None:
    op.create_table(
        "upload_counts",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("result", sa.String(16), primary_key=True),
        sa.Column("hour", sa.String(13), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_upload_counts_totals",
        "upload_counts",
        ["platform", "account_id", "result", "hour", "count"],
    )
    op.create_table(
        "queue_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "queue_id",
            sa.Integer(),
            sa.ForeignKey("upload_queue.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
    )
    op.create_index("ix_queue_events_queue_id", "queue_events", ["queue_id"])
    op.create_table(
        "activity_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=True),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("target", sa.Text(), nullable=False, server_default=""),
        sa.Column("items", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_activity_log_at", "activity_log", ["at"])
    dialect = op.get_bind().dialect.name
    hour = (
        "substr(COALESCE(processed_at, updated_at), 1, 13)"
        if dialect == "sqlite"
        else "to_char(COALESCE(processed_at, updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
    )
    op.execute(
        "INSERT INTO upload_counts (platform, account_id, result, hour, count) "
        f"SELECT platform, account_id, status, {hour}, count(*) FROM upload_queue "
        "WHERE kind = 'upload' AND status IN ('success', 'failed') "
        f"GROUP BY platform, account_id, status, {hour}"
    )
    if dialect == "sqlite":
        op.execute(SQLITE_TRIGGER)
        for sql in SQLITE_EVENT_TRIGGERS.values():
            op.execute(sql)
    else:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
        op.execute(PG_EVENT_FUNCTION)
        op.execute(PG_EVENT_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("trg_upload_queue_count", *SQLITE_EVENT_TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, function in (
            ("trg_upload_queue_count", "upload_queue_count"),
            ("trg_upload_queue_event", "upload_queue_event"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON upload_queue")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_activity_log_at", table_name="activity_log")
    op.drop_table("activity_log")
    op.drop_index("ix_queue_events_queue_id", table_name="queue_events")
    op.drop_table("queue_events")
    op.drop_index("ix_upload_counts_totals", table_name="upload_counts")
    op.drop_table("upload_counts")
