"""Prepare a ready CPO party on start, so ``serve`` can print everything an eMSP team needs."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CredentialsToken, Partner, PartnerState, TokenKind, utcnow
from . import parties as party_service
from . import tenants as tenant_service
from .secrets import generate_token, hash_token, token_hint

__all__ = ["Quickstart", "prepare_quickstart", "QUICKSTART_LABEL"]

QUICKSTART_LABEL = "quickstart"
DEFAULT_PARTY = {"country_code": "NL", "party_id": "SBX", "name": "OCPI Sandbox CPO"}


class Quickstart(msgspec.Struct, kw_only=True):
    new_admin_token: str | None  # only when generated just now
    tenant_id: str
    party_id: str
    country_code: str
    ocpi_party_id: str
    partner_id: str
    token_a: str


async def prepare_quickstart(session: AsyncSession, configured_admin_token: str | None) -> Quickstart:
    """Ensure the admin token, the default tenant and its CPO party, and a fresh token A for one eMSP.

    Token A is stored hashed, so it cannot be shown again: each start replaces the quickstart partner's unused
    token A with a new one (or opens a new pending partner once the previous one has registered).
    """
    new_admin = await tenant_service.ensure_admin_token(session, configured_admin_token)
    tenant = await tenant_service.ensure_default_tenant(session)
    party = await party_service.find_party(session, tenant.id, DEFAULT_PARTY["country_code"],
                                           DEFAULT_PARTY["party_id"])
    if party is None:
        party = await party_service.create_party(session, tenant.id, **DEFAULT_PARTY)
    pending = await session.scalar(select(Partner).where(
        Partner.cpo_party_id == party.id, Partner.label == QUICKSTART_LABEL, Partner.state == PartnerState.PENDING,
        Partner.initiated_by == "partner").order_by(Partner.created_at.desc()))
    if pending is None:
        pending, token = await party_service.issue_registration_token(session, party, label=QUICKSTART_LABEL)
    else:
        now = utcnow()
        for old in await session.scalars(select(CredentialsToken).where(CredentialsToken.partner_id == pending.id)):
            old.expires_at = now
        token = generate_token("sbx-a")
        session.add(CredentialsToken(partner_id=pending.id, token_hash=hash_token(token),
                                     kind=TokenKind.REGISTRATION, hint=token_hint(token)))
        await session.commit()
    return Quickstart(new_admin_token=new_admin, tenant_id=tenant.id, party_id=party.id,
                      country_code=party.country_code, ocpi_party_id=party.party_id, partner_id=pending.id,
                      token_a=token)
