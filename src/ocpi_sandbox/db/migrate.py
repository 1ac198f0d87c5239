"""Bring a database to the newest schema with alembic; ``serve`` and the tests both go through here."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["alembic_config", "migrate"]

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the database behind ``engine`` to the head revision."""
    config = alembic_config()
    # alembic announces every revision at INFO; on each start that is noise, so only problems are shown.
    logging.getLogger("alembic").setLevel(logging.WARNING)

    def _upgrade(connection) -> None:  # noqa: ANN001 - a sync Connection handed over by run_sync
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
