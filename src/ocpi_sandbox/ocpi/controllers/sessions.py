"""The Sessions and CDRs modules, CPO as Sender (OCPI 2.2.1 mod_sessions and mod_cdrs, Sender interfaces).

An eMSP sees its own sessions and CDRs only. Sessions GET requires ``date_from`` (mod_sessions says so; many
implementations forget it, and a sandbox should tell them); CDRs GET does not.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, put
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...db.models import Charger, CpoCdr, CpoSession, CsmsTransaction
from ..caller import OcpiCaller
from ..envelope import OcpiResponse, ocpi_response
from ..errors import OcpiError
from ..pagination import Page, paged_response, read_page
from ..request_body import decode_body
from ..status import OcpiStatus
from ..v221.sessions import ChargingPreferences as PreferencesV221
from ..v230.sessions import ChargingPreferences as PreferencesV230
from ..session_objects import cdr_object, session_object

__all__ = ["SessionsController", "CdrsController"]

_PREFERENCES = {"2.2.1": PreferencesV221, "2.3.0": PreferencesV230}


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
    async def charging_preferences(self, request: Request, caller: OcpiCaller, db_session: AsyncSession,
                                   session_id: str) -> Response[OcpiResponse[Any]]:
        """Answer a driver's charging preferences (OCPI 2.2.1 mod_sessions, Sender PUT charging_preferences).

        The spec's rule for an EVSE without ``CHARGING_PREFERENCES_CAPABLE`` is HTTP 404 with OCPI 2001; an EVSE
        that has it answers a ChargingPreferencesResponse.
        """
        version = request.route_handler.opt["ocpi_version"]
        preferences = decode_body(await request.body(), _PREFERENCES[version])
        row = await db_session.scalar(select(CpoSession).where(func.lower(CpoSession.id) == session_id.lower()))
        if row is None or row.partner_id != caller.partner.id:
            raise OcpiError.not_found(f"no session {session_id} of yours")
        tx = await db_session.get(CsmsTransaction, row.transaction_pk) if row.transaction_pk else None
        # A reservation has no transaction yet: its EVSE names the charger (evse_uid is "<identity>-<EVSE id>").
        identity = tx.identity if tx is not None else row.evse_uid.rsplit("-", 1)[0]
        charger = await db_session.scalar(select(Charger).where(Charger.identity == identity,
                                                                Charger.tenant_id == row.tenant_id))
        evse = next((e for e in (charger.hardware if charger else []) or []
                     if f"{charger.identity}-{e['evse_id']}" == row.evse_uid), None)
        if evse is None or "CHARGING_PREFERENCES_CAPABLE" not in (evse.get("capabilities") or []):
            raise OcpiError(OcpiStatus.INVALID_OR_MISSING_PARAMETERS,
                            f"EVSE {row.evse_uid} does not take charging preferences (its capabilities do not "
                            "include CHARGING_PREFERENCES_CAPABLE; mod_sessions answers this with 404 and 2001)",
                            http_status=404)
        return ocpi_response(_preferences_answer(row, preferences))


def _preferences_answer(row: CpoSession, preferences: Any) -> str:
    """The ChargingPreferencesResponse of a capable EVSE: what the request lacks, or whether it can be done."""
    if row.status != "ACTIVE":
        return "NOT_POSSIBLE"
    if preferences.profile_type in ("CHEAP", "GREEN") and preferences.departure_time is None:
        return "DEPARTURE_REQUIRED"  # cheap or green hours can only be chosen knowing when the car leaves
    if preferences.departure_time is not None and preferences.energy_need is None:
        return "ENERGY_NEED_REQUIRED"
    return "ACCEPTED"


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
