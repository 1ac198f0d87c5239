"""Bodies and answers of the charger operations API, in OCPP's own words (camelCase, as CSMS vendors' APIs).

A charging profile is the OCPP 2.0.1 ChargingProfileType (Part 2 K01) without ``customData`` and
``salesTariff``; the sandbox writes it as OCPP 1.6 for 1.6 chargers. Every answer carries the station's own
response: its status, its statusInfo (2.0.1), and both OCPP payloads as they went over the wire.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from ..domain.charger_commands import StationAnswer

__all__ = ["ChargingSchedulePeriodIn", "ChargingScheduleIn", "ChargingProfileIn", "SetChargingProfileIn",
           "LimitIn", "PowerLimitIn", "AvailabilityIn", "RestartIn", "OcpiContextIn", "StartTransactionIn",
           "StationResponse", "PowerLimitResponse", "StartTransactionResponse",
           "CompositePeriodOut", "CompositeScheduleOut", "station_response"]

# Lower bounds of 0 are written as exclusive ones (> -1, > -1e-9): Litestar 2 leaves a "minimum" of 0 out of the
# OpenAPI document, which would then allow what the decoder refuses.
_Int32 = Annotated[int, msgspec.Meta(gt=-1, le=2_147_483_647)]
_Rate = Annotated[float, msgspec.Meta(gt=-1e-9, le=10_000_000)]


class ChargingSchedulePeriodIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A limit from ``startPeriod`` seconds into the schedule (A per phase, or W)."""

    start_period: _Int32
    limit: _Rate
    number_phases: Annotated[int, msgspec.Meta(ge=1, le=3)] | None = None
    phase_to_use: Annotated[int, msgspec.Meta(ge=1, le=3)] | None = None


class ChargingScheduleIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """OCPP 2.0.1 ChargingScheduleType; ``id`` defaults to the schedule's position (1, 2, 3)."""

    charging_rate_unit: Literal["A", "W"]
    charging_schedule_period: Annotated[list[ChargingSchedulePeriodIn], msgspec.Meta(min_length=1, max_length=1024)]
    id: _Int32 | None = None
    start_schedule: datetime | None = None
    duration: _Int32 | None = None
    min_charging_rate: _Rate | None = None


class ChargingProfileIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """OCPP 2.0.1 ChargingProfileType (Part 2 K01)."""

    id: _Int32
    stack_level: Annotated[int, msgspec.Meta(gt=-1, le=1000)]
    charging_profile_purpose: Literal["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile",
                                      "ChargingStationExternalConstraints"]
    charging_profile_kind: Literal["Absolute", "Recurring", "Relative"]
    charging_schedule: Annotated[list[ChargingScheduleIn], msgspec.Meta(min_length=1, max_length=3)]
    recurrency_kind: Literal["Daily", "Weekly"] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)] | None = None

    def to_ocpp(self) -> dict[str, Any]:
        """The profile as a 2.0.1 wire dict, schedule ids filled in."""
        wire = msgspec.to_builtins(self)
        for position, schedule in enumerate(wire["chargingSchedule"], start=1):
            schedule.setdefault("id", position)
        return wire


class SetChargingProfileIn(msgspec.Struct, kw_only=True, rename="camel"):
    """The body of a charging-profile push: the profile to install (SetChargingProfile)."""

    charging_profile: ChargingProfileIn


class LimitIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Exactly one of: current per phase (AC), power in kW (AC), power in kW (DC)."""

    ac_max_power_a: Annotated[float, msgspec.Meta(gt=-1e-9, le=1000)] | None = None
    ac_max_power_kw: Annotated[float, msgspec.Meta(gt=-1e-9, le=2000)] | None = None
    dc_max_power_kw: Annotated[float, msgspec.Meta(gt=-1e-9, le=2000)] | None = None


class PowerLimitIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A power limit; without ``chargingProfileId`` the id comes from the sandbox's fixed range (900000+)."""

    limit: LimitIn
    charging_profile_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None
    # Default 0, or 1 when a condition is given (so a conditional limit stacks on top of the plain one).
    stack_level: Annotated[int, msgspec.Meta(gt=-1, le=99)] | None = None
    # Seconds after charging started from which the limit applies (EVSE and session limits: a Relative profile).
    relative_delay: Annotated[int, msgspec.Meta(ge=1, le=604_800)] | None = None
    # Free text kept with the answer (why the limit exists: "grid congestion", "tariff window"...).
    condition: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=255)] | None = None


class AvailabilityIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """ChangeAvailability of an EVSE (EVSE 0: the whole station), or of one of its connectors."""

    operational_status: Literal["Operative", "Inoperative"]
    connector_id: Annotated[int, msgspec.Meta(ge=1, le=16)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=255)] | None = None


class RestartIn(msgspec.Struct, kw_only=True, rename="camel"):
    """Reset the station: Immediate (1.6 Hard) or OnIdle, after running transactions end (1.6 Soft)."""

    type: Literal["Immediate", "OnIdle"] = "Immediate"


class OcpiContextIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """The OCPI side of a remote start: the eMSP party whose session it becomes (both or neither; neither: the
    eMSP that pushed the token), and what its Session and CDR carry (OCPI 2.2.1 mod_sessions, mod_cdrs)."""

    authorization_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=36)] | None = None
    contract_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)] | None = None
    country_code: Annotated[str, msgspec.Meta(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")] | None = None
    party_id: Annotated[str, msgspec.Meta(min_length=3, max_length=3, pattern="^[A-Za-z0-9]{3}$")] | None = None


class StartTransactionIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A remote start (RequestStartTransaction; 1.6 RemoteStartTransaction, where the idTag is at most 20
    characters and ``idTokenType`` is not sent). ``connectorId`` counts within the EVSE; 2.0.1 names the EVSE only
    (the station picks the connector the EV is plugged into)."""

    id_token: Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
    id_token_type: Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
                           "NoAuthorization"] = "ISO14443"
    connector_id: Annotated[int, msgspec.Meta(ge=1, le=16)] | None = None
    # A TxProfile without transactionId: the limit of the transaction from its start.
    charging_profile: ChargingProfileIn | None = None
    # Default: the number of the START_SESSION kept for the eMSP (with ``ocpi``), else one from 1,000,000,000 up.
    remote_start_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None
    ocpi: OcpiContextIn | None = None


class StationResponse(msgspec.Struct, kw_only=True, rename="camel"):
    """The station's own answer: status, statusInfo (2.0.1), and the OCPP request and response payloads."""

    action: str
    ocpp_version: str
    status: str
    request: dict[str, Any]
    response: dict[str, Any]
    status_info: dict[str, Any] | None = None
    reason: str | None = None


class PowerLimitResponse(msgspec.Struct, kw_only=True, rename="camel"):
    """A power limit's answer: the station's response and the charging profile that carried the limit."""

    status: str
    charging_profile_id: int
    stack_level: int
    station_response: StationResponse
    charging_profile: dict[str, Any] | None = None
    status_info: dict[str, Any] | None = None
    condition: str | None = None
    comment: str | None = None


class StartTransactionResponse(msgspec.Struct, kw_only=True, rename="camel"):
    """A remote start's answer: the station's status (and statusInfo), the transactionId when the station gives one
    (2.0.1, a transaction already running there), the remoteStartId sent (2.0.1; its TransactionEvent carries it),
    and the eMSP partner whose OCPI session the transaction becomes."""

    status: str
    station_response: StationResponse
    status_info: dict[str, Any] | None = None
    transaction_id: str | None = None
    remote_start_id: int | None = None
    ocpi_partner_id: str | None = None


class CompositePeriodOut(msgspec.Struct, kw_only=True, rename="camel"):
    """One period of the composite schedule, in both units where the charger reported them."""

    start_period: int
    limit_w: float | None = None
    limit_a: float | None = None
    number_phases: int | None = None


class CompositeScheduleOut(msgspec.Struct, kw_only=True, rename="camel"):
    """GetCompositeSchedule as the charger computed it: periods counted from ``scheduleStart``."""

    evse_id: int
    duration: int
    status: str
    periods: list[CompositePeriodOut]
    station_responses: list[StationResponse]
    schedule_start: datetime | None = None
    status_info: dict[str, Any] | None = None


def station_response(answer: StationAnswer, reason: str | None = None) -> StationResponse:
    return StationResponse(action=answer.action, ocpp_version=answer.ocpp_version, status=answer.status,
                           status_info=answer.status_info, request=answer.request, response=answer.response,
                           reason=reason)
