"""Tokens an eMSP pushes to us: store, patch, read (OCPI mod_tokens, CPO as Receiver).

Tokens are the eMSP's objects: they are kept per partner, keyed case-insensitively by country code, party id,
uid and type, and stored as received so GET returns exactly what was pushed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import OcpiToken, Partner, PartnerState
from .errors import Conflict

__all__ = ["find_token", "store_token", "find_token_by_uid", "PRESET_VERSION"]

# OcpiToken.version of a bundle's test card (``domain.preset_tokens``); a pushed token has its push's OCPI version.
PRESET_VERSION = "preset"


async def find_token(session: AsyncSession, partner_id: str, country_code: str, party_id: str, uid: str,
                     token_type: str) -> OcpiToken | None:
    return await session.scalar(select(OcpiToken).where(
        OcpiToken.partner_id == partner_id, OcpiToken.country_code == country_code.upper(),
        OcpiToken.party_id == party_id.upper(), OcpiToken.uid == uid.upper(), OcpiToken.type == token_type))


def _by_uid_statement(of_cpo: bool) -> Select[tuple[OcpiToken, Partner]]:
    order = [case((Partner.state == PartnerState.REGISTERED, 0), else_=1),
             case((OcpiToken.version == PRESET_VERSION, 1), else_=0), OcpiToken.last_updated.desc()]
    if of_cpo:
        order.insert(0, case((Partner.cpo_party_id == bindparam("cpo_party_id"), 0), else_=1))
    return (select(OcpiToken, Partner).join(Partner, Partner.id == OcpiToken.partner_id)
            .where(OcpiToken.tenant_id == bindparam("tenant_id"), OcpiToken.uid == bindparam("uid"))
            .order_by(*order).limit(1))


# Built once: every token a charger presents is looked up here (see domain.authorization on why).
_BY_UID = {of_cpo: _by_uid_statement(of_cpo) for of_cpo in (False, True)}


async def find_token_by_uid(session: AsyncSession, tenant_id: str, uid: str, cpo_party_id: str | None = None
                            ) -> tuple[OcpiToken, Partner] | None:
    """Find a token by the uid a charger read (the CSMS knows no party). When several eMSPs hold one: a partner
    of the charger's CPO party (``cpo_party_id``) first, then a registered one, then a token an eMSP pushed before
    a bundle's test card (``domain.preset_tokens``), then the newest."""
    params = {"tenant_id": tenant_id, "uid": uid.upper()}
    if cpo_party_id is not None:
        params["cpo_party_id"] = cpo_party_id
    row = (await session.execute(_BY_UID[cpo_party_id is not None], params)).first()
    return (row[0], row[1]) if row else None


async def store_token(session: AsyncSession, partner: Partner, *, data: dict[str, Any], version: str,
                      last_updated: datetime) -> bool:
    """Create or replace a token from a full object; return True when it was created."""
    key = dict(country_code=data["country_code"], party_id=data["party_id"], uid=data["uid"],
               token_type=data["type"])
    row = await find_token(session, partner.id, **key)
    created = row is None
    if row is None:
        row = OcpiToken(tenant_id=partner.tenant_id, partner_id=partner.id, country_code=data["country_code"].upper(),
                        party_id=data["party_id"].upper(), uid=data["uid"].upper(), type=data["type"])
        session.add(row)
    row.valid, row.whitelist, row.version, row.data = data["valid"], data["whitelist"], version, data
    row.last_updated = last_updated
    try:
        await session.commit()
    except IntegrityError:  # a concurrent PUT of the same token created it first: it is an update then
        await session.rollback()
        raise Conflict("the token was created concurrently; retry the request") from None
    return created
