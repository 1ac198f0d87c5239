"""eMSP partners of our CPO parties and their credentials life-cycle (reference ocpi.md §3.4–§3.6).

The OCPI layer runs the HTTP side of the handshake; here we only move a partner between states and keep its
tokens, each change in one transaction, so a handshake that fails half-way changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import CpoParty, CredentialsToken, Partner, PartnerState, TokenKind, utcnow
from .errors import Conflict, NotFound
from .secrets import generate_token, hash_token, token_hint

__all__ = [
    "TokenOwner",
    "find_token_owner",
    "list_partners",
    "get_partner",
    "complete_registration",
    "rotate_credentials",
    "unregister",
    "start_outbound_registration",
    "finish_outbound_registration",
    "fail_outbound_registration",
    "set_outbound_encoding",
    "find_conflicting_registration",
]


class TokenOwner(msgspec.Struct):
    """What a token presented to us resolves to."""

    token_id: str
    kind: str
    partner: Partner
    party: CpoParty


async def find_token_owner(session: AsyncSession, tokens: Iterable[str], now: datetime | None = None
                           ) -> tuple[str, TokenOwner] | None:
    """Return the first of ``tokens`` that is a valid token we issued, with its owner."""
    now = now or utcnow()
    for token in tokens:
        row = (await session.execute(
            select(CredentialsToken, Partner, CpoParty)
            .join(Partner, Partner.id == CredentialsToken.partner_id)
            .join(CpoParty, CpoParty.id == Partner.cpo_party_id)
            .where(CredentialsToken.token_hash == hash_token(token))
            .where(or_(CredentialsToken.expires_at.is_(None), CredentialsToken.expires_at > now))
        )).first()
        if row is not None:
            cred, partner, party = row
            return token, TokenOwner(token_id=cred.id, kind=cred.kind, partner=partner, party=party)
    return None


async def list_partners(session: AsyncSession, tenant_id: str, cpo_party_id: str) -> list[Partner]:
    query = (select(Partner).where(Partner.tenant_id == tenant_id, Partner.cpo_party_id == cpo_party_id)
             .order_by(Partner.created_at, Partner.id))
    return list((await session.scalars(query)).all())


async def get_partner(session: AsyncSession, tenant_id: str, partner_id: str) -> Partner:
    partner = await session.get(Partner, partner_id)
    if partner is None or partner.tenant_id != tenant_id:
        raise NotFound(f"no partner {partner_id} in this tenant; list them with GET /api/parties/{{id}}/partners")
    return partner


def _role_keys(roles: list[dict]) -> set[tuple[str, str, str]]:
    return {(r["role"], r["country_code"].upper(), r["party_id"].upper()) for r in roles}


async def find_conflicting_registration(session: AsyncSession, partner: Partner, roles: list[dict]
                                        ) -> Partner | None:
    """Return another registered partner of the same CPO party claiming one of ``roles`` (ocpi/ocpi#284)."""
    wanted = _role_keys(roles)
    others = await session.scalars(select(Partner).where(
        Partner.cpo_party_id == partner.cpo_party_id, Partner.state == PartnerState.REGISTERED,
        Partner.id != partner.id))
    for other in others:
        if _role_keys(other.roles or []) & wanted:
            return other
    return None


async def _expire_tokens(session: AsyncSession, partner_id: str, at: datetime, *, kind: str | None = None) -> None:
    query = (update(CredentialsToken)
             .where(CredentialsToken.partner_id == partner_id)
             .where(or_(CredentialsToken.expires_at.is_(None), CredentialsToken.expires_at > at))
             .values(expires_at=at))
    if kind is not None:
        query = query.where(CredentialsToken.kind == kind)
    await session.execute(query)


def _new_access_token(session: AsyncSession, partner_id: str) -> str:
    token = generate_token("sbx-c")
    session.add(CredentialsToken(partner_id=partner_id, token_hash=hash_token(token), kind=TokenKind.ACCESS,
                                 hint=token_hint(token)))
    return token


async def _lock_partner(session: AsyncSession, partner_id: str) -> Partner:
    # FOR UPDATE on PostgreSQL; SQLite has already taken the write lock (BEGIN IMMEDIATE).
    partner = await session.scalar(select(Partner).where(Partner.id == partner_id).with_for_update())
    if partner is None:
        raise NotFound(f"partner {partner_id} no longer exists")
    return partner


async def complete_registration(
    session: AsyncSession, partner_id: str, *, version: str, versions_url: str, token_b: str,
    roles: list[dict], endpoints: list[dict],
) -> str:
    """Finish an inbound registration (the eMSP POSTed credentials): store its side, return our token C."""
    partner = await _lock_partner(session, partner_id)
    if partner.state != PartnerState.PENDING:
        raise Conflict("this partner is already registered; use PUT to update its credentials")
    conflict = await find_conflicting_registration(session, partner, roles)
    if conflict is not None:
        raise Conflict(f"a party with these roles is already registered (partner {conflict.id}); DELETE that "
                       "registration first or revoke it in the management API")
    now = utcnow()
    await _expire_tokens(session, partner.id, now)
    token_c = _new_access_token(session, partner.id)
    partner.state, partner.version, partner.versions_url = PartnerState.REGISTERED, version, versions_url
    partner.outbound_token, partner.roles, partner.endpoints = token_b, roles, endpoints
    partner.registered_at, partner.last_error = now, None
    await session.commit()
    return token_c


async def rotate_credentials(
    session: AsyncSession, partner_id: str, *, version: str, versions_url: str, token: str,
    roles: list[dict], endpoints: list[dict], grace: timedelta,
) -> str:
    """Apply a credentials PUT: switch version, store the new token and endpoints, issue a new token C.

    The previous token C stays valid for ``grace``: the spec does not say when the new one takes effect
    (ocpi/ocpi#568), and the eMSP may have requests in flight.
    """
    partner = await _lock_partner(session, partner_id)
    if partner.state != PartnerState.REGISTERED:
        raise Conflict("this partner is not registered; POST credentials to register first")
    now = utcnow()
    await _expire_tokens(session, partner.id, now + grace, kind=TokenKind.ACCESS)
    new_token = _new_access_token(session, partner.id)
    partner.version, partner.versions_url, partner.outbound_token = version, versions_url, token
    partner.roles, partner.endpoints = roles, endpoints
    await session.commit()
    return new_token


async def unregister(session: AsyncSession, partner_id: str, *, reason: str | None = None) -> Partner:
    """End a registration both ways: our tokens stop working at once and we forget theirs."""
    partner = await _lock_partner(session, partner_id)
    await _expire_tokens(session, partner.id, utcnow())
    partner.state, partner.outbound_token = PartnerState.UNREGISTERED, None
    if reason:
        partner.last_error = reason
    await session.commit()
    return partner


async def start_outbound_registration(
    session: AsyncSession, party: CpoParty, *, label: str | None, versions_url: str, encoding: str | None,
) -> tuple[Partner, str]:
    """Create a pending partner for registering *at* an eMSP, with the token B it will call us with."""
    partner = Partner(tenant_id=party.tenant_id, cpo_party_id=party.id, label=label, state=PartnerState.PENDING,
                      initiated_by="sandbox", versions_url=versions_url, outbound_token_encoding=encoding)
    session.add(partner)
    await session.flush()
    token_b = _new_access_token(session, partner.id)
    await session.commit()
    return partner, token_b


async def finish_outbound_registration(session: AsyncSession, partner_id: str, *, token_c: str, roles: list[dict],
                                       version: str, endpoints: list[dict]) -> Partner:
    """Keep the token C an eMSP returned to our credentials POST: we are registered with it."""
    partner = await _lock_partner(session, partner_id)
    partner.state, partner.outbound_token, partner.roles = PartnerState.REGISTERED, token_c, roles
    partner.version, partner.endpoints = version, endpoints
    partner.registered_at, partner.last_error = utcnow(), None
    await session.commit()
    return partner


async def fail_outbound_registration(session: AsyncSession, partner_id: str, error: str) -> Partner:
    return await unregister(session, partner_id, reason=error)


async def set_outbound_encoding(session: AsyncSession, partner: Partner, encoding: str | None) -> Partner:
    partner.outbound_token_encoding = encoding
    await session.commit()
    return partner
