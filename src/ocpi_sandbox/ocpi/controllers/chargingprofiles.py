"""The ChargingProfiles module, CPO as Receiver (OCPI 2.2.1 mod_charging_profiles; reference ocpi.md §4.7).

``GET {url}/{session_id}?duration=&response_url=``, ``PUT {url}/{session_id}`` (SetChargingProfile) and
``DELETE {url}/{session_id}?response_url=`` answer at once with a ChargingProfileResponse -- ACCEPTED with a
timeout, UNKNOWN_SESSION for a session that is not the caller's, REJECTED for one that has ended, TOO_OFTEN for a
PUT or DELETE while the session's previous one is being carried out -- and the result (ActiveChargingProfileResult,
ChargingProfileResult, ClearProfileResult) follows at the response_url.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, put
from sqlalchemy.ext.asyncio import AsyncSession

from ...db.models import CpoSession, OcpiChargingProfile
from ..caller import OcpiCaller
from ..charging_profiles import RESULT_TIMEOUT, ChargingProfileRunner
from ..envelope import OcpiResponse, ocpi_response
from ..errors import OcpiError
from ..middleware import correlation_id_of
from ..request_body import decode_body
from ..v221 import chargingprofiles as cp221
from ..v230 import chargingprofiles as cp230

__all__ = ["ChargingProfilesController"]

_TYPES = {"2.2.1": cp221, "2.3.0": cp230}


def _answer(result: str) -> Response[OcpiResponse[Any]]:
    return ocpi_response({"result": result, "timeout": RESULT_TIMEOUT})


def _response_url(request: Request) -> str:
    url = request.query_params.get("response_url")
    if not url:
        raise OcpiError.invalid("response_url is required: the URL where the result will be POSTed")
    if not url.startswith(("http://", "https://")) or len(url) > 255:
        raise OcpiError.invalid(f"response_url {url[:80]!r} is not an http(s) URL of at most 255 characters")
    return url


async def _accept(request: Request, caller: OcpiCaller, db_session: AsyncSession, runner: ChargingProfileRunner,
                  session_id: str, method: str, body: dict[str, Any], response_url: str
                  ) -> Response[OcpiResponse[Any]]:
    # Locked (PostgreSQL; SQLite's BEGIN IMMEDIATE serializes anyway): two PUTs at once cannot both pass TOO_OFTEN.
    row = await db_session.get(CpoSession, session_id, with_for_update=True)
    if row is None or row.partner_id != caller.partner.id:
        await db_session.commit()
        return _answer("UNKNOWN_SESSION")
    if row.status != "ACTIVE":
        await db_session.commit()
        return _answer("REJECTED")  # profiles limit ongoing sessions only
    if method != "GET" and await runner.too_often(db_session, row.id):
        await db_session.commit()
        return _answer("TOO_OFTEN")  # a valid answer (envelope 1000), not an error: the eMSP retries later
    version = request.route_handler.opt["ocpi_version"]
    record = OcpiChargingProfile(tenant_id=caller.partner.tenant_id, partner_id=caller.partner.id,
                                 session_id=row.id, method=method, version=version, request=body,
                                 response_url=response_url)
    db_session.add(record)
    await db_session.commit()
    runner.submit(record.id, correlation_id_of(request.scope))
    return _answer("ACCEPTED")


class ChargingProfilesController(Controller):
    path = "/chargingprofiles"
    opt = {"ocpi_module": "chargingprofiles"}

    @get("/{session_id:str}", operation_id="ocpiGetActiveChargingProfile", include_in_schema=False)
    async def active(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, session_id: str,
                     charging_profile_runner: ChargingProfileRunner) -> Response[OcpiResponse[Any]]:
        raw = request.query_params.get("duration")
        if raw is None or not raw.isdigit():
            raise OcpiError.invalid("duration is required: the number of seconds of the ActiveChargingProfile "
                                    "to compute, as a whole number")
        return await _accept(request, caller, db_session, charging_profile_runner, session_id, "GET",
                             {"duration": int(raw)}, _response_url(request))

    @put("/{session_id:str}", operation_id="ocpiSetChargingProfile", include_in_schema=False, status_code=200)
    async def set(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, session_id: str,
                  charging_profile_runner: ChargingProfileRunner) -> Response[OcpiResponse[Any]]:
        version = request.route_handler.opt["ocpi_version"]
        body = decode_body(await request.body(), _TYPES[version].SetChargingProfile)
        if not body.charging_profile.charging_profile_period:
            raise OcpiError.invalid("charging_profile.charging_profile_period needs at least one period, the first "
                                    "with start_period 0")
        return await _accept(request, caller, db_session, charging_profile_runner, session_id, "PUT",
                             msgspec.to_builtins(body), body.response_url)

    @delete("/{session_id:str}", operation_id="ocpiClearChargingProfile", include_in_schema=False,
            status_code=200)
    async def clear(self, request: Request, caller: OcpiCaller, db_session: AsyncSession, session_id: str,
                    charging_profile_runner: ChargingProfileRunner) -> Response[OcpiResponse[Any]]:
        return await _accept(request, caller, db_session, charging_profile_runner, session_id, "DELETE", {},
                             _response_url(request))
