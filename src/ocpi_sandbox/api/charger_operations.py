"""Charger operations on the embedded CSMS: charging profiles, availability, restart, remote start and stop,
composite schedule.

Modelled on the charger-operations APIs CSMS vendors give fleet and energy teams; each route sends one OCPP
request (translated to 1.6 for 1.6 chargers) and answers with the station's own response. A charger that is not
connected to the embedded CSMS is a 409 saying so. Power limits are in ``power_limits``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import Parameter

from ..domain.charger_commands import (
    ChargerCallError,
    ChargerDidNotAnswer,
    ChargerUnavailable,
    CompositeSchedule,
    RequestNotExpressible,
    StationAnswer,
)
from ..domain.charger_operations import ChargerOperations
from ..domain.remote_start import OcpiContext
from .charger_operation_types import (
    AvailabilityIn,
    CompositePeriodOut,
    CompositeScheduleOut,
    RestartIn,
    SetChargingProfileIn,
    StartTransactionIn,
    StartTransactionResponse,
    StationResponse,
    station_response,
)
from .errors import ApiProblem, error_responses

__all__ = ["ChargerOperationsController", "station_errors"]

_ERRORS = error_responses(400, 401, 403, 404, 409, 422, 502, 504)
EvseId = Annotated[int, Parameter(ge=1, le=64, description="EVSE id (OCPP 2.0.1 numbering; 1.6: connector)")]
Purpose = Literal["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile", "ChargingStationExternalConstraints"]


@contextmanager
def station_errors() -> Iterator[None]:
    """Turn a charger that cannot answer into the API's error shape (409, 422, 502, 504)."""
    try:
        yield
    except ChargerCallError as exc:
        raise ApiProblem(502, str(exc), details={"action": exc.action, "errorCode": exc.error_code,
                                                 "errorDescription": exc.description}) from None
    except ChargerUnavailable as exc:
        raise ApiProblem(409, str(exc)) from None
    except ChargerDidNotAnswer as exc:
        raise ApiProblem(504, str(exc)) from None
    except RequestNotExpressible as exc:  # a charging profile, or a token, 1.6 cannot carry
        raise ApiProblem(422, str(exc)) from None


def _composite_out(evse_id: int, duration: int,
                   results: list[tuple[StationAnswer, CompositeSchedule | None]]) -> CompositeScheduleOut:
    """Merge the W and A answers into one list of periods with both limits."""
    schedules = [s for _, s in results if s is not None]
    first = results[0][0]
    if not schedules:
        return CompositeScheduleOut(evse_id=evse_id, duration=duration, status=first.status, periods=[],
                                    status_info=first.status_info,
                                    station_responses=[station_response(a) for a, _ in results])
    start = schedules[0].start
    steps: dict[int, CompositePeriodOut] = {}
    for schedule in schedules:
        shift = int((schedule.start - start).total_seconds())
        for period in schedule.periods:
            at = max(0, period.start_period + shift)
            steps.setdefault(at, CompositePeriodOut(start_period=at))
    for offset, out in steps.items():
        for schedule in schedules:
            period = _period_at(schedule, start + timedelta(seconds=offset))
            if period is None:
                continue
            if schedule.unit == "W":
                out.limit_w = period.limit
            else:
                out.limit_a = period.limit
            out.number_phases = out.number_phases or period.number_phases
    return CompositeScheduleOut(evse_id=evse_id, duration=duration, status=first.status, schedule_start=start,
                                status_info=first.status_info, periods=[steps[k] for k in sorted(steps)],
                                station_responses=[station_response(a) for a, _ in results])


def _period_at(schedule: CompositeSchedule, at: datetime):  # noqa: ANN202 - CompositePeriod | None
    found = None
    for period in schedule.periods:
        if schedule.start + timedelta(seconds=period.start_period) <= at:
            found = period
    return found


