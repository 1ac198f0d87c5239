"""Chargers: create one at a location from a catalog model, list, show with live state, delete.

Commands are in ``charger_commands``, logs in ``charger_logs``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from ..charger_fleet import ChargerFleet
from ..domain import chargers as charger_service
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


async def _state(db_session: AsyncSession, charger: Any, charger_fleet: ChargerFleet) -> dict[str, Any]:
    state = await charger_service.charger_state(db_session, charger)
    link = charger_fleet.fleet.link(charger.identity)
    state["simulated"] = link is not None
    if link is not None:
        state["simulator"] = link.station.view()
        state["link"] = {"connected": link.connected.is_set(), "connects": link.connects, "last_error": link.last_error}
    return state


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
        identity = charger.identity
        # No transaction may stay open while the fleet saves the stopped station's last state in its own (SQLite
        # would wait on itself until its busy timeout).
        await db_session.commit()
        await charger_fleet.remove(identity)
        await charger_service.delete_charger(db_session, tenant_id, id)
        return Response(None, status_code=204)
