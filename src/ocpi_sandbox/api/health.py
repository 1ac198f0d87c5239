"""``GET /api/health``: 200 without a token once the sandbox is ready (migrated, serving)."""

from __future__ import annotations

import msgspec
from litestar import get

from .. import __version__

__all__ = ["health"]


class Health(msgspec.Struct):
    status: str
    version: str


@get("/api/health", operation_id="health", tags=["health"], security=[])
async def health() -> Health:
    """Tell whether the sandbox is ready."""
    return Health(status="ok", version=__version__)
