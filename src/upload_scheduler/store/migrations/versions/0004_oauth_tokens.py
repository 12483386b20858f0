"""OAuth tokens in the database (no token files), with a version for compare-and-set.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from upload_scheduler.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_tokens",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("token_type", sa.String(length=32), server_default="bearer", nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("obtained_at", UTCDateTime(), nullable=False),
        sa.Column("refresh_token_obtained_at", UTCDateTime(), nullable=True),
        sa.Column("login_required", sa.Text(), nullable=True),
        sa.Column("refresh_locked_until", UTCDateTime(), nullable=True),
        sa.Column("refresh_lock_owner", sa.String(length=255), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", name=op.f("pk_oauth_tokens")),
    )


def downgrade() -> None:
    op.drop_table("oauth_tokens")
