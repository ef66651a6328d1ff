"""Browser sign-in: one-time sign-in links, server-side sessions and a workspace currency.

Workspaces stored before this revision keep their amounts in US dollars until
an owner sets another currency.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``workspaces.currency`` and the tables ``signin_tokens`` and ``browser_sessions``."""
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("currency", sa.String(3), nullable=False,
                                   server_default="USD"))
    op.create_table(
        "signin_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"],
                                name=op.f("fk_signin_tokens_key_id_api_keys"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_signin_tokens")),
    )
    op.create_index(op.f("ix_signin_tokens_key_id"), "signin_tokens", ["key_id"])
    op.create_table(
        "browser_sessions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"],
                                name=op.f("fk_browser_sessions_key_id_api_keys"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_browser_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_browser_sessions_secret_hash")),
    )
    op.create_index(op.f("ix_browser_sessions_key_id"), "browser_sessions", ["key_id"])


def downgrade() -> None:
    """Drop the sessions, the sign-in links and the currency."""
    op.drop_index(op.f("ix_browser_sessions_key_id"), table_name="browser_sessions")
    op.drop_table("browser_sessions")
    op.drop_index(op.f("ix_signin_tokens_key_id"), table_name="signin_tokens")
    op.drop_table("signin_tokens")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("currency")
