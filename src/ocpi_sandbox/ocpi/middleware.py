"""ASGI middleware on every OCPI route: request/correlation IDs and the inbound partner log.

OCPI 2.2+ (transport_and_format, Unique message IDs) wants ``X-Request-ID`` and ``X-Correlation-ID`` on every
request and echoed on the response; we echo them, generate what is missing, and note it as a warning.
The exchange is written to the partner log after the response has gone out, so logging adds no latency.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from .exchange_log import Exchange, ExchangeLog

__all__ = ["OcpiExchangeMiddleware", "EXCHANGE_SCOPE_KEY", "note_exchange", "correlation_id_of"]

# The caller dependency fills this per-request dict with the partner the token belongs to, and warnings.
EXCHANGE_SCOPE_KEY = "ocpi_sandbox.exchange"


def note_exchange(scope: Any, **values: Any) -> None:
    info = scope.get(EXCHANGE_SCOPE_KEY)
    if info is None:
        return
    warnings = values.pop("warnings", ())
    info.update(values)
    info.setdefault("warnings", []).extend(warnings)


def correlation_id_of(scope: Any) -> str | None:
    """Return the request's correlation ID (received or generated): calls it causes carry the same one."""
    info = scope.get(EXCHANGE_SCOPE_KEY)
    return info.get("correlation_id") if info else None


class OcpiExchangeMiddleware:
    """Wrap an OCPI route; the ExchangeLog is read from ``app.state.exchange_log`` (routers are deep-copied
    at registration, so the middleware cannot hold it itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        warnings: list[str] = []
        request_id = headers.get("x-request-id")
        correlation_id = headers.get("x-correlation-id")
        if not request_id:
            request_id = str(uuid.uuid4())
            warnings.append("request without X-Request-ID (OCPI 2.2+ requires one); generated " + request_id)
        if not correlation_id:
            correlation_id = str(uuid.uuid4())
            warnings.append("request without X-Correlation-ID (OCPI 2.2+ requires one); generated " + correlation_id)
        info: dict[str, Any] = {"warnings": warnings, "correlation_id": correlation_id}
        scope[EXCHANGE_SCOPE_KEY] = info  # type: ignore[literal-required]
        request_body = bytearray()
        response: dict[str, Any] = {"status": None, "headers": {}, "body": bytearray()}

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-request-id", request_id.encode("latin-1")),
                         (b"x-correlation-id", correlation_id.encode("latin-1"))]
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in names)]
                response["status"] = message["status"]
                response["headers"] = {k.decode("latin-1"): v.decode("latin-1") for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                response["body"].extend(message.get("body", b""))
            await send(message)

        started = time.perf_counter()
        error = None
        try:
            await self.app(scope, receive_and_keep, send_with_ids)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            path = scope.get("path", "")
            query = scope.get("query_string", b"").decode("latin-1")
            exchange_log: ExchangeLog = scope["litestar_app"].state["exchange_log"]
            await exchange_log.record(Exchange(
                direction="inbound", method=scope.get("method", "GET"), url=path + (f"?{query}" if query else ""),
                tenant_id=info.get("tenant_id"), partner_id=info.get("partner_id"), request_headers=headers,
                request_body=bytes(request_body) or None, status=response["status"],
                response_headers=response["headers"], response_body=bytes(response["body"]) or None,
                duration_ms=(time.perf_counter() - started) * 1000, request_id=request_id,
                correlation_id=correlation_id, error=error, warnings=info.get("warnings", []),
            ))
