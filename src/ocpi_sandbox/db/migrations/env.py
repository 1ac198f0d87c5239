"""Alembic environment: runs on a connection handed over by ``db.migrate`` or on OCPI_SANDBOX_DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context

from ocpi_sandbox.db.engine import create_engine
from ocpi_sandbox.db.models import Base
from ocpi_sandbox.settings import DEFAULT_DATABASE_URL

target_metadata = Base.metadata


def _run(connection) -> None:  # noqa: ANN001
    # Batch mode lets ALTER TABLE work on SQLite (it copies the table); it is a no-op on PostgreSQL.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "OCPI_SANDBOX_DATABASE_URL", DEFAULT_DATABASE_URL
    )
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_online())
