"""Alembic's environment for the desk's PostgreSQL schema (`storage.migrate` runs it).

The desk runs its migrations itself, at start-up and with `python -m bot migrate`, on a
connection it opened: that connection arrives in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the desk's migrations with `python -m bot migrate`")
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
