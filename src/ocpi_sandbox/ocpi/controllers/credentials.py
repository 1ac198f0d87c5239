"""The credentials module, CPO side (OCPI 2.2.1 credentials; state machine of reference ocpi.md §3.6).

POST registers (token A only; 405 when already registered), PUT updates (405 when not registered), GET returns
our credentials with the token the caller used, DELETE unregisters (405 when not registered).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain import partners as partner_service
from ..caller import OcpiCaller
from ..envelope import OcpiResponse, ocpi_response
from ..errors import OcpiError
from ..registration import Registrar, credentials_type, our_credentials
from ..middleware import correlation_id_of
from ..request_body import decode_body

__all__ = ["CredentialsController"]

NOT_REGISTERED = ("you are not registered yet: POST your credentials with token A first "
                  "(PUT and DELETE need a completed registration)")


def _version(request: Request) -> str:
    return request.route_handler.opt["ocpi_version"]


class CredentialsController(Controller):
    path = "/credentials"
    opt = {"ocpi_module": "credentials"}

    @get("/", operation_id="ocpiGetCredentials", include_in_schema=False)
    async def show(self, request: Request, caller: OcpiCaller, versions_url: str) -> Response[OcpiResponse[Any]]:
        # Returning the token the caller authenticated with leaks nothing it does not already hold (§3.5).
        return ocpi_response(our_credentials(caller.party, token=caller.token, version=_version(request),
                                             versions_url=versions_url))

    @post("/", operation_id="ocpiPostCredentials", include_in_schema=False, status_code=200)
    async def register(self, request: Request, caller: OcpiCaller, registrar: Registrar
                       ) -> Response[OcpiResponse[Any]]:
        if caller.registered:
            raise OcpiError.method_not_allowed(
                "you are already registered; use PUT to update your credentials or DELETE to unregister")
        if caller.kind != "A":
            raise OcpiError.method_not_allowed(
                "this token belongs to a registration the sandbox started itself; it cannot POST credentials")
        version = _version(request)
        body = decode_body(await request.body(), credentials_type(version))
        ours = await registrar.accept_registration(caller.partner, caller.party, version, body,
                                                   correlation_id_of(request.scope))
        return ocpi_response(ours)

    @put("/", operation_id="ocpiPutCredentials", include_in_schema=False)
    async def update(self, request: Request, caller: OcpiCaller, registrar: Registrar
                     ) -> Response[OcpiResponse[Any]]:
        if not caller.registered:
            raise OcpiError.method_not_allowed(NOT_REGISTERED)
        version = _version(request)
        body = decode_body(await request.body(), credentials_type(version))
        ours = await registrar.accept_update(caller.partner, caller.party, version, body,
                                             correlation_id_of(request.scope))
        return ocpi_response(ours)

    @delete("/", operation_id="ocpiDeleteCredentials", include_in_schema=False, status_code=200)
    async def unregister(self, caller: OcpiCaller, db_session: AsyncSession) -> Response[OcpiResponse[Any]]:
        if not caller.registered:
            raise OcpiError.method_not_allowed(NOT_REGISTERED)
        await partner_service.unregister(db_session, caller.partner.id, reason="the partner sent DELETE credentials")
        return ocpi_response()
