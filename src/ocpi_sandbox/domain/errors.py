"""Domain errors: each says what went wrong and what to do next; the API and OCPI layers map them."""

from __future__ import annotations

__all__ = ["DomainError", "NotFound", "Conflict", "InvalidInput", "NotAllowed"]


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The object does not exist, or belongs to another tenant (we do not tell the two apart)."""


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a state that forbids it)."""


class InvalidInput(DomainError):
    """The input is well-formed but not acceptable."""


class NotAllowed(DomainError):
    """The caller may not do this (e.g. a tenant token on an admin-only operation)."""
