"""Carry out ``domain.charger_commands.ChargerCommands`` with OCPP requests of the charger's own version.

1.6 has no EVSE level: EVSE n is connector n. OCPI token types map to 2.0.1 IdTokenEnumType (an RFID uid is
ISO14443, an app or ad-hoc user a Central token, 2.3.0's EMAID an eMAID); 1.6 idTags are at most 20 characters.
"""

from __future__ import annotations

from datetime import datetime

from ..domain.charger_commands import ChargerDidNotAnswer, ChargerUnavailable
from ..ocpp.rpc import CallFailed, CallTimeout
from ..ocpp.v16 import messages as m16
from ..ocpp.v201 import messages as m201
from ..ocpp.v201.datatypes import IdTokenType
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
