"""The embedded CSMS's WebSocket endpoint ``/csms/{charge_point_id}`` (OCPP-J 1.6 and 2.0.1 part 4).

The handshake is refused (HTTP 403, closed before accept) when the client offers neither ``ocpp2.0.1`` nor
``ocpp1.6``, when a station with a password sends wrong or no Basic credentials (security profile 1), and,
with ``OCPI_SANDBOX_CSMS_UNKNOWN_CHARGERS=reject``, for an identity the sandbox does not know. OCPP-J asks a
server that supports none of the offered versions to accept and then close; refusing outright is clearer to
the client's logs, and is what the ``websockets`` server does too.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections import defaultdict
from collections.abc import Callable

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db.models import Charger, CsmsStation
from ..domain import tenants as tenant_service
from ..domain.authorization import RealTimeAuthorizer
from ..domain.charging_events import EventBus, StationConnectionChanged
from .connection import CsmsConfig, StationConnection
from .frame_log import FrameLog
from .meter_buffer import MeterBuffer
from .station_records import StationRecords
from .gateway import ChargerGateway

__all__ = ["CsmsEndpoint", "csms_websocket", "SUBPROTOCOLS"]

log = logging.getLogger(__name__)

# Subprotocol -> OCPP version; the client's order of preference decides among these.
SUBPROTOCOLS = {"ocpp2.0.1": "2.0.1", "ocpp1.6": "1.6"}


class CsmsEndpoint:
    """Everything the WebSocket route needs, built once in ``create_app``."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], bus: EventBus, gateway: ChargerGateway,
                 frame_log: FrameLog, meters: MeterBuffer, records: StationRecords, config: CsmsConfig,
                 unknown_chargers: str = "accept",
                 is_simulated: Callable[[str], bool] = lambda identity: False,
                 realtime: RealTimeAuthorizer | None = None) -> None:
        self.sessions, self.bus, self.gateway, self.frame_log = sessions, bus, gateway, frame_log
        self.meters, self.records = meters, records
        # Connection state writes of one identity, one at a time: a station that reconnects fast must not have its
        # old socket's "disconnected" land after its new socket's "connected".
        self._presence: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.config, self.unknown_chargers, self.is_simulated = config, unknown_chargers, is_simulated
        self.realtime = realtime

    async def admit(self, identity: str, authorization: str | None) -> tuple[bool, str | None, str]:
        """Decide whether ``identity`` may connect; return (admitted, tenant id, reason if not)."""
        async with self.sessions() as session:
            charger = await session.scalar(select(Charger).where(Charger.identity == identity))
            station = await session.get(CsmsStation, identity)
            tenant_id = charger.tenant_id if charger else (station.tenant_id if station else None)
            password = (charger.password if charger else None) or (station.password if station else None)
            if charger is None and station is None:
                if self.unknown_chargers == "reject":
                    return False, None, "unknown charge point (OCPI_SANDBOX_CSMS_UNKNOWN_CHARGERS=reject)"
                tenant_id = await tenant_service.default_tenant_id(session)
            await session.commit()
        if password and not _basic_auth_ok(authorization, identity, password):
            return False, tenant_id, "missing or wrong HTTP Basic credentials"
        return True, tenant_id, ""

    async def serve(self, socket: WebSocket, identity: str) -> None:
        offered = socket.scope.get("subprotocols") or []
        chosen = next((p for p in offered if p in SUBPROTOCOLS), None)
        if chosen is None:
            log.info("refused %s: offered subprotocols %s, we speak %s", identity, offered, list(SUBPROTOCOLS))
            await socket.close(code=1002)
            return
        admitted, tenant_id, reason = await self.admit(identity, socket.headers.get("authorization"))
        if not admitted:
            log.info("refused %s: %s", identity, reason)
            await socket.close(code=1008)
            return
        await socket.accept(subprotocols=chosen)
        version = SUBPROTOCOLS[chosen]
        logged = not self.is_simulated(identity)  # our own simulator logs its frames itself

        def on_frame(direction: str, text: str) -> None:
            # "in" at the CSMS is what the charge point sent.
            self.frame_log.append(identity, "sent" if direction == "in" else "received", text, "csms")

        connection = StationConnection(identity, version, tenant_id, send=socket.send_text, sessions=self.sessions,
                                       bus=self.bus, config=self.config, on_frame=on_frame if logged else None,
                                       realtime=self.realtime, meters=self.meters, records=self.records)
        previous = self.gateway.attach(connection)
        if previous is not None:  # the station reconnected before we noticed the old socket die
            await previous.rpc.close()
        async with self._presence[identity]:
            await self.records.connected(identity, version, tenant_id)
        self.bus.publish(StationConnectionChanged(identity=identity, tenant_id=tenant_id, at=connection.now(),
                                                  connected=True))
        connection.rpc.start()
        try:
            while True:
                await connection.rpc.feed(await socket.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            await connection.rpc.close()
            self.gateway.detach(connection)
            async with self._presence[identity]:
                gone = not self.gateway.connected(identity)  # checked and written under the lock
                if gone:
                    await self.records.disconnected(identity, version, tenant_id)
            if gone:
                self.bus.publish(StationConnectionChanged(identity=identity, tenant_id=tenant_id,
                                                          at=connection.now(), connected=False))


def _basic_auth_ok(header: str | None, identity: str, password: str) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        user, _, given = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == identity and given == password


@websocket("/csms/{charge_point_id:str}", opt={"exclude_from_auth": True})
async def csms_websocket(socket: WebSocket, charge_point_id: str, csms: CsmsEndpoint) -> None:
    """Accept one charge point's OCPP-J connection."""
    await csms.serve(socket, charge_point_id)
