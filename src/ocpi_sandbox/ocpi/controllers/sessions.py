"""The Sessions and CDRs modules, CPO as Sender (OCPI 2.2.1 mod_sessions and mod_cdrs, Sender interfaces).

An eMSP sees its own sessions and CDRs only. Sessions GET requires ``date_from`` (mod_sessions says so; many
implementations forget it, and a sandbox should tell them); CDRs GET does not.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, put
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...db.models import CpoCdr, CpoSession
from ..caller import OcpiCaller
from ..envelope import OcpiResponse, ocpi_response
from ..errors import OcpiError
from ..pagination import Page, paged_response, read_page
from ..session_objects import cdr_object, session_object

__all__ = ["SessionsController", "CdrsController"]


async def _page(db_session: AsyncSession, model: type, caller: OcpiCaller, page: Page) -> tuple[list, int]:
    query = select(model).where(model.partner_id == caller.partner.id)
    if page.date_from is not None:
        query = query.where(model.last_updated >= page.date_from)
    if page.date_to is not None:
        query = query.where(model.last_updated < page.date_to)
    total = await db_session.scalar(query.with_only_columns(func.count()))
    rows = (await db_session.scalars(query.order_by(model.created_at, model.id).offset(page.offset)
                                     .limit(page.limit))).all()
    return list(rows), total


class SessionsController(Controller):
    path = "/sessions"
    opt = {"ocpi_module": "sessions"}

    @get("/", operation_id="ocpiListSessions", include_in_schema=False)
    async def list(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, base_url: str,
                   settings: Any) -> Response[OcpiResponse[Any]]:
        version = request.route_handler.opt["ocpi_version"]
        params = dict(request.query_params)
        page = read_page(params, max_limit=settings.ocpi_page_limit, require_date_from=True)
        rows, total = await _page(db_session, CpoSession, caller, page)
        return paged_response([session_object(r, caller.party, version) for r in rows], url=f"{base_url}/ocpi/"
                              f"{version}/sessions", params=params, page=page, total=total,
                              max_limit=settings.ocpi_page_limit)

    @put("/{session_id:str}/charging_preferences", operation_id="ocpiPutChargingPreferences",
         include_in_schema=False)
    async def charging_preferences(self, caller: OcpiCaller, db_session: AsyncSession, session_id: str
                                   ) -> Response[OcpiResponse[Any]]:
        row = await db_session.get(CpoSession, session_id)
        if row is None or row.partner_id != caller.partner.id:
            raise OcpiError.not_found(f"no session {session_id}")
        # The simulated chargers do not take charging preferences (ISO 15118 schedules); the spec's answer for
        # an EVSE without the capability is NOT_POSSIBLE.
        return ocpi_response("NOT_POSSIBLE")


class CdrsController(Controller):
    path = "/cdrs"
    opt = {"ocpi_module": "cdrs"}

    @get("/", operation_id="ocpiListCdrs", include_in_schema=False)
    async def list(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, base_url: str,
                   settings: Any) -> Response[OcpiResponse[Any]]:
        version = request.route_handler.opt["ocpi_version"]
        params = dict(request.query_params)
        page = read_page(params, max_limit=settings.ocpi_page_limit)
        rows, total = await _page(db_session, CpoCdr, caller, page)
        return paged_response([cdr_object(r, caller.party, version) for r in rows], url=f"{base_url}/ocpi/"
                              f"{version}/cdrs", params=params, page=page, total=total,
                              max_limit=settings.ocpi_page_limit)
