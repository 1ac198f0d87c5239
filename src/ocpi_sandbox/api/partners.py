"""OCPI partners: show, set per-partner options, revoke, and read the partner's OCPI exchange log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import OcpiExchange, OcpiPush, Partner
from ..domain import outbox
from ..domain.errors import NotFound
from ..domain import partners as partner_service
from ..ocpi.registration import Registrar
from .errors import error_responses

__all__ = ["PartnersController", "PartnerOut", "partner_out"]


class PartnerOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    cpo_party_id: str
    state: str
    initiated_by: str
    label: str | None = None
    version: str | None = None
    versions_url: str | None = None
    roles: list[dict[str, Any]] | None = None
    endpoints: list[dict[str, Any]] | None = None
    token_encoding: str | None = None
    last_error: str | None = None
    created_at: datetime
    registered_at: datetime | None = None


def partner_out(p: Partner) -> PartnerOut:
    return PartnerOut(id=p.id, cpo_party_id=p.cpo_party_id, state=p.state, initiated_by=p.initiated_by,
                      label=p.label, version=p.version, versions_url=p.versions_url, roles=p.roles,
                      endpoints=p.endpoints, token_encoding=p.outbound_token_encoding, last_error=p.last_error,
                      created_at=p.created_at, registered_at=p.registered_at)


class PartnerUpdate(msgspec.Struct):
    # null: Base64 on OCPI 2.2+ as the spec says; "raw" for eMSPs that expect the token unencoded.
    token_encoding: Literal["base64", "raw"] | None = None


class ExchangeOut(msgspec.Struct, kw_only=True):
    id: int
    direction: str
    method: str
    url: str
    status: int | None = None
    ocpi_status: int | None = None
    duration_ms: float
    request_headers: dict[str, str]
    request_body: str | None = None
    response_headers: dict[str, str]
    response_body: str | None = None
    request_id: str | None = None
    correlation_id: str | None = None
    error: str | None = None
    warnings: list[str] = []
    created_at: datetime


class ExchangePage(msgspec.Struct, kw_only=True, omit_defaults=True):
    items: list[ExchangeOut]
    # Pass as ?before= to get the next (older) page; absent on the last page.
    next_before: int | None = None


class PushOut(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    object_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_ocpi_status: int | None
    last_error: str | None
    location: str | None
    created_at: datetime
    delivered_at: datetime | None


def push_out(p: OcpiPush) -> PushOut:
    return PushOut(id=p.id, kind=p.kind, object_id=p.object_id, state=p.state, attempts=p.attempts,
                   next_attempt_at=p.next_attempt_at, last_status=p.last_status, last_ocpi_status=p.last_ocpi_status,
                   last_error=p.last_error, location=p.location, created_at=p.created_at, delivered_at=p.delivered_at)


class PartnersController(Controller):
    path = "/api/partners"
    tags = ["partners"]

    @get("/{id:str}", operation_id="getPartner", responses=error_responses(401, 403, 404))
    async def show(self, id: str, tenant_id: str, db_session: AsyncSession) -> PartnerOut:  # noqa: A002
        """Show one partner: state, negotiated version, its roles and endpoints."""
        return partner_out(await partner_service.get_partner(db_session, tenant_id, id))

    @patch("/{id:str}", operation_id="updatePartner", responses=error_responses(400, 401, 403, 404))
    async def update(self, id: str, data: PartnerUpdate, tenant_id: str, db_session: AsyncSession  # noqa: A002
                     ) -> PartnerOut:
        """Set per-partner options, such as how our token is encoded in the Authorization header."""
        partner = await partner_service.get_partner(db_session, tenant_id, id)
        return partner_out(await partner_service.set_outbound_encoding(db_session, partner, data.token_encoding))

    @delete("/{id:str}", operation_id="revokePartner", status_code=200, responses=error_responses(401, 403, 404))
    async def revoke(self, id: str, tenant_id: str, db_session: AsyncSession, registrar: Registrar  # noqa: A002
                     ) -> PartnerOut:
        """Revoke a partner: its tokens stop working at once; a registered partner is told with DELETE."""
        partner = await partner_service.get_partner(db_session, tenant_id, id)
        await db_session.commit()  # no transaction may stay open across the call to the partner
        problem = None
        if partner.state == "REGISTERED":
            problem = await registrar.notify_unregister(partner)
        reason = "revoked in the management API" + (f" (the partner was not told: {problem})" if problem else "")
        return partner_out(await partner_service.unregister(db_session, partner.id, reason=reason))

    @get("/{id:str}/log", operation_id="getPartnerLog", responses=error_responses(400, 401, 403, 404))
    async def log(
        self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
        limit: Annotated[int, Parameter(ge=1, le=500, description="Entries per page, newest first.")] = 50,
        before: Annotated[int | None, Parameter(ge=1, le=2**62, description="Cursor: next_before of the previous page.")
                          ] = None,
        direction: Annotated[Literal["inbound", "outbound"] | None, Parameter()] = None,
    ) -> ExchangePage:
        """Read the partner's OCPI exchanges both ways, newest first."""
        partner = await partner_service.get_partner(db_session, tenant_id, id)
        query = select(OcpiExchange).where(OcpiExchange.partner_id == partner.id)
        if before is not None:
            query = query.where(OcpiExchange.id < before)
        if direction is not None:
            query = query.where(OcpiExchange.direction == direction)
        rows = list((await db_session.scalars(query.order_by(OcpiExchange.id.desc()).limit(limit + 1))).all())
        more = len(rows) > limit
        rows = rows[:limit]
        items = [ExchangeOut(id=r.id, direction=r.direction, method=r.method, url=r.url, status=r.status,
                             ocpi_status=r.ocpi_status, duration_ms=r.duration_ms,
                             request_headers=r.request_headers or {}, request_body=r.request_body,
                             response_headers=r.response_headers or {}, response_body=r.response_body,
                             request_id=r.request_id, correlation_id=r.correlation_id, error=r.error,
                             warnings=r.warnings or [], created_at=r.created_at) for r in rows]
        return ExchangePage(items=items, next_before=rows[-1].id if more and rows else None)

    @get("/{id:str}/pushes", operation_id="listPartnerPushes", responses=error_responses(400, 401, 403, 404))
    async def pushes(
        self, id: str, tenant_id: str, db_session: AsyncSession,  # noqa: A002
        push_state: Annotated[Literal["pending", "delivered", "failed"] | None, Parameter(query="state")] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[PushOut]:
        """List the pushes this partner is owed or got (Session PUT/PATCH, CDR POST, EVSE PATCH), newest first."""
        partner = await partner_service.get_partner(db_session, tenant_id, id)
        query = select(OcpiPush).where(OcpiPush.partner_id == partner.id)
        if push_state is not None:
            query = query.where(OcpiPush.state == push_state)
        rows = (await db_session.scalars(query.order_by(OcpiPush.id.desc()).limit(limit))).all()
        return [push_out(r) for r in rows]

    @post("/{id:str}/pushes/{push_id:int}/retry", operation_id="retryPartnerPush", status_code=200,
          responses=error_responses(401, 403, 404))
    async def retry_push(self, id: str, push_id: int, tenant_id: str, db_session: AsyncSession  # noqa: A002
                         ) -> PushOut:
        """Push again (a failed push, or a delivered one the eMSP lost)."""
        partner = await partner_service.get_partner(db_session, tenant_id, id)
        push = await db_session.get(OcpiPush, push_id)
        if push is None or push.partner_id != partner.id:
            raise NotFound(f"no push {push_id} for partner {id}")
        return push_out(await outbox.retry(db_session, push))
