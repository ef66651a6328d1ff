"""Alembic environment: migrate the connection handed over by :func:`api.database.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from api.tables import Base

config = context.config
connection = config.attributes.get("connection")


def run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:  # ``alembic`` command line, with sqlalchemy.url set in its configuration
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://",
                           hide_parameters=True)
    with engine.begin() as conn:
        run(conn)
