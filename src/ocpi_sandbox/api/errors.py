"""Management API errors: one JSON shape, a message that says what to fix, documented on every route."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from ..domain.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound

__all__ = ["ApiError", "ApiProblem", "api_exception_handler", "error_responses"]

log = logging.getLogger(__name__)


class ApiError(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Body of every management API error."""

    status_code: int
    error: str
    message: str
    details: dict[str, Any] | list[Any] | None = None


class ApiProblem(Exception):
    """An error a controller raises directly, with its HTTP status."""

    def __init__(self, status_code: int, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.status_code, self.message, self.details = status_code, message, details


_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 422: "unprocessable_entity", 500: "internal_error", 502: "bad_gateway",
          504: "gateway_timeout"}
_DOMAIN_STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 422, NotAllowed: 403}
_DESCRIPTIONS = {
    400: "The request is malformed (not JSON, wrong types, missing fields); the message says what to fix.",
    401: "Missing or unknown token: send 'Authorization: Bearer <token>'.",
    403: "The token may not do this (admin-only operation, or another organization).",
    404: "No such object in this tenant.",
    409: "The request conflicts with existing data or the object's state.",
    422: "Well-formed but not acceptable values; the message says which.",
    502: "A partner's API failed; the message and the partner log say how.",
    504: "The charger did not answer the OCPP request in time; its frame log shows what it received.",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """Document the error responses of a route (Litestar would otherwise document its own 400 shape)."""
    wanted = codes or (400, 401, 403, 404)
    return {c: ResponseSpec(data_container=ApiError, description=_DESCRIPTIONS[c]) for c in wanted}


def _render(status: int, message: str, details: Any = None, headers: dict[str, str] | None = None
            ) -> Response[ApiError]:
    body = ApiError(status_code=status, error=_NAMES.get(status, "error"), message=message, details=details)
    return Response(body, status_code=status, headers=headers or {})


def api_exception_handler(request: Request, exc: Exception) -> Response[ApiError]:
    if isinstance(exc, ApiProblem):
        return _render(exc.status_code, exc.message, exc.details)
    if isinstance(exc, DomainError):
        status = next(code for cls, code in _DOMAIN_STATUS.items() if isinstance(exc, cls))
        return _render(status, exc.message)
    if isinstance(exc, ValidationException):
        return _render(400, f"invalid request: {exc.detail}", exc.extra or None, exc.headers)
    if isinstance(exc, NotAuthorizedException):
        return _render(401, exc.detail, headers={"WWW-Authenticate": "Bearer", **(exc.headers or {})})
    if isinstance(exc, HTTPException):
        message = exc.detail
        if exc.status_code == 404:
            message = f"no route {request.url.path}; see the API reference at /api/schema"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return _render(exc.status_code, message, exc.extra or None, exc.headers)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _render(500, f"internal error ({type(exc).__name__}); see the sandbox log")
