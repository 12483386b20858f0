"""When each endpoint of an account last received a request (`request_spacing`), so the
per-URL spacing `limits.request_ready_at` computes holds across a daemon's restarts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine, case, select

from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import request_spacing
from upload_scheduler.store.upsert import dialect_insert


def last_requests(engine: Engine, platform: str, account_id: str) -> dict[str, datetime]:
    """Endpoint -> when it last received a request from this account."""
    query = select(request_spacing.c.endpoint, request_spacing.c.sent_at).where(
        request_spacing.c.platform == platform, request_spacing.c.account_id == account_id
    )
    with engine.connect() as conn:
        return {row.endpoint: row.sent_at for row in conn.execute(query)}


def save_requests(
    engine: Engine, platform: str, account_id: str, sent: Mapping[str, datetime]
) -> None:
    """Remember the latest request per endpoint (a later time replaces an earlier one)."""
    if not sent:
        return
    with write_transaction(engine) as conn:
        for endpoint, sent_at in sent.items():
            insert = dialect_insert(conn, request_spacing).values(
                platform=platform, account_id=account_id, endpoint=endpoint, sent_at=sent_at
            )
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[
                        request_spacing.c.platform,
                        request_spacing.c.account_id,
                        request_spacing.c.endpoint,
                    ],
                    # Never back in time (a clock stepped back): the later of the two.
                    set_={
                        "sent_at": case(
                            (
                                insert.excluded.sent_at > request_spacing.c.sent_at,
                                insert.excluded.sent_at,
                            ),
                            else_=request_spacing.c.sent_at,
                        )
                    },
                )
            )