class ChargerOperationsController(Controller):
    path = "/api/chargers"
    tags = ["charger operations"]

    @put("/{id:str}/charging-profiles", operation_id="setStationChargingProfile", responses=_ERRORS)
    async def set_station_profile(self, id: str, data: SetChargingProfileIn, tenant_id: str,  # noqa: A002
                                  charger_operations: ChargerOperations) -> StationResponse:
        """Install a charging profile on the whole charging station (SetChargingProfile, evseId 0)."""
        target = await charger_operations.charger(tenant_id, id)
        with station_errors():
            return station_response(await charger_operations.set_profile(target, data.charging_profile.to_ocpp()))

    @put("/{id:str}/evses/{evse_id:int}/charging-profiles", operation_id="setEvseChargingProfile",
         responses=_ERRORS)
    async def set_evse_profile(self, id: str, evse_id: EvseId, data: SetChargingProfileIn,  # noqa: A002
                               tenant_id: str, charger_operations: ChargerOperations) -> StationResponse:
        """Install a charging profile on one EVSE (SetChargingProfile; on a 1.6 charger, its connector)."""
        target = await charger_operations.charger(tenant_id, id, evse_id)
        with station_errors():
            return station_response(await charger_operations.set_profile(target, data.charging_profile.to_ocpp()))

    @delete("/{id:str}/charging-profiles", operation_id="clearChargingProfiles", status_code=200,
            responses=_ERRORS)
    async def clear_profiles(
        self, id: str, tenant_id: str, charger_operations: ChargerOperations,  # noqa: A002
        charging_profile_id: Annotated[int | None, Parameter(query="chargingProfileId", ge=1, le=2_147_483_647)]
        = None,
        evse_id: Annotated[int | None, Parameter(query="evseId", gt=-1, le=64)] = None,
        purpose: Annotated[Purpose | None, Parameter(query="chargingProfilePurpose")] = None,
        stack_level: Annotated[int | None, Parameter(query="stackLevel", gt=-1, le=1000)] = None,
    ) -> StationResponse:
        """Clear charging profiles by id, or every one matching the criteria given (none: all of them;
        ClearChargingProfile answers Accepted, or Unknown when nothing matched)."""
        target = await charger_operations.charger(tenant_id, id, evse_id or None)
        with station_errors():
            return station_response(await charger_operations.clear_profiles(
                target, profile_id=charging_profile_id, evse_id=evse_id, purpose=purpose, stack_level=stack_level))

    @delete("/{id:str}/evses/{evse_id:int}/charging-profiles", operation_id="clearEvseChargingProfiles",
            status_code=200, responses=_ERRORS)
    async def clear_evse_profiles(
        self, id: str, evse_id: EvseId, tenant_id: str, charger_operations: ChargerOperations,  # noqa: A002
        charging_profile_id: Annotated[int | None, Parameter(query="chargingProfileId", ge=1, le=2_147_483_647)]
        = None,
        purpose: Annotated[Purpose | None, Parameter(query="chargingProfilePurpose")] = None,
        stack_level: Annotated[int | None, Parameter(query="stackLevel", gt=-1, le=1000)] = None,
    ) -> StationResponse:
        """Clear the charging profiles of one EVSE, by id or by purpose and stack level."""
        target = await charger_operations.charger(tenant_id, id, evse_id)
        with station_errors():
            return station_response(await charger_operations.clear_profiles(
                target, profile_id=charging_profile_id, evse_id=evse_id, purpose=purpose, stack_level=stack_level))

    @post("/{id:str}/evses/{evse_id:int}/availability", operation_id="changeEvseAvailability", status_code=200,
          responses=_ERRORS)
    async def availability(
        self, id: str, evse_id: Annotated[int, Parameter(gt=-1, le=64, description="EVSE id; 0: the station")],  # noqa: A002
        data: AvailabilityIn, tenant_id: str, charger_operations: ChargerOperations,
    ) -> StationResponse:
        """Make an EVSE (0: the whole station) or one of its connectors Operative or Inoperative
        (ChangeAvailability; Scheduled while a transaction runs there)."""
        target = await charger_operations.charger(tenant_id, id, evse_id or None)
        with station_errors():
            answer = await charger_operations.change_availability(
                target, connector_id=data.connector_id, operative=data.operational_status == "Operative")
        return station_response(answer, data.reason)

    @post("/{id:str}/restart", operation_id="restartCharger", status_code=200, responses=_ERRORS)
    async def restart(self, id: str, tenant_id: str, charger_operations: ChargerOperations,  # noqa: A002
                      data: RestartIn | None = None) -> StationResponse:
        """Restart the station (Reset): Immediate, or OnIdle once its transactions have ended (1.6: Hard, Soft)."""
        target = await charger_operations.charger(tenant_id, id)
        with station_errors():
            answer = await charger_operations.restart(target, immediate=(data or RestartIn()).type == "Immediate")
        return station_response(answer)

    @post("/{id:str}/evses/{evse_id:int}/start-transaction", operation_id="startTransaction", status_code=200,
          responses=_ERRORS)
    async def start_transaction(self, id: str, evse_id: EvseId, data: StartTransactionIn,  # noqa: A002
                                tenant_id: str, charger_operations: ChargerOperations) -> StartTransactionResponse:
        """Start a transaction on an EVSE for an ID token (RequestStartTransaction; 1.6 RemoteStartTransaction),
        optionally limited from its start by a TxProfile. With ``ocpi`` the transaction becomes that eMSP's OCPI
        session, pushed to it as after its own START_SESSION (422 when no registered eMSP matches)."""
        target = await charger_operations.charger(tenant_id, id, evse_id)
        ocpi = None if data.ocpi is None else OcpiContext(**msgspec.structs.asdict(data.ocpi))
        with station_errors():
            started = await charger_operations.start_transaction(
                target, tenant_id=tenant_id, id_token=data.id_token, id_token_type=data.id_token_type,
                connector_id=data.connector_id, remote_start_id=data.remote_start_id, ocpi=ocpi,
                profile=None if data.charging_profile is None else data.charging_profile.to_ocpp())
        answer = started.answer
        return StartTransactionResponse(status=answer.status, status_info=answer.status_info,
                                        station_response=station_response(answer),
                                        transaction_id=started.transaction_id,
                                        remote_start_id=started.remote_start_id,
                                        ocpi_partner_id=started.ocpi_partner_id)

    @post("/{id:str}/transactions/{transaction_id:str}/stop", operation_id="stopTransaction", status_code=200,
          responses=_ERRORS)
    async def stop_transaction(
        self, id: str, tenant_id: str, charger_operations: ChargerOperations,  # noqa: A002
        transaction_id: Annotated[str, Parameter(min_length=1, max_length=36,
                                                 description="OCPP transactionId (1.6: the number the CSMS gave)")],
    ) -> StationResponse:
        """Stop a running transaction (RequestStopTransaction; 1.6 RemoteStopTransaction); 404 for a transaction
        the CSMS does not know on this charger, 409 for one that has ended."""
        target = await charger_operations.charger(tenant_id, id)
        with station_errors():
            return station_response(await charger_operations.stop_transaction(target, transaction_id))

    @get("/{id:str}/evses/{evse_id:int}/composite-schedule", operation_id="getCompositeSchedule",
         responses=_ERRORS)
    async def composite_schedule(
        self, id: str, tenant_id: str, charger_operations: ChargerOperations,  # noqa: A002
        evse_id: Annotated[int, Parameter(gt=-1, le=64, description="EVSE id; 0: the grid connection")],
        duration: Annotated[int, Parameter(ge=1, le=604_800, description="seconds ahead")] = 3600,
        unit: Annotated[Literal["A", "W"] | None, Parameter(query="chargingRateUnit")] = None,
    ) -> CompositeScheduleOut:
        """The effective limit of an EVSE over the next ``duration`` seconds as the charger computes it
        (GetCompositeSchedule), with limits in W and A as the charger reports them."""
        target = await charger_operations.charger(tenant_id, id, evse_id or None)
        with station_errors():
            results = await charger_operations.composite_schedule(target, duration, unit)
        return _composite_out(evse_id, duration, results)
