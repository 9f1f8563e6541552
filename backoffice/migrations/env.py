"""Alembic environment: runs on the connection handed over by `backoffice.migrations`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import backoffice.domain.model  # noqa: F401  (registers every table)
from backoffice.domain.base import Base
from backoffice.migrations.env_filters import include_name

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
