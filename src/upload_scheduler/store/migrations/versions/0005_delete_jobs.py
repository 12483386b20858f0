"""The queue carries delete jobs: `kind` may be 'delete' as well as 'upload'.

SQLite cannot alter a CHECK constraint, so batch mode rebuilds upload_queue (copy, drop,
rename). The trigger of migration 0002 that lives on listings names upload_queue in its
body, and SQLite refuses the rename while a trigger names a missing table; it is dropped
for the rebuild and created again, unchanged. The rebuild carries the indexes over from
reflection, which loses `priority DESC`: the two claim-order indexes are created again
as declared (tests/integration/test_delete_migration.py compares every index).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CONSTRAINT = "kind_known"
QUEUE_TRIGGER = "trg_listings_delete_queue"
QUEUE_TRIGGER_SQL = (
    "CREATE TRIGGER trg_listings_delete_queue AFTER DELETE ON listings "
    "BEGIN DELETE FROM upload_queue WHERE listing_id = OLD.id; END"
)

# The claim's ORDER BY (priority DESC, then time), as store/tables.py declares them.
CLAIM_INDEXES = {
    "ix_upload_queue_claim": (
        "platform",
        "account_id",
        "status",
        "priority DESC",
        "scheduled_time",
    ),
    "ix_upload_queue_due": ("platform", "status", "priority DESC", "scheduled_time"),
}


def _swap(kinds: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(f"DROP TRIGGER IF EXISTS {QUEUE_TRIGGER}")
    condition = f"kind IN ({', '.join(repr(k) for k in kinds)})"
    with op.batch_alter_table("upload_queue", recreate="auto") as batch:
        batch.drop_constraint(op.f(f"ck_upload_queue_{CONSTRAINT}"), type_="check")
        batch.create_check_constraint(CONSTRAINT, sa.text(condition))
    if sqlite:
        op.execute(QUEUE_TRIGGER_SQL)
        for name, columns in CLAIM_INDEXES.items():
            op.drop_index(name, table_name="upload_queue")
            op.create_index(name, "upload_queue", [sa.text(c) for c in columns])


def upgrade() -> None:
    _swap(("upload", "delete"))


def downgrade() -> None:
    op.execute("DELETE FROM upload_queue WHERE kind = 'delete'")
    _swap(("upload",))
