"""Chaos switches: make a simulated charger misbehave towards its CSMS, for CSMS teams testing their error paths.

Two kinds of misbehaviour live in two places: how the charger answers the CSMS's CALLs (delay, drop, CALLERROR)
is the transport's business (``simulator.transport.Chaos``); protocol-level quirks (a lock that fails on
UnlockConnector, a BootNotification on every reconnect) belong to the station model and are saved with its
snapshot. This controller shows both as one settings object. Transport switches last until the sandbox restarts.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from ..charger_fleet import ChargerFleet
from ..domain import chargers as charger_service
from ..ocpp.rpc import ConnectionLost
from ..simulator.transport import Chaos, StationLink
from .errors import ApiProblem, error_responses

__all__ = ["ChargerChaosController"]

Share = Annotated[float, msgspec.Meta(ge=0, le=1, description="share of the CSMS's CALLs affected, 0..1")]


class ChaosSettings(msgspec.Struct, kw_only=True):
    # Seconds the charger waits before answering any CSMS CALL (above your CSMS's timeout, it looks dead).
    response_delay: Annotated[float, msgspec.Meta(ge=0, le=300)] = 0.0
    # Share of the CSMS's CALLs the charger never answers.
    drop_responses: Share = 0.0
    # Share of the CSMS's CALLs answered with CALLERROR InternalError.
    callerror_responses: Share = 0.0
    # UnlockConnector fails (1.6 UnlockFailed, 2.0.1 UnlockFailed), as with a stuck lock.
    lock_failure: bool = False
    # The charger sends BootNotification on every reconnect, even when already accepted.
    duplicate_boot: bool = False


# Frames a broken firmware might send; each should draw a CALLERROR (or be ignored, for results) from the CSMS.
MALFORMED_FRAMES: dict[str, str] = {
    "not-json": '[2, "chaos-1", "Heartbeat", {',
    "not-an-array": '{"messageTypeId": 2, "action": "Heartbeat"}',
    "unknown-message-type": '[7, "chaos-2", "Heartbeat", {}]',
    "unknown-action": '[2, "chaos-3", "MakeCoffee", {}]',
    "invalid-payload": '[2, "chaos-4", "StatusNotification", {"connectorId": "one"}]',
    "unexpected-result": '[3, "chaos-5", {}]',
}


class MalformedFrame(msgspec.Struct, kw_only=True):
    kind: Literal["not-json", "not-an-array", "unknown-message-type", "unknown-action", "invalid-payload",
                  "unexpected-result"] = "unknown-action"


class MalformedFrameSent(msgspec.Struct, kw_only=True):
    kind: str
    frame: str
    note: str = "the frame and the CSMS's answer (a CALLERROR, unless it is a stray result) are in the charger's log"


async def _link(db_session: AsyncSession, tenant_id: str, charger_id: str, charger_fleet: ChargerFleet) -> StationLink:
    charger = await charger_service.get_charger(db_session, tenant_id, charger_id)
    await db_session.commit()  # nothing below touches the database; release it before waiting on the socket
    link = charger_fleet.fleet.link(charger.identity)
    if link is None:
        raise ApiProblem(409, f"charger {charger.identity} is not simulated here (disabled, or created with "
                              "simulate=false): chaos switches act on the sandbox's own simulators")
    return link


def _settings(link: StationLink) -> ChaosSettings:
    chaos, switches = link.chaos, link.station.switches
    return ChaosSettings(response_delay=chaos.response_delay, drop_responses=chaos.drop_responses,
                         callerror_responses=chaos.callerror_responses, lock_failure=switches["lock_failure"],
                         duplicate_boot=switches["duplicate_boot"])


class ChargerChaosController(Controller):
    path = "/api/chargers/{charger_id:str}/chaos"
    tags = ["chargers"]

    @get("/", operation_id="getChargerChaos", responses=error_responses(401, 403, 404, 409))
    async def show(self, charger_id: str, tenant_id: str, db_session: AsyncSession,
                   charger_fleet: ChargerFleet) -> ChaosSettings:
        """Show the charger's chaos switches (all off by default)."""
        return _settings(await _link(db_session, tenant_id, charger_id, charger_fleet))

    @put("/", operation_id="setChargerChaos", responses=error_responses(400, 401, 403, 404, 409))
    async def replace(self, charger_id: str, data: ChaosSettings, tenant_id: str, db_session: AsyncSession,
                      charger_fleet: ChargerFleet) -> ChaosSettings:
        """Set every chaos switch at once (a field left out is off); PUT an empty object to switch all off."""
        link = await _link(db_session, tenant_id, charger_id, charger_fleet)
        link.chaos = Chaos(response_delay=data.response_delay, drop_responses=data.drop_responses,
                           callerror_responses=data.callerror_responses)
        link.station.switches.update(lock_failure=data.lock_failure, duplicate_boot=data.duplicate_boot)
        return _settings(link)

    @post("/malformed-frame", operation_id="sendMalformedFrame", status_code=200,
          responses=error_responses(400, 401, 403, 404, 409))
    async def malformed_frame(self, charger_id: str, tenant_id: str, db_session: AsyncSession,
                              charger_fleet: ChargerFleet, data: MalformedFrame | None = None) -> MalformedFrameSent:
        """Send one malformed OCPP-J frame to the CSMS: not-json, not-an-array, unknown-message-type,
        unknown-action, invalid-payload or unexpected-result (a CALLRESULT nobody asked for)."""
        link = await _link(db_session, tenant_id, charger_id, charger_fleet)
        kind = (data or MalformedFrame()).kind
        if not link.connected.is_set():
            raise ApiProblem(409, f"charger {link.identity} is not connected to its CSMS now; wait until it is "
                                  "(GET /api/chargers/{id} shows state.link) and retry")
        frame = MALFORMED_FRAMES[kind]
        try:
            await link.send_raw(frame)
        except ConnectionLost:
            raise ApiProblem(409, f"charger {link.identity} lost its connection while sending; retry once it "
                                  "has reconnected") from None
        return MalformedFrameSent(kind=kind, frame=frame)
