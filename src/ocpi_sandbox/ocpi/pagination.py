"""Pagination of OCPI "GET list" endpoints (OCPI 2.2.1 transport_and_format, Pagination).

Read ``offset``, ``limit``, ``date_from`` and ``date_to``; answer with ``X-Total-Count``, ``X-Limit`` (our cap)
and ``Link: <next>; rel="next"`` carrying every original filter, the next offset and the limit we used.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

import msgspec

from .errors import OcpiError

__all__ = ["Page", "read_page", "page_headers", "paged_response"]


class Page(msgspec.Struct, frozen=True, kw_only=True):
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OcpiError.invalid(f"{name}={raw!r} is not an integer") from None
    if value < 0:
        raise OcpiError.invalid(f"{name}={raw!r} must not be negative")
    return value


def _datetime(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = msgspec.json.decode(msgspec.json.encode(raw), type=datetime)
    except msgspec.ValidationError:
        raise OcpiError.invalid(f"{name}={raw!r} is not an OCPI DateTime such as 2026-01-31T12:00:00Z") from None
    # A DateTime without an offset is UTC (OCPI 2.2.1 types, DateTime).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_page(params: Mapping[str, str], *, max_limit: int, require_date_from: bool = False) -> Page:
    """Read the pagination query parameters; a bad value is an OCPI 2001 naming the parameter."""
    date_from = _datetime(params, "date_from")
    if require_date_from and date_from is None:
        raise OcpiError.invalid("date_from is required on this list (OCPI mod_sessions); e.g. "
                                "?date_from=2026-01-01T00:00:00Z")
    limit = _int(params, "limit", max_limit)
    return Page(offset=_int(params, "offset", 0), limit=min(limit, max_limit) or max_limit,
                date_from=date_from, date_to=_datetime(params, "date_to"))


def page_headers(url: str, params: Mapping[str, str], page: Page, *, total: int, max_limit: int) -> dict[str, str]:
    """Return X-Total-Count, X-Limit and, unless this is the last page, Link to the next one.

    ``url`` is the absolute public URL of the list without its query string.
    """
    headers = {"X-Total-Count": str(total), "X-Limit": str(max_limit)}
    next_offset = page.offset + page.limit
    if next_offset < total:
        query = {k: v for k, v in params.items() if k not in ("offset", "limit")}
        query.update(offset=str(next_offset), limit=str(page.limit))
        headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
    return headers


def paged_response(objects: list, *, url: str, params: Mapping[str, str], page: Page, total: int, max_limit: int):  # noqa: ANN201
    """Answer a list request: the objects in the envelope, with Link/X-Total-Count/X-Limit."""
    from .envelope import ocpi_response  # envelope imports litestar; pagination itself stays plain

    return ocpi_response(objects, headers=page_headers(url, params, page, total=total, max_limit=max_limit))
