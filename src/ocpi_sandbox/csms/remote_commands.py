"""Carry out ``domain.charger_commands.ChargerCommands`` with OCPP requests of the charger's own version.

1.6 has no EVSE level: EVSE n is connector n. OCPI token types map to 2.0.1 IdTokenEnumType (an RFID uid is
ISO14443, an app or ad-hoc user a Central token, 2.3.0's EMAID an eMAID); 1.6 idTags are at most 20 characters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ..domain.charger_commands import (
    ChargerCallError,
    ChargerDidNotAnswer,
    ChargerUnavailable,
    CompositePeriod,
    CompositeSchedule,
    RequestNotExpressible,
    StationAnswer,
)
from ..ocpp.rpc import CallFailed, CallTimeout
from ..ocpp.v16 import messages as m16
from ..ocpp.v201 import messages as m201
from ..ocpp.v201.datatypes import ClearChargingProfileType, EVSEType, IdTokenType
from .charging_profiles_v16 import profile_16, profile_201, purpose_16
from .gateway import ChargerGateway, ChargerOffline

__all__ = ["CsmsChargerCommands"]

_TOKEN_201 = {"RFID": "ISO14443", "APP_USER": "Central", "AD_HOC_USER": "Central", "OTHER": "Central",
              "EMAID": "eMAID"}


class CsmsChargerCommands:
    def __init__(self, gateway: ChargerGateway) -> None:
        self._gateway = gateway

    async def _call(self, identity: str, action: str, payload: object) -> str:
        try:
            response = await self._gateway.call(identity, action, payload)
        except ChargerOffline as exc:
            raise ChargerUnavailable(str(exc)) from None
        except CallFailed as exc:
            raise ChargerUnavailable(f"{identity} answered {action} with {exc.error_code}") from None
        except CallTimeout:
            raise ChargerDidNotAnswer(f"{identity} did not answer {action} in time") from None
        return str(response.status)

    def _v16(self, identity: str) -> bool:
        try:
            return self._gateway.version_of(identity) == "1.6"
        except ChargerOffline as exc:
            raise ChargerUnavailable(str(exc)) from None

    @staticmethod
    def _token(id_token: str, token_type: str) -> IdTokenType:
        return IdTokenType(id_token=id_token[:36], type=_TOKEN_201.get(token_type, "Central"))

    async def start_transaction(self, identity: str, *, evse_id: int | None, id_token: str, token_type: str,
                                remote_start_id: int) -> str:
        if self._v16(identity):
            return await self._call(identity, "RemoteStartTransaction", m16.RemoteStartTransactionRequest(
                connector_id=evse_id, id_tag=id_token[:20]))
        return await self._call(identity, "RequestStartTransaction", m201.RequestStartTransactionRequest(
            evse_id=evse_id, id_token=self._token(id_token, token_type), remote_start_id=remote_start_id))

    async def stop_transaction(self, identity: str, *, transaction_id: str) -> str:
        if self._v16(identity):
            return await self._call(identity, "RemoteStopTransaction",
                                    m16.RemoteStopTransactionRequest(transaction_id=int(transaction_id)))
        return await self._call(identity, "RequestStopTransaction",
                                m201.RequestStopTransactionRequest(transaction_id=transaction_id))

    async def unlock_connector(self, identity: str, *, evse_id: int, connector_id: int) -> str:
        if self._v16(identity):
            return await self._call(identity, "UnlockConnector", m16.UnlockConnectorRequest(connector_id=evse_id))
        return await self._call(identity, "UnlockConnector",
                                m201.UnlockConnectorRequest(evse_id=evse_id, connector_id=connector_id))

    async def reserve_now(self, identity: str, *, reservation_id: int, evse_id: int | None, id_token: str,
                          token_type: str, expiry: datetime) -> str:
        if self._v16(identity):
            return await self._call(identity, "ReserveNow", m16.ReserveNowRequest(
                connector_id=evse_id or 0, expiry_date=expiry, id_tag=id_token[:20], reservation_id=reservation_id))
        return await self._call(identity, "ReserveNow", m201.ReserveNowRequest(
            id=reservation_id, expiry_date_time=expiry, id_token=self._token(id_token, token_type), evse_id=evse_id))

    async def cancel_reservation(self, identity: str, *, reservation_id: int) -> str:
        request = (m16.CancelReservationRequest if self._v16(identity) else m201.CancelReservationRequest)
        return await self._call(identity, "CancelReservation", request(reservation_id=reservation_id))

    # -- smart charging and operations: the station's own answer comes back whole (StationAnswer) --

    async def _answer(self, identity: str, action: str, payload: Any) -> tuple[StationAnswer, Any]:
        version = "1.6" if self._v16(identity) else "2.0.1"
        try:
            response = await self._gateway.call(identity, action, payload)
        except ChargerOffline as exc:
            raise ChargerUnavailable(str(exc)) from None
        except CallFailed as exc:
            raise ChargerCallError(f"{identity} answered {action} with CALLERROR {exc.error_code}: "
                                   f"{exc.description}".rstrip(": "), action=action, error_code=exc.error_code,
                                   description=exc.description) from None
        except CallTimeout:
            raise ChargerDidNotAnswer(f"{identity} did not answer {action} in time") from None
        body = msgspec.to_builtins(response)
        answer = StationAnswer(action=action, ocpp_version=version, status=str(response.status),
                               status_info=body.get("statusInfo"), request=msgspec.to_builtins(payload),
                               response=body)
        return answer, response

    async def set_charging_profile(self, identity: str, *, evse_id: int, profile: dict[str, Any],
                                   connector_16: int | None = None) -> StationAnswer:
        typed = profile_201(profile)
        if self._v16(identity):
            request: Any = m16.SetChargingProfileRequest(
                connector_id=evse_id if connector_16 is None else connector_16, cs_charging_profiles=profile_16(typed))
        else:
            request = m201.SetChargingProfileRequest(evse_id=evse_id, charging_profile=typed)
        return (await self._answer(identity, "SetChargingProfile", request))[0]

    async def clear_charging_profile(self, identity: str, *, profile_id: int | None = None,
                                     evse_id: int | None = None, purpose: str | None = None,
                                     stack_level: int | None = None, connector_16: int | None = None
                                     ) -> StationAnswer:
        if self._v16(identity):
            connector = connector_16 if connector_16 is not None else evse_id
            request: Any = m16.ClearChargingProfileRequest(
                id=profile_id, connector_id=connector, stack_level=stack_level,
                charging_profile_purpose=None if purpose is None else purpose_16(purpose))
        else:
            criteria = None
            if (evse_id, purpose, stack_level) != (None, None, None):
                criteria = ClearChargingProfileType(evse_id=evse_id, charging_profile_purpose=purpose,
                                                    stack_level=stack_level)
            request = m201.ClearChargingProfileRequest(charging_profile_id=profile_id,
                                                       charging_profile_criteria=criteria)
        return (await self._answer(identity, "ClearChargingProfile", request))[0]

    async def get_composite_schedule(self, identity: str, *, evse_id: int, duration: int, unit: str | None = None,
                                     connector_16: int | None = None
                                     ) -> tuple[StationAnswer, CompositeSchedule | None]:
        if self._v16(identity):
            answer, response = await self._answer(identity, "GetCompositeSchedule", m16.GetCompositeScheduleRequest(
                connector_id=evse_id if connector_16 is None else connector_16, duration=duration,
                charging_rate_unit=unit))
            schedule = response.charging_schedule
            if not answer.accepted or schedule is None:
                return answer, None
            start = schedule.start_schedule or response.schedule_start
            if start is None:
                return answer, None
            duration = schedule.duration if schedule.duration is not None else duration
        else:
            answer, response = await self._answer(identity, "GetCompositeSchedule", m201.GetCompositeScheduleRequest(
                evse_id=evse_id, duration=duration, charging_rate_unit=unit))
            schedule = response.schedule
            if not answer.accepted or schedule is None:
                return answer, None
            start, duration = schedule.schedule_start, schedule.duration
        periods = [CompositePeriod(start_period=p.start_period, limit=float(p.limit), number_phases=p.number_phases)
                   for p in schedule.charging_schedule_period]
        return answer, CompositeSchedule(start=start, duration=duration, unit=str(schedule.charging_rate_unit),
                                         periods=periods)

    async def change_availability(self, identity: str, *, evse_id: int, connector_id: int | None, operative: bool,
                                  connector_16: int | None = None) -> StationAnswer:
        kind = "Operative" if operative else "Inoperative"
        if self._v16(identity):
            connector = connector_16 if connector_16 is not None else evse_id
            request: Any = m16.ChangeAvailabilityRequest(connector_id=connector, type=kind)
        else:
            evse = None if evse_id == 0 else EVSEType(id=evse_id, connector_id=connector_id)
            request = m201.ChangeAvailabilityRequest(operational_status=kind, evse=evse)
        return (await self._answer(identity, "ChangeAvailability", request))[0]

    async def request_start_transaction(self, identity: str, *, evse_id: int, connector_16: int, id_token: str,
                                        id_token_type: str, remote_start_id: int,
                                        profile: dict[str, Any] | None = None) -> StationAnswer:
        typed = None if profile is None else profile_201(profile)
        if self._v16(identity):
            if len(id_token) > 20:  # cutting it would start a transaction for another token
                raise RequestNotExpressible(f"idToken {id_token!r} is longer than an OCPP 1.6 idTag (20 characters)")
            request: Any = m16.RemoteStartTransactionRequest(
                connector_id=connector_16, id_tag=id_token,
                charging_profile=None if typed is None else profile_16(typed))
        else:
            request = m201.RequestStartTransactionRequest(
                evse_id=evse_id, id_token=IdTokenType(id_token=id_token, type=id_token_type),
                remote_start_id=remote_start_id, charging_profile=typed)
        action = "RemoteStartTransaction" if self._v16(identity) else "RequestStartTransaction"
        return (await self._answer(identity, action, request))[0]

    async def request_stop_transaction(self, identity: str, *, transaction_id: str) -> StationAnswer:
        if self._v16(identity):
            return (await self._answer(identity, "RemoteStopTransaction",
                                       m16.RemoteStopTransactionRequest(transaction_id=int(transaction_id))))[0]
        return (await self._answer(identity, "RequestStopTransaction",
                                   m201.RequestStopTransactionRequest(transaction_id=transaction_id)))[0]

    async def reset(self, identity: str, *, immediate: bool) -> StationAnswer:
        # 1.6 has no "when idle": a Soft reset (stop transactions gracefully, then reboot) is the nearest.
        if self._v16(identity):
            request: Any = m16.ResetRequest(type="Hard" if immediate else "Soft")
        else:
            request = m201.ResetRequest(type="Immediate" if immediate else "OnIdle")
        return (await self._answer(identity, "Reset", request))[0]
