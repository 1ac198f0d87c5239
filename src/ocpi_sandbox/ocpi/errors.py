"""OCPI errors and the handler that turns any exception on an OCPI route into an envelope.

HTTP codes follow reference ocpi.md §1.4: 400 for a body that is not JSON, 401 for missing/unknown tokens,
404 for unknown resources, 405 for methods not allowed (incl. credentials state), and 200 with 2xxx for a
request that reached the OCPI layer but is not a valid OCPI request.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from .envelope import OcpiResponse, ocpi_response
from .status import OcpiStatus

__all__ = ["OcpiError", "ocpi_exception_handler"]

log = logging.getLogger(__name__)


class OcpiError(Exception):
    """An OCPI-level failure: the envelope status code, a message saying what to fix, and the HTTP code."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        http_status: int = 200,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = int(status_code)
        self.message = message
        self.http_status = http_status
        self.data = data
        self.headers = headers or {}

    @classmethod
    def unauthorized(cls, message: str) -> OcpiError:
        return cls(OcpiStatus.CLIENT_ERROR, message, http_status=401)

    @classmethod
    def invalid(cls, message: str, *, http_status: int = 200) -> OcpiError:
        return cls(OcpiStatus.INVALID_OR_MISSING_PARAMETERS, message, http_status=http_status)

    @classmethod
    def not_found(cls, message: str) -> OcpiError:
        return cls(OcpiStatus.CLIENT_ERROR, message, http_status=404)

    @classmethod
    def method_not_allowed(cls, message: str, allow: str = "GET, POST, PUT, DELETE") -> OcpiError:
        # HTTP requires Allow on a 405; here the method exists but the partner's state forbids it now.
        return cls(OcpiStatus.CLIENT_ERROR, message, http_status=405, headers={"Allow": allow})


def ocpi_exception_handler(request: Request, exc: Exception) -> Response[OcpiResponse[Any]]:
    """Render ``exc`` as an OCPI envelope, keeping headers such as ``Allow`` on a 405."""
    if isinstance(exc, OcpiError):
        return ocpi_response(exc.data, status_code=exc.status_code, message=exc.message,
                             http_status=exc.http_status, headers=exc.headers)
    if isinstance(exc, ValidationException):
        return ocpi_response(status_code=OcpiStatus.INVALID_OR_MISSING_PARAMETERS,
                             message=f"{exc.detail}: {exc.extra}" if exc.extra else str(exc.detail),
                             http_status=400, headers=exc.headers)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = OcpiStatus.SERVER_ERROR if status >= 500 else OcpiStatus.CLIENT_ERROR
        message = exc.detail
        if status == 404:
            message = f"no OCPI resource at {request.url.path}; start from the versions URL /ocpi/versions"
        elif status == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return ocpi_response(status_code=code, message=message, http_status=status, headers=exc.headers)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return ocpi_response(status_code=OcpiStatus.SERVER_ERROR,
                         message=f"internal error ({type(exc).__name__}); see the sandbox log",
                         http_status=500)
