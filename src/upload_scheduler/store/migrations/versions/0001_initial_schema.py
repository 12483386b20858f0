"""Initial schema: products, listings, upload_queue, account_usage.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from upload_scheduler.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_usage",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("creations", sa.Integer(), server_default="0", nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", "day", name=op.f("pk_account_usage")),
    )
    op.create_table(
        "products",
        sa.Column("asin", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("images", sa.Text(), server_default="[]", nullable=False),
        sa.Column("brand", sa.Text(), server_default="", nullable=False),
        sa.Column("category", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_products_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_products_stock_not_negative")),
        sa.PrimaryKeyConstraint("asin", name=op.f("pk_products")),
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asin", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("platform_item_id", sa.String(length=64), nullable=True),
        sa.Column("listed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'listed', 'failed', 'delisted')",
            name=op.f("ck_listings_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["asin"], ["products.asin"], name=op.f("fk_listings_asin_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint(
            "asin", "platform", "account_id", name=op.f("uq_listings_asin_platform_account_id")
        ),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index("ix_listings_candidates", ["platform", "status", "id"], unique=False)
        batch_op.create_index(
            "uq_listings_unassigned",
            ["asin", "platform"],
            unique=True,
            sqlite_where=sa.text("account_id IS NULL"),
            postgresql_where=sa.text("account_id IS NULL"),
        )

    op.create_table(
        "upload_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("asin", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="upload", nullable=False),
        sa.Column("scheduled_time", UTCDateTime(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="5", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("platform_item_id", sa.String(length=64), nullable=True),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('upload')", name=op.f("ck_upload_queue_kind_known")),
        sa.CheckConstraint(
            "status IN ('pending', 'uploading', 'success', 'failed', 'cancelled')",
            name=op.f("ck_upload_queue_status_known"),
        ),
        sa.CheckConstraint(
            "priority BETWEEN 1 AND 20", name=op.f("ck_upload_queue_priority_range")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_upload_queue_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_queue")),
    )
    with op.batch_alter_table("upload_queue", schema=None) as batch_op:
        batch_op.create_index(
            "ix_upload_queue_claim",
            [
                "platform",
                "account_id",
                "status",
                sa.literal_column("priority DESC"),
                "scheduled_time",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_upload_queue_due",
            ["platform", "status", sa.literal_column("priority DESC"), "scheduled_time"],
            unique=False,
        )
        batch_op.create_index("ix_upload_queue_listing", ["listing_id"], unique=False)
        batch_op.create_index(
            "uq_upload_queue_active",
            ["asin", "platform", "account_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'uploading')"),
            postgresql_where=sa.text("status IN ('pending', 'uploading')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("upload_queue", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_upload_queue_active",
            sqlite_where=sa.text("status IN ('pending', 'uploading')"),
            postgresql_where=sa.text("status IN ('pending', 'uploading')"),
        )
        batch_op.drop_index("ix_upload_queue_listing")
        batch_op.drop_index("ix_upload_queue_due")
        batch_op.drop_index("ix_upload_queue_claim")

    op.drop_table("upload_queue")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_listings_unassigned",
            sqlite_where=sa.text("account_id IS NULL"),
            postgresql_where=sa.text("account_id IS NULL"),
        )
        batch_op.drop_index("ix_listings_candidates")

    op.drop_table("listings")
    op.drop_table("products")
    op.drop_table("account_usage")
