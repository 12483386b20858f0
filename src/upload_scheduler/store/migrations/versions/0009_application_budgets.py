"""eBay: budgets per application, the offer id of a listing, a refresh token's end.

- `application_usage`: calls per (platform, application, day), for the day budgets that
  every account on one OAuth client id shares (eBay, Yahoo!).
- `listings.offer_id`: eBay's offer behind a listing (NULL for other platforms).
- `oauth_tokens.refresh_expires_at`: when the platform names the refresh token's end
  (eBay's is about 18 months); NULL keeps the platform's usual lifetime.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from upload_scheduler.store.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application_usage",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("application", sa.String(255), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False, server_default="0"),
    )
    # Nullable ADD COLUMNs: metadata changes on SQLite and PostgreSQL alike.
    op.add_column("listings", sa.Column("offer_id", sa.String(64), nullable=True))
    op.add_column("oauth_tokens", sa.Column("refresh_expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35+), never batch_alter_table: rebuilding `listings`
    # would lose its triggers (0002).
    op.drop_column("oauth_tokens", "refresh_expires_at")
    op.drop_column("listings", "offer_id")
    op.drop_table("application_usage")
