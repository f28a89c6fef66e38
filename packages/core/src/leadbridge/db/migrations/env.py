"""Alembic environment of LeadBridge.

Always run through :mod:`leadbridge.db` (``leadbridge db upgrade``), which hands over an open
connection in ``config.attributes["connection"]``; plugins add their version locations.
"""

from __future__ import annotations

from alembic import context

from leadbridge.db._base import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by leadbridge.db
    raise RuntimeError("run LeadBridge migrations with `leadbridge db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
