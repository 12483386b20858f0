"""SQLite: cascade deletes even on connections that leave foreign keys off.

A clean-up script that opens the file with plain sqlite3 has foreign keys off, and its
deletes would leave orphan listings and queue rows (the old system's incident). These
triggers fire on every connection; where the foreign-key cascade already ran they find
nothing left to delete. A later migration that rebuilds one of these tables with
batch_alter_table drops its triggers and must create them again.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TRIGGERS = {
    "trg_products_delete_listings": (
        "CREATE TRIGGER trg_products_delete_listings AFTER DELETE ON products "
        "BEGIN DELETE FROM listings WHERE asin = OLD.asin; END"
    ),
    "trg_listings_delete_queue": (
        "CREATE TRIGGER trg_listings_delete_queue AFTER DELETE ON listings "
        "BEGIN DELETE FROM upload_queue WHERE listing_id = OLD.id; END"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL enforces foreign keys on every connection.
    for sql in TRIGGERS.values():
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
