"""A preset's test cards, stored as tokens of the eMSP that registers with the bundle (OCPI mod_tokens objects).

A bundle keeps its preset's ``tokens`` as if that eMSP had pushed them (``ocpi_tokens`` rows owned by the bundle's
registration partner, the one its token A registers), so a card swipe at a bundle charger is decided by the card's
whitelist rule without a push: ALWAYS and ALLOWED locally; NEVER and ALLOWED_OFFLINE by real-time authorization at
the registered eMSP's tokens endpoint. The cards are issued by a placeholder eMSP party the preset names in
``[test_emsp]`` (by default ``<the CPO's country>*TST``); a Session of such a card goes to the registered eMSP with
that party in its ``cdr_token``. A token the eMSP pushes itself with the same uid takes precedence
(``emsp_tokens.find_token_by_uid``); their ``version`` is ``emsp_tokens.PRESET_VERSION``, saying where they came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Bundle, OcpiToken, Partner, utcnow
from .cdrs import stamp
from .emsp_tokens import PRESET_VERSION
from .errors import NotFound
from .presets import Preset, PresetToken

__all__ = ["token_object", "provision_test_tokens", "stored_test_tokens"]


def token_object(preset: Preset, card: PresetToken, last_updated: datetime) -> dict[str, Any]:
    """The card as an OCPI 2.2.1 Token of the preset's placeholder eMSP party."""
    issuer = preset.issuer_of_test_tokens()
    token: dict[str, Any] = {
        "country_code": issuer.country_code, "party_id": issuer.party_id, "uid": card.uid, "type": card.type,
        "contract_id": card.contract_id or f"{issuer.country_code}-{issuer.party_id}-C{card.uid}"[:36],
        "issuer": issuer.name, "valid": card.valid, "whitelist": card.whitelist, "last_updated": stamp(last_updated)}
    if card.visual_number:
        token["visual_number"] = card.visual_number
    if card.group_id:
        token["group_id"] = card.group_id
    return token


async def provision_test_tokens(session: AsyncSession, bundle: Bundle, preset: Preset) -> dict[str, Any]:
    """Store the preset's cards for the bundle's registration partner (idempotent; never commits)."""
    partner = await session.get(Partner, bundle.registration_partner_id) if bundle.registration_partner_id else None
    if partner is None:
        raise NotFound("the bundle's token A (the partner owning its test cards) is not there (yet)")
    issuer = preset.issuer_of_test_tokens()
    stored = {(t.uid, t.type) for t in (await session.scalars(select(OcpiToken).where(
        OcpiToken.partner_id == partner.id, OcpiToken.country_code == issuer.country_code,
        OcpiToken.party_id == issuer.party_id))).all()}
    now = utcnow()
    for card in preset.tokens:
        if (card.uid.upper(), card.type) in stored:
            continue
        session.add(OcpiToken(tenant_id=bundle.tenant_id, partner_id=partner.id, country_code=issuer.country_code,
                              party_id=issuer.party_id, uid=card.uid.upper(), type=card.type, valid=card.valid,
                              whitelist=card.whitelist, version=PRESET_VERSION,
                              data=token_object(preset, card, now), last_updated=now))
        stored.add((card.uid.upper(), card.type))
    return {"type": "test_tokens", "partner_id": partner.id, "tokens": len(preset.tokens)}


async def stored_test_tokens(session: AsyncSession, bundle: Bundle) -> list[OcpiToken]:
    """The bundle's test cards as stored (every partner its token A ever registered: a used token A is replaced)."""
    return list((await session.scalars(select(OcpiToken).join(Partner, Partner.id == OcpiToken.partner_id).where(
        Partner.cpo_party_id == bundle.cpo_party_id, OcpiToken.version == PRESET_VERSION)
        .order_by(OcpiToken.created_at, OcpiToken.uid))).all()) if bundle.cpo_party_id else []
