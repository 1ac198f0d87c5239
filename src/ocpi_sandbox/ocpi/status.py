"""OCPI status codes (OCPI 2.2.1 status_codes.asciidoc): the ``status_code`` of every response envelope."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["OcpiStatus"]


class OcpiStatus(IntEnum):
    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_OR_MISSING_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    HUB_ERROR = 4000
    HUB_UNKNOWN_RECEIVER = 4001
    HUB_TIMEOUT = 4002
    HUB_CONNECTION_PROBLEM = 4003

    @staticmethod
    def is_success(code: int | None) -> bool:
        return code is not None and 1000 <= code < 2000
