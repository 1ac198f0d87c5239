"""Management API authentication: ``Authorization: Bearer <token>`` and the tenant a request acts on.

The admin token acts on any tenant, picked with ``X-Organization-Id`` (the default tenant when absent); a
tenant token acts only on its own tenant.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Request
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Tenant
from ..domain import tenants as tenant_service
from ..domain.tenants import Principal
from .errors import ApiProblem

__all__ = ["provide_principal", "provide_tenant_id", "require_admin"]


async def provide_principal(request: Request, db_session: AsyncSession) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("send 'Authorization: Bearer <token>' (the admin token printed at start, "
                                     "or a tenant token from POST /api/tenants)")
    principal = await tenant_service.authenticate(db_session, token.strip())
    await db_session.commit()  # release the SQLite write lock before the handler runs (see ocpi/caller.py)
    if principal is None:
        raise NotAuthorizedException("unknown token; use the admin token printed at start or a tenant token")
    return principal


async def provide_tenant_id(
    principal: Principal,
    db_session: AsyncSession,
    organization_id: Annotated[
        str | None,
        Parameter(header="X-Organization-Id", required=False,
                  description="Tenant to act on (admin token only; default: the default tenant)."),
    ] = None,
) -> str:
    try:
        return await _tenant_id(principal, db_session, organization_id)
    finally:
        await db_session.commit()  # release the SQLite write lock before the handler runs


async def _tenant_id(principal: Principal, db_session: AsyncSession, organization_id: str | None) -> str:
    if not principal.is_admin:
        if organization_id and organization_id != principal.tenant_id:
            raise ApiProblem(403, "a tenant token acts only on its own organization; drop X-Organization-Id or "
                                  "use the admin token")
        assert principal.tenant_id is not None
        return principal.tenant_id
    if organization_id:
        if await db_session.get(Tenant, organization_id) is None:
            raise ApiProblem(404, f"no organization {organization_id}; list them with GET /api/tenants")
        return organization_id
    default = await tenant_service.default_tenant_id(db_session)
    if default is None:
        raise ApiProblem(404, "no default organization yet; create one with POST /api/tenants and pass its id "
                              "in X-Organization-Id")
    return default


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise ApiProblem(403, "only the admin token may do this")
