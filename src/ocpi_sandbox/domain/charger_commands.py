"""What the CPO can ask a charger to do, in version-neutral words (the domain's door to the CSMS).

The CSMS implements this (``csms.remote_commands``) with real OCPP 1.6 or 2.0.1 requests; ``app.py`` injects
it. Callers get the station's answer as a plain string ("Accepted", "Rejected", "Occupied", ...) or one of the
two exceptions, never an OCPP type. The smart-charging and operations requests answer with the station's own
response (``StationAnswer``): the charger operations API returns it as it came.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import msgspec

__all__ = ["ChargerCommands", "ChargerUnavailable", "ChargerDidNotAnswer", "ChargerCallError",
           "ProfileNotExpressible", "RequestNotExpressible", "StationAnswer", "CompositePeriod", "CompositeSchedule"]


class ChargerUnavailable(Exception):
    """The charger has no connection to the CSMS (or answered with a CALLERROR)."""


class ChargerDidNotAnswer(Exception):
    """The charger did not answer within the response timeout."""


class ChargerCallError(ChargerUnavailable):
    """The charger answered with a CALLERROR (or an answer that breaks the schema)."""

    def __init__(self, message: str, *, action: str, error_code: str, description: str) -> None:
        super().__init__(message)
        self.action, self.error_code, self.description = action, error_code, description


class RequestNotExpressible(ValueError):
    """A request cannot be written in the charger's OCPP version (e.g. a token longer than a 1.6 idTag)."""


class ProfileNotExpressible(RequestNotExpressible):
    """A charging profile cannot be written in the charger's OCPP version (e.g. external constraints on 1.6)."""


class StationAnswer(msgspec.Struct, kw_only=True):
    """What a station answered to one request: its status (and 2.0.1 statusInfo), and both payloads as sent."""

    action: str
    ocpp_version: str
    status: str
    status_info: dict[str, Any] | None = None
    request: dict[str, Any]
    response: dict[str, Any]

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


class CompositePeriod(msgspec.Struct, frozen=True, kw_only=True):
    start_period: int
    limit: float
    number_phases: int | None = None


class CompositeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """A composite schedule as the charger computed it (either version), periods counted from ``start``."""

    start: datetime
    duration: int
    unit: str  # "A" (per phase) or "W"
    periods: list[CompositePeriod]


class ChargerCommands(Protocol):
    async def start_transaction(self, identity: str, *, evse_id: int | None, id_token: str, token_type: str,
                                remote_start_id: int) -> str: ...

    async def stop_transaction(self, identity: str, *, transaction_id: str) -> str: ...

    async def unlock_connector(self, identity: str, *, evse_id: int, connector_id: int) -> str: ...

    async def reserve_now(self, identity: str, *, reservation_id: int, evse_id: int | None, id_token: str,
                          token_type: str, expiry: datetime) -> str: ...

    async def cancel_reservation(self, identity: str, *, reservation_id: int) -> str: ...

    # -- smart charging and operations; ``evse_id`` in 2.0.1 numbering, ``connector_16`` the 1.6 connectorId
    # of that EVSE (1.6 numbers connectors across the station; defaults to ``evse_id``) --

    async def set_charging_profile(self, identity: str, *, evse_id: int, profile: dict[str, Any],
                                   connector_16: int | None = None) -> StationAnswer: ...

    async def clear_charging_profile(self, identity: str, *, profile_id: int | None = None,
                                     evse_id: int | None = None, purpose: str | None = None,
                                     stack_level: int | None = None, connector_16: int | None = None
                                     ) -> StationAnswer: ...

    async def get_composite_schedule(self, identity: str, *, evse_id: int, duration: int, unit: str | None = None,
                                     connector_16: int | None = None
                                     ) -> tuple[StationAnswer, CompositeSchedule | None]: ...

    async def change_availability(self, identity: str, *, evse_id: int, connector_id: int | None, operative: bool,
                                  connector_16: int | None = None) -> StationAnswer: ...

    async def reset(self, identity: str, *, immediate: bool) -> StationAnswer: ...

    async def request_start_transaction(self, identity: str, *, evse_id: int, connector_16: int, id_token: str,
                                        id_token_type: str, remote_start_id: int,
                                        profile: dict[str, Any] | None = None) -> StationAnswer:
        """RequestStartTransaction (1.6: RemoteStartTransaction on ``connector_16``, the profile translated);
        ``id_token_type`` is a 2.0.1 IdTokenEnumType, ``profile`` a 2.0.1 TxProfile."""

    async def request_stop_transaction(self, identity: str, *, transaction_id: str) -> StationAnswer:
        """RequestStopTransaction (1.6: RemoteStopTransaction)."""
