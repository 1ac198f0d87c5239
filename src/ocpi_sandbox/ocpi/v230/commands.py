"""OCPI 2.3.0 Commands module objects (mod_commands.asciidoc): the five commands and their answers.

The command name travels in the URL (``POST {commands_url}/START_SESSION``), so ``CommandType`` is not a
field of any object here; ``COMMAND_TYPES`` lists the values a route may accept.
"""

from __future__ import annotations

from typing import Literal

from ..primitives import URL, CiString, DateTime, OcpiObject
from .tokens import Token
from .types import DisplayText

__all__ = [
    "COMMAND_TYPES",
    "CancelReservation",
    "CommandResponse",
    "CommandResponseType",
    "CommandResult",
    "CommandResultType",
    "CommandType",
    "ReserveNow",
    "StartSession",
    "StopSession",
    "UnlockConnector",
]

# OpenEnum in 2.3.0: a route may be asked for a command it does not know, and answers NOT_SUPPORTED.
CommandType = str
COMMAND_TYPES = ("CANCEL_RESERVATION", "RESERVE_NOW", "START_SESSION", "STOP_SESSION", "UNLOCK_CONNECTOR")
CommandResponseType = Literal["NOT_SUPPORTED", "REJECTED", "ACCEPTED", "UNKNOWN_SESSION"]
CommandResultType = Literal[
    "ACCEPTED",
    "CANCELED_RESERVATION",
    "EVSE_OCCUPIED",
    "EVSE_INOPERATIVE",
    "FAILED",
    "NOT_SUPPORTED",
    "REJECTED",
    "TIMEOUT",
    "UNKNOWN_RESERVATION",
]


class StartSession(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_commands, StartSession object: start a session for an authorized token.

    ``evse_uid`` is required whenever ``connector_id`` is given; callers check that rule.
    """

    response_url: URL
    token: Token
    location_id: CiString(36)
    evse_uid: CiString(36) | None = None
    connector_id: CiString(36) | None = None
    authorization_reference: CiString(36) | None = None


class StopSession(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_commands, StopSession object: stop a running session."""

    response_url: URL
    session_id: CiString(36)


class ReserveNow(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_commands, ReserveNow object: reserve an EVSE or a Location until a UTC time."""

    response_url: URL
    token: Token
    expiry_date: DateTime
    reservation_id: CiString(36)
    location_id: CiString(36)
    evse_uid: CiString(36) | None = None
    authorization_reference: CiString(36) | None = None


class CancelReservation(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_commands, CancelReservation object: cancel a reservation."""

    response_url: URL
    reservation_id: CiString(36)


class UnlockConnector(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_commands, UnlockConnector object: unlock a connector, for helpdesk use only."""

    response_url: URL
    location_id: CiString(36)
    evse_uid: CiString(36)
    connector_id: CiString(36)


class CommandResponse(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_commands, CommandResponse object: the CPO's immediate answer to a command.

    ``timeout`` is in seconds.
    """

    result: CommandResponseType
    timeout: int
    message: list[DisplayText] | None = None


class CommandResult(OcpiObject, kw_only=True):
    """OCPI 2.3.0 mod_commands, CommandResult object: the command's outcome, POSTed to the response_url."""

    result: CommandResultType
    message: list[DisplayText] | None = None
