"""Decode an OCPI request body strictly: 400 when it is not JSON, OCPI 2001 when it is not the object.

Litestar converts bodies leniently (``"0"`` would pass as an int, ``0`` as a DateTime); a sandbox exists to
tell eMSP teams exactly what is wrong with their payloads, so controllers decode the raw bytes themselves.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from .errors import OcpiError
from .status import OcpiStatus

__all__ = ["decode_body"]

T = TypeVar("T")


def decode_body(raw: bytes, type_: type[T]) -> T:
    if not raw.strip():
        raise OcpiError.invalid(f"the request has no body; send a {type_.__name__} object as JSON")
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise OcpiError(OcpiStatus.INVALID_OR_MISSING_PARAMETERS, f"the body is not valid JSON: {exc}",
                        http_status=400) from None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict) and \
            getattr(type_, "__origin__", type_) is not list:
        value = value[0]  # some eMSPs wrap a single object in a list; the object is still clear
    try:
        return msgspec.convert(value, type_, strict=True)
    except msgspec.ValidationError as exc:
        raise OcpiError.invalid(f"invalid {type_.__name__}: {exc}") from None
