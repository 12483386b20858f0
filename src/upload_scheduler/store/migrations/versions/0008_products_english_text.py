"""Products gain English text for marketplaces that list in English (eBay).

`title_en` and `description_en` sit beside the Japanese `title` and `description`;
existing rows get "" (no English text yet), so no adapter or import sees a NULL.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("title_en", "description_en")


def upgrade() -> None:
    # ADD COLUMN with a constant default: a metadata change on both SQLite and
    # PostgreSQL 11+, no table rewrite however many products there are.
    for name in COLUMNS:
        op.add_column("products", sa.Column(name, sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), never batch_alter_table: rebuilding `products`
    # would drop it, and its delete trigger (0002) would take every listing along.
    for name in reversed(COLUMNS):
        op.drop_column("products", name)
