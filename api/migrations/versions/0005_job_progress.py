"""Progress of a job in its engine's units: done of total, and what runs now.

Jobs stored before this revision have no counts and no note (their fraction
``progress`` stays).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``jobs.progress_done``, ``jobs.progress_total`` and ``jobs.progress_note``."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("progress_done", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("progress_total", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("progress_note", sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Drop the three columns (the fraction ``progress`` stays)."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("progress_note")
        batch.drop_column("progress_total")
        batch.drop_column("progress_done")
