"""The outbound OCPI client: calls a partner's endpoints with httpx and logs every exchange.

The httpx transport is injected (tests use real loopback HTTP or an in-process app with the same code).
Redirects are never followed: a 3xx is reported as an error naming the target, because OCPI clients must
call exactly the URLs published in version details.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import msgspec

from .authorization import encode_authorization
from .exchange_log import Exchange, ExchangeLog
from .status import OcpiStatus

__all__ = ["OcpiClient", "OcpiReply", "OcpiCallError", "join_url"]


def join_url(base: str, *segments: str) -> str:
    """Join path segments onto an endpoint URL with exactly one slash between (reference ocpi.md §4.0)."""
    url = base.rstrip("/")
    for segment in segments:
        url += "/" + segment.strip("/")
    return url


class OcpiReply(msgspec.Struct, kw_only=True):
    """A partner's answer: HTTP status, headers, and the envelope's parts when the body was one."""

    http_status: int
    headers: dict[str, str]
    status_code: int | None
    status_message: str | None
    data: Any
    body: bytes

    @property
    def single(self) -> Any:
        """``data`` where one object is expected: some eMSPs wrap it in a list of one, which we accept."""
        if isinstance(self.data, list) and len(self.data) == 1 and isinstance(self.data[0], dict):
            return self.data[0]
        return self.data

    @property
    def ok(self) -> bool:
        # Lenient in what we accept (reference ocpi.md §1.4): any 2xx carrying any 1xxx is a success.
        return 200 <= self.http_status < 300 and OcpiStatus.is_success(self.status_code)


class OcpiCallError(Exception):
    """A call that did not produce a usable answer: network error, redirect, non-JSON or error envelope."""

    def __init__(self, message: str, reply: OcpiReply | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reply = reply


class OcpiClient:
    def __init__(self, http: httpx.AsyncClient, exchange_log: ExchangeLog) -> None:
        self._http = http
        self._log = exchange_log

    async def call(
        self, method: str, url: str, *, token: str, version: str | None, encoding: str | None = None,
        json: Any = None, partner_id: str | None = None, tenant_id: str | None = None,
        correlation_id: str | None = None, headers: dict[str, str] | None = None,
        expect_success: bool = True,
    ) -> OcpiReply:
        """Send one OCPI request; raise OcpiCallError unless the answer is a success envelope."""
        request_headers = {
            "Authorization": encode_authorization(token, version=version, override=encoding),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": correlation_id or str(uuid.uuid4()),
            **(headers or {}),
        }
        content = None
        if json is not None:
            content = msgspec.json.encode(json)
            request_headers["Content-Type"] = "application/json"
        exchange = Exchange(direction="outbound", method=method, url=url, tenant_id=tenant_id,
                            partner_id=partner_id, request_headers=request_headers, request_body=content,
                            request_id=request_headers["X-Request-ID"],
                            correlation_id=request_headers["X-Correlation-ID"])
        started = time.perf_counter()
        try:
            response = await self._http.request(method, url, content=content, headers=request_headers,
                                                follow_redirects=False)
        except httpx.HTTPError as exc:
            exchange.duration_ms = (time.perf_counter() - started) * 1000
            exchange.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            await self._log.record(exchange)
            raise OcpiCallError(f"could not reach {url}: {exchange.error}") from exc
        exchange.duration_ms = (time.perf_counter() - started) * 1000
        reply = _reply(response)
        exchange.status, exchange.ocpi_status = response.status_code, reply.status_code
        exchange.response_headers, exchange.response_body = dict(response.headers), response.content
        problem = _problem(url, reply) if expect_success else None
        exchange.error = problem
        await self._log.record(exchange)
        if problem:
            raise OcpiCallError(problem, reply)
        return reply


def _reply(response: httpx.Response) -> OcpiReply:
    status_code = status_message = data = None
    try:
        body = msgspec.json.decode(response.content) if response.content else None
    except msgspec.DecodeError:
        body = None
    if isinstance(body, dict):
        code = body.get("status_code")
        status_code = code if isinstance(code, int) else None
        message = body.get("status_message")
        status_message = message if isinstance(message, str) else None
        data = body.get("data")
    return OcpiReply(http_status=response.status_code, headers=dict(response.headers), status_code=status_code,
                     status_message=status_message, data=data, body=response.content)


def _problem(url: str, reply: OcpiReply) -> str | None:
    if 300 <= reply.http_status < 400:
        target = reply.headers.get("location", "?")
        return (f"{url} answered HTTP {reply.http_status} redirecting to {target}; OCPI clients do not follow "
                "redirects: publish the final URL in your versions/version details")
    if reply.status_code is None:
        return f"{url} answered HTTP {reply.http_status} without an OCPI response envelope"
    if not reply.ok:
        detail = f": {reply.status_message}" if reply.status_message else ""
        return f"{url} answered HTTP {reply.http_status} with OCPI status {reply.status_code}{detail}"
    return None
