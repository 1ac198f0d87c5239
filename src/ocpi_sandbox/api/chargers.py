"""Chargers: create one at a location from a catalog model, list, show with live state, delete, read its log."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from ..charger_fleet import ChargerFleet
from ..domain import chargers as charger_service
from .errors import ApiProblem
from .chargers_view import ChargerOut, charger_out
from .errors import error_responses

__all__ = ["ChargersController"]

Identity = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._\-*]{1,48}$", examples=["CP-0001"])]


class ChargerCreate(msgspec.Struct, kw_only=True):
    location_id: str
    brand_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["voltstream"])]
    model_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["homebox-7"])]
    ocpp_version: Literal["1.6", "2.0.1"] | None = None
    identity: Identity | None = None
    # Where the charger connects: null for the embedded CSMS, or an external CSMS endpoint (ws:// or wss://).
    ws_url: Annotated[str, msgspec.Meta(max_length=255, pattern=r"^wss?://[\x21-\x7E]+$")] | None = None
    # HTTP Basic password (OCPP security profile 1/2).
    password: Annotated[str, msgspec.Meta(min_length=16, max_length=40, pattern=r"^[\x21-\x7E]+$")] | None = None
    # OCPI ids of tariffs of the location's CPO party, published on every connector.
    tariff_ids: list[str] | None = None
    # false: the sandbox does not simulate it; connect your own charge point as this identity instead.
    simulate: bool = True
    # OCPP configuration overrides: 1.6 keys ("MeterValueSampleInterval") or 2.0.1 "Component.Variable" names.
    configuration: dict[str, str] | None = None


COMMANDS = ("plug-in", "unplug", "swipe-card", "start-transaction", "stop-transaction", "inject-fault", "clear-fault",
            "power-loss", "disconnect", "reconnect")


class DriverAction(msgspec.Struct, kw_only=True):
    evse_id: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    connector_id: Annotated[int, msgspec.Meta(ge=1, le=16)] = 1
    id_token: Annotated[str, msgspec.Meta(min_length=1, max_length=36, pattern=r"^[\x21-\x7E]+$")] | None = None
    # OCPP 1.6 ChargePointErrorCode for inject-fault (2.0.1 chargers report Faulted with a NotifyEvent).
    error_code: Annotated[str, msgspec.Meta(max_length=32, pattern=r"^[A-Za-z]+$")] | None = None


async def _state(db_session: AsyncSession, charger: Any, charger_fleet: ChargerFleet) -> dict[str, Any]:
    state = await charger_service.charger_state(db_session, charger)
    link = charger_fleet.fleet.link(charger.identity)
    state["simulated"] = link is not None
    if link is not None:
        state["simulator"] = link.station.view()
        state["link"] = {"connected": link.connected.is_set(), "connects": link.connects, "last_error": link.last_error}
    return state


class FrameOut(msgspec.Struct, kw_only=True):
    id: int
    at: datetime
    direction: str
    message_type: int | None
    action: str | None
    unique_id: str | None
    side: str
    frame: str


class FramePage(msgspec.Struct, kw_only=True):
    items: list[FrameOut]
    next_before: int | None = None


class ChargersController(Controller):
    path = "/api/chargers"
    tags = ["chargers"]

    @post("/", operation_id="createCharger", responses=error_responses(400, 401, 403, 404, 409, 422))
    async def create(self, data: ChargerCreate, tenant_id: str, db_session: AsyncSession,
                     charger_fleet: ChargerFleet) -> ChargerOut:
        """Create a charger at a location from a catalog model and start simulating it (it connects to ws_url, or
        to the embedded CSMS); an unknown slug is 422 listing the valid ones."""
        charger = await charger_service.create_charger(db_session, tenant_id, **msgspec.to_builtins(data))
        charger_fleet.add(charger)
        return charger_out(charger, await _state(db_session, charger, charger_fleet))

    @get("/", operation_id="listChargers", responses=error_responses(400, 401, 403, 404))
    async def list(self, tenant_id: str, db_session: AsyncSession,
                   location_id: Annotated[str | None, Parameter(query="location_id")] = None) -> list[ChargerOut]:
        """List chargers, optionally of one location."""
        return [charger_out(c) for c in await charger_service.list_chargers(db_session, tenant_id,
                                                                           location_id=location_id)]

    @get("/{id:str}", operation_id="getCharger", responses=error_responses(401, 403, 404))
    async def show(self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                   charger_fleet: ChargerFleet) -> ChargerOut:
        """Show a charger with its live state: connection, boot status, connectors, transaction, and the
        simulator's own view (power, energy, EV state of charge)."""
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        return charger_out(charger, await _state(db_session, charger, charger_fleet))

    @delete("/{id:str}", operation_id="deleteCharger", responses=error_responses(401, 403, 404))
    async def remove(self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                     charger_fleet: ChargerFleet) -> Response[None]:
        """Stop simulating a charger and delete it."""
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        await charger_fleet.remove(charger.identity)
        await charger_service.delete_charger(db_session, tenant_id, id)
        return Response(None, status_code=204)

    @post("/{id:str}/commands/{command:str}", operation_id="runChargerCommand", status_code=200,
          responses=error_responses(400, 401, 403, 404, 409, 422))
    async def command(self, id: str, command: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
                      charger_fleet: ChargerFleet, data: DriverAction | None = None) -> dict[str, Any]:
        """Act on a simulated charger as a driver or operator would: plug-in, unplug, swipe-card,
        start-transaction, stop-transaction, inject-fault, clear-fault, disconnect, reconnect, power-loss."""
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        link = charger_fleet.fleet.link(charger.identity)
        if link is None:
            raise ApiProblem(409, f"charger {charger.identity} is not simulated here (disabled, or deleted)")
        action = data or DriverAction()
        station, now = link.station, time.monotonic()
        if command == "plug-in":
            result = station.plug_in(action.evse_id, action.connector_id, None, now)
        elif command == "unplug":
            result = station.unplug(action.evse_id, action.connector_id, now)
        elif command == "swipe-card":
            result = station.swipe_card(action.id_token or "04A1B2C3D4", action.evse_id, now)
        elif command == "start-transaction":
            result = station.start_local(action.evse_id, action.id_token, now, connector_id=action.connector_id)
        elif command == "stop-transaction":
            result = station.stop_local(action.evse_id, now)
        elif command == "inject-fault":
            result = station.inject_fault(action.evse_id, action.connector_id, action.error_code or "GroundFailure",
                                          now)
        elif command == "clear-fault":
            result = station.clear_fault(action.evse_id, action.connector_id, now)
        elif command == "power-loss":
            result = station.power_loss(now)
            if result.get("reconnect"):
                await link.drop()  # a power cut also cuts the socket: the charger reconnects and boots again
        elif command == "disconnect":
            await link.drop()
            result = {"disconnected": True, "note": "the charger reconnects by itself, with back-off"}
        elif command == "reconnect":
            link.start()
            result = {"reconnecting": True}
        else:
            raise ApiProblem(404, f"unknown command {command!r}; use one of {', '.join(COMMANDS)}")
        link.pump()
        return {"command": command, "result": result}

    @get("/{id:str}/logs", operation_id="getChargerLogs", responses=error_responses(400, 401, 403, 404))
    async def logs(
        self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
        action: Annotated[str | None, Parameter(max_length=64)] = None,
        direction: Annotated[Literal["sent", "received"] | None, Parameter()] = None,
        since: Annotated[datetime | None, Parameter()] = None,
        until: Annotated[datetime | None, Parameter()] = None,
        before: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> FramePage:
        """Read the charger's OCPP frames, newest first; ``direction`` is as seen from the charger."""
        charger = await charger_service.get_charger(db_session, tenant_id, id)
        rows = await charger_service.charger_frames(db_session, charger, action=action, direction=direction,
                                                    since=since, until=until, before=before, limit=limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        items = [FrameOut(id=r.id, at=r.at, direction=r.direction, message_type=r.message_type, action=r.action,
                          unique_id=r.unique_id, side=r.side, frame=r.frame) for r in rows]
        return FramePage(items=items, next_before=rows[-1].id if more and rows else None)
