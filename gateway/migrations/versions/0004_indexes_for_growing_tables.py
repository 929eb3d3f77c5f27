"""indexes for queries that run all the time on tables that only grow: the acknowledgement rate limit and the SLA
watch read a few rows each, not the whole outbox or every request

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_AWAITING_FIRST_CONTACT = sa.and_(sa.column("first_contact_at").is_(None), sa.column("auto_submitted").is_(False))


def upgrade() -> None:
    op.create_index("ix_outbox_recipient_kind_created", "outbox", ["recipient", "kind", "created_at"])
    op.create_index(
        "ix_requests_awaiting_first_contact",
        "requests",
        ["response_due"],
        sqlite_where=_AWAITING_FIRST_CONTACT,
        postgresql_where=_AWAITING_FIRST_CONTACT,
    )


def downgrade() -> None:
    op.drop_index("ix_requests_awaiting_first_contact", table_name="requests")
    op.drop_index("ix_outbox_recipient_kind_created", table_name="outbox")
