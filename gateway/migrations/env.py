"""Alembic environment: always run with a connection handed in by gateway.store.migrate (no ini file, no URL here)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from gateway.store.tables import metadata

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hezo-gateway db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
