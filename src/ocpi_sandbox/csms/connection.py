"""One charge point connected to the embedded CSMS: its RPC, its version, and what its CALLs mean."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..domain.authorization import RealTimeAuthorizer, authorize_id_token
from ..domain.charging_events import EventBus
from ..ocpp.events import CallReceived
from ..ocpp.framing import ERROR_CODES
from ..ocpp.rpc import CallErrorReply, OcppRpc
from ..ocpp.session import OcppSession
from .meter_buffer import MeterBuffer
from .station_records import StationRecords

__all__ = ["CsmsConfig", "StationConnection"]


class CsmsConfig(msgspec.Struct, kw_only=True):
    heartbeat_interval: int = 300
    # "accept": a token the CSMS does not know is Accepted (a sandbox should just work); "reject": Invalid.
    unknown_tokens: str = "accept"
    response_timeout: float = 30.0


class StationConnection:
    """Answer one station's CALLs through the handlers of its OCPP version; record and publish what they mean."""

    def __init__(self, identity: str, version: str, tenant_id: str | None, *, send: Callable[[str], Awaitable[None]],
                 sessions: async_sessionmaker[AsyncSession], bus: EventBus, config: CsmsConfig,
                 on_frame: Callable[[str, str], None] | None, realtime: RealTimeAuthorizer | None = None,
                 meters: MeterBuffer, records: StationRecords) -> None:
        from . import handlers_v16, handlers_v201  # the two dialects; imported here to keep this module small

        self.identity, self.version, self.tenant_id = identity, version, tenant_id
        self.sessions, self.bus, self.config, self.realtime = sessions, bus, config, realtime
        self.meters, self.records = meters, records
        self._handlers = handlers_v16.HANDLERS if version == "1.6" else handlers_v201.HANDLERS
        self.rpc = OcppRpc(OcppSession(version, response_timeout=config.response_timeout), send, self._handle,
                           on_frame=on_frame)

    async def authorize(self, id_token: str, *, evse_id: int | None = None) -> str:
        """Authorize a token presented here, on ``evse_id`` when the station said (OCPP-neutral status; see
        domain.authorization)."""
        return await authorize_id_token(self.sessions, self.tenant_id, self.identity, id_token,
                                        realtime=self.realtime, unknown_policy=self.config.unknown_tokens,
                                        evse_id=evse_id)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    async def _handle(self, event: CallReceived) -> msgspec.Struct | CallErrorReply:
        handler = self._handlers.get(event.action)
        if handler is not None:
            return await handler(self, event.request)
        response_type = self.rpc.session.actions[event.action][1]
        try:
            # Notifications whose answer carries nothing (e.g. FirmwareStatusNotification) are acknowledged.
            return response_type()
        except TypeError:
            return CallErrorReply(ERROR_CODES[self.version].not_supported,
                                  f"the embedded CSMS does not handle {event.action}")
