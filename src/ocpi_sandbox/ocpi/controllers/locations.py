"""The Locations module, CPO as Sender (OCPI 2.2.1 mod_locations, Sender interface; reference ocpi.md §4.1).

GET the paginated list (``date_from``/``date_to`` on last_updated), one Location, one EVSE, or one Connector.
An eMSP sees the locations of the CPO party it registered with.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import location_view
from ..caller import OcpiCaller
from ..envelope import OcpiResponse, ocpi_response
from ..errors import OcpiError
from ..location_objects import connector_object, evse_object, location_object
from ..pagination import paged_response, read_page

__all__ = ["LocationsController"]


def _version(request: Request) -> str:
    return request.route_handler.opt["ocpi_version"]


class LocationsController(Controller):
    path = "/locations"
    opt = {"ocpi_module": "locations"}

    @get("/", operation_id="ocpiListLocations", include_in_schema=False)
    async def list(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, base_url: str,
                   settings: Any) -> Response[OcpiResponse[Any]]:
        version, party = _version(request), caller.party
        params = dict(request.query_params)
        page = read_page(params, max_limit=settings.ocpi_page_limit)
        views = await location_view.load_location_views(
            db_session, party.id, party.country_code, party.party_id, date_from=page.date_from,
            date_to=page.date_to, offset=page.offset, limit=page.limit)
        total = await location_view.count_location_views(db_session, party.id, date_from=page.date_from,
                                                         date_to=page.date_to)
        return paged_response([location_object(v, party, version) for v in views],
                              url=f"{base_url}/ocpi/{version}/locations", params=params, page=page, total=total,
                              max_limit=settings.ocpi_page_limit)

    async def _view(self, caller: OcpiCaller, db_session: AsyncSession, location_id: str):  # noqa: ANN202
        party = caller.party
        view = await location_view.load_location_view(db_session, party.id, party.country_code, party.party_id,
                                                      location_id)
        if view is None:
            raise OcpiError.not_found(f"no location {location_id}")
        return view

    @get("/{location_id:str}", operation_id="ocpiGetLocation", include_in_schema=False)
    async def location(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, location_id: str
                       ) -> Response[OcpiResponse[Any]]:
        view = await self._view(caller, db_session, location_id)
        return ocpi_response(location_object(view, caller.party, _version(request)))

    @get("/{location_id:str}/{evse_uid:str}", operation_id="ocpiGetEvse", include_in_schema=False)
    async def evse(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, location_id: str,
                   evse_uid: str) -> Response[OcpiResponse[Any]]:
        view = await self._view(caller, db_session, location_id)
        evse = next((e for e in view.evses if e.uid.upper() == evse_uid.upper()), None)
        if evse is None:
            raise OcpiError.not_found(f"no EVSE {evse_uid} at location {location_id}")
        return ocpi_response(evse_object(evse, _version(request)))

    @get("/{location_id:str}/{evse_uid:str}/{connector_id:str}", operation_id="ocpiGetConnector",
         include_in_schema=False)
    async def connector(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, location_id: str,
                        evse_uid: str, connector_id: str) -> Response[OcpiResponse[Any]]:
        view = await self._view(caller, db_session, location_id)
        evse = next((e for e in view.evses if e.uid.upper() == evse_uid.upper()), None)
        connector = next((c for c in evse.connectors if str(c["connector_id"]) == connector_id), None) if evse else None
        if connector is None:
            raise OcpiError.not_found(f"no connector {connector_id} on EVSE {evse_uid} at location {location_id}")
        return ocpi_response(connector_object(connector, evse.last_updated, _version(request)))
