"""Tenants (admin only to create or list): each gets a token that sees only its own data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Tenant
from ..domain import tenants as tenant_service
from ..domain.tenants import Principal
from .auth import require_admin
from .errors import ApiProblem, error_responses

__all__ = ["TenantsController"]


class TenantCreate(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"[^ \t\r\n]")]


class TenantOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    name: str
    created_at: datetime
    token: str | None = None  # only in the answer to POST: the tenant's management token, shown once


def _out(tenant: Tenant, token: str | None = None) -> TenantOut:
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at, token=token)


class TenantsController(Controller):
    path = "/api/tenants"
    tags = ["tenants"]
    dependencies = {"_admin": Provide(require_admin, sync_to_thread=False)}

    @post("/", operation_id="createTenant", responses=error_responses(400, 401, 403, 409))
    async def create(self, data: TenantCreate, db_session: AsyncSession, _admin: None) -> TenantOut:
        """Create a tenant; the answer carries its token, shown only this once."""
        tenant, token = await tenant_service.create_tenant(db_session, data.name.strip())
        return _out(tenant, token)

    @get("/", operation_id="listTenants", responses=error_responses(401, 403))
    async def list(self, db_session: AsyncSession, _admin: None) -> list[TenantOut]:
        """List every tenant."""
        return [_out(t) for t in await tenant_service.list_tenants(db_session)]

    @get("/{id:str}", operation_id="getTenant", responses=error_responses(401, 403, 404),
         dependencies={"_admin": Provide(lambda: None, sync_to_thread=False)})
    async def show(self, id: str, db_session: AsyncSession, principal: Principal) -> TenantOut:  # noqa: A002
        """Show one tenant: the admin sees any, a tenant token only its own."""
        if not principal.is_admin and principal.tenant_id != id:
            raise ApiProblem(404, f"no tenant {id}")
        return _out(await tenant_service.get_tenant(db_session, id))
