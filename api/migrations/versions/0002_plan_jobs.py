"""Plans that run as jobs: a state, a job id, and no result until they succeed.

Plans stored before this revision were all computed in their request, so they
become ``succeeded``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``plans.state`` and ``plans.job_id``; let ``plans.result`` be empty."""
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=False,
                                   server_default="succeeded"))
        batch.add_column(sa.Column("job_id", sa.String(length=40), nullable=True))
        batch.alter_column("result", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    """Drop the plans that never got a result, then the two columns."""
    op.execute("DELETE FROM plans WHERE result IS NULL")
    with op.batch_alter_table("plans") as batch:
        batch.alter_column("result", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("job_id")
        batch.drop_column("state")
