"""Write OCPI exchanges, both ways, into the partner log (``ocpi_exchanges``).

Only the headers that matter for debugging a roaming integration are kept, and the Authorization value is
masked: the log is shown to users and must not leak credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import OcpiExchange

__all__ = ["Exchange", "ExchangeLog", "loggable_headers", "MAX_BODY"]

log = logging.getLogger(__name__)

KEPT_HEADERS = (
    "authorization", "content-type", "x-request-id", "x-correlation-id", "ocpi-to-party-id",
    "ocpi-to-country-code", "ocpi-from-party-id", "ocpi-from-country-code", "location", "link",
    "x-total-count", "x-limit", "retry-after", "allow",
)
# A partner log row keeps at most this much of each body; bigger pages are cut with a marker.
MAX_BODY = 64 * 1024


def _mask(value: str) -> str:
    scheme, _, token = value.partition(" ")
    return f"{scheme} ...{token[-4:]}" if len(token) > 4 else f"{scheme} ..."


def loggable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in KEPT_HEADERS:
            kept[lower] = _mask(value) if lower == "authorization" else value
    return kept


def _mask_credentials(text: str) -> str:
    """Mask the token of a Credentials object (a request body, or an envelope's data) before it is logged."""
    if '"token"' not in text:
        return text
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return text
    holders = [value, value.get("data")] if isinstance(value, dict) else []
    masked = False
    for obj in holders:
        if isinstance(obj, dict) and isinstance(obj.get("token"), str) and "roles" in obj:
            obj["token"] = _mask(f"Token {obj['token']}").removeprefix("Token ")
            masked = True
    return msgspec.json.encode(value).decode() if masked else text


def _clip(body: bytes | str | None) -> str | None:
    if body is None:
        return None
    text = _mask_credentials(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    return text if len(text) <= MAX_BODY else text[:MAX_BODY] + f"... [cut: {len(text)} characters in all]"


class Exchange(msgspec.Struct, kw_only=True):
    """One request and its response (or the error that replaced it)."""

    direction: str
    method: str
    url: str
    tenant_id: str | None = None
    partner_id: str | None = None
    request_headers: dict[str, str] = {}
    request_body: bytes | str | None = None
    status: int | None = None
    ocpi_status: int | None = None
    response_headers: dict[str, str] = {}
    response_body: bytes | str | None = None
    duration_ms: float = 0.0
    request_id: str | None = None
    correlation_id: str | None = None
    error: str | None = None
    warnings: list[str] = []


def ocpi_status_of(body: bytes | str | None) -> int | None:
    """Read ``status_code`` from an envelope, if the body is one."""
    if not body:
        return None
    try:
        decoded: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    code = decoded.get("status_code") if isinstance(decoded, dict) else None
    return code if isinstance(code, int) else None


class ExchangeLog:
    """Append exchanges to the partner log, each in its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, exchange: Exchange) -> None:
        row = OcpiExchange(
            tenant_id=exchange.tenant_id, partner_id=exchange.partner_id, direction=exchange.direction,
            method=exchange.method, url=exchange.url, request_headers=loggable_headers(exchange.request_headers),
            request_body=_clip(exchange.request_body), status=exchange.status,
            ocpi_status=exchange.ocpi_status if exchange.ocpi_status is not None
            else ocpi_status_of(exchange.response_body),
            response_headers=loggable_headers(exchange.response_headers),
            response_body=_clip(exchange.response_body), duration_ms=round(exchange.duration_ms, 3),
            request_id=exchange.request_id, correlation_id=exchange.correlation_id, error=exchange.error,
            warnings=list(exchange.warnings),
        )
        try:
            async with self._sessions() as session:
                session.add(row)
                await session.commit()
        except Exception:  # the log must never break the exchange it describes
            log.exception("could not write the OCPI exchange log for %s %s", exchange.method, exchange.url)
