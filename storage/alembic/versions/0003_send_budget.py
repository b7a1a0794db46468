"""Telegram's shared send budget, as SQLite's migration 19.

Revision ID: 0003_send_budget
Revises: 0002_inbox_lines
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0003_send_budget"
down_revision = "0002_inbox_lines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE send_budget ("
        " budget TEXT PRIMARY KEY,"
        " sent TEXT NOT NULL DEFAULT '[]',"
        " version BIGINT NOT NULL DEFAULT 0,"
        " last_at DOUBLE PRECISION NOT NULL)"
    )
    op.execute("CREATE INDEX send_budget_last ON send_budget (last_at)")


def downgrade() -> None:
    op.execute("DROP TABLE send_budget")
