"""indexes of the requests not yet closed: the desk's newest-first list no longer reads the closed history

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As tables.OPEN_REQUEST says it, with the statuses as literals.
_OPEN_REQUEST = sa.column("status").not_in([sa.literal_column("'closed'"), sa.literal_column("'rejected'")])


def upgrade() -> None:
    for name, columns in (("ix_requests_open", ["id"]), ("ix_requests_open_by_channel", ["channel", "id"])):
        op.create_index(name, "requests", columns, sqlite_where=_OPEN_REQUEST, postgresql_where=_OPEN_REQUEST)


def downgrade() -> None:
    op.drop_index("ix_requests_open_by_channel", table_name="requests")
    op.drop_index("ix_requests_open", table_name="requests")
