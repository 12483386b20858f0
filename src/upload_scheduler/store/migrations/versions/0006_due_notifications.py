"""PostgreSQL: a queue row that becomes due-able announces itself (NOTIFY).

Whenever a row turns `pending`, or a pending row's time or priority changes, the
database sends `NOTIFY upload_scheduler_due, '<platform>/<account>'` at commit. Daemons
LISTEN and wake at once, whichever host or script wrote the row; identical payloads of
one transaction are delivered once, so a bulk enqueue sends one per account. SQLite has
no notifications: its daemons keep polling.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHANNEL = "upload_scheduler_due"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION upload_scheduler_notify_due() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.platform || '/' || NEW.account_id);
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

TRIGGERS = (
    "CREATE TRIGGER trg_upload_queue_due_insert AFTER INSERT ON upload_queue "
    "FOR EACH ROW WHEN (NEW.status = 'pending') "
    "EXECUTE FUNCTION upload_scheduler_notify_due()",
    "CREATE TRIGGER trg_upload_queue_due_update AFTER UPDATE ON upload_queue "
    "FOR EACH ROW WHEN (NEW.status = 'pending' AND (OLD.status <> 'pending' "
    "OR OLD.scheduled_time IS DISTINCT FROM NEW.scheduled_time "
    "OR OLD.priority <> NEW.priority)) "
    "EXECUTE FUNCTION upload_scheduler_notify_due()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for sql in TRIGGERS:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS trg_upload_queue_due_update ON upload_queue")
    op.execute("DROP TRIGGER IF EXISTS trg_upload_queue_due_insert ON upload_queue")
    op.execute("DROP FUNCTION IF EXISTS upload_scheduler_notify_due()")
