"""PostgreSQL: a pause or a resume announces itself on the due channel (NOTIFY).

An account's pause (or its end) changes what its daemon may start, so the daemon must
hear of it at once, not at its next check: a change of `account_state.pause_reason` or
`paused_until` sends the same `NOTIFY upload_scheduler_due, '<platform>/<account>'` as a
newly due item (migration 0006's function), whoever wrote it. SQLite's daemons poll.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRIGGER = (
    "CREATE TRIGGER trg_account_state_pause AFTER UPDATE ON account_state "
    "FOR EACH ROW WHEN (OLD.pause_reason IS DISTINCT FROM NEW.pause_reason "
    "OR OLD.paused_until IS DISTINCT FROM NEW.paused_until) "
    "EXECUTE FUNCTION upload_scheduler_notify_due()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS trg_account_state_pause ON account_state")
