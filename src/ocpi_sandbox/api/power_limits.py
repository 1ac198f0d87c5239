"""Power limits on a charging station, an EVSE and a running session, and their removal.

``{limit: {acMaxPowerA | acMaxPowerKw | dcMaxPowerKw}}`` becomes a charging profile (``domain.power_limits``):
a station limit is a ChargingStationMaxProfile the station shares among its sessions, an EVSE limit the EVSE's
TxDefaultProfile, a session limit a TxProfile of its transaction. Each route answers with the station's own
response to SetChargingProfile or ClearChargingProfile.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, put
from litestar.params import Parameter

from ..domain.charger_operations import ChargerOperations, ChargerTarget, PowerLimit
from ..domain.power_limits import Target
from .charger_operation_types import PowerLimitIn, PowerLimitResponse, StationResponse, station_response
from .charger_operations import EvseId, station_errors
from .errors import error_responses

__all__ = ["PowerLimitsController"]

_ERRORS = error_responses(400, 401, 403, 404, 409, 422, 502, 504)
ProfileId = Annotated[int | None, Parameter(query="chargingProfileId", ge=1, le=2_147_483_647,
                                            description="the limit's id (default: the sandbox's id for it)")]
StackLevel = Annotated[int, Parameter(query="stackLevel", gt=-1, le=99,
                                      description="stack level of the default id (1 for a conditional limit)")]


async def _set(operations: ChargerOperations, target: ChargerTarget, kind: Target, data: PowerLimitIn
               ) -> PowerLimitResponse:
    limit = PowerLimit(ac_max_power_a=data.limit.ac_max_power_a, ac_max_power_kw=data.limit.ac_max_power_kw,
                       dc_max_power_kw=data.limit.dc_max_power_kw, charging_profile_id=data.charging_profile_id,
                       stack_level=data.stack_level, relative_delay=data.relative_delay, condition=data.condition,
                       comment=data.comment)
    with station_errors():
        answer, profile = await operations.set_power_limit(target, kind, limit)
    return PowerLimitResponse(status=answer.status, status_info=answer.status_info,
                              charging_profile_id=profile["id"], stack_level=profile["stackLevel"],
                              charging_profile=profile, station_response=station_response(answer),
                              condition=data.condition, comment=data.comment)


async def _remove(operations: ChargerOperations, target: ChargerTarget, kind: Target, profile_id: int | None,
                  stack_level: int) -> StationResponse:
    with station_errors():
        return station_response(await operations.remove_power_limit(target, kind, profile_id=profile_id,
                                                                    stack_level=stack_level))


class PowerLimitsController(Controller):
    path = "/api"
    tags = ["charger operations"]

    @put("/chargers/{id:str}/power-limit", operation_id="setStationPowerLimit", responses=_ERRORS)
    async def set_station(self, id: str, data: PowerLimitIn, tenant_id: str,  # noqa: A002
                          charger_operations: ChargerOperations) -> PowerLimitResponse:
        """Limit the whole station (ChargingStationMaxProfile); its running sessions share the limit."""
        target = await charger_operations.charger(tenant_id, id)
        return await _set(charger_operations, target, "station", data)

    @delete("/chargers/{id:str}/power-limit", operation_id="removeStationPowerLimit", status_code=200,
            responses=_ERRORS)
    async def remove_station(self, id: str, tenant_id: str, charger_operations: ChargerOperations,  # noqa: A002
                             charging_profile_id: ProfileId = None, stack_level: StackLevel = 0) -> StationResponse:
        """Remove a station limit (ClearChargingProfile by its id)."""
        target = await charger_operations.charger(tenant_id, id)
        return await _remove(charger_operations, target, "station", charging_profile_id, stack_level)

    @put("/chargers/{id:str}/evses/{evse_id:int}/power-limit", operation_id="setEvsePowerLimit", responses=_ERRORS)
    async def set_evse(self, id: str, evse_id: EvseId, data: PowerLimitIn, tenant_id: str,  # noqa: A002
                       charger_operations: ChargerOperations) -> PowerLimitResponse:
        """Limit one EVSE (its TxDefaultProfile: every transaction there, unless one has its own limit)."""
        target = await charger_operations.charger(tenant_id, id, evse_id)
        return await _set(charger_operations, target, "evse", data)

    @delete("/chargers/{id:str}/evses/{evse_id:int}/power-limit", operation_id="removeEvsePowerLimit",
            status_code=200, responses=_ERRORS)
    async def remove_evse(self, id: str, evse_id: EvseId, tenant_id: str,  # noqa: A002
                          charger_operations: ChargerOperations, charging_profile_id: ProfileId = None,
                          stack_level: StackLevel = 0) -> StationResponse:
        """Remove an EVSE limit (ClearChargingProfile by its id)."""
        target = await charger_operations.charger(tenant_id, id, evse_id)
        return await _remove(charger_operations, target, "evse", charging_profile_id, stack_level)

    @put("/sessions/{session_id:str}/power-limit", operation_id="setSessionPowerLimit", responses=_ERRORS)
    async def set_session(self, session_id: str, data: PowerLimitIn, tenant_id: str,
                          charger_operations: ChargerOperations) -> PowerLimitResponse:
        """Limit one running session (a TxProfile of its transaction). ``session_id`` is the OCPI session id
        or the CSMS transaction id."""
        target = await charger_operations.session_target(tenant_id, session_id)
        return await _set(charger_operations, target, "session", data)

    @delete("/sessions/{session_id:str}/power-limit", operation_id="removeSessionPowerLimit", status_code=200,
            responses=_ERRORS)
    async def remove_session(self, session_id: str, tenant_id: str, charger_operations: ChargerOperations,
                             charging_profile_id: ProfileId = None, stack_level: StackLevel = 0) -> StationResponse:
        """Remove a session limit; the session falls back to its EVSE's and station's limits."""
        target = await charger_operations.session_target(tenant_id, session_id)
        return await _remove(charger_operations, target, "session", charging_profile_id, stack_level)

