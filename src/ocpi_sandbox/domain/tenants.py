"""Tenants, the admin token, and resolving a management API token to whoever holds it."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import SandboxSetting, Tenant
from .errors import Conflict, NotFound
from .secrets import generate_token, hash_token

__all__ = ["Principal", "ensure_admin_token", "ensure_default_tenant", "create_tenant", "list_tenants",
           "get_tenant", "authenticate", "default_tenant_id", "DEFAULT_TENANT_NAME"]

ADMIN_TOKEN_KEY = "admin_token_hash"
DEFAULT_TENANT_KEY = "default_tenant_id"
DEFAULT_TENANT_NAME = "default"


class Principal(msgspec.Struct, frozen=True):
    """Who a management API token belongs to: the admin (``tenant_id`` None) or one tenant."""

    is_admin: bool
    tenant_id: str | None


async def _setting(session: AsyncSession, key: str) -> str | None:
    row = await session.get(SandboxSetting, key)
    return row.value if row else None


async def ensure_admin_token(session: AsyncSession, configured: str | None) -> str | None:
    """Store the admin token's hash; return the token only when it was generated now (to print it once).

    A configured token (OCPI_SANDBOX_ADMIN_TOKEN) replaces whatever was stored.
    """
    current = await session.get(SandboxSetting, ADMIN_TOKEN_KEY)
    if configured:
        digest = hash_token(configured)
        if current is None:
            session.add(SandboxSetting(key=ADMIN_TOKEN_KEY, value=digest))
        else:
            current.value = digest
        await session.commit()
        return None
    if current is not None:
        return None
    token = generate_token("sbx-admin")
    session.add(SandboxSetting(key=ADMIN_TOKEN_KEY, value=hash_token(token)))
    await session.commit()
    return token


async def ensure_default_tenant(session: AsyncSession) -> Tenant:
    """Return the tenant the admin acts on when it names none, creating it on first start."""
    tenant_id = await _setting(session, DEFAULT_TENANT_KEY)
    if tenant_id and (tenant := await session.get(Tenant, tenant_id)):
        return tenant
    tenant = Tenant(name=DEFAULT_TENANT_NAME, token_hash=hash_token(generate_token("sbx-tenant")))
    session.add(tenant)
    await session.flush()
    session.add(SandboxSetting(key=DEFAULT_TENANT_KEY, value=tenant.id))
    await session.commit()
    return tenant


async def default_tenant_id(session: AsyncSession) -> str | None:
    return await _setting(session, DEFAULT_TENANT_KEY)


async def create_tenant(session: AsyncSession, name: str) -> tuple[Tenant, str]:
    """Create a tenant and return it with its token, which is shown only this once."""
    token = generate_token("sbx-tenant")
    tenant = Tenant(name=name, token_hash=hash_token(token))
    session.add(tenant)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"a tenant named {name!r} already exists; pick another name") from None
    return tenant, token


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    return list((await session.scalars(select(Tenant).order_by(Tenant.created_at, Tenant.id))).all())


async def get_tenant(session: AsyncSession, tenant_id: str) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id}")
    return tenant


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    """Return who holds ``token``, or None when nobody does."""
    digest = hash_token(token)
    if await _setting(session, ADMIN_TOKEN_KEY) == digest:
        return Principal(is_admin=True, tenant_id=None)
    tenant_id = await session.scalar(select(Tenant.id).where(Tenant.token_hash == digest))
    return Principal(is_admin=False, tenant_id=tenant_id) if tenant_id else None
