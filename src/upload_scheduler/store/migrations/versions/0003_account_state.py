"""Per-account state (pacing memory, pauses, the one-worker-per-account lease) and the
queue columns crash recovery needs.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from upload_scheduler.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_state",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("last_start_at", UTCDateTime(), nullable=True),
        sa.Column("hour_start", UTCDateTime(), nullable=True),
        sa.Column("hour_calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("paused_until", UTCDateTime(), nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_host", sa.String(length=255), nullable=True),
        sa.Column("lease_pid", sa.Integer(), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "account_id", name=op.f("pk_account_state")),
    )
    with op.batch_alter_table("upload_queue") as batch:
        batch.add_column(sa.Column("call_started_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("images_done", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("upload_queue") as batch:
        batch.drop_column("images_done")
        batch.drop_column("call_started_at")
    op.drop_table("account_state")
