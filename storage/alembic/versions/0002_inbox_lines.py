"""The inbox's lines and claims, as SQLite's migration 18.

Revision ID: 0002_inbox_lines
Revises: 0001_baseline
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0002_inbox_lines"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE inbox ADD COLUMN line TEXT NOT NULL DEFAULT ''")
    op.execute("ALTER TABLE inbox ADD COLUMN claimed_by TEXT")
    op.execute("ALTER TABLE inbox ADD COLUMN claimed_until DOUBLE PRECISION")
    op.execute("ALTER TABLE inbox ADD COLUMN claims BIGINT NOT NULL DEFAULT 0")
    op.execute("CREATE INDEX inbox_lines ON inbox (line, update_id)")


def downgrade() -> None:
    op.execute("DROP INDEX inbox_lines")
    for column in ("claims", "claimed_until", "claimed_by", "line"):
        op.execute(f"ALTER TABLE inbox DROP COLUMN {column}")
