"""an index for the return watch: delivered replacements by return date, not a scan of every request per pass

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_requests_status_return_due", "requests", ["status", "return_due"])


def downgrade() -> None:
    op.drop_index("ix_requests_status_return_due", table_name="requests")
