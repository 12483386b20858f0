"""Yahoo!: the spacing of requests per API URL, the steps of a listing, login warnings.

- `request_spacing`: when each (platform, account, endpoint) last received a request, so
  a per-URL limit (Yahoo!: about one request per second per API URL and store) is kept
  across a daemon's restarts as the start-to-start spacing is.
- `listing_steps`: the calls of a listing that the platform accepted (Yahoo!: each image
  by its index, the publish), where the platform cannot be asked: after a lost answer or
  a crash, only what is missing is sent again.
- `oauth_tokens.login_warned_days`: the last "login ends in N days" notice sent for the
  current login (Yahoo!'s four weeks), so a restart does not send it again.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from upload_scheduler.store.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_spacing",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("endpoint", sa.String(255), primary_key=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "listing_steps",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("item_key", sa.String(255), primary_key=True),
        sa.Column("step", sa.String(64), primary_key=True),
        sa.Column("done_at", UTCDateTime(), nullable=False),
    )
    op.add_column("oauth_tokens", sa.Column("login_warned_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("oauth_tokens", "login_warned_days")
    op.drop_table("listing_steps")
    op.drop_table("request_spacing")
