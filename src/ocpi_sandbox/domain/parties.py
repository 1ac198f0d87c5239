"""Our CPO parties and the registration tokens (token A) that let an eMSP register with one of them."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CpoParty, CredentialsToken, Partner, PartnerState, TokenKind
from .errors import Conflict, InvalidInput, NotFound
from .secrets import generate_token, hash_token, token_hint

__all__ = ["create_party", "list_parties", "get_party", "find_party", "issue_registration_token"]

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_PARTY = re.compile(r"^[A-Za-z0-9]{3}$")


async def create_party(
    session: AsyncSession, tenant_id: str, *, country_code: str, party_id: str, name: str,
    website: str | None = None,
) -> CpoParty:
    """Create a CPO party; country code and party id are stored upper-case (they are CiStrings)."""
    if not _COUNTRY.match(country_code):
        raise InvalidInput(f"country_code {country_code!r} must be an ISO 3166-1 alpha-2 code such as 'NL'")
    if not _PARTY.match(party_id):
        raise InvalidInput(f"party_id {party_id!r} must be 3 letters or digits such as 'SBX'")
    cc, pid = country_code.upper(), party_id.upper()
    if await find_party(session, tenant_id, cc, pid) is not None:
        raise Conflict(f"this tenant already has a CPO party {cc}*{pid}; use it or pick another party_id")
    party = CpoParty(tenant_id=tenant_id, country_code=cc, party_id=pid, name=name, website=website)
    session.add(party)
    await session.commit()
    return party


async def find_party(session: AsyncSession, tenant_id: str, country_code: str, party_id: str) -> CpoParty | None:
    return await session.scalar(
        select(CpoParty).where(
            CpoParty.tenant_id == tenant_id,
            func.upper(CpoParty.country_code) == country_code.upper(),
            func.upper(CpoParty.party_id) == party_id.upper(),
        )
    )


async def list_parties(session: AsyncSession, tenant_id: str) -> list[CpoParty]:
    query = select(CpoParty).where(CpoParty.tenant_id == tenant_id).order_by(CpoParty.created_at, CpoParty.id)
    return list((await session.scalars(query)).all())


async def get_party(session: AsyncSession, tenant_id: str, party_id: str) -> CpoParty:
    party = await session.get(CpoParty, party_id)
    if party is None or party.tenant_id != tenant_id:
        raise NotFound(f"no CPO party {party_id} in this tenant; list them with GET /api/parties")
    return party


async def issue_registration_token(
    session: AsyncSession, party: CpoParty, *, label: str | None = None
) -> tuple[Partner, str]:
    """Create a pending partner and its token A; the token is returned in clear only this once."""
    token = generate_token("sbx-a")
    partner = Partner(tenant_id=party.tenant_id, cpo_party_id=party.id, label=label,
                      state=PartnerState.PENDING, initiated_by="partner")
    session.add(partner)
    await session.flush()
    session.add(CredentialsToken(partner_id=partner.id, token_hash=hash_token(token),
                                 kind=TokenKind.REGISTRATION, hint=token_hint(token)))
    await session.commit()
    return partner, token
