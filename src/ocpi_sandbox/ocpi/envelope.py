"""The OCPI response envelope (OCPI 2.2.1 transport_and_format, Response format) and how we build it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec
from litestar import Response

from .primitives import utc_now
from .status import OcpiStatus

__all__ = ["OcpiResponse", "ocpi_response"]

T = TypeVar("T")


class OcpiResponse(msgspec.Struct, Generic[T], kw_only=True, omit_defaults=True):
    """Every OCPI response body: ``data`` (absent where the endpoint defines none), status and timestamp."""

    data: T | None = None
    status_code: int
    status_message: str | None = None
    timestamp: datetime


def ocpi_response(
    data: Any = None,
    *,
    status_code: int = OcpiStatus.SUCCESS,
    message: str | None = None,
    http_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response[OcpiResponse[Any]]:
    """Wrap ``data`` in the envelope; ``data=None`` leaves the field out, as the 2.2.1-d2 text advises."""
    body = OcpiResponse(data=data, status_code=int(status_code), status_message=message, timestamp=utc_now())
    return Response(body, status_code=http_status, headers=dict(headers or {}), media_type="application/json")
